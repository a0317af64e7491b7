#!/usr/bin/env bash
# Netblock lookup benchmark, every figure in one run (issue "Benchmarks", part 1):
# per table size, a generated configuration (gen_networks, fixed seed) is loaded
# through tlsgate's loader and its lookups timed (lookup_bench); Postfix's own cidr:
# table is timed on the same netblocks and the same addresses (postmap -q -); and
# `tlsgate -n` on the largest configuration is timed by /usr/bin/time -v. Then the
# partner domains (issue 21): a configuration of [partner NAME] sections
# (gen_partners), its load and the lookup of 4-label sender domains
# (lookup_bench --partners), and `tlsgate -n` on it.
#   t/bench/lookup.sh           1,000 / 100,000 / 1,000,000 netblocks, 100,000 partner
#                               domains (make bench)
#   t/bench/lookup.sh --smoke   300 netblocks, 300 partner domains, the same path, a
#                               few seconds (make check)
# Every answer is checked (tlsgate's and Postfix's against the generator's); no
# timing is asserted. Prints each command, then one Markdown table for BENCHMARKS.md.
# Run from the top of the tree after `make build/tlsgate build/lookup_bench
# build/gen_networks`; needs postmap and GNU time (t/bench/need-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build}  # the Makefile passes its BUILD
out=$build/bench
if [[ ${1:-} == --smoke ]]; then
    smoke=1
    sizes=(300)
    addresses=3000
    postmap_sizes=(300)
    partner_sizes=(300)
else
    smoke=
    sizes=(1000 100000 1000000)
    addresses=1000000
    postmap_sizes=(1000 100000)
    partner_sizes=(100000)
fi
largest=${sizes[-1]}
# Postfix's cidr: table is a linear scan: as many keys as keep each run to seconds.
postmap_keys() {
    if ((smoke)); then echo "$addresses"; elif (($1 <= 10000)); then echo 200000; else echo 50000; fi
}

for tool in "$build/tlsgate" "$build/lookup_bench" "$build/gen_networks" "$build/gen_partners"; do
    [[ -x $tool ]] || { echo "lookup.sh: $tool missing: run make first" >&2; exit 1; }
done
for tool in postmap /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "lookup.sh: $tool missing: run t/bench/need-tools.sh" >&2; exit 1; }
done

. t/bench/lib.sh
now_ns() { date +%s%N; }
group() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }  # 1000000 -> 1,000,000

mkdir -p "$out/postfix"
: >"$out/postfix/main.cf"  # postmap wants a main.cf; an empty one will do

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
    "$(nproc) CPUs, $(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2

declare -A row
for n in "${sizes[@]}"; do
    dir=$out/$n
    run "$build/gen_networks" "$n" "$dir" "$addresses" >&2
    bench=$(run "$build/lookup_bench" "$dir/tlsgate.ini" "$dir/addresses.txt" "$dir/expected.txt")
    echo "$bench" >&2
    result=$(grep '^result:' <<<"$bench")
    get() { field "$1" <<<"$result"; }
    mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
    pm_ns=- ratio=- ratio_parse=-
    if [[ " ${postmap_sizes[*]} " == *" $n "* ]]; then
        keys=$(postmap_keys "$n")
        head -n "$keys" "$dir/addresses.txt" >"$dir/postmap-keys.txt"
        head -n 1 "$dir/addresses.txt" >"$dir/postmap-key1.txt"
        # What Postfix must answer: the same as tlsgate, misses left out.
        paste -d' ' "$dir/postmap-keys.txt" <(head -n "$keys" "$dir/expected.txt") |
            awk '$2 != "default" { print $1 "\t" $2 }' >"$dir/postmap-expected.txt"
        postmap=(postmap -c "$out/postfix" -q - "cidr:$dir/postfix.cidr")
        echo "\$ ${postmap[*]} < $dir/postmap-keys.txt   ($keys keys; minus the same with 1 key)" >&2
        # postmap exits 1 when a key is not found: only the output is checked.
        best1=0 bestk=0
        for _ in 1 2 3; do
            t0=$(now_ns)
            "${postmap[@]}" <"$dir/postmap-key1.txt" >/dev/null || true
            t1=$(now_ns)
            ((best1 == 0 || t1 - t0 < best1)) && best1=$((t1 - t0))
        done
        for _ in $(if ((n <= 10000)); then echo 1 2 3; else echo 1; fi); do
            t0=$(now_ns)
            "${postmap[@]}" <"$dir/postmap-keys.txt" >"$dir/postmap-out.txt" || true
            t1=$(now_ns)
            ((bestk == 0 || t1 - t0 < bestk)) && bestk=$((t1 - t0))
        done
        if ! cmp -s "$dir/postmap-out.txt" "$dir/postmap-expected.txt"; then
            echo "lookup.sh: postmap's answers differ from the expected ones:" >&2
            diff "$dir/postmap-expected.txt" "$dir/postmap-out.txt" | head -5 >&2
            exit 1
        fi
        if ((bestk > best1)); then
            pm_ns=$(awk -v a="$best1" -v b="$bestk" -v k="$keys" 'BEGIN { printf "%.0f", (b - a) / (k - 1) }')
            ratio=$(awk -v p="$pm_ns" -v t="$(get cold_mean)" 'BEGIN { printf "%.0f×", p / t }')
            ratio_parse=$(awk -v p="$pm_ns" -v t="$(get parse_mean)" 'BEGIN { printf "%.0f×", p / t }')
        else
            pm_ns="(too few keys to time)"
        fi
        echo "postmap: $keys keys in $((bestk / 1000000)) ms, 1 key in $((best1 / 1000000)) ms:" \
            "$pm_ns ns a key, every answer checked" >&2
    fi
    row[$n]=$(printf '| %s | %s / %s | %s (%s) | %s | %s / %s | %s / %s | %s | %s | %s / %s |' \
        "$(group "$n")" "$(get load_ms | cut -d. -f1)" "$(get load_cpu_ms | cut -d. -f1)" \
        "$(mib "$(get rss_after_kib)")" "$(mib "$(get rss_before_kib)")" "$(mib "$(get hwm_kib)")" \
        "$(get cold_p50)" "$(get cold_p99)" "$(get warm_p50)" "$(get warm_p99)" \
        "$(get parse_mean)" "$pm_ns" "$ratio" "$ratio_parse")
done

dir=$out/$largest
echo "\$ /usr/bin/time -v $build/tlsgate -n -c $dir/tlsgate.ini" >&2
timing=$({ /usr/bin/time -v "$build/tlsgate" -n -c "$dir/tlsgate.ini" 2>&1 >&3; } 3>&2)
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' <<<"$timing")
user=$(sed -n 's/.*User time (seconds): //p' <<<"$timing")
sys=$(sed -n 's/.*System time (seconds): //p' <<<"$timing")
maxrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' <<<"$timing")

# Partner domains: the sender index at MAIL, every answer checked.
declare -A prow
for n in "${partner_sizes[@]}"; do
    pd=$out/partners-$n
    run "$build/gen_partners" "$n" "$pd" "$addresses" >&2
    bench=$(run "$build/lookup_bench" --partners "$pd/tlsgate.ini" "$pd/domains.txt" "$pd/expected.txt")
    echo "$bench" >&2
    result=$(grep '^result:' <<<"$bench")
    get() { field "$1" <<<"$result"; }
    prow[$n]=$(printf '| %s (%s partners) | %s / %s | %s (%s) | %s | %s | %s / %s | %s / %s | %s |' \
        "$(group "$n")" "$(group "$(get partners)")" "$(get load_ms | cut -d. -f1)" \
        "$(get load_cpu_ms | cut -d. -f1)" "$(mib "$(get rss_after_kib)")" \
        "$(mib "$(get rss_before_kib)")" "$(mib "$(get hwm_kib)")" \
        "$(awk -v b="$(get index_bytes)" 'BEGIN { printf "%.1f", b / 1048576 }')" \
        "$(get cold_p50)" "$(get cold_p99)" "$(get warm_p50)" "$(get warm_p99)" "$(get parse_mean)")
done
pdir=$out/partners-${partner_sizes[-1]}
echo "\$ /usr/bin/time -v $build/tlsgate -n -c $pdir/tlsgate.ini" >&2
ptiming=$({ /usr/bin/time -v "$build/tlsgate" -n -c "$pdir/tlsgate.ini" 2>&1 >&3; } 3>&2)
pwall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' <<<"$ptiming")
puser=$(sed -n 's/.*User time (seconds): //p' <<<"$ptiming")
psys=$(sed -n 's/.*System time (seconds): //p' <<<"$ptiming")
pmaxrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' <<<"$ptiming")
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2

echo
echo "| netblocks | load ms (wall / CPU) | RSS after load, MiB (before) | peak RSS (VmHWM), MiB | cold p50 / p99 ns | warm p50 / p99 ns | parse + lookup ns | Postfix cidr: ns a key | Postfix ÷ tlsgate (lookup / parse + lookup) |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do echo "${row[$n]}"; done
echo
echo "\`/usr/bin/time -v $build/tlsgate -n -c $dir/tlsgate.ini\` ($(group "$largest") netblocks):" \
    "$wall wall, $user s user + $sys s system, maximum RSS $(awk -v k="$maxrss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
echo
echo "| partner domains | load ms (wall / CPU) | RSS after load, MiB (before) | peak RSS (VmHWM), MiB | indexes, MiB | cold p50 / p99 ns | warm p50 / p99 ns | parse + lookup ns |"
echo "|---|---|---|---|---|---|---|---|"
for n in "${partner_sizes[@]}"; do echo "${prow[$n]}"; done
echo
echo "\`/usr/bin/time -v $build/tlsgate -n -c $pdir/tlsgate.ini\` ($(group "${partner_sizes[-1]}") partner domains):" \
    "$pwall wall, $puser s user + $psys s system, maximum RSS $(awk -v k="$pmaxrss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
