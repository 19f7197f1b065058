#!/bin/bash
# Runs every unit test binary (build/san/test_*) and integration script
# (tests/integration/*.sh), counts their TAP lines and ends with one line
# "N passed, N failed". TESTS=unit or TESTS=integration runs one kind;
# ONLY=pattern runs the matching files. Exit status 1 on any failure.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
pass=0
fail=0
declare -a failed_names

run_one() {
        local name=$1; shift
        local out rc p f
        out=$(mktemp)
        echo "== $name"
        "$@" >"$out" 2>&1
        rc=$?
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
        rm -f "$out"
}

if [ "${TESTS:-all}" != integration ]; then
        for t in build/san/test_*; do
                [ -x "$t" ] || continue
                [ -n "${ONLY:-}" ] && [[ $t != *$ONLY* ]] && continue
                CMOCKA_MESSAGE_OUTPUT=TAP run_one "$(basename "$t")" "$t"
        done
fi
if [ "${TESTS:-all}" != unit ]; then
        for t in tests/integration/*.sh; do
                [ -f "$t" ] || continue
                [ -n "${ONLY:-}" ] && [[ $t != *$ONLY* ]] && continue
                run_one "$(basename "$t" .sh)" bash "$t"
        done
fi
[ ${#failed_names[@]} = 0 ] || echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
