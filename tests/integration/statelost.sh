# Redis loses hearth's state (FLUSHALL mid-stream): hearthd stops within
# one event with a non-zero exit and raises no alert from the empty state;
# a restart against the emptied Redis refuses to run as well.
source "$(dirname "$0")/../lib.sh"
start_broker 1 2 || { not_ok "test broker starts"; finish; }
start_redis || { not_ok "redis starts"; finish; }
write_config
ev() { printf '%s\t{"specversion":"1.0","id":"%s","source":"test","type":"%s","time":"2026-03-10T09:00:00+08:00","subject":"%s","data":%s}\n' "$1" "$2" "$3" "$1" "$4"; }
reg() { ev "$1" "reg-$1" household.registered '{"town":"t","village":"v","cadre":{"id":"C1"},"members":[{"id":"m1","labor":"full","disability_grade":0,"serious_illness":false,"incapacitated":false,"student":false}],"status":"low_income","income_last_year":{"year":2025,"disposable":90000}}'; }
start_hearthd
check "hearthd READY" wait_ready 30
reg HF1 | produce household.reports
check "first event applied" wait_for 30 bash -c "\"$HEARTHCTL\" --redis $REDIS_URL household HF1 >/dev/null 2>&1"
sleep 1
rcli FLUSHALL >/dev/null
ev HF1 n1 need.reported '{"need_id":"N1","channel":"self","category":"food_clothing","urgent":true}' | produce household.reports
check "hearthd exits after FLUSHALL" wait_for 30 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null"
wait "$HEARTHD_PID"; rc=$?
check "non-zero exit (got $rc)" test "$rc" != 0
check "the log says the state is gone" grep -q "state is gone" "$T/hearthd.log"
sleep 1
check "no alert raised from the empty state" bash -c "[ -z \"\$(kcat -b $BOOTSTRAP -C -t hearth.alerts -o beginning -e -q 2>/dev/null)\" ]"
start_hearthd
check "a restart on the emptied Redis stops too" wait_for 40 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null"
wait "$HEARTHD_PID"; rc=$?
check "... with a non-zero exit (got $rc)" test "$rc" != 0
check "... saying the state was lost" grep -q "the state was lost" "$T/hearthd.log"
finish
