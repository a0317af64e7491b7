#!/usr/bin/env bash
# make check-systemd: the installed tlsgate.service under a real systemd, PID 1 of a
# podman container (this machine runs no systemd itself). `make install` into a
# DESTDIR, copied into a Debian 12 container with systemd, then: sysusers.d and
# tmpfiles.d, start (the hardened unit: privileges dropped, no capabilities left,
# one journal line per log line), reload, logrotate reopening the accounting file, a
# bad configuration (reload refused, the running policy kept, restart failing with
# FILE:LINE), a unix socket for the postfix group, stop. Not part of `make check`:
# it needs podman and a first image build (a minute); about 15 s after that.
#   t/install/systemd-container.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
# The integration tests' helpers: tg_podman, tg_ulimit_args, tg_need_podman, ...
# shellcheck source=../integration/lib/common.sh
. t/integration/lib/common.sh
tg_need_root
tg_need_podman
t/integration/lib/base-image.sh || exit 1

image=localhost/tlsgate-systemd:bookworm
name=tlsgate-systemd-$$
tmp=$(mktemp -d)
cleanup() {
  tg_podman rm -f -t 0 "$name" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
mapfile -t ulimits < <(tg_ulimit_args)

if ! tg_podman image exists "$image"; then
  tg_log "building $image (systemd and tlsgate's run-time libraries)"
  cat >"$tmp/Containerfile" <<'EOF'
FROM localhost/tlsgate-debian:bookworm
RUN set -eux; apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        systemd systemd-sysv dbus logrotate procps \
        libinih1 libssl3 libidn2-0 libmilter1.0.1 libstdc++6; \
    apt-get clean; rm -rf /var/lib/apt/lists/*
CMD ["/sbin/init"]
EOF
  tg_podman build --pull=never --network host "${ulimits[@]}" -t "$image" \
    -f "$tmp/Containerfile" "$tmp" >"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log"; tg_die "image build failed"; }
fi

make -s --no-print-directory install DESTDIR="$tmp/dest" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; tg_die "make install failed"; }
# CAP_SYS_ADMIN for the container's systemd: without it systemd skips the mount
# namespace of the unit (ProtectSystem=, PrivateTmp=, PrivateDevices=, ...) in a
# container, and the sandbox would go untested.
tg_podman run -d --name "$name" --systemd=always --cap-add SYS_ADMIN --network none \
  "${ulimits[@]}" "$image" >/dev/null || tg_die "cannot start the container"
tg_podman cp "$tmp/dest/." "$name:/" || tg_die "cannot copy the installation in"
in_ct() { tg_podman exec "$name" bash -c "$1"; }
tg_wait_for 30 "systemd in the container" \
  in_ct 'systemctl is-system-running 2>/dev/null | grep -qE "running|degraded"' ||
  tg_die "systemd did not come up"

# check DESCRIPTION SCRIPT: runs SCRIPT in the container; prints its output on failure.
check() {
  local out
  if out=$(in_ct "$2" 2>&1); then
    tg_check "$1" true
  else
    tg_check "$1" false
    printf '%s\n' "$out" | sed 's/^/     /'
  fi
}
journal() { echo 'journalctl -u tlsgate --no-pager -o cat'; }

echo "check-systemd:"
check "sysusers.d, tmpfiles.d, daemon-reload, start" '
  systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload &&
  systemctl start tlsgate && systemctl is-active tlsgate'
check "runs as tlsgate:tlsgate, no capabilities left" '
  pid=$(systemctl show -p MainPID --value tlsgate)
  ps -o user=,group= -p "$pid" | grep -qx "tlsgate *tlsgate" &&
  grep -qx "CapEff:[[:space:]]*0*" /proc/$pid/status &&
  grep -qx "CapPrm:[[:space:]]*0*" /proc/$pid/status'
check "sandbox in effect: / read-only, /var/log/tlsgate writable, private /tmp and /dev" '
  pid=$(systemctl show -p MainPID --value tlsgate)
  awk "\$5 == \"/\" && \$6 ~ /^ro/ { ok++ } \$5 == \"/var/log/tlsgate\" && \$6 ~ /^rw/ { ok++ }
       \$5 == \"/tmp\" && \$4 ~ /systemd-private-.*tlsgate/ { ok++ } \$5 == \"/dev\" && \$6 ~ /^ro/ { ok++ }
       END { exit ok != 4 }" /proc/$pid/mountinfo &&
  grep -qx "NoNewPrivs:[[:space:]]*1" /proc/$pid/status && grep -qx "Seccomp:[[:space:]]*2" /proc/$pid/status'
check "listens on [milter] socket inet:8891@127.0.0.1" '(exec 3<>/dev/tcp/127.0.0.1/8891)'
check "one journal line per log line (stderr not duplicated), -n output kept" "
  [ \"\$($(journal) | grep -c 'started: listening on inet:8891@127.0.0.1')\" = 1 ] &&
  $(journal) | grep -qx 'OK: 5 sources, 7 netblocks, 1 partner; monitor: legacy'"
check "accounting file made by the user, 0640, with the CSV header" '
  [ "$(stat -c "%U:%G %a" /var/log/tlsgate/accounting.csv)" = "tlsgate:tlsgate 640" ] &&
  head -1 /var/log/tlsgate/accounting.csv | grep -q "^time,queue_id,client,"'
check "pid file and /run/tlsgate (RuntimeDirectory)" '
  [ "$(cat /run/tlsgate/tlsgate.pid)" = "$(systemctl show -p MainPID --value tlsgate)" ]'
check "systemctl reload: SIGUSR1, tlsgate reloads" "
  systemctl reload tlsgate && sleep 0.5 && $(journal) | grep -q '^reloaded /etc/tlsgate/tlsgate.ini'"
check "logrotate: rotated, tlsgate reopens a new accounting.csv" '
  echo "row,before,rotation" >>/var/log/tlsgate/accounting.csv
  logrotate -f /etc/logrotate.d/tlsgate && sleep 0.5 &&
  grep -q "^row,before,rotation" /var/log/tlsgate/accounting.csv.1 &&
  head -1 /var/log/tlsgate/accounting.csv | grep -q "^time,queue_id,"'
check "a bad file: reload fails with FILE:LINE, tlsgate keeps running" "
  cp /etc/tlsgate/tlsgate.ini /tmp/good.ini
  echo 'bogus_key = 1' >>/etc/tlsgate/tlsgate.ini
  ! systemctl reload tlsgate 2>/dev/null && systemctl is-active tlsgate &&
  $(journal) | grep -q '^/etc/tlsgate/tlsgate.ini:[0-9]*: unknown key .bogus_key.'"
check "a bad file: restart fails, ExecStartPre's FILE:LINE in the journal" "
  n=\$($(journal) | grep -c 'tlsgate.ini:[0-9]*: unknown key')
  ! systemctl restart tlsgate 2>/dev/null &&
  [ \$($(journal) | grep -c 'tlsgate.ini:[0-9]*: unknown key') -gt \$n ] &&
  systemctl show -p ExecStartPre tlsgate | grep -q 'status=1'"
# connects_as USER SOCKET: a unix-socket connect as USER (perl-base has IO::Socket::UNIX).
connects_as='setpriv --reuid="$1" --regid="$1" --init-groups perl -MIO::Socket::UNIX \
  -e "IO::Socket::UNIX->new(Peer => \$ARGV[0]) or die qq(connect \$ARGV[0]: \$!\n)" "$2"'
check "unix socket in /run/tlsgate: srw-rw---- root:postfix, postfix connects, nobody not" "
  connects_as() { $connects_as; }
  systemctl stop tlsgate; systemctl reset-failed tlsgate
  groupadd -f postfix; id postfix >/dev/null 2>&1 || useradd -r -g postfix postfix
  sed -e 's|^socket = .*|socket = unix:/run/tlsgate/tlsgate.sock|' \\
      -e 's|^group = .*|group = postfix|' /tmp/good.ini >/etc/tlsgate/tlsgate.ini
  systemctl start tlsgate && sleep 0.5 &&
  [ \"\$(stat -c '%A %U:%G' /run/tlsgate/tlsgate.sock)\" = 'srw-rw---- root:postfix' ] &&
  ps -o group= -p \"\$(systemctl show -p MainPID --value tlsgate)\" | grep -qx ' *postfix' &&
  connects_as postfix /run/tlsgate/tlsgate.sock && ! connects_as nobody /run/tlsgate/tlsgate.sock 2>/dev/null"
check "unix socket in Postfix's chroot (root:postfix 0750 dir, ReadWritePaths drop-in)" "
  connects_as() { $connects_as; }
  systemctl stop tlsgate
  install -d -o root -g postfix -m 0750 /var/spool/postfix/tlsgate
  mkdir -p /etc/systemd/system/tlsgate.service.d
  printf '[Service]\\nReadWritePaths=/var/spool/postfix/tlsgate\\n' \\
    >/etc/systemd/system/tlsgate.service.d/postfix-chroot.conf
  sed -i 's|^socket = .*|socket = unix:/var/spool/postfix/tlsgate/tlsgate.sock|' /etc/tlsgate/tlsgate.ini
  systemctl daemon-reload && systemctl start tlsgate && sleep 0.5 &&
  connects_as postfix /var/spool/postfix/tlsgate/tlsgate.sock"
check "stop: exit 0, /run/tlsgate removed" '
  systemctl stop tlsgate && [ "$(systemctl show -p ExecMainStatus --value tlsgate)" = 0 ] &&
  [ ! -e /run/tlsgate ]'

echo "check-systemd: $tg_passed passed, $tg_failed failed"
[ "$tg_failed" -eq 0 ]
