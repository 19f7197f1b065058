#!/bin/bash
# tests/faults/run.sh [ROW...]: runs rows of the fault matrix (default: all,
# or the comma-separated FAULTS variable), prints the table and exits 1 if a
# row failed. Each row's log is in build/faults/logs/<row>.log; KEEP_TMP=1
# keeps a failed row's temp dir. tests/cluster/run.sh runs its rows through
# this script: ROWS_SCRIPT (the rows' file), ROWS_ALL (the default rows) and
# ROWS_LOGS (the logs' folder) say which.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
ROWS_SCRIPT=${ROWS_SCRIPT:-tests/faults/rows.sh}
ALL=${ROWS_ALL:-"F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 F11 F12 F13 F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 F24 F25 F26 F27 F28 F29"}
rows=("$@")
[ ${#rows[@]} = 0 ] && [ -n "${FAULTS:-}" ] && IFS=', ' read -r -a rows <<<"$FAULTS"
[ ${#rows[@]} = 0 ] && read -r -a rows <<<"$ALL"
# One folder of logs per run (runs may overlap); <logs>/latest.
LOGS_ROOT=$ROOT/${ROWS_LOGS:-build/faults/logs}
LOGS=$LOGS_ROOT/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$LOGS"
ln -sfn "$LOGS" "$LOGS_ROOT/latest"
for b in build/faults/fgen build/faults/fverify build/san/hearthd build/testbroker build/notifylisten; do
        [ -x "$b" ] || { echo "run.sh: $b missing: make faults-tools all san" >&2; exit 2; }
done
start=$SECONDS
: >"$LOGS/summary.txt"
for r in "${rows[@]}"; do
        r=${r^^}
        echo "== $r $(date +%T)"
        timeout -k 10 "${ROW_TIMEOUT:-600}" bash "$ROWS_SCRIPT" "$r" >"$LOGS/$r.log" 2>&1
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
