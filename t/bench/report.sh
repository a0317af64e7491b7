#!/usr/bin/env bash
# tlsgate report's benchmark (issue 14, "Scale"): a generated accounting file
# (gen_accounting: 10,000,000 rows, ~1.4 GB, 100,000 clients of gen_networks'
# 100,000-netblock configuration) read side by side, in interleaved rounds, by a
# mawk one-liner that only counts rows per source, tlsgate report --format text and
# --format json; then --what-if with that 100,000-netblock configuration, the same
# file gzip-compressed, the CSV reading alone against Debian's libcsv
# (csv_reader_bench), and the report's peak RSS on a tenth of the rows (memory grows
# with clients, not rows). Every answer is checked against the generator's counts
# (rows and decisions per source, would-rejects); no timing is asserted.
#   t/bench/report.sh           the full size (make bench)
#   t/bench/report.sh --smoke   20,000 rows, 300 netblocks, one round (make bench-smoke)
# Wall and CPU (user + system) seconds from GNU time: the machine may be shared, so
# the CPU rate is the one-core figure. Prints each command, then Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build}
out=$build/bench/report
if [[ ${1:-} == --smoke ]]; then
    rows=20000 small=2000 netblocks=300 clients=300 rounds=1
else
    rows=10000000 small=1000000 netblocks=100000 clients=100000 rounds=3
fi
for tool in tlsgate gen_networks gen_accounting csv_reader_bench; do
    [[ -x $build/$tool ]] || { echo "report.sh: $build/$tool missing: run make first" >&2; exit 1; }
done
for tool in mawk gzip /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "report.sh: $tool missing" >&2; exit 1; }
done
. t/bench/lib.sh
group() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
mkdir -p "$out"

# The netblocks (lookup.sh makes the same ones; reused when there).
nets=$build/bench/$netblocks
[[ -s $nets/expected.txt ]] || run "$build/gen_networks" "$netblocks" "$nets" 1000000 >&2
for n in "$rows" "$small"; do
    dir=$out/$n
    if [[ ! -s $dir/expected.txt || $(sed -n 's/^rows //p' "$dir/expected.txt") != "$n" ]]; then
        run "$build/gen_accounting" "$n" "$dir" "$nets/addresses.txt" "$nets/expected.txt" \
            "$clients" >&2
    fi
done
file=$out/$rows/accounting.csv
expected=$out/$rows/expected.txt
cat "$file" >/dev/null  # into the page cache: every reader starts warm

# timed NAME CMD...: GNU time's wall, CPU (user + system) seconds and peak RSS of CMD
# into $results/NAME.N; its output into $results/NAME.out, its exit status kept.
results=$out/results
rm -rf "$results"
mkdir -p "$results"
timed() {
    local name=$1 n
    shift
    n=$(find "$results" -name "$name.[0-9]*" | wc -l)
    echo "\$ $*" >&2
    local rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$results/$name.$n" "$@" >"$results/$name.out" || rc=$?
    echo "$rc" >"$results/$name.rc"
}
stat() {  # stat NAME: the median wall and CPU seconds, the largest RSS (MiB)
    # (the last line of each: GNU time puts "Command exited with non-zero status" first)
    local f times=()
    for f in "$results/$1".[0-9]*; do times+=("$(tail -n 1 "$f")"); done
    printf '%s\n' "${times[@]}" | awk '{ print $1 }' | median
    printf '%s\n' "${times[@]}" | awk '{ print $2 + $3 }' | median
    printf '%s\n' "${times[@]}" | awk '{ if ($4 > m) m = $4 } END { printf "%.1f\n", m / 1024 }'
}

mawk_prog='NR > 1 { n[$4]++ } END { for (s in n) print s, n[s] }'
for ((r = 1; r <= rounds; ++r)); do
    timed mawk mawk -F, "$mawk_prog" "$file"
    timed text "$build/tlsgate" report "$file"
    timed json "$build/tlsgate" report --format json "$file"
done
what_if=$nets/tlsgate.ini
for ((r = 1; r <= rounds; ++r)); do
    timed what-if "$build/tlsgate" report --format json --what-if "$what_if" "$file"
done
if [[ ! -s $file.gz || $file.gz -ot $file ]]; then
    echo "\$ gzip -1 -k -f $file" >&2
    gzip -1 -k -f "$file"
fi
timed gzip "$build/tlsgate" report --format json "$file.gz"
timed small "$build/tlsgate" report --format json "$out/$small/accounting.csv"
echo "\$ $build/csv_reader_bench $file" >&2
"$build/csv_reader_bench" "$file" >"$results/reader.out"

# Every answer checked.
python3 - "$results" "$expected" "$out/$small/expected.txt" <<'PY'
import json, sys
results, expected_file, small_file = sys.argv[1:4]
def expected_of(path):
    e = {"sources": {}}
    for line in open(path):
        w = line.split()
        if w[0] == "source":
            e["sources"][w[1]] = {"rows": int(w[2]), "decisions": int(w[3]), "would_reject": int(w[4])}
        else:
            e[w[0]] = int(w[1])
    return e
want = expected_of(expected_file)
def check(what, ok):
    if not ok:
        sys.exit("report.sh: WRONG ANSWER: " + what)
got = dict(l.split() for l in open(results + "/mawk.out"))
check("mawk's rows per source", {k: int(v) for k, v in got.items()} ==
      {k: v["rows"] for k, v in want["sources"].items()})
text = open(results + "/text.out").read()
check("the text report's row count", text.startswith("tlsgate report: %s rows" % format(want["rows"], ",")))
for name, w in (("json", want), ("gzip", want), ("what-if", want), ("small", expected_of(small_file))):
    r = json.load(open("%s/%s.out" % (results, name)))
    check(name + ": rows", r["rows"] == w["rows"] and r["bad_rows"] == 0)
    check(name + ": decisions", r["total"]["decisions"] == w["decisions"])
    check(name + ": would-rejects", r["total"]["would_reject"] == w["would_reject"])
    check(name + ": per source", {k: (v["decisions"], v["would_reject"]) for k, v in r["sources"].items()}
          == {k: (v["decisions"], v["would_reject"]) for k, v in w["sources"].items()})
    if name == "what-if":
        check("what-if: every decision replayed", r["what_if"]["sessions"] == w["decisions"])
        check("what-if: exit 1 (the candidate refuses some)",
              open(results + "/what-if.rc").read().strip() == "1" and r["what_if"]["newly_refused"] > 0)
print("report.sh: every answer checked (rows and decisions per source, would-rejects, replayed)",
      file=sys.stderr)
PY

read -r mawk_wall mawk_cpu _ < <(stat mawk | paste -sd' ')
size=$(du -m "$file" | cut -f1)
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$(group "$rows") rows, $size MB, $(group "$clients") clients; medians of $rounds rounds"
echo
echo "| reader | wall s | CPU s | rows/s (CPU) | rows/s (wall) | ÷ mawk (CPU) | ÷ mawk (wall) | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for name in mawk text json what-if gzip; do
    read -r wall cpu rss < <(stat "$name" | paste -sd' ')
    awk -v n="$name" -v w="$wall" -v c="$cpu" -v r="$rows" -v mw="$mawk_wall" -v mc="$mawk_cpu" \
        -v rss="$rss" -v nets="$(group "$netblocks")" '
        function per(a, b) { return b > 0 ? sprintf("%.0f", a / b) : "-" }
        function times(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        BEGIN {
        label = n == "mawk" ? "mawk one-liner (rows per source)" : \
                n == "what-if" ? "tlsgate report --what-if (" nets " netblocks)" : \
                n == "gzip" ? "tlsgate report, .gz input (gzip -1)" : "tlsgate report --format " n
        printf "| %s | %.2f | %.2f | %s | %s | %s | %s | %s |\n", label, w, c, per(r, c), per(r, w),
               times(mc, c), times(mw, w), rss }'
done
read -r _ _ small_rss < <(stat small | paste -sd' ')
read -r _ _ big_rss < <(stat json | paste -sd' ')
clients_in() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"]["clients"])' "$1"; }
echo
echo "Peak RSS of tlsgate report --format json: $small_rss MiB on $(group "$small") rows" \
    "($(group "$(clients_in "$results/small.out")") distinct clients), $big_rss MiB on" \
    "$(group "$rows") rows ($(group "$(clients_in "$results/json.out")") distinct clients)."
echo
echo "CSV reading alone (\`csv_reader_bench\`, records and fields counted, CPU seconds):"
echo
sed -n 's/^result: reader=\([a-z]*\) records=\([0-9]*\) fields=[0-9]* wall=\([0-9.]*\) cpu=\([0-9.]*\) rows_per_cpu_s=\([0-9]*\)/| \1 | \3 | \4 | \5 |/p' \
    "$results/reader.out" | sed '1i | reader | wall s | CPU s | rows/s (CPU) |\n|---|---|---|---|'
