#!/usr/bin/env python3
"""Bypass attempts at the milter protocol, with lib/milter_driver.py as the MTA:
what no MTA in the test bed sends, but a future MTA, a misconfiguration or a
hostile network value could. Run by bypass.sh, against the tlsgate it started with
the configuration written there (the addresses below are its sources).

Checks, each printed "ok"/"FAIL":
  - IPv4-mapped IPv6 clients (::ffff:a.b.c.d, in any spelling) get the IPv4 rule
    and are logged as IPv4;
  - a client of unknown address family ('U') or on a unix socket ('L') is
    governed by [source default] and logged client=unknown, never by a loopback rule;
  - AUTH mechanism names in any case are PLAIN/LOGIN;
  - hostile macro values (empty, 10 KB, control characters, quotes, newlines,
    "=", CSV and syslog look-alikes, printf formats, bytes that are not UTF-8) in
    every macro tlsgate reads: never a crash, never an accept where the policy
    refuses, always exactly one syslog line that parses as key=value pairs with the
    keys tlsgate writes, and one CSV row (strict RFC 4180, UTF-8) per decision;
  - a RCPT the MTA sends after a refused MAIL gets no "continue";
  - issue 19: PLAIN-PLUS and other secret-bearing mechanisms, {tls_version} values
    that name no TLS version, a stale HELO-stage {auth_type}, RCPT after a refused
    RCPT, a renamed Postfix;
  - a macro packet larger than libmilter takes closes that connection only.
"""

import argparse
import itertools
import csv
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from checks import Checks  # noqa: E402
from decision_line import parse_decision  # noqa: E402
from milter_driver import (OFFERED_PROTOCOL, SMFIP_NOCONNECT, SMFIP_NORCPT,  # noqa: E402
                           Milter, MilterError, run_session)

ap = argparse.ArgumentParser()
ap.add_argument("--socket", required=True)
ap.add_argument("--syslog", required=True)
ap.add_argument("--csv", required=True)
ap.add_argument("--pid", required=True)
a = ap.parse_args()

check = Checks(12)



# --- tlsgate's syslog lines ---------------------------------------------------------
LINE_RE = re.compile(rb"^\S+ (\w+)\.(\w+) tlsgate\[" + a.pid.encode() + rb"\]: (.*)$")
DAEMON_PREFIXES = (b"started: ", b"reloaded ", b"config error: ", b"reload failed: ",
                   b"stopped", b"internal error", b"the MTA ", b"mta: ", b"accounting_file ")


def tlsgate_lines():
    with open(a.syslog, "rb") as f:
        out = []
        # Only complete lines: rsyslog may be half-way through writing the last one.
        for raw in f.read().split(b"\n")[:-1]:
            m = LINE_RE.match(raw)
            if m:
                out.append((m.group(1), m.group(2), m.group(3)))
        return out


def decisions():
    return [l for l in tlsgate_lines() if not l[2].startswith(DAEMON_PREFIXES)]


def wait_decisions(n_before, want=1, timeout=10.0):
    """The decision lines logged after the first n_before, once `want` are there."""
    deadline = time.monotonic() + timeout
    while True:
        d = decisions()
        if len(d) >= n_before + want or time.monotonic() > deadline:
            return d[n_before:]
        time.sleep(0.003)


def session(family="4", addr="127.0.0.1", macros=None, protocol=None, **kw):
    m = Milter(a.socket, timeout=5)
    m.negotiate(protocol=OFFERED_PROTOCOL if protocol is None else protocol)
    try:
        res = run_session(m, family, addr, macros=macros, **kw)
    finally:
        m.quit()
    return res


def outcome(res):
    """'accept' (EOM reached with continue/accept), or the refusing reply's text."""
    stage, r = res[-1]
    if stage == "eom" and r is not None and r.kind in ("continue", "accept"):
        return "accept"
    return f"{stage}: {r}"


def one_decision(desc, n_before, expect_action, client, source, extra=None):
    lines = wait_decisions(n_before, 1)
    time.sleep(0.002)
    lines = decisions()[n_before:]
    if len(lines) != 1:
        check(desc, False, f"{len(lines)} decision lines: " + repr(lines[:3]))
        return None
    fac, sev, msg = lines[0]
    parsed = parse_decision(msg)
    if parsed is None:
        check(desc, False, b"unparseable line: " + msg[:300])
        return None
    qid, f = parsed
    want = {"action": expect_action, "client": client, "source": source, **(extra or {})}
    bad = {k: (f.get(k), v) for k, v in want.items()
           if f.get(k) != (v.encode() if isinstance(v, str) else v)}
    check(desc, not bad, f"fields (got, want): {bad}\nline: {msg[:300]!r}")
    return f


# Good TLS 1.3 macros as Postfix sends them (no client certificate).
TLS13 = {"{tls_version}": "TLSv1.3", "{cipher}": "TLS_AES_256_GCM_SHA384", "{cipher_bits}": "256"}
POSTFIX = {"v": "Postfix 3.7.11", "{daemon_name}": "mx.example.test"}


def macros_for(connect=None, tls=None, auth=None, qid=None):
    # Like Postfix, the connection's macros (v, {daemon_name}) at every stage that asks
    # for them: with CONNECT left out, tlsgate asks for v at HELO and MAIL.
    conn = {**POSTFIX, **(connect or {})}
    tls = tls or {}
    mail = {**conn, **tls, **(auth or {})}
    if qid:
        mail["{i}"] = qid
    return {"connect": conn, "helo": {**conn, **tls}, "mail": mail,
            "rcpt": dict(mail), "eom": {"{i}": qid} if qid else {}}


qid_counter = 0


def next_qid():
    global qid_counter
    qid_counter += 1
    return f"BYPASS{qid_counter:05d}"


# --- 1. IPv4-mapped IPv6 -------------------------------------------------------------
print("== IPv4-mapped IPv6 clients get the IPv4 rule")
NO_NOCONNECT = OFFERED_PROTOCOL & ~SMFIP_NOCONNECT
for spelling, protocol in itertools.product(
        ("::ffff:127.0.0.2", "::FFFF:127.0.0.2", "::ffff:7f00:2", "0:0:0:0:0:ffff:127.0.0.2",
         "IPv6:::ffff:127.0.0.2"), (NO_NOCONNECT, OFFERED_PROTOCOL)):
    n = len(decisions())
    res = session("6", spelling, macros_for(auth={"{auth_type}": "PLAIN",
                                                  "{auth_authen}": "alice"}), protocol=protocol)
    spelling += " (CONNECT)" if protocol == NO_NOCONNECT else " ({client_addr})"
    check(f"{spelling}: plaintext AUTH PLAIN refused at MAIL like 127.0.0.2 ({outcome(res)})",
          outcome(res).startswith("mail: replycode 530 5.7.10"))
    one_decision(f"{spelling}: logged client=127.0.0.2 source=mapped reason=plaintext_auth", n,
                 "reject", "127.0.0.2", "mapped", {"reason": "plaintext_auth"})
n = len(decisions())
q = next_qid()
res = session("6", "::ffff:127.0.0.9", macros_for(qid=q))
check(f"::ffff:127.0.0.9 plaintext: accepted by the loopback rule ({outcome(res)})",
      outcome(res) == "accept")
one_decision("::ffff:127.0.0.9: logged client=127.0.0.9 source=loopback", n, "accept",
             "127.0.0.9", "loopback")
# Not mapped: the deprecated IPv4-compatible form is an IPv6 address like any other.
n = len(decisions())
res = session("6", "::127.0.0.2", macros_for())
check(f"::127.0.0.2 (IPv4-compatible, not mapped) is IPv6: [source default] ({outcome(res)})",
      outcome(res).startswith("mail: replycode 530 5.7.0"))
one_decision("::127.0.0.2: logged as IPv6, source=default", n, "reject", "::127.0.0.2", "default")

# --- 2. unknown address family ---------------------------------------------------------
print("== unknown address family: [source default], never a loopback rule")
# Each twice: over CONNECT (an MTA that does not let tlsgate leave it out) and
# with CONNECT left out (the client then as {client_addr}: none for these).
for (fam, addr, what), protocol in itertools.product(
        (("U", "", "unknown family ('U', no address)"),
         ("L", "/var/spool/postfix/public/cleanup", "unix socket ('L')"),
         ("L", "127.0.0.9", "unix socket named like a loopback address")),
        (NO_NOCONNECT, OFFERED_PROTOCOL)):
    what += " over CONNECT" if protocol == NO_NOCONNECT else ", CONNECT left out"
    n = len(decisions())
    res = session(fam, addr, macros_for(), protocol=protocol)
    check(f"{what}, plaintext: 530 5.7.0 of [source default] ({outcome(res)})",
          outcome(res).startswith("mail: replycode 530 5.7.0"))
    one_decision(f"{what}: logged client=unknown source=default", n, "reject", "unknown",
                 "default", {"reason": "starttls_required"})
n = len(decisions())
q = next_qid()
res = session("U", "", macros_for(tls=TLS13, qid=q))
check(f"unknown family with TLS 1.3: accepted by [source default] ({outcome(res)})",
      outcome(res) == "accept")
one_decision("unknown family with TLS: logged with its queue id", n, "accept", "unknown",
             "default", {"tls": "TLSv1.3"})

# --- 3. AUTH mechanism names in any case ----------------------------------------------
print("== AUTH mechanism names in any case")
for mech in ("plain", "Plain", "pLaIn", "login", "Login", "LOGIN"):
    n = len(decisions())
    res = session("4", "127.0.0.2", macros_for(auth={"{auth_type}": mech,
                                                     "{auth_authen}": "alice"}))
    check(f"{mech} in plaintext from [source mapped]: 530 5.7.10 ({outcome(res)})",
          outcome(res).startswith("mail: replycode 530 5.7.10 Encryption needed for PLAIN/LOGIN"))
    one_decision(f"{mech}: reason=plaintext_auth credentials_exposed=yes auth={mech}", n,
                 "reject", "127.0.0.2", "mapped",
                 {"reason": "plaintext_auth", "auth": mech, "credentials_exposed": "yes"})
for mech in ("CRAM-MD5", "plain ", "PLAIN\n", "XPLAIN"):
    n = len(decisions())
    res = session("4", "127.0.0.2", macros_for(auth={"{auth_type}": mech,
                                                     "{auth_authen}": "alice"}))
    check(f"{mech!r} in plaintext: not PLAIN/LOGIN, still refused: auth_before_starttls "
          f"({outcome(res)})", outcome(res).startswith("mail: replycode 530 5.7.10 Encryption needed: authenticate after STARTTLS"))
    one_decision(f"{mech!r}: no credentials_exposed", n, "reject", "127.0.0.2", "mapped",
                 {"reason": "auth_before_starttls"})

# --- 3b. issue 19: values that passed or misread the policy --------------------------
print("== issue 19: -PLUS mechanisms, bogus TLS versions, stale AUTH, repeated RCPT, MTA name")
for mech in ("PLAIN-PLUS", "plain-plus", "LOGIN-PLUS", "XOAUTH2", "OAUTHBEARER"):
    n = len(decisions())
    res = session("4", "127.0.0.2", macros_for(auth={"{auth_type}": mech,
                                                     "{auth_authen}": "alice"}))
    check(f"{mech} in plaintext from [source mapped]: 530 5.7.10 ({outcome(res)})",
          outcome(res).startswith("mail: replycode 530 5.7.10 Encryption needed for PLAIN/LOGIN"))
    one_decision(f"{mech}: reason=plaintext_auth credentials_exposed=yes", n, "reject",
                 "127.0.0.2", "mapped",
                 {"reason": "plaintext_auth", "auth": mech, "credentials_exposed": "yes"})

# Values Postfix's milter_macro_defaults could supply: none of them is TLS.
for desc, tls, logged_tls in (
        ("{tls_version}=NONE", {"{tls_version}": "NONE", "{cipher_bits}": "0"}, "NONE"),
        ("{tls_version}=(NONE)", {"{tls_version}": "(NONE)"}, "(NONE)"),
        ("{tls_version}=none", {"{tls_version}": "none"}, "none"),
        ("{cipher_bits}=0 alone", {"{cipher_bits}": "0"}, "none"),
        ("{cipher} alone", {"{cipher}": "TLS_AES_256_GCM_SHA384"}, "none"),
        ("{tls_version}=TLSv1.4", {**TLS13, "{tls_version}": "TLSv1.4"}, "TLSv1.4")):
    n = len(decisions())
    res = session("4", "127.0.0.20", macros_for(tls=tls))
    check(f"{desc} at [source starttls]: no TLS, 530 5.7.0 ({outcome(res)})",
          outcome(res).startswith("mail: replycode 530 5.7.0 Must issue a STARTTLS"))
    one_decision(f"{desc}: starttls_required, tls={logged_tls} as sent", n, "reject",
                 "127.0.0.20", "starttls", {"reason": "starttls_required", "tls": logged_tls})
n = len(decisions())
res = session("4", "127.0.0.2", macros_for(tls={"{tls_version}": "NONE"},
                                           auth={"{auth_type}": "PLAIN",
                                                 "{auth_authen}": "alice"}))
check(f"AUTH PLAIN under {{tls_version}}=NONE is in clear: 530 5.7.10 ({outcome(res)})",
      outcome(res).startswith("mail: replycode 530 5.7.10"))
one_decision("... credentials_exposed=yes", n, "reject", "127.0.0.2", "mapped",
             {"reason": "plaintext_auth", "credentials_exposed": "yes"})

# Postfix: EHLO, AUTH PLAIN (clear), EHLO, STARTTLS, MAIL. The second EHLO carried
# {auth_type}; Postfix forgot the AUTH at STARTTLS, and MAIL has none, so libmilter
# hands MAIL the HELO stage's value.
n = len(decisions())
q = next_qid()
stale = macros_for(tls=TLS13, qid=q)
stale["helo"] = {"{auth_type}": "PLAIN"}
res = session("4", "127.0.0.22", stale)
check(f"a stale HELO-stage {{auth_type}} is no AUTH at MAIL: accepted ({outcome(res)})",
      outcome(res) == "accept")
one_decision("... logged auth=none, and the password that crossed: credentials_exposed=yes",
             n, "accept", "127.0.0.22", "auth-after-tls",
             {"auth": "none", "credentials_exposed": "yes", "tls": "TLSv1.3"})

# RCPT after a refused RCPT with the same facts: refused again; the message is
# logged if it goes on to the end. tlsgate leaves RCPT out where the MTA lets it:
# an MTA that does not (an older one) sends it, and tlsgate serves it.
NO_NORCPT = OFFERED_PROTOCOL & ~SMFIP_NORCPT
m = Milter(a.socket, timeout=5)
m.negotiate(protocol=NO_NORCPT)
n = len(decisions())
m.connect("h", "4", "127.0.0.20", macros=POSTFIX)
m.helo("h", macros=TLS13)
r_mail = m.mail("<a@example.net>", macros=TLS13)
bogus = {**TLS13, "{tls_version}": "NONE"}
r1 = m.rcpt("<b@example.test>", macros=bogus)
r2 = m.rcpt("<c@example.test>", macros=bogus)
check(f"MAIL under TLS continues, RCPT with {{tls_version}}=NONE refused, and the next "
      f"RCPT with the same facts refused too ({r_mail}, {r1}, {r2})",
      r_mail.kind == "continue" and r1.refused and r2.refused)
q = next_qid()
r3 = m.rcpt("<d@example.test>", macros=TLS13)
m.data()
m.eoh()
r4 = m.eom(macros={"{i}": q})
m.quit()
check(f"... a RCPT under TLS again continues, and the message is accepted ({r3}, {r4})",
      r3.kind == "continue" and r4.kind in ("continue", "accept"))
lines = wait_decisions(n, 2)
parsed = [parse_decision(l[2]) for l in lines]
check("... logged: one refusal (not one per RCPT), then the message with its queue id",
      len(parsed) == 2 and parsed[0][1]["action"] == b"reject"
      and parsed[1][0] == q.encode() and parsed[1][1]["action"] == b"accept",
      repr([l[2][:120] for l in lines]))

# Postfix renamed (milter_macro_v = MyMail ...): recognised by what it sends.
cert = {"{cert_subject}": "client.example.test", "{cert_issuer}": "tlsgate test CA"}
for v, extra, want in (("MyMail 3.7.11", {}, "accept"),
                       ("MyMail 3.7.11", {"{verify}": "FAIL"}, "refused"),
                       ("Postfix 3.7.11", {"{verify}": "NO"}, "refused")):
    n = len(decisions())
    q = next_qid()
    res = session("4", "127.0.0.30", macros_for(connect={"v": v}, tls={**TLS13, **cert, **extra},
                                                qid=q))
    got = "accept" if outcome(res) == "accept" else "refused"
    check(f"v={v!r} {extra or ''}: the verified certificate {want} ({outcome(res)})", got == want)
    one_decision(f"... logged", n, "accept" if want == "accept" else "reject", "127.0.0.30",
                 "hostile", {"cert": "client.example.test"} if want == "accept" else
                 {"reason": "client_cert_required", "cert": "none"})
mta_lines = [l[2] for l in tlsgate_lines() if l[2].startswith(b"mta: ")]
check("the MTA's kind is logged once per kind, with what showed it",
      any(l.startswith(b"mta: Postfix (") for l in mta_lines)
      and len(mta_lines) == len(set(mta_lines)), repr(mta_lines))

# --- 4. hostile macro values -----------------------------------------------------------
print("== hostile macro values")
HOSTILE = {
    "empty": b"",
    "10KB": b"A" * 10000,
    "10KB-control": b"\x01" * 10000,
    "forged-line": b"x\nNov 23 13:00:00 mx tlsgate[1]: 4Xk2: action=accept client=6.6.6.6 "
                   b"source=partners tls=TLSv1.3",
    "crlf": b"\r\n",
    "control": b"\x1b[2J\x07\x08\x7f\x1f",
    "quotes": b"\"' action=accept reason=\"",
    "equals": b"a=b c=d action=accept",
    "csv-row": b"\",accept,\"\r\n2026-01-01T00:00:00Z,Q,6.6.6.6,partners,accept,",
    "formula": b"=HYPERLINK(\"http://x\";\"y\")",
    "printf": b"%s%s%n%x%99999d",
    "latin1": b"caf\xe9",
    "not-utf8": b"\xff\xfe\xc0\xaf\xed\xa0\x80\xc3",
    "backslash": b"\\x0a\\\\\\",
    "near-valid": b"TLSv1.3 ",
    "utf8": "Grüße ✉ \u2028 \u0085".encode(),
}
POISONED = ["v", "{daemon_name}", "{tls_version}", "{cipher}", "{cipher_bits}",
            "{cert_subject}", "{cert_issuer}", "{verify}", "{auth_type}", "{auth_authen}",
            "{i}"]


def poisoned_macros(base, name, value):
    out = {stage: dict(m) for stage, m in base.items()}
    stages = ["connect"] if name in ("v", "{daemon_name}") else (
        ["mail", "rcpt", "eom"] if name == "{i}" else ["helo", "mail", "rcpt"])
    for s in stages:
        out[s][name] = value
    return out


# Strict: everything required; TLS 1.3 without a client certificate is refused.
# Whatever one macro says, the session must stay refused.
strict_fail = []
open_fail = []
line_fail = []
sessions = 0
for vname, value in HOSTILE.items():
    for mname in POISONED:
        for kind in ("strict", "open"):
            sessions += 1
            n = len(decisions())
            q = next_qid()
            if kind == "strict":
                base = macros_for(tls=TLS13, qid=q)
                res = session("4", "127.0.0.30", poisoned_macros(base, mname, value))
                out = outcome(res)
                if not (res[-1][0] in ("mail", "rcpt") and res[-1][1] is not None
                        and res[-1][1].code.startswith("5")):
                    strict_fail.append(f"{mname}={vname}: {out}")
                want_action, client, source = b"reject", b"127.0.0.30", b"hostile"
            else:
                base = macros_for(auth={"{auth_type}": "PLAIN", "{auth_authen}": "bob"}, qid=q)
                res = session("4", "127.0.0.31", poisoned_macros(base, mname, value))
                out = outcome(res)
                if out != "accept":
                    open_fail.append(f"{mname}={vname}: {out}")
                want_action, client, source = b"accept", b"127.0.0.31", b"hostile-open"
            lines = wait_decisions(n, 1)
            if len(lines) != 1:
                line_fail.append(f"{kind} {mname}={vname}: {len(lines)} lines")
                continue
            parsed = parse_decision(lines[0][2])
            if parsed is None:
                line_fail.append(f"{kind} {mname}={vname}: unparseable: {lines[0][2][:200]!r}")
                continue
            f = parsed[1]
            if (f["action"], f["client"], f["source"]) != (want_action, client, source):
                line_fail.append(f"{kind} {mname}={vname}: {f['action']} {f['client']} "
                                 f"{f['source']}")
            if len(lines[0][2]) >= 8192:
                line_fail.append(f"{kind} {mname}={vname}: a {len(lines[0][2])}-byte line")
check(f"{len(HOSTILE)} hostile values x {len(POISONED)} macros at [source hostile] "
      f"(all required): every session refused ({len(HOSTILE) * len(POISONED)} sessions)",
      not strict_fail, "\n".join(strict_fail))
check(f"... and at [source hostile-open] (nothing required): every session accepted "
      f"({len(HOSTILE) * len(POISONED)} sessions)", not open_fail, "\n".join(open_fail))
check(f"{sessions} hostile sessions: each exactly one syslog line, under 8 KiB, that parses "
      f"as key=value with tlsgate's keys and the right action, client and source",
      not line_fail, "\n".join(line_fail))
check("tlsgate still running after the hostile values", os.path.exists(f"/proc/{a.pid}"))

# --- 4b. hostile {client_addr} ---------------------------------------------------------
print("== hostile {client_addr} (where CONNECT is left out, tlsgate learns the client there)")
client_fail = []
for vname, value in HOSTILE.items():
    n = len(decisions())
    m = Milter(a.socket, timeout=5)
    m.negotiate()
    try:
        m.connect("h", "4", "127.0.0.9", macros=POSTFIX)  # skipped where negotiated away
        m.helo("h")
        r = m.mail("<a@example.net>", macros={"{client_addr}": value})
    finally:
        m.quit()
    lines = wait_decisions(n, 1)
    parsed = parse_decision(lines[0][2]) if len(lines) == 1 else None
    if m.protocol & 0x1 == 0:  # CONNECT delivered: the address came with it
        continue
    # Only an address that parses governs; anything else is an unknown client,
    # refused by [source default] (plaintext), never the 127.0.0.0/8 rule.
    if r is None or not r.refused or parsed is None or parsed[1]["client"] != b"unknown" \
            or parsed[1]["source"] != b"default":
        client_fail.append(f"{vname}: {r} {lines[:1]!r}")
check(f"{len(HOSTILE)} hostile {{client_addr}} values: each an unknown client under "
      f"[source default], refused", not client_fail, "\n".join(client_fail))

# --- 4c. hostile envelope addresses (issue 21) ----------------------------------------
print("== hostile envelope addresses: [partner bank] (senders), [partner legal] (recipients)")
# From 127.0.0.9 (the loopback rule: nothing required) in plaintext: only a partner
# refuses. Each value as MAIL's (or RCPT's) argument; BANK: the partner's domain must
# be read from it (refused, 530 5.7.0), else the domain logged, and accepted.
BANK, LEGAL = "bank", "legal"
K60 = 60000  # under libmilter's 64 KiB packet limit
SENDERS = [
    ("plain", b"<ceo@bank.example>", BANK, b"bank.example"),
    ("no brackets (as {mail_addr})", b"ceo@bank.example", BANK, b"bank.example"),
    ("upper case", b"<CEO@BANK.EXAMPLE>", BANK, b"bank.example"),
    ("trailing dot", b"<ceo@bank.example.>", BANK, b"bank.example"),
    ("subdomain, mixed case, trailing dot", b"<ceo@Mx.Bank.Example.>", BANK, b"mx.bank.example"),
    ("blanks inside the brackets", b"< ceo@bank.example >", BANK, b"bank.example"),
    ("'@' in a quoted local part", b'<"x@evil.example"@bank.example>', BANK, b"bank.example"),
    ("a quoted local part naming the partner", b'<"bank.example@x"@evil.example>', None,
     b"evil.example"),
    ("an escaped quote in the quoted part", b'<"a\\"@evil.example"@bank.example>', BANK,
     b"bank.example"),
    ("an escaped '@'", b"<a\\@evil.example@bank.example>", BANK, b"bank.example"),
    # Postfix and Sendmail unquote these and deliver them as mail from ceo@bank.example.
    ("everything quoted", b'<"ceo@bank.example">', BANK, b"bank.example"),
    ("an unclosed quote", b'<"ceo@bank.example>', BANK, b"bank.example"),
    ("a comment", b"<ceo@bank.example (x)>", BANK, b"bank.example"),
    ("a comment after the brackets", b"<ceo@bank.example>(x)", BANK, b"bank.example"),
    ("a quoted domain", b'<ceo@"bank.example">', BANK, b"bank.example"),
    ("a display name", b"Name<ceo@bank.example>", BANK, b"bank.example"),
    ("a name in brackets (Sendmail: that host)", b"<ceo@[bank.example]>", BANK, b"bank.example"),
    ("an address literal", b"<ceo@[192.0.2.1]>", None, b"(unparsable)"),
    ("a source route", b"<@a.example,@b.example:ceo@bank.example>", BANK, b"bank.example"),
    ("a source route through the partner", b"<@bank.example:ceo@evil.example>", None,
     b"evil.example"),
    ("two '@', the partner's first", b"<ceo@bank.example@evil.example>", None, b"evil.example"),
    ("no '@'", b"<ceo>", None, b"(none)"),
    ("the null sender", b"<>", None, b"<>"),
    ("a look-alike", b"<ceo@notbank.example>", None, b"notbank.example"),
    ("the partner's name as a label", b"<ceo@bank.example.evil.example>", None,
     b"bank.example.evil.example"),
    ("a 60 KB local part", b"<" + b"x" * K60 + b"@bank.example>", BANK, b"bank.example"),
    ("a 60 KB domain", b"<ceo@" + b"a." * (K60 // 2) + b"bank.example>", None, b"(unparsable)"),
    ("NUL after the domain (the argument ends there)", b"<ceo@bank.example\0evil.example>",
     BANK, b"bank.example"),
    ("NUL in the local part (the argument ends there)", b"<ce\0o@bank.example>", None,
     b"(none)"),
    ("UTF-8 in the local part", "<müller@bank.example>".encode(), BANK, b"bank.example"),
    ("full-width letters (UTS #46: bank.example)", "<ceo@ｂａｎｋ.example>".encode(), BANK,
     b"bank.example"),
    ("an ideographic full stop", "<ceo@bank。example>".encode(), BANK, b"bank.example"),
    ("a U-label look-alike", "<ceo@bänk.example>".encode(), None, b"xn--bnk-qla.example"),
    ("bytes that are not UTF-8", b"<ceo@\xff\xfe.example>", None, b"(unparsable)"),
    ("a control character", b"<ceo@bank.example\x1b>", None, b"(unparsable)"),
]
RECIPIENTS = [
    ("plain", b"<hr@legal.example>", LEGAL, b"legal.example"),
    ("upper case, trailing dot", b"<HR@LEGAL.EXAMPLE.>", LEGAL, b"legal.example"),
    ("'@' in a quoted local part", b'<"x@evil.example"@legal.example>', LEGAL, b"legal.example"),
    ("a quoted local part naming the partner", b'<"legal.example@x"@example.test>', None, None),
    ("a source route", b"<@a.example:hr@legal.example>", LEGAL, b"legal.example"),
    ("a 60 KB local part", b"<" + b"x" * K60 + b"@legal.example>", LEGAL, b"legal.example"),
    ("NUL after the domain", b"<hr@legal.example\0x>", LEGAL, b"legal.example"),
    ("full-width letters", "<hr@ｌｅｇａｌ.example>".encode(), LEGAL, b"legal.example"),
    ("no '@' (postmaster)", b"<postmaster>", None, None),
    ("empty", b"<>", None, None),
    ("bytes that are not UTF-8", b"<hr@\xff.example>", None, None),
]
env_fail = []


def envelope_case(desc, sender, rcpt, partner, field, logged, macros=None):
    """One plaintext session from 127.0.0.9: refused by `partner` (one reject line with
    partner= and `field`=`logged`), or accepted (one accept line with no partner)."""
    n = len(decisions())
    q = next_qid()
    base = macros_for(qid=q)
    for stage, extra in (macros or {}).items():
        base[stage].update(extra)
    try:
        res = session("4", "127.0.0.9", base, sender=sender, rcpts=(rcpt,))
    except (OSError, MilterError) as e:
        env_fail.append(f"{desc}: {type(e).__name__} {e}")
        return
    out = outcome(res)
    stage = "mail" if field == "sender_domain" else "rcpt"
    if partner:
        if not out.startswith(f"{stage}: replycode 530 5.7.0"):
            env_fail.append(f"{desc}: {out[:120]} (the partner {partner} must refuse at {stage})")
    elif out != "accept":
        env_fail.append(f"{desc}: {out[:120]} (no partner applies: accepted)")
    lines = wait_decisions(n, 1)
    parsed = parse_decision(lines[0][2]) if len(lines) == 1 else None
    if parsed is None:
        env_fail.append(f"{desc}: {len(lines)} lines, {lines[:1]!r:.200}")
        return
    f = parsed[1]
    want = {"action": b"reject" if partner else b"accept", "partner": partner.encode()
            if partner else None, "client": b"127.0.0.9"}
    if logged is not None:
        want[field] = logged
    bad = {k: (f.get(k), v) for k, v in want.items() if f.get(k) != v}
    if bad:
        env_fail.append(f"{desc}: (got, want) {bad}")


for desc, sender, partner, logged in SENDERS:
    envelope_case(f"MAIL {desc}", sender, "<bob@example.test>", partner, "sender_domain", logged)
for desc, rcpt, partner, logged in RECIPIENTS:
    envelope_case(f"RCPT {desc}", "<sender@example.net>", rcpt, partner, "rcpt_domain", logged)
# Sendmail's {mail_addr} / {rcpt_addr}: read only where the command has no argument.
for desc, sender, rcpt, macros, partner, field, logged in (
        ("MAIL <ceo@bank.example>, {mail_addr} elsewhere: the argument decides",
         "<ceo@bank.example>", "<bob@example.test>",
         {"mail": {"{mail_addr}": "ceo@evil.example"}}, BANK, "sender_domain", b"bank.example"),
        ("MAIL elsewhere, {mail_addr} ceo@bank.example: the argument decides",
         "<ceo@evil.example>", "<bob@example.test>",
         {"mail": {"{mail_addr}": "ceo@bank.example"}}, None, "sender_domain", b"evil.example"),
        ("RCPT <hr@legal.example>, {rcpt_addr} elsewhere: the argument decides",
         "<sender@example.net>", "<hr@legal.example>",
         {"rcpt": {"{rcpt_addr}": "hr@example.test"}}, LEGAL, "rcpt_domain", b"legal.example")):
    envelope_case(desc, sender, rcpt, partner, field, logged, macros)
check(f"{len(SENDERS)} hostile senders, {len(RECIPIENTS)} hostile recipients, 3 "
      f"{{mail_addr}}/{{rcpt_addr}} that disagree: each partner's domain refused in plaintext "
      f"(530 5.7.0 at MAIL or RCPT), nothing else; one parseable line each, with partner=, "
      f"sender_domain= or rcpt_domain= as read", not env_fail, "\n".join(env_fail))

# MAIL without an argument (an empty packet): then {mail_addr} names the sender.
m = Milter(a.socket, timeout=5)
m.negotiate()
n = len(decisions())
m.connect("h", "4", "127.0.0.9", macros=POSTFIX)
m.helo("h")
m.macros("mail", {**POSTFIX, "{mail_addr}": "ceo@bank.example"})
m.send(b"M", b"")
try:
    r = m.reply()
    got = str(r)
except (OSError, MilterError) as e:
    r, got = None, f"connection closed ({type(e).__name__})"
m.close()
check(f"MAIL without an argument, {{mail_addr}}=ceo@bank.example: no continue ({got})",
      r is None or r.refused)
if r is not None:
    lines = wait_decisions(n, 1)
    f = parse_decision(lines[0][2])[1] if len(lines) == 1 and parse_decision(lines[0][2]) else {}
    check("... refused by partner=bank, sender_domain=bank.example",
          f.get("partner") == b"bank" and f.get("sender_domain") == b"bank.example",
          repr(lines[:1]))
# A 64 KiB domain: the MAIL packet is over libmilter's limit.
m = Milter(a.socket, timeout=5)
m.negotiate()
m.connect("h", "4", "127.0.0.9", macros=POSTFIX)
m.helo("h")
try:
    r = m.mail(b"<ceo@" + b"a" * 65536 + b".bank.example>", macros=POSTFIX)
    got = str(r)
except (OSError, MilterError) as e:
    r, got = None, f"connection closed ({type(e).__name__})"
m.close()
check(f"MAIL with a 64 KiB domain (over libmilter's packet limit): no continue ({got})",
      r is None or r.kind != "continue")
check("tlsgate still running after the hostile envelopes", os.path.exists(f"/proc/{a.pid}"))

# --- 5. the protocol misused -------------------------------------------------------------
print("== the protocol misused")
m = Milter(a.socket, timeout=1.5)
m.negotiate(protocol=NO_NORCPT)
m.connect("h", "U", "", macros={"v": "Postfix"})
m.helo("h")
r = m.mail("<a@example.net>")
check(f"unknown client, plaintext: MAIL refused ({r})", r is not None and r.refused)
try:
    r2 = m.rcpt("<bob@example.test>")
    got = str(r2)
except (OSError, MilterError) as e:
    r2, got = None, f"no reply ({type(e).__name__})"
check(f"RCPT sent after the refused MAIL gets no 'continue' ({got})",
      r2 is None or r2.kind != "continue")
m.close()

m = Milter(a.socket, timeout=5)
m.negotiate()
m.connect("h", "4", "127.0.0.30", macros=POSTFIX)
try:
    r = m.mail("<a@example.net>", macros={"{auth_authen}": b"\x01" * 70000})
    got = str(r)
except (OSError, MilterError) as e:
    r, got = None, f"connection closed ({type(e).__name__})"
check(f"a 70 KB macro packet (over libmilter's 64 KiB): no continue ({got})",
      r is None or r.kind != "continue")
m.close()
n = len(decisions())
res = session("4", "127.0.0.30", macros_for(tls=TLS13))
check(f"... and the next session is decided as usual ({outcome(res)})",
      outcome(res).startswith("mail: replycode 530 5.7.0 A trusted client certificate"))

# --- 6. the records as a whole --------------------------------------------------------
print("== syslog and accounting CSV")
time.sleep(0.2)
all_lines = tlsgate_lines()
bad = [l[2][:200] for l in all_lines
       if not l[2].startswith(DAEMON_PREFIXES) and parse_decision(l[2]) is None]
dec = decisions()
check(f"every one of tlsgate's {len(all_lines)} syslog lines is a daemon line or a "
      f"decision that parses", not bad, "\n".join(map(repr, bad[:5])))
try:
    with open(a.csv, newline="", encoding="utf-8", errors="strict") as f:
        rows = list(csv.reader(f, strict=True))
    csv_error = None
except (UnicodeDecodeError, csv.Error) as e:
    rows, csv_error = [], e
check("the accounting CSV reads as strict RFC 4180 in UTF-8", csv_error is None, csv_error)
if rows:
    header, body = rows[0], rows[1:]
    check(f"{len(body)} CSV rows, one per syslog decision ({len(dec)}), each "
          f"{len(header)} fields", len(body) == len(dec) and all(len(r) == len(header)
                                                                  for r in body))
    syslog_actions = [parse_decision(l[2])[1]["action"].decode() for l in dec]
    csv_actions = [r[4] for r in body]
    check("the CSV rows have the syslog lines' actions, in the same order",
          syslog_actions == csv_actions)
    check("no CSV row has a client the tests never used (no forged row)",
          {r[2] for r in body} <= {"127.0.0.2", "127.0.0.9", "::127.0.0.2", "unknown",
                                   "127.0.0.20", "127.0.0.22", "127.0.0.30", "127.0.0.31"},
          {r[2] for r in body})

print(f"bypass-milter: {check.passed} passed, {check.failed} failed")
sys.exit(check.exit_status())
