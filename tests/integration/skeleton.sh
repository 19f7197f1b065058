# hearthd's life under a service manager: READY only after Redis answered
# and the consumer subscribed, STATUS/STOPPING, SIGTERM exit 0 within 10 s,
# --set overrides, --check diagnostics, no leak under valgrind.
source "$(dirname "$0")/../lib.sh"

start_broker 1 4 || { not_ok "test broker starts"; finish; }
REDIS_PORT=$(free_port)
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
write_config
# The file points at a dead Redis port; --set must win over it.
sed -i "s|$REDIS_URL|redis://127.0.0.1:1/0|" "$T/hearth.yaml"

# 1. Redis not there yet: no READY=1.
start_hearthd --set "redis.url=$REDIS_URL"
sleep 3
check "no READY=1 while Redis is unreachable" bash -c "! grep -q READY=1 '$T/notify.log'"
check "hearthd says it is retrying Redis" grep -q "retrying in" "$T/hearthd.log"

# 2. Redis comes up: READY=1 follows, after the subscription.
start_redis
check "READY=1 once Redis answers (--set redis.url overrides the file)" wait_ready 20
check "subscribed before READY" bash -c "grep -q 'hearthd ready' '$T/hearthd.log'"

# 3. Messages are consumed (counted) and STATUS= reports them.
for i in $(seq 5); do printf 'H000%d\t{"n":%d}\n' "$i" "$i"; done | produce household.reports
check "STATUS= reports rate, lag, open alerts and outbox" wait_for 20 grep -qE "STATUS=[0-9.]+ events/s, lag [0-9-]+, open alerts: [0-9]+ red, [0-9]+ yellow, outbox pending [0-9]+" "$T/notify.log"
check "the 5 malformed messages were consumed and dead-lettered" wait_for 20 bash -c "grep -c 'dead letter:' '$T/hearthd.log' | grep -qx 5"

# 4. SIGTERM: STOPPING=1 and exit 0 within 10 s.
stop_hearthd 10
check "SIGTERM: exit 0 within 10 s (got $HEARTHD_RC)" test "$HEARTHD_RC" = 0
check "STOPPING=1 sent" grep -q "STOPPING=1" "$T/notify.log"

# 5. --check on broken configs: file:line:col and exit 1.
write_config
cp "$T/hearth.yaml" "$T/good.yaml"
printf 'kafka:\n  brokers: "a:1"\n  group: [unclosed\nredis:\n  url: "redis://x"\n' >"$T/syntax.yaml"
out=$("$HEARTHD" --check --config "$T/syntax.yaml" 2>&1); rc=$?
check "bad YAML at line 3: exit 1" test "$rc" = 1
check "bad YAML at line 3: file:line:col printed" grep -qE "syntax.yaml:[34]:[0-9]+: " <<<"$out"
printf 'kafka:\n  brokers: "a:1"\n  brokres: "b:1"\n' >"$T/unknown.yaml"
out=$("$HEARTHD" --check --config "$T/unknown.yaml" 2>&1); rc=$?
check "unknown key: exit 1 (got $rc)" test "$rc" = 1
check "unknown key: unknown.yaml:3:3 named" has "$out" "unknown.yaml:3:3: unknown key 'kafka.brokres'"
printf 'pipeline:\n  batch_max: lots\nredis:\n  url: [a, b]\n' >"$T/types.yaml"
out=$("$HEARTHD" --check --config "$T/types.yaml" 2>&1); rc=$?
check "wrong types: exit 1 (got $rc)" test "$rc" = 1
check "wrong types: both errors reported with file:line:col" \
        has "$out" "types.yaml:2:14: pipeline.batch_max.*types.yaml:4:8: redis.url|types.yaml:4:8: redis.url"
check "wrong types: 2 errors counted" has "$out" "2 errors in"

out=$("$HEARTHD" --check --config "$T/good.yaml" 2>&1); rc=$?
check "good config: exit 0 (got $rc)" test "$rc" = 0
check "good config: configuration OK" has "$out" "configuration OK"
out=$("$HEARTHD" --check --config "$T/good.yaml" --set pipeline.batch_max=0 2>&1); rc=$?
check "--set is validated like the file" has "$rc $out" "^1 .*pipeline.batch_max"

# 6. valgrind: no leak after a clean SIGTERM (normal build).
if command -v valgrind >/dev/null && [ -x "$ROOT/hearthd" ]; then
        : >"$T/notify.log"
        NOTIFY_SOCKET="$T/notify.sock" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
                --error-exitcode=99 --log-file="$T/valgrind.log" "$ROOT/hearthd" --config "$T/good.yaml" \
                2>>"$T/hearthd.log" &
        HEARTHD_PID=$!
        _PIDS+=("$HEARTHD_PID")
        wait_ready 60
        # Real work before the stop: every input type of the fixtures, one
        # malformed message, so the leak check covers the pipeline paths.
        for f in "$ROOT"/tests/fixtures/events/*.json; do
                printf '%s\t%s\n' "$(jq -r .subject "$f")" "$(jq -c . "$f")"
        done | produce household.reports
        printf 'HV1\tnot json\n' | produce household.reports
        # Under valgrind on a loaded machine this takes a while: wait for the
        # dead letter and for the fixtures' registered household, not a clock.
        HREG=$(jq -r .subject "$ROOT/tests/fixtures/events/household.registered.json")
        wait_for 120 grep -q "dead letter: household.reports" "$T/hearthd.log"
        wait_for 120 bash -c "'$HEARTHCTL' --config '$T/good.yaml' household '$HREG' --json 2>/dev/null |
                jq -e '.state.events >= 1' >/dev/null"
        sleep 3
        stop_hearthd 30
        check "valgrind: events processed under valgrind" \
                bash -c "grep 'hearthd stopped' '$T/hearthd.log' | tail -1 | grep -qE ' [1-9][0-9]* applied'"
        check "valgrind: no leak or memory error after SIGTERM (rc $HEARTHD_RC)" test "$HEARTHD_RC" = 0
        [ "$HEARTHD_RC" = 0 ] || dump "$T/valgrind.log" 40
else
        ok "# SKIP valgrind not installed"
fi
finish
