"""tlsgate's decision lines as syslog carries them, parsed strictly, for the Python
suites (bypass-milter.py, bypass-policy.py):

    from decision_line import parse_decision
    qid, fields = parse_decision(b'NOQUEUE: action=reject reason=... client=...')
    fields["sender_domain"]   # bytes, escapes undone

None for a line that is not one: a key out of tlsgate's order or twice, a value
that does not end, no action.
"""

DECISION_KEYS = ["action", "reason", "client", "source", "partner", "sender_domain",
                 "rcpt_domain", "tls", "cipher", "bits", "auth",
                 "auth_user", "cert", "cert_issuer", "reply", "credentials_exposed"]


def parse_decision(msg: bytes):
    """'QUEUEID: key=value ...' -> (queue_id, {key: value}); None if malformed.
    Values bare or "quoted" with \\" \\\\ \\xNN escapes; keys in tlsgate's order."""
    i = 0

    def value():
        nonlocal i
        if i < len(msg) and msg[i:i + 1] == b'"':
            out = bytearray()
            i += 1
            while i < len(msg) and msg[i:i + 1] != b'"':
                if msg[i:i + 1] == b"\\":
                    if msg[i + 1:i + 2] == b"x":
                        out.append(int(msg[i + 2:i + 4], 16))
                        i += 4
                        continue
                    i += 1
                out += msg[i:i + 1]
                i += 1
            if i >= len(msg):
                return None
            i += 1
            return bytes(out)
        start = i
        while i < len(msg) and msg[i:i + 1] not in (b" ", b'"'):
            i += 1
        return msg[start:i] if i > start else None

    # The queue id: quoted, or bare up to the first space and then ends in ':'.
    if msg[:1] == b'"':
        qid = value()
        if qid is None or msg[i:i + 1] != b":":
            return None
        i += 1
    else:
        i = msg.find(b" ")
        if i < 2 or msg[i - 1:i] != b":":
            return None
        qid = msg[:i - 1]
    fields = {}
    while i < len(msg):
        if msg[i:i + 1] != b" ":
            return None
        eq = msg.find(b"=", i + 1)
        if eq < 0:
            return None
        key = msg[i + 1:eq].decode("latin-1")
        if key in fields:
            return None
        i = eq + 1
        v = value()
        if v is None:
            return None
        fields[key] = v
    keys = list(fields)
    if keys != [k for k in DECISION_KEYS if k in fields] or "action" not in fields:
        return None
    return qid, fields
