#!/usr/bin/env bash
# Build the local base image localhost/tlsgate-debian:bookworm from Debian's own
# packages (mmdebstrap minbase), because no container registry is reachable.
#
#   t/integration/lib/base-image.sh          build if missing (warm: < 1 s)
#   TLSGATE_REBUILD=1 .../base-image.sh      rebuild rootfs and image from scratch
#
# The mirror comes from the host's apt configuration (never hard-coded). The
# finished rootfs is also kept as a tarball in $TLSGATE_CACHE so that a wiped
# podman storage re-imports it in seconds without mmdebstrap.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TG_BASE_IMAGE=${TG_BASE_IMAGE:-localhost/tlsgate-debian:bookworm}
SUITE=bookworm

# Print "URI SUITE COMPONENTS" for every configured deb repository of $SUITE
# (bookworm, bookworm-updates, bookworm-security...). apt-get indextargets is
# apt's own parser of sources.list and sources.list.d/*.{list,sources}, so
# both formats, Enabled: no, [options] etc. are handled the way apt does.
host_repos() {
    # shellcheck disable=SC2016  # $(...) is apt's template syntax
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
        'Identifier: Packages' 'Target-Of: deb' 2>/dev/null |
        awk -v s="$SUITE" '$2 == s || index($2, s "-") == 1 || index($2, s "/") == 1' |
        awk '{k = $1 " " $2; if (!(k in c)) { o[++n] = k; c[k] = $3 } else if (index(" " c[k] " ", " " $3 " ") == 0) c[k] = c[k] " " $3}
             END { for (i = 1; i <= n; i++) print o[i], c[o[i]] }'
}

main_mirror() {
    # The repository that serves the suite itself (not -updates/-security).
    host_repos | awk -v s="$SUITE" '$2 == s { print $1; exit }'
}

# apt settings of the host that the image's apt needs too: a proxy, and the
# snapshot-mirror relaxations (a frozen mirror serves expired Release files).
host_apt_conf() {
    apt-config dump 2>/dev/null |
        grep -E '^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date) ' || true
}

build_rootfs_tar() {
    local tarball=$1 work rootfs sources
    if [[ -n ${TLSGATE_MIRROR:-} ]]; then
        sources="deb $TLSGATE_MIRROR $SUITE main"
    else
        # Same repositories as the host (main, -updates, -security), so the image
        # gets the same package versions as the host's apt.
        sources=$(host_repos | awk '{ u = $1; s = $2; $1 = $2 = ""; sub(/^ +/, ""); print "deb", u, s, $0 }')
    fi
    [[ -n $sources ]] || tg_die "no '$SUITE' deb repository in the host's apt sources (set TLSGATE_MIRROR)"
    tg_need_pkgs mmdebstrap debian-archive-keyring

    work=$(mktemp -d "${TMPDIR:-/tmp}/tg-mmdebstrap.XXXXXX")
    _work=$work
    trap '[[ -n ${_work:-} ]] && rm -rf "$_work"' EXIT
    rootfs=$work/rootfs

    # mmdebstrap rather than debootstrap: apt downloads in parallel and dpkg unpacks
    # in bulk (66 s here where debootstrap took about 2.5 min: most of a cold `make demo`).
    # The host's proxy and snapshot-mirror settings go to its apt, the slim
    # path-excludes to its dpkg; the sources (read from stdin) end up in the image.
    local aptopts=() line
    while IFS= read -r line; do aptopts+=(--aptopt="$line"); done < <(host_apt_conf)
    tg_log "mmdebstrap --variant=minbase $SUITE from: $(awk '{ print $2, $3 }' <<<"$sources" | paste -sd,)"
    mmdebstrap --variant=minbase --mode=root \
        --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
        "${aptopts[@]}" \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/lintian/*' \
        "$SUITE" "$rootfs" - <<<"$sources" >"$work/mmdebstrap.log" 2>&1 || {
        tail -n 30 "$work/mmdebstrap.log" >&2
        tg_die "mmdebstrap failed"
    }
    printf '%s\n' "$sources" >"$rootfs/etc/apt/sources.list"
    host_apt_conf >"$rootfs/etc/apt/apt.conf.d/90tlsgate-host"

    # Slim like debian:bookworm-slim: no docs/man/locales in later installs.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90tlsgate-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/90tlsgate-slim" <<'EOF'
APT::Install-Recommends "false";
Acquire::GzipIndexes "true";
Acquire::Languages "none";
EOF
    local r=${rootfs:?}
    find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    rm -rf "$r"/usr/share/{man,info,locale}/* "$r"/var/cache/apt/*.bin \
        "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* \
        "$r"/var/log/* "$r"/etc/hostname "$r"/etc/resolv.conf "${r:?}"/dev/*
    # podman provides /etc/hostname, /etc/resolv.conf and /dev at run time.

    mkdir -p "$(dirname "$tarball")"
    tar -C "$rootfs" --numeric-owner -c . | gzip -1 >"$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    tg_log "rootfs tarball: $tarball ($(du -h "$tarball" | cut -f1))"
    rm -rf "$work"
    _work=
}

main() {
    tg_need_root
    tg_need_podman
    mkdir -p "$TG_CACHE"
    # Serialise concurrent builders (two test scripts started at once).
    exec 9>"$TG_CACHE/base-image.lock"
    flock 9

    local tarball=$TG_CACHE/rootfs-$SUITE-minbase.tar.gz
    if [[ -n ${TLSGATE_REBUILD:-} ]]; then
        rm -f "$tarball"
        tg_podman image rm -f "$TG_BASE_IMAGE" >/dev/null 2>&1 || true
    fi
    if tg_podman image exists "$TG_BASE_IMAGE"; then
        return 0
    fi
    [[ -s $tarball ]] || build_rootfs_tar "$tarball"

    tg_log "importing $tarball as $TG_BASE_IMAGE"
    # import takes no compression hint from a pipe: decompress ourselves.
    gzip -dc "$tarball" | tg_podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message "mmdebstrap --variant=minbase $SUITE" \
        - "$TG_BASE_IMAGE" >/dev/null
}

main "$@"
