#!/bin/bash
# tests/cluster/run.sh [ROW...]: runs cluster rows (default C1..C4, or the
# comma-separated CLUSTER_ROWS variable; C0 is the harness's self-test),
# one after the other, each in its own `bash tests/cluster/rows.sh ROW`
# under a timeout; prints the fault matrix's table and exits 1 if a row
# failed. Logs in build/cluster/logs/<date>-<pid>/ (latest links to the
# newest); KEEP_TMP=1 keeps a failed row's temp dir, FAULTS_KEEP=1 every
# row's; CLUSTER_QUICK=1 (or FAULTS_QUICK=1) for the small loads;
# CLUSTER_PORT the first of the 6 ports (default: 7101, or the first free
# block of ten above it).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
ALL="C1 C2 C3 C4"
rows=("$@")
[ ${#rows[@]} = 0 ] && [ -n "${CLUSTER_ROWS:-}" ] && IFS=', ' read -r -a rows <<<"$CLUSTER_ROWS"
[ ${#rows[@]} = 0 ] && read -r -a rows <<<"$ALL"
LOGS=$ROOT/build/cluster/logs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$LOGS"
ln -sfn "$LOGS" "$ROOT/build/cluster/logs/latest"
for b in build/faults/fgen build/faults/fverify build/san/hearthd build/testbroker build/notifylisten; do
        [ -x "$b" ] || { echo "run.sh: $b missing: make faults-tools all san" >&2; exit 2; }
done
for c in redis-server redis-cli redis-benchmark kcat; do
        command -v "$c" >/dev/null || { echo "run.sh: $c not on PATH" >&2; exit 2; }
done
start=$SECONDS
: >"$LOGS/summary.txt"
for r in "${rows[@]}"; do
        r=${r^^}
        echo "== $r $(date +%T)"
        timeout -k 10 "${ROW_TIMEOUT:-600}" bash tests/cluster/rows.sh "$r" >"$LOGS/$r.log" 2>&1
        rc=$?
        line=$(grep "^ROW $r " "$LOGS/$r.log" | tail -1)
        if [ -z "$line" ]; then
                line="ROW $r - - - - - - - FAIL $((SECONDS - start))"
                echo "NOTES $r the row did not finish (status $rc; timeout ${ROW_TIMEOUT:-600} s?): see $LOGS/$r.log" >>"$LOGS/summary.txt"
        fi
        echo "$line" >>"$LOGS/summary.txt"
        grep "^NOTES $r " "$LOGS/$r.log" >>"$LOGS/summary.txt"
        echo "$line" | awk '{printf "   %s %s (%s s)\n", $2, $10, $11}'
done
echo
printf '%-4s %8s %5s %14s %8s %9s %7s %9s %5s %6s\n' row events lost "money(fen)" missing spurious dup_ids diff_pay pass secs
failed=0
while read -r tag r ev lost money miss spur dup diff pass secs; do
        [ "$tag" = ROW ] || continue
        printf '%-4s %8s %5s %14s %8s %9s %7s %9s %5s %6s\n' "$r" "$ev" "$lost" "$money" "$miss" "$spur" "$dup" "$diff" "$pass" "$secs"
        [ "$pass" = pass ] || [ "$pass" = skip ] || failed=$((failed + 1))
done <"$LOGS/summary.txt"
if grep -q '^NOTES ' "$LOGS/summary.txt"; then
        echo
        echo "notes:"
        grep '^NOTES ' "$LOGS/summary.txt" | sed 's/^NOTES /  /' | cut -c1-220
fi
echo
echo "$(grep -c '^ROW ' "$LOGS/summary.txt") rows, $failed failed, $((SECONDS - start)) s"
[ "$failed" = 0 ]
