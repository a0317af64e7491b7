# shellcheck shell=bash
# Shared helpers for the integration test scripts. Source it; it runs nothing.
#
#   tg_need_pkgs PKG...      install Debian packages that are missing (idempotent)
#   tg_wait_for SECS DESC CMD...   poll CMD until it succeeds or SECS pass
#   tg_podman ARGS...        podman with the options this machine needs
#
# Environment:
#   TLSGATE_CACHE   persistent cache for images/tarballs (/var/cache/tlsgate-test)

if [[ -n ${_TG_COMMON_SH:-} ]]; then return 0; fi
_TG_COMMON_SH=1

TG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
TG_REPO_DIR=$(cd "$TG_LIB_DIR/../../.." && pwd)
# shellcheck disable=SC2034
TG_CACHE=${TLSGATE_CACHE:-/var/cache/tlsgate-test}

tg_log() { printf '[tg %(%T)T] %s\n' -1 "$*" >&2; }
tg_die() { tg_log "FATAL: $*"; exit 1; }

tg_need_root() {
    [[ $(id -u) -eq 0 ]] || tg_die "must run as root (podman rootful, namespaces, apt)"
}

# Install the named packages unless dpkg already has them installed.
# `dpkg -s` alone is not enough: it succeeds for removed packages whose
# conffiles remain ("deinstall ok config-files").
tg_need_pkgs() {
    local p missing=() log
    for p in "$@"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]})) || return 0
    tg_log "installing: ${missing[*]}"
    log=$(mktemp)
    # A fresh machine may have no or stale package lists: update once per test
    # run (exported, so scripts we start do not update again).
    if [[ -z ${TG_APT_UPDATED:-} ]]; then
        apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1 || {
            cat "$log" >&2
            rm -f "$log"
            tg_die "apt-get update failed"
        }
        export TG_APT_UPDATED=1
    fi
    # dpkg's progress is not silenced by -qq: keep it in a file for failures.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${missing[@]}" >"$log" 2>&1 || {
        tail -n 40 "$log" >&2
        rm -f "$log"
        tg_die "apt-get install ${missing[*]} failed"
    }
    rm -f "$log"
}

# tg_wait_for TIMEOUT_SECONDS DESCRIPTION CMD [ARGS...]
# Polls CMD every 0.1 s until it exits 0; fails after TIMEOUT_SECONDS.
tg_wait_for() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            tg_log "timed out after ${timeout}s waiting for: $what"
            return 1
        fi
        sleep 0.1
    done
}

# Rootful podman. Pin runc (the runtime known to work here; crun is not
# installed) and the file event logger + k8s-file log driver (no systemd/journald
# on the test machines; podman auto-detects that too, this makes it explicit).
tg_podman() {
    podman --runtime runc --events-backend file "$@"
}

# --ulimit options for `podman run` and `podman build`. Rootful podman asks
# runc for nofile=1048576 (and lowers its own nproc hard limit to 32768, then
# asks for more); without CAP_SYS_RESOURCE (missing in this sandbox) runc fails
# with "error setting rlimit type 7 (or 6): operation not permitted".
# `--ulimit host` fails the same way. Ask for what we can have.
tg_ulimit_args() {
    local nofile nproc
    nofile=$(ulimit -Hn)
    [[ $nofile == unlimited || $nofile -gt 65536 ]] && nofile=65536
    nproc=4096
    printf '%s\n' --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc"
}

tg_need_podman() {
    tg_need_pkgs podman runc
}

TG_BASE_IMAGE=${TG_BASE_IMAGE:-localhost/tlsgate-debian:bookworm}

# tg_build_context_image IMAGE CONTEXT_DIR [DOCKERFILE PATH...]: build IMAGE
# from the Dockerfile in CONTEXT_DIR (or DOCKERFILE, relative to CONTEXT_DIR)
# on top of the local base image (lib/base-image.sh), unless one built from the
# same files and base image exists (a label holds that hash): a warm run skips
# `podman build`. The hash covers every file under CONTEXT_DIR, or, when PATHs
# are given, the DOCKERFILE and those files/directories only (a context such as
# the repository root, narrowed by its .dockerignore, holds builds and caches).
tg_build_context_image() {
    local image=$1 context=$2 dockerfile=${3:-}
    local -a paths=(.) fopt=()
    if [[ -n $dockerfile ]]; then
        fopt=(-f "$context/$dockerfile")
        (($# > 3)) && paths=("$dockerfile" "${@:4}")
    fi
    tg_need_root
    tg_need_podman
    "$TG_LIB_DIR/base-image.sh"
    local base_id hash have
    base_id=$(tg_podman image inspect --format '{{.Id}}' "$TG_BASE_IMAGE")
    hash=$({
        echo "$base_id"
        cd "$context" && find "${paths[@]}" -type f | LC_ALL=C sort | xargs cat
    } | sha256sum | cut -c1-16)
    have=$(tg_podman image inspect --format '{{index .Labels "tlsgate.context"}}' \
        "$image" 2>/dev/null || true)
    [[ $have == "$hash" ]] && return 0
    tg_log "building $image (the first time takes a few minutes)"
    local ul
    mapfile -t ul < <(tg_ulimit_args)
    # --network host: RUN apt-get needs the host's route to the Debian mirror
    # (no CNI bridge/NAT here). --pull=never: there is no registry to ask.
    local log
    log=$(mktemp)
    tg_podman build --pull=never --network host "${ul[@]}" \
        --build-arg "BASE=$TG_BASE_IMAGE" --label "tlsgate.context=$hash" \
        "${fopt[@]}" -t "$image" "$context" >"$log" 2>&1 || {
        tail -n 40 "$log" >&2
        rm -f "$log"
        tg_die "podman build of $image failed"
    }
    rm -f "$log"
    # Drop the superseded image and dangling layers (keep the disk lean).
    tg_podman image prune -f >/dev/null 2>&1 || true
}

# tg_netns_up NAME [ADDR/PREFIX...]: a private network namespace with lo up and
# the given addresses on its lo, e.g. 2001:db8:1::10/128 198.51.100.7/32, so
# clients can come from any netblock while all traffic stays on that lo.
# Run things in it with `ip netns exec NAME ...`; the container with
# TG_PF_NETNS=NAME (postfix-container.sh).
tg_netns_up() {
    local ns=$1 a
    shift
    tg_need_pkgs iproute2
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    for a in "$@"; do
        ip -n "$ns" addr add "$a" dev lo
    done
}

tg_netns_down() {
    ip netns del "$1" 2>/dev/null || true
}

# Everything the container tests need on the host.
tg_need_test_pkgs() {
    tg_need_pkgs podman runc mmdebstrap debian-archive-keyring openssl iproute2 \
        util-linux swaks libnet-ssleay-perl libio-socket-inet6-perl libio-socket-ssl-perl
}

# tg_check DESCRIPTION CMD...: runs CMD, prints ok/FAIL, counts in tg_passed/tg_failed.
tg_passed=0 tg_failed=0
tg_check() {
    if "${@:2}"; then
        echo "ok   $1"
        tg_passed=$((tg_passed + 1))
    else
        echo "FAIL $1"
        tg_failed=$((tg_failed + 1))
    fi
}
