#!/usr/bin/env python3
"""Bypass attempts at the policy service (Postfix's policy delegation protocol), with
this script as the client: what Postfix never sends, but anyone who reaches the
socket could. Run by bypass.sh against the tlsgate it started (the sources of its
configuration: 127.0.0.30 requires everything, 127.0.0.31 nothing).

Checks, each printed "ok"/"FAIL":
  - a request over 64 KiB (one 1 MiB line), with over 100 attributes, a NUL byte, a
    line without '=', an attribute sent twice: the connection is closed with a logged
    error, no answer that lets mail through, and tlsgate serves the next connection;
  - a protocol_state Postfix never sends is judged (a refusal where the facts are
    refused), a missing one too;
  - hostile attribute values in every attribute tlsgate reads: never an accept where
    the policy refuses, one parseable log line each;
  - hostile envelope addresses in sender= and recipient= (issue 21: a sender and a
    recipient partner): a partner's domain is always read where it is one, nothing
    else matches, one parseable line each naming the partner and the domain;
  - a half-written request on one connection, and 300 idle connections, hold up
    nobody: another connection's request is answered at once.
"""

import argparse
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from checks import Checks  # noqa: E402
from decision_line import parse_decision  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--syslog", required=True)
ap.add_argument("--pid", required=True)
a = ap.parse_args()

check = Checks(10)


def connect(timeout=5.0):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=timeout)
    return s


def answer(s):
    """The answer to the request just sent, or None when the connection closed."""
    data = b""
    try:
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                return None
            data += chunk
    except (ConnectionResetError, socket.timeout):
        return None
    return data.decode("latin-1")


def request(attrs):
    return b"".join(k + b"=" + v + b"\n" for k, v in attrs) + b"\n"


def log_lines():
    with open(a.syslog, "rb") as f:
        return [l for l in f.read().split(b"\n")[:-1] if f"tlsgate[{a.pid}]: ".encode() in l]


def wait_for_line(pattern, since, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for l in log_lines()[since:]:
            if re.search(pattern, l):
                return True
        time.sleep(0.02)
    return False


STRICT = [(b"protocol_state", b"RCPT"), (b"client_address", b"127.0.0.30"),
          (b"encryption_protocol", b"TLSv1.3"), (b"encryption_cipher", b"TLS_AES_256_GCM_SHA384"),
          (b"encryption_keysize", b"256")]


def works():
    """A fresh connection gets the strict source's answer (no client certificate)."""
    s = connect()
    s.sendall(request(STRICT + [(b"instance", b"works")]))
    got = answer(s)
    s.close()
    return got == "action=530 5.7.0 A trusted client certificate is required\n\n"


print("== malformed requests: the connection is closed, nothing let through")
for name, raw in (
        ("a 1 MiB line", b"client_address=" + b"9" * (1 << 20) + b"\n\n"),
        ("101 attributes", request([(f"x{i}".encode(), b"1") for i in range(101)])),
        ("a NUL byte", b"protocol_state=RCPT\nclient_address=127.0.0.31\0\n\n"),
        ("a line without '='", b"protocol_state=RCPT\njunk\n\n"),
        ("an attribute sent twice",
         request([(b"protocol_state", b"RCPT"), (b"client_address", b"127.0.0.30"),
                  (b"client_address", b"127.0.0.31")]))):
    mark = len(log_lines())
    s = connect()
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = answer(s)
    s.close()
    check(f"{name}: no answer, the connection closed ({got!r})", got is None)
    check(f"{name}: logged", wait_for_line(rb"policy service: a malformed request", mark))
    check(f"{name}: the next connection is served", works())

print("== protocol states Postfix never sends: judged")
for state in (b"BOGUS", b""):
    s = connect()
    attrs = [x for x in STRICT if x[0] != b"protocol_state"]
    if state:
        attrs.append((b"protocol_state", state))
    s.sendall(request(attrs + [(b"instance", b"state-" + state)]))
    got = answer(s)
    s.close()
    check(f"protocol_state={state.decode() or '(none)'}: refused like RCPT ({got!r})",
          got is not None and got.startswith("action=530 5.7.0"))

print("== hostile values in every attribute tlsgate reads")
HOSTILE = [b"", b"A" * 10000, b"\x01\x1b[2J\x7f", b"\" action=accept reason=\"",
           b"a=b c=d action=accept", b"=HYPERLINK(\"x\")", b"%s%n", b"\xff\xfe\xc0\xaf",
           b"TLSv1.3 ", b"tlsv1.3", b"NONE", b"+20+00"]
NAMES = [b"client_address", b"encryption_protocol", b"encryption_cipher", b"encryption_keysize",
         b"ccert_subject", b"ccert_issuer", b"sasl_method", b"sasl_username", b"queue_id",
         b"instance"]
def ask(attrs):
    s = connect()
    s.sendall(request(attrs))
    got = answer(s)
    s.close()
    return got


# A client_address that is no address is an unknown client: [source default]'s
# answer, as for "unknown" itself (never the strict source's, nor a loopback rule's).
unknown = ask([(k, v) for k, v in STRICT if k != b"client_address"] +
              [(b"client_address", b"unknown"), (b"instance", b"unknown")])
bad = []
n = 0
for name in NAMES:
    for value in HOSTILE:
        n += 1
        attrs = [(k, v) for k, v in STRICT if k != name] + [(name, value)]
        if name != b"instance":
            attrs.append((b"instance", b"hostile-%d" % n))
        got = ask(attrs)
        if name == b"client_address":
            if got != unknown:
                bad.append(f"client_address={value[:20]!r}: {got!r}, unknown: {unknown!r}")
        elif got is None or not got.startswith(("action=530 ", "action=554 ", "action=450 ")):
            bad.append(f"{name.decode()}={value[:20]!r}: {got!r}")
check(f"{n} hostile values: every request at [source hostile] refused, never DUNNO (a "
      f"hostile client_address: an unknown client, [source default]'s answer)", not bad,
      "\n".join(bad))
check("tlsgate still running", os.path.exists(f"/proc/{a.pid}"))

print("== hostile envelope addresses: [partner bank] (sender=), [partner legal] (recipient=)")
# From 127.0.0.31 (nothing required) in plaintext: only a partner refuses. A partner's
# domain read from the value: 530 5.7.0 at RCPT, one line naming the partner; else
# DUNNO, and the message's accept line at END-OF-MESSAGE (same connection).
# None: a request tlsgate must not answer at all (the connection closed).
K60 = 60000  # the request stays under 64 KiB
SENDERS = [
    (b"ceo@bank.example", "bank", b"bank.example"),
    (b"<ceo@bank.example>", "bank", b"bank.example"),
    (b"CEO@BANK.EXAMPLE.", "bank", b"bank.example"),
    (b"ceo@mx.bank.example", "bank", b"mx.bank.example"),
    (b'"x@evil.example"@bank.example', "bank", b"bank.example"),
    (b'"bank.example@x"@evil.example', "", b"evil.example"),
    (b'"ceo@bank.example"', "bank", b"bank.example"),  # Postfix delivers it as ceo@bank.example
    (b"ceo@bank.example (x)", "bank", b"bank.example"),
    (b"@a.example,@b.example:ceo@bank.example", "bank", b"bank.example"),
    (b"ceo@bank.example@evil.example", "", b"evil.example"),
    (b"ceo", "", b"(none)"),
    (b"", "", b"<>"),
    (b"ceo@notbank.example", "", b"notbank.example"),
    (b"x" * K60 + b"@bank.example", "bank", b"bank.example"),
    (b"ceo@" + b"a." * (K60 // 2) + b"bank.example", "", b"(unparsable)"),
    ("ceo@ｂａｎｋ.example".encode(), "bank", b"bank.example"),
    ("müller@bank.example".encode(), "bank", b"bank.example"),
    ("ceo@bänk.example".encode(), "", b"xn--bnk-qla.example"),
    (b"ceo@\xff\xfe.example", "", b"(unparsable)"),
    (b"ceo@" + b"a" * 65536 + b".bank.example", None, None),  # over 64 KiB
    (b"ceo@bank.example\0evil.example", None, None),  # a NUL byte
]
RECIPIENTS = [
    (b"hr@legal.example", "legal", b"legal.example"),
    (b"HR@LEGAL.EXAMPLE.", "legal", b"legal.example"),
    (b'"x@evil.example"@legal.example', "legal", b"legal.example"),
    (b'"legal.example@x"@example.test', "", None),
    (b"@a.example:hr@legal.example", "legal", b"legal.example"),
    ("hr@ｌｅｇａｌ.example".encode(), "legal", b"legal.example"),
    (b"hr@legal.example.evil.example", "", None),
    (b"postmaster", "", None),
]


def decision_lines():
    tag = f"tlsgate[{a.pid}]: ".encode()
    return [l.split(tag, 1)[1] for l in log_lines()
            if re.search(re.escape(tag) + rb"\S+: action=", l)]


def transaction(requests):
    """The answers to requests sent one after another on one connection (None: closed)."""
    s = connect()
    got = []
    for attrs in requests:
        try:
            s.sendall(request(attrs))
        except (BrokenPipeError, ConnectionResetError):
            got.append(None)
            break
        got.append(answer(s))
        if got[-1] is None:
            break
    s.close()
    return got


env_fail = []
n_case = 0
for field, cases in (("sender_domain", [(s, b"bob@example.test", p, v) for s, p, v in SENDERS]),
                     ("rcpt_domain", [(b"sender@example.net", r, p, v) for r, p, v in RECIPIENTS])):
    for sender, rcpt, partner, logged in cases:
        n_case += 1
        desc = f"{'sender' if field == 'sender_domain' else 'recipient'}=" \
               f"{(sender if field == 'sender_domain' else rcpt)[:40]!r}"
        n = len(decision_lines())
        attrs = [(b"client_address", b"127.0.0.31"), (b"instance", b"envelope-%d" % n_case),
                 (b"sender", sender), (b"recipient", rcpt)]
        # Postfix asks at END-OF-MESSAGE only for a message with a recipient left.
        got = transaction([[(b"protocol_state", b"RCPT")] + attrs] +
                          ([[(b"protocol_state", b"END-OF-MESSAGE")] + attrs] if not partner
                           else []))
        if partner is None:
            if got != [None]:
                env_fail.append(f"{desc}: {got!r:.120} (no answer wanted)")
            continue
        if partner:
            ok = len(got) == 1 and got[0] is not None and got[0].startswith("action=530 5.7.0 ")
        else:
            ok = got == ["action=DUNNO\n\n", "action=DUNNO\n\n"]
        if not ok:
            env_fail.append(f"{desc}: {got!r:.160} (partner {partner or 'none'})")
        deadline = time.monotonic() + 10
        while len(decision_lines()) < n + 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        lines = decision_lines()[n:]
        parsed = parse_decision(lines[0]) if len(lines) == 1 else None
        if parsed is None:
            env_fail.append(f"{desc}: {len(lines)} lines {lines[:1]!r:.200}")
            continue
        f = parsed[1]
        want = {"action": b"reject" if partner else b"accept",
                "partner": partner.encode() if partner else None}
        if logged is not None:
            want[field] = logged
        bad = {k: (f.get(k), v) for k, v in want.items() if f.get(k) != v}
        if bad:
            env_fail.append(f"{desc}: (got, want) {bad}")
check(f"{len(SENDERS)} hostile sender=, {len(RECIPIENTS)} hostile recipient= values: each "
      f"partner's domain refused in plaintext (530 5.7.0 at RCPT), nothing else passes; a "
      f"request over 64 KiB or with a NUL unanswered; one parseable line each",
      not env_fail, "\n".join(env_fail))
check("tlsgate still running", os.path.exists(f"/proc/{a.pid}"))
check("... and serving", works())

print("== slow and idle connections hold up nobody")
slow = connect()
slow.sendall(b"protocol_state=RCPT\nclient_address=127.0.0")  # and nothing more
idle = [connect() for _ in range(300)]
t0 = time.monotonic()
ok = works()
took = time.monotonic() - t0
# Blocked, works() would time out (5 s) and fail; the time is shown, not judged.
check(f"with a half-written request and 300 idle connections open, another is answered "
      f"({took * 1000:.0f} ms)", ok)
slow.sendall(b".31\ninstance=slow\n\n")
check("... and the half-written request, once finished, too", answer(slow) == "action=DUNNO\n\n")
for s in idle + [slow]:
    s.close()

print(f"bypass-policy: {check.passed} passed, {check.failed} failed")
sys.exit(check.exit_status())
