#!/bin/bash
# `make bench-preview`: the rate of hearthctl preview over PREVIEW_SIZES
# households (default "100000 1000000"). For each size: a fresh local
# redis-server (no persistence), the households written by build/hload
# (the household step and the commit script, as hearthd writes them, two
# processes), then `hearthctl preview` (the normal build) of a candidate
# that lowers rigid_ratio to 0.8, timed, with its peak RSS (bounded: one
# page of 1,000 documents at a time, plus 16 bytes per household read to
# drop the duplicates SCAN may return) and Redis's memory. Prints a table
# and writes it to build/bench/preview.txt. The preview's own rate is the
# one it reports (households read / seconds from the first SCAN to the
# last evaluation); the wall time includes loading both rule sets.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
SIZES=${PREVIEW_SIZES:-"100000 1000000"}
HEARTHCTL=${HEARTHCTL:-./hearthctl}
HLOAD=${HLOAD:-build/hload}
OUT=build/bench/preview.txt
W=$(mktemp -d /tmp/hearth-bpreview.XXXXXX)
PORT=$((20000 + RANDOM % 10000))
cleanup() {
        redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1
        rm -rf "$W"
}
trap cleanup EXIT
mkdir -p build/bench
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$W" \
        --maxmemory-policy noeviction --daemonize yes --logfile "$W/redis.log" || exit 1
for _ in $(seq 50); do [ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
URL="redis://127.0.0.1:$PORT/0"
cat >"$W/hearth.yaml" <<YAML
redis:
  url: "$URL"
rules:
  dir: $ROOT/rules
schemas:
  dir: $ROOT/schemas
YAML
cp -r rules "$W/cand"
sed -i 's/^  rigid_ratio: 1$/  rigid_ratio: 0.8/' "$W/cand/expenditure.yaml"

{
        printf 'hearthctl preview (rigid_ratio 1 -> 0.8), %s, %s cores, %s\n' "$(uname -n)" \
                "$(nproc)" "$(git rev-parse --short HEAD 2>/dev/null)"
        printf '%10s %10s %10s %12s %10s %12s %12s %10s\n' households load_s preview_s \
                households/s changed wall_s hearthctl_MB redis_MB
} | tee "$OUT"
for N in $SIZES; do
        redis-cli -p "$PORT" FLUSHALL >/dev/null
        t0=$(date +%s.%N)
        "$HLOAD" -H "$N" -j 2 -c "$W/hearth.yaml" -r "$URL" 2>"$W/hload.log" ||
                { cat "$W/hload.log"; exit 1; }
        t1=$(date +%s.%N)
        redis_mb=$(redis-cli -p "$PORT" INFO memory | awk -F: '/^used_memory:/ {printf "%.0f", $2 / 1048576}')
        /usr/bin/time -f '%M %e' -o "$W/time" "$HEARTHCTL" --config "$W/hearth.yaml" preview \
                --rules "$W/cand" --format json >"$W/p.json" || exit 1
        read -r rss wall <"$W/time"
        printf '%10s %10.1f %10.2f %12.0f %10s %12s %12.0f %10s\n' "$N" \
                "$(echo "$t1 - $t0" | bc)" "$(jq .seconds "$W/p.json")" "$(jq .rate "$W/p.json")" \
                "$(jq '[.total.moves[].households] | add // 0' "$W/p.json")" "$wall" \
                "$(echo "$rss / 1024" | bc -l)" "$redis_mb" | tee -a "$OUT"
done
