#!/usr/bin/env python3
"""An SMTP client for the bypass tests: what a hostile client does that swaks and
smtp-client.pl do not.

  --auth MECH           AUTH with the mechanism name written exactly so (plain,
                        Login, pLaIn): SASL names are case-insensitive, tlsgate
                        must be too. PLAIN and LOGIN only (any case).
  --auth-before-tls     AUTH in plaintext, then STARTTLS (RFC 3207: forgotten)
  --ehlo-after-auth     EHLO again after that AUTH, still in plaintext
  --starttls            STARTTLS before MAIL
  --no-ehlo-after-tls   no EHLO after the handshake
  --inject-after-starttls
                        CVE-2011-0411: "STARTTLS", "MAIL", "RCPT", "DATA" and a
                        message in ONE plaintext write. A server that kept the
                        plaintext after STARTTLS would run them as if they came
                        over TLS. The injected message carries --inject-marker.
  --pipeline            MAIL, RCPT and DATA in one write (RFC 2920), after TLS
                        (or in plaintext), then the message
  --mail-arg TEXT       MAIL FROM:TEXT exactly so (brackets, comments, blanks as
                        given), instead of MAIL FROM:<--from>

Prints the dialogue like smtp-client.pl ("<- " server, " -> " client, "=== " notes,
"=== TLS started with cipher PROTO:CIPHER:BITS") and a last line
"result=accepted|tempfail|reject|error code=NNN reply=...". Exit 0 accepted, 4 a 4xx,
5 a 5xx, 2 an error.
"""

import argparse
import base64
import socket
import ssl
import sys

p = argparse.ArgumentParser()
p.add_argument("--server", default="127.0.0.1")
p.add_argument("--port", type=int, default=10025)
p.add_argument("--local", help="source address")
p.add_argument("--helo", default="client.example.test")
p.add_argument("--from", dest="sender", default="sender@example.net")
p.add_argument("--to", default="bob@example.test")
p.add_argument("--auth")
p.add_argument("--user", default="alice@example.test")
p.add_argument("--password", default="secret")
p.add_argument("--auth-before-tls", action="store_true")
p.add_argument("--ehlo-after-auth", action="store_true")
p.add_argument("--starttls", action="store_true")
p.add_argument("--tls-version", choices=["TLSv1.2", "TLSv1.3"])
p.add_argument("--no-ehlo-after-tls", action="store_true")
p.add_argument("--inject-after-starttls", action="store_true")
p.add_argument("--inject-marker", default="tlsgate-injected;")
p.add_argument("--pipeline", action="store_true")
p.add_argument("--mail-arg")
p.add_argument("--body", default="Subject: tlsgate bypass test\r\n\r\ntest\r\n")
p.add_argument("--timeout", type=float, default=15)
o = p.parse_args()

out = sys.stdout


def say(line):
    out.write(line + "\n")
    out.flush()


def finish(result, code=0, text=""):
    text = text.replace('"', '\\"')
    say(f'result={result} code={code} reply="{text}"')
    sys.exit({"accepted": 0, "tempfail": 4, "reject": 5}.get(result, 2))


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, ssl.SSLError, OSError) as e:
                finish("error", 0, f"read: {e}")
            if not chunk:
                finish("error", 0, "connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("latin-1")

    def reply(self):
        lines = []
        while True:
            line = self.line()
            say("<- " + line)
            lines.append(line)
            if len(line) < 4 or not line[:3].isdigit():
                finish("error", 0, "malformed reply: " + line)
            if line[3] == " ":
                return line[:3], lines

    def send(self, text, shown=None):
        for part in (shown or text).rstrip("\r\n").split("\r\n"):
            say(" -> " + part)
        self.sock.sendall(text.encode("latin-1"))

    def cmd(self, text, shown=None):
        self.send(text + "\r\n", shown)
        return self.reply()

    def must(self, text, shown=None):
        code, lines = self.cmd(text, shown)
        if code[0] in "45":
            quit_and_finish(code, lines)
        return code, lines


def quit_and_finish(code, lines):
    try:
        conn.send("QUIT\r\n")
        conn.line()
    except SystemExit:
        pass
    finish("tempfail" if code[0] == "4" else "reject", code, lines[-1])


sock = socket.create_connection((o.server, o.port), timeout=o.timeout,
                                source_address=(o.local, 0) if o.local else None)
conn = Conn(sock)
say(f"=== connected {sock.getsockname()[0]} -> {sock.getpeername()[0]}")
code, lines = conn.reply()
if code != "220":
    finish("error", code, lines[-1])


def ehlo():
    _, lines = conn.must("EHLO " + o.helo)
    return [l[4:].upper() for l in lines[1:]]


def auth():
    # The mechanism name goes out as given; "-PLUS" forms (Cyrus SASL authenticates
    # PLAIN-PLUS as PLAIN) take the exchange of their family.
    mech = o.auth
    family = mech.upper()
    while family.endswith("-PLUS") and len(family) > 5:
        family = family[:-5]
    if family == "PLAIN":
        token = base64.b64encode(f"\0{o.user}\0{o.password}".encode()).decode()
        conn.must(f"AUTH {mech} {token}", f"AUTH {mech} <credentials>")
    elif family == "LOGIN":
        conn.must(f"AUTH {mech}")
        conn.must(base64.b64encode(o.user.encode()).decode(), "<user>")
        conn.must(base64.b64encode(o.password.encode()).decode(), "<password>")
    else:
        finish("error", 0, f"--auth {mech}: PLAIN or LOGIN (any case, -PLUS allowed)")


def message_text(marker_body):
    body = marker_body.replace("\r\n", "\n").replace("\n", "\r\n")
    if not body.endswith("\r\n"):
        body += "\r\n"
    return "".join("." + l if l.startswith(".") else l for l in body.splitlines(True))


def starttls():
    global sock
    if o.inject_after_starttls:
        injected = message_text(f"Subject: injected\r\n\r\n{o.inject_marker}\r\n")
        conn.send(f"STARTTLS\r\nMAIL FROM:<injected@example.net>\r\nRCPT TO:<{o.to}>\r\n"
                  f"DATA\r\n{injected}.\r\n")
        say("=== injected MAIL, RCPT, DATA and a message in the same plaintext write")
        code, lines = conn.reply()
    else:
        code, lines = conn.must("STARTTLS")
    if code != "220":
        finish("error", code, lines[-1])
    leftover = conn.buf
    conn.buf = b""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if o.tls_version:
        v = ssl.TLSVersion.TLSv1_2 if o.tls_version == "TLSv1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = ctx.maximum_version = v
    try:
        sock = ctx.wrap_socket(sock, server_hostname=None)
    except (ssl.SSLError, OSError) as e:
        finish("error", 0, f"TLS handshake failed: {e}")
    conn.sock = sock
    if leftover:
        say(f"=== {len(leftover)} plaintext bytes after the 220 (not expected)")
    name, proto, bits = sock.cipher()
    say(f"=== TLS started with cipher {sock.version()}:{name}:{bits}")
    if o.inject_after_starttls:
        # Had the server run the injected commands, their replies would now come
        # over TLS, unasked for. Wait a moment for them.
        sock.settimeout(2)
        try:
            data = sock.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError):
            data = b""
        sock.settimeout(o.timeout)
        if data:
            for l in data.decode("latin-1").splitlines():
                say("<- " + l)
            say("=== the server answered the injected commands over TLS")
            conn.buf = b""
        else:
            say("=== no reply to the injected commands: they were discarded")


caps = ehlo()
if o.auth and (o.auth_before_tls or not o.starttls):
    auth()
    if o.ehlo_after_auth:
        ehlo()
if o.starttls:
    starttls()
    if o.no_ehlo_after_tls:
        say("=== not sending EHLO after STARTTLS")
    else:
        caps = ehlo()
    if o.auth and not o.auth_before_tls:
        auth()

msg = message_text(o.body)
mail = "MAIL FROM:" + (o.mail_arg if o.mail_arg is not None else f"<{o.sender}>")
if o.pipeline:
    # EHLO ends a pipelined group (RFC 2920): it was sent on its own above.
    cmds = [mail, f"RCPT TO:<{o.to}>", "DATA"]
    conn.send("".join(c + "\r\n" for c in cmds))
    say("=== pipelined: " + ", ".join(c.split(":")[0].split(" ")[0] for c in cmds))
    bad = None
    for c in cmds:
        code, lines = conn.reply()
        if code[0] in "45" and bad is None:
            bad = (code, lines)
    if bad is not None:
        quit_and_finish(*bad)
else:
    conn.must(mail)
    conn.must(f"RCPT TO:<{o.to}>")
    conn.must("DATA")
say(f" -> <message, {len(msg)} bytes>")
sock.sendall(msg.encode("latin-1"))
code, lines = conn.must(".")
try:
    conn.send("QUIT\r\n")
    conn.line()
except SystemExit:
    pass
finish("accepted", code, lines[-1])
