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
. "$here/lib/matrix.sh"

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
# TLSGATE=build-asan/tlsgate runs the matrix against a sanitizer build.
tlsgate=${TLSGATE:-$root/build/tlsgate}

# One source per rule under test, each on its own loopback address.
write_config() { # write_config FILE [require_starttls of [source open], default no]
    cat >"$1" <<INI
[milter]
socket = inet:$milter_port@127.0.0.1
accounting_file = $work/accounting.csv
$(matrix_sources "${2:-}")
INI
}
write_config "$work/tlsgate.ini"
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null

tg_syslog_start
spawn_with_syslog "$tlsgate" -f -c "$work/tlsgate.ini"
milter_pid=$TG_SPAWNED_PID
tg_syslog_wait "tlsgate\[$milter_pid\]: started: listening on inet:$milter_port@127.0.0.1" 20

# Postfix asks for client certificates and verifies them against the test CA
# (it sends {cert_subject}/{cert_issuer} to the milter only for a verified one).
export SMTP_PORT=${SMTP_PORT:-10025} MILTER=inet:127.0.0.1:$milter_port TLS_ASK_CCERT=yes
pf_start
case_init "$work/cases"


matrix_transport_auth

echo "== AUTH before STARTTLS, then STARTTLS (RFC 3207: the AUTH is forgotten)"
scenario default-auth-then-tls 127.0.0.1 accept "accept - default none" \
    -- client --local 127.0.0.1 --auth PLAIN "${cauth[@]}" --auth-before-tls --starttls
scenario open-auth-then-tls 127.0.0.2 accept "accept - open none" \
    -- client --local 127.0.0.2 --auth LOGIN "${cauth[@]}" --auth-before-tls --starttls

matrix_rules

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

matrix_ipv6

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
