#!/usr/bin/env bash
# Bypass attempts, each a test:
#   1. the configuration path: a symlink (followed, also on reload), a dangling
#      one, a loop, one to a directory, a directory, an empty file, an unreadable
#      file (at start, and on reload after privileges were dropped): a clear error,
#      never a start with no policy;
#   2. the milter protocol without an MTA (bypass-milter.py with lib/milter_driver.py,
#      and Debian's miltertest): IPv4-mapped IPv6, unknown address families, AUTH
#      names in any case, hostile macro values, hostile envelope addresses against a
#      sender and a recipient partner, the syslog lines and CSV rows they produce;
#      the same envelopes through the policy service (bypass-policy.py);
#   3. a real Postfix (container) and hostile SMTP clients (lib/smtp_tricks.py):
#      AUTH mechanism names in any case, STARTTLS without a second EHLO, AUTH before
#      STARTTLS (RFC 3207: judged on the state after TLS), commands injected after
#      STARTTLS in the same plaintext packet (CVE-2011-0411), pipelining after TLS.
#      Every reply, tlsgate's syslog line, and what reached the Maildirs.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/postfix-container.sh"

suite_begin bypass miltertest util-linux
pids=()
suite_at_exit 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done'
suite_at_exit pf_stop

milter_port=${TG_BYPASS_MILTER_PORT:-18900}
aux_port=${TG_BYPASS_AUX_PORT:-18901}
policy_port=${TG_BYPASS_POLICY_PORT:-18907}
export SMTP_PORT=${TG_BYPASS_SMTP_PORT:-10030}
started=$SECONDS
section() { echo "$1 [$((SECONDS - started)) s]"; }

# Sources on loopback addresses. A 127.0.0.0/8 rule that allows everything: an
# unknown client must never get it. Sections inside it set every key that matters
# (a key not set is inherited from the enclosing 127.0.0.0/8).
write_config() { # write_config FILE [more lines]
    cat >"$1" <<INI
$(suite_milter_ini "$milter_port" "$policy_port")
[source default]
require_starttls = yes
[source loopback]
networks = 127.0.0.0/8, ::1/128
require_starttls = no
require_starttls_before_auth = no
allow_unencrypted_plain_auth = yes
[source mapped]
networks = 127.0.0.2
require_starttls = no
require_starttls_before_auth = yes
allow_unencrypted_plain_auth = no
[source starttls]
networks = 127.0.0.20
require_starttls = yes
[source tls13]
networks = 127.0.0.21
require_starttls = yes
min_tls_version = TLSv1.3
[source auth-after-tls]
networks = 127.0.0.22
require_starttls = no
require_starttls_before_auth = yes
allow_unencrypted_plain_auth = no
[source hostile]
networks = 127.0.0.30
require_starttls = yes
require_starttls_before_auth = yes
allow_unencrypted_plain_auth = no
min_tls_version = TLSv1.3
min_cipher_bits = 256
tls13_ciphersuites = TLS_AES_256_GCM_SHA384
require_client_cert = yes
client_cert_issuer = tlsgate test CA
client_cert_subject = client.example.test
[source hostile-open]
networks = 127.0.0.31
; Issue 21: a sender and a recipient partner, for hostile envelope addresses. From
; the loopback rules above (nothing required) only they refuse plaintext.
[partner bank]
sender_domains = bank.example, *.bank.example
require_starttls = yes
[partner legal]
recipient_domains = legal.example
require_starttls = yes
INI
    printf '%s\n' "${@:2}" >>"$1"
}

section "== the configuration path"
write_config "$work/good.ini"
checkn() { # checkn DESC EXPECTED-OUTPUT-REGEX [setpriv...] -- PATH
    local desc=$1 re=$2 rc=0 out
    shift 2
    local -a pre=()
    while [[ $1 != -- ]]; do pre+=("$1"); shift; done
    shift
    out=$("${pre[@]}" "$tlsgate" -n -c "$1" 2>&1) || rc=$?
    tg_check "$desc: exit 1, '$(head -n 1 <<<"$out")'" \
        bash -c '[[ $0 == 1 ]] && grep -Eq -- "$1" <<<"$2"' "$rc" "$re" "$out"
}
ln -s good.ini "$work/link.ini"
tg_check "a symlink to a good file: tlsgate -n follows it" \
    bash -c '"$0" -n -c "$1" | grep -q "^OK: 8 sources"' "$tlsgate" "$work/link.ini"
ln -s missing.ini "$work/dangling.ini"
checkn "a dangling symlink" "^$work/dangling\\.ini: cannot read: No such file or directory\$" -- "$work/dangling.ini"
ln -s loop-b.ini "$work/loop-a.ini"
ln -s loop-a.ini "$work/loop-b.ini"
checkn "a symlink loop" "^$work/loop-a\\.ini: cannot read: Too many levels of symbolic links\$" -- "$work/loop-a.ini"
mkdir "$work/conf.d"
ln -s conf.d "$work/dirlink.ini"
checkn "a symlink to a directory" "^$work/dirlink\\.ini: is a directory, not a file\$" -- "$work/dirlink.ini"
checkn "a directory" "^$work/conf\\.d: is a directory, not a file\$" -- "$work/conf.d"
: >"$work/empty.ini"
checkn "an empty file" "^$work/empty\\.ini: the file is empty: nothing to enforce\$" -- "$work/empty.ini"
printf '\n  \n\t\n' >"$work/blank.ini"
checkn "a file of blank lines" "^$work/blank\\.ini: the file is empty" -- "$work/blank.ini"
cp "$work/good.ini" "$work/secret.ini"
chmod 0600 "$work/secret.ini"
checkn "a file the user cannot read (tlsgate -n as nobody)" \
    "^$work/secret\\.ini: cannot read: Permission denied\$" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$work/secret.ini"
for bad in dangling.ini conf.d empty.ini; do
    rc=0
    out=$("$tlsgate" -f -c "$work/$bad" 2>&1) || rc=$?
    tg_check "the daemon with $bad: exit 1, 'not started', nothing listens" \
        bash -c '[[ $0 == 1 ]] && grep -q "^tlsgate: 1 error; not started$" <<<"$1" &&
                 ! ss -Hltn "sport = :$2" | grep -q .' "$rc" "$out" "$milter_port"
done

# Reload after privileges were dropped: the file is read as [milter] user then.
write_config "$work/nobody.ini" "" # then the [milter] user, below
sed -i "s/^socket = .*/socket = inet:$aux_port@127.0.0.1\nuser = nobody\ngroup = nogroup/; /^accounting_file/d; /^policy_socket/d" "$work/nobody.ini"
"$tlsgate" -f -c "$work/nobody.ini" >"$work/nobody.out" 2>&1 &
pids+=($!)
nobody_pid=$!
tg_check "tlsgate as nobody started" tg_wait_for 10 "started" grep -q 'started: listening' "$work/nobody.out"
chmod 0600 "$work/nobody.ini"
kill -USR1 "$nobody_pid"
tg_check "reload of a file nobody cannot read: 'cannot read: Permission denied' logged" \
    tg_wait_for 10 "reload error" grep -q "config error: $work/nobody\\.ini: cannot read: Permission denied" "$work/nobody.out"
tg_check "... 'reload failed: 1 error ...; the previous policy stays in force'" \
    grep -q "reload failed: 1 error in $work/nobody\\.ini; the previous policy stays in force" "$work/nobody.out"
tg_check "... and the previous policy still decides (unknown client: 530 5.7.0)" \
    bash -c '"$@" | grep -q "^mail replycode 530 5.7.0"' _ \
    python3 "$here/lib/milter_driver.py" -s "inet:$aux_port@127.0.0.1" session --family U
kill "$nobody_pid"
wait "$nobody_pid" 2>/dev/null || true

section "== the milter protocol without an MTA (lib/milter_driver.py)"
# -f copies every line to stderr (kept in $work): the hostile values stay out of this output.
suite_start_tlsgate "$work/link.ini"
rc=0
python3 "$here/bypass-milter.py" --socket "inet:$milter_port@127.0.0.1" --syslog "$TG_SYSLOG_FILE" \
    --csv "$work/accounting.csv" --pid "$milter_pid" >"$work/bypass-milter.out" 2>&1 || rc=$?
cat "$work/bypass-milter.out"
if read -r p f < <(sed -nE 's/^bypass-milter: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$work/bypass-milter.out"); then
    tg_passed=$((tg_passed + p)) tg_failed=$((tg_failed + f))
fi
tg_check "bypass-milter.py ran to its end (exit $rc)" grep -q '^bypass-milter: ' "$work/bypass-milter.out"

section "== the policy service without an MTA (bypass-policy.py)"
rc=0
python3 "$here/bypass-policy.py" --port "$policy_port" --syslog "$TG_SYSLOG_FILE" \
    --pid "$milter_pid" >"$work/bypass-policy.out" 2>&1 || rc=$?
cat "$work/bypass-policy.out"
if read -r p f < <(sed -nE 's/^bypass-policy: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$work/bypass-policy.out"); then
    tg_passed=$((tg_passed + p)) tg_failed=$((tg_failed + f))
fi
tg_check "bypass-policy.py ran to its end (exit $rc)" grep -q '^bypass-policy: ' "$work/bypass-policy.out"

# An unknown client from the milter test tool OpenDKIM uses (over CONNECT with
# "unspec" where that step is negotiated), so the driver above is not the only witness.
cat >"$work/unspec.lua" <<LUA
conn = mt.connect("inet:$milter_port@127.0.0.1")
if conn == nil then error("cannot connect") end
-- tlsgate leaves CONNECT out where the MTA offers that: the client is then
-- unknown unless {client_addr} says otherwise, and miltertest sends none.
if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate") end
if not mt.test_option(conn, SMFIP_NOCONNECT) then
  if mt.conninfo(conn, "localhost", "unspec") ~= nil then error("conninfo") end
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect not continued") end
end
if mt.helo(conn, "client.example.test") ~= nil then error("helo") end
mt.macro(conn, SMFIC_MAIL, "{auth_type}", "Login", "{auth_authen}", "alice")
if mt.mailfrom(conn, "<sender@example.net>") ~= nil then error("mailfrom") end
if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("MAIL was not refused") end
mt.echo("unspec: MAIL refused")
mt.disconnect(conn)
LUA
mark=$(wc -l <"$TG_SYSLOG_FILE")
tg_check "miltertest, unknown family ('unspec') with AUTH Login: MAIL refused" \
    bash -c 'miltertest -s "$0" 2>&1 | grep -q "^unspec: MAIL refused$"' "$work/unspec.lua"
since() { tail -n "+$(($1 + 1))" "$TG_SYSLOG_FILE" | grep -Eq -- "$2"; }
tg_check "... logged client=unknown source=default reason=plaintext_auth auth=Login" \
    tg_wait_for 10 "miltertest line" since "$mark" \
    "tlsgate\[$milter_pid\]: NOQUEUE: action=reject reason=plaintext_auth client=unknown source=default sender_domain=example\.net tls=none auth=Login auth_user=alice cert=none reply=\"530 5\.7\.10 [^\"]*\" credentials_exposed=yes$"

section "== a real Postfix and hostile SMTP clients (lib/smtp_tricks.py)"
postfix_mark=$(wc -l <"$TG_SYSLOG_FILE")
MILTER=inet:127.0.0.1:$milter_port SMTP_LISTEN=127.0.0.1 pf_start
mkdir -p "$work/cases"
accepted=() refused=()
re() { sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"; }
# trick NAME ADDR EXPECT LOGRE -- smtp_tricks.py ARGS: EXPECT is accept or
# "CODE X.Y.Z"; LOGRE the rest of tlsgate's line after "tlsgate[PID]: ".
trick() {
    local name=$1 addr=$2 expect=$3 logre=$4 out mark ok=1 why=()
    shift 5
    out=$work/cases/$name.out
    mark=$(wc -l <"$TG_SYSLOG_FILE")
    python3 "$here/lib/smtp_tricks.py" --port "$SMTP_PORT" --local "$addr" \
        --body $'Subject: '"$name"$'\n\ntlsgate-case='"$name"$';\n' "$@" >"$out" 2>&1 || true
    local qid
    qid=$(sed -En 's/^<- 250 2\.0\.0 Ok: queued as ([0-9A-Z]+)$/\1/p' "$out" | tail -n 1)
    if [[ $expect == accept ]]; then
        [[ -n $qid ]] || { ok=0 why+=("not queued"); }
        logre=${logre//QID/$qid}
        accepted+=("$name")
    else
        grep -Eq "^<- $(re "$expect") " "$out" || { ok=0 why+=("no '$expect' reply"); }
        [[ -z $qid ]] || { ok=0 why+=("but it was queued"); }
        refused+=("$name")
    fi
    tg_wait_for 10 "tlsgate line for $name" since "$mark" "tlsgate\[$milter_pid\]: $logre" ||
        { ok=0 why+=("no line /$logre/"); }
    tg_check "$(printf '%-30s %-10s %s' "$name" "$expect" "from $addr")" test "$ok" = 1 || {
        printf '    %s\n' "${why[@]}"
        sed 's/^/    | /' "$out"
        tail -n "+$((mark + 1))" "$TG_SYSLOG_FILE" | grep 'tlsgate\[' | sed 's/^/    > /'
    }
}
user='auth_user=alice@example\.test cert=none'
sd='sender_domain=example\.net' # smtp_tricks.py's sender
tls13='tls=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ bits=[0-9]+'
tls12='tls=TLSv1\.2 cipher=[A-Z0-9-]+ bits=[0-9]+'
rej() { echo "NOQUEUE: action=reject reason=$1 client=$(re "$2") source=$3 $sd $4 reply=\"$(re "$5") [^\"]*\"${6:+ $6}\$"; }

echo "-- AUTH mechanism names in any case (Postfix passes {auth_type} as the client wrote it)"
trick auth-plain-lower 127.0.0.2 "530 5.7.10" \
    "$(rej plaintext_auth 127.0.0.2 mapped "tls=none auth=plain $user" "530 5.7.10" credentials_exposed=yes)" \
    -- --auth plain
trick auth-login-mixed 127.0.0.2 "530 5.7.10" \
    "$(rej plaintext_auth 127.0.0.2 mapped "tls=none auth=Login $user" "530 5.7.10" credentials_exposed=yes)" \
    -- --auth Login
# Issue 19: Postfix hands the client's mechanism name to Cyrus SASL, which
# authenticates PLAIN-PLUS as PLAIN; {auth_type} is then PLAIN-PLUS.
trick auth-plain-plus 127.0.0.2 "530 5.7.10" \
    "$(rej plaintext_auth 127.0.0.2 mapped "tls=none auth=PLAIN-PLUS $user" "530 5.7.10" credentials_exposed=yes)" \
    -- --auth PLAIN-PLUS
trick auth-login-plus-lower 127.0.0.2 "530 5.7.10" \
    "$(rej plaintext_auth 127.0.0.2 mapped "tls=none auth=login-plus $user" "530 5.7.10" credentials_exposed=yes)" \
    -- --auth login-plus
trick auth-plain-mixed-tls 127.0.0.2 accept "QID: action=accept client=127\.0\.0\.2 source=mapped $sd $tls13 auth=pLaIn $user\$" \
    -- --starttls --auth pLaIn

echo "-- STARTTLS without a second EHLO; AUTH before STARTTLS (RFC 3207 reset)"
trick no-2nd-ehlo-tls13 127.0.0.21 accept "QID: action=accept client=127\.0\.0\.21 source=tls13 $sd $tls13 auth=none cert=none\$" \
    -- --starttls --no-ehlo-after-tls
trick no-2nd-ehlo-tls12 127.0.0.21 "554 5.7.0" \
    "$(rej tls_version_too_low 127.0.0.21 tls13 "$tls12 auth=none cert=none" "554 5.7.0")" \
    -- --starttls --no-ehlo-after-tls --tls-version TLSv1.2
trick auth-plaintext-only 127.0.0.22 "530 5.7.10" \
    "$(rej plaintext_auth 127.0.0.22 auth-after-tls "tls=none auth=PLAIN $user" "530 5.7.10" credentials_exposed=yes)" \
    -- --auth PLAIN
trick auth-then-tls 127.0.0.22 accept "QID: action=accept client=127\.0\.0\.22 source=auth-after-tls $sd $tls13 auth=none cert=none\$" \
    -- --auth PLAIN --auth-before-tls --starttls
# Issue 19.5: EHLO, AUTH PLAIN, EHLO, STARTTLS, MAIL. Postfix forgot the AUTH at
# STARTTLS, but libmilter hands MAIL the second EHLO's {auth_type}: the session is
# not authenticated, and the password that crossed in clear is reported.
trick auth-ehlo-then-tls-no-ehlo 127.0.0.22 accept "QID: action=accept client=127\.0\.0\.22 source=auth-after-tls $sd $tls13 auth=none cert=none credentials_exposed=yes\$" \
    -- --auth PLAIN --auth-before-tls --ehlo-after-auth --starttls --no-ehlo-after-tls
trick auth-then-tls-no-ehlo 127.0.0.22 accept "QID: action=accept client=127\.0\.0\.22 source=auth-after-tls $sd $tls13 auth=none cert=none\$" \
    -- --auth LOGIN --auth-before-tls --starttls --no-ehlo-after-tls

echo "-- commands injected after STARTTLS in the same packet (CVE-2011-0411)"
trick inject-starttls 127.0.0.20 accept "QID: action=accept client=127\.0\.0\.20 source=starttls $sd $tls13 auth=none cert=none\$" \
    -- --starttls --inject-after-starttls
tg_check "inject-starttls: Postfix discarded the injected commands (no reply over TLS)" \
    grep -q '^=== no reply to the injected commands: they were discarded$' "$work/cases/inject-starttls.out"
trick inject-tls12 127.0.0.21 "554 5.7.0" \
    "$(rej tls_version_too_low 127.0.0.21 tls13 "$tls12 auth=none cert=none" "554 5.7.0")" \
    -- --starttls --tls-version TLSv1.2 --inject-after-starttls
tg_check "tlsgate never judged a plaintext MAIL from 127.0.0.20/21 (the injected one)" \
    bash -c '! tail -n "+$(($2 + 1))" "$1" | grep -E "tlsgate\[$0\]: .*client=127\.0\.0\.2[01] .*tls=none"' \
    "$milter_pid" "$TG_SYSLOG_FILE" "$postfix_mark"

echo "-- pipelining (RFC 2920): MAIL, RCPT, DATA in one write"
trick pipeline-tls13 127.0.0.21 accept "QID: action=accept client=127\.0\.0\.21 source=tls13 $sd $tls13 auth=none cert=none\$" \
    -- --starttls --pipeline
trick pipeline-tls12 127.0.0.21 "554 5.7.0" \
    "$(rej tls_version_too_low 127.0.0.21 tls13 "$tls12 auth=none cert=none" "554 5.7.0")" \
    -- --starttls --tls-version TLSv1.2 --pipeline
trick pipeline-plaintext 127.0.0.20 "530 5.7.0" \
    "$(rej starttls_required 127.0.0.20 starttls "tls=none auth=none cert=none" "530 5.7.0")" \
    -- --pipeline

echo "-- delivery"
delivered() { grep -rlqF -- "tlsgate-case=$1;" "$TG_PF_DIR/mail" 2>/dev/null; }
all_delivered() { local n; for n in "${accepted[@]}"; do delivered "$n" || return 1; done; }
tg_wait_for 30 "deliveries" all_delivered || true
missing=() leaked=()
for n in "${accepted[@]}"; do delivered "$n" || missing+=("$n"); done
for n in "${refused[@]}"; do delivered "$n" && leaked+=("$n"); done
tg_check "all ${#accepted[@]} accepted messages delivered${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} = 0
tg_check "none of the ${#refused[@]} refused messages delivered${leaked:+ (LEAKED: ${leaked[*]})}" test ${#leaked[@]} = 0
injected=$({ grep -rlF 'tlsgate-injected;' "$TG_PF_DIR/mail" 2>/dev/null || true; } | wc -l)
tg_check "no injected message delivered ($injected)" test "$injected" = 0

echo "-- a symlinked configuration is followed on reload"
sed 's/^\(networks = 127\.0\.0\.20\)$/\1\nrequire_client_cert = yes/' "$work/good.ini" >"$work/changed.ini"
ln -sfn changed.ini "$work/link.ini"
kill -USR1 "$milter_pid"
tg_check "the symlink re-pointed and SIGUSR1: reloaded" \
    tg_syslog_wait "tlsgate\[$milter_pid\]: reloaded $work/link\.ini: 8 sources" 10
trick symlink-reloaded 127.0.0.20 "530 5.7.0" \
    "$(rej client_cert_required 127.0.0.20 starttls "$tls13 auth=none cert=none" "530 5.7.0")" \
    -- --starttls
tg_check "tlsgate still running" kill -0 "$milter_pid"

echo "(bypass: $((SECONDS - started)) s)"
suite_end
