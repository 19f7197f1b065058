# Integration test harness, sourced by tests/integration/*.sh.
# Gives each test a temp dir, a real redis-server on a free port and the
# test broker, and tears everything down on exit, even when the test fails.
# Output is TAP ("ok N - ...", "not ok N - ..."), counted by tests/run.sh.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HEARTHD=${HEARTHD:-$ROOT/build/san/hearthd}
HEARTHCTL=${HEARTHCTL:-$ROOT/build/san/hearthctl}
TESTBROKER=${TESTBROKER:-$ROOT/build/testbroker}
NOTIFYLISTEN=${NOTIFYLISTEN:-$ROOT/build/notifylisten}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

source "$ROOT/tests/harness.sh"
T=$(mktemp -d /tmp/hearth-test.XXXXXX)
_TESTNO=0
_FAILED=0

_cleanup() {
        reap_all 5
        exec 7>&- 2>/dev/null
        if [ "$_FAILED" != 0 ] && [ -n "${KEEP_TMP:-}" ]; then
                echo "# kept $T"
        else
                rm -rf "$T"
        fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

ok() { _TESTNO=$((_TESTNO + 1)); echo "ok $_TESTNO - $*"; }
not_ok() { _TESTNO=$((_TESTNO + 1)); _FAILED=$((_FAILED + 1)); echo "not ok $_TESTNO - $*"; }
# check DESC CMD...: one TAP line from a command's exit status.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { echo "# $*"; }
# has TEXT PATTERN: grep -E PATTERN in TEXT (quiet).
has() { grep -qE -- "$2" <<<"$1"; }
# dump FILE: shows a file's tail as TAP comments (for failures).
dump() { [ -f "$1" ] && tail -n "${2:-30}" "$1" | sed 's/^/#   /'; }

# start_redis: REDIS_PORT, REDIS_URL, rcli (redis-cli against it).
# REDIS_CONF names a redis.conf read first (requirepass, ACL users: so that
# no password is on redis-server's command line); rcli authenticates with
# REDISCLI_AUTH from the environment.
start_redis() {
        local fixed=${REDIS_PORT:-} try
        for try in 1 2 3; do
                REDIS_PORT=${fixed:-$(free_port)}
                : >"$T/redis.log"
                redis_spawn "$T" --port "$REDIS_PORT" --bind 127.0.0.1
                REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
                wait_for 10 bash -c "[ \"\$(redis-cli -p $REDIS_PORT PING 2>/dev/null)\" = PONG ] || ! kill -0 $REDIS_PID 2>/dev/null"
                rcli_ping && export REDIS_PORT && return 0
                # the port was taken meanwhile: another one, unless fixed
                [ -z "$fixed" ] && grep -q "Address already in use" "$T/redis.log" 2>/dev/null || break
        done
        echo "# redis-server did not start"
        dump "$T/redis.log"
        return 1
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
# hh ID: household ID's record as hearthctl shows it (JSON: state, ledger,
# timeline, applied_offsets, dedup_ids): the record in Redis is compressed
# (daemon/record.h), so tests read it as an operator does. Exported, for
# the `bash -c` of wait_for.
hh() { "$HEARTHCTL" --redis "redis://127.0.0.1:$REDIS_PORT/0" household "$1" --json 2>/dev/null; }
export -f hh
export HEARTHCTL
rcli_ping() { [ "$(rcli PING 2>/dev/null)" = PONG ]; }
stop_redis() { kill -TERM "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }

# start_broker [BROKERS] [PARTITIONS]: BOOTSTRAP; fault commands go to
# broker_cmd "down 1" (answers are in $T/broker.out).
INPUT_TOPICS="civil-affairs.events,medical-insurance.events,disaster.events,household.reports"
start_broker() {
        local nb=${1:-1} np=${2:-4}
        mkfifo "$T/broker.in"
        exec 7<>"$T/broker.in"
        "$TESTBROKER" -b "$nb" -p "$np" -t "$INPUT_TOPICS,hearth.alerts,hearth.dlq" \
                -P "$T/bootstrap" <"$T/broker.in" >"$T/broker.out" 2>"$T/broker.err" &
        BROKER_PID=$!
        _PIDS+=("$BROKER_PID")
        wait_for 10 test -s "$T/bootstrap" || { echo "# test broker did not start"; dump "$T/broker.err"; return 1; }
        BOOTSTRAP=$(head -n1 "$T/bootstrap")
}
broker_cmd() { echo "$*" >&7; }

# write_config [EXTRA_YAML]: $T/hearth.yaml against this test's broker and
# redis, with the repository's rules and schemas. Also set from the
# environment (the fault rows' fconfig does): GROUP (hearth-test),
# RULES_DIR, LOG_LEVEL (debug), SESSION_MS (6000), HEARTBEAT_MS (500), and
# lines added to kafka.properties (KAFKA_EXTRA) and redis (REDIS_EXTRA).
write_config() {
        cat >"$T/hearth.yaml" <<YAML
kafka:
  brokers: "$BOOTSTRAP"
  group: "${GROUP:-hearth-test}"
  topics:
    inputs: [civil-affairs.events, medical-insurance.events, disaster.events, household.reports]
    alerts: hearth.alerts
    dead_letter: hearth.dlq
  properties:
    fetch.wait.max.ms: "10"
    topic.metadata.refresh.interval.ms: "1000"
    session.timeout.ms: "${SESSION_MS:-6000}"
    heartbeat.interval.ms: "${HEARTBEAT_MS:-500}"
${KAFKA_EXTRA:-}
redis:
  url: "$REDIS_URL"
${REDIS_EXTRA:-}
rules:
  dir: ${RULES_DIR:-$ROOT/rules}
schemas:
  dir: $ROOT/schemas
metrics:
  listen: ""
log:
  level: ${LOG_LEVEL:-debug}
  status_interval: 1s
${1:-}
YAML
}

# start_hearthd [ARGS...]: HEARTHD_PID; stderr in $T/hearthd.log, notify
# messages in $T/notify.log.
start_hearthd() {
        if [ ! -S "$T/notify.sock" ]; then
                "$NOTIFYLISTEN" "$T/notify.sock" >>"$T/notify.log" &
                _PIDS+=("$!")
                wait_for 5 test -S "$T/notify.sock"
        fi
        NOTIFY_SOCKET="$T/notify.sock" "$HEARTHD" --config "$T/hearth.yaml" "$@" \
                2>>"$T/hearthd.log" &
        HEARTHD_PID=$!
        _PIDS+=("$HEARTHD_PID")
}
wait_ready() { wait_for "${1:-20}" grep -q "READY=1" "$T/notify.log"; }
# stop_hearthd: SIGTERM, waits up to 10 s; HEARTHD_RC is the exit status.
stop_hearthd() {
        kill -TERM "$HEARTHD_PID" 2>/dev/null
        local end=$((SECONDS + ${1:-10}))
        while kill -0 "$HEARTHD_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
        if kill -0 "$HEARTHD_PID" 2>/dev/null; then HEARTHD_RC=timeout; kill -KILL "$HEARTHD_PID"; fi
        wait "$HEARTHD_PID" 2>/dev/null
        local rc=$?
        [ "${HEARTHD_RC:-}" = timeout ] || HEARTHD_RC=$rc
}

# produce TOPIC < lines of "key<TAB>json"
produce() { kcat -b "$BOOTSTRAP" -P -t "$1" -K $'\t' -X topic.partitioner=murmur2_random 2>>"$T/kcat.err"; }
# consume TOPIC: every message so far as "key<TAB>headers<TAB>value".
consume() { kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '%k\t%h\t%s\n' 2>>"$T/kcat.err"; }

# dlq_expect N: two TAP lines (N dead letters arrive within 20 s, exactly N
# in all); $T/dlq.txt then holds them as consume prints them, for dlq_has.
dlq_expect() {
        check "$1 dead letters arrive" wait_for 20 bash -c "[ \$(kcat -b $BOOTSTRAP -C -t hearth.dlq -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l) -ge $1 ]"
        consume hearth.dlq >"$T/dlq.txt"
        check "exactly $1 dead letters (one per bad message)" test "$(grep -c 'hearth.error=' "$T/dlq.txt")" = "$1"
}
# dlq_has PATTERN: grep -E PATTERN in the dead letters dlq_expect read.
dlq_has() { grep -qE -- "$1" "$T/dlq.txt"; }

finish() {
        [ "$_FAILED" = 0 ] || { diag "hearthd log:"; dump "$T/hearthd.log" 40; }
        exit 0
}
