# Redis loses hearth's state (FLUSHALL mid-stream): hearthd stops within
# one event with a non-zero exit and raises no alert from the empty state;
# a restart against the emptied Redis refuses to run as well. Then Redis
# written by an older hearth (a hash, a sorted set and two lists per
# household): hearthd refuses to start and names `hearthctl migrate`, which
# converts it; then hearthd starts.
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

# --- the older layout ---------------------------------------------------------
rcli FLUSHALL >/dev/null
rcli SET hearth:epoch 1 >/dev/null
rcli HSET 'hearth:{HF2}:h' v 3 doc '{"registered":false,"events":2}' o:household.reports/0 5 >/dev/null
now=$(date +%s%3N)
rcli ZADD 'hearth:{HF2}:seen' "$now" 00000000000000aa "$now" 00000000000000bb >/dev/null
rcli RPUSH 'hearth:{HF2}:ledger' '{"amount":1}' >/dev/null
rcli LPUSH 'hearth:{HF2}:timeline' '{"type":"t1"}' '{"type":"t2"}' >/dev/null
: >"$T/hearthd.log"
start_hearthd
check "on the older layout hearthd stops" wait_for 40 bash -c "! kill -0 $HEARTHD_PID 2>/dev/null"
wait "$HEARTHD_PID"; rc=$?
check "... with a non-zero exit (got $rc)" test "$rc" != 0
check "... naming hearthctl migrate" grep -q "hearthctl migrate" "$T/hearthd.log"
check "... and wrote nothing" test "$(rcli TYPE 'hearth:{HF2}:h')" = hash
out=$("$HEARTHCTL" --redis "$REDIS_URL" migrate 2>&1)
check "hearthctl migrate converts the household" has "$out" "1 households converted"
rec=$(hh HF2)
check "... keeping version, document, offsets, dedup ids, ledger and timeline" \
        jq -e '.version == 3 and .state.events == 2 and .applied_offsets["household.reports/0"] == 5 and .dedup_ids == 2 and (.ledger | length) == 1 and .timeline[0].type == "t2"' <<<"$rec"
check "... into one key" test "$(rcli --scan --pattern 'hearth:{HF2}:*' | wc -l)" = 1
out=$("$HEARTHCTL" --redis "$REDIS_URL" migrate 2>&1)
check "a second migrate finds nothing to convert" has "$out" "0 households converted"
: >"$T/notify.log" # READY=1 of the first start must not count
start_hearthd
check "then hearthd starts" wait_ready 30
stop_hearthd
check "SIGTERM exit 0" test "$HEARTHD_RC" = 0
finish
