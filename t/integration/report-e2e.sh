#!/usr/bin/env bash
# tlsgate report end to end: the Postfix scenario matrix (lib/matrix.sh) run against
# the tlsgate built here with every source in monitor mode, then `tlsgate report` on
# the accounting file it wrote: its counts must equal the sessions sent (per source:
# decisions, would-rejects, accepts, reasons, accepted mail by TLS version, clients),
# its rows the decision lines in syslog. Then --what-if a stricter configuration
# (STARTTLS required from 127.0.0.2 and 127.0.0.4, 127.0.0.9's source renamed): exit
# 1, exactly those two clients newly refused, 127.0.0.9 moved; and a looser one
# (nothing required): exit 0, every would-reject newly passed.
# Ports 10031 (SMTP) and 18902 (milter), so it can run beside the other suites. ~45 s.
# TG_REPORT_E2E_KEEP=DIR keeps the accounting file and the two candidates there.
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
    if [[ -n ${TG_REPORT_E2E_KEEP:-} ]]; then
        mkdir -p "$TG_REPORT_E2E_KEEP"
        cp "$work"/accounting.csv "$work"/*.ini "$TG_REPORT_E2E_KEEP"/ 2>/dev/null || true
    fi
    [[ -n $milter_pid ]] && kill "$milter_pid" 2>/dev/null || true
    pf_stop || true
    tg_syslog_stop || true
    rm -rf "$work"
}
trap cleanup EXIT

milter_port=${TG_REPORT_MILTER_PORT:-18902}
tlsgate=${TLSGATE:-$root/build/tlsgate}
accounting=$work/accounting.csv

cat >"$work/tlsgate.ini" <<INI
[milter]
socket = inet:$milter_port@127.0.0.1
accounting_file = $accounting
mode = monitor
$(matrix_sources)
INI
"$tlsgate" -n -c "$work/tlsgate.ini" >/dev/null

tg_syslog_start
spawn_with_syslog "$tlsgate" -f -c "$work/tlsgate.ini"
milter_pid=$TG_SPAWNED_PID
tg_syslog_wait "tlsgate\[$milter_pid\]: started: listening on inet:$milter_port@127.0.0.1" 20

export SMTP_PORT=${SMTP_PORT:-10031} MILTER=inet:127.0.0.1:$milter_port
pf_start
case_init "$work/cases"

echo "== the matrix, every source in monitor mode"
export CASE_MONITOR=1 CASE_RECORD=$work/sessions.txt
: >"$CASE_RECORD"
matrix_transport_auth
matrix_rules
matrix_ipv6
case_check_deliveries
unset CASE_MONITOR CASE_RECORD
sent=$(wc -l <"$work/sessions.txt")

# Every decision line is in the CSV once tlsgate has logged it: wait for the count.
decisions() { grep -Ec "tlsgate\[$milter_pid\]: [0-9A-Za-z]+: action=" "$TG_SYSLOG_FILE" || true; }
rows() { echo $(($(wc -l <"$accounting") - 1)); }
rows_written() { [[ $(rows) == "$(decisions)" ]]; }
tg_check "the accounting file has a row per decision line in syslog ($(decisions))" \
    tg_wait_for 10 "rows" rows_written

echo "== tlsgate report"
"$tlsgate" report --format json -o "$work/report.json" "$accounting"
"$tlsgate" report "$accounting" >"$work/report.txt"
check_report() {  # python3 -c PROGRAM: checks of report.json against sessions.txt
    python3 - "$work/report.json" "$work/sessions.txt" "$(decisions)" "$1" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
sessions = [l.split() for l in open(sys.argv[2])]  # name client source action reason tls auth
syslog_decisions, what = int(sys.argv[3]), sys.argv[4]
def fail(msg):
    sys.exit(msg)
if what == "rows":
    if report["rows"] != syslog_decisions or report["bad_rows"] != 0:
        fail("rows %s (bad %s), decision lines in syslog %s"
             % (report["rows"], report["bad_rows"], syslog_decisions))
elif what == "total":
    if report["total"]["decisions"] != len(sessions):
        fail("%s decisions, %s sessions sent" % (report["total"]["decisions"], len(sessions)))
elif what == "sources":
    want = collections.defaultdict(lambda: collections.Counter())
    for name, client, source, action, reason, tls, auth in sessions:
        w = want[source]
        w["decisions"] += 1
        w[action.replace("-", "_")] += 1
        w["reason " + reason] += reason != "-"
        w["tls " + tls] += 1  # every session's message was accepted (monitor mode)
    for source, w in want.items():
        got = report["sources"].get(source)
        if got is None:
            fail("source %s missing from the report" % source)
        have = collections.Counter({"decisions": got["decisions"], "accept": got["accept"],
                                    "would_reject": got["would_reject"]})
        have.update({"reason " + r: n for r, n in got["reasons"].items()})
        have.update({"tls " + v: n for v, n in got["accepted_by_tls_version"].items()})
        if +have != +w:
            fail("source %s: report %s, sessions %s" % (source, dict(+have), dict(+w)))
        clients = {s[1] for s in sessions if s[2] == source}
        if got["clients"] != len(clients) or got["reject"] or got["tempfail"]:
            fail("source %s: %s clients (%s sent from), reject %s, tempfail %s"
                 % (source, got["clients"], len(clients), got["reject"], got["tempfail"]))
    if set(report["sources"]) != set(want):
        fail("sources %s, sessions from %s" % (sorted(report["sources"]), sorted(want)))
PY
}
tg_check "report: rows = decision lines in syslog, none bad" check_report rows
tg_check "report: $sent decisions = the $sent sessions sent" check_report total
tg_check "report: per source, decisions, accepts, would-rejects, reasons, TLS versions and clients as sent" \
    check_report sources
tg_check "report (text): the same row count" grep -q "^tlsgate report: $(rows) rows in 1 file, 0 bad" \
    "$work/report.txt"

echo "== --what-if a stricter configuration"
# STARTTLS required in [source open] (127.0.0.2) and [source lenient] (127.0.0.4);
# [source auth-after-tls] (127.0.0.9) renamed: the same rules, another name.
{
    printf '[milter]\nmode = enforce\n'
    matrix_sources yes | sed -e '/^\[source lenient\]/,/^\[/ s/^require_starttls = no$/require_starttls = yes/' \
        -e 's/^\[source auth-after-tls\]/[source renamed]/'
} >"$work/strict.ini"
"$tlsgate" -n -c "$work/strict.ini" >/dev/null
rc=0
"$tlsgate" report --format json --what-if "$work/strict.ini" -o "$work/strict.json" "$accounting" || rc=$?
tg_check "stricter: exit 1 (got $rc)" test "$rc" = 1
what_if() {  # what_if REPORT.json CHECK
    python3 - "$1" "$work/sessions.txt" "$2" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["what_if"]
sessions = [l.split() for l in open(sys.argv[2])]
check = sys.argv[3]
if check == "strict":
    # Accepted today (monitor: no would-reject) and in clear, from 127.0.0.2 or 127.0.0.4.
    want = {}
    for name, client, source, action, reason, tls, auth in sessions:
        if client in ("127.0.0.2", "127.0.0.4") and action == "accept" and tls == "none":
            want[client] = want.get(client, 0) + 1
    listed = {c["client"]: c["count"] for c in w["total"]["top"]}
    if listed != want or w["newly_refused"] != sum(want.values()):
        sys.exit("newly refused %s (%s), expected %s" % (listed, w["newly_refused"], want))
    if w["newly_passed"] != 0 or w["sessions"] != len(sessions):
        sys.exit("newly passed %s, replayed %s of %s" % (w["newly_passed"], w["sessions"], len(sessions)))
    if w["moved"] != 1 or w["moves"] != [{"from": "auth-after-tls", "to": "renamed", "clients": 1}]:
        sys.exit("moved %s: %s" % (w["moved"], w["moves"]))
else:
    would = sum(1 for s in sessions if s[3] == "would-reject")
    if w["newly_refused"] != 0 or w["newly_passed"] != would or w["total"]["top"]:
        sys.exit("newly refused %s, newly passed %s (would-rejects %s)"
                 % (w["newly_refused"], w["newly_passed"], would))
PY
}
tg_check "stricter: exactly 127.0.0.2 and 127.0.0.4 newly refused (their plaintext sessions), nothing newly passed, 127.0.0.9 moved" \
    what_if "$work/strict.json" strict

echo "== --what-if a looser configuration"
# Every source of the matrix, nothing required (the sources inherit [source default]).
matrix_sources | awk '/^\[source/ || /^networks/ { print }
    /^\[source default\]/ { print "require_starttls_before_auth = no"
                             print "allow_unencrypted_plain_auth = yes" }' >"$work/loose.ini"
"$tlsgate" -n -c "$work/loose.ini" >/dev/null
rc=0
"$tlsgate" report --format json --what-if "$work/loose.ini" -o "$work/loose.json" "$accounting" || rc=$?
tg_check "looser: exit 0 (got $rc)" test "$rc" = 0
tg_check "looser: nothing newly refused, every would-reject newly passed" what_if "$work/loose.json" loose

echo "report-e2e: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
