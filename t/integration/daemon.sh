#!/usr/bin/env bash
# The daemon on its own (no MTA): sockets, privileges, pid file, signals, and
# the clear errors an admin gets when it cannot start.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"
tg_need_root
tg_need_pkgs python3 iproute2

tlsgate=$root/build/tlsgate
work=$(mktemp -d)
chmod 0755 "$work"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

port=${TG_DAEMON_PORT:-18893}
ini() { # ini FILE SOCKET [MORE [milter] LINES...]
    local f=$1 s=$2
    shift 2
    printf '[milter]\nsocket = %s\n' "$s" >"$f"
    printf '%s\n' "$@" >>"$f"
    printf '[source default]\nrequire_starttls = yes\n' >>"$f"
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }
# hold_session SOCKET DIR: a milter session (lib/milter_driver.py) up to HELO, then
# DIR/open; once DIR/go exists, MAIL FROM, its reply in DIR/mail, and QUIT. Without
# DIR/go it stays open (until killed, or the milter closes it).
hold_session() {
    PYTHONPATH=$here/lib python3 - "$1" "$2" <<'PY' &
import os, sys, time
from milter_driver import Milter
sock, d = sys.argv[1], sys.argv[2]
m = Milter(sock, timeout=60)
m.negotiate()
m.connect("client.example.test", "4", "192.0.2.99")
m.helo("client.example.test")
open(os.path.join(d, "open"), "w").close()
while not os.path.exists(os.path.join(d, "go")):
    time.sleep(0.05)
r = m.mail("<sender@example.net>")
with open(os.path.join(d, "mail.tmp"), "w") as f:
    f.write(str(r) + "\n")
os.rename(os.path.join(d, "mail.tmp"), os.path.join(d, "mail"))
m.quit()
PY
    pids+=($!)
}
log_has() { grep -q -- "$2" "$1"; }
stopped() { ! kill -0 "$1" 2>/dev/null; }

echo "== a port already in use"
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
pids+=($!)
tg_wait_for 10 "python listener" listening "$port"
ini "$work/busy.ini" "inet:$port@127.0.0.1"
rc=0
"$tlsgate" -f -c "$work/busy.ini" >"$work/busy.out" 2>&1 || rc=$?
tg_check "exit 1 (got $rc)" test "$rc" = 1
tg_check "says it cannot listen: $(head -c 120 "$work/busy.out")" \
    grep -q "tlsgate: cannot listen on inet:$port@127\.0\.0\.1: .*(is another process using it?)" "$work/busy.out"
kill "${pids[-1]}"

echo "== a bad configuration"
printf '[milter]\nsocket = inet:%s@127.0.0.1\nmode = strict\n' "$port" >"$work/bad.ini"
rc=0
"$tlsgate" -f -c "$work/bad.ini" >"$work/bad.out" 2>&1 || rc=$?
tg_check "exit 1 (got $rc)" test "$rc" = 1
tg_check "names file and line, and 'not started'" \
    grep -Pzq "$work/bad\.ini:3: mode: .*\ntlsgate: 1 error; not started" "$work/bad.out"
tg_check "nothing listens" bash -c "! ss -Hltn 'sport = :$port' | grep -q ."

echo "== -n and a start refuse the same values (nothing is bound)"
ini "$work/host.ini" "inet:$port@host.invalid"
hostline="$work/host.ini:2: socket: \"inet:$port@host.invalid\": host.invalid is neither an IPv4 address nor a host name that resolves"
rc=0
"$tlsgate" -n -c "$work/host.ini" >"$work/host-n.out" 2>&1 || rc=$?
tg_check "-n, a socket host that does not resolve: exit 1 (got $rc), FILE:LINE: socket: ..." \
    bash -c '[[ $1 == 1 ]] && grep -qF "$2" "$3"' _ "$rc" "$hostline" "$work/host-n.out"
rc=0
"$tlsgate" -f -c "$work/host.ini" >"$work/host-start.out" 2>&1 || rc=$?
tg_check "a start with it: exit 1 (got $rc), the same line" \
    bash -c '[[ $1 == 1 ]] && grep -qF "$2" "$3"' _ "$rc" "$hostline" "$work/host-start.out"
ini "$work/user.ini" "inet:$port@127.0.0.1" "user = tlsgate-no-such-user"
rc=0
"$tlsgate" -f -c "$work/user.ini" >"$work/user.out" 2>&1 || rc=$?
tg_check "a start with an unknown user: exit 1 (got $rc), FILE:LINE: user: ..." \
    bash -c '[[ $1 == 1 ]] && grep -qF "$2:3: user: unknown user tlsgate-no-such-user" "$3"' _ \
    "$rc" "$work/user.ini" "$work/user.out"
rc=0
(cd "$work" && "$tlsgate" -f -c "$work/busy.ini" -p foo) >"$work/p.out" 2>&1 || rc=$?
tg_check "-p foo at a start: usage error, exit 2 (got $rc), no socket ./foo" \
    bash -c '[[ $1 == 2 ]] && grep -q "^tlsgate: -p foo: expected inet:PORT@ADDR" "$2" && [[ ! -e $3 ]]' _ \
    "$rc" "$work/p.out" "$work/foo"
rc=0
"$tlsgate" -n -c "$work/busy.ini" -p "inet:$port@host.invalid" >"$work/pn.out" 2>&1 || rc=$?
tg_check "-n -p with a host that does not resolve: exit 2 (got $rc)" \
    bash -c '[[ $1 == 2 ]] && grep -q "^tlsgate: -p inet:$2@host.invalid: host.invalid is neither" "$3"' _ \
    "$rc" "$port" "$work/pn.out"
tg_check "nothing listens" bash -c "! ss -Hltn 'sport = :$port' | grep -q ."

echo "== a unix socket: stale file removed, mode and group, privileges dropped, pid file"
sock=$work/run/tlsgate.sock
mkdir -p "$work/run"
chmod 0755 "$work/run"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock" # stale
ini "$work/unix.ini" "unix:$sock" "socket_mode = 0660" "user = nobody" "group = nogroup" \
    "pid_file = $work/run/tlsgate.pid"
"$tlsgate" -f -c "$work/unix.ini" 2>"$work/unix.out" &
pid=$!
pids+=("$pid")
started() { grep -q 'started: listening on unix:' "$work/unix.out"; }
tg_check "started over a stale socket file" tg_wait_for 10 "tlsgate started" started
tg_check "socket mode 0660, group nogroup: $(stat -c '%a %G' "$sock")" \
    test "$(stat -c '%a %G' "$sock")" = "660 nogroup"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
gid=$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")
tg_check "runs as nobody:nogroup (uid $uid, gid $gid)" \
    test "$uid:$gid" = "$(id -u nobody):$(getent group nogroup | cut -d: -f3)"
tg_check "pid file holds its pid" test "$(cat "$work/run/tlsgate.pid")" = "$pid"
# The socket answers the milter protocol: a connect is accepted.
tg_check "the socket accepts connections" \
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock"

echo "== a second tlsgate on the same unix socket, and on the same pid file"
ini "$work/unix2.ini" "unix:$sock"
rc=0
"$tlsgate" -f -c "$work/unix2.ini" >"$work/unix2.out" 2>&1 || rc=$?
tg_check "socket: exit 1 (got $rc), says another process listens there" \
    bash -c '[[ $1 == 1 ]] && grep -qF "tlsgate: cannot listen on unix:$2: another process is listening there (is tlsgate already running?)" "$3"' _ \
    "$rc" "$sock" "$work/unix2.out"
tg_check "the first still runs, its socket file is there and accepts connections" \
    bash -c 'kill -0 "$1" && [[ -S $2 ]] && python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$2"' _ "$pid" "$sock"
session_out=$(PYTHONPATH=$here/lib python3 "$here/lib/milter_driver.py" -s "unix:$sock" session \
    --addr 192.0.2.98 --no-eom 2>&1 || true)
tg_check "the first still judges a session: MAIL without TLS gets 530 5.7.0" \
    grep -q '^mail replycode 530 5\.7\.0 ' <<<"$session_out"
ini "$work/pid2.ini" "inet:$port@127.0.0.1" "pid_file = $work/run/tlsgate.pid"
rc=0
"$tlsgate" -f -c "$work/pid2.ini" >"$work/pid2.out" 2>&1 || rc=$?
tg_check "pid file: exit 1 (got $rc), names the process that holds it ($pid)" \
    bash -c '[[ $1 == 1 ]] && grep -qF "tlsgate: pid_file $2 is locked by process $3 (is tlsgate already running?)" "$4"' _ \
    "$rc" "$work/run/tlsgate.pid" "$pid" "$work/pid2.out"
tg_check "the pid file still holds the first one's pid, and nothing listens on :$port" \
    bash -c '[[ $(cat "$1") == "$2" ]] && ! ss -Hltn "sport = :$3" | grep -q .' _ \
    "$work/run/tlsgate.pid" "$pid" "$port"

echo "== SIGHUP stops it like SIGTERM (SIGUSR1 is the reload)"
kill -HUP "$pid"
rc=0
tg_wait_for 10 "tlsgate to stop" stopped "$pid" && wait "$pid" || rc=$?
tg_check "SIGHUP: exit 0 (got $rc)" test "$rc" = 0
tg_check "'stopped' logged" grep -q 'tlsgate\[[0-9]*\]: stopped' "$work/unix.out"

echo "== -p overrides the socket; without -f it detaches once it listens"
# The pid file's directory does not exist (outside systemd nothing makes /run/tlsgate).
ini "$work/bg.ini" "unix:$work/unused.sock" "pid_file = $work/bgrun/bg.pid"
rc=0
"$tlsgate" -c "$work/bg.ini" -p "inet:$port@127.0.0.1" || rc=$?
tg_check "the parent exits 0 (got $rc) once the daemon listens on the -p socket" \
    bash -c '[[ $1 == 0 ]] && ss -Hltn "sport = :$2" | grep -q .' _ "$rc" "$port"
bgpid=$(cat "$work/bgrun/bg.pid")
pids+=("$bgpid")
tg_check "pid file names the daemon (pid $bgpid), in the directory it made (0755)" \
    bash -c 'kill -0 "$1" && [[ $(stat -c %a "$2") == 755 ]]' _ "$bgpid" "$work/bgrun"
kill -TERM "$bgpid"
tg_check "SIGTERM: the daemon stops and removes its pid file" \
    tg_wait_for 10 "pid file removed" test ! -e "$work/bgrun/bg.pid"

echo "== a detached start that fails: exit 1 in the parent, the reason on stderr, no pid file"
detached_fails() { # NAME EXPECTED-STDERR-LINE PIDFILE [COMMAND-PREFIX...] -- INI
    local name=$1 want=$2 pidfile=$3 rc=0
    shift 3
    "$@" >"$work/$name.out" 2>&1 || rc=$?
    tg_check "$name: exit 1 (got $rc): $(head -c 150 "$work/$name.out")" \
        bash -c '[[ $1 == 1 ]] && grep -qxF "$2" "$3"' _ "$rc" "$want" "$work/$name.out"
    tg_check "$name: no pid file left, nothing listens" \
        bash -c '[[ ! -e $1 ]] && ! ss -Hltn "sport = :$2" | grep -q .' _ "$pidfile" "$port"
}
ini "$work/acct.ini" "inet:$port@127.0.0.1" "pid_file = $work/acct.pid" \
    "accounting_file = $work/no-such-dir/accounting.csv"
echo 99999 >"$work/acct.pid" # stale: a start takes it over, a failed one removes it
detached_fails accounting "tlsgate: accounting_file $work/no-such-dir/accounting.csv: No such file or directory" \
    "$work/acct.pid" "$tlsgate" -c "$work/acct.ini"
ini "$work/piddir.ini" "inet:$port@127.0.0.1" "pid_file = $work/no-such-dir/run/tlsgate.pid"
detached_fails pid-directory \
    "tlsgate: pid_file $work/no-such-dir/run/tlsgate.pid: cannot create its directory $work/no-such-dir/run: No such file or directory" \
    "$work/no-such-dir/run/tlsgate.pid" "$tlsgate" -c "$work/piddir.ini"
# Not root: becoming another user fails. The pid file's directory is writable to nobody.
mkdir -p "$work/nobody" && chown nobody "$work/nobody"
ini "$work/priv.ini" "inet:$port@127.0.0.1" "pid_file = $work/nobody/tlsgate.pid" "user = root"
detached_fails privileges "tlsgate: cannot become root: Operation not permitted" \
    "$work/nobody/tlsgate.pid" setpriv --reuid nobody --regid nogroup --clear-groups \
    "$tlsgate" -c "$work/priv.ini"

echo "== SIGTERM finishes the sessions in flight"
tsock=$work/term.sock
ini "$work/unixterm.ini" "unix:$tsock"
"$tlsgate" -f -c "$work/unixterm.ini" 2>"$work/term.out" &
tpid=$!
pids+=("$tpid")
tg_wait_for 10 "tlsgate listening" log_has "$work/term.out" "started: listening on unix:$tsock"
mkdir "$work/s1"
hold_session "unix:$tsock" "$work/s1"
tg_wait_for 10 "the session to be open" test -e "$work/s1/open"
kill -TERM "$tpid"
tg_check "it waits: 'stopping: waiting for 1 session in flight (up to 10 s)'" \
    tg_wait_for 10 "the stopping line" log_has "$work/term.out" "stopping: waiting for 1 session in flight (up to 10 s)"
tg_check "still running; its socket file is gone, nothing listens there" \
    bash -c 'kill -0 "$1" && [[ ! -e $2 ]]' _ "$tpid" "$tsock"
touch "$work/s1/go"
tg_check "the session's MAIL still gets its answer (530 5.7.0: no TLS)" \
    tg_wait_for 10 "the MAIL reply" grep -q '^replycode 530 5\.7\.0 ' "$work/s1/mail"
rc=0
tg_wait_for 10 "tlsgate to stop" stopped "$tpid" && wait "$tpid" || rc=$?
tg_check "once the session closed: exit 0 (got $rc), 'stopped' logged" \
    bash -c '[[ $1 == 0 ]] && grep -qE "tlsgate\[[0-9]+\]: stopped$" "$2"' _ "$rc" "$work/term.out"

echo "== SIGTERM cuts a session that never ends after 10 s"
ini "$work/term.ini" "inet:$port@127.0.0.1"
"$tlsgate" -f -c "$work/term.ini" 2>"$work/cut.out" &
tpid=$!
pids+=("$tpid")
tg_wait_for 10 "tlsgate listening" listening "$port"
mkdir "$work/s2"
hold_session "inet:$port@127.0.0.1" "$work/s2"
tg_wait_for 10 "the session to be open" test -e "$work/s2/open"
kill -TERM "$tpid"
tg_wait_for 10 "the stopping line" log_has "$work/cut.out" "stopping: waiting for 1 session"
tg_check "no longer listening on :$port" bash -c '! ss -Hltn "sport = :$1" | grep -q .' _ "$port"
start=$SECONDS
rc=0
tg_wait_for 20 "tlsgate to stop" stopped "$tpid" && wait "$tpid" || rc=$?
took=$((SECONDS - start))
tg_check "exit 0 (got $rc) after the 10 s (took ${took} s), logs 'stopped: 1 session cut short after 10 s'" \
    bash -c '[[ $1 == 0 ]] && (($2 >= 9)) && grep -q "stopped: 1 session cut short after 10 s" "$3"' _ \
    "$rc" "$took" "$work/cut.out"

echo "daemon: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
