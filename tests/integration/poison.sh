# A poison message that kills hearthd (a test-build trigger) is
# dead-lettered after at most pipeline.max_attempts tries, and every other
# message, before and after it, is applied exactly once.
source "$(dirname "$0")/../lib.sh"
start_broker 1 1 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config
ev() { printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"; }
relief() { ev "$1" "$2" civil.relief.paid '{"kind":"subsidy","amount":10,"paid_on":"2026-03-01"}'; }
{
        ev HP1 reg household.registered '{"town":"t","village":"v","cadre":{"id":"C1"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}'
        for i in 1 2 3; do relief HP1 "a$i"; done
        relief HPOISON p1
        for i in 4 5 6; do relief HP1 "a$i"; done
} | produce household.reports
export HEARTH_CRASH_SUBJECT=HPOISON
crashes=0
for attempt in 1 2 3 4 5 6; do
        start_hearthd
        wait_for 40 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null || grep -q 'dead letter: .*hearthd died' '$T/hearthd.log'"
        if kill -0 "$HEARTHD_PID" 2>/dev/null; then break; fi
        wait "$HEARTHD_PID" 2>/dev/null
        crashes=$((crashes + 1))
done
diag "crashes: $crashes"
check "hearthd died at most 3 times on the poison message" test "$crashes" -le 3
check "the poison message is dead-lettered with the reason" \
        wait_for 20 bash -c "kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -q 'hearth.error=value: hearthd died [0-9] times processing this message'"
check "every other message applied exactly once (6 x 10 yuan)" \
        wait_for 30 bash -c "\"$HEARTHCTL\" --redis $REDIS_URL household HP1 --json | jq -e '.sums_12m.relief == 6000 and .state.events == 7' >/dev/null"
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
