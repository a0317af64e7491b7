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
  - a half-written request on one connection, and 300 idle connections, hold up
    nobody: another connection's request is answered at once.
"""

import argparse
import os
import re
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--syslog", required=True)
ap.add_argument("--pid", required=True)
a = ap.parse_args()

passed = failed = 0


def check(desc, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {desc}")
    else:
        failed += 1
        print(f"FAIL {desc}")
        for line in str(detail).splitlines()[:10]:
            print(f"    | {line[:300]}")


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

print(f"bypass-policy: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
