# shellcheck shell=bash
# One SMTP scenario against the tlsgate-protected Postfix, checked three ways:
# the client's reply (code and enhanced status code), tlsgate's syslog line
# (action, reason, client, source, auth, and tls/cipher/bits equal to what the
# client really negotiated, the Postfix queue id on accepted mail), and later,
# whether the message reached its Maildir (case_check_deliveries).
#
#   case_init DIR               transcripts go to DIR/NAME.out
#   scenario NAME CLIENT EXPECT LOGSPEC -- swaks|client [ARGS...]
#       CLIENT   the client address tlsgate must log (127.0.0.2, ::1, ...)
#       EXPECT   accept | "CODE X.Y.Z" (e.g. "530 5.7.0")
#       LOGSPEC  "ACTION REASON SOURCE AUTH [exposed]"; REASON "-" for accept;
#                ACTION would-reject also expects the accept line at EOM
#       swaks    tg_swaks ARGS;  client: tg_smtp_client ARGS (lib/smtp-client.pl)
#       CASE_CERT (environment) the expected cert=/cert_issuer= fields as a regex
#       CASE_PARTNER (environment) the expected fields between source= and tls=
#                as a regex: partner=, sender_domain=, rcpt_domain= [the clients'
#                default sender: 'sender_domain=example\.net']
#   case_check_deliveries       every accepted case delivered, no refused one
#
#   CASE_MONITOR=1   every source is in monitor mode: a refusal the case expects is
#                    expected as a would-reject instead (the session accepted, the
#                    would-reject line, then the accept line at end of message)
#   CASE_RECORD=FILE each case appends "NAME CLIENT SOURCE ACTION REASON TLS AUTH" to
#                    FILE (REASON "-", TLS the version negotiated or "none"), for a
#                    test that checks counts of its own (report-e2e.sh)
#
# Needs lib/common.sh, lib/syslog.sh (TG_SYSLOG_FILE) and lib/swaks.sh, and
# TG_PF_DIR from lib/postfix-container.sh, or for another MTA:
#   CASE_MAIL_DIR    where delivered messages are (searched recursively for the
#                    case's marker) [$TG_PF_DIR/mail]
#   CASE_QUEUED_RE   ERE for the MTA's reply to the message's final ".",
#                    capturing its queue id [Postfix's
#                    '250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)']
#   CASE_NOQUEUE_RE  ERE for the first word of tlsgate's refusal and
#                    would-reject lines [NOQUEUE: Postfix has no queue id at
#                    MAIL FROM; Sendmail has, and tlsgate logs it]

_case_dir= _case_accepted=() _case_refused=()
_case_queued_re() { echo "${CASE_QUEUED_RE:-250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)}"; }
_case_mail_dir() { echo "${CASE_MAIL_DIR:-$TG_PF_DIR/mail}"; }

case_init() { # also forgets the cases so far: one MTA after another in one script
    _case_dir=$1
    _case_accepted=() _case_refused=()
    mkdir -p "$_case_dir"
}

_case_re() { sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"; }

# Lines rsyslog wrote after line $1 of the syslog file.
_case_log_since() { tail -n "+$(($1 + 1))" "$TG_SYSLOG_FILE"; }
_case_log_has() { _case_log_since "$1" | grep -Eq -- "$2"; }

_case_show() {
    sed 's/^/    | /' "$1"
    echo "    tlsgate's lines since the case began:"
    _case_log_since "$2" | { grep ' tlsgate\[' || true; } | sed 's/^/    > /'
}

scenario() {
    local name=$1 client=$2 expect=$3 logspec=$4
    shift 4
    [[ $1 == -- ]] && shift
    local tool=$1
    shift
    if [[ ${CASE_MONITOR:-} == 1 && $expect != accept ]]; then
        expect=accept
        logspec=$(sed -E 's/^(reject|tempfail) /would-reject /' <<<"$logspec")
    fi
    local out=$_case_dir/$name.out mark ok=1 why=()
    local marker="tlsgate-case=$name;"
    mark=$(wc -l <"$TG_SYSLOG_FILE")
    case $tool in
    swaks) tg_swaks --body "$marker" "$@" >"$out" 2>&1 || true ;;
    client) tg_smtp_client --body "$(printf 'Subject: %s\n\n%s\n' "$name" "$marker")" "$@" \
        >"$out" 2>&1 || true ;;
    *) tg_die "scenario $name: unknown client tool $tool" ;;
    esac

    # 1. The SMTP reply. swaks marks server lines "<-" / "<~" and errors
    #    "<**" / "<~*"; smtp-client.pl "<-".
    local qid=
    if [[ $expect == accept ]]; then
        qid=$(sed -En "s/^<[-~] +$(_case_queued_re).*/\\1/p" "$out" | tail -n 1)
        [[ -n $qid ]] || { ok=0 why+=("no '$(_case_queued_re)'"); }
    else
        grep -Eq "^<[-~*]+ +$(_case_re "$expect") " "$out" || { ok=0 why+=("no '$expect' reply"); }
        grep -Eq "^<[-~] +$(_case_queued_re)" "$out" && { ok=0 why+=("but it was queued"); }
    fi

    # 2. tlsgate's decision line, with the TLS the client really negotiated.
    local action reason source auth exposed tlsfields
    read -r action reason source auth exposed <<<"$logspec"
    local tls cipher bits
    IFS=: read -r tls cipher bits < <(sed -n 's/^=== TLS started with cipher //p' "$out" | tail -n 1) || true
    if [[ -n $tls ]]; then
        tlsfields="tls=$(_case_re "$tls") cipher=$(_case_re "$cipher") bits=$bits"
    else
        tlsfields="tls=none"
    fi
    local partner=${CASE_PARTNER-sender_domain=example\.net}
    local who="client=$(_case_re "$client") source=$(_case_re "$source") ${partner:+$partner }$tlsfields auth=$auth"
    # The client certificate fields: none, unless the caller sets CASE_CERT
    # (a regex such as 'cert=client\.example\.test cert_issuer="tlsgate test CA"').
    local tail=" ${CASE_CERT:-cert=none}"
    [[ $auth != none ]] && tail=" auth_user=alice@example\\.test$tail"
    local line_re
    if [[ $action == accept ]]; then
        line_re=": ${qid:-QID}: action=accept $who$tail"
        [[ $exposed == exposed ]] && line_re+=' credentials_exposed=yes'
        line_re+='$'
    else
        line_re=": ${CASE_NOQUEUE_RE:-NOQUEUE}: action=$action reason=$reason $who$tail"
        [[ $action != would-reject ]] && line_re+=" reply=\"$(_case_re "$expect") [^\"]*\""
        [[ $exposed == exposed ]] && line_re+=' credentials_exposed=yes'
        line_re+='$'
    fi
    # Severity: info for accepted mail, notice for a refusal, warning for a
    # would-reject and for any line with an exposed password.
    local sev=notice accept_sev=info
    [[ $action == accept ]] && sev=info
    [[ $action == would-reject ]] && sev=warning
    [[ $exposed == exposed ]] && sev=warning accept_sev=warning
    if ! tg_wait_for 10 "tlsgate line for $name" _case_log_has "$mark" "mail\.$sev tlsgate\[[0-9]+\]$line_re"; then
        ok=0 why+=("no tlsgate line /$line_re/")
    fi
    if [[ $action == would-reject ]]; then
        line_re=": ${qid:-QID}: action=accept $who$tail"
        [[ $exposed == exposed ]] && line_re+=' credentials_exposed=yes'
        line_re+='$'
        tg_wait_for 10 "accept line for $name" _case_log_has "$mark" "mail\.$accept_sev tlsgate\[[0-9]+\]$line_re" ||
            { ok=0 why+=("no accept line /$line_re/ after the would-reject"); }
    fi

    if [[ $expect == accept ]]; then _case_accepted+=("$name"); else _case_refused+=("$name"); fi
    if [[ -n ${CASE_RECORD:-} ]]; then
        echo "$name $client $source $action ${reason:--} ${tls:-none} $auth" >>"$CASE_RECORD"
    fi
    local desc
    desc=$(printf '%-34s %-10s %s' "$name" "${expect/accept/accepted}" "${logspec% exposed}")
    if ((ok)); then
        tg_check "$desc" true
    else
        tg_check "$desc" false
        printf '    %s\n' "${why[@]}"
        _case_show "$out" "$mark"
    fi
}

# The markers of every delivered message, read in one pass (one grep per case
# and poll took seconds once there were a few dozen messages).
declare -A _case_seen=()
_case_scan() {
    local m
    _case_seen=()
    while IFS= read -r m; do
        _case_seen[${m#tlsgate-case=}]=1
    done < <(grep -rhoE -- 'tlsgate-case=[^;[:space:]]+;' "$(_case_mail_dir)" 2>/dev/null | tr -d ';' | sort -u)
}
_case_delivered() { [[ -n ${_case_seen[$1]:-} ]]; }
_case_all_delivered() {
    local n
    _case_scan
    for n in "${_case_accepted[@]}"; do _case_delivered "$n" || return 1; done
}

# Delivery is asynchronous: wait until every accepted message is in a Maildir,
# then no refused one may be there.
case_check_deliveries() {
    local n missing=() leaked=()
    tg_wait_for 30 "delivery of ${#_case_accepted[@]} accepted messages" _case_all_delivered || true
    _case_scan
    for n in "${_case_accepted[@]}"; do _case_delivered "$n" || missing+=("$n"); done
    for n in "${_case_refused[@]}"; do _case_delivered "$n" && leaked+=("$n"); done
    tg_check "all ${#_case_accepted[@]} accepted messages delivered${missing:+ (missing: ${missing[*]})}" \
        test ${#missing[@]} = 0
    tg_check "none of the ${#_case_refused[@]} refused messages delivered${leaked:+ (LEAKED: ${leaked[*]})}" \
        test ${#leaked[@]} = 0
}
