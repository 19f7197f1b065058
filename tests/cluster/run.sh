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
for c in redis-server redis-cli redis-benchmark kcat; do
        command -v "$c" >/dev/null || { echo "run.sh: $c not on PATH" >&2; exit 2; }
done
# The faults runner, on this folder's rows (same table, same logs layout).
unset FAULTS
[ $# = 0 ] && [ -n "${CLUSTER_ROWS:-}" ] && IFS=', ' read -r -a _rows <<<"$CLUSTER_ROWS" && set -- "${_rows[@]}"
ROWS_SCRIPT=tests/cluster/rows.sh ROWS_ALL="C1 C2 C3 C4" ROWS_LOGS=build/cluster/logs \
        exec tests/faults/run.sh "$@"
