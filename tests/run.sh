#!/bin/bash
# Runs every unit test binary (build/san/test_*) and integration script
# (tests/integration/*.sh), counts their TAP lines and ends with one line
# "N passed, N failed". TESTS=unit or TESTS=integration runs one kind;
# ONLY=pattern runs the matching files; TEST_JOBS=N runs N integration
# scripts at a time (2). Exit status 1 on any failure.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
pass=0
fail=0
declare -a failed_names

# Runs one test into its output file; the status goes beside it.
run_to() {
        local out=$1; shift
        "$@" >"$out" 2>&1
        echo $? >"$out.rc"
}

# Counts and prints the result of one test run by run_to.
report_one() {
        local name=$1 out=$2 rc p f
        rc=$(cat "$out.rc" 2>/dev/null || echo 1)
        echo "== $name"
        p=$(grep -cE '^ok [0-9]+' "$out")
        f=$(grep -cE '^not ok [0-9]+' "$out")
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
                f=1
                echo "not ok - $name exited with status $rc"
        fi
        if [ "$f" != 0 ] || [ -n "${VERBOSE:-}" ]; then cat "$out"; else grep -E '^(#|ok)' "$out" | grep -vE '^# (kept|ok)' | head -200; fi
        if [ "$p" = 0 ] && [ "$f" = 0 ]; then
                f=1
                echo "not ok - $name ran no test"
        fi
        pass=$((pass + p))
        fail=$((fail + f))
        [ "$f" = 0 ] || failed_names+=("$name")
        rm -f "$out" "$out.rc"
}

run_one() {
        local name=$1 out
        shift
        out=$(mktemp)
        run_to "$out" "$@"
        report_one "$name" "$out"
}

if [ "${TESTS:-all}" != integration ]; then
        for t in build/san/test_*; do
                [ -x "$t" ] || continue
                [ -n "${ONLY:-}" ] && [[ $t != *$ONLY* ]] && continue
                CMOCKA_MESSAGE_OUTPUT=TAP run_one "$(basename "$t")" "$t"
        done
fi
# Integration scripts run TEST_JOBS at a time (default 2): most of their
# time is waiting for a broker, Redis or a timeout, not CPU. Each has its own
# temp dir, Redis port and broker; results print in file order.
if [ "${TESTS:-all}" != unit ]; then
        jobs_max=${TEST_JOBS:-2}
        outdir=$(mktemp -d)
        declare -a names
        for t in tests/integration/*.sh; do
                [ -f "$t" ] || continue
                [ -n "${ONLY:-}" ] && [[ $t != *$ONLY* ]] && continue
                names+=("$(basename "$t" .sh)")
        done
        # the longest first, so that two at a time end together
        mapfile -t order < <(for n in "${names[@]}"; do echo "$(wc -l <"tests/integration/$n.sh") $n"; done | sort -rn | cut -d' ' -f2)
        for n in "${order[@]}"; do
                while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
                run_to "$outdir/$n" bash "tests/integration/$n.sh" &
        done
        wait
        for n in "${names[@]}"; do report_one "$n" "$outdir/$n"; done
        rmdir "$outdir" 2>/dev/null
fi
[ ${#failed_names[@]} = 0 ] || echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
