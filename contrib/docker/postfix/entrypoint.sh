#!/bin/bash
# Configure Postfix from the environment, then run it in the foreground.
# main.cf and master.cf are rewritten from scratch at every start, so a
# restarted container never keeps settings from an earlier run.
#
# Environment (defaults in brackets):
#   SMTP_PORT       port of the smtpd listeners [10025]
#   SMTP_LISTEN     addresses to listen on ["127.0.0.1 [::1]"]; [::1] is
#                   dropped when the kernel has no IPv6
#   SMTPS_PORT      also SMTPS (implicit TLS, RFC 8314) on this port [none]
#   MILTER          smtpd_milters value, e.g. inet:127.0.0.1:8891 [none]
#   POLICY          a policy service (check_policy_service) at RCPT and end of data,
#                   e.g. inet:127.0.0.1:10040 [none]
#   MILTER_DEFAULT_ACTION  [tempfail]
#   MAIL_DOMAIN     domain delivered locally to Maildirs [example.test]
#   MYHOSTNAME      [mx.$MAIL_DOMAIN]
#   SASL_USERS      space-separated user@realm:password entries put in sasldb
#                   (user alice@example.test logs in as "alice@example.test")
#   SASL_MECHS      [PLAIN LOGIN]
#   TLS_DIR         [/etc/tlsgate/tls] holding server.crt + server.key (RSA)
#                   and optionally server-ec.crt + server-ec.key (ECDSA) and
#                   ca.crt (to verify client certificates). Without server.crt
#                   a self-signed certificate is made at start.
#   TLS_ASK_CCERT   yes/no: ask clients for a certificate [no]
#   MAILLOG_FILE    Postfix log [/dev/stdout]; mount a directory under /var
#                   (e.g. /var/log/tlsgate) to read it from the host
#   MAIL_DIR        Maildir root [/var/mail/tlsgate]: mail for any
#                   address @$MAIL_DOMAIN lands in $MAIL_DIR/$MAIL_DOMAIN/new/,
#                   relayed mail (authenticated clients) in $MAIL_DIR/relayed/
#   POSTCONF_EXTRA  more main.cf lines "name = value", one a line, applied last
set -euo pipefail

SMTP_PORT=${SMTP_PORT:-10025}
SMTP_LISTEN=${SMTP_LISTEN:-127.0.0.1 [::1]}
MILTER=${MILTER:-}
POLICY=${POLICY:-}
SMTPS_PORT=${SMTPS_PORT:-}
MILTER_DEFAULT_ACTION=${MILTER_DEFAULT_ACTION:-tempfail}
MAIL_DOMAIN=${MAIL_DOMAIN:-example.test}
MYHOSTNAME=${MYHOSTNAME:-mx.$MAIL_DOMAIN}
SASL_USERS=${SASL_USERS:-}
SASL_MECHS=${SASL_MECHS:-PLAIN LOGIN}
TLS_DIR=${TLS_DIR:-/etc/tlsgate/tls}
TLS_ASK_CCERT=${TLS_ASK_CCERT:-no}
MAILLOG_FILE=${MAILLOG_FILE:-/dev/stdout}
MAIL_DIR=${MAIL_DIR:-/var/mail/tlsgate}
POSTCONF_EXTRA=${POSTCONF_EXTRA:-}

say() { echo "tlsgate-postfix: $*" >&2; }

# --- listeners -------------------------------------------------------------
listen=()
for a in $SMTP_LISTEN; do
    if [[ $a == \[*:*\] ]] && ! grep -q . /proc/net/if_inet6 2>/dev/null; then
        say "no IPv6 in this kernel/namespace: not listening on $a"
        continue
    fi
    listen+=("$a")
done
((${#listen[@]})) || { say "nothing to listen on"; exit 1; }

# --- TLS material ------------------------------------------------------------
# Postfix reads keys as root before dropping privileges: a 0600 mount is fine.
if [[ ! -s $TLS_DIR/server.crt ]]; then
    say "no $TLS_DIR/server.crt: making a self-signed certificate"
    TLS_DIR=/etc/postfix/tls-selfsigned
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$MYHOSTNAME" \
        -addext "subjectAltName=DNS:$MYHOSTNAME,DNS:localhost,IP:127.0.0.1,IP:::1" \
        -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.crt" 2>/dev/null
fi
chain="$TLS_DIR/server.key, $TLS_DIR/server.crt"
if [[ -s $TLS_DIR/server-ec.crt && -s $TLS_DIR/server-ec.key ]]; then
    chain+=", $TLS_DIR/server-ec.key, $TLS_DIR/server-ec.crt"
fi

# --- SASL (Cyrus, sasldb) ----------------------------------------------------
# Debian's Postfix is built to read smtpd.conf from /etc/postfix/sasl/ (see
# `postconf -d cyrus_sasl_config_path`), not /usr/lib/sasl2.
mkdir -p /etc/postfix/sasl
cat >/etc/postfix/sasl/smtpd.conf <<EOF
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
# smtpd reads sasldb as user postfix at AUTH time. Group "sasl" does not help:
# Postfix drops all supplementary groups (set_ugid() -> setgroups(1, &gid)).
touch /etc/sasldb2
chown root:postfix /etc/sasldb2
chmod 0640 /etc/sasldb2

# --- Maildir delivery --------------------------------------------------------
mkdir -p "$MAIL_DIR"
chown vmail:vmail "$MAIL_DIR"
dom_re=${MAIL_DOMAIN//./\\.}
# One Maildir per domain: virtual(8) refuses regexp substitution ($1) in
# virtual_mailbox_maps, so no per-user directory without listing users. Find a
# message by its Delivered-To:/Received: headers (the latter has the queue id).
cat >/etc/postfix/vmailbox <<EOF
/@${dom_re}\$/ ${MAIL_DOMAIN}/
/@/ relayed/
EOF

# --- main.cf -----------------------------------------------------------------
# shellcheck disable=SC2016  # $mydomain etc. are for Postfix to expand
settings=(
    compatibility_level=3.6
    "myhostname=$MYHOSTNAME" "mydomain=$MAIL_DOMAIN" 'myorigin=$mydomain'
    inet_interfaces=loopback-only inet_protocols=all
    # Nobody may relay by address, only SASL-authenticated clients.
    mynetworks=
    'smtpd_relay_restrictions=permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination'
    # No DNS: the test network is loopback only (client name is "unknown").
    smtpd_peername_lookup=no smtp_dns_support_level=disabled
    # Nothing is delivered by local(8); LOCAL@$MAIL_DOMAIN goes to a Maildir.
    mydestination= local_recipient_maps= alias_maps= alias_database=
    "virtual_mailbox_domains=$MAIL_DOMAIN" "virtual_mailbox_base=$MAIL_DIR"
    virtual_mailbox_maps=regexp:/etc/postfix/vmailbox
    virtual_uid_maps=static:5000 virtual_gid_maps=static:5000
    # Relayed (authenticated) mail is kept in a Maildir too, never sent out.
    default_transport=virtual relay_transport=virtual
    "maillog_file=$MAILLOG_FILE"
    'smtpd_banner=$myhostname ESMTP tlsgate-test' biff=no
    # TLS is offered, never required, and AUTH is offered before it: enforcing
    # is tlsgate's job, and the tests need the insecure paths to be possible.
    smtpd_tls_security_level=may smtpd_tls_auth_only=no
    "smtpd_tls_chain_files=$chain" smtpd_tls_loglevel=1
    smtpd_tls_received_header=yes "smtpd_tls_ask_ccert=$TLS_ASK_CCERT"
    smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd
    smtpd_sasl_security_options=noanonymous smtpd_sasl_authenticated_header=yes
    "smtpd_milters=$MILTER" non_smtpd_milters= milter_protocol=6
    "milter_default_action=$MILTER_DEFAULT_ACTION"
)
: >/etc/postfix/main.cf
postconf -e "${settings[@]}"
if [[ -s $TLS_DIR/ca.crt ]]; then
    postconf -e "smtpd_tls_CAfile=$TLS_DIR/ca.crt"
fi
# As tlsgate's README shows it: first in the recipient restrictions (relaying is
# smtpd_relay_restrictions' job here), and at the end of data for the queue id.
# Postfix's smtpd_policy_service_default_action (451 4.3.5) when it does not answer.
if [[ -n $POLICY ]]; then
    postconf -e "smtpd_recipient_restrictions=check_policy_service $POLICY" \
        "smtpd_end_of_data_restrictions=check_policy_service $POLICY"
fi
while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    postconf -e "$line"
done <<<"$POSTCONF_EXTRA"

# --- master.cf ---------------------------------------------------------------
cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
# Debian runs smtpd & co chrooted in /var/spool/postfix and its init script
# copies /etc/sasldb2, resolv.conf etc. into the jail; `postfix start-fg`
# skips that script, so simply run every service unchrooted.
postconf -F '*/*/chroot = n'
postconf -MX smtp/inet                 # no port 25 on the host network
services=()
for a in "${listen[@]}"; do
    services+=("$a:$SMTP_PORT/inet=$a:$SMTP_PORT inet n - n - - smtpd")
    # SMTPS: TLS from the first byte, then the same smtpd (milters, SASL) as above.
    [[ -n $SMTPS_PORT ]] &&
        services+=("$a:$SMTPS_PORT/inet=$a:$SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes")
done
postconf -M "${services[@]}"
# Debian's master.cf has the postlog service that maillog_file needs.

# start-fg runs `postfix-script check-fatal` itself; the full `postfix check`
# would add most of a second to every start.
say "listening on ${listen[*]} port $SMTP_PORT${SMTPS_PORT:+ (SMTPS $SMTPS_PORT)}, milter=${MILTER:-none}, policy=${POLICY:-none}"
exec postfix start-fg
