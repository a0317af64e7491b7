#!/usr/bin/env bash
# Sendmail in a podman container (contrib/docker/sendmail) for integration tests.
#
# As a command:
#   sendmail-container.sh build          build the image if it is missing/stale
#   sendmail-container.sh start          start one; prints shell assignments
#                                        (eval them): TG_SM_NAME TG_SM_DIR TG_SM_PORT
#   sendmail-container.sh stop [NAME]    stop it and remove its directory
# As a library (source it): sm_build, sm_start, sm_stop.
#
# Settings (environment), with defaults:
#   SMTP_PORT=10027  MILTER= (Sendmail's syntax: inet:PORT@ADDR)
#   SASL_USERS="alice@example.test:secret"
#   and, passed on to the container when set: SMTP_LISTEN MILTER_FLAGS
#   MILTER_TIMEOUTS MAIL_DOMAIN MYHOSTNAME SASL_MECHS AUTH_OPTIONS
#   TLS_ASK_CCERT MC_EXTRA (see contrib/docker/sendmail/entrypoint.sh)
#   MILTER_SOCKET_DIR  a host directory mounted at /run/tlsgate in the
#                container, for a milter on a unix socket:
#                MILTER=unix:/run/tlsgate/NAME.sock
#   TG_SM_NAME   container name [tlsgate-sendmail-$SMTP_PORT]
#   TG_SM_DIR    host directory for certificates, log and mail [mktemp]
#   TG_SM_KEEP=1 keep TG_SM_DIR at stop (debugging)
#
# Layout of $TG_SM_DIR (all readable by root on the host):
#   tls/        the same test CA and certificates as the Postfix container's
#               (pf_make_tls): ca.crt server.crt server.key client.crt ...
#   log/maillog Sendmail's syslog lines (an rsyslogd in the container)
#   mail/<domain>/new/   delivered mail, one file per message and recipient
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=postfix-container.sh
. "$(dirname "${BASH_SOURCE[0]}")/postfix-container.sh" # pf_make_tls, pf_wait_banner

TG_SM_IMAGE=${TG_SM_IMAGE:-localhost/tlsgate-sendmail:bookworm}
TG_SM_CONTEXT=$TG_REPO_DIR/contrib/docker/sendmail

sm_build() {
    tg_build_context_image "$TG_SM_IMAGE" "$TG_SM_CONTEXT"
}

sm_start() {
    sm_build
    tg_need_pkgs openssl iproute2
    local port=${SMTP_PORT:-10027}
    local name=${TG_SM_NAME:-tlsgate-sendmail-$port}
    local dir=${TG_SM_DIR:-}
    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/tlsgate-sm.XXXXXX")
        touch "$dir/.tlsgate-sm" # marks a directory sm_stop may delete
    fi
    mkdir -p "$dir/log" "$dir/mail"

    tg_podman rm -f --ignore "$name" >/dev/null 2>&1 || true
    if ss -Hltn "sport = :$port" | grep -q .; then
        tg_die "port $port is already in use: $(ss -Hltnp "sport = :$port")"
    fi
    [[ -s $dir/tls/server.crt ]] || MYHOSTNAME=${MYHOSTNAME:-mx.${MAIL_DOMAIN:-example.test}} pf_make_tls "$dir/tls"

    local -a envs=(-e "SMTP_PORT=$port" -e "MILTER=${MILTER:-}"
        -e "SASL_USERS=${SASL_USERS-alice@example.test:secret}"
        -e MAILLOG_FILE=/var/log/tlsgate/maillog -e TLS_DIR=/etc/tlsgate/tls)
    local v
    for v in SMTP_LISTEN MILTER_FLAGS MILTER_TIMEOUTS MAIL_DOMAIN MYHOSTNAME SASL_MECHS \
        AUTH_OPTIONS TLS_ASK_CCERT MC_EXTRA SMTPS_PORT; do
        [[ -n ${!v+x} ]] && envs+=(-e "$v=${!v}")
    done
    local -a mounts=(-v "$dir/tls:/etc/tlsgate/tls:ro" -v "$dir/log:/var/log/tlsgate"
        -v "$dir/mail:/var/mail/tlsgate")
    [[ -n ${MILTER_SOCKET_DIR:-} ]] && mounts+=(-v "$MILTER_SOCKET_DIR:/run/tlsgate")
    local ul
    mapfile -t ul < <(tg_ulimit_args)
    # --hostname: Sendmail wants a qualified name for itself; the entrypoint
    # puts it in the container's /etc/hosts (no DNS here).
    tg_podman run -d --name "$name" --network host \
        --hostname "${MYHOSTNAME:-mx.${MAIL_DOMAIN:-example.test}}" "${ul[@]}" --pull=never \
        --log-driver k8s-file --label "tlsgate.dir=$dir" "${envs[@]}" "${mounts[@]}" \
        "$TG_SM_IMAGE" >/dev/null
    if ! pf_wait_banner "$name" "$port" 60; then
        sm_stop "$name" || true
        tg_die "Sendmail container did not come up"
    fi
    TG_SM_NAME=$name TG_SM_DIR=$dir TG_SM_PORT=$port
    export TG_SM_NAME TG_SM_DIR TG_SM_PORT
    tg_log "Sendmail up: container $name, port $port, dir $dir"
}

sm_stop() {
    local name=${1:-${TG_SM_NAME:-tlsgate-sendmail-${SMTP_PORT:-10027}}} dir
    dir=$(tg_podman container inspect --format '{{index .Config.Labels "tlsgate.dir"}}' \
        "$name" 2>/dev/null || true)
    tg_podman stop -t 10 "$name" >/dev/null 2>&1 || true
    tg_podman rm -f --ignore "$name" >/dev/null 2>&1 || true
    if [[ -n $dir && -e $dir/.tlsgate-sm && -z ${TG_SM_KEEP:-} ]]; then
        rm -rf "$dir"
    fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
    build) sm_build ;;
    start)
        sm_start
        printf 'TG_SM_NAME=%q TG_SM_DIR=%q TG_SM_PORT=%q\n' "$TG_SM_NAME" "$TG_SM_DIR" "$TG_SM_PORT"
        ;;
    stop) sm_stop "${2:-}" ;;
    *)
        echo "usage: $0 build|start|stop [NAME]" >&2
        exit 1
        ;;
    esac
fi
