# The rows of the fault matrix, one function each (tests/faults/README.md).
# bash tests/faults/rows.sh F3 runs one row and prints its ROW line;
# tests/faults/run.sh runs many and prints the table.
ROW=${1:?usage: rows.sh ROW}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QUICK=${FAULTS_QUICK:-}
# q QUICK FULL: a size for the quick or the full matrix.
q() { if [ -n "$QUICK" ]; then echo "$1"; else echo "$2"; fi; }

# F1 baseline: no fault, no duplicate at all.
row_F1() {
        setup 1 || return
        fconfig
        gen_load -H 200 -n "$(q 2000 8000)" -s 1 -b 2
        start_and_register
        local t0=$SECONDS
        produce_load
        quiesce 300
        say "processed in $((SECONDS - t0)) s"
        inst_stop 1
        [ "$IRC" = 0 ] || rfail "SIGTERM exit status $IRC"
        verify_row
}

fn=row_$ROW
if ! declare -F "$fn" >/dev/null; then
        echo "ROW $ROW - - - - - - - FAIL 0"
        echo "NOTES $ROW no such row"
        exit 1
fi
"$fn"
