#!/usr/bin/env python3
"""Postfix's side of the policy delegation protocol, many transactions at once:
the policy service's counterpart of milter_driver.py bench (asyncio).

  policy_load.py --port 18903 [--server 127.0.0.1] --transactions 20000 \\
      --connections 50 --addr 127.0.0.2 [--expect DUNNO]

Each of --connections persistent connections (one per smtpd process, as Postfix
keeps them) runs transactions one after another: a RCPT request and an
END-OF-MESSAGE request with the same instance, as smtpd sends them for a
plaintext one-recipient message. Every answer is checked against --expect (the
action after "action="); exit 1 on any other answer or a closed connection.
Prints: transactions= answers= wrong= seconds= per_second=
"""

import argparse
import asyncio
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--server", default="127.0.0.1")
p.add_argument("--port", type=int, required=True)
p.add_argument("--transactions", type=int, default=1000)
p.add_argument("--connections", type=int, default=10)
p.add_argument("--addr", default="127.0.0.2")
p.add_argument("--expect", default="DUNNO")
o = p.parse_args()


def request(n, state, queue_id=""):
    attrs = {"request": "smtpd_access_policy", "protocol_state": state,
             "protocol_name": "ESMTP", "client_address": o.addr, "client_name": "load.test",
             "helo_name": "load.test", "sender": "sender@example.net",
             "recipient": f"r{n}@example.test", "recipient_count": "1" if queue_id else "0",
             "queue_id": queue_id, "instance": f"load.{n}", "size": "0"}
    return "".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n"


async def worker(first, step, counts):
    reader, writer = await asyncio.open_connection(o.server, o.port)
    try:
        for n in range(first, o.transactions, step):
            for state, qid in (("RCPT", ""), ("END-OF-MESSAGE", f"Q{n:X}")):
                writer.write(request(n, state, qid))
                await writer.drain()
                got = (await reader.readuntil(b"\n\n")).decode("latin-1")
                counts["answers"] += 1
                if got != f"action={o.expect}\n\n":
                    counts["wrong"] += 1
                    if counts["wrong"] <= 5:
                        print(f"transaction {n} {state}: {got!r}", file=sys.stderr)
            counts["transactions"] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def main():
    counts = {"transactions": 0, "answers": 0, "wrong": 0}
    t0 = time.monotonic()
    results = await asyncio.gather(*(worker(i, o.connections, counts)
                                     for i in range(o.connections)), return_exceptions=True)
    seconds = time.monotonic() - t0
    errors = [r for r in results if isinstance(r, BaseException)]
    for e in errors[:5]:
        print(f"connection failed: {type(e).__name__}: {e}", file=sys.stderr)
    print(f"transactions={counts['transactions']} answers={counts['answers']} "
          f"wrong={counts['wrong']} seconds={seconds:.1f} "
          f"per_second={counts['transactions'] / seconds:.0f}")
    return 0 if not errors and not counts["wrong"] and counts["transactions"] == o.transactions else 1


sys.exit(asyncio.run(main()))
