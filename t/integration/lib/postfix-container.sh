#!/usr/bin/env bash
# Postfix in a podman container (contrib/docker/postfix) for integration tests.
#
# As a command:
#   postfix-container.sh build          build the image if it is missing/stale
#   postfix-container.sh start          start one; prints shell assignments
#                                       (eval them): TG_PF_NAME TG_PF_DIR TG_PF_PORT
#   postfix-container.sh stop [NAME]    stop it and remove its directory
# As a library (source it): pf_build, pf_start, pf_stop, pf_wait_banner.
#
# Settings (environment), with defaults:
#   SMTP_PORT=10025  MILTER=  SASL_USERS="alice@example.test:secret"
#   and, passed on to the container when set: SMTP_LISTEN MILTER_DEFAULT_ACTION
#   MAIL_DOMAIN MYHOSTNAME SASL_MECHS TLS_ASK_CCERT POSTCONF_EXTRA
#   (see contrib/docker/postfix/entrypoint.sh)
#   TG_PF_NAME   container name [tlsgate-postfix-$SMTP_PORT]
#   TG_PF_DIR    host directory for certificates, log and mail [mktemp]
#   TG_PF_NETNS  run in this `ip netns` network namespace instead of the host's
#   TG_PF_KEEP=1 keep TG_PF_DIR at stop (debugging)
#
# Layout of $TG_PF_DIR (all readable by root on the host):
#   tls/ca.crt ca.key server.crt server.key server-ec.crt server-ec.key
#       client.crt client.key      (test CA, server RSA+ECDSA, a client cert)
#   log/maillog                    Postfix's log (queue ids, milter-reject...)
#   mail/<domain>/new/             delivered mail (Maildir), mail/relayed/new/
#
# The banner probe is an SMTP session from 127.0.0.1 (and ::1): with a milter
# configured, the milter sees a connect + close for each probe.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TG_PF_IMAGE=${TG_PF_IMAGE:-localhost/tlsgate-postfix:bookworm}
TG_PF_CONTEXT=$TG_REPO_DIR/contrib/docker/postfix

# Build the image unless one built from the same context and base image exists
# (tg_build_context_image): a warm run skips `podman build`.
pf_build() {
    tg_build_context_image "$TG_PF_IMAGE" "$TG_PF_CONTEXT"
}

# pf_make_tls DIR: a throwaway CA, server certs (RSA for RSA ciphers, ECDSA
# for ECDHE-ECDSA ones) and a client certificate, all signed by the CA.
pf_make_tls() {
    local d=$1 name=${MYHOSTNAME:-mx.${MAIL_DOMAIN:-example.test}}
    mkdir -p "$d"
    (
        cd "$d"
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -days 7 -subj "/O=tlsgate test/CN=tlsgate test CA" \
            -keyout ca.key -out ca.crt 2>/dev/null
        issue() { # issue NAME SUBJECT rsa|ec EXTENSIONS...
            local n=$1 subj=$2 alg=(-newkey rsa:2048)
            [[ $3 == ec ]] && alg=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
            shift 3
            openssl req -new "${alg[@]}" -nodes -subj "$subj" \
                -keyout "$n.key" -out "$n.csr" 2>/dev/null
            openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
                -days 7 -extfile <(printf '%s\n' "$@") -out "$n.crt" 2>/dev/null
            rm -f "$n.csr"
        }
        local san="subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1"
        issue server "/CN=$name" rsa "$san" extendedKeyUsage=serverAuth
        issue server-ec "/CN=$name" ec "$san" extendedKeyUsage=serverAuth
        issue client "/O=tlsgate test/CN=client.example.test" ec extendedKeyUsage=clientAuth
        rm -f ca.srl
    )
}

pf_container_running() {
    [[ $(tg_podman container inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]
}

# pf_banner HOST PORT [PREFIX...]: one SMTP session that reads "220 ..." and
# QUITs; PREFIX (e.g. ip netns exec NS) runs the probe elsewhere.
pf_banner() {
    local host=$1 port=$2
    shift 2
    # shellcheck disable=SC2016  # expanded by the inner bash
    "$@" timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        IFS= read -r -t 4 line <&3 || exit 1
        printf "QUIT\r\n" >&3
        [[ $line == 220[\ -]* ]]' "$host" "$port" 2>/dev/null
}

# pf_wait_banner NAME PORT [TIMEOUT]: poll until the banner comes on every
# listener, or fail at once when the container died.
pf_wait_banner() {
    local name=$1 port=$2 timeout=${3:-60} hosts=(127.0.0.1) h
    local -a netns=()
    [[ -n ${TG_PF_NETNS:-} ]] && netns=(ip netns exec "$TG_PF_NETNS")
    if [[ ${SMTP_LISTEN:-127.0.0.1 [::1]} == *'[::1]'* ]] &&
        "${netns[@]}" grep -q . /proc/net/if_inet6 2>/dev/null; then
        hosts+=(::1)
    fi
    _pf_up() {
        pf_container_running "$name" || {
            tg_log "container $name is not running; its output:"
            tg_podman logs "$name" 2>&1 | tail -n 30 >&2
            return 2
        }
        local h
        for h in "${hosts[@]}"; do
            pf_banner "$h" "$port" "${netns[@]}" || return 1
        done
    }
    local deadline=$((SECONDS + timeout)) rc
    while :; do
        rc=0
        _pf_up || rc=$?
        ((rc == 0)) && return 0
        ((rc == 2)) && return 1
        ((SECONDS >= deadline)) && {
            tg_log "no SMTP banner on port $port after ${timeout}s"
            tg_podman logs "$name" 2>&1 | tail -n 30 >&2
            return 1
        }
        sleep 0.2
    done
}

pf_start() {
    pf_build
    tg_need_pkgs openssl iproute2
    local port=${SMTP_PORT:-10025}
    local name=${TG_PF_NAME:-tlsgate-postfix-$port}
    local dir=${TG_PF_DIR:-}
    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/tlsgate-pf.XXXXXX")
        touch "$dir/.tlsgate-pf" # marks a directory pf_stop may delete
    fi
    mkdir -p "$dir/log" "$dir/mail"

    tg_podman rm -f --ignore "$name" >/dev/null 2>&1 || true
    local -a net=(--network host) netns=()
    if [[ -n ${TG_PF_NETNS:-} ]]; then
        net=(--network "ns:/run/netns/$TG_PF_NETNS")
        netns=(ip netns exec "$TG_PF_NETNS")
    fi
    # Host networking shares the host's ports: fail clearly if ours is taken.
    if "${netns[@]}" ss -Hltn "sport = :$port" | grep -q .; then
        tg_die "port $port is already in use: $("${netns[@]}" ss -Hltnp "sport = :$port")"
    fi
    [[ -s $dir/tls/server.crt ]] || pf_make_tls "$dir/tls"

    local -a envs=(-e "SMTP_PORT=$port" -e "MILTER=${MILTER:-}"
        -e "SASL_USERS=${SASL_USERS-alice@example.test:secret}"
        -e MAILLOG_FILE=/var/log/tlsgate/maillog -e TLS_DIR=/etc/tlsgate/tls)
    local v
    for v in SMTP_LISTEN MILTER_DEFAULT_ACTION MAIL_DOMAIN MYHOSTNAME SASL_MECHS \
        TLS_ASK_CCERT POSTCONF_EXTRA SMTPS_PORT POLICY; do
        [[ -n ${!v+x} ]] && envs+=(-e "$v=${!v}")
    done
    local ul
    mapfile -t ul < <(tg_ulimit_args)
    tg_podman run -d --name "$name" "${net[@]}" "${ul[@]}" --pull=never \
        --log-driver k8s-file --label "tlsgate.dir=$dir" "${envs[@]}" \
        -v "$dir/tls:/etc/tlsgate/tls:ro" -v "$dir/log:/var/log/tlsgate" \
        -v "$dir/mail:/var/mail/tlsgate" "$TG_PF_IMAGE" >/dev/null
    if ! pf_wait_banner "$name" "$port" 60; then
        pf_stop "$name" || true
        tg_die "Postfix container did not come up"
    fi
    TG_PF_NAME=$name TG_PF_DIR=$dir TG_PF_PORT=$port
    export TG_PF_NAME TG_PF_DIR TG_PF_PORT
    tg_log "Postfix up: container $name, port $port, dir $dir"
}

pf_stop() {
    local name=${1:-${TG_PF_NAME:-tlsgate-postfix-${SMTP_PORT:-10025}}} dir
    dir=$(tg_podman container inspect --format '{{index .Config.Labels "tlsgate.dir"}}' \
        "$name" 2>/dev/null || true)
    # master exits on SIGTERM within a second; -t bounds the wait if it does not.
    tg_podman stop -t 10 "$name" >/dev/null 2>&1 || true
    tg_podman rm -f --ignore "$name" >/dev/null 2>&1 || true
    if [[ -n $dir && -e $dir/.tlsgate-pf && -z ${TG_PF_KEEP:-} ]]; then
        rm -rf "$dir"
    fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    case ${1:-} in
    build) pf_build ;;
    start)
        pf_start
        printf 'TG_PF_NAME=%q TG_PF_DIR=%q TG_PF_PORT=%q\n' "$TG_PF_NAME" "$TG_PF_DIR" "$TG_PF_PORT"
        ;;
    stop) pf_stop "${2:-}" ;;
    *)
        echo "usage: $0 build|start|stop [NAME]" >&2
        exit 1
        ;;
    esac
fi
