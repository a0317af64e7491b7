#!/usr/bin/env bash
# End-to-end through Postfix (issue "Benchmarks", part 2): a private Postfix instance
# on 127.0.0.1 (postfix -c DIR) relaying every message to smtp-sink on 10041, one
# smtpd per variant (its own port and -o smtpd_milters / smtpd_recipient_restrictions:
# no reload between rounds), smtp-source as the client (one message per SMTP
# session), in interleaved rounds A B C D E A B C D E ...:
#   none      no milter
#   noop      build/noop_milter (every callback SMFIS_CONTINUE): the floor any milter pays
#   before    (only with BEFORE=PATH, a tlsgate binary built from an older commit) that
#             tlsgate as the milter, the example policy: the milter before a change
#   tlsgate   tlsgate with etc/tlsgate.ini (the client, 127.0.0.1, falls to [source default])
#   tg100k    tlsgate with gen_networks' 100,000 netblocks plus [source local] 127.0.0.0/8
#   policy    no milter; tlsgate's policy service (socket = none, policy_socket) with
#             etc/tlsgate.ini, asked at RCPT and at END-OF-DATA as the README says
#   partner   (issue 21) tlsgate milter with etc/tlsgate.ini plus gen_partners' partners
#             (100,000 domain patterns) and two that apply to every message: [partner
#             bench] (sender_domains = example.test, networks = 127.0.0.0/8) and
#             [partner sink] (recipient_domains = sink.test), which keeps RCPT in the
#             milter's negotiation; every message passes both
#   ppartner  the same configuration in tlsgate's policy service
#   postfwd   no milter; postfwd (Debian) as check_policy_service with the example's rules,
#             its request cache on (its default)
#   postfwd-nc the same with its request cache off (-c 0): smtp-source sends the same
#             sender, recipient and size every time, so with the cache on postfwd answers
#             all but the first request from it, which real mail (varied senders and
#             recipients) does not allow
# Messages/s = messages counted at the sink / (time from smtp-source's start until the
# sink has them all: the queue drained). Milter CPU per message = utime + stime of the
# milter process (/proc/PID/stat) over the round / messages. Medians over the rounds.
# Then one more round of each variant but tg100k and postfwd (cache on) under
# `perf record -a` (if perf works): where the CPU goes, by command.
# The milters log through /dev/log to a private rsyslog, tlsgate with stderr on
# /dev/null, as under its systemd unit.
#   t/bench/postfix.sh           5 rounds of 2,000 messages, 20 sessions in parallel
#   t/bench/postfix.sh --smoke   1 round of 30 messages, no perf (make check)
# Checks that every message reached the sink in every round and that every
# tlsgate logged every message accepted. Ports: 10039-10040 10042-10049 (smtpd) and
# 10041 (sink), milters 18913-18915, 18919 and 18920, postfwd 18916 and 18917,
# tlsgate's policy service 18918 and 18921, all on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build}
out=$(realpath -m "$build/bench/postfix")
if [[ ${1:-} == --smoke ]]; then
    smoke=1 rounds=1 msgs=30 par=5
else
    smoke= rounds=5 msgs=2000 par=20
fi
rounds=${ROUNDS:-$rounds} msgs=${MSGS:-$msgs} par=${PAR:-$par}  # overrides, for trying things
variants=(none noop tlsgate tg100k partner policy ppartner postfwd postfwd-nc)
before=${BEFORE:-}
if [[ -n $before ]]; then
    [[ -x $before ]] || { echo "postfix.sh: BEFORE=$before is not an executable" >&2; exit 1; }
    variants=(none noop before tlsgate tg100k partner policy ppartner postfwd postfwd-nc)
fi
for tool in tlsgate noop_milter gen_networks gen_partners; do
    [[ -x $build/$tool ]] || { echo "postfix.sh: $build/$tool missing: run make first" >&2; exit 1; }
done
for tool in postfix smtp-source smtp-sink postfwd; do
    command -v "$tool" >/dev/null || { echo "postfix.sh: $tool missing: run t/bench/need-tools.sh" >&2; exit 1; }
done

# The milters' syslog(3) goes to a private rsyslog (t/integration/lib/syslog.sh), as
# on a production host; this machine has no /dev/log of its own.
. t/integration/lib/syslog.sh
pf=$out/pf
pids=()
cleanup() {
    tg_syslog_stop "$out/syslog"
    postfix -c "$pf" stop >/dev/null 2>&1 || true
    [[ -s $out/postfwd.pid ]] && "${postfwd[@]}" --kill >/dev/null 2>&1
    [[ -s $out/postfwd-nc.pid ]] && "${postfwd_nc[@]}" --kill >/dev/null 2>&1
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
. t/bench/lib.sh
spawn_logged() {  # spawn_logged LOG CMD...: spawn, with /dev/log reaching the private rsyslog
    echo "\$ ${*:2} 2>$1 &   (syslog: $TG_SYSLOG_FILE)" >&2
    spawn_with_syslog "${@:2}" >"$1" 2>&1
    spawned=$TG_SPAWNED_PID
    pids+=("$spawned")
}
spawn() {  # spawn LOG CMD...: background, sets spawned
    echo "\$ ${*:2} 2>$1 &" >&2
    "${@:2}" >"$1" 2>&1 &
    spawned=$!
    pids+=("$spawned")
}

[[ -e $pf/queue/pid/master.pid ]] && { postfix -c "$pf" stop >/dev/null 2>&1 || true; }
rm -rf "$out"
mkdir -p "$pf/queue" "$pf/data" "$out/tlsgate" "$out/tg100k" "$out/policy" "$out/before" \
    "$out/partner" "$out/ppartner"
chown postfix: "$pf/data"  # master.lock; the queue directories are made by postfix check
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >&2

# The milters and the policy server.
sed -e "s|^accounting_file = .*|accounting_file = $out/tlsgate/accounting.csv|" \
    -e "s|^pid_file = .*|pid_file = $out/tlsgate/tlsgate.pid|" \
    -e "s|^metrics_file = .*|metrics_file = $out/tlsgate/tlsgate.prom|" \
    -e '/^user = /d' -e '/^group = /d' etc/tlsgate.ini >"$out/tlsgate/tlsgate.ini"
cp etc/legacy-networks.txt "$out/tlsgate/"
# The policy service and the older milter: the same file, their own pid file and CSV.
for d in policy before partner ppartner; do
    sed -e "s|$out/tlsgate/|$out/$d/|" "$out/tlsgate/tlsgate.ini" >"$out/$d/tlsgate.ini"
    cp etc/legacy-networks.txt "$out/$d/"
done
as_policy_service() { # as_policy_service INI PORT: no milter socket, the policy service on PORT
    sed -i -e "s|^socket = .*|socket = none\\npolicy_socket = inet:$2@127.0.0.1|" "$1"
    grep -q "^policy_socket = inet:$2@127.0.0.1\$" "$1"
}
as_policy_service "$out/policy/tlsgate.ini" 18918
# The partner configuration: the example's, gen_partners' [partner] sections (not its
# [source default]) and the two partners every benchmark message meets.
partners=$build/bench/partners-100000
if [[ -n $smoke ]]; then partners=$build/bench/partners-300; fi
[[ -s $partners/tlsgate.ini ]] || run "$build/gen_partners" "${partners##*-}" "$partners" 1000 >&2
for d in partner ppartner; do
    {
        sed -n '/^\[partner /,$p' "$partners/tlsgate.ini"
        printf '\n; the benchmark messages: sender@example.test from 127.0.0.1 to rcpt@sink.test\n'
        printf '[partner bench]\nsender_domains = example.test\nnetworks = 127.0.0.0/8\nrequire_starttls_before_auth = yes\n\n'
        printf '[partner sink]\nrecipient_domains = sink.test\nrequire_starttls_before_auth = yes\n'
    } >>"$out/$d/tlsgate.ini"
done
as_policy_service "$out/ppartner/tlsgate.ini" 18921
run "$build/tlsgate" --explain 127.0.0.1 --sender sender@example.test --recipient rcpt@sink.test \
    -c "$out/partner/tlsgate.ini" >"$out/partner/explain.txt"
grep -q '^partner=bench ' "$out/partner/explain.txt" && grep -q '^partner=sink ' "$out/partner/explain.txt"
big=$build/bench/100000
if [[ -n $smoke ]]; then big=$build/bench/300; fi
bign=$(basename "$big")
[[ -s $big/tlsgate.ini ]] || run "$build/gen_networks" "$bign" "$big" 1000 >&2
cp "$big"/*.txt "$out/tg100k/"
{
    cat "$big/tlsgate.ini"
    printf '\n; the benchmark client\n[source local]\nnetworks = 127.0.0.0/8\nrequire_starttls = no\n'
} >"$out/tg100k/tlsgate.ini"
run "$build/tlsgate" --explain 127.0.0.1 -c "$out/tg100k/tlsgate.ini" | head -1 | grep -qx 'source=local'
run "$build/tlsgate" --explain 127.0.0.1 -c "$out/tlsgate/tlsgate.ini" | head -1 | grep -qx 'source=default'

tg_syslog_stop "$out/syslog" 2>/dev/null || true  # one left by an interrupted run
rm -rf "$out/syslog"
tg_syslog_start "$out/syslog"
spawn_logged "$out/noop.log" "$build/noop_milter" inet:18913@127.0.0.1
declare -A mpid=([noop]=$spawned)
# tlsgate like under the systemd unit: -f with stderr on /dev/null, lines to syslog only.
spawn_logged /dev/null "$build/tlsgate" -f -c "$out/tlsgate/tlsgate.ini" -p inet:18914@127.0.0.1
mpid[tlsgate]=$spawned
spawn_logged /dev/null "$build/tlsgate" -f -c "$out/tg100k/tlsgate.ini" -p inet:18915@127.0.0.1
mpid[tg100k]=$spawned
spawn_logged /dev/null "$build/tlsgate" -f -c "$out/policy/tlsgate.ini"
mpid[policy]=$spawned
spawn_logged /dev/null "$build/tlsgate" -f -c "$out/partner/tlsgate.ini" -p inet:18920@127.0.0.1
mpid[partner]=$spawned
spawn_logged /dev/null "$build/tlsgate" -f -c "$out/ppartner/tlsgate.ini"
mpid[ppartner]=$spawned
if [[ -n $before ]]; then
    # An older tlsgate may not know the newer [milter] keys (metrics_*): without them.
    sed -i '/^metrics_/d' "$out/before/tlsgate.ini"
    run "$before" -n -c "$out/before/tlsgate.ini" >&2
    spawn_logged /dev/null "$before" -f -c "$out/before/tlsgate.ini" -p inet:18919@127.0.0.1
    mpid[before]=$spawned
fi

# postfwd: the example configuration's rules as a policy service (checked at RCPT).
cat >"$out/postfwd.cf" <<'EOF'
# etc/tlsgate.ini as postfwd rules. [source partners] and [source partners-relay]:
id=partners-tls; client_address=192.0.2.0/24; encryption_protocol=!!(TLS); action=REJECT 5.7.0 Must issue a STARTTLS command first
id=partners-ver; client_address=192.0.2.0/24; encryption_protocol=^TLSv1(\.1)?$; action=REJECT 5.7.0 TLS protocol or cipher not accepted
id=partners-bits; client_address=192.0.2.0/24; encryption_keysize<=127; action=REJECT 5.7.0 TLS protocol or cipher not accepted
id=relay-cert; client_address=192.0.2.25/32; ccert_subject=!!(relay\.partner\.example); action=REJECT 5.7.0 A trusted client certificate is required
# [source submission]
id=sub-tls; client_address=198.51.100.0/24; encryption_protocol=!!(TLS); action=450 4.7.0 Must issue a STARTTLS command first
id=sub-ver; client_address=198.51.100.0/24; encryption_protocol=^TLSv1(\.1)?$; action=454 4.7.0 TLS protocol or cipher not accepted
# [source default] (every other client, 127.0.0.1 included): no PLAIN/LOGIN and no AUTH without TLS
id=plain-auth; sasl_method=^(PLAIN|LOGIN)$; encryption_protocol=!!(TLS); action=REJECT 5.7.10 Encryption needed for PLAIN/LOGIN authentication
id=auth-tls; sasl_method=.; encryption_protocol=!!(TLS); action=REJECT 5.7.10 Encryption needed: authenticate after STARTTLS
id=default; action=DUNNO
EOF
# As a daemon (it forks a cache process and preforked policy children; with
# --nodaemon it did not listen at all here); stopped with --kill.
# Each instance has its own cache socket (the default is one path in /var/tmp).
postfwd=(postfwd -f "$out/postfwd.cf" -i 127.0.0.1 -p 18916 --pidfile "$out/postfwd.pid"
    --cache_proto unix --cache_port /var/tmp/tlsgate-bench-postfwd-cache.socket)
run "${postfwd[@]}" -u nobody -g nogroup --nodns --norulelog >"$out/postfwd.log" 2>&1
postfwd_nc=(postfwd -f "$out/postfwd.cf" -i 127.0.0.1 -p 18917 --pidfile "$out/postfwd-nc.pid"
    --cache_proto unix --cache_port /var/tmp/tlsgate-bench-postfwd-nc-cache.socket)
run "${postfwd_nc[@]}" -c 0 -u nobody -g nogroup --nodns --norulelog >"$out/postfwd-nc.log" 2>&1
for port in 18913 18914 18915 18916 18917 18918 ${before:+18919} 18920 18921; do wait_listen "$port"; done

# The sink.
spawn "$out/sink.out" smtp-sink -c -u nobody 127.0.0.1:10041 1000
wait_listen 10041
sink_count() { tr '\r' '\n' <"$out/sink.out" | sed -n 's/.* mesg=//p' | tail -1; }

# The private Postfix.
cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains = sink.test
relayhost = [127.0.0.1]:10041
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtp_host_lookup = native
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
milter_default_action = tempfail
in_flow_delay = 0
default_process_limit = 200
smtp_destination_concurrency_limit = 100
default_destination_concurrency_limit = 100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
EOF
cat >"$pf/master.cf" <<'EOF'
127.0.0.1:10040 inet n - n - - smtpd
127.0.0.1:10042 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:18913
127.0.0.1:10043 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:18914
127.0.0.1:10044 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:18915
127.0.0.1:10046 inet n - n - - smtpd -o smtpd_recipient_restrictions=check_policy_service,inet:127.0.0.1:18916
127.0.0.1:10047 inet n - n - - smtpd -o smtpd_recipient_restrictions=check_policy_service,inet:127.0.0.1:18917
127.0.0.1:10048 inet n - n - - smtpd -o smtpd_recipient_restrictions=check_policy_service,inet:127.0.0.1:18918 -o smtpd_end_of_data_restrictions=check_policy_service,inet:127.0.0.1:18918
127.0.0.1:10049 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:18919
127.0.0.1:10045 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:18920
127.0.0.1:10039 inet n - n - - smtpd -o smtpd_recipient_restrictions=check_policy_service,inet:127.0.0.1:18921 -o smtpd_end_of_data_restrictions=check_policy_service,inet:127.0.0.1:18921
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
# postfix start runs the same checks (warnings only); the explicit one also stops on
# an error, ~3 s: not in the smoke run.
[[ -n $smoke ]] || run postfix -c "$pf" check
run postfix -c "$pf" start 2>&1 | sed 's/^/  /' >&2
declare -A smtp_port=([none]=10040 [noop]=10042 [tlsgate]=10043 [tg100k]=10044 [postfwd]=10046
    [postfwd-nc]=10047 [policy]=10048 [before]=10049 [partner]=10045 [ppartner]=10039)
for v in "${variants[@]}"; do wait_listen "${smtp_port[$v]}"; done

declare -A rate cpu
expected=0
src=(smtp-source -s "$par" -m "$msgs" -l 1000 -f sender@example.test -t rcpt@sink.test)
echo "\$ ${src[*]} 127.0.0.1:PORT   (per round; the variant's smtpd port)" >&2
one_round() {  # one_round VARIANT: sets r_rate r_cpu
    local v=$1 c0= c1 t0 t1 n
    [[ -n ${mpid[$v]:-} ]] && c0=$(cpu_ticks "${mpid[$v]}")
    t0=$(date +%s%N)
    "${src[@]}" "127.0.0.1:${smtp_port[$v]}"
    expected=$((expected + msgs))
    for _ in $(seq 1200); do  # up to 120 s for the queue to drain
        n=$(sink_count)
        ((${n:-0} >= expected)) && break
        sleep 0.1
    done
    t1=$(date +%s%N)
    if ((${n:-0} != expected)); then
        echo "postfix.sh: $v: the sink has ${n:-0} messages, expected $expected" >&2
        postqueue -c "$pf" -p | tail -5 >&2
        tail -5 "$pf/maillog" >&2
        exit 1
    fi
    r_rate=$(awk -v n="$msgs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / ((b - a) / 1e9) }')
    r_cpu=-
    if [[ -n $c0 ]]; then
        c1=$(cpu_ticks "${mpid[$v]}")
        r_cpu=$(awk -v a="$c0" -v b="$c1" -v n="$msgs" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.1f", (b - a) / hz / n * 1e6 }')
    fi
}
for ((r = 1; r <= rounds; r++)); do
    for v in "${variants[@]}"; do
        one_round "$v"
        echo "  round $r $v: $msgs messages at the sink, $r_rate msg/s, process CPU $r_cpu µs/msg" >&2
        rate[$v]+="$r_rate "
        cpu[$v]+="$r_cpu "
    done
done
# Each tlsgate must have accepted (and logged) every message: one accept line per
# message in syslog (rsyslog writes asynchronously: wait for it).
accepts_of() { grep -c "tlsgate\[$1\]: .*action=accept" "$TG_SYSLOG_FILE" || true; }
accepts_logged() { (($(accepts_of "$1") >= $2)); } # accepts_logged PID MIN
for v in "${variants[@]}"; do
    [[ $v == @(tlsgate|tg100k|policy|before|partner|ppartner) ]] || continue
    if ! tg_wait_for 20 "$v's accept lines" accepts_logged "${mpid[$v]}" $((rounds * msgs)); then
        echo "postfix.sh: $v logged $(accepts_of "${mpid[$v]}") accepted messages," \
            "expected $((rounds * msgs))" >&2
        exit 1
    fi
done
# ... and the partner variants under both partners: the lookups really happened.
for v in partner ppartner; do
    n=$(grep -c "tlsgate\[${mpid[$v]}\]: .*action=accept .* partner=bench,sink sender_domain=example\.test " \
        "$TG_SYSLOG_FILE" || true)
    ((n >= rounds * msgs)) ||
        { echo "postfix.sh: $v: $n accept lines name partner=bench,sink, expected $((rounds * msgs))" >&2; exit 1; }
done

# Where the time goes: one more round of each variant with the whole system sampled.
profiled=()
declare -A profile tg_dso tg_sym
if [[ -z $smoke ]] && perf record -o /dev/null -a true >/dev/null 2>&1; then
    for v in "${variants[@]}"; do
        [[ $v == @(tg100k|postfwd|ppartner) ]] && continue
        echo "\$ perf record -a -g -o $out/perf-$v.data -- (one more $v round); perf report --sort comm" >&2
        perf record -q -a -g -o "$out/perf-$v.data" -- sleep 3600 >/dev/null 2>&1 &
        perf_pid=$!
        sleep 1
        one_round "$v"
        kill -INT "$perf_pid"
        wait "$perf_pid" 2>/dev/null || true
        # Reports go to files first: head closing a pipe from perf report would kill it
        # with SIGPIPE, which pipefail turns into the script's exit.
        perf_by() { perf report -i "$out/perf-$v.data" --no-children --sort "$1" --stdio -g none \
            >"$out/perf-$v-$1.txt" 2>/dev/null || true; }
        perf_by comm
        perf_by comm,dso,sym
        profile[$v]=$(grep -v '^#' "$out/perf-$v-comm.txt" | grep '%' | head -8 || true)
        tg_sym[$v]=
        [[ $v == @(before|tlsgate|policy|partner) ]] &&
            tg_sym[$v]=$(grep -E '%  tlsgate ' "$out/perf-$v-comm,dso,sym.txt" | head -8 || true)
        profiled+=("$v")
    done
fi
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2

med() { tr ' ' '\n' <<<"$1" | grep -v '^-*$' | median; }
echo
echo "End-to-end through Postfix ($rounds interleaved round(s) of $msgs messages, $par sessions in parallel, one message a session; medians):"
echo
echo "| variant | messages/s | ÷ no-op milter | milter CPU µs/message | ÷ no-op CPU | rounds (msg/s) |"
echo "|---|---|---|---|---|---|"
base=$(med "${rate[noop]}")
basecpu=$(med "${cpu[noop]}")
declare -A label=([none]="(a) no milter" [noop]="(b) no-op milter" [tlsgate]="(c) tlsgate milter, example policy"
    [tg100k]="(d) tlsgate milter, $bign netblocks" [policy]="(e) tlsgate policy service, example policy"
    [postfwd]="postfwd policy service, no milter" [postfwd-nc]="postfwd, request cache off"
    [before]="tlsgate milter before ($before)"
    [partner]="(f) tlsgate milter, example policy + ${partners##*-} partner domains"
    [ppartner]="(g) tlsgate policy service, example policy + ${partners##*-} partner domains")
for v in "${variants[@]}"; do
    m=$(med "${rate[$v]}")
    c=-
    cr=-
    if [[ ${cpu[$v]} != *-* ]]; then
        c=$(med "${cpu[$v]}")
        cr=$(awk -v a="$c" -v b="$basecpu" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    fi
    printf '| %s | %.1f | %.2f | %s | %s | %s |\n' "${label[$v]}" "$m" \
        "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')" "$c" "$cr" "${rate[$v]% }"
done
echo
for pv in postfwd postfwd-nc; do
    printf 'tlsgate ÷ Postfix+%s: %.2f (example policy), %.2f (%s netblocks)\n' \
        "$([[ $pv == postfwd ]] && echo "postfwd (cache on)" || echo "postfwd (cache off)")" \
        "$(awk -v a="$(med "${rate[tlsgate]}")" -v b="$(med "${rate[$pv]}")" 'BEGIN { print a / b }')" \
        "$(awk -v a="$(med "${rate[tg100k]}")" -v b="$(med "${rate[$pv]}")" 'BEGIN { print a / b }')" "$bign"
done
target() {  # target NAME VALUE OP LIMIT
    printf '| %s | %s | %s |\n' "$1" "$2" "$(awk -v v="$2" -v l="$4" -v op="$3" \
        'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print v == "-" ? "-" : ok ? "yes" : "no" }')"
}
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
echo
echo "| target | measured | met |"
echo "|---|---|---|"
target "(e) ÷ (a) messages/s ≥ 0.90" "$(ratio "${rate[policy]}" "${rate[none]}")" ">=" 0.90
target "(e) ÷ (b) messages/s ≥ 1.20" "$(ratio "${rate[policy]}" "${rate[noop]}")" ">=" 1.20
target "(e) ÷ Postfix+postfwd (cache off) messages/s ≥ 1.10" "$(ratio "${rate[policy]}" "${rate[postfwd-nc]}")" ">=" 1.10
target "(e) CPU/message ≤ 0.30 × (b)" "$(ratio "${cpu[policy]}" "${cpu[noop]}")" "<=" 0.30
target "(c) ÷ (b) messages/s ≥ 0.95" "$(ratio "${rate[tlsgate]}" "${rate[noop]}")" ">=" 0.95
target "(c) milter CPU/message ≤ 0.90 × (b)" "$(ratio "${cpu[tlsgate]}" "${cpu[noop]}")" "<=" 0.90
target "(d) ÷ (b) messages/s ≥ 0.95" "$(ratio "${rate[tg100k]}" "${rate[noop]}")" ">=" 0.95
target "(d) milter CPU/message ≤ 0.90 × (b)" "$(ratio "${cpu[tg100k]}" "${cpu[noop]}")" "<=" 0.90
echo
printf 'partner configuration ÷ netblock-only (issue 21): milter messages/s %s, CPU/message %s; policy service messages/s %s, CPU/message %s\n' \
    "$(ratio "${rate[partner]}" "${rate[tlsgate]}")" "$(ratio "${cpu[partner]}" "${cpu[tlsgate]}")" \
    "$(ratio "${rate[ppartner]}" "${rate[policy]}")" "$(ratio "${cpu[ppartner]}" "${cpu[policy]}")"
if [[ -n $before ]]; then
    echo
    printf 'tlsgate milter after ÷ before: messages/s %s, CPU/message %s\n' \
        "$(ratio "${rate[tlsgate]}" "${rate[before]}")" "$(ratio "${cpu[tlsgate]}" "${cpu[before]}")"
fi
for v in "${profiled[@]}"; do
    echo
    echo "perf, whole system during one more round of ${label[$v]} (share of samples by command):"
    echo
    echo '```'
    echo "${profile[$v]}"
    echo '```'
    if [[ -n ${tg_sym[$v]} ]]; then
        echo
        echo "tlsgate's samples by library and function (shares of all samples):"
        echo
        echo '```'
        echo "${tg_sym[$v]}"
        echo '```'
    fi
done
