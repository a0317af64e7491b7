#!/usr/bin/env bash
# First end-to-end test of the milter: tlsgate built on the host, a real Postfix in
# a container calling it, swaks as the client, rsyslog catching tlsgate's lines.
# Four cases from three loopback sources; the full matrix comes with issue 4.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/syslog.sh"
. "$here/lib/postfix-container.sh"
. "$here/lib/swaks.sh"

tg_need_root
tg_need_test_pkgs


work=$(mktemp -d)
cleanup() {
    [ -n "${TG_SPAWNED_PID:-}" ] && kill "$TG_SPAWNED_PID" 2>/dev/null || true
    pf_stop || true
    tg_syslog_stop || true
    rm -rf "$work"
}
trap cleanup EXIT

milter_port=${TG_E2E_MILTER_PORT:-18892}
cat >"$work/tlsgate.ini" <<INI
[milter]
socket = inet:$milter_port@127.0.0.1
accounting_file = $work/accounting.csv
[source default]
require_starttls = yes
[source plainauth]
networks = 127.0.0.2
[source legacy]
networks = 127.0.0.3
require_starttls = yes
mode = monitor
INI

tg_syslog_start
spawn_with_syslog "$root/build/tlsgate" -f -c "$work/tlsgate.ini"
tg_syslog_wait "tlsgate\[[0-9]+\]: started: listening on inet:$milter_port@127.0.0.1" 20

export SMTP_PORT=${SMTP_PORT:-10025} MILTER=inet:127.0.0.1:$milter_port
pf_start

send() { # send NAME SWAKS-OPTIONS...: the transcript in $work/NAME
    tg_swaks "${@:2}" >"$work/$1" 2>&1 || true
}
# swaks marks server lines "<-" (plaintext) or "<~" (TLS), errors "<**" / "<~*".
show() { sed 's/^/    | /' "$work/$1"; return 1; }
reply_is() { grep -Eq "^<[-~*][-* ] +$2" "$work/$1" || show "$1"; }
accepted() { grep -Eq '^<[-~] +250 2\.0\.0 Ok: queued as ' "$work/$1" || show "$1"; }
log_has() { tg_syslog_wait "$1" 10; }

send plain-default --local-interface 127.0.0.1
tg_check "plaintext from default: 530 5.7.0" reply_is plain-default '530 5\.7\.0 Must issue a STARTTLS command first'
tg_check "syslog: reject starttls_required client=127.0.0.1 source=default" \
    log_has 'NOQUEUE: action=reject reason=starttls_required client=127\.0\.0\.1 source=default tls=none'

send tls13-default --local-interface 127.0.0.1 --tls --tls-protocol tlsv1_3
tg_check "TLS 1.3 from default: accepted" accepted tls13-default
qid=$(sed -En 's/^<[-~] +250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+).*/\1/p' "$work/tls13-default")
[ -n "$qid" ] || qid=no-queue-id-seen
tg_check "syslog: accept with queue id $qid, TLSv1.3, its cipher and bits" \
    log_has "$qid: action=accept client=127\.0\.0\.1 source=default tls=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ bits=(128|256)"

send plain-auth --local-interface 127.0.0.2 --auth PLAIN --auth-user alice@example.test --auth-password secret
tg_check "AUTH PLAIN without TLS: 530 5.7.10" reply_is plain-auth '530 5\.7\.10 Encryption needed for PLAIN/LOGIN authentication'
tg_check "syslog: plaintext_auth with credentials_exposed=yes" \
    log_has 'action=reject reason=plaintext_auth client=127\.0\.0\.2 source=plainauth tls=none auth=PLAIN auth_user=alice@example\.test cert=none .*credentials_exposed=yes'

send plain-legacy --local-interface 127.0.0.3
tg_check "plaintext from a monitor source: accepted" accepted plain-legacy
tg_check "syslog: would-reject then accept for the monitor source" \
    log_has 'action=would-reject reason=starttls_required client=127\.0\.0\.3 source=legacy'

rows=$(($(wc -l <"$work/accounting.csv") - 1))
tg_check "accounting CSV: one row per decision (5), got $rows" test "$rows" = 5

echo "milter-e2e: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
