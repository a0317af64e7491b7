#!/usr/bin/env bash
# check-install: `make install` into temporary DESTDIRs and check what it put there:
# the file list and modes, the installed configuration, the systemd unit
# (systemd-analyze verify), sysusers.d/tmpfiles.d, the man pages (mandoc and groff
# lint; every option of `tlsgate -h` and every key of policy/schema.cc documented),
# logrotate -d, the Postfix and Sendmail snippets (the .mc through Sendmail's m4
# files), a configuration kept across install and uninstall, and an uninstall that
# leaves nothing behind. Needs the packages `make test-deps` installs.
#   t/install/run.sh        (from make check-install, after build/tlsgate is built)
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0
# check NAME COMMAND...: runs COMMAND; it passes if it exits 0 and prints nothing.
check() {
  local name=$1 out status
  shift
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq 0 ] && [ -z "$out" ]; then
    passed=$((passed + 1))
    echo "  ok   $name"
  else
    failed=$((failed + 1))
    echo "  FAIL $name (exit $status)"
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/       /'
  fi
}

# A make that does not inherit the calling make's variables (make check-install
# PREFIX=... must not change what is checked here).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKEOVERRIDES -u MAKELEVEL make -s --no-print-directory "$@"; }

# same EXPECTED ACTUAL: no output if equal, a diff otherwise.
same() { diff -u --label expected --label actual <(printf '%s\n' "$1") <(printf '%s\n' "$2"); }
# has FILE LINE...: every LINE is a whole line of FILE.
has() {
  local file=$1 line
  shift
  for line in "$@"; do grep -qxF -- "$line" "$file" || echo "$file: no line: $line"; done
}
files_in() { (cd "$1" && find . ! -type d -printf '%m %P\n' | sort -k2); }
ini_value() { sed -n "s/^$1 *= *//p" etc/tlsgate.ini | head -1; }

echo "check-install:"

# --- make install with the defaults -----------------------------------------------
root=$tmp/root
mk install DESTDIR="$root" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
usr=$root/usr/local

check "file list and modes (PREFIX=/usr/local SYSCONFDIR=/etc)" same "$(
  cat <<'EOF'
644 etc/logrotate.d/tlsgate
644 etc/tlsgate/legacy-networks.txt
644 etc/tlsgate/legacy-networks.txt.example
644 etc/tlsgate/tlsgate.ini
644 etc/tlsgate/tlsgate.ini.example
644 usr/local/lib/systemd/system/tlsgate.service
644 usr/local/lib/sysusers.d/tlsgate.conf
644 usr/local/lib/tmpfiles.d/tlsgate.conf
755 usr/local/sbin/tlsgate
644 usr/local/share/doc/tlsgate/examples/postfix-main.cf
644 usr/local/share/doc/tlsgate/examples/sendmail-tlsgate.mc
644 usr/local/share/man/man5/tlsgate.ini.5
644 usr/local/share/man/man8/tlsgate.8
EOF
)" "$(files_in "$root")"

check "installed config is the example" bash -c '
  cmp etc/tlsgate.ini "$1/etc/tlsgate/tlsgate.ini" &&
  cmp etc/tlsgate.ini "$1/etc/tlsgate/tlsgate.ini.example" &&
  cmp etc/legacy-networks.txt "$1/etc/tlsgate/legacy-networks.txt"' _ "$root"

# --- systemd ---------------------------------------------------------------------
unit=$usr/lib/systemd/system/tlsgate.service
check "unit: paths substituted for PREFIX and SYSCONFDIR" has "$unit" \
  "ExecStartPre=/bin/sh -c 'exec /usr/local/sbin/tlsgate -n -c /etc/tlsgate/tlsgate.ini 2>&1'" \
  "ExecStart=/usr/local/sbin/tlsgate -f -c /etc/tlsgate/tlsgate.ini" \
  "ExecReload=/bin/sh -c 'exec /usr/local/sbin/tlsgate -n -c /etc/tlsgate/tlsgate.ini 2>&1'" \
  "ExecReload=+/bin/kill -USR1 \$MAINPID"

# systemd-analyze verify wants the ExecStart binary to exist and runs man(1) for
# Documentation=: verify a copy whose binary is the one in DESTDIR, with MANPATH
# pointing at the installed pages. No systemd needs to run.
mkdir -p "$tmp/verify"
sed "s|/usr/local/sbin/tlsgate|$usr/sbin/tlsgate|g" "$unit" >"$tmp/verify/tlsgate.service"
check "systemd-analyze verify tlsgate.service" \
  env MANPATH="$usr/share/man" systemd-analyze verify "$tmp/verify/tlsgate.service"
exposure=$(systemd-analyze security --offline=yes "$tmp/verify/tlsgate.service" 2>&1 |
  sed -n 's/.*Overall exposure level for tlsgate.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure ${exposure:-?} <= 3.0" \
  awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 3.0) }'

# sysusers.d and tmpfiles.d, applied to a copy of DESTDIR: they must create the user
# of [milter] user and a log directory it owns.
cp -a "$root" "$tmp/sysroot"
check "sysusers.d creates [milter] user/group ($(ini_value user)/$(ini_value group))" bash -c '
  systemd-sysusers --root="$1" >/dev/null 2>&1 &&
  grep -q "^$2:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin\$" "$1/etc/passwd" &&
  grep -q "^$3:x:" "$1/etc/group"' _ "$tmp/sysroot" "$(ini_value user)" "$(ini_value group)"
# tlsgate -n checks [milter] user and group against the system: with the users and
# groups sysusers.d made (nss_wrapper, not this machine's), it accepts the installed file.
check "tlsgate -n accepts the installed config, with the user and group sysusers.d made" bash -c '
  LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$1/etc/passwd" NSS_WRAPPER_GROUP="$1/etc/group" \
    "$2/usr/local/sbin/tlsgate" -n -c "$2/etc/tlsgate/tlsgate.ini" | grep -q "^OK: "' _ \
  "$tmp/sysroot" "$root"
logdir=$(dirname "$(ini_value accounting_file)")
check "tmpfiles.d creates $logdir for accounting_file, 0750, owned by the user" bash -c '
  systemd-tmpfiles --root="$1" --create >/dev/null 2>&1 &&
  uid=$(grep "^$3:" "$1/etc/passwd" | cut -d: -f3) &&
  [ "$(stat -c "%a %u" "$1$2")" = "750 $uid" ]' _ "$tmp/sysroot" "$logdir" "$(ini_value user)"
check "unit RuntimeDirectory holds pid_file, ReadWritePaths the accounting dir" has "$unit" \
  "RuntimeDirectory=$(basename "$(dirname "$(ini_value pid_file)")")" \
  "ReadWritePaths=-$logdir"

# --- man pages ----------------------------------------------------------------------
for page in "$usr/share/man/man8/tlsgate.8" "$usr/share/man/man5/tlsgate.ini.5"; do
  check "mandoc -T lint -W warning $(basename "$page")" mandoc -T lint -W warning "$page"
  check "groff -ww -z $(basename "$page")" groff -t -ww -z -man "$page"
done
man8=$usr/share/man/man8/tlsgate.8
man5=$usr/share/man/man5/tlsgate.ini.5
version=$("$usr/sbin/tlsgate" -V | cut -d' ' -f2)
check "man pages carry version $version" bash -c '
  grep -q "^\.TH .* \"tlsgate $3\"" "$1" && grep -q "^\.TH .* \"tlsgate $3\"" "$2"' _ \
  "$man8" "$man5" "$version"
check "tlsgate.8 documents every option of tlsgate -h" bash -c '
  for opt in $("$1" -h | grep -oE -- "(^|[ ,])--?[a-zA-Z][a-z-]*" | tr -d " ," | sort -u); do
    grep -qF -- "${opt//-/\\-}" "$2" || echo "not in tlsgate.8: $opt"
  done' _ "$usr/sbin/tlsgate" "$man8"
# (That tlsgate.ini.5 documents every key of the schema with its default is a unit
# test: t/unit/schema_docs_test.cc.)
mkdir -p "$tmp/example"
cp etc/legacy-networks.txt "$tmp/example/"
sed -n '/^\.SH EXAMPLE/,/^\.EE/p' "$man5" | sed '/^\.\(SH\|EX\|EE\)/d; /^\.\\"/d; s/\\-/-/g' \
  >"$tmp/example/tlsgate.ini"
check "the EXAMPLE of tlsgate.ini.5 passes tlsgate -n (with the users sysusers.d made)" bash -c '
  LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$3/etc/passwd" NSS_WRAPPER_GROUP="$3/etc/group" \
    "$1" -n -c "$2" | grep -q "^OK: "' _ "$usr/sbin/tlsgate" "$tmp/example/tlsgate.ini" "$tmp/sysroot"

# --- logrotate, Postfix, Sendmail ---------------------------------------------------
check "logrotate -d etc/logrotate.d/tlsgate" bash -c '
  out=$(logrotate -d -s "$2/logrotate.state" "$1" 2>&1) || { echo "$out"; exit 1; }
  printf "%s\n" "$out" | grep -i "error" || true' _ "$root/etc/logrotate.d/tlsgate" "$tmp"
check "logrotate rotates [milter] accounting_file" \
  grep -qxF "$(ini_value accounting_file) {" "$root/etc/logrotate.d/tlsgate"

socket=$(ini_value socket) # inet:PORT@ADDR
port=${socket#inet:}
port=${port%@*}
addr=${socket#*@}
check "postfix-main.cf reaches [milter] socket ($socket)" has \
  "$usr/share/doc/tlsgate/examples/postfix-main.cf" \
  "smtpd_milters = inet:$addr:$port" "milter_default_action = tempfail" \
  "milter_protocol = 6" "smtpd_tls_auth_only = yes"

# The .mc snippet through Sendmail's own cf files (Debian's sendmail-cf), as
# sendmailconfig would: the filter, its flags, AuthOptions; and the commented
# fallback macro lists, uncommented, append to Sendmail's defaults.
cf=/usr/share/sendmail/cf
mc=$usr/share/doc/tlsgate/examples/sendmail-tlsgate.mc
printf '%s\n' 'divert(0)dnl' "OSTYPE(\`linux')dnl" "include(\`$mc')dnl" \
  "MAILER(\`local')dnl" "MAILER(\`smtp')dnl" >"$tmp/test.mc"
check "sendmail-tlsgate.mc through m4 + cf.m4: filter, F=T, AuthOptions=p" bash -c '
  m4 -D_CF_DIR_="$1/" "$1/m4/cf.m4" "$2/test.mc" >"$2/test.cf" || exit 1
  for line in "O InputMailFilters=tlsgate" "O AuthOptions=p" \
              "Xtlsgate, S=inet:$3@$4, F=T, T=S:30s;R:30s"; do
    grep -qxF -- "$line" "$2/test.cf" || echo "sendmail.cf has no line: $line"
  done' _ "$cf" "$tmp" "$port" "$addr"
sed -n "s/^dnl \(define(\`confMILTER_MACROS_.*\)$/\1/p" "$mc" >"$tmp/fallback.m4"
printf '%s\n' 'divert(0)dnl' "OSTYPE(\`linux')dnl" "include(\`$mc')dnl" \
  "include(\`$tmp/fallback.m4')dnl" "MAILER(\`smtp')dnl" >"$tmp/fallback.mc"
check "sendmail-tlsgate.mc fallback macro lists append {verify}, the CNs, {auth_type} and the TLS macros" bash -c '
  m4 -D_CF_DIR_="$1/" "$1/m4/cf.m4" "$2/fallback.mc" >"$2/fallback.cf" || exit 1
  grep -qx "O Milter.macros.helo={tls_version}, .*{cert_issuer}, {cn_subject}, {cn_issuer}, {verify}, {auth_type}" "$2/fallback.cf" ||
    echo "helo: $(grep Milter.macros.helo "$2/fallback.cf")"
  grep -qx "O Milter.macros.envfrom=i, {auth_type}, {auth_authen}, .*, {tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {cn_subject}, {cn_issuer}, {verify}" "$2/fallback.cf" ||
    echo "envfrom: $(grep Milter.macros.envfrom "$2/fallback.cf")"' _ "$cf" "$tmp"

# --- an edited configuration is kept; uninstall leaves nothing else ------------------
echo "; edited by the admin" >>"$root/etc/tlsgate/tlsgate.ini"
mk install DESTDIR="$root" >"$tmp/reinstall.log" 2>&1
check "reinstall keeps an edited tlsgate.ini and says so" bash -c '
  tail -1 "$1/etc/tlsgate/tlsgate.ini" | grep -qx "; edited by the admin" &&
  grep -q "^keeping $1/etc/tlsgate/tlsgate.ini " "$2"' _ "$root" "$tmp/reinstall.log"
mk uninstall DESTDIR="$root" >"$tmp/uninstall.log" 2>&1
check "uninstall removes everything but the edited tlsgate.ini" same \
  "644 etc/tlsgate/tlsgate.ini" "$(files_in "$root")"
rm "$root/etc/tlsgate/tlsgate.ini"
uninstall_again() { mk uninstall DESTDIR="$root" >/dev/null; }
check "uninstall again: nothing to do, no error" uninstall_again
rm -rf "$root"
mk install DESTDIR="$root" >/dev/null 2>&1 && mk uninstall DESTDIR="$root" >/dev/null 2>&1
check "install + uninstall: no file left, no $root/etc/tlsgate" bash -c '
  find "$1" ! -type d; [ ! -e "$1/etc/tlsgate" ] || echo "$1/etc/tlsgate is left"' _ "$root"

# --- other directories ----------------------------------------------------------------
alt=$tmp/alt
mk install DESTDIR="$alt" PREFIX=/usr SYSCONFDIR=/opt/tg/etc SYSTEMDUNITDIR=/lib/systemd/system \
  >/dev/null 2>&1
check "PREFIX=/usr SYSCONFDIR=/opt/tg/etc SYSTEMDUNITDIR=/lib/systemd/system" same "$(
  cat <<'EOF'
lib/systemd/system/tlsgate.service
opt/tg/etc/logrotate.d/tlsgate
opt/tg/etc/tlsgate/legacy-networks.txt
opt/tg/etc/tlsgate/legacy-networks.txt.example
opt/tg/etc/tlsgate/tlsgate.ini
opt/tg/etc/tlsgate/tlsgate.ini.example
usr/lib/sysusers.d/tlsgate.conf
usr/lib/tmpfiles.d/tlsgate.conf
usr/sbin/tlsgate
usr/share/doc/tlsgate/examples/postfix-main.cf
usr/share/doc/tlsgate/examples/sendmail-tlsgate.mc
usr/share/man/man5/tlsgate.ini.5
usr/share/man/man8/tlsgate.8
EOF
)" "$(files_in "$alt" | cut -d' ' -f2)"
check "the unit for those directories" has "$alt/lib/systemd/system/tlsgate.service" \
  "ExecStart=/usr/sbin/tlsgate -f -c /opt/tg/etc/tlsgate/tlsgate.ini"
rm -rf "$alt"
mk install DESTDIR="$alt" PREFIX=/usr >/dev/null 2>&1
check "with PREFIX=/usr the installed unit is contrib/systemd/tlsgate.service as is" \
  cmp "$alt/usr/lib/systemd/system/tlsgate.service" contrib/systemd/tlsgate.service

echo "check-install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
