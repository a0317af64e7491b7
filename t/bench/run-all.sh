#!/usr/bin/env bash
# make bench: every benchmark of BENCHMARKS.md in one run, then every table again in
# one summary (the commands each part ran are printed as it runs them).
#   part 1  t/bench/lookup.sh    netblock lookup (1k / 100k / 1M netblocks, Postfix cidr:)
#   part 3+4 t/bench/milter.sh   milter protocol without an MTA; tlsgate's RSS
#   part 2  t/bench/postfix.sh   end-to-end through Postfix, postfwd, perf
#   part 5  t/bench/report.sh    tlsgate report: 10,000,000 rows against mawk, --what-if
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
mkdir -p "$build/bench"
start=$(date +%s)
echo "# make bench: $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
    "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: other jobs run too)"
for part in lookup milter postfix report; do
    echo
    echo "## t/bench/$part.sh"
    BUILD=$build "t/bench/$part.sh" | tee "$build/bench/summary-$part.md"
done
echo
echo "=================== summary ==================="
echo "# $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end," \
    "$(($(date +%s) - start)) s in all"
for part in lookup milter postfix report; do
    echo
    echo "## $part"
    cat "$build/bench/summary-$part.md"
done
