#!/usr/bin/env bash
# Partner rules (issue 21) end to end: one tlsgate (milter and policy service) with a
# private configuration of partners, in front of a real Postfix as its milter, then
# a real Postfix asking it as its policy service, then a real Sendmail. Each session
# is checked by its SMTP reply (code and enhanced status), tlsgate's syslog line
# (with partner=, sender_domain=, rcpt_domain=), and delivery (lib/cases.sh); the
# accounting CSV's rows (columns partner and sender_domain, found by name) against
# the sessions sent, in order.
#
#   Postfix, milter: a sender partner (bank.example, *.bank.example) in plaintext and
#       TLS, from inside and outside its networks, a subdomain, a look-alike, upper
#       case, the null sender; a tempfail partner (450 4.7.1 outside its networks);
#       a monitor partner (would-reject, delivered); then SIGUSR1 adds a recipient
#       partner and a sender domain: the next sessions are judged by it (RCPT is
#       negotiated from then on), and one message to a partner recipient and an
#       ordinary one is delivered to the ordinary one only (checked in the Maildirs)
#   Postfix, policy service: the same partners, a sender partner refused at RCPT
#   Sendmail: sender partner plaintext refused / TLS accepted, look-alike, outside
#       its networks, mixed recipients
# Ports: SMTP 10061 (Postfix), 10062 (Sendmail), 10063 (Postfix, policy service);
# tlsgate 18961 (milter), 18962 (policy service): it can run beside the other suites.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/sendmail-container.sh" # and postfix-container.sh
. "$here/lib/swaks.sh"
. "$here/lib/cases.sh"
. "$here/lib/matrix.sh" # from()

suite_begin partner-e2e
suite_at_exit pf_stop
suite_at_exit sm_stop
started=$SECONDS
section() { echo "$1 [$((SECONDS - started)) s]"; }

milter_port=${TG_PARTNER_MILTER_PORT:-18961}
policy_port=${TG_PARTNER_POLICY_PORT:-18962}
pf_port=${TG_PARTNER_PF_PORT:-10061}
sm_port=${TG_PARTNER_SM_PORT:-10062}
pf_policy_port=${TG_PARTNER_PF_POLICY_PORT:-10063}

# No netblock rule: plaintext is fine from anywhere, unless a partner says otherwise.
# bank's mail may come from 127.0.0.40/29 only, broker's from 127.0.0.48.
inside=127.0.0.41 outside=127.0.0.60 broker_inside=127.0.0.48
write_config() { # write_config FILE [reloaded]: reloaded adds a sender domain and [partner legal]
    cat >"$1" <<INI
$(suite_milter_ini "$milter_port" "$policy_port")
[source default]
require_starttls = no
[partner bank]
sender_domains = bank.example, *.bank.example${2:+, bank-group.example}
networks = 127.0.0.40/29
require_starttls = yes
min_tls_version = TLSv1.2
[partner broker]
sender_domains = broker.example
networks = $broker_inside
require_starttls = yes
action = tempfail
[partner insurer]
sender_domains = insurer.example
require_starttls = yes
mode = monitor
INI
    [[ -z ${2:-} ]] || cat >>"$1" <<INI
[partner legal]
recipient_domains = legal.example.test
require_starttls = yes
INI
}
write_config "$work/tlsgate.ini"
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null
suite_start_tlsgate "$work/tlsgate.ini"

# The CSV rows the sessions must give, in order: CLIENT,ACTION,REASON,PARTNER,SENDER_DOMAIN.
export TG_PARTNER_ROWS=$work/expected-rows.csv
rows=$TG_PARTNER_ROWS
: >"$rows"
row() { local IFS=,; echo "$*" >>"$rows"; }

# pcase NAME CLIENT EXPECT LOGSPEC PARTNER SENDER_DOMAIN [RCPT_DOMAIN] -- swaks|client ARGS:
# scenario (lib/cases.sh) with the partner fields expected in the decision line
# (PARTNER "-": none), and the CSV row(s) it must write.
pcase() {
    local name=$1 client=$2 expect=$3 logspec=$4 partner=$5 sd=$6 rd='' action reason fields
    shift 6
    [[ $1 != -- ]] && { rd=$1; shift; }
    [[ $partner == - ]] && partner=
    fields="${partner:+partner=$partner }sender_domain=$(_case_re "$sd")${rd:+ rcpt_domain=$(_case_re "$rd")}"
    CASE_PARTNER=$fields scenario "$name" "$client" "$expect" "$logspec" "$@"
    read -r action reason _ <<<"$logspec"
    [[ $reason == - ]] && reason=
    row "$client" "$action" "$reason" "$partner" "$sd"
    [[ $action == would-reject ]] && row "$client" accept "" "$partner" "$sd"
    return 0
}

# The server's reply to COMMAND in a case's transcript (swaks: " -> RCPT TO:<...>",
# then "<-  250 ..." or "<** 530 ..."; "~>" and "<~" under TLS) begins with CODE (an ERE).
reply_is() { # reply_is NAME COMMAND CODE
    local got re="^<[-~*]+ +$3 "
    got=$(awk -v cmd="$2" 'found { print; exit } ($1 == "->" || $1 == "~>") && substr($0, 5) == cmd { found = 1 }' \
        "$cases/$1.out")
    [[ $got =~ $re ]] || { echo "    the reply to $2: '$got'"; return 1; }
}
mixed_replies() { # mixed_replies NAME PARTNER_RCPT: the ordinary recipient taken, the partner's refused
    reply_is "$1" "RCPT TO:<bob@example.test>" 250 && reply_is "$1" "RCPT TO:<$2>" "530 5\.7\.0"
}
queued_id() { sed -En "s/^<[-~] +$(_case_queued_re).*/\\1/p" "$1" | tail -n 1; } # queued_id TRANSCRIPT
delivered_in() { grep -rqF -- "tlsgate-case=$2;" "$1" 2>/dev/null; } # delivered_in DIR NAME
# Postfix's Maildirs: bob@example.test's in example.test/, legal.example.test's in relayed/.
to_bob_only() { delivered_in "$pf_mail/example.test" "$1" && ! delivered_in "$pf_mail/relayed" "$1"; }
to_legal() { delivered_in "$pf_mail/relayed" "$1"; }
since() { tail -n "+$(($1 + 1))" "$TG_SYSLOG_FILE" | grep -Eq -- "$2"; }
# A mixed case: its partner recipient's refusal line (rcpt_domain=), logged since MARK.
rcpt_refused_logged() { # rcpt_refused_logged MARK QUEUE_ID PARTNER_RCPT_DOMAIN
    tg_wait_for 10 "the recipient's refusal line" since "$1" "tlsgate\[$milter_pid\]: $2: action=reject reason=starttls_required client=$(_case_re "$outside") source=default partner=legal sender_domain=example\.net rcpt_domain=$(_case_re "$3") tls=none auth=none cert=none reply=\"530 5\.7\.0 [^\"]*\"$"
}
# mixed NAME PARTNER_RCPT: one plaintext message to bob@example.test and PARTNER_RCPT
# (a domain of [partner legal]): accepted for bob, PARTNER_RCPT refused at its RCPT,
# and that refusal logged (and in the CSV) before the message's accept line, with the
# message's queue id (the MTA has one once bob's RCPT is taken).
mixed() {
    local name=$1 rcpt=$2 mark qid
    mark=$(wc -l <"$TG_SYSLOG_FILE")
    row "$outside" reject starttls_required legal example.net
    pcase "$name" "$outside" accept "accept - default none" - example.net \
        -- swaks $(from "$outside") --to "bob@example.test,$rcpt"
    tg_check "$name: RCPT TO:<bob@example.test> 250, RCPT TO:<$rcpt> 530 5.7.0" mixed_replies "$name" "$rcpt"
    qid=$(queued_id "$cases/$name.out")
    tg_check "$name: the partner recipient's refusal logged (${qid:-QID}: partner=legal rcpt_domain=${rcpt#*@})" \
        rcpt_refused_logged "$mark" "${qid:-QID}" "${rcpt#*@}"
}

# Forged senders as an MTA parses them (RFC 5321 forms, and the RFC 822 ones Postfix and
# Sendmail still take): each plaintext MAIL FROM:ARG comes from $forger, outside bank's
# networks, so that a match is 550 5.7.1. Whatever the MTA makes of ARG (refused, or
# queued), it must never deliver a message whose sender as it parsed it (the
# Return-Path: it writes at delivery) is in bank.example or below. The forgeries' CSV
# rows are left out of the comparison with the cases' rows (client $forger).
forger=127.0.0.61
FORGED=('<ceo@bank.example>' 'ceo@bank.example' '<ceo@bank.example (comment)>'
    '<ceo@(comment)bank.example>' '<(comment)ceo@bank.example>' 'Name<ceo@bank.example>'
    '<ceo@ bank.example>' '< ceo@bank.example >' '<ceo@bank\.example>' '<ceo@"bank.example">'
    '<ceo@bank."example">' '<"ceo"@bank.example>' '<@evil.example:ceo@bank.example>'
    '<ceo@[bank.example]>' '<ceo@bank.example.>' '<ceo@BANK.Example>' '<ceo@bank.example(x)>'
    '<"ceo@bank.example">' '<ceo@bank.example>(x)' 'ceo@bank.example<x@evil.example>'
    '<ceo@bank.example@evil.example>' '<"x@evil.example"@bank.example>' '<ceo@bank.example(>')
forged_file() { grep -rlF -- "tlsgate-forged=$1;" "$2" 2>/dev/null | head -n 1; }
forged_sender() { # forged_sender OUT MARK MAILDIR: the Return-Path of the message, if queued
    [[ -n $(queued_id "$1") ]] || return 0
    tg_wait_for 30 "delivery of $2" forged_file "$2" "$3" >/dev/null || { echo "(not delivered)"; return 0; }
    sed -En 's/^Return-Path: <(.*)>\r?$/\1/p' "$(forged_file "$2" "$3")" | head -n 1 | grep . || echo "(no Return-Path)"
}
forgeries() { # forgeries PREFIX MAILDIR
    local i=0 arg out sender domain bad=() seen=()
    for arg in "${FORGED[@]}"; do
        i=$((i + 1))
        out=$cases/$1-forged-$i.out
        python3 "$here/lib/smtp_tricks.py" --port "$SMTP_PORT" --local "$forger" --mail-arg "$arg" \
            --body $'Subject: forged\n\ntlsgate-forged='"$1-$i"$';\n' >"$out" 2>&1 || true
        sender=$(forged_sender "$out" "$1-$i" "$2")
        # The domain with comments, quotes, backslashes, blanks and brackets taken out
        # (Sendmail takes [host] for that host).
        domain=$(sed -E 's/\([^)]*\)//g; s/["\\ ]//g; s/^\[(.*)\]$/\1/' <<<"${sender##*@}")
        domain=${domain,,} domain=${domain%.}
        if [[ -z $sender ]]; then
            seen+=("$arg: refused, $(sed -n 's/^result=[a-z]* code=\([0-9]*\) reply="\(.\{0,60\}\).*/\1 \2/p' "$out")")
        else
            seen+=("$arg: delivered, Return-Path: <$sender>")
        fi
        # The first is the partner's own domain as it should be written: tlsgate refuses it.
        if [[ $domain == bank.example || $domain == *.bank.example || $sender == "("* ]] ||
            { ((i == 1)) && ! grep -q '^<- 550 5\.7\.1 ' "$out"; }; then
            bad+=("$arg")
        fi
    done
    printf '    %s\n' "${seen[@]}"
    tg_check "$1: ${#FORGED[@]} ways to write bank.example in MAIL FROM, from outside its networks: none delivered with a sender in bank.example${bad:+ (LET THROUGH: ${bad[*]})}" \
        test ${#bad[@]} = 0
    tg_check "tlsgate still running" kill -0 "$milter_pid"
}
pf_down() { # the next pf_start makes a container of its own
    pf_stop
    unset TG_PF_NAME TG_PF_DIR TG_PF_PORT
}
phase() { # phase NAME: the next cases' transcripts in $work/cases/NAME; earlier cases forgotten
    cases=$work/cases/$1
    case_init "$cases"
}

sender=(--from ceo@bank.example)
tls=(--tls --tls-protocol tlsv1_3)

section "== Postfix, tlsgate as its milter"
export SMTP_PORT=$pf_port MILTER=inet:127.0.0.1:$milter_port POLICY=
# legal.example.test is delivered too (into mail/relayed/): a recipient partner's domain.
export POSTCONF_EXTRA="virtual_mailbox_domains = example.test, legal.example.test"
pf_start
phase postfix-milter
pf_mail=$TG_PF_DIR/mail

echo "-- a sender partner: bank.example, *.bank.example (TLS 1.2 or better, from 127.0.0.40/29)"
pcase bank-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}"
tg_check "bank-plain: refused at MAIL FROM (a sender partner refuses the whole transaction)" \
    reply_is bank-plain "MAIL FROM:<ceo@bank.example>" "530 5\.7\.0"
pcase bank-tls13 "$inside" accept "accept - default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}" "${tls[@]}"
pcase bank-tls11 "$inside" "554 5.7.0" "reject tls_version_too_low default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}" --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0'
pcase bank-subdomain-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank mx.bank.example \
    -- swaks $(from "$inside") --from ceo@mx.bank.example
pcase bank-subdomain-tls "$inside" accept "accept - default none" bank mx.bank.example \
    -- swaks $(from "$inside") --from ceo@mx.bank.example "${tls[@]}"
pcase bank-upper-case-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") --from CEO@BANK.EXAMPLE
pcase lookalike-plain "$outside" accept "accept - default none" - notbank.example \
    -- swaks $(from "$outside") --from ceo@notbank.example
pcase bank-outside-plain "$outside" "550 5.7.1" "reject partner_network default none" bank bank.example \
    -- swaks $(from "$outside") "${sender[@]}"
pcase bank-outside-tls "$outside" "550 5.7.1" "reject partner_network default none" bank bank.example \
    -- swaks $(from "$outside") "${sender[@]}" "${tls[@]}"
pcase null-sender "$inside" accept "accept - default none" - "<>" \
    -- swaks $(from "$inside") --from "<>"
pcase ordinary-plain "$outside" accept "accept - default none" - example.net \
    -- swaks $(from "$outside")

echo "-- a tempfail partner (broker.example), a monitor partner (insurer.example)"
pcase broker-outside-plain "$outside" "450 4.7.1" "tempfail partner_network default none" broker broker.example \
    -- swaks $(from "$outside") --from ceo@broker.example
pcase broker-inside-plain "$broker_inside" "450 4.7.0" "tempfail starttls_required default none" broker broker.example \
    -- swaks $(from "$broker_inside") --from ceo@broker.example
pcase broker-inside-tls "$broker_inside" accept "accept - default none" broker broker.example \
    -- swaks $(from "$broker_inside") --from ceo@broker.example "${tls[@]}"
pcase insurer-plain "$outside" accept "would-reject starttls_required default none" insurer insurer.example \
    -- swaks $(from "$outside") --from ceo@insurer.example

echo "-- before the reload: no recipient partner (RCPT left out), bank-group.example no partner"
pcase legal-plain-before "$outside" accept "accept - default none" - example.net \
    -- swaks $(from "$outside") --to hr@legal.example.test
pcase bank-group-before "$outside" accept "accept - default none" - bank-group.example \
    -- swaks $(from "$outside") --from ceo@bank-group.example

echo "-- SIGUSR1: [partner legal] (recipient_domains) added, bank-group.example added to bank"
write_config "$work/tlsgate.ini" reloaded
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null
kill -USR1 "$milter_pid"
tg_check "reloaded: 4 partners" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: reloaded $work/tlsgate\.ini: 1 source, 0 netblocks, 4 partners" 10
pcase bank-group-after "$outside" "550 5.7.1" "reject partner_network default none" bank bank-group.example \
    -- swaks $(from "$outside") --from ceo@bank-group.example
pcase legal-plain-after "$outside" "530 5.7.0" "reject starttls_required default none" legal example.net legal.example.test \
    -- swaks $(from "$outside") --to hr@legal.example.test
pcase legal-tls "$outside" accept "accept - default none" legal example.net \
    -- swaks $(from "$outside") --to hr@legal.example.test "${tls[@]}"

echo "-- one message, an ordinary recipient and a partner recipient, in plaintext"
mixed mixed-plain hr@legal.example.test

echo "-- forged senders (as Postfix parses MAIL FROM)"
forgeries postfix-milter "$pf_mail"

echo "-- delivery (Maildirs: example.test/ for bob, relayed/ for legal.example.test)"
case_check_deliveries
tg_check "legal-plain-before: delivered to hr@legal.example.test (relayed/)" to_legal legal-plain-before
tg_check "legal-tls: delivered to hr@legal.example.test (relayed/)" to_legal legal-tls
tg_check "mixed-plain: delivered to bob (example.test/), not to hr@legal.example.test (relayed/)" \
    to_bob_only mixed-plain
pf_down

section "== Postfix, tlsgate as its policy service (refusals at RCPT)"
export SMTP_PORT=$pf_policy_port MILTER='' POLICY=inet:127.0.0.1:$policy_port
pf_start
phase postfix-policy
pf_mail=$TG_PF_DIR/mail
pcase policy-bank-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}"
refused_at_rcpt() { # the policy service answers at RCPT: MAIL was taken
    reply_is "$1" "MAIL FROM:<ceo@bank.example>" 250 && reply_is "$1" "RCPT TO:<bob@example.test>" "530 5\.7\.0"
}
tg_check "policy-bank-plain: MAIL FROM 250, RCPT TO:<bob@example.test> 530 5.7.0" refused_at_rcpt policy-bank-plain
pcase policy-bank-tls13 "$inside" accept "accept - default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}" "${tls[@]}"
pcase policy-bank-subdomain-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank mx.bank.example \
    -- swaks $(from "$inside") --from ceo@mx.bank.example
pcase policy-bank-upper-case-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") --from CEO@BANK.EXAMPLE
pcase policy-lookalike-plain "$outside" accept "accept - default none" - notbank.example \
    -- swaks $(from "$outside") --from ceo@notbank.example
pcase policy-bank-outside-tls "$outside" "550 5.7.1" "reject partner_network default none" bank bank.example \
    -- swaks $(from "$outside") "${sender[@]}" "${tls[@]}"
pcase policy-broker-outside-plain "$outside" "450 4.7.1" "tempfail partner_network default none" broker broker.example \
    -- swaks $(from "$outside") --from ceo@broker.example
pcase policy-null-sender "$inside" accept "accept - default none" - "<>" \
    -- swaks $(from "$inside") --from "<>"
pcase policy-insurer-plain "$outside" accept "would-reject starttls_required default none" insurer insurer.example \
    -- swaks $(from "$outside") --from ceo@insurer.example
mixed policy-mixed-plain hr@legal.example.test
forgeries postfix-policy "$pf_mail"
case_check_deliveries
tg_check "policy-mixed-plain: delivered to bob (example.test/), not to hr@legal.example.test (relayed/)" \
    to_bob_only policy-mixed-plain
pf_down

section "== Sendmail, tlsgate as its milter"
# legal.example.test is one of Sendmail's local domains: bob+legal@legal.example.test
# is local user bob, like bob@example.test, but another recipient (Sendmail would take
# bob@legal.example.test for a duplicate of bob@example.test, and the refusal of one
# for the other's).
export SMTP_PORT=$sm_port MILTER=inet:$milter_port@127.0.0.1 MC_EXTRA="LOCAL_DOMAIN(\`legal.example.test')dnl"
sm_start
phase sendmail
export CASE_MAIL_DIR=$TG_SM_DIR/mail
export CASE_QUEUED_RE='250 2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery'
export CASE_NOQUEUE_RE='[0-9A-Za-z]{14}'
pcase sm-bank-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}"
pcase sm-bank-tls13 "$inside" accept "accept - default none" bank bank.example \
    -- swaks $(from "$inside") "${sender[@]}" "${tls[@]}"
pcase sm-bank-upper-case-plain "$inside" "530 5.7.0" "reject starttls_required default none" bank bank.example \
    -- swaks $(from "$inside") --from CEO@Bank.Example
pcase sm-lookalike-plain "$outside" accept "accept - default none" - notbank.example \
    -- swaks $(from "$outside") --from ceo@notbank.example
pcase sm-bank-outside-plain "$outside" "550 5.7.1" "reject partner_network default none" bank bank.example \
    -- swaks $(from "$outside") "${sender[@]}"
mixed sm-mixed-plain bob+legal@legal.example.test
forgeries sendmail "$CASE_MAIL_DIR"
case_check_deliveries
# Sendmail's log of the message: delivered to bob@example.test, to no one else; one file.
sm_bob_only() { # sm_bob_only NAME
    local qid log=$TG_SM_DIR/log/maillog
    qid=$(queued_id "$cases/$1.out")
    [[ -n $qid ]] && grep -q "]: $qid: to=<bob@example\.test>, .* stat=Sent" "$log" &&
        [[ $(grep -c "]: $qid: to=" "$log") == 1 ]] &&
        [[ $(grep -rlF "tlsgate-case=$1;" "$CASE_MAIL_DIR" | wc -l) == 1 ]]
}
tg_check "sm-mixed-plain: Sendmail delivered it to bob@example.test alone (its log: one to=<...>; one file)" \
    sm_bob_only sm-mixed-plain
sm_stop
unset CASE_MAIL_DIR CASE_QUEUED_RE CASE_NOQUEUE_RE

section "== accounting CSV"
suite_check_csv "accounting.csv: one row per decision line ($(suite_decisions)), partner and sender_domain as the sessions sent ($(wc -l <"$rows") rows)" \
    "$work/accounting.csv" "$(suite_decisions)" '
import os
want = [tuple(l.rstrip("\n").split(",")) for l in open(os.environ["TG_PARTNER_ROWS"])]
got = [tuple(r[col[c]] for c in ("client", "action", "reason", "partner", "sender_domain"))
       for r in body if r[col["client"]] != "127.0.0.61"]  # the forgeries: as the MTA parsed them
bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
assert len(got) == len(want) and not bad, (len(got), len(want), bad[:3])'

tg_check "tlsgate still running" kill -0 "$milter_pid"
suite_stop_tlsgate
echo "(partner-e2e: $((SECONDS - started)) s)"
suite_end
