#!/usr/bin/env bash
# t/step.sh LOG DESCRIPTION CMD...: one line for a step of a longer run (make demo).
# CMD's output is appended to LOG; the line ends in "ok (N s)", or in "FAILED" and
# then the step's output and where the whole log is.
set -uo pipefail
log=$1 what=$2
shift 2
printf '%s ... ' "$what"
start=$(wc -c <"$log" 2>/dev/null || echo 0)
t0=$SECONDS
{ echo "=== $what: $*"; } >>"$log"
"$@" >>"$log" 2>&1
rc=$?
if ((rc == 0)); then
    echo "ok ($((SECONDS - t0)) s)"
    exit 0
fi
echo "FAILED (exit $rc)"
tail -c +"$((start + 1))" "$log" | tail -n 60 | sed 's/^/  | /'
echo "(the whole log: $log)"
exit "$rc"
