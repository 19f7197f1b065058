# The timer path against another instance's writes (timers.c): hearthd is
# held between reading the households due and acting on them (the test
# build's pause point timers_read), and the test writes to Redis meanwhile
# as a second instance's commit would.
#  1. A stale hint whose household has nothing due: the due time put back
#     must not replace a due time another writer put in the index since.
#  2. A due reminder whose commit loses to another commit (the record's
#     version moved): the household is brought forward and read again at
#     once, and its reminder goes out exactly once, not an interval later.
source "$(dirname "$0")/../lib.sh"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
export HEARTH_PAUSE_POINT=timers_read:3000
write_config "timers:
  check_interval: 200ms"
start_hearthd
check "hearthd READY" wait_ready 30

reg() {
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"test","type":"household.registered","time":"%s","subject":"%s","data":{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1","name":"陈丽华"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}}\n' \
                "$1" "$1" "$(date -Iseconds)" "$1"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
pauses() { grep -c "pause point timers_read reached" "$T/hearthd.log"; }
resumes() { grep -c "pause point timers_read: resumed" "$T/hearthd.log"; }
export -f pauses resumes
export T

# --- 1. a stale hint put back only where the index still holds it --------
H1=HT0001
reg $H1 | produce civil-affairs.events
check "$H1 registered: its visit due time is in the index" \
        wait_for 20 bash -c "[ -n \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:timers $H1)\" ]"
own=$(rcli ZSCORE hearth:timers $H1)
p0=$(pauses)
rcli ZADD hearth:timers $(($(now_ms) - 1000)) $H1 >/dev/null
check "the timer path picks $H1 by its stale hint and is held" \
        wait_for 20 bash -c "[ \$(pauses) -gt $p0 ]"
r0=$(resumes)
# What a commit of another instance writes meanwhile: a sooner due time
# (an hour away) than the one in the record read (a visit in 31 days).
other=$(($(now_ms) + 3600000))
rcli ZADD hearth:timers "$other" $H1 >/dev/null
check "the timer path resumes" wait_for 20 bash -c "[ \$(resumes) -gt $r0 ]"
sleep 1
got=$(rcli ZSCORE hearth:timers $H1)
diag "record's due time $own, other writer's $other, index after the round $got"
check "the other writer's due time stands (not replaced by the record's)" \
        test "$got" = "$other"

# --- 2. a reminder whose commit lost is read again at once ---------------
stop_hearthd 20
check "hearthd stops" test "$HEARTHD_RC" = 0
write_config "timers:
  check_interval: 200ms
visits:
  interval: 15s"
start_hearthd
H2=HT0002
reg $H2 | produce civil-affairs.events
check "$H2 registered" \
        wait_for 20 bash -c "[ -n \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:timers $H2)\" ]"
p0=$(pauses)
check "its visit falls due (15 s) and the timer path is held on it" \
        wait_for 40 bash -c "[ \$(pauses) -gt $p0 ]"
r0=$(resumes)
# Another instance's commit meanwhile: the record's version moves on.
v=$(rcli GETRANGE "hearth:{$H2}:h" 0 11)
rcli SETRANGE "hearth:{$H2}:h" 0 "$(printf '%012d' $((10#$v + 100)))" >/dev/null
diag "record version $v moved to $((10#$v + 100)) while held"
check "the timer path resumes" wait_for 20 bash -c "[ \$(resumes) -gt $r0 ]"
# Lost: brought forward to now, the next round (200 ms) picks it again,
# where the hint of the lost commit would have left it 15 s away.
check "the household is picked again at once, not an interval later" \
        wait_for 8 bash -c "[ \$(pauses) -gt $((p0 + 1)) ]"
overdue() { consume hearth.alerts | cut -f3 | jq -c --arg h "$H2" 'select(.subject == $h and .type == "visit.overdue")' | grep -c .; }
export -f overdue consume
export H2 BOOTSTRAP
check "visit.overdue goes out" wait_for 20 bash -c "[ \$(overdue) -ge 1 ]"
sleep 1
check "exactly once" test "$(overdue)" = 1
check "the record carries the version moved to, plus the commit" \
        test "$(rcli GETRANGE "hearth:{$H2}:h" 0 11)" = "$(printf '%012d' $((10#$v + 101)))"
stop_hearthd 20
check "final SIGTERM exit 0" test "$HEARTHD_RC" = 0
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T/hearthd.log'"
finish
