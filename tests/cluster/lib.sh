# Helpers of the cluster rows (tests/cluster/rows.sh): a Redis Cluster of 3
# masters and 3 replicas on loopback TCP, and what the fault harness
# (tests/faults/lib.sh, sourced first) needs to run hearthd against it.
#
#   cluster_start / cluster_stop        6 nodes, `redis-cli --cluster create`,
#                                       stopped on EXIT in any case
#   cluster_wait_ok SECS [REPLICAS]     cluster_state:ok everywhere, 3 masters,
#                                       each with REPLICAS online replicas
#   cluster_kill_master [SLOT]          kill -9 the slot's master (default:
#                                       the master with most keys), waits for
#                                       its replica's promotion
#   cluster_restart_node PORT           the killed node back, as a replica
#   cluster_reshard_bg FROM TO N        N slots moved in the background
#   cluster_reshard_wait [SECS]           (redis-cli --cluster reshard)
#   cluster_move_slot SLOT TO           one given slot moved (SETSLOT, MIGRATE)
#   cluster_bench_bg / cluster_bench_stop   redis-benchmark --cluster writes
#   cluster_copy_keys PATTERN PORT      every matching key of every master
#                                       copied into a standalone Redis
#   cconfig [EXTRA_YAML]                fconfig with redis.cluster
#   use_cluster                         the faults helpers that read Redis
#                                       (rcli, positions, outbox, waits,
#                                       dump_state) read the cluster instead
#
# Nodes are identified by port. Node P lives in $T/cluster/P (data in
# $T/cluster/P/redis, log $T/cluster/P/redis.log, pid file, nodes.conf).
# CLUSTER_PORT is the first port (default 7101: nodes 7101..7106, cluster
# bus 17101..17106); when it is not set and a port is taken, the next free
# block of ten is used (7111, 7121, ...).
CLUSTER_N=6
CLUSTER_NODE_TIMEOUT=${CLUSTER_NODE_TIMEOUT:-2000}
declare -A CPID
CDIR=$T/cluster
mkdir -p "$CDIR"

cluster_ports() { seq "$CLUSTER_PORT" $((CLUSTER_PORT + CLUSTER_N - 1)); }
# cluster_seeds: "127.0.0.1:P1,...,127.0.0.1:P6" (redis.cluster)
cluster_seeds() { cluster_ports | sed 's/^/127.0.0.1:/' | paste -sd, -; }
# ccli PORT ARGS...: redis-cli on one node, no redirections followed.
ccli() { local p=$1; shift; redis-cli -h 127.0.0.1 -p "$p" "$@"; }
cnode_alive() { [ -n "${CPID[$1]:-}" ] && kill -0 "${CPID[$1]}" 2>/dev/null; }
# cluster_live_port: a node that runs (the first), for commands that follow
# redirections.
cluster_live_port() {
        local p
        for p in $(cluster_ports); do cnode_alive "$p" && { echo "$p"; return 0; }; done
        return 1
}
_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_block_free() {
        local p
        for p in $(seq "$1" $(($1 + CLUSTER_N - 1))); do
                _port_busy "$p" && return 1
                _port_busy $((p + 10000)) && return 1
        done
        return 0
}
# cluster_pick_ports: CLUSTER_PORT as given, or the first free block.
cluster_pick_ports() {
        if [ -n "${CLUSTER_PORT:-}" ]; then
                _block_free "$CLUSTER_PORT" || { rfail "cluster: a port of $CLUSTER_PORT..$((CLUSTER_PORT + 5)) (or +10000) is taken"; return 1; }
                return 0
        fi
        local b
        for b in $(seq 7101 10 7991); do
                _block_free "$b" && { CLUSTER_PORT=$b; return 0; }
        done
        rfail "cluster: no free block of ports in 7101..7996"
        return 1
}

# cnode_spawn PORT: the node in the background (as every harness runs Redis:
# AOF everysec, no RDB snapshots, noeviction: tests/harness.sh), its pid in
# CPID[PORT]. A restart finds its nodes.conf and AOF again.
cnode_spawn() {
        local p=$1 d=$CDIR/$1 keep=${REDIS_PID:-}
        mkdir -p "$d"
        echo "=== start $(date +%T.%N)" >>"$d/redis.log"
        redis_spawn "$d" --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
                --cluster-config-file nodes.conf --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT" \
                --pidfile "$d/redis.pid" --repl-diskless-sync-delay 0 \
                --enable-debug-command local
        CPID[$p]=$REDIS_PID
        REDIS_PID=$keep
}
# cnode_kill9 PORT: kill -9, reaped.
cnode_kill9() {
        kill -KILL "${CPID[$1]:-}" 2>/dev/null
        wait "${CPID[$1]:-}" 2>/dev/null
        forget "${CPID[$1]:-}"
        CPID[$1]=
}

# cluster_start: 6 nodes, the cluster created (3 masters, a replica each),
# healthy within 60 s.
cluster_start() {
        local p ports=() t0=$SECONDS
        cluster_pick_ports || return 1
        for p in $(cluster_ports); do cnode_spawn "$p"; ports+=("127.0.0.1:$p"); done
        for p in $(cluster_ports); do
                wait_for 20 bash -c "[ \"\$(redis-cli -p $p PING 2>/dev/null)\" = PONG ]" ||
                        { rfail "cluster: node $p did not start"; dump "$CDIR/$p/redis.log"; return 1; }
        done
        if ! redis-cli --cluster create "${ports[@]}" --cluster-replicas 1 --cluster-yes \
                >"$CDIR/create.log" 2>&1; then
                rfail "cluster: redis-cli --cluster create failed"
                tail -5 "$CDIR/create.log" | sed 's/^/#   /'
                return 1
        fi
        cluster_wait_ok 60 1 || { rfail "cluster: not healthy 60 s after create"; cluster_nodes | sed 's/^/#   /'; return 1; }
        say "cluster up on $CLUSTER_PORT..$((CLUSTER_PORT + CLUSTER_N - 1)) in $((SECONDS - t0)) s: masters $(cluster_masters | tr '\n' ' ')"
}
# cluster_stop: every node SIGTERM, up to 10 s, then SIGKILL; reaped.
cluster_stop() {
        local p pid
        for p in "${!CPID[@]}"; do [ -n "${CPID[$p]}" ] && kill -TERM "${CPID[$p]}" 2>/dev/null; done
        for p in "${!CPID[@]}"; do
                pid=${CPID[$p]}
                [ -n "$pid" ] || continue
                for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                forget "$pid"
                CPID[$p]=
        done
        scratch_stop
}
# Tear-down on EXIT: hearthd instances still running first (SIGTERM, 5 s
# for all of them, then SIGKILL: they drain while Redis is still there),
# then the cluster (and the scratch Redis), then tests/lib.sh's cleanup (the
# other processes, the temp dir).
_cluster_exit() {
        local n pids=() p
        for n in "${!IPID[@]}"; do
                p=${IPID[$n]}
                [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && pids+=("$p")
        done
        for _ in $(seq 50); do
                local alive=0
                for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
                [ $alive = 1 ] || break
                sleep 0.1
        done
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget "$p"; done
        cluster_stop
        _cleanup
}
trap _cluster_exit EXIT

# --- topology ------------------------------------------------------------
# cluster_nodes: CLUSTER NODES as a live node sees it.
cluster_nodes() {
        local p
        for p in $(cluster_ports); do
                cnode_alive "$p" || continue
                ccli "$p" CLUSTER NODES 2>/dev/null | tr -d '\r' && return 0
        done
        return 1
}
# cluster_masters: the ports of the masters that serve slots, sorted.
cluster_masters() {
        cluster_nodes | awk '$3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { split($2, a, "[:@]"); print a[2] }' | sort -n
}
cluster_node_id() { ccli "$1" CLUSTER MYID 2>/dev/null | tr -d '\r'; }
cluster_keyslot() { ccli "$(cluster_live_port)" CLUSTER KEYSLOT "$1" 2>/dev/null | tr -d '\r'; }
# cluster_slot_owner SLOT: the port of the master serving SLOT.
cluster_slot_owner() {
        cluster_nodes | awk -v s="$1" '$3 ~ /master/ && $3 !~ /fail/ {
                for (i = 9; i <= NF; i++) {
                        if ($i ~ /^\[/) continue          # [slot->-id] / [slot-<-id]: in migration
                        n = split($i, r, "-"); lo = r[1]; hi = (n > 1) ? r[2] : r[1]
                        if (s + 0 >= lo + 0 && s + 0 <= hi + 0) { split($2, a, "[:@]"); print a[2]; exit }
                }
        }'
}
# cluster_master_most_keys: the master holding most keys.
cluster_master_most_keys() {
        local m
        for m in $(cluster_masters); do echo "$m $(ccli "$m" DBSIZE 2>/dev/null | tr -d '\r')"; done |
                sort -k2,2nr | head -1 | cut -d' ' -f1
}
# cluster_online_replicas PORT: replicas of master PORT in state online.
cluster_online_replicas() { ccli "$1" INFO replication 2>/dev/null | tr -d '\r' | grep -c '^slave[0-9]*:.*state=online'; }

# cluster_healthy [REPLICAS]: every live node says cluster_state:ok, 3
# masters serve the slots, each with REPLICAS (default 1) online replicas,
# and `redis-cli --cluster check` finds the nodes agreeing, every slot
# covered and no slot open (no migration left half done).
cluster_healthy() {
        local want=${1:-1} p m masters
        for p in $(cluster_ports); do
                cnode_alive "$p" || continue
                ccli "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' || return 1
        done
        masters=$(cluster_masters)
        [ "$(echo "$masters" | grep -c .)" = 3 ] || return 1
        for m in $masters; do
                [ "$(cluster_online_replicas "$m")" -ge "$want" ] || return 1
        done
        redis-cli --cluster check "127.0.0.1:$(cluster_live_port)" >"$CDIR/check.log" 2>&1 || return 1
        grep -q 'All nodes agree about slots configuration' "$CDIR/check.log" || return 1
        grep -q 'All 16384 slots covered' "$CDIR/check.log" || return 1
        ! grep -qE 'slots are open|migrating state|importing state|\[ERR\]' "$CDIR/check.log"
}
# cluster_wait_ok SECS [REPLICAS]
cluster_wait_ok() { wait_for "$1" cluster_healthy "${2:-1}"; }
# cluster_topology: one line per master: "port: slots N, keys K, replica(s) R".
cluster_topology() {
        local m
        for m in $(cluster_masters); do
                echo "$m: $(cluster_nodes | awk -v p="127.0.0.1:$m@" 'index($2, p) == 1 {
                        n = 0; for (i = 9; i <= NF; i++) { if ($i ~ /^\[/) continue; k = split($i, r, "-"); n += (k > 1) ? r[2] - r[1] + 1 : 1 }
                        print n }') slots, $(ccli "$m" DBSIZE | tr -d '\r') keys, replica(s) online $(cluster_online_replicas "$m")"
        done
}

# --- faults -------------------------------------------------------------
# cluster_kill_master [SLOT]: kill -9 the master serving SLOT (default: the
# master with most keys); waits (30 s) until another node serves the slot
# and the cluster is ok again (without the dead node's replica). CKILLED is
# the port killed, FAILOVER_MS the time from the kill to the promotion.
cluster_kill_master() {
        local slot=${1:-} victim t0
        if [ -n "$slot" ]; then victim=$(cluster_slot_owner "$slot"); else victim=$(cluster_master_most_keys); fi
        [ -n "$victim" ] || { rfail "cluster: no master found to kill (slot ${slot:-any})"; return 1; }
        [ -n "$slot" ] || slot=$(cluster_nodes | awk -v p="127.0.0.1:$victim@" 'index($2, p) == 1 { for (i = 9; i <= NF; i++) if ($i !~ /^\[/) { split($i, r, "-"); print r[1]; exit } }')
        CKILLED=$victim
        t0=$(date +%s%N)
        cnode_kill9 "$victim"
        say "cluster: master $victim (slot $slot) killed"
        if ! wait_for 30 _promoted "$slot" "$victim"; then
                rfail "cluster: no promotion within 30 s after master $victim was killed"
                cluster_nodes | sed 's/^/#   /'
                return 1
        fi
        FAILOVER_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
        say "cluster: slot $slot served by $(cluster_slot_owner "$slot") ${FAILOVER_MS} ms after the kill"
}
_promoted() {
        local o
        o=$(cluster_slot_owner "$1")
        [ -n "$o" ] && [ "$o" != "$2" ] && cnode_alive "$o" && cluster_healthy 0
}
# cluster_restart_node PORT: the node started again on its data and
# nodes.conf; it rejoins as a replica (of the master promoted in its place).
# Waits (60 s) until its link is up and every master has a replica.
cluster_restart_node() {
        local p=$1 t0=$SECONDS
        cnode_spawn "$p"
        if ! wait_for 60 _rejoined "$p"; then
                rfail "cluster: node $p not back as a replica within 60 s"
                cluster_nodes | sed 's/^/#   /'
                return 1
        fi
        say "cluster: node $p back as a replica of $(ccli "$p" INFO replication | tr -d '\r' | awk -F: '$1 == "master_port" {print $2}') in $((SECONDS - t0)) s"
}
_rejoined() {
        ccli "$1" INFO replication 2>/dev/null | tr -d '\r' | grep -qx 'master_link_status:up' && cluster_healthy 1
}
# cluster_wait_replicated: WAIT 1 on every master (what a test wrote itself
# before a kill is on the replicas; hearthd's rows do not call it).
cluster_wait_replicated() {
        local m
        for m in $(cluster_masters); do
                [ "$(ccli "$m" WAIT 1 5000 2>/dev/null | tr -d '\r')" -ge 1 ] 2>/dev/null ||
                        { rfail "cluster: WAIT on $m: not acknowledged by a replica"; return 1; }
        done
}

# cluster_reshard_bg FROM_PORT TO_PORT N: N slots moved from one master to
# another by redis-cli --cluster reshard, in the background (RESHARD_PID,
# log $T/cluster/reshard.K.log).
RESHARDS=0
cluster_reshard_bg() {
        local from to
        from=$(cluster_node_id "$1"); to=$(cluster_node_id "$2")
        [ -n "$from" ] && [ -n "$to" ] || { rfail "cluster: reshard $1 -> $2: node ids unknown"; return 1; }
        RESHARDS=$((RESHARDS + 1))
        RESHARD_LOG=$CDIR/reshard.$RESHARDS.log
        RESHARD_WHAT="$3 slots $1 -> $2"
        say "cluster: reshard $RESHARD_WHAT"
        redis-cli --cluster reshard "127.0.0.1:$1" --cluster-from "$from" --cluster-to "$to" \
                --cluster-slots "$3" --cluster-yes >"$RESHARD_LOG" 2>&1 &
        RESHARD_PID=$!
        RESHARD_T0=$SECONDS
        _PIDS+=("$RESHARD_PID")
}
# cluster_reshard_wait [SECS]: the reshard ends (default 300 s), with status
# 0, every slot moved, the cluster healthy after it. RESHARD_RC.
cluster_reshard_wait() {
        local end=$((SECONDS + ${1:-300})) moved
        while kill -0 "$RESHARD_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
        if kill -0 "$RESHARD_PID" 2>/dev/null; then
                kill -TERM "$RESHARD_PID" 2>/dev/null
                RESHARD_RC=timeout
        fi
        wait "$RESHARD_PID" 2>/dev/null
        local rc=$?
        forget "$RESHARD_PID"
        [ "${RESHARD_RC:-}" = timeout ] || RESHARD_RC=$rc
        moved=$(grep -c '^Moving slot ' "$RESHARD_LOG")
        # redis-cli prints a dot per key migrated after "Moving slot S from A to B: "
        RESHARD_KEYS=$(awk '/^Moving slot/ { s = $0; sub(/.*: /, "", s); n += gsub(/\./, "", s) } END { print n + 0 }' "$RESHARD_LOG")
        RESHARD_SLOTS=$moved
        say "cluster: reshard $RESHARD_WHAT: status $RESHARD_RC, $moved slots, $RESHARD_KEYS keys, $((SECONDS - RESHARD_T0)) s"
        if [ "$RESHARD_RC" != 0 ]; then
                rfail "cluster: reshard $RESHARD_WHAT: status $RESHARD_RC: $(grep -E 'ERR|rror' "$RESHARD_LOG" | head -1 | cut -c1-150)"
                return 1
        fi
        cluster_wait_ok 30 1 || { rfail "cluster: not healthy after the reshard $RESHARD_WHAT"; tail -5 "$CDIR/check.log" | sed 's/^/#   /'; return 1; }
}

# cluster_move_slot SLOT TO_PORT: moves one given slot (the slot of a hot
# key) as redis-cli --cluster does it: IMPORTING on the target, MIGRATING
# on the source, MIGRATE of its keys 10 at a time, SETSLOT NODE on both and
# on every other master.
cluster_move_slot() {
        local slot=$1 to=$2 from fid tid keys m n=0
        from=$(cluster_slot_owner "$slot")
        [ -n "$from" ] || { rfail "cluster: slot $slot has no owner"; return 1; }
        [ "$from" != "$to" ] || return 0
        fid=$(cluster_node_id "$from"); tid=$(cluster_node_id "$to")
        ccli "$to" CLUSTER SETSLOT "$slot" IMPORTING "$fid" >/dev/null &&
                ccli "$from" CLUSTER SETSLOT "$slot" MIGRATING "$tid" >/dev/null ||
                { rfail "cluster: SETSLOT $slot IMPORTING/MIGRATING failed"; return 1; }
        while :; do
                keys=$(ccli "$from" CLUSTER GETKEYSINSLOT "$slot" 10 | tr -d '\r')
                [ -n "$keys" ] || break
                # shellcheck disable=SC2086 # keys of this harness have no blanks
                if ! ccli "$from" MIGRATE 127.0.0.1 "$to" "" 0 10000 KEYS $keys | grep -qx OK; then
                        rfail "cluster: MIGRATE of slot $slot failed"
                        return 1
                fi
                n=$((n + $(echo "$keys" | wc -l)))
        done
        ccli "$to" CLUSTER SETSLOT "$slot" NODE "$tid" >/dev/null
        ccli "$from" CLUSTER SETSLOT "$slot" NODE "$tid" >/dev/null
        for m in $(cluster_masters); do ccli "$m" CLUSTER SETSLOT "$slot" NODE "$tid" >/dev/null 2>&1; done
        say "cluster: slot $slot moved $from -> $to ($n keys)"
        cluster_wait_ok 30 1 || { rfail "cluster: not healthy after moving slot $slot"; return 1; }
}

# cluster_bench_bg: a write load on the cluster (redis-benchmark --cluster,
# 4 clients, SET of 100,000 random keys per node's hash tag, in runs of
# CLUSTER_BENCH_N requests, default 50,000) in the background until
# cluster_bench_stop; BENCH_PID. cluster_bench_stop: BENCH_RUNS runs ended,
# BENCH_FAILED of them with a non-zero status, BENCH_RPS the last rate.
cluster_bench_bg() {
        rm -f "$CDIR/bench.stop"
        : >"$CDIR/bench.status"
        (
                while [ ! -e "$CDIR/bench.stop" ]; do
                        redis-benchmark -h 127.0.0.1 -p "$(cluster_live_port)" --cluster -c 4 \
                                -n "${CLUSTER_BENCH_N:-50000}" -t set -r 100000 -q >>"$CDIR/bench.out" 2>&1
                        echo $? >>"$CDIR/bench.status"
                done
        ) &
        BENCH_PID=$!
        _PIDS+=("$BENCH_PID")
}
cluster_bench_stop() {
        touch "$CDIR/bench.stop"
        wait "$BENCH_PID" 2>/dev/null
        forget "$BENCH_PID"
        BENCH_RUNS=$(grep -c . "$CDIR/bench.status")
        BENCH_FAILED=$(grep -cvx 0 "$CDIR/bench.status")
        BENCH_RPS=$(tr '\r' '\n' <"$CDIR/bench.out" | grep -o 'SET: [0-9.]* requests per second' | tail -1 | awk '{print $2}')
}

# --- dumps ----------------------------------------------------------------
# scratch_start: a standalone redis-server on a free port ($T/scratch), no
# persistence; SCRATCH_PORT. scratch_stop saves it to $T/scratch/dump.rdb
# (what the verifier read, kept with KEEP_TMP) and stops it.
SCRATCH_PID=
scratch_start() {
        local try
        mkdir -p "$T/scratch"
        for try in 1 2 3; do
                SCRATCH_PORT=$(free_port)
                redis-server --port "$SCRATCH_PORT" --bind 127.0.0.1 --save "" --appendonly no \
                        --dir "$T/scratch" --logfile "$T/scratch/redis.log" --daemonize no &
                SCRATCH_PID=$!
                _PIDS+=("$SCRATCH_PID")
                wait_for 10 bash -c "[ \"\$(redis-cli -p $SCRATCH_PORT PING 2>/dev/null)\" = PONG ] || ! kill -0 $SCRATCH_PID" &&
                        kill -0 "$SCRATCH_PID" 2>/dev/null && return 0
                wait "$SCRATCH_PID" 2>/dev/null; forget "$SCRATCH_PID"; SCRATCH_PID=
        done
        rfail "scratch redis-server did not start"
        return 1
}
scratch_stop() {
        [ -n "${SCRATCH_PID:-}" ] || return 0
        redis-cli -p "$SCRATCH_PORT" SAVE >/dev/null 2>&1
        stop_pid "$SCRATCH_PID"
        SCRATCH_PID=
}

# cluster_keys PATTERN: "port<TAB>key" of every matching key on every master
# (SCAN on each; replicas are not read).
cluster_keys() {
        local m
        for m in $(cluster_masters); do
                ccli "$m" --scan --pattern "$1" | awk -v p="$m" '{ print p "\t" $0 }'
        done
}
# cluster_copy_keys PATTERN DEST_PORT: every matching key of every master
# copied (MIGRATE ... COPY REPLACE, one key each: values byte for byte,
# with their TTL) into the standalone Redis on DEST_PORT. The list is kept
# in $T/cluster/keys.tsv (port, key); CLUSTER_COPIED is its count. A key on
# two masters (a stale copy left by a migration) or a key that would not
# copy fails the row. Call it when no slot is migrating.
cluster_copy_keys() {
        local pat=$1 dst=$2 m dups bad=0 out=$CDIR/keys.tsv
        cluster_keys "$pat" >"$out"
        dups=$(cut -f2 "$out" | sort | uniq -d | wc -l)
        [ "$dups" = 0 ] || rfail "cluster dump: $dups key(s) found on two masters"
        for m in $(cluster_masters); do
                awk -F'\t' -v p="$m" -v d="$dst" '$1 == p {
                        k = $2; gsub(/\\/, "\\\\", k); gsub(/"/, "\\\"", k)
                        printf "MIGRATE 127.0.0.1 %s \"\" 0 10000 COPY REPLACE KEYS \"%s\"\n", d, k }' "$out" |
                        ccli "$m" >"$CDIR/copy.$m.out" 2>&1
                bad=$((bad + $(grep -vcx OK "$CDIR/copy.$m.out")))
        done
        CLUSTER_COPIED=$(wc -l <"$out")
        [ "$bad" = 0 ] || { rfail "cluster dump: $bad key(s) not copied (see $CDIR/copy.*.out)"; return 1; }
}

# ctl_json ARGS...: hearthctl's output on one line (stderr to $T/ctl.err).
# An exec failure (status 126 or 127: a build rewriting the binary at that
# moment) is retried, up to 5 times a second apart.
ctl_json() {
        local i out rc
        for i in 1 2 3 4 5; do
                out=$("$CTL" "$@" 2>>"$T/ctl.err")
                rc=$?
                [ $rc = 126 ] || [ $rc = 127 ] || break
                echo "ctl_json: $CTL exited $rc (try $i)" >>"$T/ctl.err"
                sleep 1
        done
        printf '%s' "$out" | tr -d '\n'
        echo
}

# cluster_dump_state: dump_state for a cluster: $T/state.jsonl, hearthctl
# household --json of every household. CLUSTER_DUMP=copy (default): every
# hearth:* key of every master copied into a scratch Redis, which hearthctl
# reads as it reads the standalone Redis of the fault rows (so the verifier
# needs nothing of cluster mode). CLUSTER_DUMP=ctl: hearthctl reads the
# cluster itself through the row's config (redis.cluster), once it can.
cluster_dump_state() {
        local h url
        if [ "${CLUSTER_DUMP:-copy}" = ctl ]; then
                for h in $(cut -f1 "$T/gen/registrations.txt"); do
                        ctl_json --config "$T/hearth.yaml" household "$h" --json
                done >"$T/state.jsonl"
                return
        fi
        scratch_start || return 1
        cluster_copy_keys 'hearth:*' "$SCRATCH_PORT"
        say "cluster dump: $CLUSTER_COPIED hearth keys copied from $(cut -f1 "$CDIR/keys.tsv" | sort -u | paste -sd, -)"
        url="redis://127.0.0.1:$SCRATCH_PORT/0"
        for h in $(cut -f1 "$T/gen/registrations.txt"); do
                ctl_json --redis "$url" household "$h" --json
        done >"$T/state.jsonl"
        scratch_stop
}

# --- figures read from the cluster ------------------------------------------
# rcli ARGS...: redis-cli following redirections, through a live node.
cluster_rcli() { redis-cli -c -h 127.0.0.1 -p "$(cluster_live_port)" "$@" | grep -v '^-> Redirected'; }
cluster_positions() { cluster_rcli HVALS "hearth:pos:{$GROUP}" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
# cluster_outbox: entries in every pending household's outbox (the pending
# sets hearth:pending:{0..15}, then HLEN of each :outbox); empty when a
# reply was an error (cluster down), so that quiesce does not take it as 0.
cluster_outbox() {
        local p hs lens s
        p=$(cluster_live_port) || return 0
        hs=$(for s in $(seq 0 15); do echo "SMEMBERS \"hearth:pending:{$s}\""; done |
                redis-cli -c -h 127.0.0.1 -p "$p" 2>/dev/null | grep -v '^-> Redirected' | grep .)
        if grep -qE '^(ERR|CLUSTERDOWN|MOVED|ASK|TRYAGAIN|LOADING|Could not)' <<<"$hs"; then return 0; fi
        [ -n "$hs" ] || { echo 0; return 0; }
        lens=$(echo "$hs" | awk '{ printf "HLEN \"hearth:{%s}:outbox\"\n", $0 }' |
                redis-cli -c -h 127.0.0.1 -p "$p" 2>/dev/null | grep -v '^-> Redirected' | grep .)
        grep -qvE '^[0-9]+$' <<<"$lens" && return 0
        awk '{s += $1} END {print s + 0}' <<<"$lens"
}
_positions_above() { [ "$(positions)" -gt "$1" ]; }
_positions_reach() { [ "$(positions)" -ge "$1" ]; }

# use_cluster: from now on the fault helpers read the cluster (they read the
# standalone Redis of $REDIS_SOCK before).
use_cluster() {
        rcli() { cluster_rcli "$@"; }
        positions() { cluster_positions; }
        outbox() { cluster_outbox; }
        wait_progress() {
                local p0=${2:-}
                [ -n "$p0" ] || p0=$(positions)
                wait_for "$1" _positions_above "$p0"
        }
        wait_positions() { wait_for "$1" _positions_reach "${2:-$INPUT_END}"; }
        dump_state() { cluster_dump_state; }
}

# --- config and instances ----------------------------------------------------
# cconfig [EXTRA_YAML]: fconfig pointing hearthd at the cluster: redis.url
# the first node, db 0 (credentials and one more seed), redis.cluster every
# node; REDIS_EXTRA (two-space indented lines under redis:) kept.
cconfig() {
        REDIS_URL="redis://127.0.0.1:$CLUSTER_PORT/0"
        REDIS_EXTRA="  cluster: \"$(cluster_seeds)\"${REDIS_EXTRA:+
$REDIS_EXTRA}" fconfig "$@"
}
# csetup: the test broker (4 partitions), the cluster, the helpers on it.
csetup() {
        start_broker 1 4 || { rfail "test broker did not start"; return 1; }
        cluster_start || return 1
        use_cluster
}
_ready_or_dead() { [ "$(inst_ready_count "$1")" -gt "$2" ] || ! inst_alive "$1"; }
# cinst_start N [VAR=VALUE...]: inst_start, then waits (CLUSTER_READY_SECS,
# default 30) for one more READY=1 or the instance's death; fails at once on
# a death (as when hearthd refuses the config), with its last log line.
cinst_start() {
        local n=$1 before rc
        before=$(inst_ready_count "$n"); before=${before:-0}
        inst_start "$@"
        wait_for "${CLUSTER_READY_SECS:-30}" _ready_or_dead "$n" "$before"
        if ! inst_alive "$n"; then
                wait "${IPID[$n]}" 2>/dev/null
                rc=$?
                rfail "hearthd $n exited at start (status $rc): $(grep -v '^===' "$T/hearthd.$n.log" | grep . | tail -1 | cut -c1-160)"
                return 1
        fi
        [ "$(inst_ready_count "$n")" -gt "$before" ] || { rfail "hearthd $n not READY within ${CLUSTER_READY_SECS:-30} s"; return 1; }
}
# cstart_and_register [N]: the registrations produced, instances 1..N (default
# 1) started and READY, the registrations applied.
cstart_and_register() {
        local i
        produce_regs
        for i in $(seq "${1:-1}"); do cinst_start "$i" || return 1; done
        wait_registered 60
}
# row_abort: the row cannot go on (hearthd did not start...): the ROW line
# with no figures, FAIL, and the notes.
row_abort() {
        [ $# = 0 ] || rfail "$*"
        echo "ROW $ROW - - - - - - - FAIL $((SECONDS - ROW_START))"
        sed "s/^/NOTES $ROW /" "$ROW_NOTES"
        _FAILED=1
}
# all_alive N...: every instance named runs (rfail for each that does not).
all_alive() {
        local n ok=0
        for n in "$@"; do inst_alive "$n" || { rfail "hearthd $n exited"; ok=1; }; done
        return $ok
}
