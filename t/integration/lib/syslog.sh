#!/usr/bin/env bash
# A private syslog daemon for the tests, and a way to run a program whose
# syslog(3) lands in it, without touching the host's logging (which may have
# no syslog daemon and no /dev/log at all).
#
# Source it for:
#   tg_syslog_start [DIR]   rsyslogd on DIR/log.sock (DIR: mktemp), writing
#                           DIR/syslog.log; sets TG_SYSLOG_DIR TG_SYSLOG_SOCK
#                           TG_SYSLOG_FILE
#   tg_syslog_stop
#   run_with_syslog CMD...  run CMD in a private mount namespace whose /dev/log
#                           is TG_SYSLOG_SOCK, so its syslog(3) reaches our file
#   spawn_with_syslog CMD...  the same in the background; TG_SPAWNED_PID is CMD's pid
#   tg_syslog_wait REGEX [SECS]  wait until a line of the file matches
# Or run it:
#   syslog.sh selftest            prove it: logger, syslog(3) from python, a
#                                 12000-character line, an unprivileged process
#   syslog.sh start [DIR] / stop DIR     (prints TG_SYSLOG_* assignments)
#   syslog.sh run SOCK CMD...     same as run_with_syslog, for other processes,
#                                 e.g. ip netns exec NS .../syslog.sh run SOCK CMD
#
# Why rsyslog, and this way:
#  - busybox syslogd cannot listen anywhere but /dev/log and cuts messages at
#    about 1 KiB; rsyslog's imuxsock takes any socket path (SysSock.Use="off"
#    keeps it off /dev/log), 64 KiB messages, and rate limiting can be turned
#    off (its default drops messages past 200 in 5 s per process).
#  - `apt-get install rsyslog` would start the host's rsyslog service (and
#    create /dev/log) wherever no policy-rc.d forbids it: we unpack the .deb
#    into $TLSGATE_CACHE/rsyslog instead and install only its libraries.
#  - glibc's syslog(3) always writes to /dev/log, and /dev/log cannot be
#    created even inside a private mount namespace without it showing on the
#    host (the namespace shares the devtmpfs). So the namespace gets a fresh
#    tmpfs /dev with the usual nodes bind-mounted from the real one, plus
#    /dev/log bind-mounted to our socket. A bind mount (not a symlink) also
#    lets processes that dropped privileges reach a socket in a 0700 directory.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TG_RSYSLOG_ROOT=$TG_CACHE/rsyslog

tg_need_rsyslog() {
    tg_need_pkgs util-linux
    local root=$TG_RSYSLOG_ROOT deb dl
    if [[ ! -x $root/usr/sbin/rsyslogd ]]; then
        dl=$TG_CACHE/dl
        mkdir -p "$dl"
        chown _apt "$dl" 2>/dev/null || true # apt-get download runs as _apt
        rm -f "$dl"/rsyslog_*.deb
        if ! (cd "$dl" && apt-get download rsyslog >/dev/null 2>&1); then
            apt-get update -qq >&2 # fresh machine: no package lists yet
            export TG_APT_UPDATED=1
            (cd "$dl" && apt-get download rsyslog >/dev/null)
        fi
        deb=$(echo "$dl"/rsyslog_*.deb)
        rm -rf "$root.tmp"
        dpkg-deb -x "$deb" "$root.tmp"
        dpkg-deb -f "$deb" Depends >"$root.tmp/DEPENDS"
        rm -rf "$root" && mv "$root.tmp" "$root"
        rm -f "$deb"
    fi
    # Its libraries (libestr0, libfastjson4, liblognorm5, ...): first
    # alternative of each dependency, versions dropped.
    local deps
    deps=$(tr ',' '\n' <"$root/DEPENDS" | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep .)
    # shellcheck disable=SC2086  # one package name a word
    tg_need_pkgs $deps
}

tg_syslog_start() {
    tg_need_root
    tg_need_rsyslog
    local dir=${1:-}
    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/tlsgate-syslog.XXXXXX")
        touch "$dir/.tlsgate-syslog"
    fi
    mkdir -p "$dir/work"
    cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="64k")
# SysSock.Use="off": never open /dev/log, only the socket below.
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$dir/log.sock" RateLimit.Interval="0")
# e.g. "2026-01-02T03:04:05.123456+00:00 mail.info tlsgate[812]: message"
template(name="tg" type="string"
  string="%timegenerated:::date-rfc3339% %syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n")
*.* action(type="omfile" file="$dir/syslog.log" template="tg")
EOF
    : >"$dir/syslog.log"
    # Daemon mode: rsyslogd returns once it is up and has written its pid file.
    # -M: the unpacked modules, not the compiled-in /usr/lib/<triplet>/rsyslog.
    local mods
    mods=$(dirname "$(echo "$TG_RSYSLOG_ROOT"/usr/lib/*/rsyslog/imuxsock.so)")
    "$TG_RSYSLOG_ROOT/usr/sbin/rsyslogd" -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" \
        -M "$mods" >"$dir/rsyslogd.out" 2>&1 || {
        cat "$dir/rsyslogd.out" >&2
        tg_die "rsyslogd did not start"
    }
    _tg_sock_ready() { [[ -S $1/log.sock && -s $1/rsyslogd.pid ]]; }
    tg_wait_for 10 "rsyslogd socket" _tg_sock_ready "$dir" || tg_die "rsyslogd socket missing"
    TG_SYSLOG_DIR=$dir TG_SYSLOG_SOCK=$dir/log.sock TG_SYSLOG_FILE=$dir/syslog.log
    export TG_SYSLOG_DIR TG_SYSLOG_SOCK TG_SYSLOG_FILE
}

tg_syslog_stop() {
    local dir=${1:-${TG_SYSLOG_DIR:-}} pid
    [[ -n $dir ]] || return 0
    if [[ -s $dir/rsyslogd.pid ]]; then
        pid=$(<"$dir/rsyslogd.pid")
        kill "$pid" 2>/dev/null || true
        _tg_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
        tg_wait_for 10 "rsyslogd exit" _tg_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
    fi
    if [[ -e $dir/.tlsgate-syslog && -z ${TG_SYSLOG_KEEP:-} ]]; then
        rm -rf "$dir"
    fi
}

# Runs INSIDE the new mount namespace (via `syslog.sh _nsexec`): build a
# private /dev with /dev/log -> SOCK, then exec the command.
_tg_nsexec() {
    local sock=$1 side n
    shift
    [[ -S $sock ]] || tg_die "not a socket: $sock"
    side=$(mktemp -d "${TMPDIR:-/tmp}/tlsgate-dev.XXXXXX")
    mount --rbind /dev "$side"
    mount -t tmpfs -o mode=0755,size=1m,nosuid tmpfs /dev
    for n in null zero full random urandom tty console ptmx kmsg; do
        [[ -e $side/$n ]] || continue
        touch "/dev/$n"
        mount --bind "$side/$n" "/dev/$n"
    done
    for n in pts shm mqueue hugepages; do
        [[ -d $side/$n ]] || continue
        mkdir "/dev/$n"
        mount --rbind "$side/$n" "/dev/$n"
    done
    ln -s /proc/self/fd /dev/fd
    ln -s fd/0 /dev/stdin
    ln -s fd/1 /dev/stdout
    ln -s fd/2 /dev/stderr
    touch /dev/log
    mount --bind "$sock" /dev/log
    umount -l "$side"
    rmdir "$side" # an empty directory on the host's /tmp; the mount was ours only
    exec "$@"
}

run_with_syslog() {
    [[ -n ${TG_SYSLOG_SOCK:-} ]] || tg_die "run_with_syslog: call tg_syslog_start first"
    unshare --mount --propagation private \
        bash "$TG_LIB_DIR/syslog.sh" _nsexec "$TG_SYSLOG_SOCK" "$@"
}

# spawn_with_syslog CMD...: like run_with_syslog, in the background; sets
# TG_SPAWNED_PID to CMD's own pid (unshare and bash exec, so the pid is CMD's;
# `run_with_syslog CMD &` would give the pid of a subshell instead).
spawn_with_syslog() {
    [[ -n ${TG_SYSLOG_SOCK:-} ]] || tg_die "spawn_with_syslog: call tg_syslog_start first"
    unshare --mount --propagation private \
        bash "$TG_LIB_DIR/syslog.sh" _nsexec "$TG_SYSLOG_SOCK" "$@" &
    TG_SPAWNED_PID=$!
}

# tg_syslog_wait REGEX [TIMEOUT]: rsyslog writes asynchronously; poll.
tg_syslog_wait() {
    tg_wait_for "${2:-10}" "syslog line /$1/" grep -Eq -- "$1" "$TG_SYSLOG_FILE"
}

tg_syslog_selftest() {
    local had_devlog=no fail=0 n=0 id=$$ long
    [[ -e /dev/log || -L /dev/log ]] && had_devlog=yes
    tg_syslog_start
    trap 'tg_syslog_stop' EXIT
    tg_log "rsyslogd up: socket $TG_SYSLOG_SOCK, file $TG_SYSLOG_FILE"
    check() { # check NAME REGEX
        n=$((n + 1))
        if tg_syslog_wait "$2" 10; then echo "ok   $1"; else echo "FAIL $1"; fail=$((fail + 1)); fi
    }

    run_with_syslog logger -t tg-selftest -p mail.info "logger says hello $id"
    check "logger (util-linux) via /dev/log" "mail\.info tg-selftest(\[[0-9]+\])?: logger says hello $id\$"

    run_with_syslog python3 -c '
import syslog, sys
syslog.openlog("tlsgate-selftest", syslog.LOG_PID, syslog.LOG_MAIL)
syslog.syslog(syslog.LOG_WARNING, "syslog(3) from python pid-marker " + sys.argv[1])' "$id"
    check "syslog(3) (python) with LOG_PID" "mail\.warning tlsgate-selftest\[[0-9]+\]: syslog\(3\) from python pid-marker $id\$"

    long=$(head -c 12000 /dev/zero | tr '\0' x)
    # logger itself cuts at 1 KiB unless --size says otherwise.
    run_with_syslog logger -t tg-long --size 20000 "L${long}END$id"
    check "12000-character line kept whole" "tg-long: L${long}END$id\$"

    # In the background, with the pid of the program itself.
    spawn_with_syslog bash -c 'logger -t tg-spawn "spawned pid $$"; exec sleep 30'
    check "spawn_with_syslog: TG_SPAWNED_PID is the program's pid" "tg-spawn: spawned pid $TG_SPAWNED_PID\$"
    kill "$TG_SPAWNED_PID"
    wait "$TG_SPAWNED_PID" 2>/dev/null || true

    # A process that dropped privileges (like a milter after binding) still logs.
    run_with_syslog setpriv --reuid=nobody --regid=nogroup --clear-groups \
        logger -t tg-nobody "unprivileged $id"
    check "unprivileged process" "tg-nobody: unprivileged $id\$"

    n=$((n + 1))
    if [[ $had_devlog == no && ! -e /dev/log && ! -L /dev/log ]]; then
        echo "ok   host /dev/log still absent"
    elif [[ $had_devlog == yes ]]; then
        echo "ok   host /dev/log existed before and was left alone"
    else
        echo "FAIL host /dev/log appeared"
        fail=$((fail + 1))
    fi
    echo "--- $TG_SYSLOG_FILE (cut at 150 columns):"
    cut -c1-150 "$TG_SYSLOG_FILE"
    echo "syslog selftest: $((n - fail)) passed, $fail failed"
    ((fail == 0))
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
    selftest) tg_syslog_selftest ;;
    start)
        tg_syslog_start "${2:-}"
        printf 'TG_SYSLOG_DIR=%q TG_SYSLOG_SOCK=%q TG_SYSLOG_FILE=%q\n' \
            "$TG_SYSLOG_DIR" "$TG_SYSLOG_SOCK" "$TG_SYSLOG_FILE"
        ;;
    stop) tg_syslog_stop "${2:?usage: $0 stop DIR}" ;;
    run)
        shift
        sock=${1:?usage: $0 run SOCK CMD...}
        shift
        exec unshare --mount --propagation private bash "$0" _nsexec "$sock" "$@"
        ;;
    _nsexec)
        shift
        _tg_nsexec "$@"
        ;;
    *)
        echo "usage: $0 selftest | start [DIR] | stop DIR | run SOCK CMD..." >&2
        exit 1
        ;;
    esac
fi
