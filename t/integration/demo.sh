#!/usr/bin/env bash
# make demo: tlsgate with the example rules (etc/tlsgate.ini) in front of a real
# Postfix, and a handful of SMTP sessions from the example's netblocks. For each
# session it prints the SMTP answer next to tlsgate's log line, then stops
# everything. Postfix, tlsgate and the clients share a private network
# namespace whose loopback carries the example addresses, so nothing touches
# the host's network or ports.
#   demo.sh --prepare   only install the test packages and build the Postfix image
#                       (make demo runs it first as a step of its own, quietly)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/postfix-container.sh"
. "$here/lib/swaks.sh"

tg_need_root
tg_need_test_pkgs
if [[ ${1:-} == --prepare ]]; then
    pf_build
    exit 0
fi

ns=tlsgate-demo-$$
work=$(mktemp -d)
milter_pid=
cleanup() {
    if [[ -n $milter_pid ]]; then
        kill "$milter_pid" 2>/dev/null || true
        wait "$milter_pid" 2>/dev/null || true
    fi
    pf_stop >/dev/null 2>&1 || true
    tg_netns_down "$ns"
    rm -rf "$work"
}
trap cleanup EXIT

# Addresses from the example's netblocks (see etc/tlsgate.ini).
tg_netns_up "$ns" 198.18.7.7/32 192.0.2.10/32 192.0.2.25/32 198.51.100.7/32 \
    203.0.113.5/32 2001:db8:100::5/128
in_ns() { ip netns exec "$ns" "$@"; }

# The example as shipped, except where it writes files and which user it becomes.
sed -e "s|^accounting_file = .*|accounting_file = $work/accounting.csv|" \
    -e "s|^pid_file = .*|pid_file = $work/tlsgate.pid|" \
    -e "s|^metrics_file = .*|metrics_file = $work/tlsgate.prom|" \
    -e '/^user = /d' -e '/^group = /d' "$root/etc/tlsgate.ini" >"$work/tlsgate.ini"
cp "$root/etc/legacy-networks.txt" "$work/"

echo "tlsgate demo: the rules of etc/tlsgate.ini, a real Postfix calling tlsgate as its milter."
# Not through in_ns: $! must be tlsgate itself (ip netns exec execs it), not a subshell.
ip netns exec "$ns" "$root/build/tlsgate" -f -c "$work/tlsgate.ini" 2>"$work/tlsgate.log" &
milter_pid=$!
tg_wait_for 10 "tlsgate to listen" grep -q 'started: listening' "$work/tlsgate.log" || {
    cat "$work/tlsgate.log" >&2
    tg_die "tlsgate did not start"
}
sed 's/^/  /' "$work/tlsgate.log"

export TG_PF_NETNS=$ns SMTP_PORT=25 MILTER=inet:127.0.0.1:8891
pf_start 2>/dev/null
echo "  Postfix 3.7 (Debian) on port 25, smtpd_milters = $MILTER, milter_default_action = tempfail"
echo

n=0
session() { # session ADDR SOURCE DESCRIPTION SWAKS-ARGS...
    local addr=$1 src=$2 what=$3 out mark server=127.0.0.1
    shift 3
    n=$((n + 1))
    out=$work/session-$n.out
    mark=$(wc -l <"$work/tlsgate.log")
    [[ $addr == *:* ]] && server=::1
    in_ns swaks --server "$server" --port 25 --local-interface "$addr" \
        --from sender@example.net --to bob@example.test --helo client.example.test \
        --timeout 15 "$@" >"$out" 2>&1 || true
    printf '%d. %s from %s  [source %s]\n' "$n" "$what" "$addr" "$src"
    local answer
    answer=$(grep -E '^<[-~]?\*+ ' "$out" | head -n 1 | sed -E 's/^<[-~]?\*+ +//' || true)
    [[ -n $answer ]] || answer=$(grep -E '^<[-~] +250 2\.0\.0 Ok: queued' "$out" | sed -E 's/^<[-~] +//' || true)
    printf '   SMTP     %s\n' "${answer:-(no answer: see $out)}"
    # tlsgate logs the decision before Postfix answers; stderr is unbuffered.
    tail -n "+$((mark + 1))" "$work/tlsgate.log" | grep -F "client=$addr " |
        sed -E 's/^tlsgate\[[0-9]+\]: /   tlsgate  /' || echo "   tlsgate  (no line)"
    echo
}

auth=(--auth PLAIN --auth-user alice@example.test --auth-password secret)
session 198.18.7.7 default "plaintext, no AUTH"
session 198.18.7.7 default "AUTH PLAIN without STARTTLS" "${auth[@]}"
session 192.0.2.10 partners "plaintext"
session 192.0.2.10 partners "STARTTLS, TLS 1.3" --tls --tls-protocol tlsv1_3
session 192.0.2.10 partners "STARTTLS, TLS 1.2, AES128-SHA (no AEAD)" \
    --tls --tls-protocol tlsv1_2 --tls-cipher AES128-SHA
session 2001:db8:100::5 partners "STARTTLS, TLS 1.2 over IPv6" --tls --tls-protocol tlsv1_2
session 192.0.2.25 partners-relay "STARTTLS, TLS 1.3, no client certificate" \
    --tls --tls-protocol tlsv1_3
session 198.51.100.7 submission "plaintext, AUTH PLAIN (tempfail source)" "${auth[@]}"
session 198.51.100.7 submission "STARTTLS, then AUTH PLAIN" --tls "${auth[@]}"
session 203.0.113.5 legacy "plaintext (monitor mode)"

echo "The accounting file (accounting_file), first rows:"
head -n 4 "$work/accounting.csv" | sed 's/^/  /'
echo
echo "Try your own: build/tlsgate --explain 192.0.2.10 --tls-version TLSv1.2 -c etc/tlsgate.ini"
