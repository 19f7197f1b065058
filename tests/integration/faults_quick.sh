# The quick subset of the fault matrix (tests/faults/README.md): a clean
# run, kill -9 at random instants, crash points, Redis killed and restarted
# from its AOF, every broker down, each with a small load. One TAP line per
# row: lost 0, money difference 0, no missing or spurious alert, no id
# delivered with two payloads, duplicates within the row's bound.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
for b in build/faults/fgen build/faults/fverify; do
        [ -x "$b" ] || { not_ok "$b is built (make faults-tools)"; finish; }
done
out=$(FAULTS_QUICK=1 tests/faults/run.sh ${FAULTS_QUICK_ROWS:-F1 F2 F3 F8 F16} 2>&1)
echo "$out" | sed 's/^/# /'
summary=build/faults/logs/latest/summary.txt
while read -r tag row events lost money missing spurious dups diff pass secs; do
        [ "$tag" = ROW ] || continue
        check "fault row $row: $events events, lost $lost, money $money fen, missing $missing, spurious $spurious, dup ids $dups, diff payloads $diff" \
                test "$pass" = pass
done <"$summary"
grep -q '^ROW ' "$summary" || not_ok "the fault rows ran"
finish
