#!/bin/bash
# tests/faults/mockcheck.sh [MAX_IN_FLIGHT]: does the test broker lose
# messages that librdkafka reports persisted under injected retriable
# Produce errors? Prints the count (see mockcheck.c). make faults-mockcheck.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/hearth-mockcheck.XXXXXX)
trap 'kill "$TB" 2>/dev/null; wait "$TB" 2>/dev/null; rm -rf "$T"' EXIT
mkfifo "$T/in"; exec 8<>"$T/in"
"$ROOT/build/testbroker" -b 1 -p 4 -t t1,t2 -P "$T/boot" <"$T/in" >"$T/out" 2>"$T/err" &
TB=$!
for _ in $(seq 100); do [ -s "$T/boot" ] && break; sleep 0.1; done
B=$(cat "$T/boot")
( sleep 0.5; for _ in $(seq 40); do
        echo "errors Produce NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT NOT_ENOUGH_REPLICAS LEADER_NOT_AVAILABLE NOT_LEADER_FOR_PARTITION" >&8
        sleep 0.1
  done ) &
"$ROOT/build/faults/mockcheck" "$B" 10000 1 "${1:-5}" >"$T/dr.txt"
sleep 1
for t in t1 t2; do kcat -b "$B" -C -t "$t" -o beginning -e -q -f '%s\n'; done | sort -u >"$T/stored"
grep '^OK' "$T/dr.txt" | awk '{print $2}' | sort >"$T/acked"
lost=$(comm -23 "$T/acked" "$T/stored" | wc -l)
echo "max.in.flight ${1:-5}: $(wc -l <"$T/acked") reported persisted, $(wc -l <"$T/stored") stored, $lost reported persisted but not stored"
