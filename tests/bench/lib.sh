# What the benchmark's drivers share (run.sh, scale.sh; sourced): the
# settings every step reads from the environment, small helpers, the
# partition layout, and the services: the test broker, redis-server, hearthd,
# registration and "drained". tests/bench/README.md says what each does.
#   bench_need FILE... / bench_need_cmd CMD...   dies unless they are there
#   bench_setup                 after the checks: the work dir $T (removed on
#                               a clean exit: set _OK=1; BENCH_WORK names
#                               one that the caller owns and removes), every
#                               started process ended on exit, the
#                               partitions (PARTS)
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

EVENTS=${BENCH_EVENTS:-1000000}
HOUSEHOLDS=${BENCH_HOUSEHOLDS:-100000}
SEED=${BENCH_SEED:-1}
BATCH_MAX=${BENCH_BATCH_MAX:-250}
if [ "$EVENTS" -lt 100000 ]; then tiny=1; else tiny=0; fi
OUT=${BENCH_OUT:-$ROOT/build/bench/results-${EVENTS}x${HOUSEHOLDS}}
HEARTHD=${HEARTHD:-$ROOT/hearthd}
BIN=$ROOT/build/bench
TESTBROKER=${TESTBROKER:-$ROOT/build/testbroker}
GROUP=hearth-bench
INPUTS=(civil-affairs.events medical-insurance.events disaster.events household.reports)
MIB=1048576
# Per partition, the mock keeps at most 5 MiB: aim at 3 MiB on average
# (plus 15 % for record overhead and uneven keys), so none comes near it.
PART_TARGET=$((3 * MIB))
# Alert bytes per input event, to size hearth.alerts (measured: ~0.11
# outputs per event, ~840 bytes for an alert, ~340 for an overdue visit,
# so ~70 bytes per event; doubled).
ALERT_BYTES_PER_EVENT=${BENCH_ALERT_BYTES_PER_EVENT:-150}
# The year of feeds ends 35 days ago, so the latency run's events (dated
# after it) stay in the past. Timers run on the wall clock: anchoring the
# dates to today keeps every run alike, and hearthd's visits.interval is
# set to 365d so that replaying a year in minutes does not make nearly
# every household's visit overdue at once (with the default 31d and ~2.4
# visits per household a year, it would: a storm of timer work no live
# feed causes). Visits of the first month not followed by another one still
# come due: a trickle of overdue-visit outputs, as in life.
START_DATE=${BENCH_START_DATE:-$(date -d '-400 days' +%F)}
TCK=$(getconf CLK_TCK)
# Step 5, the scale-out (scale.sh), read here so that a mistyped knob fails
# before the main run does.
INSTANCES=${BENCH_INSTANCES:-1 2 3}
[ "$INSTANCES" = none ] && INSTANCES=""
INST_EVENTS=${BENCH_INST_EVENTS:-$((EVENTS < 100000 ? EVENTS : 100000))}
INST_HOUSEHOLDS=${BENCH_INST_HOUSEHOLDS:-$((HOUSEHOLDS < 20000 ? HOUSEHOLDS : 20000))}
SCALE_REDIS=${BENCH_SCALE_REDIS:-single cluster cluster-nowait}
for _n in $INSTANCES; do
        [[ $_n =~ ^[1-9][0-9]?$ ]] || { echo "bench: BENCH_INSTANCES: '$_n' is not 1..99" >&2; exit 2; }
done
for _n in "$INST_EVENTS" "$INST_HOUSEHOLDS"; do
        [[ $_n =~ ^[1-9][0-9]*$ ]] ||
                { echo "bench: BENCH_INST_EVENTS, BENCH_INST_HOUSEHOLDS: '$_n' is not a count" >&2; exit 2; }
done
for _n in $SCALE_REDIS; do
        [[ $_n = single || $_n = cluster || $_n = cluster-nowait ]] ||
                { echo "bench: BENCH_SCALE_REDIS: '$_n' is not single, cluster or cluster-nowait" >&2; exit 2; }
done
# Set by scale.sh for a Redis Cluster: drain() asks bdrain -c, and
# hearthd's config gets these lines under redis: (redis.cluster).
CLUSTER_SEEDS=""
REDIS_EXTRA=""
# The hearthd instances drain() watches (pids, space-separated); empty:
# $HEARTHD_PID.
DRAIN_PIDS=""

source "$ROOT/tests/harness.sh"

say() { echo "bench: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
now_us() { date +%s%6N; }
# kv FILE KEY: the value of KEY=value in FILE.
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# fmt N: N rounded, with thousands separators (1,000,000).
fmt() { printf '%.0f' "$1" 2>/dev/null | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }
calc() { awk "BEGIN { printf \"%.${2:-0}f\", $1 }"; }

bench_need() {
        local f
        for f in "$@"; do
                [ -x "$f" ] || { echo "bench: $f is missing: run it as 'make bench'" >&2; exit 1; }
        done
}
bench_need_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null || { echo "bench: $c is missing (make deps)" >&2; exit 1; }
        done
}
bench_need "$HEARTHD" "$TESTBROKER" "$BIN/bgen" "$BIN/bdrain"
bench_need_cmd redis-server redis-cli

_OK=0
bench_cleanup() {
        reap_all 10
        [ -n "${BENCH_WORK:-}" ] && return
        if [ "$_OK" = 1 ] && [ -z "${KEEP_TMP:-}" ]; then
                rm -rf "$T"
        else
                echo "bench: work files kept in $T" >&2
        fi
}

bench_setup() {
        mkdir -p "$OUT"
        if [ -n "${BENCH_WORK:-}" ]; then
                T=$BENCH_WORK
                mkdir -p "$T"
        else
                T=$(mktemp -d /tmp/hearth-bench.XXXXXX)
        fi
        trap bench_cleanup EXIT
        trap 'exit 130' INT TERM
        bench_partitions
}

# --- partitions --------------------------------------------------------------
# From the plan of the main run's events (bgen plan: bytes per topic); the
# same layout serves every run (the scaling runs have fewer events).
declare -A PARTS
bench_partitions() {
        local t b p
        "$BIN/bgen" plan -H "$HOUSEHOLDS" -n "$EVENTS" -s "$SEED" -D "$START_DATE" >"$T/plan.events" ||
                die "bgen plan"
        "$BIN/bgen" plan -g -H 1000 -s "$SEED" -D "$START_DATE" >"$T/plan.reg" || die "bgen plan"
        REG_AVG=$(kv "$T/plan.reg" avg_bytes)
        # At least 16 partitions per input topic: the mock answers a Fetch
        # with at most one record batch per partition, and a paced producer
        # sends batches of one or two messages, so at the latency run's rate
        # too few partitions would cap what any consumer can read (an
        # artefact of the mock: Kafka returns many batches per partition).
        for t in "${INPUTS[@]}"; do
                b=$(kv "$T/plan.events" "topic.$t.bytes")
                p=$(( (b * 115 / 100 + PART_TARGET - 1) / PART_TARGET ))
                PARTS[$t]=$((p < 16 ? 16 : p))
        done
        p=$(( (EVENTS * ALERT_BYTES_PER_EVENT + PART_TARGET - 1) / PART_TARGET ))
        PARTS[hearth.alerts]=$((p < 4 ? 4 : p))
        PARTS[hearth.dlq]=4
        # Registrations go in chunks that fit civil-affairs.events; hearthd
        # drains each before the next (the dropped front is then already
        # consumed).
        REG_CHUNK=$(( PARTS[civil-affairs.events] * PART_TARGET / (REG_AVG + 20) ))
}
# input_partitions: the partitions hearthd consumes, over all input topics.
input_partitions() {
        local t n=0
        for t in "${INPUTS[@]}"; do n=$((n + PARTS[$t])); done
        echo "$n"
}

# --- services ----------------------------------------------------------------
# start_broker DIR: BOOTSTRAP, BROKER_PID; the topics created with PARTS.
# Its commands go through fd 7 (closed with `exec 7>&-` after stop_pid).
start_broker() {
        local d=$1 t n
        mkdir -p "$d"
        mkfifo "$d/broker.in"
        exec 7<>"$d/broker.in"
        "$TESTBROKER" -b 1 -P "$d/bootstrap" <"$d/broker.in" >"$d/broker.out" \
                2>"$d/broker.err" &
        BROKER_PID=$!
        _PIDS+=("$BROKER_PID")
        for _ in $(seq 200); do [ -s "$d/bootstrap" ] && break; sleep 0.05; done
        [ -s "$d/bootstrap" ] || die "test broker did not start ($(tail -n3 "$d/broker.err"))"
        BOOTSTRAP=$(head -n1 "$d/bootstrap")
        # Its first line (the bootstrap servers) before the answers are counted.
        for _ in $(seq 200); do [ -s "$d/broker.out" ] && break; sleep 0.05; done
        create_topics "$d" "" "${INPUTS[@]}" hearth.alerts hearth.dlq
}
# create_topics DIR PREFIX TOPIC...: PREFIX<topic> on the broker started in
# DIR, with PARTS[topic] partitions each; waits until the broker has answered.
create_topics() {
        local d=$1 prefix=$2 t lines
        shift 2
        lines=$(grep -c . "$d/broker.out")
        for t in "$@"; do echo "create $prefix$t ${PARTS[$t]}" >&7; done
        echo ping >&7
        for _ in $(seq 200); do
                [ "$(grep -c . "$d/broker.out")" -ge $((lines + $# + 1)) ] && break
                sleep 0.05
        done
        grep -q '^error' "$d/broker.out" && die "broker: $(grep '^error' "$d/broker.out")"
}
# start_redis DIR: REDIS_PORT, REDIS_PID (tests/harness.sh's settings).
start_redis() {
        REDIS_PORT=$(free_port) || die "no free port"
        redis_spawn "$1" --port "$REDIS_PORT" --bind 127.0.0.1
        wait_for 10 bash -c "[ \"\$(redis-cli -p $REDIS_PORT PING 2>/dev/null)\" = PONG ]" ||
                die "redis-server did not start"
}

# hearthd_config DIR [PREFIX]: DIR/hearth.yaml (config as tests/lib.sh
# write_config), on the Redis at REDIS_PORT, plus REDIS_EXTRA under redis:;
# the input topics are PREFIX<input> and the alerts topic PREFIXhearth.alerts
# (the latency run's fresh topics).
hearthd_config() {
        local inputs="" t
        for t in "${INPUTS[@]}"; do inputs+="${2:-}$t, "; done
        cat >"$1/hearth.yaml" <<YAML
kafka:
  brokers: "$BOOTSTRAP"
  group: "$GROUP"
  topics:
    inputs: [${inputs%, }]
    alerts: ${2:-}hearth.alerts
    dead_letter: hearth.dlq
  properties:
    fetch.wait.max.ms: "10"
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
redis:
  url: "redis://127.0.0.1:$REDIS_PORT/0"
${REDIS_EXTRA}rules:
  dir: $ROOT/rules
schemas:
  dir: $ROOT/schemas
metrics:
  listen: ""
pipeline:
  batch_max: $BATCH_MAX
visits:
  interval: 365d
YAML
}
# aof_compact: rewrites the AOF of the Redis at REDIS_PORT (BGREWRITEAOF)
# and waits until no rewrite runs or waits. A step calls it between its
# registration and its events, so that every step's events start on an AOF
# that holds the data set once: otherwise where the registration's writes
# left Redis's auto-aof-rewrite cycle (the AOF is rewritten each time it
# doubles) decides whether a fork and a rewrite of the whole data set fall
# into the measured window (at 1,000,000 households: about 500 MB, several
# seconds). The rewrites that the step's own events cause stay in it.
aof_idle() {
        local i
        i=$(redis-cli -p "$REDIS_PORT" INFO persistence | tr -d '\r')
        grep -q '^aof_rewrite_in_progress:0' <<<"$i" && grep -q '^aof_rewrite_scheduled:0' <<<"$i"
}
aof_compact() {
        local _
        for _ in $(seq 1200); do aof_idle && break; sleep 0.25; done
        # Started (a fork) or scheduled before BGREWRITEAOF answers: either
        # shows in INFO at once.
        redis-cli -p "$REDIS_PORT" BGREWRITEAOF >/dev/null || die "BGREWRITEAOF failed"
        for _ in $(seq 1200); do aof_idle && return 0; sleep 0.25; done
        die "the AOF rewrite did not finish in 300 s"
}
# start_hearthd DIR [LOG]: hearthd on DIR/hearth.yaml (hearthd_config), its
# log appended to DIR/LOG (hearthd.log); HEARTHD_PID.
start_hearthd() {
        "$HEARTHD" --config "$1/hearth.yaml" 2>>"$1/${2:-hearthd.log}" &
        HEARTHD_PID=$!
        _PIDS+=("$HEARTHD_PID")
}

# drain DIR MESSAGES: waits until hearthd (DRAIN_PIDS, or HEARTHD_PID) is
# fully drained (bdrain.c), on the Redis at REDIS_PORT or the cluster at
# CLUSTER_SEEDS; DRAINED_US, and TIMERS_DUE (households due in the timer
# index then, not waited for).
drain() {
        local timeout=$(( 300 + $2 / 200 )) p target pids=()
        for p in ${DRAIN_PIDS:-$HEARTHD_PID}; do pids+=(-P "$p"); done
        if [ -n "$CLUSTER_SEEDS" ]; then target=(-c "$CLUSTER_SEEDS"); else target=(-p "$REDIS_PORT"); fi
        "$BIN/bdrain" "${target[@]}" -g "$GROUP" -n "$2" "${pids[@]}" -t "$timeout" \
                ${VERBOSE:+-v} >"$1/drain.out" 2>>"$1/drain.err" ||
                die "hearthd did not drain: $(tail -n1 "$1/drain.err"); hearthd log: $(tail -qn3 "$1"/hearthd*.log)"
        DRAINED_US=$(kv "$1/drain.out" drained_us)
        TIMERS_DUE=$(kv "$1/drain.out" timers_due)
}

# register DIR N: registers N households in chunks, each drained.
register() {
        local d=$1 n=$2 first=0 c
        while [ "$first" -lt "$n" ]; do
                c=$((n - first < REG_CHUNK ? n - first : REG_CHUNK))
                "$BIN/bgen" reg -H "$n" -S "$first" -n "$c" -s "$SEED" -D "$START_DATE" \
                        -b "$BOOTSTRAP" -q ||
                        die "bgen reg"
                first=$((first + c))
                drain "$d" "$first"
        done
}
