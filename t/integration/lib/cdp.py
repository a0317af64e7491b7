"""A headless Chromium driven over the DevTools protocol, for tests.

Chromium's --remote-debugging-pipe: commands go to its file descriptor 3 and replies
and events come from its descriptor 4, each a JSON object ended by a NUL byte, so no
WebSocket library (and no port) is needed.

    with Chromium() as browser:
        page = browser.new_page()
        page.navigate("file:///tmp/report.html")     # waits for the load event
        page.evaluate("document.title")
        page.events("Runtime.exceptionThrown")       # every such event seen so far
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class CdpError(RuntimeError):
    pass


class Chromium:
    def __init__(self, binary=None, timeout=30):
        self.timeout = timeout
        self.binary = binary or shutil.which("chromium") or "chromium"
        self._next_id = 0
        self._events = []  # (sessionId, method, params)
        self._buffer = b""

    def __enter__(self):
        self._profile = tempfile.mkdtemp(prefix="tlsgate-chromium-")
        commands_r, commands_w = os.pipe()  # chromium reads its fd 3
        replies_r, replies_w = os.pipe()    # chromium writes its fd 4

        def in_child():
            # Above 10 first, so that moving one to 3 or 4 cannot clobber the other.
            a = fcntl.fcntl(commands_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(replies_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--remote-debugging-pipe",
             "--user-data-dir=" + self._profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=in_child, pass_fds=(3, 4, commands_r, replies_w))
        os.close(commands_r)
        os.close(replies_w)
        self._write = commands_w
        self._read = replies_r
        return self

    def __exit__(self, *exc):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError("no answer from chromium in %ss" % self.timeout)
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 16)
                if not chunk:
                    raise CdpError("chromium closed the pipe: "
                                   + self.proc.stderr.read().decode(errors="replace")[-2000:])
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        """Sends a command and returns its result; events seen meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self._events.append((reply.get("sessionId"), reply["method"], reply["params"]))

    def wait_for(self, method, session=None):
        """Waits until an event named `method` arrives (or was seen already)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for s, m, p in self._events:
                if m == method and (session is None or s == session):
                    return p
            reply = self._receive(deadline)
            if "method" in reply:
                self._events.append((reply.get("sessionId"), reply["method"], reply["params"]))

    def new_page(self):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(domain + ".enable")
        return page


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def send(self, method, params=None):
        return self.browser.send(method, params, self.session)

    def navigate(self, url):
        self.send("Page.navigate", {"url": url})
        self.browser.wait_for("Page.loadEventFired", self.session)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True,
                            "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CdpError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def events(self, method):
        return [p for s, m, p in self.browser._events if s == self.session and m == method]
