#!/usr/bin/env bash
# The Docker files a user starts from, tested with podman so they cannot rot:
#   contrib/docker/tlsgate/Dockerfile   the milter image (built here, cached)
#   contrib/docker/compose.yaml         Postfix + tlsgate (checked to name that
#                                       Dockerfile and contrib/docker/postfix)
# The tlsgate image runs as the compose file runs it (its CMD, only the socket
# moved to 127.0.0.1:18950 through TLSGATE_SOCKET for host networking) with the
# example rules plus a
# loopback source that requires STARTTLS; Postfix (the compose file's other
# image) calls it on SMTP port 10050. Two sessions: plaintext -> 530 5.7.0,
# STARTTLS TLS 1.3 -> queued; tlsgate's decision lines must be in `podman logs`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/postfix-container.sh"
. "$here/lib/swaks.sh"

tg_need_root
tg_need_test_pkgs
tg_need_pkgs python3-yaml

TG_TLSGATE_IMAGE=${TG_TLSGATE_IMAGE:-localhost/tlsgate:bookworm}
milter_port=${TG_MILTER_PORT:-18950}
export SMTP_PORT=${SMTP_PORT:-10050}
compose=$TG_REPO_DIR/contrib/docker/compose.yaml
dockerfile=contrib/docker/tlsgate/Dockerfile
name=tlsgate-milter-$milter_port
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsgate-dc.XXXXXX")
cleanup() {
    tg_podman rm -f --ignore -t 5 "$name" >/dev/null 2>&1 || true
    pf_stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# 1. compose.yaml builds its services from the Dockerfiles tested here.
tg_check "compose.yaml: tlsgate and postfix built from the tested Dockerfiles" \
    python3 - "$compose" <<'PY'
import os, sys, yaml
path = sys.argv[1]
base = os.path.dirname(path)
svc = yaml.safe_load(open(path))["services"]
def build(name):
    b = svc[name]["build"]
    if isinstance(b, str):
        b = {"context": b}
    ctx = os.path.normpath(os.path.join(base, b["context"]))
    return os.path.normpath(os.path.join(ctx, b.get("dockerfile", "Dockerfile")))
root = os.path.normpath(os.path.join(base, "../.."))
want = {"tlsgate": os.path.join(root, "contrib/docker/tlsgate/Dockerfile"),
        "postfix": os.path.join(root, "contrib/docker/postfix/Dockerfile")}
ok = True
for s, f in want.items():
    got = build(s)
    if got != f:
        print(f"  {s}: builds {got}, expected {f}", file=sys.stderr); ok = False
env = svc["postfix"].get("environment", {})
if isinstance(env, list):
    env = dict(e.split("=", 1) for e in env)
milter = str(env.get("MILTER", ""))
if milter not in ("inet:tlsgate:8891", "${TLSGATE_MILTER:-inet:tlsgate:8891}"):
    print(f"  postfix: MILTER={env.get('MILTER')!r}, expected inet:tlsgate:8891", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
tg_check "compose.yaml: the milter port is not published, tlsgate not on the host's network" \
    python3 - "$compose" <<'PY'
import sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]
t = svc["tlsgate"]
ok = True
if t.get("ports") or t.get("network_mode") == "host":
    print(f"  tlsgate: ports={t.get('ports')!r} network_mode={t.get('network_mode')!r}", file=sys.stderr); ok = False
for name, s in svc.items():
    for p in s.get("ports", []):
        if str(p).split(":")[-1].split("/")[0] == "8891":
            print(f"  {name} publishes the milter port: {p}", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY

# 2. The tlsgate image (skipped when one from the same files exists).
tg_build_context_image "$TG_TLSGATE_IMAGE" "$TG_REPO_DIR" "$dockerfile" \
    .dockerignore Makefile policy engine milter etc/tlsgate.ini etc/legacy-networks.txt

# 3. The milter container: the example config as shipped plus a source for
#    loopback clients that requires STARTTLS, mounted the way a user mounts
#    theirs. The image's CMD, with the socket on loopback for host networking.
cp "$TG_REPO_DIR/etc/tlsgate.ini" "$work/tlsgate.ini"
cat >>"$work/tlsgate.ini" <<'INI'

; Added by t/integration/docker-compose.sh: the test clients come from loopback.
[source loopback]
networks = 127.0.0.0/8
require_starttls = yes
min_tls_version = TLSv1.2
INI
if ss -Hltn "sport = :$milter_port" | grep -q .; then
    tg_die "port $milter_port is already in use"
fi
mapfile -t ul < <(tg_ulimit_args)
cmd=$(tg_podman image inspect --format '{{join .Config.Cmd " "}}' "$TG_TLSGATE_IMAGE")
tg_check "image CMD runs tlsgate -f -c /etc/tlsgate/tlsgate.ini -p \"\$TLSGATE_SOCKET\"" \
    grep -qF 'exec tlsgate -f -c /etc/tlsgate/tlsgate.ini -p "$TLSGATE_SOCKET"' <<<"$cmd"
tg_check "image default TLSGATE_SOCKET=inet:8891@0.0.0.0" \
    grep -qx 'TLSGATE_SOCKET=inet:8891@0.0.0.0' < <(tg_podman image inspect \
    --format '{{range .Config.Env}}{{println .}}{{end}}' "$TG_TLSGATE_IMAGE")
tg_podman rm -f --ignore "$name" >/dev/null 2>&1 || true
# The image's own CMD; on the host's network, the socket on loopback (as the
# compose file and README say for network_mode: host).
tg_podman run -d --name "$name" --network host "${ul[@]}" --pull=never \
    --log-driver k8s-file -v "$work/tlsgate.ini:/etc/tlsgate/tlsgate.ini:ro" \
    -e "TLSGATE_SOCKET=inet:$milter_port@127.0.0.1" "$TG_TLSGATE_IMAGE" >/dev/null
milter_logs() { tg_podman logs "$name" 2>&1; }
milter_listening() { milter_logs | grep -q "started: listening on inet:$milter_port@127.0.0.1"; }
tg_wait_for 20 "tlsgate container to listen" milter_listening || {
    milter_logs | tail -n 30 >&2
    tg_die "the tlsgate container did not start"
}
# It drops root once the socket is open (user = tlsgate in the example config).
milter_user_is_tlsgate() {
    [[ $(tg_podman top "$name" user | tail -n +2 | sort -u) == tlsgate ]]
}
tg_check "tlsgate runs as user tlsgate in its container" milter_user_is_tlsgate

# 4. Postfix with tlsgate as its milter.
export MILTER=inet:127.0.0.1:$milter_port
pf_start

session() { # session NAME EXPECT_REGEX LOG_REGEX SWAKS-ARGS...
    local what=$1 want=$2 logre=$3 out=$work/$1.out
    shift 3
    tg_swaks "$@" >"$out" 2>&1 || true
    local have_reply=0
    grep -Eq "$want" "$out" && have_reply=1
    _log_has() { milter_logs | grep -Eq "$logre"; }
    tg_check "$what: SMTP /$want/" test "$have_reply" = 1
    tg_check "$what: tlsgate log /$logre/" tg_wait_for 5 "tlsgate line" _log_has
    ((have_reply)) || sed 's/^/     > /' "$out" | tail -n 20
}
session plaintext '^<[-~*]+ +530 5\.7\.0 ' \
    'tlsgate\[[0-9]+\]: NOQUEUE: action=reject reason=starttls_required client=127\.0\.0\.1 source=loopback sender_domain=example\.net tls=none .*reply="530 5\.7\.0 '
session tls13 '^<[-~] +250 2\.0\.0 Ok: queued as [0-9A-F]+' \
    'tlsgate\[[0-9]+\]: [0-9A-F]+: action=accept client=127\.0\.0\.1 source=loopback sender_domain=example\.net tls=TLSv1\.3 ' \
    --tls --tls-protocol tlsv1_3

# 5. compose.yaml itself, with podman-compose: the example config as the file
#    mounts it, Postfix published on the host's port $SMTP_PORT. Podman's CNI
#    network here has no DNS (no dnsname plugin in Debian 12), so Postfix gets
#    tlsgate's address through TLSGATE_MILTER instead of the name "tlsgate".
# Stop the first container meanwhile (podman rm -t 5: SIGTERM, then SIGKILL).
tg_podman rm -f --ignore -t 5 "$name" >/dev/null 2>&1 &
pf_stop
milter_logs() { tg_podman logs "$project"_tlsgate_1 2>&1; }
project=tgdc$milter_port
pc() {
    local ul
    ul=$(tg_ulimit_args | tr '\n' ' ')
    podman-compose --podman-args "--runtime runc --events-backend file" \
        --podman-run-args "$ul --pull=never" -p "$project" -f "$compose" "$@" \
        >>"$work/podman-compose.log" 2>&1
}
# What `podman-compose down` and a volume/network prune would do, quicker.
pc_down() {
    tg_podman rm -f --ignore -t 5 "$project"_tlsgate_1 "$project"_postfix_1 >/dev/null 2>&1 || true
    tg_podman volume rm -f "$project"_mail "$project"_tlsgate-log >/dev/null 2>&1 || true
    tg_podman network rm -f "$project"_default >/dev/null 2>&1 || true
}
trap 'pc_down; wait; cleanup' EXIT
tg_need_pkgs podman-compose
# The image names compose.yaml gives its services.
tg_podman tag "$TG_TLSGATE_IMAGE" localhost/tlsgate:latest
tg_podman tag "$TG_PF_IMAGE" localhost/tlsgate-postfix:latest
pc_down
export SMTP_HOST_PORT=$SMTP_PORT
pc up -d tlsgate || { cat "$work/podman-compose.log" >&2; tg_die "podman-compose up tlsgate failed"; }
tg_wait_for 20 "compose tlsgate to listen" bash -c "podman --runtime runc --events-backend file logs ${project}_tlsgate_1 2>&1 | grep -q 'started: listening on inet:8891@0.0.0.0'" || {
    milter_logs | tail -n 20 >&2
    tg_die "compose: tlsgate did not start"
}
milter_ip=$(tg_podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$project"_tlsgate_1)
TLSGATE_MILTER=inet:$milter_ip:8891 pc up -d postfix || {
    cat "$work/podman-compose.log" >&2
    tg_die "podman-compose up postfix failed"
}
if SMTP_LISTEN=0.0.0.0 pf_wait_banner "$project"_postfix_1 "$SMTP_PORT" 30; then
    gw=$(tg_podman network inspect -f '{{range .Subnets}}{{.Gateway}}{{end}}' "$project"_default 2>/dev/null || true)
    [[ -n $gw ]] || gw='[0-9.]+'
    session compose-tls13 '^<[-~] +250 2\.0\.0 Ok: queued as [0-9A-F]+' \
        "tlsgate\[[0-9]+\]: [0-9A-F]+: action=accept client=${gw//./\\.} source=default sender_domain=example\.net tls=TLSv1\.3 " \
        --tls --tls-protocol tlsv1_3
else
    tg_check "compose: Postfix answers on port $SMTP_PORT" false
fi

echo "docker-compose: $tg_passed passed, $tg_failed failed"
((tg_failed == 0)) || { milter_logs | tail -n 20 >&2; exit 1; }
