#!/usr/bin/env python3
"""The MTA side of the milter protocol (version 6), for tests and benchmarks.

It speaks to a milter directly, without an MTA, so that a test can send what no
MTA in the test bed would: any client address family (IPv4-mapped IPv6, a unix
socket, an unknown family), any macro value (empty, 10 KiB, control characters,
quotes, newlines, bytes that are not UTF-8), any order of commands.

Protocol (libmilter's mfdef.h): every packet is a 4-byte big-endian length
(counting the command byte), a command byte and its data. The MTA sends
'O' (negotiate: version, actions, protocol steps), then per SMTP command its
macros ('D' + the command's letter + name NUL value NUL ...) and the command:
'C' connect (hostname NUL, family '4'/'6'/'L'/'U', port, address NUL),
'H' HELO, 'M' MAIL, 'R' RCPT, 'T' DATA, 'N' end of headers, 'E' end of message,
'A' abort, 'Q' quit. The milter answers 'c' continue, 'r' reject, 't' tempfail,
'a' accept, 'd' discard, 'y' a reply of its own ("530 5.7.0 text"), 'p'
progress (keep waiting). In its 'O' answer a version-6 milter may list the
macros it wants at each stage (smfi_setsymlist); an MTA then sends only those,
and leaves out the steps the milter asked it to (SMFIP_NO*), not waiting for a
reply where it asked for none (SMFIP_NR_*). Like Postfix, the driver gives
{client_addr} (the connect address) at every stage that asks for it.

As a library:

    from milter_driver import Milter
    m = Milter("inet:18900@127.0.0.1")         # or unix:/path
    m.negotiate()                              # m.symlists: {"connect": [...], ...}
    r = m.connect("client.example", "6", "::ffff:127.0.0.2", port=4711,
                  macros={"v": "Postfix 3.7.11"})
    r = m.helo("client.example", macros={"{tls_version}": "TLSv1.3"})
    r = m.mail("<a@example.net>", macros={...})   # r.kind: continue/reject/...
    r.code, r.status, r.text                     # for a 'y' reply
    m.rcpt("<b@example.test>", macros=...); m.eom(macros={"{i}": "4Xk2"}); m.quit()

Macro values may be str or bytes. `only_requested=True` (the default, as
Postfix and Sendmail do) sends a stage only the macros the milter asked for;
False sends everything given.

As a command (one session, one line per reply, for shell tests):

    milter_driver.py -s inet:18900@127.0.0.1 session --family 6 --addr ::ffff:127.0.0.2 \
        [--hostname H] [--helo NAME] [--macro STAGE:NAME=VALUE]... [--mail FROM]
        [--rcpt TO]... [--eom]
    milter_driver.py -s SOCK bench [--sessions N] [--concurrency C] [--addr A]
        [--macro ...]    N complete sessions over C connections at a time; prints
                         sessions/s and latency percentiles (a milter benchmark
                         without an MTA)

    STAGE is connect, helo, mail, rcpt, eom; VALUE may use \\xNN, \\n, \\r, \\t, \\\\.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field

# Commands (MTA -> milter).
SMFIC_ABORT, SMFIC_BODY, SMFIC_CONNECT, SMFIC_MACRO = b"A", b"B", b"C", b"D"
SMFIC_BODYEOB, SMFIC_HELO, SMFIC_HEADER, SMFIC_MAIL = b"E", b"H", b"L", b"M"
SMFIC_EOH, SMFIC_OPTNEG, SMFIC_QUIT, SMFIC_RCPT = b"N", b"O", b"Q", b"R"
SMFIC_DATA, SMFIC_UNKNOWN = b"T", b"U"

# Address families of SMFIC_CONNECT.
FAMILIES = {"4": b"4", "6": b"6", "L": b"L", "U": b"U", "unix": b"L", "unknown": b"U"}

# Protocol step flags (SMFIP_*) this driver understands.
SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT = 0x1, 0x2, 0x4, 0x8
SMFIP_NOBODY, SMFIP_NOHDRS, SMFIP_NOEOH, SMFIP_NR_HDR = 0x10, 0x20, 0x40, 0x80
SMFIP_NOUNKNOWN, SMFIP_NODATA, SMFIP_SKIP, SMFIP_RCPT_REJ = 0x100, 0x200, 0x400, 0x800
SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
SMFIP_NR_DATA, SMFIP_NR_UNKN, SMFIP_NR_EOH, SMFIP_NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
SMFIP_HDR_LEADSPC = 0x100000
# What Postfix 3.7 offers (milter8.c: SMFIP_NOSEND_MASK | SMFIP_NOREPLY_MASK | ...).
OFFERED_PROTOCOL = 0x1FFFFF
OFFERED_ACTIONS = 0x1FF

# smfi_setsymlist stages, in the order of the 'O' reply's indices (SMFIM_*).
STAGES = ["connect", "helo", "mail", "rcpt", "data", "eom", "eoh"]
STAGE_COMMAND = {"connect": SMFIC_CONNECT, "helo": SMFIC_HELO, "mail": SMFIC_MAIL,
                 "rcpt": SMFIC_RCPT, "data": SMFIC_DATA, "eom": SMFIC_BODYEOB,
                 "eoh": SMFIC_EOH}

KINDS = {b"c": "continue", b"r": "reject", b"t": "tempfail", b"a": "accept",
         b"d": "discard", b"y": "replycode", b"s": "skip", b"f": "connfail",
         b"4": "shutdown"}

# What a milter may ask for at end of message before its verdict.
MODIFICATIONS = {b"+", b"-", b"2", b"b", b"e", b"h", b"i", b"m", b"q"}


class MilterError(Exception):
    pass


@dataclass
class Reply:
    cmd: bytes
    data: bytes = b""
    actions: list = field(default_factory=list)  # EOM modification actions before the reply

    @property
    def kind(self) -> str:
        return KINDS.get(self.cmd, "other:" + self.cmd.decode("latin-1"))

    @property
    def text(self) -> str:
        """The whole SMTP reply of a 'y' answer, e.g. '530 5.7.0 Must issue ...'."""
        return self.data.rstrip(b"\0").decode("latin-1")

    @property
    def code(self) -> str:
        return self.text[:3] if self.cmd == b"y" else ""

    @property
    def status(self) -> str:
        parts = self.text.split(" ", 2)
        return parts[1] if self.cmd == b"y" and len(parts) > 1 else ""

    @property
    def refused(self) -> bool:
        return self.cmd in (b"r", b"t", b"y", b"f", b"4")

    def __str__(self) -> str:
        return f"{self.kind} {self.text}" if self.cmd == b"y" else self.kind


def _b(v) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")


def parse_socket(spec: str):
    """inet:PORT@HOST, inet6:PORT@HOST, unix:PATH / local:PATH (libmilter's syntax)."""
    for prefix in ("unix:", "local:"):
        if spec.startswith(prefix):
            return socket.AF_UNIX, spec[len(prefix):]
    for prefix, fam in (("inet6:", socket.AF_INET6), ("inet:", socket.AF_INET)):
        if spec.startswith(prefix):
            port, _, host = spec[len(prefix):].partition("@")
            return fam, (host or ("::1" if fam == socket.AF_INET6 else "127.0.0.1"), int(port))
    raise ValueError(f"bad milter socket {spec!r} (inet:PORT@HOST or unix:PATH)")


class Milter:
    """One milter connection (one SMTP session after another, as an MTA reuses it)."""

    def __init__(self, spec: str, timeout: float = 10.0, only_requested: bool = True):
        fam, addr = parse_socket(spec)
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if fam != socket.AF_UNIX:
            # Macros and their command are two packets: without this, Nagle holds
            # the second until the delayed ACK of the first (40 ms a command).
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect(addr)
        self.only_requested = only_requested
        self.version = 0
        self.actions = 0
        self.protocol = 0
        self.symlists: dict[str, list[str]] = {}
        # The client's address as the MTA writes {client_addr} (Postfix: the IP as
        # is; sendmail_style: IPv6 with Sendmail's "IPv6:" tag); None for a client
        # that has none (a unix socket, an unknown family).
        self.client_addr: str | None = None
        self.sendmail_style = False

    # --- packets ---------------------------------------------------------------
    def send(self, cmd: bytes, data: bytes = b"") -> None:
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise MilterError("the milter closed the connection")
            buf += chunk
        return bytes(buf)

    def recv(self) -> tuple[bytes, bytes]:
        (length,) = struct.unpack(">I", self._recv_exact(4))
        if length < 1 or length > 1 << 20:
            raise MilterError(f"bad packet length {length}")
        body = self._recv_exact(length)
        return body[:1], body[1:]

    def reply(self) -> Reply:
        """The milter's answer to a command; 'p' (progress) means wait on."""
        actions = []
        while True:
            cmd, data = self.recv()
            if cmd == b"p":
                continue
            if cmd in MODIFICATIONS:
                actions.append((cmd, data))  # EOM modifications come before the verdict
                continue
            return Reply(cmd, data, actions)

    # --- negotiation -----------------------------------------------------------
    def negotiate(self, version: int = 6, actions: int = OFFERED_ACTIONS,
                  protocol: int = OFFERED_PROTOCOL) -> None:
        self.send(SMFIC_OPTNEG, struct.pack(">III", version, actions, protocol))
        cmd, data = self.recv()
        if cmd != SMFIC_OPTNEG or len(data) < 12:
            raise MilterError(f"bad negotiate reply {cmd!r}")
        self.version, self.actions, self.protocol = struct.unpack(">III", data[:12])
        rest = data[12:]
        while len(rest) >= 4:
            (where,) = struct.unpack(">I", rest[:4])
            names, _, rest = rest[4:].partition(b"\0")
            stage = STAGES[where] if where < len(STAGES) else f"stage{where}"
            self.symlists[stage] = names.decode("latin-1").split()

    def wants_reply(self, flag: int) -> bool:
        return not self.protocol & flag

    # --- one SMTP session -------------------------------------------------------
    def macros(self, stage: str, macros: dict | None) -> None:
        wanted = self.symlists.get(stage)
        # As an MTA does: {client_addr} wherever the milter asked for it.
        if self.client_addr is not None and wanted and "{client_addr}" in wanted:
            macros = {"{client_addr}": self.client_addr, **(macros or {})}
        if not macros:
            return
        data = bytearray(STAGE_COMMAND[stage])
        sent = 0
        for name, value in macros.items():
            if self.only_requested and wanted is not None and name not in wanted:
                continue
            data += _b(name) + b"\0" + _b(value) + b"\0"
            sent += 1
        if sent:
            self.send(SMFIC_MACRO, bytes(data))

    def _command(self, stage, cmd, data, skip_flag, noreply_flag, macros):
        if skip_flag and self.protocol & skip_flag:
            return None
        self.macros(stage, macros)
        self.send(cmd, data)
        if noreply_flag and not self.wants_reply(noreply_flag):
            return None
        return self.reply()

    def connect(self, hostname="client.example.test", family="4", addr="127.0.0.1",
                port=4711, macros=None) -> Reply | None:
        fam = FAMILIES[family]
        self.client_addr = None
        if fam in (b"4", b"6"):
            a = addr.decode("latin-1") if isinstance(addr, bytes) else str(addr)
            self.client_addr = ("IPv6:" + a) if fam == b"6" and self.sendmail_style else a
        data = _b(hostname) + b"\0" + fam
        if fam != b"U":
            data += struct.pack(">H", port) + _b(addr) + b"\0"
        return self._command("connect", SMFIC_CONNECT, data, SMFIP_NOCONNECT, SMFIP_NR_CONN,
                             macros)

    def helo(self, name="client.example.test", macros=None):
        return self._command("helo", SMFIC_HELO, _b(name) + b"\0", SMFIP_NOHELO,
                             SMFIP_NR_HELO, macros)

    def mail(self, sender="<sender@example.net>", *args, macros=None):
        data = b"".join(_b(a) + b"\0" for a in (sender, *args))
        return self._command("mail", SMFIC_MAIL, data, SMFIP_NOMAIL, SMFIP_NR_MAIL, macros)

    def rcpt(self, rcpt="<bob@example.test>", *args, macros=None):
        data = b"".join(_b(a) + b"\0" for a in (rcpt, *args))
        return self._command("rcpt", SMFIC_RCPT, data, SMFIP_NORCPT, SMFIP_NR_RCPT, macros)

    def data(self, macros=None):
        return self._command("data", SMFIC_DATA, b"", SMFIP_NODATA, SMFIP_NR_DATA, macros)

    def eoh(self, macros=None):
        return self._command("eoh", SMFIC_EOH, b"", SMFIP_NOEOH, SMFIP_NR_EOH, macros)

    def eom(self, macros=None):
        """End of message: the milter's final verdict on the message."""
        return self._command("eom", SMFIC_BODYEOB, b"", 0, 0, macros)

    def abort(self):
        self.send(SMFIC_ABORT)  # no reply

    def quit(self):
        try:
            self.send(SMFIC_QUIT)
        except OSError:
            pass
        self.sock.close()

    def close(self):
        self.sock.close()


def run_session(m: Milter, family="4", addr="127.0.0.1", hostname="client.example.test",
                helo="client.example.test", sender="<sender@example.net>",
                rcpts=("<bob@example.test>",), macros=None, eom=True):
    """One session up to EOM (or the first refusal): [(stage, Reply|None), ...]."""
    macros = macros or {}
    out = []
    r = m.connect(hostname, family, addr, macros=macros.get("connect"))
    out.append(("connect", r))
    if r is not None and r.kind != "continue":
        return out
    r = m.helo(helo, macros=macros.get("helo"))
    out.append(("helo", r))
    if r is not None and r.kind != "continue":
        return out
    r = m.mail(sender, macros=macros.get("mail"))
    out.append(("mail", r))
    if r is not None and r.kind != "continue":
        return out
    for rc in rcpts:
        r = m.rcpt(rc, macros=macros.get("rcpt"))
        out.append(("rcpt", r))
        if r is not None and r.kind != "continue":
            return out
    if eom:
        m.data(macros=macros.get("data"))
        m.eoh()
        out.append(("eom", m.eom(macros=macros.get("eom"))))
    return out


# --- command line ---------------------------------------------------------------
def unescape(text: str) -> bytes:
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            n = raw[i + 1]
            if n == ord("x") and i + 3 < len(raw) + 1:
                out.append(int(raw[i + 2:i + 4], 16))
                i += 4
                continue
            out += {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}.get(n, bytes([n]))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def parse_macros(items):
    macros: dict[str, dict] = {}
    for item in items or []:
        stage, _, nv = item.partition(":")
        name, eq, value = nv.partition("=")
        if stage not in STAGE_COMMAND or not eq:
            raise SystemExit(f"--macro {item!r}: expected STAGE:NAME=VALUE, STAGE one of "
                             + ", ".join(STAGE_COMMAND))
        macros.setdefault(stage, {})[name] = unescape(value)
    return macros


def cmd_session(a) -> int:
    m = Milter(a.socket, timeout=a.timeout, only_requested=not a.send_all)
    m.negotiate()
    for stage in STAGES:
        if stage in m.symlists:
            print(f"symlist {stage} {' '.join(m.symlists[stage])}")
    for stage, r in run_session(m, a.family, a.addr, a.hostname, a.helo, a.mail,
                                a.rcpt or ["<bob@example.test>"], parse_macros(a.macro),
                                eom=a.eom):
        print(f"{stage} {r if r is not None else 'noreply'}")
    m.quit()
    return 0


def cmd_bench(a) -> int:
    macros = parse_macros(a.macro)
    lat: list[float] = []
    errors = []
    lock = threading.Lock()
    counter = iter(range(a.sessions))

    def worker():
        m = None
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            t0 = time.perf_counter()
            try:
                m = Milter(a.socket, timeout=a.timeout, only_requested=not a.send_all)
                m.negotiate()
                res = run_session(m, a.family, a.addr, macros=macros, eom=a.eom)
                m.quit()
                last = res[-1][1]
                with lock:
                    lat.append(time.perf_counter() - t0)
                    if last is not None and last.kind not in ("continue", "accept") and not a.expect_refusal:
                        errors.append(f"session {i}: {res[-1][0]} {last}")
            except (OSError, MilterError) as e:
                with lock:
                    errors.append(f"session {i}: {e}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else 0.0

    print(f"sessions={len(lat)} errors={len(errors)} concurrency={a.concurrency} "
          f"seconds={elapsed:.2f} rate={len(lat) / elapsed:.0f}/s "
          f"p50_ms={pct(50):.2f} p99_ms={pct(99):.2f} max_ms={pct(100):.2f}")
    for e in errors[:10]:
        print("error:", e, file=sys.stderr)
    return 0 if not errors else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-s", "--socket", required=True, help="inet:PORT@HOST or unix:PATH")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--send-all", action="store_true",
                   help="send every --macro, also those the milter did not ask for")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("session", "bench"):
        s = sub.add_parser(name)
        s.add_argument("--family", default="4", choices=sorted(FAMILIES))
        s.add_argument("--addr", default="127.0.0.1")
        s.add_argument("--macro", action="append", metavar="STAGE:NAME=VALUE")
        s.add_argument("--no-eom", dest="eom", action="store_false")
        if name == "session":
            s.add_argument("--hostname", default="client.example.test")
            s.add_argument("--helo", default="client.example.test")
            s.add_argument("--mail", default="<sender@example.net>")
            s.add_argument("--rcpt", action="append")
        else:
            s.add_argument("--sessions", type=int, default=1000)
            s.add_argument("--concurrency", type=int, default=10)
            s.add_argument("--expect-refusal", action="store_true",
                           help="a refusal is the expected outcome, not an error")
    a = p.parse_args(argv)
    return cmd_session(a) if a.cmd == "session" else cmd_bench(a)


if __name__ == "__main__":
    sys.exit(main())
