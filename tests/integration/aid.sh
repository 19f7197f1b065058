# Social aid matching (REQ-12) through the test broker and a real
# redis-server: an offer matched to an open need gives one
# aid.match.proposed routed to the department of its category; the same
# offer is never proposed twice to one household (a redelivered and a
# renewed registration, a kill -9 and restart, a kill -9 between the
# proposal's commit and its produce); with two hearthd instances
# in one group, an offer of capacity 3 and 10 waiting households over
# several partitions, proposals never outnumber the places, go to the
# oldest needs first, a decline passes the place on, and at most 3 are
# accepted; every output validates against schemas/out.
source "$(dirname "$0")/../lib.sh"
OUTCHECK=${OUTCHECK:-$ROOT/build/outcheck}

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config "timers:
  check_interval: 200ms"
start_hearthd
check "hearthd READY" wait_ready 30

reg() { # reg ID TOWN
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"test","type":"household.registered","time":"2026-01-05T09:00:00+08:00","subject":"%s","data":{"town":"%s","village":"东岸村","cadre":{"id":"C1","name":"陈丽华"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}}\n' \
                "$1" "$1" "$1" "$2"
}
need() { # need HOUSEHOLD NEED_ID CATEGORY TIME
        printf '%s\t{"specversion":"1.0","id":"need-%s-%s","source":"test","type":"need.reported","time":"%s","subject":"%s","data":{"need_id":"%s","channel":"self","category":"%s","urgent":false}}\n' \
                "$1" "$1" "$2" "$4" "$1" "$2" "$3"
}
offer() { # offer EVENT_ID OFFER CATEGORY CAPACITY [TOWN]
        local town=""
        [ -n "${5:-}" ] && town=",\"town\":\"$5\""
        printf '%s\t{"specversion":"1.0","id":"%s","source":"rural-revitalisation/test","type":"aid.offer.registered","time":"2026-03-01T09:00:00+08:00","subject":"%s","data":{"offer_id":"%s","provider":{"id":"ORG-1","name":"青田县慈善总会","kind":"organisation"},"category":"%s","capacity":%s,"valid_until":"2099-12-31"%s}}\n' \
                "$2" "$1" "$2" "$2" "$3" "$4" "$town"
}
answer() { # answer HOUSEHOLD EVENT_ID MATCH_ID ACCEPTED
        printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"aid.match.answered","time":"2026-03-20T09:00:00+08:00","subject":"%s","data":{"match_id":"%s","accepted":%s,"by":"county-medical-security"}}\n' \
                "$1" "$2" "$1" "$3" "$4"
}
alerts() { consume hearth.alerts | cut -f3; }
proposals() { alerts | jq -c 'select(.type == "aid.match.proposed")'; }
count_for() { proposals | jq -c --arg o "$1" 'select(.data.offer_id == $o)' | grep -c .; }
wait_props() { wait_for "${3:-30}" bash -c "[ \$(count_for $1) -ge $2 ]"; }
export -f alerts proposals count_for consume
export BOOTSTRAP T

# --- an offer matched to a need that was waiting ---------------------------
H1=HA0001
{ reg $H1 温溪镇; need $H1 N1 education 2026-03-10T09:00:00+08:00; } | produce household.reports
check "the household waits for an education offer (waiting index)" \
        wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:aid:waiting:education $H1)\" != '' ]"
offer of1 OF1 education 3 温溪镇 | produce civil-affairs.events
check "offer registered: aid.match.proposed" wait_props OF1 1
p1=$(proposals | jq -c 'select(.data.offer_id == "OF1")' | head -1)
check "... for the need, routed to the education office, with provider, cadre and why" \
        jq -e --arg h $H1 '.subject == $h and .data.household_id == $h and .data.need_id == "N1" and .data.category == "education" and .data.department == "county-education" and .data.provider.name == "青田县慈善总会" and .data.cadre.id == "C1" and .data.town == "温溪镇" and (.data.why|test("OF1")) and (.data.match_id|test("^am-[0-9a-f]{16}$")) and .id == .data.match_id + ":proposed"' <<<"$p1"

# --- an offer already there, then a need ------------------------------------
H2=HA0002
{ reg $H2 温溪镇; need $H2 N2 education 2026-03-11T09:00:00+08:00; } | produce household.reports
check "a need reported after the offer: proposed at once" wait_props OF1 2
H3=HA0003
{ reg $H3 船寮镇; need $H3 N3 education 2026-03-11T09:00:00+08:00; } | produce household.reports
sleep 3
check "another town's household gets no proposal of a town's offer" \
        bash -c "[ \$(proposals | jq -c 'select(.subject == \"$H3\")' | grep -c .) = 0 ]"

# --- never twice for one household and offer --------------------------------
kill -KILL "$HEARTHD_PID"; wait "$HEARTHD_PID" 2>/dev/null
{ offer of1 OF1 education 3 温溪镇; offer of1-renewed OF1 education 5 温溪镇; } | produce civil-affairs.events
need $H1 N1b education 2026-03-12T09:00:00+08:00 | produce household.reports
start_hearthd
check "restarted after kill -9" wait_ready 30
# The killed member holds its partitions until its session times out (6 s).
check "the renewed registration is applied (capacity 5)" \
        wait_for 40 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET 'hearth:{OF1}:offer' capacity)\" = 5 ]"
sleep 3
check "the redelivered and the renewed registration (capacity 5) propose nothing new to $H1 and $H2" \
        bash -c "[ \$(proposals | jq -r 'select(.data.offer_id == \"OF1\") | .subject' | sort | uniq -c | awk '\$1 != 1' | wc -l) = 0 ] && [ \$(count_for OF1) -ge 2 ]"
check "... and the same match id each time" \
        bash -c "[ \$(proposals | jq -r 'select(.data.offer_id == \"OF1\") | .data.match_id' | sort -u | wc -l) = \$(proposals | jq -r 'select(.data.offer_id == \"OF1\") | .subject' | sort -u | wc -l) ]"
check "the renewed registration keeps the places taken (2 reserved, capacity 5)" \
        bash -c "[ \$(redis-cli -p $REDIS_PORT SCARD 'hearth:{OF1}:offer:r') = 2 ] && [ \$(redis-cli -p $REDIS_PORT HGET 'hearth:{OF1}:offer' capacity) = 5 ]"

# --- kill -9 after the proposal's commit, before its produce ----------------
H5=HA0005
{ reg $H5 温溪镇; need $H5 N5 housing 2026-03-13T09:00:00+08:00; } | produce household.reports
check "$H5 waits for a housing offer" \
        wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:aid:waiting:housing $H5)\" != '' ]"
stop_hearthd
export HEARTH_CRASH_POINT=before_produce_timer
start_hearthd
unset HEARTH_CRASH_POINT
sleep 5
offer of3 OF3 housing 1 温溪镇 | produce civil-affairs.events
wait_for 30 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null"
check "the crash point killed hearthd after the proposal's commit" \
        grep -q "crash point before_produce_timer" "$T/hearthd.log"
check "... before anything was produced" test "$(count_for OF3)" = 0
start_hearthd
check "after restart the proposal arrives (outbox relay)" wait_props OF3 1
sleep 3
check "... exactly once, its one place reserved once" \
        bash -c "[ \$(count_for OF3) = 1 ] && [ \$(redis-cli -p $REDIS_PORT SCARD 'hearth:{OF3}:offer:r') = 1 ]"

# --- capacity with two instances ---------------------------------------------
PID_A=$HEARTHD_PID
start_hearthd
PID_B=$HEARTHD_PID
# The group rebalances over both instances: 16 partitions, 8 each.
check "both instances hold partitions" \
        wait_for 30 bash -c "[ \$(grep -c 'kafka: assigned 8 partitions' '$T/hearthd.log') -ge 2 ]"
for i in $(seq -w 1 10); do
        reg HC00$i 仁庄镇
        need HC00$i M$i medical "2026-04-$i""T09:00:00+08:00"
done | produce household.reports
check "10 households wait for a medical offer" \
        wait_for 40 bash -c "[ \$(redis-cli -p $REDIS_PORT ZCARD hearth:aid:waiting:medical) = 10 ]"
offer of2 OF2 medical 3 | produce civil-affairs.events
check "a county-wide offer of 3 places: 3 proposals" wait_props OF2 3
sleep 4
check "... never more than its capacity (two instances)" test "$(count_for OF2)" = 3
check "... to the three oldest needs (HC0001-HC0003), routed to the medical security office" \
        bash -c "[ \"\$(proposals | jq -r 'select(.data.offer_id == \"OF2\") | .subject' | sort -u | tr '\n' ' ')\" = 'HC0001 HC0002 HC0003 ' ] && proposals | jq -s -e 'map(select(.data.offer_id == \"OF2\")) | all(.data.department == \"county-medical-security\")' >/dev/null"
check "the offer holds 3 reserved places in Redis" test "$(rcli SCARD 'hearth:{OF2}:offer:r')" = 3
mid() { proposals | jq -r --arg h "$1" 'select(.data.offer_id == "OF2" and .subject == $h) | .data.match_id' | head -1; }
{ answer HC0001 ans1 "$(mid HC0001)" true; answer HC0002 ans2 "$(mid HC0002)" true; answer HC0003 ans3 "$(mid HC0003)" false; } |
        produce household.reports
check "a decline passes the place to the next oldest need (HC0004)" \
        wait_for 30 bash -c "proposals | jq -e -s 'any(.[]; .data.offer_id == \"OF2\" and .subject == \"HC0004\")' >/dev/null"
answer HC0004 ans4 "$(mid HC0004)" true | produce household.reports
check "3 places used, none reserved, after 3 acceptances" \
        wait_for 30 bash -c "[ \$(redis-cli -p $REDIS_PORT SCARD 'hearth:{OF2}:offer:u') = 3 ] && [ \$(redis-cli -p $REDIS_PORT SCARD 'hearth:{OF2}:offer:r') = 0 ]"
sleep 3
check "4 proposals in all for OF2, each household once" \
        bash -c "[ \$(count_for OF2) = 4 ] && [ \$(proposals | jq -r 'select(.data.offer_id == \"OF2\") | .subject' | sort | uniq -d | wc -l) = 0 ]"
check "HC0003 (declined) is never proposed OF2 again" \
        test "$(proposals | jq -c 'select(.data.offer_id == "OF2" and .subject == "HC0003")' | grep -c .)" = 1

# --- a household that leaves monitoring gives its place back ----------------
printf '%s\t{"specversion":"1.0","id":"rm-%s","source":"test","type":"household.removed","time":"2026-05-01T09:00:00+08:00","subject":"%s","data":{}}\n' $H5 $H5 $H5 |
        produce civil-affairs.events
check "household.removed: the OF3 place $H5 held goes back" \
        wait_for 30 bash -c "[ \$(redis-cli -p $REDIS_PORT SCARD 'hearth:{OF3}:offer:r') = 0 ]"

# --- withdrawal ----------------------------------------------------------------
printf 'OF1\t{"specversion":"1.0","id":"of1-w","source":"rural-revitalisation/test","type":"aid.offer.withdrawn","time":"2026-05-01T09:00:00+08:00","subject":"OF1","data":{"offer_id":"OF1"}}\n' |
        produce civil-affairs.events
check "withdrawn: the offer leaves its category index" \
        wait_for 20 bash -c "[ \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:aid:cat:education OF1)\" = '' ]"
H4=HA0004
{ reg $H4 温溪镇; need $H4 N4 education 2026-05-02T09:00:00+08:00; } | produce household.reports
sleep 4
check "... and is proposed to nobody new" test "$(proposals | jq -c "select(.subject == \"$H4\")" | grep -c .)" = 0

check "every output validates against schemas/out" bash -c "alerts | '$OUTCHECK' '$ROOT/schemas' >'$T/outcheck.txt'"
dump "$T/outcheck.txt" 5
check "no dead letters" test "$(consume hearth.dlq | grep -c .)" = 0
stop_hearthd
check "instance B: SIGTERM exit 0" test "$HEARTHD_RC" = 0
HEARTHD_PID=$PID_A
stop_hearthd
check "instance A: SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
