#!/bin/bash
# hearth's benchmark driver (`make bench`; tests/bench/README.md says what
# each figure means and how it is measured). In one run, on this machine,
# with the test broker, a redis-server (AOF everysec, noeviction) and the
# normal ./hearthd, all local:
#   1. main run: BENCH_HOUSEHOLDS households registered, then BENCH_EVENTS
#      events (bgen: a year of feeds) produced as fast as possible; hearth's
#      throughput from the first event sent to fully drained, its CPU per
#      1,000 events and Redis memory per household;
#   2. the limits, on the same messages: bare librdkafka consumer, jansson
#      decoding on one core, redis-benchmark on the commit script;
#   3. latency: events at half that throughput for BENCH_LAT_SECONDS;
#      event-to-alert latency percentiles; hearthd's peak RSS;
#   4. scaling: fresh broker, Redis and hearthd for each household count of
#      BENCH_SCALE, BENCH_SCALE_EVENTS events each;
#   5. scale-out (tests/bench/scale.sh): 1, 2, 3 hearthd in one group on one
#      Redis and on a Redis Cluster, the same load each time;
#   6. a table, a JSON line, build/bench/bench.png (gnuplot, if installed).
# What the steps share (settings, services) is in tests/bench/lib.sh.
# Environment (defaults): BENCH_EVENTS (1000000), BENCH_HOUSEHOLDS (100000),
# BENCH_LAT_SECONDS (20; 3 below 100,000 events), BENCH_LAT_RATE (half the
# throughput), BENCH_SCALE ("H/10 H 10H"),
# BENCH_SCALE_EVENTS (min(BENCH_EVENTS, 200000); half of it below 100,000),
# BENCH_INSTANCES ("1 2 3"; none skips step 5), BENCH_INST_EVENTS
# (min(BENCH_EVENTS, 100000)), BENCH_INST_HOUSEHOLDS (min(BENCH_HOUSEHOLDS, 20000)),
# BENCH_SEED (1), BENCH_BATCH_MAX (250: hearthd's pipeline.batch_max),
# BENCH_START_DATE (first day of the year of feeds: 400 days ago),
# BENCH_OUT (build/bench/results-<events>x<households>), HEARTHD (./hearthd),
# BENCH_LAT_BARE (unset; 1: a bare consumer on the inputs during the latency
# run too), KEEP_TMP (keep the work dir), VERBOSE (progress while draining).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LAT_SECONDS=${BENCH_LAT_SECONDS:-$([ $tiny = 1 ] && echo 3 || echo 20)}
SCALE=${BENCH_SCALE:-"$((HOUSEHOLDS / 10)) $HOUSEHOLDS $((HOUSEHOLDS * 10))"}
[ "$SCALE" = none ] && SCALE=""
if [ -z "${BENCH_SCALE_EVENTS:-}" ]; then
        BENCH_SCALE_EVENTS=$((EVENTS < 200000 ? EVENTS : 200000))
        [ $tiny = 1 ] && BENCH_SCALE_EVENTS=$((EVENTS / 2))
fi
SCALE_EVENTS=$BENCH_SCALE_EVENTS

bench_need "$BIN/bconsume" "$BIN/bdecode" "$BIN/blat"
bench_need_cmd redis-benchmark kcat
bench_setup

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
used_memory() { rcli INFO memory | tr -d '\r' | sed -n 's/^used_memory://p'; }
# cores TICKS SECONDS: cores busy for a process's CPU ticks over seconds.
cores() { calc "$1 / $TCK / $2" 2; }
# `time` prints user and system seconds (bgen's CPU).
TIMEFORMAT='%U %S'

# throughput DIR HOUSEHOLDS EVENTS: registered households, then EVENTS
# produced at once; sets TP (events/s), CPU1K (hearthd CPU s per 1,000
# events), RCPU1K (redis-server's), MEMHH (Redis bytes per household),
# T_CORES_H/_R/_B/_G (cores busy: hearthd, Redis, broker, bgen), the CPU
# per event of the broker, bgen and all four, and the two bounds.
throughput() {
        local d=$1 h=$2 n=$3 c0 r0 b0 c1 r1 b1 first mem0
        start_broker "$d"
        start_redis "$d"
        mem0=$(used_memory)
        hearthd_config "$d"
        start_hearthd "$d"
        register "$d" "$h"
        aof_compact
        AOF_BEFORE=$(grep -c 'rewriting started' "$d/redis.log")
        c0=$(cpu_ticks "$HEARTHD_PID")
        r0=$(cpu_ticks "$REDIS_PID")
        b0=$(cpu_ticks "$BROKER_PID")
        { time "$BIN/bgen" events -H "$h" -n "$n" -s "$SEED" -D "$START_DATE" -b "$BOOTSTRAP" \
                -R "$d/ranges" >"$d/gen.out" 2>"$d/gen.err"; } 2>"$d/gen.time" ||
                die "bgen events: $(tail -n3 "$d/gen.err")"
        cat "$d/gen.err" >&2
        first=$(kv "$d/gen.out" first_send_us)
        drain "$d" $((h + n))
        c1=$(cpu_ticks "$HEARTHD_PID")
        r1=$(cpu_ticks "$REDIS_PID")
        b1=$(cpu_ticks "$BROKER_PID")
        TP=$(calc "$n / (($DRAINED_US - $first) / 1e6)")
        CPU1K=$(calc "($c1 - $c0) / $TCK / ($n / 1000)" 4)
        RCPU1K=$(calc "($r1 - $r0) / $TCK / ($n / 1000)" 4)
        MEM_TOTAL=$(used_memory)
        MEMHH=$(calc "($MEM_TOTAL - $mem0) / $h")
        PRODUCE_S=$(kv "$d/gen.out" flush_seconds)
        DRAIN_S=$(calc "($DRAINED_US - $first) / 1e6" 1)
        # Every process of the step, in cores busy from the first event to
        # drained, and their CPU per event summed. Two bounds on the rate
        # from them: hearthd's loop is one thread, so at its CPU per event
        # it can do at most ONE_CORE events/s (one core busy all the time;
        # its librdkafka threads add a few per cent); all four processes at
        # their CPU per event on the machine's nproc cores all busy, at most
        # CEILING events/s.
        local secs bgen_s
        secs=$(calc "($DRAINED_US - $first) / 1e6" 3)
        bgen_s=$(tail -n1 "$d/gen.time" | awk '{ print $1 + $2 }')
        T_CORES_H=$(cores $((c1 - c0)) "$secs") T_CORES_R=$(cores $((r1 - r0)) "$secs")
        T_CORES_B=$(cores $((b1 - b0)) "$secs") T_CORES_G=$(calc "$bgen_s / $secs" 2)
        BROKER_US=$(calc "($b1 - $b0) / $TCK / $n * 1e6" 1)
        BGEN_US=$(calc "$bgen_s / $n * 1e6" 1)
        ALL_US=$(calc "(($c1 - $c0 + $r1 - $r0 + $b1 - $b0) / $TCK + $bgen_s) / $n * 1e6" 1)
        CEILING=$(calc "$(nproc) * 1e6 / $ALL_US")
        ONE_CORE=$(calc "1e6 / ($CPU1K * 1000)")
        # AOF rewrites during the events (the step's own writes).
        AOF_EVENTS=$(($(grep -c 'rewriting started' "$d/redis.log") - AOF_BEFORE))
}

# =============================================================================
say "$EVENTS events, $HOUSEHOLDS households, seed $SEED; partitions:" \
        "$(for t in "${INPUTS[@]}" hearth.alerts; do printf '%s=%s ' "$t" "${PARTS[$t]}"; done)"
START_ALL=$(now_us)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
M=$T/main
mkdir -p "$M"

# --- 1. main run: throughput ---------------------------------------------------
say "main run: registering $HOUSEHOLDS households, then $EVENTS events"
throughput "$M" "$HOUSEHOLDS" "$EVENTS"
MAIN_BOOTSTRAP=$BOOTSTRAP
MAIN_REDIS_PORT=$REDIS_PORT
M_TP=$TP M_CPU1K=$CPU1K M_RCPU1K=$RCPU1K M_MEMHH=$MEMHH M_MEM=$MEM_TOTAL
M_TIMERS_DUE=$TIMERS_DUE
M_AOF_EVENTS=$AOF_EVENTS
M_CORES_H=$T_CORES_H M_CORES_R=$T_CORES_R M_CORES_B=$T_CORES_B M_CORES_G=$T_CORES_G
M_BROKER_US=$BROKER_US M_BGEN_US=$BGEN_US M_ALL_US=$ALL_US M_CEILING=$CEILING
M_ONE_CORE=$ONE_CORE
say "throughput $(fmt "$M_TP") events/s (drained in $DRAIN_S s, $M_TIMERS_DUE households due then; produced in $PRODUCE_S s)"
DUPS=$(kv "$M/gen.out" duplicates)
BAD=$(kv "$M/gen.out" malformed)
AVG=$(kv "$M/gen.out" avg_bytes)
DLQ=$(kcat -b "$BOOTSTRAP" -C -t hearth.dlq -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
OUTPUTS=$(kcat -b "$BOOTSTRAP" -C -t hearth.alerts -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
# sample N: N household ids spread over the range. Not a round stride: bgen
# makes every tenth household "hot", and a stride of 200 would pick only those.
sample() {
        awk -v h="$HOUSEHOLDS" -v n="$1" 'BEGIN { if (n > h) n = h
                for (i = 0; i < n; i++) printf "H3311%07d\n", (i * 7919) % h }'
}
# Redis memory by key kind, from a sample of households (MEMORY USAGE ...
# SAMPLES 0: exact): the household's record (record.h: document, offsets,
# dedup ids, ledger, timeline) and its outbox (only while outputs wait for
# delivery); the rest of used_memory per household is what the households
# share (the pending and due-time indexes, positions, counters) and Redis's
# own overhead (the key table, the AOF buffers).
: >"$T/memcmds"
for hh in $(sample 500); do
        for k in h outbox; do
                echo "MEMORY USAGE hearth:{$hh}:$k SAMPLES 0" >>"$T/memcmds"
        done
done
rcli <"$T/memcmds" | tr -d '\r' | awk -v OFS='=' -v total="$M_MEMHH" '
        { v = ($0 ~ /^[0-9]+$/) ? $0 : 0; s[NR % 2] += v }
        END { n = NR / 2; if (n < 1) n = 1
              print "mem_h", int(s[1] / n); print "mem_outbox", int(s[0] / n)
              print "mem_rest", int(total - s[1] / n - s[0] / n) }' >"$T/mem.kv"

# --- 2. limits on the same messages --------------------------------------------
say "limit: bare librdkafka consumer"
"$BIN/bconsume" -b "$BOOTSTRAP" -R "$M/ranges" >"$T/bconsume.out" || die "bconsume"
L_KAFKA=$(kv "$T/bconsume.out" msgs_per_s)
say "limit: jansson decoding on one core"
"$BIN/bdecode" -b "$BOOTSTRAP" -R "$M/ranges" -m "$([ $tiny = 1 ] && echo 0 || echo 5)" \
        >"$T/bdecode.out" || die "bdecode"
L_JSON=$(kv "$T/bdecode.out" msgs_per_s)

say "limit: redis-benchmark -P 32 on the commit script"
# The script is read from daemon/store.c, so it is always the one hearthd
# runs (SCRIPT EXISTS on hearthd's Redis proves it is byte for byte the
# same); tests/bench/commit.lua is the fallback copy.
awk '/static const char commit_lua\[\] =/ { f = 1; next }
     f { line = $0; sub(/^[ \t]*"/, "", line); end = (line ~ /";[ \t]*$/)
         sub(/"[;]?[ \t]*$/, "", line); gsub(/\\n/, "\n", line); gsub(/\\"/, "\"", line)
         printf "%s", line; if (end) exit }' daemon/store.c >"$T/commit.lua"
SCRIPT_SRC=daemon/store.c
if [ ! -s "$T/commit.lua" ]; then
        sed '1,2d' tests/bench/commit.lua >"$T/commit.lua"
        SCRIPT_SRC=tests/bench/commit.lua
fi
SHA=$(rcli SCRIPT LOAD "$(cat "$T/commit.lua")")
SAME=$(rcli SCRIPT EXISTS "$SHA" | tr -d '\r')
[ "$SAME" = 1 ] || say "warning: the extracted script is not hearthd's"
# Representative arguments: the record of the household with the median
# record size in a sample. redis-benchmark takes C strings, so the record's
# zero bytes become 0x01 (same length: the script never decodes it; its
# version header is rewritten as 1, what a first commit writes).
sample 200 >"$T/sample"
MED_HH=$(while read -r hh; do echo "STRLEN hearth:{$hh}:h"; done <"$T/sample" | rcli |
        paste - "$T/sample" | sort -n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
REC=$(rcli --raw GET "hearth:{$MED_HH}:h" | head -c -1 | tr '\000' '\001' | tail -c +13)
REC="000000000001$REC"
MAIN_REDIS_PID=$REDIS_PID
start_redis "$T/rb"
RB_PORT=$REDIS_PORT RB_PID=$REDIS_PID
REDIS_PORT=$MAIN_REDIS_PORT REDIS_PID=$MAIN_REDIS_PID
RB_SHA=$(redis-cli -p "$RB_PORT" SCRIPT LOAD "$(cat "$T/commit.lua")")
RB_N=$((EVENTS < 200000 ? EVENTS : 200000))
# ARGV as daemon/store.c's append_commit passes them (commit_lua's comment):
# one event's commit, no output.
K='hearth:{H__rand_int__}'
redis-benchmark -p "$RB_PORT" -P 32 -n "$RB_N" -r 1000000000 --csv \
        EVALSHA "$RB_SHA" 2 "$K:h" "$K:outbox" 0 "$REC" >"$T/rb.out" 2>"$T/rb.err" || die "redis-benchmark"
# CSV: the test name (the command, quotes and commas included), then 7 numbers.
L_REDIS=$(tail -n1 "$T/rb.out" | awk -F, '{ v = $(NF - 6); gsub(/"/, "", v); printf "%.0f", v }')
RB_OK=$(redis-cli -p "$RB_PORT" DBSIZE)
DOC_LEN=${#REC}

# The reference that does not depend on hearth's design: the per-event
# script a straightforward consumer would run, on the same Redis settings,
# over as many households: add the event id to the household's dedup set
# (with an expiry), three HINCRBY on its 20-field hash, HGETALL of it.
say "limit: redis-benchmark -P 32 on a naive per-event script (the reference)"
redis-cli -p "$RB_PORT" FLUSHALL >/dev/null
cat >"$T/naive.lua" <<'LUA'
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return false end
redis.call('PEXPIRE', KEYS[1], 7776000000)
redis.call('HINCRBY', KEYS[2], 'events', 1)
redis.call('HINCRBY', KEYS[2], 'medical_fen', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'month_fen', ARGV[2])
return redis.call('HGETALL', KEYS[2])
LUA
# Every household's hash holds 20 fields before the run.
redis-cli -p "$RB_PORT" EVAL "for i = 0, tonumber(ARGV[1]) - 1 do
        local k = 'ref:{H' .. string.format('%012d', i) .. '}:h'
        for f = 1, 17 do redis.call('HSET', k, 'field' .. f, 1000 * f) end
        redis.call('HSET', k, 'events', 0, 'medical_fen', 0, 'month_fen', 0)
end return 1" 0 "$HOUSEHOLDS" >/dev/null
NAIVE_SHA=$(redis-cli -p "$RB_PORT" SCRIPT LOAD "$(cat "$T/naive.lua")")
redis-benchmark -p "$RB_PORT" -P 32 -n "$RB_N" -r "$HOUSEHOLDS" --csv \
        EVALSHA "$NAIVE_SHA" 2 'ref:{H__rand_int__}:seen' 'ref:{H__rand_int__}:h' \
        'yb-__rand_int__' 12345 >"$T/ref.out" 2>"$T/ref.err" || die "redis-benchmark (reference)"
L_REF=$(tail -n1 "$T/ref.out" | awk -F, '{ v = $(NF - 6); gsub(/"/, "", v); printf "%.0f", v }')
stop_pid "$RB_PID"

# --- 3. latency at half the throughput -------------------------------------------
# BENCH_LAT_RATE overrides the rate (events/s), e.g. to find where the tail
# stays flat on a machine whose cores the harness itself fills.
RATE=${BENCH_LAT_RATE:-$(calc "$M_TP / 2")}
LAT_N=$((RATE * LAT_SECONDS))

# The test broker (librdkafka's mock cluster) finds a fetch's position by
# walking the partition's message sets from the oldest (rdkafka_mock.c,
# rd_kafka_mock_msgset_find: "FIXME: Maintain an index"), and returns one
# message set per partition per Fetch. A producer that lingers 5 ms over 64
# partitions at a few thousand events/s writes about one message per set,
# so every consumed message costs a walk over everything produced to that
# partition before it: the broker's CPU grows with the length of the run
# and of the topic (a real broker looks offsets up in an index). The floor
# and hearth therefore run for the same time, each on fresh topics, and only
# one consumer reads each topic; BENCH_LAT_BARE=1 adds the bare consumer on
# hearth's input topics during its run (another walk per message). Fresh
# means the alerts topic too: blat reads alerts from the end, but on the
# main run's hearth.alerts (over 100,000 alerts) each of its fetches walked
# them all, 0.15 of a core of the broker at 5,600 events/s (0.61 -> 0.46).
FLOOR_N=$LAT_N
# 3a. The floor: the broker alone at the same rate, with bgen's and blat's
# client settings (a paced producer lingering 5 ms, a consumer fetching with
# fetch.wait.max.ms 10 from the end), on topics of their own (floor.<input>,
# the same partitions) that hearthd does not read, so hearthd and Redis sit
# idle: what the test broker and the clients cost, not the machine's load.
say "latency floor: $(fmt "$FLOOR_N") events at $(fmt "$RATE")/s to the broker alone"
create_topics "$M" floor. "${INPUTS[@]}" hearth.alerts
floor_in=()
for t in "${INPUTS[@]}"; do floor_in+=(-i "floor.$t"); done
rm -f "$T/blat.ready"
"$BIN/blat" -b "$MAIN_BOOTSTRAP" -t floor.hearth.alerts -L "$T/sendlog.floor" -o "$T/floor" -r "$T/blat.ready" \
        "${floor_in[@]}" >"$T/blat.floor.out" 2>"$T/blat.floor.err" &
BLAT_PID=$!
_PIDS+=("$BLAT_PID")
for _ in $(seq 300); do [ -e "$T/blat.ready" ] && break; sleep 0.05; done
[ -e "$T/blat.ready" ] || die "blat did not start: $(cat "$T/blat.floor.err")"
b0=$(cpu_ticks "$BROKER_PID")
t0=$(now_us)
{ time "$BIN/bgen" events -H "$HOUSEHOLDS" -S "$EVENTS" -n "$FLOOR_N" -y "$EVENTS" -s "$SEED" \
        -D "$START_DATE" -r "$RATE" -L "$T/sendlog.floor" -T floor. -b "$MAIN_BOOTSTRAP" \
        >"$T/gen.floor" 2>"$T/gen.floor.err"; } 2>"$T/gen.floor.time" || die "bgen (floor): $(cat "$T/gen.floor.err")"
sleep 1
F_SECS=$(calc "($(now_us) - $t0) / 1e6" 3)
F_BROKER_CORES=$(cores $(($(cpu_ticks "$BROKER_PID") - b0)) "$F_SECS")
F_CLIENTS_CORES=$(calc "($(awk '{ print $1 + $2 }' "$T/gen.floor.time") + $(cpu_ticks "$BLAT_PID") / $TCK) / $F_SECS" 2)
kill -TERM "$BLAT_PID"
wait "$BLAT_PID" || die "blat (floor): $(cat "$T/blat.floor.err")"
forget "$BLAT_PID"

# 3b. hearth at that rate, on fresh input topics (lat.<input>, the same
# partitions), for the reason above: hearthd restarts on them with the
# households' state of the main run in Redis (a year of history each).
say "latency: $(fmt "$LAT_N") events at $(fmt "$RATE")/s"
MAIN_RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$HEARTHD_PID/status")
stop_pid "$HEARTHD_PID"
create_topics "$M" lat. "${INPUTS[@]}" hearth.alerts
hearthd_config "$M" lat.
assigned=$(grep -c 'kafka: assigned' "$M/hearthd.log")
start_hearthd "$M"
wait_for 60 bash -c "[ \$(grep -c 'kafka: assigned' '$M/hearthd.log') -gt $assigned ]" ||
        die "hearthd did not join the group again: $(tail -n3 "$M/hearthd.log")"
lat_in=()
if [ -n "${BENCH_LAT_BARE:-}" ]; then
        for t in "${INPUTS[@]}"; do lat_in+=(-i "lat.$t"); done
fi
rm -f "$T/blat.ready"
"$BIN/blat" -b "$MAIN_BOOTSTRAP" -t lat.hearth.alerts -L "$T/sendlog" -o "$T/latency" -r "$T/blat.ready" \
        "${lat_in[@]}" >"$T/blat.out" 2>"$T/blat.err" &
BLAT_PID=$!
_PIDS+=("$BLAT_PID")
for _ in $(seq 300); do [ -e "$T/blat.ready" ] && break; sleep 0.05; done
[ -e "$T/blat.ready" ] || die "blat did not start: $(cat "$T/blat.err")"
c0=$(cpu_ticks "$HEARTHD_PID")
r0=$(cpu_ticks "$REDIS_PID")
b0=$(cpu_ticks "$BROKER_PID")
t0=$(now_us)
aof0=$(grep -c 'rewriting started' "$M/redis.log")
{ time "$BIN/bgen" events -H "$HOUSEHOLDS" -S "$EVENTS" -n "$LAT_N" -y "$EVENTS" -s "$SEED" \
        -D "$START_DATE" -r "$RATE" -L "$T/sendlog" -T lat. -b "$MAIN_BOOTSTRAP" \
        >"$T/gen.lat" 2>"$T/gen.lat.err"; } 2>"$T/gen.lat.time" || die "bgen (latency): $(cat "$T/gen.lat.err")"
drain "$M" $((HOUSEHOLDS + EVENTS + LAT_N))
L_SECS=$(calc "($(now_us) - $t0) / 1e6" 3)
LAT_CPU1K=$(calc "($(cpu_ticks "$HEARTHD_PID") - $c0) / $TCK / ($LAT_N / 1000)" 4)
L_HEARTHD_CORES=$(cores $(($(cpu_ticks "$HEARTHD_PID") - c0)) "$L_SECS")
L_REDIS_CORES=$(cores $(($(cpu_ticks "$REDIS_PID") - r0)) "$L_SECS")
L_BROKER_CORES=$(cores $(($(cpu_ticks "$BROKER_PID") - b0)) "$L_SECS")
L_CLIENTS_CORES=$(calc "($(awk '{ print $1 + $2 }' "$T/gen.lat.time") + $(cpu_ticks "$BLAT_PID") / $TCK) / $L_SECS" 2)
# How long hearthd took to drain after the last event: near zero when it
# kept up with the rate.
LAT_TAIL=$(calc "($DRAINED_US - $(kv "$T/gen.lat" last_send_us)) / 1e6" 2)
LAT_AOF=$(( $(grep -c 'rewriting started' "$M/redis.log") - aof0 ))
# When each of them started, in seconds from the latency run's first event
# (redis.log's "DD Mon YYYY HH:MM:SS.mmm"), to read beside its latency over time.
LAT_AOF_AT=$(grep 'rewriting started' "$M/redis.log" | tail -n +$((aof0 + 1)) |
        while read -r _ d mon y hms _; do
                at=$(date -d "$d $mon $y $hms" +%s%6N 2>/dev/null) &&
                        printf '%s s, ' "$(calc "($at - $t0) / 1e6" 1)"
        done)
MAIN_AOF=$aof0
kill -TERM "$BLAT_PID"
wait "$BLAT_PID" || die "blat: $(cat "$T/blat.err")"
forget "$BLAT_PID"
RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$HEARTHD_PID/status")
# The peak of either hearthd (the main run's, the latency run's).
[ "${MAIN_RSS_KB:-0}" -gt "${RSS_KB:-0}" ] && RSS_KB=$MAIN_RSS_KB
stop_pid "$HEARTHD_PID"
# The main run's hearthd, then the latency run's.
STOPPED=$(grep -o 'hearthd stopped: .*' "$M/hearthd.log" | tail -n2 | paste -sd'|' | sed 's/|/; then /')
stop_pid "$REDIS_PID"
stop_pid "$BROKER_PID"
exec 7>&-
cp "$T/latency.cdf" "$OUT/latency.cdf"
cp "$T/floor.cdf" "$OUT/floor.cdf"
sort -n "$T/latency.points" >"$OUT/latency.points"

# --- 4. scaling with the number of households -------------------------------------
: >"$OUT/scale.dat"
echo "# households events events_per_s hearthd_cpu_s_per_1000 redis_bytes_per_household redis_cpu_s_per_1000 hearthd_cores_busy commits_per_event" \
        >>"$OUT/scale.dat"
SCALE_JSON=""
SCALE_AOF=""
for h in $SCALE; do
        say "scaling: $(fmt "$h") households, $(fmt "$SCALE_EVENTS") events"
        d=$T/scale-$h
        throughput "$d" "$h" "$SCALE_EVENTS"
        stop_pid "$HEARTHD_PID"
        # Households committed per event: a batch commits a household once
        # for all its events in it, so with fewer households an event costs
        # hearthd and Redis less (hearthd's stop line counts the commits;
        # the registrations took one each).
        commits=$(grep -o '[0-9]* households committed' "$d/hearthd.log" | tail -n1 | cut -d' ' -f1)
        CPE=null
        [ -n "$commits" ] && CPE=$(calc "($commits - $h) / $SCALE_EVENTS" 2)
        stop_pid "$REDIS_PID"
        stop_pid "$BROKER_PID"
        exec 7>&-
        echo "$h $SCALE_EVENTS $TP $CPU1K $MEMHH $RCPU1K $T_CORES_H $CPE" >>"$OUT/scale.dat"
        SCALE_JSON+="${SCALE_JSON:+,}{\"households\":$h,\"events\":$SCALE_EVENTS,\"events_per_s\":$TP,\"cpu_s_per_1000\":$CPU1K,\"redis_bytes_per_household\":$MEMHH,\"redis_cpu_s_per_1000\":$RCPU1K,\"hearthd_cores_busy\":$T_CORES_H,\"commits_per_event\":$CPE}"
        say "  $(fmt "$TP") events/s ($(fmt "$TIMERS_DUE") households due in the timer index when drained, $AOF_EVENTS AOF rewrites during the events)"
        SCALE_AOF+="${SCALE_AOF:+, }$(fmt "$h") households: $AOF_EVENTS"
done

# --- 5. scale-out: instances on one Redis and on a cluster -----------------------
# tests/bench/scale.sh, a process of its own with the same settings; it
# writes scale_out.dat and scale_out.txt (its table) into OUT. When it fails
# the report still comes, with the rows it finished, and the run fails.
SCALE_OUT_RC=0
if [ -z "$INSTANCES" ] || [ -z "$SCALE_REDIS" ]; then
        echo "# redis instances events households events_per_s hearthd_us_per_event redis_us_per_event drain_s" \
                >"$OUT/scale_out.dat"
        : >"$OUT/scale_out.txt"
        : >"$OUT/scale_out.notes"
else
        BENCH_START_DATE=$START_DATE BENCH_OUT=$OUT BENCH_WORK=$T/scale-out \
                "$ROOT/tests/bench/scale.sh" >"$T/scale_out.log"
        SCALE_OUT_RC=$?
        [ "$SCALE_OUT_RC" = 0 ] || say "scale-out step failed (exit $SCALE_OUT_RC); the report has the rows it finished"
fi
TOTAL_S=$(calc "($(now_us) - $START_ALL) / 1e6")

# --- 6. report ---------------------------------------------------------------------
L() { kv "$T/blat.out" "$1"; }
F() { kv "$T/blat.floor.out" "$1"; }
ratio() { if [ "${2:-0}" = 0 ]; then echo n/a; else calc "100 * $1 / $2" 1; fi; }
{
        echo "hearth benchmark: $(fmt "$EVENTS") events (avg $AVG bytes, $(fmt "$DUPS") duplicates, $(fmt "$BAD") malformed -> $(fmt "$DLQ") dead letters; $(fmt "$OUTPUTS") outputs), $(fmt "$HOUSEHOLDS") households, seed $SEED"
        echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); test broker (librdkafka $(pkg-config --modversion rdkafka 2>/dev/null) mock), $(redis-server --version | awk '{ print $3 }' | tr -d v=) AOF everysec; pipeline.batch_max $BATCH_MAX; run took $TOTAL_S s"
        echo
        printf '%-52s %16s\n' "hearth" ""
        printf '%-52s %16s\n' "throughput, first event to drained (events/s)" "$(fmt "$M_TP")"
        printf '%-52s %16s\n' "  households due in the timer index when drained" "$(fmt "$M_TIMERS_DUE")"
        printf '%-52s %16s\n' "latency at $(fmt "$RATE") events/s ($(L matched) alerts):" ""
        printf '%-52s %16s\n' "  event sent -> alert received, p50 (ms)" "$(L received_p50_ms)"
        printf '%-52s %16s\n' "  event sent -> alert received, p99 (ms)" "$(L received_p99_ms)"
        printf '%-52s %16s\n' "  event sent -> alert received, p99.9 (ms)" "$(L received_p999_ms)"
        printf '%-52s %16s\n' "  event sent -> alert CreateTime, p50/p99/p99.9 (ms)" "$(L created_p50_ms)/$(L created_p99_ms)/$(L created_p999_ms)"
        printf '%-52s %16s\n' "  drained after the last event (s)" "$LAT_TAIL"
        printf '%-52s %16s\n' "hearthd peak RSS (VmHWM, MiB)" "$(calc "$RSS_KB / 1024" 1)"
        printf '%-52s %16s\n' "hearthd CPU per 1,000 events, full speed (s)" "$M_CPU1K"
        printf '%-52s %16s\n' "hearthd CPU per 1,000 events, at half speed (s)" "$LAT_CPU1K"
        printf '%-52s %16s\n' "redis-server CPU per 1,000 events (s)" "$M_RCPU1K"
        printf '%-52s %16s\n' "Redis used_memory per household (bytes)" "$(fmt "$M_MEMHH")"
        printf '%-52s %16s\n' "  of which record/outbox/shared+overhead" "$(kv "$T/mem.kv" mem_h)/$(kv "$T/mem.kv" mem_outbox)/$(kv "$T/mem.kv" mem_rest)"
        printf '%-52s %16s\n' "CPU per event, hearthd / redis-server (us)" "$(calc "$M_CPU1K * 1000" 1) / $(calc "$M_RCPU1K * 1000" 1)"
        printf '%-52s %16s\n' "  test broker / bgen (us)" "$M_BROKER_US / $M_BGEN_US"
        printf '%-52s %16s\n' "  all four processes (us)" "$M_ALL_US"
        printf '%-52s %16s\n' "cores busy, main run: hearthd / redis / broker / bgen" "$M_CORES_H / $M_CORES_R / $M_CORES_B / $M_CORES_G"
        printf '%-52s %16s\n' "  bound: hearthd's CPU per event, one core all busy" "$(fmt "$M_ONE_CORE")"
        printf '%-52s %16s\n' "  bound: all four's CPU per event, $(nproc) cores all busy" "$(fmt "$M_CEILING")"
        echo
        printf '%-52s %16s %12s\n' "limits (same messages)" "msgs/s" "hearth/limit"
        printf '%-52s %16s %11s%%\n' "bare librdkafka consumer, test broker" "$(fmt "$L_KAFKA")" "$(ratio "$M_TP" "$L_KAFKA")"
        printf '%-52s %16s %11s%%\n' "jansson json_loadb, one core" "$(fmt "$L_JSON")" "$(ratio "$M_TP" "$L_JSON")"
        printf '%-52s %16s %11s%%\n' "reference: naive per-event script, -P 32 (calls/s)" "$(fmt "$L_REF")" "$(ratio "$M_TP" "$L_REF")"
        printf '%-52s %16s %11s%%\n' "redis-benchmark -P 32, commit script (calls/s)" "$(fmt "$L_REDIS")" "$(ratio "$M_TP" "$L_REDIS")"
        printf '%-52s %16s %12s\n' "latency floor: event sent -> bare consumer (blat)" "ms" "hearth/floor"
        printf '%-52s %16s %12s\n' "  broker alone, $(fmt "$(F kafka_events)") events at $(fmt "$RATE")/s, p50/p99/p99.9" "$(F kafka_p50_ms) / $(F kafka_p99_ms) / $(F kafka_p999_ms)" "$(calc "$(L received_p50_ms) / ($(F kafka_p50_ms) + 0.001)" 1)x p50"
        printf '%-52s %16s\n' "  hearth's p99 - the floor's p99 (target <= 20 ms)" "$(calc "$(L received_p99_ms) - $(F kafka_p99_ms)" 2)"
        [ -n "${BENCH_LAT_BARE:-}" ] &&
                printf '%-52s %16s\n' "  during the latency run, $(fmt "$(L kafka_events)") input events" "$(L kafka_p50_ms) / $(L kafka_p99_ms) / $(L kafka_p999_ms)"
        printf '%-52s %16s\n' "cores busy, floor: test broker / bgen+blat" "$F_BROKER_CORES / $F_CLIENTS_CORES"
        printf '%-52s %16s\n' "cores busy, latency run: hearthd / redis / broker / bgen+blat" "$L_HEARTHD_CORES / $L_REDIS_CORES / $L_BROKER_CORES / $L_CLIENTS_CORES"
        echo
        printf '%-52s %16s %12s\n' "scaling ($(fmt "$SCALE_EVENTS") events each)" "events/s" "CPU s/1000"
        printf '%-52s %16s %12s\n' "" "" "hearthd/redis; hearthd cores busy; commits per event"
        while read -r h n tp c m rc hc cpe; do
                [ "$h" = "#" ] && continue
                printf '%-52s %16s %12s\n' "$(fmt "$h") households ($(fmt "$m") Redis bytes each)" "$(fmt "$tp")" "$c/$rc; $hc; $cpe"
        done <"$OUT/scale.dat"
        if [ -s "$OUT/scale_out.txt" ]; then
                echo
                echo "scale-out: hearthd instances in one group; CPU per event summed over the processes"
                cat "$OUT/scale_out.txt"
        fi
} >"$OUT/results.txt"
JSON="{\"events\":$EVENTS,\"households\":$HOUSEHOLDS,\"seed\":$SEED,\"avg_event_bytes\":$AVG,\"duplicates\":$DUPS,\"malformed\":$BAD,\"dead_letters\":$DLQ,\"outputs\":$OUTPUTS,\"batch_max\":$BATCH_MAX"
JSON+=",\"throughput_events_per_s\":$M_TP,\"timers_due_when_drained\":$M_TIMERS_DUE,\"latency_rate_events_per_s\":$RATE,\"latency_alerts\":$(L matched),\"latency_unmatched\":$(L unmatched)"
JSON+=",\"latency_received_ms\":{\"p50\":$(L received_p50_ms),\"p90\":$(L received_p90_ms),\"p99\":$(L received_p99_ms),\"p999\":$(L received_p999_ms),\"max\":$(L received_max_ms)}"
JSON+=",\"latency_created_ms\":{\"p50\":$(L created_p50_ms),\"p90\":$(L created_p90_ms),\"p99\":$(L created_p99_ms),\"p999\":$(L created_p999_ms),\"max\":$(L created_max_ms)}"
JSON+=",\"latency_drain_after_last_s\":$LAT_TAIL,\"hearthd_peak_rss_kb\":$RSS_KB,\"hearthd_cpu_s_per_1000\":$M_CPU1K,\"hearthd_cpu_s_per_1000_half_speed\":$LAT_CPU1K,\"redis_cpu_s_per_1000\":$M_RCPU1K"
JSON+=",\"redis_used_memory\":$M_MEM,\"redis_bytes_per_household\":$M_MEMHH"
JSON+=",\"redis_bytes_per_household_by_key\":{\"record\":$(kv "$T/mem.kv" mem_h),\"outbox\":$(kv "$T/mem.kv" mem_outbox),\"shared_and_overhead\":$(kv "$T/mem.kv" mem_rest)}"
JSON+=",\"cpu_us_per_event\":{\"hearthd\":$(calc "$M_CPU1K * 1000" 1),\"redis_server\":$(calc "$M_RCPU1K * 1000" 1),\"broker\":$M_BROKER_US,\"bgen\":$M_BGEN_US,\"all\":$M_ALL_US}"
JSON+=",\"cores_busy\":{\"hearthd\":$M_CORES_H,\"redis_server\":$M_CORES_R,\"broker\":$M_CORES_B,\"bgen\":$M_CORES_G}"
JSON+=",\"bounds_events_per_s\":{\"hearthd_one_core\":$M_ONE_CORE,\"all_processes_all_cores\":$M_CEILING}"
JSON+=",\"limits\":{\"kafka_consumer_msgs_per_s\":$L_KAFKA,\"json_decode_msgs_per_s\":$L_JSON,\"redis_commit_calls_per_s\":$L_REDIS,\"reference_calls_per_s\":$L_REF"
JSON+=",\"kafka_latency_ms\":{\"p50\":$(F kafka_p50_ms),\"p90\":$(F kafka_p90_ms),\"p99\":$(F kafka_p99_ms),\"p999\":$(F kafka_p999_ms),\"max\":$(F kafka_max_ms)}"
[ -n "${BENCH_LAT_BARE:-}" ] &&
        JSON+=",\"kafka_latency_during_run_ms\":{\"p50\":$(L kafka_p50_ms),\"p90\":$(L kafka_p90_ms),\"p99\":$(L kafka_p99_ms),\"p999\":$(L kafka_p999_ms),\"max\":$(L kafka_max_ms)}"
JSON+="}"
JSON+=",\"latency_cores\":{\"floor\":{\"broker\":$F_BROKER_CORES,\"clients\":$F_CLIENTS_CORES},\"run\":{\"hearthd\":$L_HEARTHD_CORES,\"redis_server\":$L_REDIS_CORES,\"broker\":$L_BROKER_CORES,\"clients\":$L_CLIENTS_CORES}}"
q() { if [ "${2:-0}" = 0 ]; then echo null; else calc "$1 / $2" 4; fi; }
JSON+=",\"ratios\":{\"kafka\":$(q "$M_TP" "$L_KAFKA"),\"json\":$(q "$M_TP" "$L_JSON"),\"redis\":$(q "$M_TP" "$L_REDIS"),\"reference\":$(q "$M_TP" "$L_REF")}"
SCALE_OUT_JSON=$(awk '!/^#/ && NF >= 8 { printf "%s{\"redis\":\"%s\",\"instances\":%s,\"events\":%s,\"households\":%s,\"events_per_s\":%s,\"hearthd_us\":%s,\"redis_us\":%s,\"drain_s\":%s}", sep, $1, $2, $3, $4, $5, $6, $7, $8; sep = "," }' "$OUT/scale_out.dat")
JSON+=",\"scale\":[$SCALE_JSON],\"scale_out\":[$SCALE_OUT_JSON],\"seconds\":$TOTAL_S}"
echo "$JSON" >"$OUT/results.json"
{
        echo "script: from $SCRIPT_SRC, sha $SHA, $([ "$SAME" = 1 ] && echo "identical to hearthd's" || echo "NOT hearthd's"); record of $MED_HH, $DOC_LEN bytes; $(fmt "$RB_N") calls, $RB_OK keys written"
        echo "reference: $(fmt "$RB_N") calls of the naive script over $(fmt "$HOUSEHOLDS") households (tests/bench/README.md)"
        echo "hearthd: $STOPPED"
        echo "load average (1/5/15 min) at start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "redis: $MAIN_AOF AOF rewrites during registration and the throughput run ($M_AOF_EVENTS of them during its events, after the one that compacted the AOF once registered), $LAT_AOF during the latency run${LAT_AOF_AT:+ (started at ${LAT_AOF_AT%, })}; events dated from $START_DATE"
        echo "redis: AOF rewrites during the events of each scaling step: ${SCALE_AOF:-none}"
        echo "blat: $(tr '\n' ' ' <"$T/blat.out" | cut -c1-200)"
        sed 's/^/scale-out: /' "$OUT/scale_out.notes"
} >"$OUT/notes.txt"

cat "$OUT/results.txt"
echo
cat "$OUT/notes.txt"
echo "$JSON"

# --- the plot ----------------------------------------------------------------------
# Three panels: the latency distribution, latency over the latency run, and
# throughput against households (when the scaling runs ran).
if command -v gnuplot >/dev/null; then
        n_scale=$(grep -vc '^#' "$OUT/scale.dat")
        panels=2
        [ "$n_scale" -gt 0 ] && panels=3
        bare_plot=""
        [ -n "${BENCH_LAT_BARE:-}" ] &&
                bare_plot='     "'$OUT'/latency.cdf" using 4:1 with lines lw 2 dt 3 title "event sent -> bare consumer, during the run", \'$'\n'
        cat >"$T/plot.gp" <<GP
set terminal pngcairo size $((600 * panels)),560 font ",10" noenhanced
set output "$OUT/bench.png"
set multiplot layout 1,$panels title "hearth: $(fmt "$EVENTS") events, $(fmt "$HOUSEHOLDS") households, $(nproc) cores"
set grid
set title "event-to-alert latency at $(fmt "$RATE") events/s ($(L matched) alerts)"
set xlabel "latency (ms)"
set ylabel "fraction of alerts at or below"
set logscale x
set key bottom right
set yrange [0:1]
plot "$OUT/latency.cdf" using 2:1 with lines lw 2 title "sent -> received: p50 $(L received_p50_ms), p99 $(L received_p99_ms), p99.9 $(L received_p999_ms) ms", \
     "$OUT/latency.cdf" using 3:1 with lines lw 2 title "sent -> alert CreateTime", \\
$bare_plot     "$OUT/floor.cdf" using 4:1 with lines lw 2 dt 2 title "floor: event sent -> bare consumer, broker alone"
set title "latency over the latency run"
set xlabel "seconds since its first event"
set ylabel "sent -> received (ms)"
set logscale y
unset logscale x
set autoscale
set key top left
plot "$OUT/latency.points" using 1:2 with points pt 7 ps 0.3 title "one alert"
GP
        if [ "$n_scale" -gt 0 ]; then
                cat >>"$T/plot.gp" <<GP
unset logscale
set title "throughput against households ($(fmt "$SCALE_EVENTS") events each)"
set xlabel "households"
set ylabel "events/s"
set logscale x
set format x "%.0s%c"
set autoscale
set yrange [0:*]
set offsets graph 0.1, graph 0.1, graph 0.15, 0
set key bottom left
plot "$OUT/scale.dat" using 1:3 with linespoints lw 2 pt 7 title "events/s, first event to drained", \
     "$OUT/scale.dat" using 1:3:(sprintf("%.0f", \$3)) with labels offset 0,1 notitle
GP
        fi
        echo "unset multiplot" >>"$T/plot.gp"
        gnuplot "$T/plot.gp" 2>"$T/gnuplot.err" || say "gnuplot failed: $(cat "$T/gnuplot.err")"
        [ -s "$OUT/bench.png" ] && echo "plot: $OUT/bench.png"
else
        echo "plot: skipped, gnuplot is not installed (apt-get install gnuplot-nox)"
fi
echo "results: $OUT/results.txt, $OUT/results.json"
[ "$SCALE_OUT_RC" = 0 ] || die "the scale-out step (tests/bench/scale.sh): see $T/scale-out"
_OK=1
