# hearthd on a Redis Cluster (redis.cluster): three masters on loopback,
# two hearthd in one group. Households land on every master by their hash
# tag, slots migrate while events flow (MOVED and ASK followed), duplicates
# still count once, and hearthctl reads households and scans the whole
# cluster. The fault rows (kill -9 a master, resharding under load) are in
# `make cluster`.
source "$(dirname "$0")/../lib.sh"
F=$ROOT/tests/fixtures/events

start_broker 1 4 || { not_ok "test broker starts"; finish; }

# Three masters, no replicas (redis.wait_replicas 0): a failover is the
# fault rows' business; this is routing.
# Each node's cluster bus listens on its port + 10000: cluster_port
# (tests/harness.sh) finds ports whose bus port is free too.
PORTS=()
for i in 1 2 3; do
        p=$(cluster_port "${PORTS[@]}") || { not_ok "a free port pair for a cluster node"; finish; }
        mkdir -p "$T/c$p"
        (cd "$T/c$p" && exec redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
                --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save "" \
                --appendonly yes --appendfsync everysec --daemonize no --logfile redis.log) &
        _PIDS+=("$!")
        PORTS+=("$p")
done
for p in "${PORTS[@]}"; do wait_for 30 bash -c "[ \"\$(redis-cli -p $p PING 2>/dev/null)\" = PONG ]"; done
redis-cli --cluster create "127.0.0.1:${PORTS[0]}" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" \
        --cluster-yes >"$T/create.log" 2>&1
if wait_for 60 bash -c \
        "for p in ${PORTS[*]}; do redis-cli -p \$p CLUSTER INFO | grep -q cluster_state:ok || exit 1; done"; then
        ok "a 3-master cluster on loopback"
else
        not_ok "a 3-master cluster on loopback"
        dump "$T/create.log" 20
        for p in "${PORTS[@]}"; do dump "$T/c$p/redis.log" 10; done
        finish
fi

REDIS_URL="redis://127.0.0.1:${PORTS[0]}/0"
REDIS_EXTRA="  cluster: \"127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}\"
  wait_replicas: 0"
write_config
CTL=("$HEARTHCTL" --config "$T/hearth.yaml")
start_hearthd
check "hearthd READY on the cluster" wait_ready 30
check "the journal names the cluster" grep -q "cluster 127.0.0.1:${PORTS[0]}" "$T/hearthd.log"
FIRST=$HEARTHD_PID
: >"$T/notify2.log"
NOTIFY_SOCKET="$T/notify.sock" "$HEARTHD" --config "$T/hearth.yaml" 2>>"$T/hearthd2.log" &
SECOND=$!
_PIDS+=("$SECOND")

event() {
        jq -c --arg h "$2" --arg i "$3" '.subject = $h | .id = $i | del(.partitionkey)' \
                "$F/$1.json" | sed "s/^/$2\t/"
}
hh_c() { "${CTL[@]}" household "$1" --json 2>>"$T/ctl.err"; }
# wave FROM TO TAG: a registration and a medical claim for each household.
wave() {
        local i
        for i in $(seq "$1" "$2"); do
                event household.registered "HC$i" "reg-$i"
                event medical.claim.settled "HC$i" "claim-$3-$i"
        done | produce household.reports
}
events_of() { hh_c "$1" | jq -r '.state.events // 0' 2>/dev/null | grep -x '[0-9]\+' || echo 0; }
all_applied() {
        local i
        for i in $(seq "$1" "$2"); do [ "$(events_of "HC$i")" -ge "$3" ] || return 1; done
}

wave 1 40 a
check "40 households applied through the cluster" wait_for 60 all_applied 1 40 2
keys_on() { redis-cli -p "$1" DBSIZE; }
check "every master holds households (hash tags spread them)" bash -c \
        "for p in ${PORTS[*]}; do [ \$(redis-cli -p \$p DBSIZE) -gt 5 ] || exit 1; done"

# Slots move while the second wave is processed: hearthd follows MOVED and
# ASK, nothing is lost or applied twice.
from=$(redis-cli -p "${PORTS[0]}" CLUSTER MYID)
to=$(redis-cli -p "${PORTS[1]}" CLUSTER MYID)
wave 41 80 a
redis-cli --cluster reshard "127.0.0.1:${PORTS[0]}" --cluster-from "$from" --cluster-to "$to" \
        --cluster-slots 2000 --cluster-yes >"$T/reshard.log" 2>&1 &
RESHARD=$!
wave 1 80 b
wait "$RESHARD"
check "2000 slots migrated during the load" bash -c \
        "redis-cli -p ${PORTS[1]} CLUSTER NODES | grep myself | grep -qE ' [0-9]+-[0-9]+ [0-9]+-[0-9]+'"
check "80 households with both claims after the migration" wait_for 90 all_applied 1 80 3
check "households 1-40 hold exactly 3 events (registration counted once)" bash -c \
        "for i in \$(seq 1 40); do [ \$(\"\${0}\" --config '$T/hearth.yaml' household HC\$i --json | jq .state.events) = 3 ] || exit 1; done" \
        "$HEARTHCTL"

# The same messages again (a replayed feed): counted once.
wave 1 20 b
sleep 5
check "a replayed wave is not applied again" bash -c \
        "for i in \$(seq 1 20); do [ \$(\"\${0}\" --config '$T/hearth.yaml' household HC\$i --json | jq .state.events) = 3 ] || exit 1; done" \
        "$HEARTHCTL"

# Scans walk every master: the supervision report counts every household.
out=$("${CTL[@]}" report --by town --json 2>>"$T/ctl.err") || diag "report failed"
check "hearthctl report scans the whole cluster (80 households)" \
        jq -e '.total.households == 80' <<<"$out"

kill -TERM "$SECOND"
wait "$SECOND"
rc=$?
check "second instance: SIGTERM exit 0 (got $rc)" test "$rc" = 0
HEARTHD_PID=$FIRST
stop_hearthd 10
check "first instance: SIGTERM exit 0 (got $HEARTHD_RC)" test "$HEARTHD_RC" = 0
check "no dead letter" bash -c "! grep -q 'dead letter:' '$T/hearthd.log' '$T/hearthd2.log'"
finish
