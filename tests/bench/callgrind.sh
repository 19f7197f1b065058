#!/bin/bash
# `make bench-callgrind`: what hearthd's code costs per event, counted in
# instructions. CPU seconds on this shared 2-core machine move by 15-20 %
# from run to run; instructions move only with the work itself: decoding
# the events repeats to 0.1 %, the whole to about +-6 % (the order in which
# a household's events arrive from its several topics differs from run to
# run, and with it which rules fire and what their explanations cost). So
# a change is weighed over a few runs on each side, phase by phase. The
# main run's throughput step on a small load: the test broker,
# redis-server (AOF everysec) and hearthd (the normal build, the main run's
# config) under valgrind's callgrind, instrumented only from the first
# event to drained (not registration). Prints hearthd's instructions per
# event, per phase of the batch, and the functions that take the most of
# them (inclusive), and keeps the profile for callgrind_annotate.
# Environment: BENCH_CG_EVENTS (20000), BENCH_CG_HOUSEHOLDS (events / 10),
# BENCH_CG_AGED (0: counts the first events after registration; N: first
# N rounds of BENCH_CG_EVENTS uninstrumented, so the counted events meet
# households with that much history, as the latency run and the end of the
# main run do: a household costs more per event as its record grows),
# BENCH_CG_RATE (0: the counted events as fast as they can be sent; N:
# at N events/s, so that batches are as small as at that rate under
# callgrind, about 30 times slower than hearthd alone: what a batch costs
# whatever its size shows per event), BENCH_CG_TOP (30 functions),
# BENCH_CG_OUT (build/bench/callgrind.out);
# HEARTHD (./hearthd) and the rest as run.sh (BENCH_SEED, BENCH_START_DATE,
# BENCH_BATCH_MAX).
# Instructions are not time: a memset or memcpy counts one per element
# where the CPU moves 32 or 64 bytes at a time, and cache misses count
# nothing; tests/bench/README.md ("Instructions per event") says how the
# two disagreed.
CG_EVENTS=${BENCH_CG_EVENTS:-20000}
CG_HOUSEHOLDS=${BENCH_CG_HOUSEHOLDS:-$((CG_EVENTS / 10))}
# lib.sh sizes the partitions for BENCH_EVENTS; the same layout as a run
# of this size.
export BENCH_EVENTS=$CG_EVENTS BENCH_HOUSEHOLDS=$CG_HOUSEHOLDS
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_need_cmd valgrind callgrind_control callgrind_annotate
TOP=${BENCH_CG_TOP:-30}
AGED=${BENCH_CG_AGED:-0}
RATE=${BENCH_CG_RATE:-0}
CG_OUT=${BENCH_CG_OUT:-$ROOT/build/bench/callgrind.out}
case "$TOP" in '' | *[!0-9]*) die "BENCH_CG_TOP: '$TOP' is not a count" ;; esac
case "$AGED" in '' | *[!0-9]*) die "BENCH_CG_AGED: '$AGED' is not a count" ;; esac
case "$RATE" in '' | *[!0-9]*) die "BENCH_CG_RATE: '$RATE' is not a rate" ;; esac
bench_setup

d=$T/cg
mkdir -p "$d" "$(dirname "$CG_OUT")"
rm -f "$CG_OUT" "$CG_OUT".*
# hearthd under callgrind, instrumenting only from the first event
# (callgrind_control -i on): registration runs uninstrumented, faster, and
# counts nothing.
cat >"$d/hearthd-cg" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$CG_OUT" "$HEARTHD" "\$@"
EOF
chmod +x "$d/hearthd-cg"
HEARTHD=$d/hearthd-cg

start_broker "$d"
start_redis "$d"
hearthd_config "$d"
start_hearthd "$d"
register "$d" "$CG_HOUSEHOLDS"
aof_compact
# One year of feeds over all the rounds: the aged rounds are its first
# part, the counted events the next.
per_year=$(((AGED + 1) * CG_EVENTS))
for ((i = 0; i < AGED; i++)); do
        "$BIN/bgen" events -H "$CG_HOUSEHOLDS" -n "$CG_EVENTS" -S $((i * CG_EVENTS)) -y "$per_year" \
                -s "$SEED" -D "$START_DATE" -b "$BOOTSTRAP" -R "$d/ranges" >"$d/gen.out" || die "bgen events"
        drain "$d" $((CG_HOUSEHOLDS + (i + 1) * CG_EVENTS))
done
callgrind_control -i on "$HEARTHD_PID" >/dev/null || die "callgrind_control -i on"
rate=()
[ "$RATE" -gt 0 ] && rate=(-r "$RATE")
"$BIN/bgen" events -H "$CG_HOUSEHOLDS" -n "$CG_EVENTS" -S $((AGED * CG_EVENTS)) -y "$per_year" \
        -s "$SEED" -D "$START_DATE" -b "$BOOTSTRAP" -R "$d/ranges" "${rate[@]}" >"$d/gen.out" ||
        die "bgen events"
drain "$d" $((CG_HOUSEHOLDS + (AGED + 1) * CG_EVENTS))
callgrind_control -d "$HEARTHD_PID" >/dev/null || die "callgrind_control -d"
callgrind_control -i off "$HEARTHD_PID" >/dev/null
# The dump is written as CG_OUT.1 (CG_OUT itself at exit, empty).
for _ in $(seq 100); do [ -s "$CG_OUT.1" ] && break; sleep 0.2; done
[ -s "$CG_OUT.1" ] || die "no callgrind dump in $CG_OUT.1"
stop_hearthd_cg() {
        kill -TERM "$HEARTHD_PID" 2>/dev/null
        for _ in $(seq 300); do kill -0 "$HEARTHD_PID" 2>/dev/null || return 0; sleep 0.1; done
}
stop_hearthd_cg

total=$(sed -n 's/^summary: //p;s/^totals: //p' "$CG_OUT.1" | head -n1)
[ -n "$total" ] || die "no instruction total in $CG_OUT.1"
echo "hearthd under callgrind: $(fmt "$CG_EVENTS") events, $(fmt "$CG_HOUSEHOLDS") households, seed $SEED," \
        "after $AGED round(s) of as many uncounted, $([ "$RATE" -gt 0 ] && echo "at $RATE/s" || echo "unpaced")"
echo "instructions from the first event to drained: $(fmt "$total")"
echo "instructions per event: $(fmt "$(calc "$total / $CG_EVENTS")")"
# The profile annotated once each way (a large profile takes seconds):
# inclusive per function, and with each function's callers.
callgrind_annotate --inclusive=yes --auto=no "$CG_OUT.1" >"$d/incl.txt" 2>/dev/null
callgrind_annotate --inclusive=yes --tree=caller --auto=no "$CG_OUT.1" >"$d/callers.txt" 2>/dev/null
incl() {
        grep -E "%\)  .*:$1 \[" "$d/incl.txt" | head -n1 | awk '{gsub(",", "", $1); print $1}'
}
# The batches alone: the whole also counts librdkafka's threads and the
# loop's waits, which grow with the run's wall time under callgrind (tens
# of thousands of instructions per event from one run to the next).
pp=$(incl pipeline_process)
echo "  of which the batches (pipeline_process): $(fmt "$(calc "${pp:-0} / $CG_EVENTS")")"
# Batches: the calls of pipeline_process() (batch.c), one per batch.
batches=$(grep -E "< .*:pipeline_process_guarded \([0-9,]+x\)" "$d/callers.txt" | head -n1 |
        sed -E 's/.*\(([0-9,]+)x\).*/\1/; s/,//g')
[ -n "$batches" ] && echo "batches: $(fmt "$batches") ($(calc "$CG_EVENTS / $batches" 1) events each)"
# Households read and written per event: a batch reads a household once for
# all its events in the batch, so on few households (or unpaced, when a
# batch holds long runs of one partition) an event costs less than on the
# full run's 100,000, where nearly every event is a read and a commit of
# its own. Compare runs at the same figure.
calls_of() {
        awk -v f="$1" '
                /^$/ { sum = 0; next }
                / < / { if (match($0, /\(([0-9,]+)x\)/)) { c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c); sum += c } next }
                / \*  / { if (sum && (index($0, ":" f " [") || substr($0, length($0) - length(f)) == ":" f)) { print sum; done = 1; exit } sum = 0 }
                END { if (!done) print 0 }' "$d/callers.txt"
}
reads=$(calls_of record_decode_recent)
commits=$(calls_of record_encode)
echo "records read / written per event: $(calc "$reads / $CG_EVENTS" 2) / $(calc "$commits / $CG_EVENTS" 2)"
# The batch's phases (batch.c), per event: where a change moved the cost.
echo "per event, by phase of the batch (inclusive):"
for ph in "batch_decode:decoding the events" "store_read:reading the records (zstd, JSON)" \
        "supervised_step:the step (apply, rules, lifecycle)" \
        "pass_send:encoding and sending the commits" "periodic_run:timers, relay, deliveries"; do
        v=$(incl "${ph%%:*}")
        printf '  %-45s %10s\n' "${ph#*:}" "$(fmt "$(calc "${v:-0} / $CG_EVENTS")")"
done
if [ "$TOP" -gt 0 ]; then
        echo "functions (inclusive, hearthd's own and the libraries'):"
        # (One line per function and object: the lines without an object
        # repeat them, grouped by the source file of inlined code.)
        grep -E '%\)  .*\]$' "$d/incl.txt" | grep -v 'PROGRAM TOTALS' | sed -n "1,${TOP}p" |
                sed -E 's/ \[[^]]*\]$//; s#'"$ROOT"'/##'
fi
echo "profile: $CG_OUT.1 (callgrind_annotate --inclusive=yes --tree=calling $CG_OUT.1)"
_OK=1
