#!/usr/bin/env bash
# Smoke test of the integration-test infrastructure: private syslog + the
# Postfix container with smtpd_milters pointing at a port where no milter
# listens. milter_default_action = tempfail, so a plaintext message must get a
# 4xx reply and must not be delivered. Exit 0 only if that holds.
#
#   sudo t/integration/smoke-container.sh     (installs what it needs)
# Cold (fresh machine): ~2-3 min (apt, mmdebstrap, podman build); warm: seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/syslog.sh
. "$here/lib/syslog.sh"
# shellcheck source-path=SCRIPTDIR source=lib/postfix-container.sh
. "$here/lib/postfix-container.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swaks.sh
. "$here/lib/swaks.sh"

tg_need_root
# Everything known up front, in one apt run (each lib would otherwise install
# its own share separately; those calls then find nothing missing).
tg_need_test_pkgs


cleanup() {
    pf_stop || true
    tg_syslog_stop || true
}
trap cleanup EXIT

devlog_before=$(stat -c %i /dev/log 2>/dev/null || echo absent)
tg_syslog_start

# A port with no listener: Postfix's connect to the milter is refused at once.
milter_port=${TG_SMOKE_MILTER_PORT:-18891}
if ss -Hltn "sport = :$milter_port" | grep -q .; then
    tg_die "something listens on $milter_port; set TG_SMOKE_MILTER_PORT"
fi
export SMTP_PORT=${SMTP_PORT:-10025} MILTER=inet:127.0.0.1:$milter_port
pf_start

out=$(tg_swaks --local-interface 127.0.0.2 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | sed 's/^/    swaks| /'

tg_check "swaks exit code 23 (error in MAIL transaction), got $rc" test "$rc" = 23
tg_check "MAIL FROM answered 451 4.7.1 (milter_default_action=tempfail)" \
    grep -Eq '^<\*\* 451 4\.7\.1 ' <<<"$out"
no_5xx() { ! grep -Eq '^<\*\* 5[0-9][0-9] ' <<<"$out"; }
tg_check "no 5xx reply" no_5xx
tg_check "Postfix logged the milter-reject for 127.0.0.2" \
    grep -Eq 'milter-reject: MAIL from unknown\[127\.0\.0\.2\]: 451 4\.7\.1' "$TG_PF_DIR/log/maillog"
tg_check "Postfix logged the refused milter connection" \
    grep -q "connect to Milter service inet:127.0.0.1:$milter_port: Connection refused" \
    "$TG_PF_DIR/log/maillog"
tg_check "nothing was delivered" test -z "$(find "$TG_PF_DIR/mail" -type f)"

# The private syslog works for a program run with run_with_syslog.
run_with_syslog logger -t tlsgate-smoke "smoke result rc=$rc pid=$$"
tg_check "run_with_syslog reaches the private syslog" \
    tg_syslog_wait "tlsgate-smoke(\[[0-9]+\])?: smoke result rc=$rc pid=$$\$" 10
tg_check "host /dev/log untouched ($devlog_before)" \
    test "$(stat -c %i /dev/log 2>/dev/null || echo absent)" = "$devlog_before"

echo "smoke-container: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
