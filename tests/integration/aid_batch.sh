# Social aid matching (REQ-12) in the batch: when a household's own event
# makes its aid check due (a need reported, an alert with a reason an
# offer category serves), the check runs before that event's commit, not
# on the timer path. The timer check runs every 10 minutes here, so
# nothing below can come from it: a need in a category with an offer gives
# its aid.match.proposed, a need in a category without one puts the
# household in that category's waiting index, and in the timer index each
# household keeps its alert's due time (hours away), not an immediate one.
source "$(dirname "$0")/../lib.sh"
OUTCHECK=${OUTCHECK:-$ROOT/build/outcheck}

start_broker 1 4 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config "timers:
  check_interval: 10m"
start_hearthd
check "hearthd READY" wait_ready 30

reg() { # reg ID
        printf '%s\t{"specversion":"1.0","id":"reg-%s","source":"test","type":"household.registered","time":"2026-01-05T09:00:00+08:00","subject":"%s","data":{"town":"温溪镇","village":"东岸村","cadre":{"id":"C1","name":"陈丽华"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}}\n' \
                "$1" "$1" "$1"
}
need() { # need HOUSEHOLD NEED_ID CATEGORY
        printf '%s\t{"specversion":"1.0","id":"need-%s-%s","source":"test","type":"need.reported","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":{"need_id":"%s","channel":"self","category":"%s","urgent":false}}\n' \
                "$1" "$1" "$2" "$1" "$2" "$3"
}
proposals() { consume hearth.alerts | cut -f3 | jq -c 'select(.type == "aid.match.proposed")'; }
export -f proposals consume
export BOOTSTRAP T

# The offer first, and the timer check that follows hearthd's start gone by.
printf '%s\t{"specversion":"1.0","id":"ofb1","source":"rural-revitalisation/test","type":"aid.offer.registered","time":"2026-03-01T09:00:00+08:00","subject":"OFB1","data":{"offer_id":"OFB1","provider":{"id":"ORG-1","name":"青田县慈善总会","kind":"organisation"},"category":"education","capacity":2,"valid_until":"2099-12-31"}}\n' OFB1 |
        produce civil-affairs.events
check "the offer is registered" \
        wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT HGET 'hearth:{OFB1}:offer' capacity)\" = 2 ]"
sleep 2

{ reg HB0001; need HB0001 N1 education; reg HB0002; need HB0002 N2 housing; } |
        produce household.reports
check "a need with an offer in its category: proposed in the batch, no timer check" \
        wait_for 30 bash -c "proposals | jq -e -s 'any(.[]; .subject == \"HB0001\" and .data.offer_id == \"OFB1\" and .data.need_id == \"N1\")' >/dev/null"
check "... its place reserved once" test "$(rcli SCARD 'hearth:{OFB1}:offer:r')" = 1
check "a need without an offer: the household waits in its category's index" \
        wait_for 30 bash -c "[ \"\$(redis-cli -p $REDIS_PORT ZSCORE hearth:aid:waiting:housing HB0002)\" != '' ]"
now_ms=$(($(date +%s) * 1000))
for h in HB0001 HB0002; do
        due=$(rcli ZSCORE hearth:timers $h)
        diag "$h: timer due in $(( (${due%.*} - now_ms) / 1000 )) s"
        check "$h's timer is its alert's (hours away), not an aid check due now" \
                test "${due%.*}" -gt $((now_ms + 3600000))
        check "... and its record keeps no aid due time" \
                bash -c "hh $h | jq -e '.state.aid | has(\"due_ms\") | not' >/dev/null"
done
check "exactly one proposal" test "$(proposals | grep -c .)" = 1
check "it validates against schemas/out" bash -c "proposals | '$OUTCHECK' '$ROOT/schemas' >'$T/outcheck.txt'"

stop_hearthd
check "hearthd: SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
