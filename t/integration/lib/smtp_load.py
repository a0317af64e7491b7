#!/usr/bin/env python3
"""SMTP load for the stress tests: many plaintext sessions (asyncio), each from a
chosen loopback source address, one message each, every reply recorded.

  smtp_load.py --port 10031 --sessions 1000 --concurrency 1000 \\
      --source 127.0.0.2 --source 127.0.0.3 [--barrier] [--rate 20] \\
      [--rcpt 'bob@example.test'] [--from sender@example.net] [--tag run1] \\
      [--jsonl FILE]

  --source ADDR    repeatable; sessions take them in turn
  --rcpt TEMPLATE  repeatable, taken in turn like --source; {n} is the session
                   number (e.g. 's2-{n:05d}@example.test')
  --barrier        every session first connects and reads its banner; only when
                   all --concurrency sessions hold a banner do they go on (so
                   that the MTA, and the milter, have them all open at once).
                   A file named by --barrier-file is written at that moment;
                   --hold SECS keeps them all waiting that long.
  --rate R         start at most R sessions a second
  --stop-file F    start no new session once F exists (--sessions is then a cap)
  --jsonl FILE     one JSON line per session: n, source, rcpt, result
                   (queued/refused/error), code, stage, reply, qid, seconds

Each message carries "X-Stress-Id: TAG-n" and the body line "stress-id=TAG-n;"
(TAG from --tag), so a test can count deliveries per session.
Prints a summary line: sessions= queued= refused= errors= seconds= and, per
source, queued/refused counts and the reply codes seen.
"""

import argparse
import asyncio
import collections
import json
import os
import resource
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--server", default="127.0.0.1")
p.add_argument("--port", type=int, default=10025)
p.add_argument("--sessions", type=int, default=100)
p.add_argument("--concurrency", type=int, default=10)
p.add_argument("--source", action="append")
p.add_argument("--rcpt", action="append")
p.add_argument("--from", dest="sender", default="sender@example.net")
p.add_argument("--helo", default="load.example.test")
p.add_argument("--tag", default="load")
p.add_argument("--barrier", action="store_true")
p.add_argument("--barrier-file")
p.add_argument("--hold", type=float, default=0,
               help="seconds all sessions wait together after the barrier")
p.add_argument("--rate", type=float, default=0)
p.add_argument("--stop-file", help="start no new session once this file exists")
p.add_argument("--timeout", type=float, default=120)
p.add_argument("--jsonl")
o = p.parse_args()
sources = o.source or ["127.0.0.1"]
rcpts = o.rcpt or ["bob@example.test"]

# One socket per session, and some to spare.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, o.concurrency * 2 + 100)), hard))


class Refused(Exception):
    def __init__(self, stage, code, reply):
        self.stage, self.code, self.reply = stage, code, reply


async def reply(reader, stage):
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise Refused(stage, "", "connection closed")
        line = line.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return line[:3], line


async def cmd(reader, writer, text, stage, want="2"):
    writer.write(text.encode() + b"\r\n")
    await writer.drain()
    code, line = await reply(reader, stage)
    if not code.startswith(want):
        raise Refused(stage, code, line)
    return line


async def session(n, results, barrier, gate):
    src = sources[n % len(sources)]
    rcpt = rcpts[n % len(rcpts)].format(n=n)
    sid = f"{o.tag}-{n}"
    rec = {"n": n, "source": src, "rcpt": rcpt, "id": sid, "result": "error", "code": "",
           "stage": "connect", "reply": "", "qid": ""}
    t0 = time.monotonic()
    writer = None
    passed = barrier is None
    try:
        reader, writer = await asyncio.open_connection(o.server, o.port, local_addr=(src, 0))
        code, line = await reply(reader, "banner")
        if code != "220":
            raise Refused("banner", code, line)
        if barrier is not None:
            await barrier.wait()
        passed = True
        await cmd(reader, writer, f"EHLO {o.helo}", "ehlo")
        await cmd(reader, writer, f"MAIL FROM:<{o.sender}>", "mail")
        await cmd(reader, writer, f"RCPT TO:<{rcpt}>", "rcpt")
        await cmd(reader, writer, "DATA", "data", want="3")
        msg = (f"From: <{o.sender}>\r\nTo: <{rcpt}>\r\nSubject: stress {sid}\r\n"
               f"Message-ID: <{sid}@stress.example.test>\r\nX-Stress-Id: {sid}\r\n\r\n"
               f"stress-id={sid};\r\n.\r\n")
        writer.write(msg.encode())
        await writer.drain()
        code, line = await reply(reader, "eom")
        if code != "250":
            raise Refused("eom", code, line)
        rec.update(result="queued", code=code, stage="eom", reply=line,
                   qid=line.rsplit(" ", 1)[-1] if "queued as" in line else "")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    except Refused as e:
        rec.update(result="refused" if e.code[:1] in ("4", "5") else "error", code=e.code,
                   stage=e.stage, reply=e.reply)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
            asyncio.BrokenBarrierError) as e:
        rec.update(result="error", reply=f"{type(e).__name__}: {e}")
    finally:
        if not passed:
            barrier.abort()  # one that never reaches it must not hold the others
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        rec["seconds"] = round(time.monotonic() - t0, 3)
        results.append(rec)
        gate.release()


async def main():
    results = []
    gate = asyncio.Semaphore(o.concurrency)
    barrier = None
    if o.barrier:
        wave = min(o.concurrency, o.sessions)

        async def at_barrier():
            if o.barrier_file:
                with open(o.barrier_file, "w") as f:
                    f.write(f"{time.time()}\n")
            print(f"barrier: {wave} sessions hold a banner", flush=True)
            await asyncio.sleep(o.hold)

        barrier = asyncio.Barrier(wave)
        # asyncio.Barrier has no action: the first to pass writes the file.
        orig_wait = barrier.wait
        fired = False

        held = asyncio.Event()

        async def wait():
            nonlocal fired
            r = await orig_wait()
            if not fired:
                fired = True
                await at_barrier()
                held.set()
            await held.wait()
            return r

        barrier.wait = wait
    t0 = time.monotonic()
    tasks = []
    for n in range(o.sessions):
        await gate.acquire()
        if o.stop_file and os.path.exists(o.stop_file):
            gate.release()
            break
        if o.rate:
            delay = t0 + n / o.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(
            asyncio.wait_for(session(n, results, barrier, gate), o.timeout)))
        if barrier is not None and n + 1 == min(o.concurrency, o.sessions):
            barrier = None  # later sessions (past the first wave) do not wait
    done = await asyncio.gather(*tasks, return_exceptions=True)
    for n, d in enumerate(done):
        if isinstance(d, BaseException) and not any(r["n"] == n for r in results):
            results.append({"n": n, "source": sources[n % len(sources)], "result": "error",
                            "reply": f"{type(d).__name__}", "code": "", "stage": "?"})
    elapsed = time.monotonic() - t0
    results.sort(key=lambda r: r["n"])
    if o.jsonl:
        with open(o.jsonl, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    count = collections.Counter(r["result"] for r in results)
    print(f"sessions={len(results)} queued={count['queued']} refused={count['refused']} "
          f"errors={count['error']} seconds={elapsed:.1f}")
    per = collections.defaultdict(collections.Counter)
    for r in results:
        per[r["source"]][f"{r['result']}:{r['stage']}:{r['code']}"] += 1
    for src in sorted(per):
        print(f"  {src}: " + " ".join(f"{k}={v}" for k, v in sorted(per[src].items())))
    for r in [r for r in results if r["result"] == "error"][:5]:
        print(f"  error: session {r['n']} at {r['stage']}: {r['reply']}", file=sys.stderr)


asyncio.run(main())
