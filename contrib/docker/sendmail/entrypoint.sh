#!/bin/bash
# Configure Sendmail from the environment, then run it in the foreground.
# sendmail.mc and sendmail.cf are rewritten from scratch at every start, so a
# restarted container never keeps settings from an earlier run.
#
# Environment (defaults in brackets):
#   SMTP_PORT       port of the SMTP listeners [10027]
#   SMTPS_PORT      also SMTPS (implicit TLS, RFC 8314) on this port [none]
#   SMTP_LISTEN     addresses to listen on ["127.0.0.1 [::1]"]; [::1] is
#                   dropped when the kernel has no IPv6
#   MILTER          the milter's socket in Sendmail's syntax, e.g.
#                   inet:8891@127.0.0.1 [none]
#   MILTER_FLAGS    the filter's F= flag: T (tempfail when the milter is
#                   unreachable), R (reject), empty (accept unchecked) [T]
#   MILTER_TIMEOUTS the filter's T= equate [C:10s;S:10s;R:10s;E:30s]
#   MAIL_DOMAIN     domain delivered locally [example.test]
#   MYHOSTNAME      Sendmail's own name, $j [mx.$MAIL_DOMAIN]
#   SASL_USERS      space-separated user@realm:password entries put in sasldb
#                   (user alice@example.test logs in as "alice@example.test")
#   SASL_MECHS      [PLAIN LOGIN]
#   AUTH_OPTIONS    Sendmail's AuthOptions [A]; "p" would hide PLAIN/LOGIN
#                   before STARTTLS (what production should do), but the tests
#                   need AUTH in clear to be possible
#   TLS_DIR         [/etc/tlsgate/tls] holding server.crt + server.key and
#                   optionally ca.crt (the CA client certificates must chain
#                   to). Without server.crt a self-signed one is made at start.
#   TLS_ASK_CCERT   yes/no: ask clients for a certificate [yes, as Sendmail
#                   does by default]; the result is in the {verify} macro
#   MAILLOG_FILE    where Sendmail's syslog lines go [/dev/stdout], through an
#                   rsyslogd in the container; mount a directory to read it
#                   from the host. When /dev/log is already a socket (the
#                   host's syslog mounted in), that is used instead.
#   MAIL_DIR        mail root [/var/mail/tlsgate]: every message delivered to
#                   a local user lands in $MAIL_DIR/$MAIL_DOMAIN/new/ (one file
#                   per message and recipient, Maildir style)
#   MC_EXTRA        more sendmail.mc lines, appended before the mailers
set -euo pipefail

SMTP_PORT=${SMTP_PORT:-10027}
SMTPS_PORT=${SMTPS_PORT:-}
SMTP_LISTEN=${SMTP_LISTEN:-127.0.0.1 [::1]}
MILTER=${MILTER:-}
MILTER_FLAGS=${MILTER_FLAGS-T}
MILTER_TIMEOUTS=${MILTER_TIMEOUTS:-C:10s;S:10s;R:10s;E:30s}
MAIL_DOMAIN=${MAIL_DOMAIN:-example.test}
MYHOSTNAME=${MYHOSTNAME:-mx.$MAIL_DOMAIN}
SASL_USERS=${SASL_USERS:-}
SASL_MECHS=${SASL_MECHS:-PLAIN LOGIN}
AUTH_OPTIONS=${AUTH_OPTIONS-A}
TLS_DIR=${TLS_DIR:-/etc/tlsgate/tls}
TLS_ASK_CCERT=${TLS_ASK_CCERT:-yes}
MAILLOG_FILE=${MAILLOG_FILE:-/dev/stdout}
MAIL_DIR=${MAIL_DIR:-/var/mail/tlsgate}
MC_EXTRA=${MC_EXTRA:-}

say() { echo "tlsgate-sendmail: $*" >&2; }

# --- syslog --------------------------------------------------------------------
# Sendmail logs only through syslog(3), i.e. /dev/log.
if [[ ! -S /dev/log ]]; then
    mkdir -p "$(dirname "$MAILLOG_FILE")"
    cat >/etc/rsyslog-tlsgate.conf <<EOF
module(load="imuxsock" SysSock.RateLimit.Interval="0")
template(name="tg" type="string"
  string="%timegenerated:::date-rfc3339% %syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n")
*.* action(type="omfile" file="$MAILLOG_FILE" template="tg")
EOF
    rm -f /run/rsyslogd.pid
    rsyslogd -f /etc/rsyslog-tlsgate.conf -i /run/rsyslogd.pid
    for _ in $(seq 50); do [[ -S /dev/log ]] && break; sleep 0.1; done
fi

# --- name ------------------------------------------------------------------------
# Sendmail resolves its own name at start ("My unqualified host name ...
# unknown; sleeping for retry" otherwise) and, with "hosts files" only, never
# asks DNS: there is none here.
if ! grep -qw "$MYHOSTNAME" /etc/hosts; then
    echo "127.0.0.1 $MYHOSTNAME ${MYHOSTNAME%%.*}" >>/etc/hosts
fi
printf 'hosts\tfiles\npasswd\tfiles\naliases\tfiles\n' >/etc/mail/service.switch

# --- listeners ---------------------------------------------------------------
daemons=()
for a in $SMTP_LISTEN; do
    if [[ $a == \[*:*\] ]]; then
        if ! grep -q . /proc/net/if_inet6 2>/dev/null; then
            say "no IPv6 in this kernel/namespace: not listening on $a"
            continue
        fi
        a=${a#[} a=${a%]}
        daemons+=("DAEMON_OPTIONS(\`Family=inet6, Name=MTA-v6-${#daemons[@]}, Port=$SMTP_PORT, Addr=$a')dnl")
        [[ -n $SMTPS_PORT ]] &&
            daemons+=("DAEMON_OPTIONS(\`Family=inet6, Name=TLSMTA-v6-${#daemons[@]}, Port=$SMTPS_PORT, Addr=$a, M=s')dnl")
    else
        daemons+=("DAEMON_OPTIONS(\`Family=inet, Name=MTA-v4-${#daemons[@]}, Port=$SMTP_PORT, Addr=$a')dnl")
        # M=s: SMTPS, TLS from the first byte (RFC 8314).
        [[ -n $SMTPS_PORT ]] &&
            daemons+=("DAEMON_OPTIONS(\`Family=inet, Name=TLSMTA-v4-${#daemons[@]}, Port=$SMTPS_PORT, Addr=$a, M=s')dnl")
    fi
done
((${#daemons[@]})) || { say "nothing to listen on"; exit 1; }

# --- TLS material ------------------------------------------------------------
# Sendmail refuses a key file that group or others can read (unless
# DontBlameSendmail says otherwise): the test material is 0600 root.
if [[ ! -s $TLS_DIR/server.crt ]]; then
    say "no $TLS_DIR/server.crt: making a self-signed certificate"
    TLS_DIR=/etc/mail/tls-selfsigned
    mkdir -p "$TLS_DIR"
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$MYHOSTNAME" \
        -addext "subjectAltName=DNS:$MYHOSTNAME,DNS:localhost,IP:127.0.0.1,IP:::1" \
        -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.crt" 2>/dev/null)
fi
tls=(
    "define(\`confSERVER_CERT', \`$TLS_DIR/server.crt')dnl"
    "define(\`confSERVER_KEY', \`$TLS_DIR/server.key')dnl"
)
if [[ -s $TLS_DIR/ca.crt ]]; then
    tls+=("define(\`confCACERT', \`$TLS_DIR/ca.crt')dnl"
        "define(\`confCACERT_PATH', \`$TLS_DIR')dnl")
fi
# V: do not ask for a client certificate (Sendmail asks by default).
[[ $TLS_ASK_CCERT == yes ]] || tls+=("define(\`confTLS_SRV_OPTIONS', \`V')dnl")

# --- SASL (Cyrus, sasldb) ----------------------------------------------------
# Debian's Sendmail reads Sendmail.conf from /usr/lib/sasl2 (Debian's own
# setup links it to /etc/mail/sasl/Sendmail.conf.2).
cat >/usr/lib/sasl2/Sendmail.conf <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: /etc/sasldb2
mech_list: $SASL_MECHS
EOF
rm -f /etc/sasldb2
for entry in $SASL_USERS; do
    userrealm=${entry%%:*} pass=${entry#*:}
    user=${userrealm%@*} realm=${userrealm#*@}
    [[ $userrealm == *@* ]] || realm=$MYHOSTNAME
    printf '%s' "$pass" | saslpasswd2 -p -c -f /etc/sasldb2 -u "$realm" "$user"
done
# Sendmail's SMTP server reads sasldb as root; it refuses a group- or
# world-writable file (GroupWritableSASLDBFile) and a group-readable one
# unless GroupReadableSASLDBFile.
touch /etc/sasldb2
chown root:root /etc/sasldb2
chmod 0600 /etc/sasldb2

# --- delivery ----------------------------------------------------------------
# The local mailer is a script that keeps each message as a file.
mkdir -p "$MAIL_DIR/$MAIL_DOMAIN/tmp" "$MAIL_DIR/$MAIL_DOMAIN/new"
cat >/usr/local/sbin/tlsgate-deliver <<EOF
#!/bin/sh
# tlsgate-deliver USER: the message on stdin into $MAIL_DIR/$MAIL_DOMAIN/new/.
set -e
f="\$(date +%s).\$\$.\$1"
cat >"$MAIL_DIR/$MAIL_DOMAIN/tmp/\$f"
mv "$MAIL_DIR/$MAIL_DOMAIN/tmp/\$f" "$MAIL_DIR/$MAIL_DOMAIN/new/\$f"
EOF
chmod 0755 /usr/local/sbin/tlsgate-deliver
echo "$MAIL_DOMAIN" >/etc/mail/local-host-names
printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >/etc/aliases

# --- sendmail.mc -------------------------------------------------------------
milter=()
if [[ -n $MILTER ]]; then
    milter=("INPUT_MAIL_FILTER(\`tlsgate', \`S=$MILTER, F=$MILTER_FLAGS, T=$MILTER_TIMEOUTS')dnl")
fi
{
    cat <<EOF
divert(-1)dnl
# Written by $0 at container start.
divert(0)dnl
include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`tlsgate test')dnl
OSTYPE(\`debian')dnl
define(\`confDOMAIN_NAME', \`$MYHOSTNAME')dnl
define(\`confTRUSTED_USER', \`smmta')dnl
dnl No DNS: the test network is loopback only.
define(\`confSERVICE_SWITCH_FILE', \`/etc/mail/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`use_cw_file')dnl
dnl A busy test machine must not make Sendmail refuse or queue.
define(\`confQUEUE_LA', \`1000')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confMIN_FREE_BLOCKS', \`0')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings,noexpn,novrfy')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j tlsgate-test Sendmail \$v')dnl
undefine(\`confHOST_STATUS_DIRECTORY')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`confMILTER_LOG_LEVEL', \`2')dnl
define(\`ALIAS_FILE', \`/etc/aliases')dnl
EOF
    printf '%s\n' "${daemons[@]}" "${tls[@]}"
    cat <<EOF
dnl SMTP AUTH: offered before STARTTLS unless AUTH_OPTIONS has p.
define(\`confAUTH_MECHANISMS', \`$SASL_MECHS')dnl
TRUST_AUTH_MECH(\`$SASL_MECHS')dnl
define(\`confAUTH_OPTIONS', \`$AUTH_OPTIONS')dnl
EOF
    printf '%s\n' "${milter[@]}"
    printf '%s\n' "$MC_EXTRA"
    cat <<EOF
define(\`LOCAL_MAILER_PATH', \`/usr/local/sbin/tlsgate-deliver')dnl
define(\`LOCAL_MAILER_ARGS', \`tlsgate-deliver \$u')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
} >/etc/mail/sendmail.mc
m4 /etc/mail/sendmail.mc >/etc/mail/sendmail.cf
sendmail -bi >/dev/null # aliases.db

say "listening on ${SMTP_LISTEN} port $SMTP_PORT, milter=${MILTER:-none}"
# -bD: daemon in the foreground; -q5m: retry the queue every 5 minutes.
# The full path: Sendmail re-executes itself from argv[0] on SIGHUP.
exec /usr/sbin/sendmail -bD -q5m
