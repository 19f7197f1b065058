#!/bin/bash
# Step 5 of `make bench` (run.sh calls it; `make bench-scale` runs it
# alone): does hearth scale out? For each Redis setup (single: one
# redis-server as in the main run; cluster: 3 masters and 3 replicas) and
# each instance count of BENCH_INSTANCES: a fresh broker (the partitions of
# the main run), a fresh Redis, N hearthd in one consumer group (the main
# run's config, plus redis.cluster on the cluster: every hearthd default
# holds, redis.wait_replicas 1 included), BENCH_INST_HOUSEHOLDS households
# registered, then BENCH_INST_EVENTS events produced at once and drained.
# Measured as the main run measures (tests/bench/README.md): events/s from
# the first event sent to drained; CPU per event over the same span, of all
# hearthd (summed) and of all redis-server processes (summed, replicas
# included). Everything stops between setups.
# Writes OUT/scale_out.dat (one row per setup), OUT/scale_out.txt (the
# table, also printed) and OUT/scale_out.notes (per setup: rebalances and
# hearthd's own counts).
# Environment (defaults): BENCH_INSTANCES ("1 2 3"), BENCH_INST_EVENTS
# (min(BENCH_EVENTS, 100000)), BENCH_INST_HOUSEHOLDS (min(BENCH_HOUSEHOLDS,
# 20000)), BENCH_SCALE_REDIS ("single cluster cluster-nowait"); read and checked in
# lib.sh. The rest as run.sh (BENCH_EVENTS and BENCH_HOUSEHOLDS size the
# partitions).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup

# --- a Redis Cluster -----------------------------------------------------------
# cluster_ready PORT...: every node says cluster_state:ok, and 3 masters
# and 3 replicas hold replication links that are up.
cluster_ready() {
        local p masters=0 replicas=0 info
        for p in "$@"; do
                redis-cli -p "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok' ||
                        return 1
                info=$(redis-cli -p "$p" INFO replication 2>/dev/null | tr -d '\r')
                if grep -qx 'role:master' <<<"$info"; then
                        grep -q '^slave[0-9]*:.*state=online' <<<"$info" && masters=$((masters + 1))
                else
                        grep -qx 'master_link_status:up' <<<"$info" && replicas=$((replicas + 1))
                fi
        done
        [ "$masters" = 3 ] && [ "$replicas" = 3 ]
}
# start_cluster DIR: 6 nodes (DIR/node-PORT), created as 3 masters with a
# replica each, healthy. REDIS_PIDS (all six), REDIS_PORT (a master: the
# seed in redis.url), CLUSTER_SEEDS (every node, for bdrain -c),
# REDIS_EXTRA (redis.cluster: the other five).
start_cluster() {
        local d=$1 p ports=() addrs=()
        for _ in 1 2 3 4 5 6; do
                p=$(cluster_port "${ports[@]}") || die "no free port pair for a cluster node"
                ports+=("$p")
                addrs+=("127.0.0.1:$p")
                redis_spawn "$d/node-$p" --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
                        --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
                        --repl-diskless-sync-delay 0
                REDIS_PIDS+=("$REDIS_PID")
        done
        for p in "${ports[@]}"; do
                wait_for 10 bash -c "[ \"\$(redis-cli -p $p PING 2>/dev/null)\" = PONG ]" ||
                        die "cluster node $p did not start: $(tail -n3 "$d/node-$p/redis.log")"
        done
        redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
                >"$d/create.log" 2>&1 || die "redis-cli --cluster create: $(tail -n3 "$d/create.log")"
        wait_for 60 cluster_ready "${ports[@]}" ||
                die "the cluster is not healthy 60 s after create: $(redis-cli -p "${ports[0]}" CLUSTER NODES)"
        REDIS_PORT=${ports[0]}
        CLUSTER_SEEDS=$(IFS=,; echo "${addrs[*]}")
        REDIS_EXTRA="  cluster: \"${CLUSTER_SEEDS#*,}\""$'\n'
}

# --- hearthd instances -------------------------------------------------------
# settled DIR N: each of the N instances (DIR/hearthd-I.log) holds its share
# of the input partitions: its latest rebalance line is an assignment of at
# least one, and together they hold every one (one generation of the group).
settled() {
        local d=$1 n=$2 i last k sum=0
        for i in $(seq "$n"); do
                last=$(grep -o 'kafka: \(assigned\|revoked\) [0-9]* partitions' "$d/hearthd-$i.log" 2>/dev/null |
                        tail -n1)
                [[ $last =~ ^kafka:\ assigned\ ([0-9]+) ]] || return 1
                k=${BASH_REMATCH[1]}
                [ "$k" -gt 0 ] || return 1
                sum=$((sum + k))
        done
        [ "$sum" = "$(input_partitions)" ]
}
# stop_all PID...: SIGTERM to all at once (hearthd instances leave their
# group together rather than one rebalance after another), then stop_pid.
stop_all() {
        local p
        for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
        for p in "$@"; do stop_pid "$p"; done
}
sum_ticks() {
        local p s=0
        for p in "$@"; do s=$((s + $(cpu_ticks "$p"))); done
        echo "$s"
}

# scale_run DIR REDIS N: one setup, measured; TP, HUS, RUS, DRAIN_S, NOTE.
scale_run() {
        local d=$1 redis=$2 n=$3 i h0 r0 h1 r1 first t0 settle_s
        local hpids=()
        REDIS_PIDS=()
        CLUSTER_SEEDS=""
        REDIS_EXTRA=""
        mkdir -p "$d"
        start_broker "$d"
        if [[ $redis = cluster* ]]; then
                start_cluster "$d"
                # cluster-nowait: the same without WAIT, to show its cost.
                [ "$redis" = cluster-nowait ] && REDIS_EXTRA+="  wait_replicas: 0"$'\n'
        else
                start_redis "$d"
                REDIS_PIDS=("$REDIS_PID")
        fi
        hearthd_config "$d"
        t0=$SECONDS
        for i in $(seq "$n"); do
                start_hearthd "$d" "hearthd-$i.log"
                hpids+=("$HEARTHD_PID")
        done
        DRAIN_PIDS=${hpids[*]}
        wait_for 90 settled "$d" "$n" ||
                die "$n hearthd did not settle on their partitions in 90 s: $(tail -qn2 "$d"/hearthd-*.log)"
        settle_s=$((SECONDS - t0))
        register "$d" "$INST_HOUSEHOLDS"
        # A group that rebalanced during registration has settled again
        # before the measured run starts.
        wait_for 90 settled "$d" "$n" || die "$n hearthd lost their partitions during registration"
        h0=$(sum_ticks "${hpids[@]}")
        r0=$(sum_ticks "${REDIS_PIDS[@]}")
        "$BIN/bgen" events -H "$INST_HOUSEHOLDS" -n "$INST_EVENTS" -s "$SEED" -D "$START_DATE" \
                -b "$BOOTSTRAP" -R "$d/ranges" >"$d/gen.out" || die "bgen events"
        first=$(kv "$d/gen.out" first_send_us)
        drain "$d" $((INST_HOUSEHOLDS + INST_EVENTS))
        h1=$(sum_ticks "${hpids[@]}")
        r1=$(sum_ticks "${REDIS_PIDS[@]}")
        TP=$(calc "$INST_EVENTS / (($DRAINED_US - $first) / 1e6)")
        HUS=$(calc "($h1 - $h0) / $TCK * 1e6 / $INST_EVENTS" 1)
        RUS=$(calc "($r1 - $r0) / $TCK * 1e6 / $INST_EVENTS" 1)
        DRAIN_S=$(calc "($DRAINED_US - $first) / 1e6" 1)
        stop_all "${hpids[@]}"
        stop_all "${REDIS_PIDS[@]}"
        stop_pid "$BROKER_PID"
        exec 7>&-
        DRAIN_PIDS=""
        # hearthd's own counts, summed over the instances: the same load
        # gives the same duplicates and dead letters in every setup.
        NOTE="$redis Redis, $n hearthd: settled in ${settle_s} s, $(cat "$d"/hearthd-*.log |
                grep -c 'kafka: assigned') assignments; $(grep -ho 'hearthd stopped: .*' "$d"/hearthd-*.log |
                awk '{ for (i = 3; i < NF; i += 2) s[i] += $i }
                     END { printf "%d consumed, %d applied, %d duplicates, %d dead letters", s[3], s[5], s[7], s[9] }')"
}

# table: OUT/scale_out.txt from OUT/scale_out.dat.
table() {
        {
                echo "| Redis          | instances | events/s | hearthd µs/event | redis µs/event |"
                echo "|----------------|----------:|---------:|-----------------:|---------------:|"
                awk '!/^#/ && NF >= 8' "$OUT/scale_out.dat" | while read -r r n _ _ tp hus rus _; do
                        printf '| %-14s | %9s | %8s | %16s | %14s |\n' "$r" "$n" "$(fmt "$tp")" "$hus" "$rus"
                done
        } >"$OUT/scale_out.txt"
}

# =============================================================================
echo "# redis instances events households events_per_s hearthd_us_per_event redis_us_per_event drain_s" \
        >"$OUT/scale_out.dat"
: >"$OUT/scale_out.notes"
table
START_S=$SECONDS
for redis in $SCALE_REDIS; do
        for n in $INSTANCES; do
                say "scale-out: $redis Redis, $n hearthd: $(fmt "$INST_HOUSEHOLDS") households, then $(fmt "$INST_EVENTS") events"
                scale_run "$T/$redis-$n" "$redis" "$n"
                echo "$redis $n $INST_EVENTS $INST_HOUSEHOLDS $TP $HUS $RUS $DRAIN_S" >>"$OUT/scale_out.dat"
                echo "$NOTE" >>"$OUT/scale_out.notes"
                table
                say "  $(fmt "$TP") events/s; CPU per event: hearthd $HUS us, redis-server $RUS us"
        done
done
echo "all setups took $((SECONDS - START_S)) s ($(fmt "$INST_EVENTS") events, $(fmt "$INST_HOUSEHOLDS") households each)" \
        >>"$OUT/scale_out.notes"
cat "$OUT/scale_out.txt"
cat "$OUT/scale_out.notes"
_OK=1
