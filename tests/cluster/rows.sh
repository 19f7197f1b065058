# The cluster rows (scale-out: several hearthd in one consumer group on a
# Redis Cluster), one function each, in the fault matrix's style
# (tests/faults/README.md): each row sets up the test broker and a Redis
# Cluster of 3 masters and 3 replicas on loopback (tests/cluster/lib.sh),
# runs hearthd with redis.cluster, injects its fault under load, waits for
# quiescence and ends with the fault verifier and its ROW line.
#   bash tests/cluster/rows.sh C1     one row, its whole output
#   tests/cluster/run.sh              C1..C4, the table
# C0 is the harness's self-test: the cluster mechanics without hearthd in
# cluster mode.
ROW=${1:?usage: rows.sh ROW}
source "$(dirname "${BASH_SOURCE[0]}")/../faults/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QUICK=${CLUSTER_QUICK:-${FAULTS_QUICK:-}}
# q QUICK FULL: a size for the quick or the full run.
q() { if [ -n "$QUICK" ]; then echo "$1"; else echo "$2"; fi; }
POS_KEY() { echo "hearth:pos:{$GROUP}"; }

# stop_all N...: SIGTERM each instance named; exit status 0 expected.
stop_all() {
        local n
        for n in "$@"; do
                inst_alive "$n" || continue
                inst_stop "$n"
                [ "$IRC" = 0 ] || rfail "instance $n final SIGTERM: exit status $IRC"
        done
}

# C1 kill -9 a Redis master under load, 2 instances: its replica is
# promoted (node timeout 2 s); the killed node is started again 2 s after
# the promotion (as systemd would) and rejoins as the new master's replica.
# The first kill hits the master of the group's positions key, the second
# (full run) the master with most keys. With redis.wait_replicas 1 (the
# default) the positions may not move while the promoted master has no
# replica, so progress is required within 30 s of the node being back.
# Both instances keep running; global pass. Writes a replica had not
# received when its master died are lost (replication is asynchronous;
# WAIT before the positions move bounds what hearthd must apply again), so
# duplicates are allowed as in F9 (-R).
row_C1() {
        local kills k t0 pk pr
        kills=$(q 1 2)
        csetup || { row_abort; return; }
        SESSION_MS=3000 HEARTBEAT_MS=300 cconfig
        gen_load -H 200 -n "$(q 1500 8000)" -s 101
        cstart_and_register 2 || { row_abort; return; }
        produce_stream "$(q 15 40)" 25
        for k in $(seq "$kills"); do
                wait_progress 30 || rfail "kill $k: no progress before the kill"
                sleep 2
                if [ "$k" = 1 ]; then
                        cluster_kill_master "$(cluster_keyslot "$(POS_KEY)")" || break
                else
                        cluster_kill_master || break
                fi
                pk=$(positions)
                rnote "kill $k: master $CKILLED killed, replica promoted after $FAILOVER_MS ms"
                sleep 2
                pr=$(positions)
                cluster_restart_node "$CKILLED" || break
                rnote "kill $k: positions $pk at the promotion, $pr 2 s later (the new master without a replica), $(positions) when node $CKILLED was back"
                t0=$SECONDS
                if wait_progress 30; then
                        rnote "kill $k: progress $((SECONDS - t0)) s after node $CKILLED was back as a replica"
                else
                        rfail "kill $k: no progress within 30 s after node $CKILLED was back as a replica"
                fi
                all_alive 1 2
        done
        stream_wait
        quiesce 300
        all_alive 1 2
        stop_all 1 2
        ALLOW_DUPS=1
        verify_row -R
}

# C2 slots migrated under load, 2 instances: twice about 1,000 slots
# (redis-cli --cluster reshard: MIGRATE in batches of 10 keys, ASK and
# TRYAGAIN answers meanwhile), first -> second master, then second -> third;
# then the slot of the group's positions key moved to another master. No
# data is lost in a migration: global pass, no duplicate.
row_C2() {
        local m slot n p0
        csetup || { row_abort; return; }
        cconfig
        gen_load -H 200 -n "$(q 1500 8000)" -s 102
        cstart_and_register 2 || { row_abort; return; }
        produce_stream "$(q 15 40)" 25
        n=1000
        m=($(cluster_masters))
        wait_progress 30
        p0=$(positions)
        cluster_reshard_bg "${m[0]}" "${m[1]}" "$n"
        cluster_reshard_wait 300
        rnote "reshard 1: $RESHARD_SLOTS slots ${m[0]} -> ${m[1]}, $RESHARD_KEYS keys moved; positions $p0 -> $(positions) meanwhile"
        wait_progress 30 || rfail "no progress after the first reshard"
        p0=$(positions)
        cluster_reshard_bg "${m[1]}" "${m[2]}" "$n"
        cluster_reshard_wait 300
        rnote "reshard 2: $RESHARD_SLOTS slots ${m[1]} -> ${m[2]}, $RESHARD_KEYS keys moved; positions $p0 -> $(positions) meanwhile"
        wait_progress 30 || rfail "no progress after the second reshard"
        slot=$(cluster_keyslot "$(POS_KEY)")
        p0=$(positions)
        cluster_move_slot "$slot" "$(cluster_masters | grep -vx "$(cluster_slot_owner "$slot")" | head -1)"
        rnote "then the slot $slot of the positions key moved; positions $p0 -> $(positions) meanwhile"
        say "topology: $(cluster_topology | paste -sd';' -)"
        all_alive 1 2
        stream_wait
        quiesce 300
        all_alive 1 2
        stop_all 1 2
        verify_row
}

# C3 instances added and removed under load: 1 -> 3 (two join) -> 2
# (instance 1 leaves with SIGTERM). Clean rebalances: exit status 0, global
# pass, no duplicate.
row_C3() {
        csetup || { row_abort; return; }
        cconfig
        gen_load -H 200 -n "$(q 2000 10000)" -s 103
        cstart_and_register 1 || { row_abort; return; }
        produce_stream "$(q 20 50)" 40
        wait_progress 30
        sleep 2
        cinst_start 2 || { row_abort; return; }
        cinst_start 3 || { row_abort; return; }
        say "instances 2 and 3 joined"
        sleep "$(q 6 12)"
        wait_progress 30 || rfail "no progress with 3 instances"
        inst_stop 1
        say "instance 1 left (status $IRC)"
        [ "$IRC" = 0 ] || rfail "instance 1 SIGTERM: exit status $IRC"
        wait_progress 30 || rfail "no progress after instance 1 left"
        stream_wait
        quiesce 300
        all_alive 2 3
        stop_all 2 3
        verify_row
}

# C4 kill -9 of one of 3 instances under load (twice in the full run),
# restarted after 1 s; session timeout 3 s. Global pass; duplicate alerts at
# most the outbox entries left at the kills.
row_C4() {
        local kills k
        kills=$(q 1 2)
        csetup || { row_abort; return; }
        SESSION_MS=3000 HEARTBEAT_MS=300 cconfig
        gen_load -H 200 -n "$(q 2000 10000)" -s 104
        cstart_and_register 3 || { row_abort; return; }
        produce_stream "$(q 15 45)" 30
        for k in $(seq "$kills"); do
                wait_progress 30 || rfail "kill $k: no progress before the kill"
                sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
                inst_kill 2
                note_outbox
                say "instance 2 killed"
                sleep 1
                cinst_start 2 || break
                wait_progress 30 || rfail "kill $k: no progress after the restart"
        done
        rnote "$kills kill(s) of instance 2"
        stream_wait
        quiesce 300
        all_alive 1 2 3
        stop_all 1 2 3
        ALLOW_DUPS=1
        verify_run
        check_dups_bound
        verify_report
}

# --- C0: the harness's self-test -------------------------------------------
# Needs no cluster mode in hearthd. A standalone hearthd (on a standalone
# Redis, as in F1) writes real hearth state; it is imported into the
# cluster (redis-cli --cluster import --cluster-copy); synthetic keys are
# added with redis-cli -c. Then, with every expected key checked after each
# step (cluster_copy_keys into a scratch Redis: the key set, every hearth
# record byte for byte against the standalone Redis (DUMP), every synthetic
# value): a kill -9 of the master of the positions key and a promotion, the
# node back as a replica; a kill -9 of the master with most keys, back; two
# reshards of 1,000 slots and the positions slot moved, under
# redis-benchmark --cluster SET load. Last, the fault verifier on the
# cluster dump: its state must equal the standalone's, and it must pass.
SYNTH=0
# canon_keys REDIS-CLI-COMMAND... < keys: "key type persist|ttl sha1" per key,
# the value made canonical (a set's members and a hash's fields sorted:
# DUMP gives a hashtable's iteration order, which a RESTORE changes).
CANON_LUA='local out = {}
for _, k in ipairs(KEYS) do
  local t = redis.call("TYPE", k)["ok"]
  local v = "?"
  if t == "string" then v = redis.call("GET", k)
  elseif t == "hash" then
    local a, p = redis.call("HGETALL", k), {}
    for j = 1, #a, 2 do p[#p + 1] = a[j] .. "\0" .. a[j + 1] end
    table.sort(p); v = table.concat(p, "\1")
  elseif t == "set" then local a = redis.call("SMEMBERS", k); table.sort(a); v = table.concat(a, "\1")
  elseif t == "zset" then v = table.concat(redis.call("ZRANGE", k, 0, -1, "WITHSCORES"), "\1")
  elseif t == "list" then v = table.concat(redis.call("LRANGE", k, 0, -1), "\1")
  end
  out[#out + 1] = k .. " " .. t .. " " .. (redis.call("PTTL", k) == -1 and "persist" or "ttl") .. " " .. redis.sha1hex(v)
end
return out'
canon_keys() {
        local keys
        mapfile -t keys
        "$@" EVAL "$CANON_LUA" "${#keys[@]}" "${keys[@]}"
}
# synth_write N: hearth:{Tnnnnn}:selftest = v-n for n = 1..N, through
# redis-cli -c (every redirection followed).
synth_write() {
        SYNTH=$1
        seq 1 "$1" | awk '{ printf "SET hearth:{T%05d}:selftest v-%d\n", $1, $1 }' |
                cluster_rcli >"$T/synth.out" 2>&1
        [ "$(grep -cx OK "$T/synth.out")" = "$1" ] || rfail "synthetic keys: $(grep -cx OK "$T/synth.out") of $1 written"
}
# check_every_key LABEL: the cluster's hearth:* keys copied into a scratch
# Redis and compared with what is expected.
check_every_key() {
        local label=$1 miss extra vdiff sdiff
        scratch_start || return 1
        cluster_copy_keys 'hearth:*' "$SCRATCH_PORT"
        redis-cli -p "$SCRATCH_PORT" --scan --pattern 'hearth:*' | sort >"$T/keys.got"
        { cat "$T/keys.standalone"; seq 1 "$SYNTH" | awk '{ printf "hearth:{T%05d}:selftest\n", $1 }'; } | sort >"$T/keys.want"
        miss=$(comm -23 "$T/keys.want" "$T/keys.got" | wc -l)
        extra=$(comm -13 "$T/keys.want" "$T/keys.got" | wc -l)
        # every hearth record, value for value, against the standalone Redis
        canon_keys redis-cli -s "$REDIS_SOCK" <"$T/keys.standalone" >"$T/canon.standalone"
        canon_keys redis-cli -p "$SCRATCH_PORT" <"$T/keys.standalone" >"$T/canon.got"
        vdiff=$(diff "$T/canon.standalone" "$T/canon.got" | grep -c '^<')
        [ -s "$T/canon.got" ] || vdiff=$(wc -l <"$T/keys.standalone")
        # every synthetic value
        seq 1 "$SYNTH" | awk '{ printf "GET hearth:{T%05d}:selftest\n", $1 }' | redis-cli -p "$SCRATCH_PORT" >"$T/synth.got"
        sdiff=$(seq 1 "$SYNTH" | sed 's/^/v-/' | diff - "$T/synth.got" | grep -c '^[<>]')
        scratch_stop
        rnote "$label: $CLUSTER_COPIED keys in the cluster dump (want $(wc -l <"$T/keys.want")), missing $miss, extra $extra, hearth records differing $vdiff, synthetic values differing $sdiff"
        [ "$miss" = 0 ] && [ "$extra" = 0 ] && [ "$vdiff" = 0 ] && [ "$sdiff" = 0 ] ||
                rfail "$label: the cluster dump is not what was written"
}
row_C0() {
        local sp m slot p0 o0 nbench
        # 1. real hearth state from a standalone hearthd (the F1 set-up, on a
        # standalone Redis that also listens on TCP for the import)
        start_broker 1 4 || { row_abort "test broker did not start"; return; }
        sp=$(free_port)
        redis_spawn "$T" --port "$sp" --bind 127.0.0.1 --unixsocket "$REDIS_SOCK" --unixsocketperm 700
        wait_for 20 rcli_ping || { row_abort "standalone redis-server did not start"; return; }
        fconfig
        gen_load -H 200 -n "$(q 1500 3000)" -s 100 -b 2
        start_and_register
        produce_load
        quiesce 300
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "standalone hearthd: SIGTERM exit status $IRC"
        dump_state
        mv "$T/state.jsonl" "$T/state.standalone.jsonl"
        p0=$(positions); o0=$(outbox)
        rcli --scan --pattern 'hearth:*' | sort >"$T/keys.standalone"
        say "standalone: $(wc -l <"$T/keys.standalone") hearth keys, positions $p0, outbox $o0"

        # 2. the cluster; the standalone's keys imported; synthetic keys
        cluster_start || { row_abort; return; }
        rnote "cluster up: $(cluster_topology | paste -sd';' -)"
        redis-cli --cluster import "127.0.0.1:$CLUSTER_PORT" --cluster-from "127.0.0.1:$sp" \
                --cluster-copy --cluster-replace >"$CDIR/import.log" 2>&1 ||
                rfail "redis-cli --cluster import: status $?"
        use_cluster
        synth_write "$(q 5000 20000)"
        cluster_wait_replicated
        [ "$(positions)" = "$p0" ] || rfail "positions read from the cluster $(positions), standalone $p0"
        [ "$(outbox)" = "$o0" ] || rfail "outbox read from the cluster $(outbox), standalone $o0"
        check_every_key "imported"

        # 3. kill -9 the master of the positions key; back as a replica
        slot=$(cluster_keyslot "$(POS_KEY)")
        cluster_kill_master "$slot" || { row_abort; return; }
        rnote "kill 1: master $CKILLED of slot $slot killed, replica $(cluster_slot_owner "$slot") promoted after $FAILOVER_MS ms"
        check_every_key "after failover 1"
        cluster_restart_node "$CKILLED" || { row_abort; return; }
        # 4. kill -9 the master with most keys; back
        cluster_kill_master || { row_abort; return; }
        rnote "kill 2: master $CKILLED (most keys) killed, promoted after $FAILOVER_MS ms"
        check_every_key "after failover 2"
        cluster_restart_node "$CKILLED" || { row_abort; return; }
        rnote "after the kills: $(cluster_topology | paste -sd';' -)"

        # 5. two reshards and a slot move under redis-benchmark --cluster load
        cluster_bench_bg
        sleep 2
        m=($(cluster_masters))
        cluster_reshard_bg "${m[0]}" "${m[1]}" 1000
        cluster_reshard_wait 300
        rnote "reshard 1: $RESHARD_SLOTS slots ${m[0]} -> ${m[1]}, $RESHARD_KEYS keys moved under load"
        cluster_reshard_bg "${m[1]}" "${m[2]}" 1000
        cluster_reshard_wait 300
        rnote "reshard 2: $RESHARD_SLOTS slots ${m[1]} -> ${m[2]}, $RESHARD_KEYS keys moved under load"
        cluster_move_slot "$slot" "$(cluster_masters | grep -vx "$(cluster_slot_owner "$slot")" | head -1)"
        cluster_bench_stop
        rnote "redis-benchmark --cluster during the reshards: $BENCH_RUNS runs of ${CLUSTER_BENCH_N:-50000} SET, $BENCH_FAILED failed, last ${BENCH_RPS:-?} requests/s"
        [ "$BENCH_FAILED" = 0 ] && [ "$BENCH_RUNS" -ge 1 ] || rfail "redis-benchmark --cluster: $BENCH_FAILED of $BENCH_RUNS runs failed"
        cluster_wait_ok 30 1 || rfail "cluster not healthy at the end"
        # benchmark keys: what SCAN finds on the masters = what DBSIZE says
        nbench=$(cluster_keys 'key:*' | cut -f2 | sort -u | wc -l)
        local dbs=0 mm
        for mm in $(cluster_masters); do dbs=$((dbs + $(ccli "$mm" DBSIZE | tr -d '\r'))); done
        rnote "benchmark keys found by SCAN $nbench, all keys $dbs (DBSIZE), hearth keys $(wc -l <"$T/keys.want")"
        [ $((nbench + $(wc -l <"$T/keys.want"))) = "$dbs" ] || rfail "SCAN over the masters misses keys: $nbench + hearth != $dbs"
        check_every_key "after the reshards"
        rnote "end: $(cluster_topology | paste -sd';' -)"

        # 6. the verifier on the cluster's dump
        quiesce 30
        verify_run
        if cmp -s "$T/state.jsonl" "$T/state.standalone.jsonl"; then
                rnote "state read from the cluster = state read from the standalone Redis ($(wc -l <"$T/state.jsonl") households)"
        else
                rfail "state read from the cluster differs from the standalone's"
        fi
        verify_report
}

row_run "$ROW"
