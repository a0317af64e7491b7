# shellcheck shell=bash
# What every integration suite does around its own checks, written once. Source it
# first thing; it sets $root (the repository), $here (t/integration) and $tlsgate
# (TLSGATE, default build/tlsgate), and sources lib/common.sh and lib/syslog.sh.
#
#   suite_begin NAME [PKG...]   root, the test packages (tg_need_test_pkgs), python3
#                               and PKG...; a fresh $work; at exit: the suite_at_exit
#                               commands (last first), tlsgate and rsyslog stopped,
#                               $work removed
#   suite_at_exit CMD...        one more thing to undo at exit
#   suite_start_tlsgate INI [ARG...]
#                               rsyslog on a private socket (once), then tlsgate -f -c
#                               INI ARG... in the background, its stderr appended to
#                               $work/tlsgate.stderr; waits for its "started:" line
#                               (shows stderr if it never comes); sets $milter_pid
#   suite_stop_tlsgate          SIGTERM; checks exit 0 and "stopped" logged
#   suite_decisions             how many decision lines tlsgate logged
#   suite_check_csv DESC FILE ROWS [PYTHON]
#                               a check: FILE is strict RFC 4180 with tlsgate's
#                               header, ROWS rows of ROWS fields each, known actions;
#                               PYTHON (optional) asserts more, with `header`, `body`
#                               and `col` (header name -> index) defined
#   suite_fail_closed MAILDIR   with tlsgate stopped: plaintext, STARTTLS and AUTH
#                               sessions each end in a 4xx (no 5xx), nothing delivered
#   suite_end                   "NAME: N passed, M failed" and the exit status

# shellcheck disable=SC2034  # used by the scripts that source this file
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034
root=$(cd "$here/../.." && pwd)
# shellcheck disable=SC2034
tlsgate=${TLSGATE:-$root/build/tlsgate}
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=syslog.sh
. "$here/lib/syslog.sh"

_suite_name= _suite_exit=() _suite_syslog=
milter_pid=

suite_at_exit() { _suite_exit+=("$*"); }

_suite_cleanup() {
    local i
    for ((i = ${#_suite_exit[@]} - 1; i >= 0; i--)); do eval "${_suite_exit[i]}" || true; done
    [[ -n $milter_pid ]] && kill "$milter_pid" 2>/dev/null || true
    [[ -n $_suite_syslog ]] && tg_syslog_stop || true
    rm -rf "$work"
}

suite_begin() {
    _suite_name=$1
    shift
    tg_need_root
    tg_need_test_pkgs
    tg_need_pkgs python3 "$@"
    work=$(mktemp -d)
    chmod 0755 "$work" # tlsgate may run as nobody and read files here
    trap _suite_cleanup EXIT
}

# The [milter] section of a suite's config: both front ends on loopback, the CSV in
# $work. suite_milter_ini MILTER_PORT POLICY_PORT
suite_milter_ini() {
    printf '[milter]\nsocket = inet:%s@127.0.0.1\npolicy_socket = inet:%s@127.0.0.1\naccounting_file = %s/accounting.csv\n' \
        "$1" "$2" "$work"
}

suite_start_tlsgate() {
    local ini=$1
    shift
    if [[ -z $_suite_syslog ]]; then
        tg_syslog_start
        _suite_syslog=1
    fi
    spawn_with_syslog "$tlsgate" -f -c "$ini" "$@" 2>>"$work/tlsgate.stderr"
    milter_pid=$TG_SPAWNED_PID
    tg_syslog_wait "tlsgate\[$milter_pid\]: started: " 20 || {
        sed 's/^/    | /' "$work/tlsgate.stderr" >&2
        tg_die "tlsgate did not start"
    }
}

suite_stop_tlsgate() {
    local rc=0 pid=$milter_pid
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    milter_pid=
    tg_check "SIGTERM: tlsgate exits 0 (got $rc)" test "$rc" = 0
    tg_check "SIGTERM: 'stopped' logged" tg_syslog_wait "tlsgate\[$pid\]: stopped" 10
}

suite_decisions() {
    grep -Ec "tlsgate\[$milter_pid\]: [0-9A-Za-z]+: action=" "$TG_SYSLOG_FILE"
}

suite_check_csv() {
    local desc=$1 file=$2 rows=$3 more=${4:-}
    tg_check "$desc" python3 - "$file" "$rows" "$more" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8", errors="strict") as f:
    rows = list(csv.reader(f, strict=True))
header, body = rows[0], rows[1:]
want = int(sys.argv[2])
assert header[:6] == ["time", "queue_id", "client", "source", "action", "reason"], header
assert all(len(r) == len(header) for r in body), "ragged rows"
assert len(body) == want, f"{len(body)} rows, {want} wanted"
col = {h: i for i, h in enumerate(header)}
actions = {r[col["action"]] for r in body}
assert actions <= {"accept", "reject", "tempfail", "would-reject"}, actions
exec(sys.argv[3])
PY
}

suite_fail_closed() {
    local maildir=$1 before
    _suite_count() { find "$maildir" -path '*/new/*' -type f | wc -l; }
    before=$(_suite_count)
    _suite_down() { # NAME ARGS...: the session ends with a 4xx and no 5xx
        local out=$work/cases/$1.out
        mkdir -p "$work/cases"
        tg_swaks --body "tlsgate-case=$1;" "${@:2}" >"$out" 2>&1 || true
        grep -Eq '^<[-~]?\*+ +4[0-9][0-9] 4\.[0-9]+\.[0-9]+ ' "$out" &&
            ! grep -Eq '^<[-~*]+ +5[0-9][0-9] ' "$out" || { sed 's/^/    | /' "$out"; return 1; }
    }
    tg_check "tlsgate down, plaintext from 127.0.0.2: 4xx" _suite_down down-plain \
        --local-interface 127.0.0.2
    tg_check "tlsgate down, STARTTLS from 127.0.0.1: 4xx" _suite_down down-tls \
        --local-interface 127.0.0.1 --tls
    tg_check "tlsgate down, AUTH from 127.0.0.4: 4xx" _suite_down down-auth \
        --local-interface 127.0.0.4 --auth PLAIN --auth-user alice@example.test --auth-password secret
    tg_check "tlsgate down: nothing delivered ($before before, $(_suite_count) after)" \
        test "$(_suite_count)" = "$before"
}

suite_end() {
    echo "$_suite_name: $tg_passed passed, $tg_failed failed"
    ((tg_failed == 0))
}
