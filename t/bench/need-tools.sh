#!/bin/bash
# Installs what the lookup benchmark needs beyond the build: Postfix's postmap (the
# `cidr:` peer) and GNU time (/usr/bin/time -v). Idempotent: does nothing when both
# are there. Postfix is installed without configuration and without starting any
# service: debconf answers "No configuration", and a policy-rc.d that refuses every
# service start is in place for the duration of the install (an existing one is kept).
set -euo pipefail

missing=()
for p in postfix time; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
        missing+=("$p")
    fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]]; then
    echo "need-tools.sh: ${missing[*]} missing and not root: install them with apt-get" >&2
    exit 1
fi
echo "need-tools.sh: installing ${missing[*]}" >&2

policy_rc=/usr/sbin/policy-rc.d
ours=
if [[ ! -e $policy_rc ]]; then
    printf '#!/bin/sh\n# temporary, from tlsgate t/bench/need-tools.sh: start no service\nexit 101\n' \
        >"$policy_rc"
    chmod 755 "$policy_rc"
    ours=1
fi
cleanup() { if [[ -n $ours ]]; then rm -f "$policy_rc"; fi; }
trap cleanup EXIT

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

log=$(mktemp)
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
        --no-install-recommends "${missing[@]}" >"$log" 2>&1
}
# A fresh machine has no (or stale) package lists: update and try again.
if ! apt_install; then
    if ! { apt-get -o DPkg::Lock::Timeout=300 update -q >>"$log" 2>&1 && apt_install; }; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        echo "need-tools.sh: apt-get install ${missing[*]} failed" >&2
        exit 1
    fi
fi
rm -f "$log"
