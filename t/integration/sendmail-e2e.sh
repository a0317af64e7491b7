#!/usr/bin/env bash
# tlsgate end to end with Sendmail: the tlsgate built on the host, Debian's
# Sendmail 8.17 in a container calling it (INPUT_MAIL_FILTER with F=T), real
# STARTTLS (client certificates verified against the test CA) and Cyrus SASL,
# clients bound to several loopback sources, rsyslog catching tlsgate's lines.
# The same scenario matrix as postfix-e2e.sh where Sendmail can express it, the
# client-certificate scenarios, and a stopped tlsgate (fail closed). Where
# Sendmail differs from Postfix, the case says so (see t/integration/README.md).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/sendmail-container.sh"
. "$here/lib/swaks.sh"
. "$here/lib/cases.sh"
. "$here/lib/matrix.sh"

suite_begin sendmail-e2e
suite_at_exit sm_stop

# tlsgate listens on a unix socket that the container sees as
# /run/tlsgate/tlsgate.sock; TG_E2E_MILTER=inet uses inet:18894@127.0.0.1
# instead. Over TCP each session is about 0.3 s slower: Sendmail writes a
# stage's macros and its command separately, and Nagle's algorithm holds the
# second write until the milter's delayed ACK (40 ms) for the first.
milter_port=${TG_E2E_MILTER_PORT:-18894}
mkdir -p "$work/sock"
if [[ ${TG_E2E_MILTER:-unix} == inet ]]; then
    milter_socket=inet:$milter_port@127.0.0.1 sm_milter=inet:$milter_port@127.0.0.1
else
    milter_socket=unix:$work/sock/tlsgate.sock sm_milter=unix:/run/tlsgate/tlsgate.sock
fi

# The sources of postfix-e2e.sh, on the same loopback addresses, plus one
# that matches a certificate subject with characters Sendmail xtext-encodes.
cat >"$work/tlsgate.ini" <<INI
[milter]
socket = $milter_socket
accounting_file = $work/accounting.csv
$(matrix_sources no)
[source relay-subject]
networks = 127.0.0.12
require_client_cert = yes
client_cert_subject = ops+relay = 1 (test)
INI
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null
suite_start_tlsgate "$work/tlsgate.ini"

# Sendmail's port (10027) and milter port (18894, with TG_E2E_MILTER=inet)
# differ from postfix-e2e.sh's, so both can run at once. Sendmail asks every
# client for a certificate (its default) and verifies it against the test CA;
# {verify} says how that went.
export SMTP_PORT=${TG_E2E_SMTP_PORT:-10027} SMTPS_PORT=${TG_E2E_SMTPS_PORT:-10029} MILTER=$sm_milter MILTER_SOCKET_DIR=$work/sock
sm_start
case_init "$work/cases"
# Sendmail's replies and mail directory; its queue id exists at MAIL FROM, so
# tlsgate's refusal lines carry it (Sendmail's own "Milter: ... reject=" line
# has the same id) where Postfix's say NOQUEUE.
export CASE_MAIL_DIR=$TG_SM_DIR/mail
export CASE_QUEUED_RE='250 2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery'
export CASE_NOQUEUE_RE='[0-9A-Za-z]{14}'


matrix_transport_auth

echo "== AUTH before STARTTLS, then STARTTLS (Sendmail keeps the AUTH: refused unlike on Postfix)"
# Sendmail does not forget an AUTH at STARTTLS (RFC 3207 4.2 says it must):
# the session stays authenticated by a password sent in clear. tlsgate sees
# {auth_type} already set at the EHLO after STARTTLS and judges the AUTH as
# made in plaintext. On Postfix the AUTH is gone and the same sessions are
# accepted unauthenticated.
scenario default-auth-then-tls 127.0.0.1 "530 5.7.10" "reject plaintext_auth default PLAIN exposed" \
    -- client --local 127.0.0.1 --auth PLAIN "${cauth[@]}" --auth-before-tls --starttls
scenario open-auth-then-tls 127.0.0.2 "530 5.7.10" "reject plaintext_auth open LOGIN exposed" \
    -- client --local 127.0.0.2 --auth LOGIN "${cauth[@]}" --auth-before-tls --starttls
scenario lenient-auth-then-tls 127.0.0.4 accept "accept - lenient PLAIN exposed" \
    -- client --local 127.0.0.4 --auth PLAIN "${cauth[@]}" --auth-before-tls --starttls
# Without the EHLO after STARTTLS no milter callback comes between AUTH and MAIL:
# tlsgate cannot show that the AUTH followed STARTTLS, so it counts as made in
# clear (issue 19: fail closed; it used to pass as an AUTH over TLS).
scenario default-auth-then-tls-no-2nd-ehlo 127.0.0.1 "530 5.7.10" "reject plaintext_auth default PLAIN exposed" \
    -- client --local 127.0.0.1 --auth PLAIN "${cauth[@]}" --auth-before-tls --starttls --no-ehlo-after-tls

matrix_rules

echo "== client certificates (Sendmail: {cn_subject}/{cn_issuer}, xtext-decoded; {verify} = OK)"
tls=$TG_SM_DIR/tls
matrix_client_certs "$tls" "/O=tlsgate test"
# The test CA, a subject with characters Sendmail xtext-encodes (+ = space).
(
    cd "$work"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/O=tlsgate test/CN=ops\\+relay = 1 (test)" -keyout odd.key -out odd.csr 2>/dev/null
    openssl x509 -req -in odd.csr -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
        -CAserial "$work/ca.srl" -days 7 -out odd.crt 2>/dev/null
)
test_ca_cert=(--tls-cert "$tls/client.crt" --tls-key "$tls/client.key")
scenario relay-plain 127.0.0.10 "530 5.7.0" "reject starttls_required relay none" \
    -- swaks $(from 127.0.0.10)
CASE_CERT='cert=client\.example\.test cert_issuer="tlsgate test CA"' \
    scenario relay-test-ca-cert-tls12 127.0.0.10 accept "accept - relay none" \
    -- swaks $(from 127.0.0.10) --tls --tls-protocol tlsv1_2 "${test_ca_cert[@]}"
CASE_CERT='cert="ops\+relay = 1 \(test\)" cert_issuer="tlsgate test CA"' \
    scenario relay-subject-xtext 127.0.0.12 accept "accept - relay-subject none" \
    -- swaks $(from 127.0.0.12) --tls --tls-cert "$work/odd.crt" --tls-key "$work/odd.key"
CASE_CERT='cert=client\.example\.test cert_issuer="tlsgate test CA"' \
    scenario relay-subject-other 127.0.0.12 "530 5.7.0" "reject client_cert_required relay-subject none" \
    -- swaks $(from 127.0.0.12) --tls "${test_ca_cert[@]}"
# AUTH with a certificate: both fields logged.
CASE_CERT='cert=client\.example\.test cert_issuer="tlsgate test CA"' \
    scenario relay-test-ca-cert-PLAIN 127.0.0.10 accept "accept - relay PLAIN" \
    -- swaks $(from 127.0.0.10) --tls "${test_ca_cert[@]}" --auth PLAIN "${auth[@]}"

matrix_smtps
matrix_ipv6

echo "== delivery"
case_check_deliveries

echo "== Sendmail's own log agrees"
maillog=$TG_SM_DIR/log/maillog
# A refusal's queue id in tlsgate's line is the one under which Sendmail logs
# the same refusal ("QID: Must issue a STARTTLS command first", LogLevel 9).
sm_refusal_ids_match() {
    local id text n=0
    while IFS='|' read -r id text; do
        # "QID: TEXT" for a reject, "QID: <sender>... TEXT" for a tempfail.
        grep -F "]: $id: " "$maillog" | grep -Fq "$text" || {
            echo "    no Sendmail line '$id: $text'"
            return 1
        }
        n=$((n + 1))
    done < <(sed -En "s/.* tlsgate\[$milter_pid\]: ([0-9A-Za-z]+): action=(reject|tempfail) .* reply=\"[0-9]{3} [0-9.]+ ([^\"]*)\".*/\1|\3/p" "$TG_SYSLOG_FILE")
    echo "    $n refusals"
    ((n > 0))
}
tg_check "every refusal's queue id and text are on a Sendmail line" sm_refusal_ids_match
tg_check "Sendmail verified the test CA's client certificate (verify=OK)" \
    grep -Eq 'STARTTLS=server, relay=[^,]*\[127\.0\.0\.10\], version=TLSv1\.[23], verify=OK' "$maillog"
tg_check "Sendmail did not verify the other CA's certificate (verify=FAIL)" \
    grep -Eq 'STARTTLS=server, relay=[^,]*\[127\.0\.0\.10\], version=TLSv1\.[23], verify=FAIL' "$maillog"

echo "== accounting CSV"
suite_check_csv "accounting.csv: one row per syslog decision ($(suite_decisions)), certificate names decoded" \
    "$work/accounting.csv" "$(suite_decisions)" '
certs = {(r[col["cert_subject"]], r[col["cert_issuer"]]) for r in body if r[col["cert_subject"]]}
want_certs = {("client.example.test", "tlsgate test CA"), ("ops+relay = 1 (test)", "tlsgate test CA")}
assert certs == want_certs, certs'

echo "== fail closed: tlsgate stopped, F=T"
suite_stop_tlsgate
suite_fail_closed "$TG_SM_DIR/mail"

suite_end
