#!/usr/bin/env bash
# tlsgate end to end: the tlsgate built on the host, a real Postfix in a
# container calling it (smtpd_milters, milter_default_action = tempfail), real
# STARTTLS and Cyrus SASL, clients (swaks, lib/smtp-client.pl) bound to several
# loopback sources so that each source rule is hit, rsyslog catching tlsgate's
# lines. Then reloads, the accounting CSV, and a stopped tlsgate (fail closed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/syslog.sh"
. "$here/lib/postfix-container.sh"
. "$here/lib/swaks.sh"
. "$here/lib/cases.sh"

tg_need_root
tg_need_test_pkgs
tg_need_pkgs python3

work=$(mktemp -d)
milter_pid=
cleanup() {
    [[ -n $milter_pid ]] && kill "$milter_pid" 2>/dev/null || true
    pf_stop || true
    tg_syslog_stop || true
    rm -rf "$work"
}
trap cleanup EXIT

milter_port=${TG_E2E_MILTER_PORT:-18892}
ipv6=no
grep -q . /proc/net/if_inet6 2>/dev/null && ipv6=yes

# One source per rule under test, each on its own loopback address.
write_config() { # write_config FILE [require_starttls of [source open], default no]
    cat >"$1" <<INI
[milter]
socket = inet:$milter_port@127.0.0.1
accounting_file = $work/accounting.csv
; 127.0.0.1 and everything else: mail only over TLS, no PLAIN/LOGIN in clear.
[source default]
require_starttls = yes
[source open]
networks = 127.0.0.2
require_starttls = ${2:-no}
[source legacy]
networks = 127.0.0.3
require_starttls = yes
mode = monitor
[source lenient]
networks = 127.0.0.4
require_starttls = no
require_starttls_before_auth = no
allow_unencrypted_plain_auth = yes
[source submission]
networks = 127.0.0.5
action = tempfail
[source strong-bits]
networks = 127.0.0.6
min_cipher_bits = 256
[source allow-list]
networks = 127.0.0.7
ciphers = ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384
tls13_ciphersuites = TLS_AES_256_GCM_SHA384
[source tls13-only]
networks = 127.0.0.8
min_tls_version = TLSv1.3
[source auth-after-tls]
networks = 127.0.0.9
require_starttls = no
allow_unencrypted_plain_auth = yes
[source relay]
networks = 127.0.0.10
require_starttls = yes
require_client_cert = yes
client_cert_issuer = tlsgate test CA
[source relay-other-issuer]
networks = 127.0.0.11
require_client_cert = yes
client_cert_issuer = Some Other CA
[source ipv6-local]
networks = ::1/128
require_starttls = no
INI
}
write_config "$work/tlsgate.ini"
"$root/build/tlsgate" -n -c "$work/tlsgate.ini" >/dev/null

tg_syslog_start
spawn_with_syslog "$root/build/tlsgate" -f -c "$work/tlsgate.ini"
milter_pid=$TG_SPAWNED_PID
tg_syslog_wait "tlsgate\[$milter_pid\]: started: listening on inet:$milter_port@127.0.0.1" 20

# Postfix asks for client certificates and verifies them against the test CA
# (it sends {cert_subject}/{cert_issuer} to the milter only for a verified one).
export SMTP_PORT=${SMTP_PORT:-10025} MILTER=inet:127.0.0.1:$milter_port TLS_ASK_CCERT=yes
pf_start
case_init "$work/cases"

auth=(--auth-user alice@example.test --auth-password secret)
cauth=(--user alice@example.test --password secret)
from() { echo --local-interface "$1"; }

echo "== {plaintext, TLS 1.2, TLS 1.3} x {no AUTH, AUTH PLAIN, AUTH LOGIN} from three sources"
# AUTH in a TLS session is AUTH after STARTTLS (swaks authenticates after the TLS EHLO).
#        source  address   plaintext expectations (none / PLAIN / LOGIN)
for row in "default 127.0.0.1 530_5.7.0:reject:starttls_required 530_5.7.10:reject:plaintext_auth 530_5.7.10:reject:plaintext_auth" \
    "open 127.0.0.2 accept:accept:- 530_5.7.10:reject:plaintext_auth 530_5.7.10:reject:plaintext_auth" \
    "lenient 127.0.0.4 accept:accept:- accept:accept:- accept:accept:-"; do
    read -r src addr e_none e_plain e_login <<<"$row"
    for mech in none PLAIN LOGIN; do
        a=() exposed=
        [[ $mech != none ]] && a=(--auth "$mech" "${auth[@]}")
        case $mech in none) e=$e_none ;; PLAIN) e=$e_plain ;; LOGIN) e=$e_login ;; esac
        IFS=: read -r reply action reason <<<"$e"
        # A PLAIN/LOGIN password that crossed in clear is logged as exposed,
        # whatever the verdict.
        [[ $mech != none ]] && exposed=exposed
        scenario "$src-plain-$mech" "$addr" "${reply/_/ }" "$action $reason $src $mech $exposed" \
            -- swaks $(from "$addr") "${a[@]}"
        for v in 1_2 1_3; do
            scenario "$src-tls${v/_/}-$mech" "$addr" accept "accept - $src $mech" \
                -- swaks $(from "$addr") --tls --tls-protocol "tlsv$v" "${a[@]}"
        done
    done
done

echo "== AUTH before STARTTLS, then STARTTLS (RFC 3207: the AUTH is forgotten)"
scenario default-auth-then-tls 127.0.0.1 accept "accept - default none" \
    -- client --local 127.0.0.1 --auth PLAIN "${cauth[@]}" --auth-before-tls --starttls
scenario open-auth-then-tls 127.0.0.2 accept "accept - open none" \
    -- client --local 127.0.0.2 --auth LOGIN "${cauth[@]}" --auth-before-tls --starttls

echo "== no EHLO after STARTTLS: judged on the TLS all the same"
scenario default-no-2nd-ehlo 127.0.0.1 accept "accept - default none" \
    -- client --local 127.0.0.1 --starttls --no-ehlo-after-tls
scenario tls13-only-no-2nd-ehlo-tls12 127.0.0.8 "554 5.7.0" "reject tls_version_too_low tls13-only none" \
    -- client --local 127.0.0.8 --starttls --no-ehlo-after-tls --tls-version TLSv1.2

echo "== monitor mode, tempfail, AUTH before STARTTLS"
scenario legacy-plain 127.0.0.3 accept "would-reject starttls_required legacy none" -- swaks $(from 127.0.0.3)
scenario legacy-plain-PLAIN 127.0.0.3 accept "would-reject plaintext_auth legacy PLAIN exposed" \
    -- swaks $(from 127.0.0.3) --auth PLAIN "${auth[@]}"
scenario submission-plain 127.0.0.5 "450 4.7.0" "tempfail starttls_required submission none" \
    -- swaks $(from 127.0.0.5)
scenario submission-plain-LOGIN 127.0.0.5 "450 4.7.10" "tempfail plaintext_auth submission LOGIN exposed" \
    -- swaks $(from 127.0.0.5) --auth LOGIN "${auth[@]}"
scenario submission-tls13-PLAIN 127.0.0.5 accept "accept - submission PLAIN" \
    -- swaks $(from 127.0.0.5) --tls --auth PLAIN "${auth[@]}"
scenario auth-after-tls-plain-PLAIN 127.0.0.9 "530 5.7.10" "reject auth_before_starttls auth-after-tls PLAIN exposed" \
    -- swaks $(from 127.0.0.9) --auth PLAIN "${auth[@]}"
scenario auth-after-tls-plain 127.0.0.9 accept "accept - auth-after-tls none" -- swaks $(from 127.0.0.9)

echo "== minimum bits, cipher allow-list, minimum TLS version"
scenario strong-bits-aes128 127.0.0.6 "554 5.7.0" "reject cipher_too_weak strong-bits none" \
    -- swaks $(from 127.0.0.6) --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
scenario strong-bits-aes256 127.0.0.6 accept "accept - strong-bits none" \
    -- swaks $(from 127.0.0.6) --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384
scenario allow-list-tls12-aes128 127.0.0.7 "554 5.7.0" "reject cipher_not_allowed allow-list none" \
    -- swaks $(from 127.0.0.7) --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
scenario allow-list-tls12-aes256 127.0.0.7 accept "accept - allow-list none" \
    -- swaks $(from 127.0.0.7) --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384
scenario allow-list-tls13-chacha 127.0.0.7 "554 5.7.0" "reject cipher_not_allowed allow-list none" \
    -- client --local 127.0.0.7 --starttls --tls-version TLSv1.3 --ciphersuites TLS_CHACHA20_POLY1305_SHA256
scenario allow-list-tls13-aes256 127.0.0.7 accept "accept - allow-list none" \
    -- client --local 127.0.0.7 --starttls --tls-version TLSv1.3 --ciphersuites TLS_AES_256_GCM_SHA384
scenario tls13-only-tls12 127.0.0.8 "554 5.7.0" "reject tls_version_too_low tls13-only none" \
    -- swaks $(from 127.0.0.8) --tls --tls-protocol tlsv1_2
scenario tls13-only-tls13 127.0.0.8 accept "accept - tls13-only none" \
    -- swaks $(from 127.0.0.8) --tls --tls-protocol tlsv1_3

echo "== client certificates (Postfix reports the issuer's and subject's CN)"
tls=$TG_PF_DIR/tls
# A client certificate from a CA the server does not trust.
(
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
        -subj "/CN=tlsgate test CA" -keyout other-ca.key -out other-ca.crt 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=client.example.test" -keyout other.key -out other.csr 2>/dev/null
    openssl x509 -req -in other.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial \
        -days 7 -out other.crt 2>/dev/null
)
scenario relay-no-cert 127.0.0.10 "530 5.7.0" "reject client_cert_required relay none" \
    -- swaks $(from 127.0.0.10) --tls
CASE_CERT='cert=client\.example\.test cert_issuer="tlsgate test CA"' \
    scenario relay-test-ca-cert 127.0.0.10 accept "accept - relay none" \
    -- swaks $(from 127.0.0.10) --tls --tls-cert "$tls/client.crt" --tls-key "$tls/client.key"
# Same subject and issuer names, but signed by another CA: not verified, so
# Postfix sends no certificate macros at all.
scenario relay-other-ca-cert 127.0.0.10 "530 5.7.0" "reject client_cert_required relay none" \
    -- swaks $(from 127.0.0.10) --tls --tls-cert "$work/other.crt" --tls-key "$work/other.key"
CASE_CERT='cert=client\.example\.test cert_issuer="tlsgate test CA"' \
    scenario relay-wrong-issuer 127.0.0.11 "530 5.7.0" "reject client_cert_required relay-other-issuer none" \
    -- swaks $(from 127.0.0.11) --tls --tls-cert "$tls/client.crt" --tls-key "$tls/client.key"

if [[ $ipv6 == yes ]]; then
    echo "== IPv6"
    TG_SMTP_SERVER=::1 scenario ipv6-plain ::1 accept "accept - ipv6-local none" -- swaks $(from ::1)
    TG_SMTP_SERVER=::1 scenario ipv6-plain-PLAIN ::1 "530 5.7.10" "reject plaintext_auth ipv6-local PLAIN exposed" \
        -- swaks $(from ::1) --auth PLAIN "${auth[@]}"
    TG_SMTP_SERVER=::1 scenario ipv6-tls13 ::1 accept "accept - ipv6-local none" \
        -- swaks $(from ::1) --tls --tls-protocol tlsv1_3
else
    echo "(no IPv6 in this kernel: IPv6 scenarios skipped)"
fi

echo "== delivery"
case_check_deliveries

echo "== accounting CSV"
# Every decision line in syslog is one CSV row with the same fields.
decisions() { grep -Ec "tlsgate\[$milter_pid\]: [0-9A-Za-z]+: action=" "$TG_SYSLOG_FILE"; }
check_csv() { # check_csv FILE ROWS
    python3 - "$1" "$2" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f, strict=True))
header, body = rows[0], rows[1:]
want = int(sys.argv[2])
assert header[:6] == ["time", "queue_id", "client", "source", "action", "reason"], header
assert all(len(r) == len(header) for r in body), "ragged rows"
assert len(body) == want, f"{len(body)} rows, {want} decisions in syslog"
assert {r[4] for r in body} <= {"accept", "reject", "tempfail", "would-reject"}, {r[4] for r in body}
PY
}
tg_check "accounting.csv parses as RFC 4180 CSV, one row per syslog decision ($(decisions))" \
    check_csv "$work/accounting.csv" "$(decisions)"

echo "== reload (SIGUSR1)"
reloads() { grep -c "tlsgate\[$milter_pid\]: reloaded " "$TG_SYSLOG_FILE" || true; }
write_config "$work/tlsgate.ini" yes
mv "$work/accounting.csv" "$work/accounting.csv.1" # what logrotate does
kill -USR1 "$milter_pid"
tg_check "a changed rule: reloaded line logged" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: reloaded $work/tlsgate.ini: 12 sources, 11 netblocks" 10
scenario reload-open-plain-now-refused 127.0.0.2 "530 5.7.0" "reject starttls_required open none" \
    -- swaks $(from 127.0.0.2)
tg_check "the accounting file was reopened: a new file with a header and 1 row" check_csv "$work/accounting.csv" 1

cp "$work/tlsgate.ini" "$work/good.ini"
printf '[source broken]\nnetworks = 192.0.2.1/24\nrequire_starttls = perhaps\n' >>"$work/tlsgate.ini"
bad=$(($(wc -l <"$work/good.ini") + 2)) # the line of the bad prefix
mv "$work/accounting.csv" "$work/accounting.csv.2"
kill -USR1 "$milter_pid"
tg_check "a broken file: the bad prefix logged with file:line" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: config error: $work/tlsgate\.ini:$bad: 192\.0\.2\.1/24: host bits set; perhaps 192\.0\.2\.0/24" 10
tg_check "a broken file: the bad boolean logged with file:line" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: config error: $work/tlsgate\.ini:$((bad + 1)): require_starttls: \"perhaps\" is not a boolean" 10
tg_check "a broken file: 'reload failed ... the previous policy stays in force'" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: reload failed: 2 errors in $work/tlsgate\.ini; the previous policy stays in force" 10
scenario reload-broken-keeps-rule 127.0.0.2 "530 5.7.0" "reject starttls_required open none" \
    -- swaks $(from 127.0.0.2)
scenario reload-broken-still-accepts 127.0.0.2 accept "accept - open none" \
    -- swaks $(from 127.0.0.2) --tls
tg_check "tlsgate still running after the broken reload" kill -0 "$milter_pid"
tg_check "the accounting file was reopened all the same: header and 2 rows" check_csv "$work/accounting.csv" 2

cp "$work/good.ini" "$work/tlsgate.ini"
write_config "$work/tlsgate.ini"
kill -USR1 "$milter_pid"
# A function, so that each poll counts again ("test $(reloads) = 2" would be
# expanded once, before rsyslog may have written the line).
two_reloads() { test "$(reloads)" = 2; }
tg_check "back to the first config: reloaded" \
    tg_wait_for 10 "second reload" two_reloads
scenario reload-back-open-plain 127.0.0.2 accept "accept - open none" -- swaks $(from 127.0.0.2)
case_check_deliveries

echo "== fail closed: tlsgate stopped, milter_default_action = tempfail"
kill -TERM "$milter_pid"
rc=0
wait "$milter_pid" || rc=$?
milter_pid_was=$milter_pid milter_pid=
tg_check "SIGTERM: tlsgate exits 0 (got $rc)" test "$rc" = 0
tg_check "SIGTERM: 'stopped' logged" tg_syslog_wait "tlsgate\[$milter_pid_was\]: stopped" 10
before=$(find "$TG_PF_DIR/mail" -path '*/new/*' -type f | wc -l)
down() { # down NAME ARGS...: the session ends with a 4xx and no 5xx
    local out=$work/cases/$1.out
    tg_swaks --body "tlsgate-case=$1;" "${@:2}" >"$out" 2>&1 || true
    grep -Eq '^<[-~]?\*+ +4[0-9][0-9] 4\.[0-9]+\.[0-9]+ ' "$out" && ! grep -Eq '^<[-~*]+ +5[0-9][0-9] ' "$out" ||
        { sed 's/^/    | /' "$out"; return 1; }
}
tg_check "tlsgate down, plaintext from 127.0.0.2: 451 4.7.1 at MAIL" down down-plain $(from 127.0.0.2)
tg_check "tlsgate down, STARTTLS from 127.0.0.1: 454 4.3.0 at STARTTLS" down down-tls $(from 127.0.0.1) --tls
tg_check "tlsgate down, AUTH from 127.0.0.4: 4xx" down down-auth $(from 127.0.0.4) --auth PLAIN "${auth[@]}"
after() { find "$TG_PF_DIR/mail" -path '*/new/*' -type f | wc -l; }
tg_check "tlsgate down: nothing delivered ($before before, $(after) after)" test "$(after)" = "$before"

echo "postfix-e2e: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
