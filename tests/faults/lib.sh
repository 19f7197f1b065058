# Helpers of the fault matrix (tests/faults/README.md), on top of
# tests/lib.sh (temp dir $T, test broker, cleanup on exit). A row runs in
# its own bash process: it sources this file, sets up, injects its fault,
# waits for quiescence and calls verify_row, which prints one ROW line.
FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$FAULTS_DIR/../lib.sh"
FGEN=${FGEN:-$ROOT/build/faults/fgen}
FVERIFY=${FVERIFY:-$ROOT/build/faults/fverify}
CTL=${CTL:-$ROOT/hearthctl}
[ -x "$CTL" ] || CTL=$HEARTHCTL
# Keep equal to faults_medical in tests/faults/rules/faults.yaml (yuan).
FAULTS_THRESHOLD=100000
ALLOW_DUPS=0
ROW_NOTES="$T/rownotes"
: >"$ROW_NOTES"
ROW_START=$SECONDS
ALL_TOPICS="civil-affairs.events medical-insurance.events household.reports disaster.events"

say() { echo "# [$ROW $((SECONDS - ROW_START))s] $*"; }
# rfail REASON: the row fails (besides what the verifier finds).
rfail() { echo "FAIL: $*" >>"$ROW_NOTES"; say "FAIL: $*"; }
rnote() { echo "$*" >>"$ROW_NOTES"; say "$*"; }

# --- Redis: AOF everysec, DEBUG allowed from localhost, restartable ---------
# On a unix socket in $T: a restart after kill -9 always gets its address
# back (a TCP port may be taken meanwhile by a concurrent test).
REDIS_SOCK=$T/redis.sock
REDIS_URL="unix://$REDIS_SOCK"
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
fredis_start() {
        redis_spawn "$T" --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
                --enable-debug-command local --aof-load-truncated yes
        wait_for 20 rcli_ping || { rfail "redis-server did not start"; dump "$T/redis.log"; return 1; }
}
fredis_kill9() { kill -KILL "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }

# --- config --------------------------------------------------------------
# fconfig [EXTRA_YAML]: $T/hearth.yaml for this row (group faults-<row>,
# the test rules of tests/faults/rules).
fconfig() {
        GROUP="faults-$ROW"
        RULES_DIR=${RULES_DIR:-$FAULTS_DIR/rules}
        LOG_LEVEL=${LOG_LEVEL:-info} write_config "pipeline:
  batch_max: ${BATCH_MAX:-200}
${1:-}"
}

# --- hearthd instances ---------------------------------------------------
# inst_start N [VAR=VALUE...]: instance N (log $T/hearthd.N.log, notify
# messages $T/notify.N.log); its pid in IPID[N].
declare -A IPID
declare -A ISTARTS
inst_start() {
        local n=$1; shift
        if [ ! -S "$T/notify.$n.sock" ]; then
                "$NOTIFYLISTEN" "$T/notify.$n.sock" >>"$T/notify.$n.log" &
                _PIDS+=("$!")
                wait_for 5 test -S "$T/notify.$n.sock"
        fi
        echo "=== start $(date +%T.%N) $*" >>"$T/hearthd.$n.log"
        env NOTIFY_SOCKET="$T/notify.$n.sock" "$@" "$HEARTHD" --config "$T/hearth.yaml" \
                2>>"$T/hearthd.$n.log" &
        IPID[$n]=$!
        ISTARTS[$n]=$(( ${ISTARTS[$n]:-0} + 1 ))
        _PIDS+=("${IPID[$n]:-}")
}
inst_alive() { kill -0 "${IPID[$1]:-}" 2>/dev/null; }
# inst_kill N: kill -9, reaped.
inst_kill() { kill -KILL "${IPID[$1]:-}" 2>/dev/null; wait "${IPID[$1]:-}" 2>/dev/null; }
# inst_wait_exit N SECS: waits for an exit; IRC is its status ("timeout" if still running).
inst_wait_exit() {
        local end=$((SECONDS + $2))
        while inst_alive "$1" && [ $SECONDS -lt $end ]; do sleep 0.1; done
        if inst_alive "$1"; then IRC=timeout; return 1; fi
        wait "${IPID[$1]:-}" 2>/dev/null
        IRC=$?
}
# inst_stop N [SECS]: SIGTERM, waits (default 15 s); IRC, ISTOP_SECS.
inst_stop() {
        local t0=$(date +%s%N)
        kill -TERM "${IPID[$1]:-}" 2>/dev/null
        if ! inst_wait_exit "$1" "${2:-15}"; then
                kill -KILL "${IPID[$1]:-}" 2>/dev/null
                wait "${IPID[$1]:-}" 2>/dev/null
                IRC=timeout
        fi
        ISTOP_SECS=$(( ($(date +%s%N) - t0) / 1000000 ))
        ISTOP_SECS=$(awk -v m="$ISTOP_SECS" 'BEGIN { printf "%.1f", m / 1000 }')
}
inst_ready() { grep -q "READY=1" "$T/notify.$1.log" 2>/dev/null; }
# inst_ready_count N: READY=1 lines so far (one per start).
inst_ready_count() { grep -c "READY=1" "$T/notify.$1.log" 2>/dev/null || true; }
# wait_ready_n N COUNT [SECS]
wait_ready_n() { wait_for "${3:-30}" bash -c "[ \$(grep -c READY=1 '$T/notify.$1.log' 2>/dev/null) -ge $2 ]"; }

# --- load ------------------------------------------------------------------
# gen_load FGEN_ARGS...: $T/gen with the load (fgen -p HF -o $T/gen ...).
gen_load() {
        "$FGEN" -T "$FAULTS_THRESHOLD" -o "$T/gen" "$@" || { rfail "fgen $*"; return 1; }
        HOUSEHOLDS=$(awk '$1 == "households" {print $2}' "$T/gen/summary.txt")
        say "load: $(tr '\n' ' ' <"$T/gen/summary.txt")"
}
# fproduce TOPIC FILE: an idempotent producer keeps the order on retries.
# A failed kcat is retried: a re-sent message is an upstream duplicate (same
# source+id) and comes after its original, which hearthd must drop.
fproduce() {
        [ -s "$2" ] || return 0
        local i
        for i in 1 2 3 4 5; do
                kcat -b "$BOOTSTRAP" -P -t "$1" -K $'\t' -X topic.partitioner=murmur2_random \
                        -X enable.idempotence=true -X message.timeout.ms=120000 <"$2" 2>>"$T/kcat.err" && return 0
                sleep 2
        done
        return 1
}
produce_regs() { fproduce civil-affairs.events "$T/gen/registrations.txt"; }
# produce_load: every topic file of $T/gen, in parallel; then the null
# key/value messages (kcat -Z), if any.
produce_load() {
        local t pids=()
        for t in $ALL_TOPICS; do fproduce "$t" "$T/gen/$t.txt" & pids+=($!); done
        wait "${pids[@]}"
        if [ -s "$T/gen/null.txt" ]; then
                kcat -b "$BOOTSTRAP" -P -t household.reports -K $'\t' -Z \
                        -X enable.idempotence=true <"$T/gen/null.txt" 2>>"$T/kcat.err"
        fi
}
# produce_load_bg: the same in the background (PRODUCER pid).
produce_load_bg() { produce_load & PRODUCER=$!; _PIDS+=("$PRODUCER"); }

# --- figures from Redis and the broker ---------------------------------------
positions() { rcli HVALS "hearth:pos:{$GROUP}" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
# outbox: entries in every pending household's outbox.
outbox() {
        rcli EVAL "local n = 0 for s = 0, 15 do for _, h in ipairs(redis.call('SMEMBERS', 'hearth:pending:{' .. s .. '}')) do n = n + redis.call('HLEN', 'hearth:{' .. h .. '}:outbox') end end return n" 0 2>/dev/null
}
# dump_inputs: $T/inputs.tsv (topic, partition, offset, payload); INPUT_END
# is the sum of the partitions' end offsets (what the positions must reach).
dump_inputs() {
        local t
        : >"$T/inputs.tsv"
        for t in $ALL_TOPICS; do
                kcat -b "$BOOTSTRAP" -C -t "$t" -o beginning -e -q -f '%t\t%p\t%o\t%s\n' \
                        2>>"$T/kcat.err" >>"$T/inputs.tsv"
        done
        INPUT_END=$(awk -F'\t' '{k = $1 "/" $2; if ($3 + 1 > e[k]) e[k] = $3 + 1} END {for (k in e) s += e[k]; print s + 0}' "$T/inputs.tsv")
}
# wait_positions SECS [TARGET]: until the Redis positions reach TARGET
# (default INPUT_END).
wait_positions() {
        local target=${2:-$INPUT_END}
        wait_for "$1" bash -c "[ \"\$(redis-cli -s $REDIS_SOCK HVALS 'hearth:pos:{$GROUP}' 2>/dev/null | awk '{s += \$1} END {print s + 0}')\" -ge $target ]"
}
# wait_registered: the registrations are applied (hearthd must run).
wait_registered() {
        dump_inputs
        wait_positions "${1:-60}" || { rfail "registrations not applied within ${1:-60} s (positions $(positions) of $INPUT_END)"; return 1; }
}
# quiesce SECS: positions = input end offsets, outbox empty, then 3 s quiet.
quiesce() {
        local secs=${1:-120} end=$((SECONDS + ${1:-120})) last=""
        dump_inputs
        while [ $SECONDS -lt $end ]; do
                local p o
                p=$(positions); o=$(outbox)
                if [ "$p" -ge "$INPUT_END" ] && [ "${o:-1}" = 0 ]; then
                        if [ "$last" = "$p" ]; then
                                sleep 3
                                [ "$(positions)" = "$p" ] && [ "$(outbox)" = 0 ] && return 0
                        fi
                        last=$p
                fi
                sleep 0.5
        done
        rfail "no quiescence within $secs s: positions $(positions) of $INPUT_END, outbox $(outbox)"
        return 1
}

# --- verification ----------------------------------------------------------
# dump_state: $T/state.jsonl, hearthctl household --json of every household,
# one a line (no jq: it would round sums above 2^53 fen).
dump_state() {
        local h
        for h in $(cut -f1 "$T/gen/registrations.txt"); do
                "$CTL" --redis "$REDIS_URL" household "$h" --json 2>>"$T/ctl.err" | tr -d '\n'
                echo
        done >"$T/state.jsonl"
}
# ALERT_SUBJECTS=PREFIX keeps only the alerts of those households.
dump_topics() {
        kcat -b "$BOOTSTRAP" -C -t hearth.alerts -o beginning -e -q -f '%s\n' 2>>"$T/kcat.err" |
                grep -F "\"subject\":\"${ALERT_SUBJECTS:-}" >"$T/alerts.txt"
        kcat -b "$BOOTSTRAP" -C -t hearth.dlq -o beginning -e -q -f '%h\t%s\n' 2>>"$T/kcat.err" >"$T/dlq.txt"
}
sanitizer_reports() { cat "$T"/hearthd.*.log 2>/dev/null | grep -cE "Sanitizer|runtime error" || true; }

# verify_row [FVERIFY_OPTS...]: dumps, runs the verifier, prints the ROW line.
verify_row() { verify_run "$@"; verify_report; }
# verify_run [FVERIFY_OPTS...]: dumps and runs the verifier ($T/verify.out).
verify_run() {
        dump_inputs
        dump_topics
        dump_state
        # The harness's own check: the broker holds every generated message.
        local t want got
        for t in $ALL_TOPICS; do
                want=$(cat "$T/gen/$t.txt" 2>/dev/null | wc -l)
                [ "$t" = civil-affairs.events ] && want=$((want + $(wc -l <"$T/gen/registrations.txt")))
                [ "$t" = household.reports ] && want=$((want + $(wc -l <"$T/gen/null.txt")))
                got=$(awk -F'\t' -v t="$t" '$1 == t' "$T/inputs.tsv" | wc -l)
                [ "$got" -ge "$want" ] || rfail "harness: $t holds $got of $want generated messages (kcat)"
        done
        local opts=("$@")
        [ "$ALLOW_DUPS" = 1 ] && opts+=(-D)
        "$FVERIFY" -g "$T/gen" -s "$T/state.jsonl" -a "$T/alerts.txt" -q "$T/dlq.txt" \
                -i "$T/inputs.tsv" -T $((FAULTS_THRESHOLD * 100)) "${opts[@]}" >"$T/verify.out" 2>&1
        sed 's/^/# /' "$T/verify.out" | head -60
        local san
        san=$(sanitizer_reports)
        [ "$san" = 0 ] || { rfail "$san sanitizer report line(s)"; grep -hE -A5 "Sanitizer|runtime error" "$T"/hearthd.*.log | head -30 | sed 's/^/#   /'; }
}
# verify_report: the ROW line and its notes.
verify_report() {
        local res
        res=$(grep '^RESULT ' "$T/verify.out" | head -1)
        [ -n "$res" ] || { rfail "verifier failed: $(tail -1 "$T/verify.out")"; res="RESULT - - - - - - - FAIL"; }
        local f=($res)
        local pass=${f[8]}
        grep -q '^FAIL' "$ROW_NOTES" && pass=FAIL
        [ "$pass" = ok ] && pass=pass || pass=FAIL
        echo "ROW $ROW ${f[1]} ${f[2]} ${f[3]} ${f[4]} ${f[5]} ${f[6]} ${f[7]} $pass $((SECONDS - ROW_START))"
        grep -h '^NOTE ' "$T/verify.out" | head -8 | sed "s/^NOTE /NOTES $ROW /"
        # The longest turn of hearthd's loop (said at each clean stop; an
        # instance killed with -9 says nothing): no call may block it long.
        local turn
        turn=$(grep -ho 'longest loop turn [0-9]* ms' "$T"/hearthd.*.log 2>/dev/null | awk '{print $4}' | sort -n | tail -1)
        echo "NOTES $ROW longest loop turn: ${turn:-?} ms"
        sed "s/^/NOTES $ROW /" "$ROW_NOTES"
        [ "$pass" = pass ] && _FAILED=0 || _FAILED=1
        # FAULTS_KEEP=1 keeps the temp dir of every row (tests/lib.sh's cleanup).
        [ -n "${FAULTS_KEEP:-}" ] && { _FAILED=1; KEEP_TMP=1; }
        return 0
}
# skip_row REASON: the row cannot run here.
skip_row() { echo "ROW $ROW - - - - - - - skip 0"; echo "NOTES $ROW $*"; exit 0; }

# setup [BROKERS]: broker, redis, config; the common start of a row.
setup() {
        start_broker "${1:-1}" 4 || { rfail "test broker did not start"; return 1; }
        fredis_start || return 1
}
# start_and_register [N]: instance N (default 1) started, registrations applied.
start_and_register() {
        local n=${1:-1}
        produce_regs
        inst_start "$n"
        wait_ready_n "$n" 1 30 || rfail "hearthd $n not READY"
        wait_registered 60
}

# produce_stream SECS [CHUNKS]: the load spread over about SECS seconds in
# CHUNKS steps (each topic file cut by lines, order kept), in the
# background (STREAM_PID); stream_wait waits for it.
produce_stream() {
        local secs=$1 chunks=${2:-20} t
        mkdir -p "$T/stream"
        for t in $ALL_TOPICS; do
                [ -s "$T/gen/$t.txt" ] && split -n "l/$chunks" -d -a 3 "$T/gen/$t.txt" "$T/stream/$t."
        done
        (
                for i in $(seq 0 $((chunks - 1))); do
                        local pids=() n
                        # stream_pause: no producing while a broker fault is on
                        # (kcat gives up when every broker is down).
                        while [ -e "$T/stream.pause" ]; do touch "$T/stream.idle"; sleep 0.1; done
                        rm -f "$T/stream.idle"
                        n=$(printf '%03d' "$i")
                        for t in $ALL_TOPICS; do
                                [ -s "$T/stream/$t.$n" ] && { fproduce "$t" "$T/stream/$t.$n" & pids+=($!); }
                        done
                        [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
                        sleep "$(awk -v s="$secs" -v c="$chunks" 'BEGIN { printf "%.2f", s / c }')"
                done
                if [ -s "$T/gen/null.txt" ]; then
                        kcat -b "$BOOTSTRAP" -P -t household.reports -K $'\t' -Z \
                                -X enable.idempotence=true <"$T/gen/null.txt" 2>>"$T/kcat.err"
                fi
        ) &
        STREAM_PID=$!
        _PIDS+=("$STREAM_PID")
}
stream_pause() {
        touch "$T/stream.pause"
        stream_running && wait_for 30 test -e "$T/stream.idle"
}
stream_resume() { rm -f "$T/stream.pause"; }
stream_running() { kill -0 "$STREAM_PID" 2>/dev/null; }
stream_wait() { wait "$STREAM_PID" 2>/dev/null; }

# wait_progress SECS: until the positions move past their value now.
# wait_progress SECONDS [BASE]: the group's positions rise above BASE
# (default: now). Take BASE before producing the work, else work done before
# the call goes unseen.
wait_progress() {
        local p0=${2:-}
        [ -n "$p0" ] || p0=$(positions)
        wait_for "$1" bash -c "[ \"\$(redis-cli -s $REDIS_SOCK HVALS 'hearth:pos:{$GROUP}' 2>/dev/null | awk '{s += \$1} END {print s + 0}')\" -gt $p0 ]"
}
# OUTBOX_AT_KILLS: the outbox entries left at each kill, summed (the bound
# on duplicate alerts: each may have been delivered before the kill).
OUTBOX_AT_KILLS=0
note_outbox() { local o; o=$(outbox); OUTBOX_AT_KILLS=$((OUTBOX_AT_KILLS + ${o:-0})); }
# check_dups_bound: duplicates must not exceed OUTBOX_AT_KILLS.
check_dups_bound() {
        local d
        d=$(grep -o '^RESULT [0-9]* [0-9]* [0-9]* [0-9]* [0-9]* [0-9]*' "$T/verify.out" | awk '{print $7}')
        [ -n "$d" ] || return 0
        rnote "duplicate ids $d, outbox entries at the kills $OUTBOX_AT_KILLS"
        [ "$d" -le "$OUTBOX_AT_KILLS" ] || rfail "duplicates $d exceed the outbox sizes at the kills ($OUTBOX_AT_KILLS)"
}

# split_load K: the load of $T/gen cut in K parts by lines ($T/parts/<topic>.NNN),
# each topic's order kept; produce_part I produces part I of every topic.
# Rows that crash hearthd give each crashing instance a part of its own, so
# that it has work whatever the speed of the machine.
split_load() {
        local t
        mkdir -p "$T/parts"
        for t in $ALL_TOPICS; do
                [ -s "$T/gen/$t.txt" ] && split -n "l/$1" -d -a 3 "$T/gen/$t.txt" "$T/parts/$t."
        done
        NPARTS=$1
}
produce_part() {
        local n t pids=()
        n=$(printf '%03d' "$1")
        for t in $ALL_TOPICS; do
                [ -s "$T/parts/$t.$n" ] && { fproduce "$t" "$T/parts/$t.$n" & pids+=($!); }
        done
        [ ${#pids[@]} = 0 ] || wait "${pids[@]}"
}

# row_run ROW: the row's function (row_<ROW>), or a failing ROW line when
# there is none. The last line of every rows file (tests/faults, tests/cluster).
row_run() {
        local fn=row_$1
        if ! declare -F "$fn" >/dev/null; then
                echo "ROW $1 - - - - - - - FAIL 0"
                echo "NOTES $1 no such row"
                exit 1
        fi
        "$fn"
}
