# shellcheck shell=bash
# The scenario matrix both MTAs share (postfix-e2e.sh, sendmail-e2e.sh): the same
# sources on the same loopback addresses (see either script's config), the same
# expectations. Source it after lib/cases.sh; call the functions in this order.
#
#   matrix_transport_auth   {plaintext, TLS 1.2, TLS 1.3} x {no AUTH, PLAIN, LOGIN}
#                           from three sources
#   matrix_rules            no second EHLO, monitor, tempfail, AUTH before STARTTLS,
#                           minimum bits, cipher lists, minimum TLS version
#   matrix_client_certs TLS DN   [source relay]: no certificate, the test CA's
#                           (TLS/client.crt), another CA's with the same names
#                           (made here; DN: what comes before /CN= in the MTA's
#                           test certificates), a wrong issuer
#   matrix_smtps            SMTPS (implicit TLS, RFC 8314) on $SMTPS_PORT: TLS from
#                           the first byte, AUTH in it, the version and cipher rules
#   matrix_ipv6             from ::1 (skipped without IPv6)

# shellcheck disable=SC2034  # used by the scripts that source this file
auth=(--auth-user alice@example.test --auth-password secret)
# shellcheck disable=SC2034
cauth=(--user alice@example.test --password secret)
from() { echo --local-interface "$1"; }

# matrix_sources [yes|no]: the [source] sections the matrix expects, one loopback
# address a rule; the argument is [source open]'s require_starttls (default no).
matrix_sources() {
    cat <<INI
; 127.0.0.1 and everything else: mail only over TLS, no PLAIN/LOGIN in clear.
[source default]
require_starttls = yes
[source open]
networks = 127.0.0.2
require_starttls = ${1:-no}
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

matrix_transport_auth() {
    local row src addr e_none e_plain e_login mech a exposed e reply action reason v
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
}

matrix_rules() {
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

}

matrix_client_certs() {
    local tls=$1 dn=$2 dir
    dir=$(mktemp -d)
    (
        cd "$dir"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
            -subj "$dn/CN=tlsgate test CA" -keyout other-ca.key -out other-ca.crt 2>/dev/null
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "$dn/CN=client.example.test" -keyout other.key -out other.csr 2>/dev/null
        openssl x509 -req -in other.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial \
            -days 7 -out other.crt 2>/dev/null
    )
    local test_ca=(--tls-cert "$tls/client.crt" --tls-key "$tls/client.key")
    local names='cert=client\.example\.test cert_issuer="tlsgate test CA"'
    scenario relay-no-cert 127.0.0.10 "530 5.7.0" "reject client_cert_required relay none" \
        -- swaks $(from 127.0.0.10) --tls
    CASE_CERT=$names scenario relay-test-ca-cert 127.0.0.10 accept "accept - relay none" \
        -- swaks $(from 127.0.0.10) --tls "${test_ca[@]}"
    # The same names, another CA: not verified (Postfix sends no certificate macros,
    # Sendmail sends them with {verify} = FAIL), so logged as cert=none.
    scenario relay-other-ca-cert 127.0.0.10 "530 5.7.0" "reject client_cert_required relay none" \
        -- swaks $(from 127.0.0.10) --tls --tls-cert "$dir/other.crt" --tls-key "$dir/other.key"
    CASE_CERT=$names scenario relay-wrong-issuer 127.0.0.11 "530 5.7.0" \
        "reject client_cert_required relay-other-issuer none" \
        -- swaks $(from 127.0.0.11) --tls "${test_ca[@]}"
    rm -rf "$dir"
}

matrix_smtps() {
    echo "== SMTPS: implicit TLS (RFC 8314) on port $SMTPS_PORT"
    # The MTA's SMTPS listener: swaks --tls-on-connect there.
    smtps() { TG_PF_PORT=$SMTPS_PORT scenario "$@"; }
    smtps smtps-default 127.0.0.1 accept "accept - default none" \
        -- swaks $(from 127.0.0.1) --tls-on-connect
    # AUTH inside the TLS session: after it, as over STARTTLS.
    smtps smtps-default-PLAIN 127.0.0.1 accept "accept - default PLAIN" \
        -- swaks $(from 127.0.0.1) --tls-on-connect --auth PLAIN "${auth[@]}"
    smtps smtps-open-LOGIN 127.0.0.2 accept "accept - open LOGIN" \
        -- swaks $(from 127.0.0.2) --tls-on-connect --auth LOGIN "${auth[@]}"
    smtps smtps-tls13-only-tls12 127.0.0.8 "554 5.7.0" "reject tls_version_too_low tls13-only none" \
        -- swaks $(from 127.0.0.8) --tls-on-connect --tls-protocol tlsv1_2
    smtps smtps-strong-bits-aes128 127.0.0.6 "554 5.7.0" "reject cipher_too_weak strong-bits none" \
        -- swaks $(from 127.0.0.6) --tls-on-connect --tls-protocol tlsv1_2 \
        --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
    smtps smtps-submission-tls13 127.0.0.5 accept "accept - submission none" \
        -- swaks $(from 127.0.0.5) --tls-on-connect --tls-protocol tlsv1_3
}

matrix_ipv6() {
    local ipv6=no
    grep -q . /proc/net/if_inet6 2>/dev/null && ipv6=yes
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
}
