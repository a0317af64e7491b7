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

echo "== SIGHUP stops it (libmilter's signal thread; SIGUSR1 is the reload)"
kill -HUP "$pid"
rc=0
tg_wait_for 10 "tlsgate to stop" stopped "$pid" && wait "$pid" || rc=$?
tg_check "SIGHUP: exit 0 (got $rc)" test "$rc" = 0
tg_check "'stopped' logged" grep -q 'tlsgate\[[0-9]*\]: stopped' "$work/unix.out"

echo "== -p overrides the socket; without -f it detaches"
ini "$work/bg.ini" "unix:$work/unused.sock" "pid_file = $work/bg.pid"
"$tlsgate" -c "$work/bg.ini" -p "inet:$port@127.0.0.1"
tg_check "the parent returned and the daemon listens on the -p socket" \
    tg_wait_for 10 "port $port" listening "$port"
bgpid=$(cat "$work/bg.pid")
pids+=("$bgpid")
tg_check "pid file names the daemon (pid $bgpid)" kill -0 "$bgpid"
kill -TERM "$bgpid"
tg_check "SIGTERM: the daemon stops and removes its pid file" \
    tg_wait_for 10 "pid file removed" test ! -e "$work/bg.pid"

echo "daemon: $tg_passed passed, $tg_failed failed"
((tg_failed == 0))
