#!/usr/bin/env bash
# SMTP clients for the integration tests: swaks, plus lib/smtp-client.pl and
# `openssl s_client` for what swaks cannot do.
#
# Source it for:  tg_need_swaks, tg_swaks, tg_smtp_client, tg_s_client_smtp
# Run it:         swaks.sh demo   starts a Postfix container without milter on
#                                 port ${SMTP_PORT:-10026}, runs every case below,
#                                 checks each one (client and Postfix log), stops.
#                 swaks.sh demo-netns   the same container in a private netns,
#                                 clients from 198.51.100.7 and 2001:db8:1::10
#
# Working invocations (tg_swaks adds --server/--port/--from/--to/--helo):
#   plaintext, no AUTH        tg_swaks
#   STARTTLS, TLS 1.2 / 1.3   tg_swaks --tls --tls-protocol tlsv1_2   (or tlsv1_3)
#   one TLS 1.2 cipher        tg_swaks --tls --tls-protocol tlsv1_2 \
#                                      --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
#       (--tls-cipher is SSL_CTX_set_cipher_list: it does not limit TLS 1.3, so
#        pin tlsv1_2 with it; for a TLS 1.3 suite use smtp-client.pl
#        --ciphersuites or openssl s_client -ciphersuites)
#   TLS 1.0 / 1.1             tg_swaks --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0'
#       (Debian's OpenSSL 3 client refuses TLS < 1.2 at its default security
#        level: "legacy sigalg disallowed or unsupported". @SECLEVEL=0 in the
#        cipher string lifts that; the Postfix side accepts TLSv1/1.1 as is.
#        Same for smtp-client.pl --tls-version TLSv1.1 --cipher 'DEFAULT:@SECLEVEL=0')
#   AUTH before TLS           tg_swaks --auth PLAIN --auth-user alice@example.test \
#                                      --auth-password secret     (or --auth LOGIN)
#   AUTH after STARTTLS       tg_swaks --tls --auth PLAIN --auth-user ... --auth-password ...
#   client source address     tg_swaks --local-interface 127.0.0.2
#                             TG_SMTP_SERVER=::1 tg_swaks --local-interface ::1
#                             (any 127.0.0.0/8 address works on Linux lo without
#                              configuration; IPv6 has only ::1 unless you add
#                              addresses, best inside a private `ip netns`)
#   client certificate        tg_swaks --tls --tls-cert DIR/client.crt --tls-key DIR/client.key
#                             (the server asks only with TLS_ASK_CCERT=yes)
#   verify the server         tg_swaks --tls --tls-verify --tls-ca-path DIR/ca.crt
#   no EHLO after STARTTLS    swaks cannot (it always re-EHLOs; exit 32 is
#                             "error in EHLO following TLS"). Use
#                             tg_smtp_client --starttls --no-ehlo-after-tls, or
#                             tg_s_client_smtp: `openssl s_client -starttls smtp`
#                             sends EHLO only BEFORE STARTTLS, never after it.
# swaks exit codes: 0 ok, 2 connect, 21 banner, 22 EHLO, 23 MAIL, 24 RCPT,
# 25 DATA, 26 after DATA, 28 AUTH, 29 TLS, 32 EHLO after TLS.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tg_need_swaks() {
    # libnet-ssleay-perl: swaks' TLS; libio-socket-inet6-perl: swaks' IPv6;
    # libio-socket-ssl-perl: smtp-client.pl; openssl: s_client.
    tg_need_pkgs swaks libnet-ssleay-perl libio-socket-inet6-perl \
        libio-socket-ssl-perl openssl
}

# tg_swaks [SWAKS OPTIONS...]: swaks against the test Postfix. Later options
# win, so callers may override --from/--to/--helo.
tg_swaks() {
    swaks --server "${TG_SMTP_SERVER:-127.0.0.1}" --port "${TG_PF_PORT:-${SMTP_PORT:-10025}}" \
        --from sender@example.net --to bob@example.test --helo client.example.test \
        --timeout 15 "$@"
}

# tg_smtp_client [smtp-client.pl OPTIONS...]
tg_smtp_client() {
    perl "$TG_LIB_DIR/smtp-client.pl" --server "${TG_SMTP_SERVER:-127.0.0.1}" \
        --port "${TG_PF_PORT:-${SMTP_PORT:-10025}}" "$@"
}

# tg_s_client_smtp [S_CLIENT OPTIONS...]: one message through
# `openssl s_client -starttls smtp` (e.g. -tls1_3 -ciphersuites X, -bind ADDR:0).
# Pipelined on purpose: s_client reads stdin only after the handshake.
# -quiet implies -ign_eof, which also turns off s_client's command letters:
# without it "RCPT TO" (R = renegotiate) and "QUIT" (Q) are eaten by s_client.
tg_s_client_smtp() {
    local host=${TG_SMTP_SERVER:-127.0.0.1}
    [[ $host == *:* ]] && host="[$host]"
    printf '%s\n' 'MAIL FROM:<sender@example.net>' 'RCPT TO:<bob@example.test>' DATA \
        'Subject: s_client test' '' 'test message' . QUIT |
        timeout 30 openssl s_client -starttls smtp -name client.example.test \
            -connect "$host:${TG_PF_PORT:-${SMTP_PORT:-10025}}" -crlf -quiet "$@" 2>&1
}

# ---------------------------------------------------------------------------
_tg_swaks6() { TG_SMTP_SERVER=::1 tg_swaks "$@"; }

_demo_n=0 _demo_fail=0 _demo_sent=0
# _demo_log_has FROM_LINE REGEX: the Postfix log has REGEX after line FROM_LINE.
_demo_log_has() { tail -n "+$(($1 + 1))" "$TG_PF_DIR/log/maillog" | grep -Eq "$2"; }
# _demo NAME EXPECT_RC LOG_REGEX CLIENT ARGS...: run a client, check its exit
# code and that the Postfix log got a line matching LOG_REGEX since the start.
_demo() {
    local name=$1 want=$2 logre=$3 out rc=0 lines
    shift 3
    _demo_n=$((_demo_n + 1))
    [[ $want == 0 ]] && _demo_sent=$((_demo_sent + 1))
    lines=$(wc -l <"$TG_PF_DIR/log/maillog")
    out=$("$@" 2>&1) || rc=$?
    # The log line of a finished session may trail the client's exit a little.
    if [[ $rc == "$want" ]] && tg_wait_for 5 "log: $logre" _demo_log_has "$lines" "$logre"; then
        printf 'ok   %-40s %s\n' "$name" "$(grep -E '^(=== TLS (started|TLS)|result=|<\*\* )' <<<"$out" | tail -n 2 | tr '\n' ' ')"
    else
        _demo_fail=$((_demo_fail + 1))
        printf 'FAIL %-40s rc=%s (want %s), log /%s/\n' "$name" "$rc" "$want" "$logre"
        printf '     | %s\n' "$@"
        tail -n 25 <<<"$out" | sed 's/^/     > /'
    fi
}

tg_swaks_demo() {
    tg_need_root
    tg_need_swaks
    # shellcheck source-path=SCRIPTDIR source=postfix-container.sh
    . "$TG_LIB_DIR/postfix-container.sh"
    export SMTP_PORT=${SMTP_PORT:-10026} MILTER=
    pf_start
    trap 'pf_stop' EXIT
    local tls=$TG_PF_DIR/tls
    local auth=(--auth-user alice@example.test --auth-password secret)
    local tlsre='TLS connection established from unknown\[127\.0\.0\.1\]'

    _demo "plaintext, no auth" 0 'status=sent' tg_swaks
    _demo "source 127.0.0.2" 0 'connect from unknown\[127\.0\.0\.2\]' \
        tg_swaks --local-interface 127.0.0.2
    if grep -q . /proc/net/if_inet6; then
        _demo "IPv6 ::1 -> ::1" 0 'connect from unknown\[::1\]' \
            _tg_swaks6 --local-interface ::1
    fi
    _demo "STARTTLS TLSv1.2" 0 "$tlsre: TLSv1\.2 with cipher" \
        tg_swaks --tls --tls-protocol tlsv1_2
    _demo "STARTTLS TLSv1.3" 0 "$tlsre: TLSv1\.3 with cipher" \
        tg_swaks --tls --tls-protocol tlsv1_3
    _demo "STARTTLS TLSv1.1 (@SECLEVEL=0)" 0 "$tlsre: TLSv1\.1 with cipher" \
        tg_swaks --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0'
    _demo "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256" 0 'TLSv1\.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 \(128/128' \
        tg_swaks --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
    _demo "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" 0 'TLSv1\.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384 \(256/256' \
        tg_swaks --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-ECDSA-AES256-GCM-SHA384
    _demo "TLSv1.2 AES128-SHA (RSA kx)" 0 'TLSv1\.2 with cipher AES128-SHA \(128/128' \
        tg_swaks --tls --tls-protocol tlsv1_2 --tls-cipher AES128-SHA
    _demo "AUTH PLAIN before TLS" 0 'sasl_method=PLAIN, sasl_username=alice@example\.test' \
        tg_swaks --auth PLAIN "${auth[@]}"
    _demo "AUTH LOGIN before TLS" 0 'sasl_method=LOGIN, sasl_username=alice@example\.test' \
        tg_swaks --auth LOGIN "${auth[@]}"
    _demo "AUTH PLAIN after STARTTLS" 0 'sasl_method=PLAIN' \
        tg_swaks --tls --auth PLAIN "${auth[@]}"
    _demo "AUTH wrong password" 28 'authentication failed' \
        tg_swaks --auth PLAIN --auth-user alice@example.test --auth-password wrong
    _demo "relay denied unauthenticated" 24 'Relay access denied' \
        tg_swaks --to someone@elsewhere.test
    _demo "relay allowed after AUTH" 0 'relay=virtual.*status=sent' \
        tg_swaks --tls --auth LOGIN "${auth[@]}" --to someone@elsewhere.test
    _demo "verify server against test CA" 0 'TLS connection established' \
        tg_swaks --tls --tls-verify --tls-ca-path "$tls/ca.crt"
    _demo "client certificate offered" 0 'TLS connection established' \
        tg_swaks --tls --tls-cert "$tls/client.crt" --tls-key "$tls/client.key"
    _demo "no EHLO after STARTTLS (smtp-client.pl)" 0 'disconnect from .* ehlo=1 starttls=1 mail=1' \
        tg_smtp_client --local 127.0.0.3 --starttls --no-ehlo-after-tls
    _demo "TLSv1.3 TLS_AES_128_GCM_SHA256 (smtp-client)" 0 'TLSv1\.3 with cipher TLS_AES_128_GCM_SHA256' \
        tg_smtp_client --starttls --tls-version TLSv1.3 --ciphersuites TLS_AES_128_GCM_SHA256
    _demo "AUTH PLAIN, then STARTTLS (smtp-client)" 0 'disconnect from unknown\[127\.0\.0\.4\].* auth=1' \
        tg_smtp_client --local 127.0.0.4 --auth PLAIN --user alice@example.test --password secret --auth-before-tls --starttls
    _demo "s_client -tls1_3 -ciphersuites CHACHA20" 0 'TLSv1\.3 with cipher TLS_CHACHA20_POLY1305_SHA256' \
        tg_s_client_smtp -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -bind 127.0.0.5:0

    # Delivery is asynchronous: wait until every accepted message is in a Maildir.
    _demo_delivered() { find "$TG_PF_DIR/mail" -path '*/new/*' -type f | wc -l; }
    _demo_all_delivered() { [[ $(_demo_delivered) == "$_demo_sent" ]]; }
    tg_wait_for 10 "delivery of $_demo_sent messages" _demo_all_delivered ||
        _demo_fail=$((_demo_fail + 1))
    echo "messages delivered to Maildirs: $(_demo_delivered) (expected $_demo_sent)"
    echo "demo: $((_demo_n - _demo_fail)) passed, $_demo_fail failed"
    ((_demo_fail == 0))
}

# Clients from arbitrary netblocks: container and clients in a private netns.
_tg_demo_ns=
_tg_swaks_ns() {
    ip netns exec "$_tg_demo_ns" bash -c "$(declare -f tg_swaks); tg_swaks \"\$@\"" _ "$@"
}
_tg_swaks_ns6() { TG_SMTP_SERVER=::1 _tg_swaks_ns "$@"; }

tg_swaks_demo_netns() {
    tg_need_root
    tg_need_swaks
    # shellcheck source-path=SCRIPTDIR source=postfix-container.sh
    . "$TG_LIB_DIR/postfix-container.sh"
    _tg_demo_ns=tg-demo-$$
    export TG_PF_NETNS=$_tg_demo_ns SMTP_PORT=${SMTP_PORT:-10025} MILTER=
    tg_netns_up "$_tg_demo_ns" 2001:db8:1::10/128 198.51.100.7/32
    trap 'pf_stop; tg_netns_down "$_tg_demo_ns"' EXIT
    pf_start
    _demo "netns: 198.51.100.7 -> 127.0.0.1" 0 'connect from unknown\[198\.51\.100\.7\]' \
        _tg_swaks_ns --local-interface 198.51.100.7
    _demo "netns: 2001:db8:1::10 -> ::1" 0 'connect from unknown\[2001:db8:1::10\]' \
        _tg_swaks_ns6 --local-interface 2001:db8:1::10
    if ss -Hltn "sport = :$SMTP_PORT" | grep -q .; then
        echo "FAIL netns: port $SMTP_PORT is bound on the host too"
        _demo_fail=$((_demo_fail + 1))
    else
        echo "ok   netns: port $SMTP_PORT not bound on the host"
    fi
    _demo_n=$((_demo_n + 1))
    echo "demo-netns: $((_demo_n - _demo_fail)) passed, $_demo_fail failed"
    ((_demo_fail == 0))
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
    demo) tg_swaks_demo ;;
    demo-netns) tg_swaks_demo_netns ;;
    *)
        echo "usage: $0 demo|demo-netns   (or source it for tg_swaks & co)" >&2
        exit 1
        ;;
    esac
fi
