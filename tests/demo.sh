#!/bin/bash
# make demo: the test broker, a local redis-server and hearthd, all on
# loopback, in a temp dir; Ctrl-C (or the end) stops everything.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d /tmp/hearth-demo.XXXXXX)
PIDS=()
bold=$'\e[1m'; green=$'\e[32m'; yellow=$'\e[33m'; red=$'\e[31m'; off=$'\e[0m'
[ -t 1 ] || { bold=; green=; yellow=; red=; off=; }

cleanup() {
        trap - INT TERM
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$D"
}
trap cleanup EXIT
trap 'echo; echo "${bold}demo interrupted, stopping...${off}"; exit 130' INT TERM

say() { echo "${bold}==> $*${off}"; }
port() { for _ in $(seq 100); do p=$((20000 + RANDOM % 40000)); (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }

say "starting the test broker (librdkafka mock cluster, real Kafka protocol on loopback)"
"$ROOT/build/testbroker" -b 1 -p 4 \
        -t civil-affairs.events,medical-insurance.events,disaster.events,household.reports,hearth.alerts,hearth.dlq \
        -P "$D/bootstrap" </dev/null >"$D/broker.out" 2>"$D/broker.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$D/bootstrap" ] && break; sleep 0.1; done
BOOT=$(cat "$D/bootstrap")
echo "    bootstrap: $BOOT"

RPORT=$(port)
say "starting redis-server on 127.0.0.1:$RPORT (AOF, noeviction)"
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$D" --save "" --appendonly yes \
        --maxmemory-policy noeviction --logfile "$D/redis.log" &
PIDS+=($!)
for _ in $(seq 100); do [ "$(redis-cli -p "$RPORT" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done

say "starting hearthd with deploy/hearth.example.yaml"
"$ROOT/build/notifylisten" "$D/notify.sock" >"$D/notify.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$D/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$D/notify.sock" "$ROOT/hearthd" --config "$ROOT/deploy/hearth.example.yaml" \
        --set "kafka.brokers=$BOOT" --set "redis.url=redis://127.0.0.1:$RPORT/0" \
        --set kafka.properties.fetch.wait.max.ms=10 --set metrics.listen= 2>"$D/hearthd.log" &
HPID=$!
PIDS+=($HPID)
for _ in $(seq 200); do grep -q READY=1 "$D/notify.log" && break; sleep 0.1; done
if grep -q READY=1 "$D/notify.log"; then
        echo "${green}${bold}hearthd is READY${off} (sd_notify READY=1 received)"
else
        echo "${red}hearthd did not reach READY${off}"; exit 1
fi
if [ -n "${DEMO_WAIT:-}" ]; then
        say "running; press Ctrl-C to stop"
        while kill -0 "$HPID" 2>/dev/null; do sleep 1; done
fi
sed 's/^/    hearthd: /' "$D/hearthd.log"
say "stopping (SIGTERM): hearthd drains and exits"
kill -TERM "$HPID"; wait "$HPID"; rc=$?
sed 's/^/    hearthd: /' "$D/hearthd.log" | tail -n 2
echo "    hearthd exit status: $rc"
exit "$rc"
