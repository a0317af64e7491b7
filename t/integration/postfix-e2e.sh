#!/usr/bin/env bash
# tlsgate end to end: the tlsgate built on the host, a real Postfix in a
# container calling it (smtpd_milters, milter_default_action = tempfail), real
# STARTTLS and Cyrus SASL, clients (swaks, lib/smtp-client.pl) bound to several
# loopback sources so that each source rule is hit, rsyslog catching tlsgate's
# lines. Then reloads, the accounting CSV, and a stopped tlsgate (fail closed).
#   TG_FRONT=milter (default)  Postfix calls tlsgate as its milter: refusals at MAIL
#   TG_FRONT=policy            Postfix asks tlsgate as its policy service
#                              (check_policy_service at RCPT and end of data):
#                              the same table, the same decisions and log lines,
#                              refusals at RCPT
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/postfix-container.sh"
. "$here/lib/swaks.sh"
. "$here/lib/cases.sh"
. "$here/lib/matrix.sh"

front=${TG_FRONT:-milter}
suite_begin "postfix-e2e ($front)"
suite_at_exit pf_stop

milter_port=${TG_E2E_MILTER_PORT:-18892}
case $front in
milter) front_config="socket = inet:$milter_port@127.0.0.1" ;;
policy) front_config="socket = none
policy_socket = inet:$milter_port@127.0.0.1" ;;
*) tg_die "TG_FRONT=$front: milter or policy" ;;
esac
# TLSGATE=build-asan/tlsgate runs the matrix against a sanitizer build.

# One source per rule under test, each on its own loopback address.
write_config() { # write_config FILE [require_starttls of [source open], default no]
    cat >"$1" <<INI
[milter]
$front_config
accounting_file = $work/accounting.csv
$(matrix_sources "${2:-}")
INI
}
write_config "$work/tlsgate.ini"
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null
suite_start_tlsgate "$work/tlsgate.ini"

# Postfix asks for client certificates and verifies them against the test CA
# (it sends {cert_subject}/{cert_issuer} to the milter only for a verified one).
export SMTP_PORT=${SMTP_PORT:-10025} SMTPS_PORT=${SMTPS_PORT:-10028} TLS_ASK_CCERT=yes
if [[ $front == milter ]]; then
    export MILTER=inet:127.0.0.1:$milter_port POLICY=
else
    export MILTER= POLICY=inet:127.0.0.1:$milter_port
fi
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
matrix_client_certs "$TG_PF_DIR/tls" ""

matrix_smtps
matrix_ipv6

echo "== delivery"
case_check_deliveries

echo "== accounting CSV"
# Every decision line in syslog is one CSV row with the same fields.
suite_check_csv "accounting.csv parses as RFC 4180 CSV, one row per syslog decision ($(suite_decisions))" \
    "$work/accounting.csv" "$(suite_decisions)"

echo "== reload (SIGUSR1)"
reloads() { grep -c "tlsgate\[$milter_pid\]: reloaded " "$TG_SYSLOG_FILE" || true; }
write_config "$work/tlsgate.ini" yes
mv "$work/accounting.csv" "$work/accounting.csv.1" # what logrotate does
kill -USR1 "$milter_pid"
tg_check "a changed rule: reloaded line logged" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: reloaded $work/tlsgate.ini: 12 sources, 11 netblocks" 10
scenario reload-open-plain-now-refused 127.0.0.2 "530 5.7.0" "reject starttls_required open none" \
    -- swaks $(from 127.0.0.2)
suite_check_csv "the accounting file was reopened: a new file with a header and 1 row" "$work/accounting.csv" 1

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
suite_check_csv "the accounting file was reopened all the same: header and 2 rows" "$work/accounting.csv" 2

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

echo "== fail closed: tlsgate stopped (milter_default_action = tempfail; smtpd_policy_service_default_action = 451 4.3.5)"
suite_stop_tlsgate
suite_fail_closed "$TG_PF_DIR/mail"

suite_end
