#!/usr/bin/env bash
# make check-deb, after `make deb`: the Debian package as an admin gets it. A Debian 12
# container with systemd as PID 1 and Debian's Postfix, prometheus-node-exporter and
# promtool (t/install/deb-image/, built from Debian packages, cached by content hash);
# `apt install ./tlsgate_*.deb` there, then:
#   - the package started tlsgate (systemctl is-active), Type=notify with its STATUS;
#   - Postfix set up as README.Debian says; swaks sessions from the netblocks of the
#     shipped tlsgate.ini get the answers its rules give;
#   - the metrics file: promtool check metrics is clean, node_exporter serves the
#     tlsgate series, with counts equal to the sessions sent;
#   - a broken tlsgate.ini: systemctl reload fails, the old policy stays (and a bare
#     SIGUSR1 counts a failed reload);
#   - a socket in use: systemctl start fails, the reason in systemctl status;
#   - an upgrade to a rebuilt package with a higher version keeps the edited tlsgate.ini;
#   - apt purge leaves no tlsgate file.
#   t/install/deb-container.sh tlsgate_VERSION_ARCH.deb
# The test's one edit to tlsgate.ini is metrics_interval = 1 (the default 15 s would
# make each metrics check wait); the rules are the shipped ones.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../integration/lib/common.sh
. t/integration/lib/common.sh
tg_need_root
tg_need_podman
deb=${1:?usage: $0 tlsgate_VERSION_ARCH.deb}
[[ -s $deb ]] || tg_die "no package $deb (make deb)"
started_at=$SECONDS

image=localhost/tlsgate-deb-systemd:bookworm
name=tlsgate-deb-$$
tmp=$(mktemp -d)
cleanup() {
  tg_podman rm -f -t 0 "$name" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
tg_build_context_image "$image" t/install/deb-image
mapfile -t ulimits < <(tg_ulimit_args)

# The upgrade's package: the same sources rebuilt with a higher version (make deb
# keeps its objects: only the packaging steps run again).
version=$(dpkg-deb -f "$deb" Version)
upgrade_version=$version+upgradetest1
make -s --no-print-directory deb DEB_VERSION="$upgrade_version" >"$tmp/upgrade-build.log" 2>&1 ||
  { tail -n 30 "$tmp/upgrade-build.log"; tg_die "make deb DEB_VERSION=$upgrade_version failed"; }
upgrade_deb=tlsgate_${upgrade_version}_$(dpkg-deb -f "$deb" Architecture).deb
# Not left beside the real one, where `apt install ./tlsgate_*.deb` would take both.
mv "$upgrade_deb" "$tmp/" || tg_die "no $upgrade_deb"

# CAP_SYS_ADMIN: the unit's sandbox (see t/install/systemd-container.sh); NET_ADMIN:
# the clients' addresses on the container's own loopback. No network: the image has
# everything, the package's dependencies included.
tg_podman run -d --name "$name" --hostname mx.example.test --systemd=always \
  --cap-add SYS_ADMIN --cap-add NET_ADMIN --network none "${ulimits[@]}" "$image" >/dev/null ||
  tg_die "cannot start the container"
in_ct() { tg_podman exec "$name" bash -c "$1"; }
tg_wait_for 60 "systemd in the container" \
  in_ct 'systemctl is-system-running 2>/dev/null | grep -qE "running|degraded"' ||
  tg_die "systemd did not come up"
in_ct 'mkdir -p /root/debs' && tg_podman cp "$deb" "$name:/root/debs/" &&
  tg_podman cp "$tmp/$upgrade_deb" "$name:/root/debs/" || tg_die "cannot copy the packages in"

# check DESCRIPTION SCRIPT: runs SCRIPT in the container; prints its output on failure.
check() {
  local out
  if out=$(in_ct "$2" 2>&1); then
    tg_check "$1" true
  else
    tg_check "$1" false
    printf '%s\n' "$out" | tail -n 25 | sed 's/^/     /'
  fi
}

echo "check-deb: $(basename "$deb") (upgrade: $upgrade_deb)"
# The image's own files named *tlsgate* (the base image's apt and dpkg settings),
# for the purge check.
tlsgate_files='find / -xdev \( -path /proc -o -path /sys -o -path /root \) -prune -o -name "*tlsgate*" -print | sort'
in_ct "$tlsgate_files >/root/before.list" || tg_die "cannot list the image's files"
check "apt install ./$(basename "$deb"): tlsgate is started by the package, active" "
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/debs/$(basename "$deb") >/tmp/install.log 2>&1 ||
    { tail -n 20 /tmp/install.log; exit 1; }
  systemctl is-active tlsgate && systemctl is-enabled tlsgate"
check "Type=notify, STATUS names the socket and the policy; runs as tlsgate" '
  [ "$(systemctl show -p Type --value tlsgate)" = notify ] &&
  systemctl show -p StatusText --value tlsgate |
    grep -qx "listening on inet:8891@127.0.0.1: 5 sources, 7 netblocks, 1 partner; monitor: legacy" &&
  ps -o user= -p "$(systemctl show -p MainPID --value tlsgate)" | grep -qx " *tlsgate"'
check "conffiles: tlsgate.ini, legacy-networks.txt, logrotate" '
  c=$(dpkg-query -W -f="\${Conffiles}" tlsgate)
  for f in /etc/tlsgate/tlsgate.ini /etc/tlsgate/legacy-networks.txt /etc/logrotate.d/tlsgate; do
    printf "%s\n" "$c" | grep -q " $f " || { echo "not a conffile: $f"; exit 1; }
  done'

# The admin's part: Postfix calls tlsgate (README.Debian), the clients' addresses
# exist, metrics every second.
check "Postfix set up as README.Debian says, reloaded" '
  postconf -e "smtpd_milters = inet:127.0.0.1:8891" "milter_default_action = tempfail" \
    "milter_protocol = 6" "smtpd_tls_auth_only = yes" "smtpd_peername_lookup = no" &&
  for a in 192.0.2.10 198.51.100.7 203.0.113.5; do ip addr add $a/32 dev lo; done &&
  sed -i "s|^metrics_file = .*|&\nmetrics_interval = 1|" /etc/tlsgate/tlsgate.ini &&
  systemctl reload tlsgate && systemctl reload postfix && systemctl is-active postfix'

# One session: send CLIENT_ADDR EXPECTED [SWAKS ARGS...]; EXPECTED is a regexp for
# the reply to MAIL FROM or the final "queued". The sender: $FROM, else sender@example.net.
send() {
  local client=$1 expected=$2
  shift 2
  in_ct "swaks --server 127.0.0.1 --port 25 --local-interface $client --helo client.example.net \
    --from ${FROM:-sender@example.net} --to root@localhost --timeout 20 $* 2>&1" >"$tmp/swaks.out"
  grep -Eq "$expected" "$tmp/swaks.out" || { sed 's/^/     | /' "$tmp/swaks.out" | tail -n 12; return 1; }
}
sessions=0
session() {
  sessions=$((sessions + 1))
  tg_check "$1" send "${@:2}"
}
queued='^<[-~] +250 2\.0\.0 Ok: queued'
session "default, plaintext from 127.0.0.1: accepted" 127.0.0.1 "$queued"
session "default, STARTTLS from 127.0.0.1: accepted" 127.0.0.1 "$queued" --tls
session "partners, plaintext from 192.0.2.10: 530 5.7.0 (starttls_required)" 192.0.2.10 \
  '^<\*\* +530 5\.7\.0 Must issue a STARTTLS command first'
session "partners, STARTTLS TLS 1.3 from 192.0.2.10: accepted" 192.0.2.10 "$queued" --tls
session "partners, TLS 1.2 AES128-SHA from 192.0.2.10: 554 5.7.0 (cipher_not_allowed)" 192.0.2.10 \
  '^<~\*+ +554 5\.7\.0 TLS protocol or cipher not accepted' --tls --tls-protocol tlsv1_2 \
  --tls-cipher AES128-SHA
session "submission, plaintext from 198.51.100.7: 450 4.7.0 (tempfail)" 198.51.100.7 \
  '^<\*\* +450 4\.7\.0 Must issue a STARTTLS command first'
session "legacy (monitor), plaintext from 203.0.113.5: would-reject, accepted" 203.0.113.5 "$queued"
FROM=ceo@bank.example session "partner bank's domain from 127.0.0.1, outside its networks: 550 5.7.1 (partner_network)" \
  127.0.0.1 '^<\*\* +550 5\.7\.1 Mail from this sender domain is not accepted from this network'
check "tlsgate's log lines for those sessions (journal)" "
  j=\$(journalctl -t tlsgate --no-pager -o cat)
  for l in 'action=accept client=127.0.0.1 source=default sender_domain=example.net tls=none' \
           'action=accept client=127.0.0.1 source=default sender_domain=example.net tls=TLSv1.3' \
           'action=reject reason=starttls_required client=192.0.2.10 source=partners' \
           'action=accept client=192.0.2.10 source=partners sender_domain=example.net tls=TLSv1.3' \
           'action=reject reason=cipher_not_allowed client=192.0.2.10 source=partners sender_domain=example.net tls=TLSv1.2 cipher=AES128-SHA' \
           'action=tempfail reason=starttls_required client=198.51.100.7 source=submission' \
           'action=would-reject reason=starttls_required client=203.0.113.5 source=legacy' \
           'action=accept client=203.0.113.5 source=legacy sender_domain=example.net tls=none' \
           'action=reject reason=partner_network client=127.0.0.1 source=default partner=bank sender_domain=bank.example'; do
    printf '%s\n' \"\$j\" | grep -qF \"\$l\" || { echo \"no line: \$l\"; exit 1; }
  done"

# The counts the metrics must show for those sessions (series -> value).
expected_series() {
  cat <<EOF
tlsgate_decisions_total{source="default",action="accept",reason=""} 2
tlsgate_decisions_total{source="partners",action="accept",reason=""} 1
tlsgate_decisions_total{source="partners",action="reject",reason="starttls_required"} 1
tlsgate_decisions_total{source="partners",action="reject",reason="cipher_not_allowed"} 1
tlsgate_decisions_total{source="submission",action="tempfail",reason="starttls_required"} 1
tlsgate_decisions_total{source="legacy",action="would-reject",reason="starttls_required"} 1
tlsgate_decisions_total{source="legacy",action="accept",reason=""} 1
tlsgate_decisions_total{source="default",partner="bank",action="reject",reason="partner_network"} 1
tlsgate_accepted_messages_total{source="default",tls_version="none"} 1
tlsgate_accepted_messages_total{source="default",tls_version="TLSv1.3"} 1
tlsgate_accepted_messages_total{source="partners",tls_version="TLSv1.3"} 1
tlsgate_accepted_messages_total{source="legacy",tls_version="none"} 1
tlsgate_credentials_exposed_total{source="default"} 0
tlsgate_policy_sources 5
tlsgate_policy_netblocks 7
EOF
}
# counts_match FILE: the expected series and the sessions sent (t/install/prom_counts.py).
counts_match() { t/install/prom_counts.py "$1" "$sessions" <(expected_series); }
metrics_file_matches() {
  in_ct 'cat /var/lib/tlsgate/tlsgate.prom' >"$tmp/file.prom" 2>/dev/null && counts_match "$tmp/file.prom"
}
check "the metrics file, mode 0644, linked into node_exporter's textfile directory" '
  [ "$(stat -c "%a %U" /var/lib/tlsgate/tlsgate.prom)" = "644 tlsgate" ] &&
  [ "$(readlink -f /var/lib/prometheus/node-exporter/tlsgate.prom)" = /var/lib/tlsgate/tlsgate.prom ]'
# wait_check DESCRIPTION SECONDS FUNCTION: FUNCTION within SECONDS; on failure its
# last complaint.
wait_check() {
  if tg_wait_for "$2" "$1" "$3" 2>/dev/null; then
    tg_check "$1" true
  else
    tg_check "$1" false
    "$3" 2>&1 | sed 's/^/     /'
  fi
}
wait_check "the metrics file counts the $sessions sessions" 10 metrics_file_matches
check "promtool check metrics: clean" '
  out=$(promtool check metrics </var/lib/tlsgate/tlsgate.prom 2>&1); rc=$?
  printf "%s" "$out"; [ $rc = 0 ] && [ -z "$out" ]'
node_exporter_matches() {
  in_ct 'curl -fsS http://127.0.0.1:9100/metrics' >"$tmp/node.prom" 2>/dev/null &&
    counts_match "$tmp/node.prom" &&
    grep -qx 'node_textfile_scrape_error 0' "$tmp/node.prom"
}
wait_check "node_exporter (:9100) serves the tlsgate series, counts equal to the $sessions sessions" \
  20 node_exporter_matches
check "tlsgate_build_info names the package's upstream version" "
  curl -fsS http://127.0.0.1:9100/metrics | grep -qx 'tlsgate_build_info{version=\"${version%%-*}\"} 1'"

# README's PromQL examples (the package's copy: the image's dpkg leaves out
# /usr/share/doc), through Prometheus's own parser.
cat >"$tmp/readme-rules.sh" <<'SH'
dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/share/doc/tlsgate/README.md.gz | zcat >/tmp/README.md
awk '
  /^<!-- doc-test: promql -->$/ { want = 1; next }
  want && /^```/ {
    if (inside) { inside = 0; want = 0; n++ }
    else { inside = 1; printf "      - record: readme:example_%d\n        expr: |\n", n }
    next
  }
  inside { print "          " $0 }' /tmp/README.md >/tmp/rules.body
{ printf 'groups:\n  - name: readme\n    rules:\n'; cat /tmp/rules.body; } >/tmp/readme-rules.yml
examples=$(grep -c '^<!-- doc-test: promql -->$' /tmp/README.md)
[ "$examples" -ge 3 ] && [ "$(grep -c 'record:' /tmp/readme-rules.yml)" = "$examples" ] ||
  { echo "$examples examples"; cat /tmp/readme-rules.yml; exit 1; }
promtool check rules /tmp/readme-rules.yml
SH
tg_podman cp "$tmp/readme-rules.sh" "$name:/root/readme-rules.sh"
check "README's PromQL examples, every one, parse (promtool check rules)" \
  "bash /root/readme-rules.sh /root/debs/$(basename "$deb")"

# A broken file: the reload is refused (tlsgate -n first) and the old policy stays.
check "broken tlsgate.ini: systemctl reload fails, tlsgate active, FILE:LINE in status" '
  cp /etc/tlsgate/tlsgate.ini /root/good.ini
  echo "bogus_key = 1" >>/etc/tlsgate/tlsgate.ini
  ! systemctl reload tlsgate 2>/dev/null && systemctl is-active tlsgate &&
  systemctl status tlsgate --no-pager -l 2>&1 | grep -q "tlsgate.ini:[0-9]*: unknown key .bogus_key."'
session "... the old policy stays: partners, plaintext from 192.0.2.10: 530 5.7.0" 192.0.2.10 \
  '^<\*\* +530 5\.7\.0 Must issue a STARTTLS command first'
check "a bare SIGUSR1 (as logrotate sends): failed reload counted, STATUS says the old policy stays" '
  systemctl kill --kill-who=main --signal=USR1 tlsgate &&
  for i in $(seq 50); do
    grep -qx "tlsgate_reloads_total{result=\"failed\"} 1" /var/lib/tlsgate/tlsgate.prom && break
    sleep 0.2
  done
  grep -qx "tlsgate_reloads_total{result=\"failed\"} 1" /var/lib/tlsgate/tlsgate.prom &&
  grep -qx "tlsgate_reloads_total{result=\"ok\"} 1" /var/lib/tlsgate/tlsgate.prom &&
  systemctl show -p StatusText --value tlsgate | grep -q "^reload failed, the previous policy stays in force"'
check "the good file back: reload taken" '
  cp /root/good.ini /etc/tlsgate/tlsgate.ini && systemctl reload tlsgate &&
  systemctl show -p StatusText --value tlsgate | grep -q "^reloaded: 5 sources, 7 netblocks"'

# A socket in use: the start itself fails, and status says why.
check "socket in use: systemctl start fails, systemctl status says why" '
  systemctl stop tlsgate
  perl -MIO::Socket::INET -e "my \$s = IO::Socket::INET->new(LocalAddr => q(127.0.0.1:8891), Listen => 5, ReuseAddr => 1) or die; sleep 120" &
  holder=$!
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/8891) 2>/dev/null && break; sleep 0.1; done
  ! systemctl start tlsgate 2>/dev/null; failed=$?
  status=$(systemctl status tlsgate --no-pager -l 2>&1)
  kill $holder
  [ $failed = 0 ] && printf "%s\n" "$status" | grep -q "cannot listen on inet:8891@127.0.0.1: Address already in use" ||
    { printf "%s\n" "$status"; exit 1; }'
check "... and starts once the socket is free" '
  systemctl reset-failed tlsgate; systemctl start tlsgate && systemctl is-active tlsgate'

# The upgrade keeps the admin's tlsgate.ini (metrics_interval = 1 is the edit).
check "upgrade to $upgrade_version: edited tlsgate.ini kept, tlsgate restarted" "
  pid=\$(systemctl show -p MainPID --value tlsgate)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/debs/$upgrade_deb >/tmp/upgrade.log 2>&1 ||
    { tail -n 20 /tmp/upgrade.log; exit 1; }
  [ \"\$(dpkg-query -W -f='\${Version}' tlsgate)\" = '$upgrade_version' ] &&
  grep -qx 'metrics_interval = 1' /etc/tlsgate/tlsgate.ini &&
  systemctl is-active tlsgate && [ \"\$(systemctl show -p MainPID --value tlsgate)\" != \"\$pid\" ]"

# Purge: nothing of tlsgate's left but its user (as Debian leaves system users).
check "apt purge: no tlsgate file left (but the user), the service gone" '
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q tlsgate >/tmp/purge.log 2>&1 ||
    { tail -n 20 /tmp/purge.log; exit 1; }
  left=$(comm -13 /root/before.list <('"$tlsgate_files"'))
  [ -z "$left" ] || { echo "left behind:"; printf "%s\n" "$left"; exit 1; }
  [ ! -e /var/lib/prometheus/node-exporter/tlsgate.prom ] && [ ! -e /run/tlsgate ] &&
  ! systemctl cat tlsgate >/dev/null 2>&1 && ! dpkg-query -W tlsgate >/dev/null 2>&1'

echo "check-deb: $sessions sessions; $((SECONDS - started_at)) s"
echo "check-deb: $tg_passed passed, $tg_failed failed"
[ "$tg_failed" -eq 0 ]
