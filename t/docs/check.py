#!/usr/bin/env python3
"""The docs are tested: what an admin copies from README.md and the man pages is run.

Every fenced block of README.md (``` ... ```) and every .EX/.EE block of the man pages
carries a marker saying what it is, on the line before it:

    <!-- doc-test: KIND -->          README.md
    .\\" doc-test: KIND               man pages

and is checked by its kind:

  commands     shell lines. README: a line starting with "tlsgate" or
               "build/tlsgate" is run, the lines after it that start with "# " are
               what it printed ("# ..." stands for any lines). Man pages: a line
               starting with "$ " or "# " is a command, the lines after it its
               output. A tlsgate command that runs without an MTA (-n, --explain,
               -V, -h, report) is run from the repository root (tlsgate is
               build/tlsgate, /etc/tlsgate/ is etc/, no -c is -c etc/tlsgate.ini; the
               users of t/golden/nss/, tlsgate among them, exist); its whole output
               must equal
               t/docs/golden/DOC.N.out, and the lines the doc shows must appear in
               it in order (the file is named by the command: DOC.HASH.out). Other
               commands (make, systemctl, a daemon with -f) are counted, not run.
  main.cf      Postfix parameters: read back through `postconf -c DIR -h`, each
               value as written (no "# comment" after a value: main.cf has none),
               every name known to Postfix.
  sendmail.mc  through m4 and Sendmail's cf files (Debian's sendmail-cf): each
               INPUT_MAIL_FILTER and define() must show up in the sendmail.cf.
  ini          an INI file or part of one: `tlsgate -n` says OK.
  log, demo    sample log lines ("tlsgate[PID]: LINE", or the demo's "tlsgate  LINE";
               an indented line continues the one before). Each is produced for
               real: a milter session with the line's facts (client, sender and
               recipient domain, TLS, cipher, bits, AUTH, certificate, queue id) against tlsgate running
               etc/tlsgate.ini, and tlsgate's own line must be the sample.
  synopsis     every option it names is in `tlsgate -h` or `tlsgate report -h`.
  promql       one PromQL expression ("#" lines are comments): every tlsgate_* name
               in it is a family engine/metrics.cc writes, every label it matches or
               groups by is one of its labels; with promtool installed (Debian's
               prometheus; make check-deb runs it on the installed README) it must
               parse.
  skip REASON  not checked (say why).

`commands`, `log` and `demo` run against etc/tlsgate.ini; a marker that ends in
"with [SECTION]" (`<!-- doc-test: commands with [partner legal] -->`) runs them
against the example with that section, shipped commented out, taken in.

A block without a marker fails the test, so that no new snippet goes untested.

  t/docs/check.py TLSGATE            check
  t/docs/check.py --update TLSGATE   rewrite t/docs/golden/ from the current outputs
                                     (make docs-golden)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "t", "integration", "lib"))
from checks import Checks  # noqa: E402
from milter_driver import Milter, run_session  # noqa: E402

DOCS = ["README.md", "contrib/man/tlsgate.8", "contrib/man/tlsgate.ini.5"]
KINDS = {"commands", "main.cf", "sendmail.mc", "ini", "log", "demo", "synopsis", "promql",
         "skip"}

ap = argparse.ArgumentParser()
ap.add_argument("--update", action="store_true")
ap.add_argument("tlsgate")
args = ap.parse_args()
TLSGATE = os.path.abspath(args.tlsgate)

check = Checks(20)
not_run = []
goldens_used = set()


def roff_text(line: str) -> str:
    """A man page line as the reader sees it."""
    for a, b in (("\\-", "-"), ("\\e", "\\"), ("\\(aq", "'"), ("\\(ga", "`"), ("\\(dq", '"'),
                 ("\\&", ""), ("\\ ", " ")):
        line = line.replace(a, b)
    return line


class Block:
    def __init__(self, doc, line, kind, arg, lines):
        self.doc, self.line, self.kind, self.arg, self.lines = doc, line, kind, arg, lines

    @property
    def where(self):
        return f"{self.doc}:{self.line}"


def blocks_of(doc) -> list[Block]:
    """Every block with its marker; a block without one is reported."""
    text = open(os.path.join(ROOT, doc), encoding="utf-8").read().split("\n")
    out = []
    is_man = not doc.endswith(".md")
    marker_re = re.compile(r'^\.\\" doc-test: (\S+)\s*(.*)$' if is_man
                           else r"^<!-- doc-test: (\S+)\s*(.*?)\s*-->$")
    i = 0
    while i < len(text):
        opening = text[i] == ".EX" if is_man else text[i].startswith("```")
        if not opening:
            i += 1
            continue
        start = i
        j = i + 1
        closing = ".EE" if is_man else "```"
        while j < len(text) and text[j].rstrip() != closing:
            j += 1
        body = text[start + 1:j]
        if is_man:
            body = [roff_text(l) for l in body]
        k = start - 1
        while k >= 0 and not text[k].strip():
            k -= 1
        m = marker_re.match(text[k]) if k >= 0 else None
        if m is None or m.group(1) not in KINDS:
            check(f"{doc}:{start + 1}: the block has a doc-test marker", False,
                  f"the line before it: {text[k] if k >= 0 else ''!r}")
        else:
            out.append(Block(doc, start + 1, m.group(1), m.group(2), body))
        i = j + 1
    return out


# ---- commands --------------------------------------------------------------------
def runnable(argv):
    if not argv or os.path.basename(argv[0]) != "tlsgate":
        return False
    return any(a in ("-n", "--check", "--explain", "-V", "--version", "-h", "--help", "report")
               for a in argv[1:])


# As on a host where tlsgate is installed: its user and group exist (systemd-sysusers,
# the package). nss_wrapper gives every command the fixed users of t/golden/nss/,
# whatever this machine has.
NSS = {"LD_PRELOAD": "libnss_wrapper.so",
       "NSS_WRAPPER_PASSWD": os.path.join(ROOT, "t/golden/nss/passwd"),
       "NSS_WRAPPER_GROUP": os.path.join(ROOT, "t/golden/nss/group")}


def example_ini(section=""):
    """etc/tlsgate.ini, with the commented-out SECTION (";[partner legal]" and the
    ";key = value" lines after it) taken in when one is named."""
    text = open(os.path.join(ROOT, "etc", "tlsgate.ini")).read()
    if not section:
        return text
    lines, out, inside = text.split("\n"), [], False
    for l in lines:
        if l == ";" + section:
            inside = True
        elif inside and not re.match(r"^;\w+ = ", l):
            inside = False
        out.append(l[1:] if inside else l)
    if not inside and out == lines:
        raise SystemExit(f"etc/tlsgate.ini has no commented-out {section}")
    return "\n".join(out)


def with_section(block):
    m = re.search(r"\bwith (\[[^]]+\])$", block.arg.strip())
    return m.group(1) if m else ""


_example_copies = {}


def example_dir(section):
    """The directory to run the commands in: the tree itself, or one whose
    etc/tlsgate.ini has SECTION taken in (etc/legacy-networks.txt beside it), so that
    the output names etc/tlsgate.ini either way."""
    if not section:
        return ROOT
    if section not in _example_copies:
        d = tempfile.mkdtemp(prefix="tlsgate-docs-ini-")
        os.mkdir(os.path.join(d, "etc"))
        shutil.copy(os.path.join(ROOT, "etc", "legacy-networks.txt"), os.path.join(d, "etc"))
        with open(os.path.join(d, "etc", "tlsgate.ini"), "w") as f:
            f.write(example_ini(section))
        _example_copies[section] = d
    return _example_copies[section]


def run_tlsgate(argv, section=""):
    argv = [TLSGATE] + [a.replace("/etc/tlsgate/", "etc/") for a in argv[1:]]
    if not any(a in ("-c", "--config") for a in argv) and "report" not in argv:
        argv[1:1] = ["-c", "etc/tlsgate.ini"]  # the default, /etc/tlsgate/tlsgate.ini
    p = subprocess.run(argv, cwd=example_dir(section), capture_output=True, text=True, timeout=60,
                       env={**os.environ, **NSS})
    return p.stdout + p.stderr + f"exit: {p.returncode}\n"


def shown_matches(shown, actual_lines):
    """The doc's shown lines appear in order; '...' stands for any lines."""
    pos = 0
    gap = False
    for s in shown:
        if s.strip() in ("...", "# ..."):
            gap = True
            continue
        while pos < len(actual_lines) and actual_lines[pos] != s:
            if not gap:
                return False, s
            pos += 1
        if pos >= len(actual_lines):
            return False, s
        pos += 1
        gap = False
    return True, None


def commands_of(block):
    """[(command text, shown output lines, first line number)]."""
    is_man = not block.doc.endswith(".md")
    out = []
    lines = list(block.lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        n = block.line + 1 + i
        if is_man:
            if not (line.startswith("$ ") or line.startswith("# ")):
                i += 1
                continue
            cmd = line[2:]
        else:
            if not line.strip() or line.startswith("#"):
                i += 1
                continue
            cmd = line
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        shown = []
        i += 1
        while i < len(lines):
            l = lines[i]
            if is_man:
                if l.startswith("$ ") or l.startswith("# "):
                    break
                shown.append(l)
            else:
                if not l.startswith("# ") and l.strip() != "#":
                    break
                shown.append(l[2:])
            i += 1
        out.append((cmd, shown, n))
    return out


def check_commands(block):
    for k, (cmd, shown, n) in enumerate(commands_of(block)):
        text = re.sub(r"\s+#.*$", "", cmd) if block.doc.endswith(".md") else cmd
        argv = shlex.split(text)
        if not runnable(argv):
            not_run.append(f"{block.doc}:{n}: {text}")
            continue
        actual = run_tlsgate(argv, with_section(block))
        # Named by the command, not its line: editing the text around it changes nothing.
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        golden = os.path.join(HERE, "golden", f"{os.path.basename(block.doc)}.{digest}.out")
        goldens_used.add(os.path.basename(golden))
        if args.update:
            os.makedirs(os.path.dirname(golden), exist_ok=True)
            with open(golden, "w") as f:
                f.write(actual)
        want = open(golden).read() if os.path.exists(golden) else None
        check(f"{block.doc}:{n}: {text[:70]}: output as in t/docs/golden/", want == actual,
              f"golden file missing: {golden}" if want is None else
              "\n".join(l for l in subprocess.run(
                  ["diff", "-u", golden, "-"], input=actual, capture_output=True,
                  text=True).stdout.splitlines()[:20]))
        ok, missing = shown_matches(shown, actual.splitlines())
        check(f"{block.doc}:{n}: ... and the doc shows what it prints", ok,
              f"not in the output (in order): {missing!r}\noutput:\n{actual}")


# ---- main.cf ------------------------------------------------------------------------
def check_main_cf(block, lines=None):
    lines = block.lines if lines is None else lines
    params = []
    for l in lines:
        if not l.strip() or l.lstrip().startswith("#"):
            continue
        if l[0].isspace():  # a continuation line
            params[-1] = (params[-1][0], params[-1][1] + " " + l.strip())
            continue
        name, eq, value = l.partition("=")
        if not eq:
            check(f"{block.where}: a main.cf line is NAME = VALUE", False, l)
            continue
        params.append((name.strip(), value.strip()))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write("\n".join(lines) + "\n")
        open(os.path.join(d, "master.cf"), "w").close()
        p = subprocess.run(["postconf", "-c", d, "-n"], capture_output=True, text=True)
        check(f"{block.where}: postconf -c reads it without a warning",
              p.returncode == 0 and "warning" not in p.stderr, p.stderr)
        for name, value in params:
            got = subprocess.run(["postconf", "-c", d, "-h", name], capture_output=True,
                                 text=True).stdout.strip()
            check(f"{block.where}: {name} = {value}: read back as written, no '#' in it",
                  got == value and "#" not in got, f"postconf says {name} = {got!r}")


# ---- sendmail.mc ---------------------------------------------------------------------
def check_sendmail_mc(block):
    cf = "/usr/share/sendmail/cf"
    with tempfile.TemporaryDirectory() as d:
        snippet = os.path.join(d, "snippet.m4")
        with open(snippet, "w") as f:
            f.write("\n".join(block.lines) + "\n")
        with open(os.path.join(d, "test.mc"), "w") as f:
            f.write("divert(0)dnl\nOSTYPE(`linux')dnl\ninclude(`%s')dnl\n"
                    "MAILER(`local')dnl\nMAILER(`smtp')dnl\n" % snippet)
        p = subprocess.run(["m4", f"-D_CF_DIR_={cf}/", f"{cf}/m4/cf.m4",
                            os.path.join(d, "test.mc")], capture_output=True, text=True)
        check(f"{block.where}: through m4 and Sendmail's cf files", p.returncode == 0, p.stderr)
        cf_text = p.stdout.splitlines()
        for l in block.lines:
            m = re.match(r"INPUT_MAIL_FILTER\(`([^']+)', `([^']+)'\)", l)
            if m:
                want = [f"O InputMailFilters={m.group(1)}", f"X{m.group(1)}, {m.group(2)}"]
                check(f"{block.where}: the filter {m.group(1)} in sendmail.cf",
                      all(w in cf_text for w in want), "\n".join(want))
            m = re.match(r"define\(`confAUTH_OPTIONS', `([^']+)'\)", l)
            if m:
                check(f"{block.where}: AuthOptions={m.group(1)} in sendmail.cf",
                      f"O AuthOptions={m.group(1)}" in cf_text)


# ---- ini ------------------------------------------------------------------------------
def check_ini(block):
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(ROOT, "etc", "legacy-networks.txt"), d)
        path = os.path.join(d, "tlsgate.ini")
        with open(path, "w") as f:
            f.write("\n".join(block.lines) + "\n")
        p = subprocess.run([TLSGATE, "-n", "-c", path], capture_output=True, text=True,
                           env={**os.environ, **NSS})
        check(f"{block.where}: tlsgate -n says OK", p.returncode == 0 and
              p.stdout.startswith("OK: "), p.stdout + p.stderr)


# ---- synopsis ---------------------------------------------------------------------------
def check_synopsis(block):
    help_text = subprocess.run([TLSGATE, "-h"], capture_output=True, text=True).stdout
    # tlsgate report has options of its own: its help counts too.
    help_text += subprocess.run([TLSGATE, "report", "-h"], capture_output=True,
                                text=True).stdout
    options = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", "\n".join(block.lines)))
    missing = sorted(o for o in options if o not in help_text)
    check(f"{block.where}: every option it names is in tlsgate -h ({len(options)})",
          not missing, f"not in -h: {missing}")


# ---- promql ----------------------------------------------------------------------------
def metric_names_and_labels():
    text = open(os.path.join(ROOT, "engine", "metrics.cc")).read()
    families = set(re.findall(r'family\(out, "(tlsgate_[a-z_]+)"', text))
    labels = set(re.findall(r'\{"([a-z_]+)", ', text))
    return families, labels


def check_promql(block):
    expr = "\n".join(l for l in block.lines if not l.lstrip().startswith("#")).strip()
    families, labels = metric_names_and_labels()
    names = set(re.findall(r"\btlsgate_[a-z_]+\b", expr))
    check(f"{block.where}: names tlsgate metrics, each one tlsgate writes",
          names and names <= families, f"unknown: {sorted(names - families)}")
    used = set(re.findall(r'\b([a-z_]+)\s*(?:=~|!~|!=|=)\s*"', expr))
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        used |= {g.strip() for g in group.split(",") if g.strip()}
    check(f"{block.where}: its labels are tlsgate's ({', '.join(sorted(used))})",
          used <= labels, f"unknown labels: {sorted(used - labels)}")
    promtool = shutil.which("promtool")
    if promtool is None:
        not_run.append(f"{block.where}: promtool check rules (no promtool here)")
        return
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules.yml")
        with open(rules, "w") as f:
            f.write("groups:\n  - name: docs\n    rules:\n      - record: docs:example\n"
                    "        expr: |\n" + "".join(f"          {l}\n" for l in expr.split("\n")))
        p = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
        check(f"{block.where}: promtool check rules parses it", p.returncode == 0,
              p.stdout + p.stderr)


# ---- log lines --------------------------------------------------------------------------
class LogLab:
    """tlsgate with etc/tlsgate.ini (and SECTION taken in) on a private port, its
    lines on stderr."""

    def __init__(self, section=""):
        self.dir = tempfile.mkdtemp(prefix="tlsgate-docs-")
        shutil.copy(os.path.join(ROOT, "etc", "legacy-networks.txt"), self.dir)
        ini = example_ini(section)
        ini = re.sub(r"(?m)^(user|group|pid_file) = .*\n", "", ini)
        ini = re.sub(r"(?m)^accounting_file = .*$",
                     f"accounting_file = {self.dir}/accounting.csv", ini)
        ini = re.sub(r"(?m)^metrics_file = .*$", f"metrics_file = {self.dir}/tlsgate.prom", ini)
        with open(os.path.join(self.dir, "tlsgate.ini"), "w") as f:
            f.write(ini)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = os.path.join(self.dir, "stderr")
        self.proc = subprocess.Popen(
            [TLSGATE, "-f", "-c", os.path.join(self.dir, "tlsgate.ini"), "-p",
             f"inet:{self.port}@127.0.0.1"], stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"))
        deadline = time.monotonic() + 20
        while "started: " not in self.text():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("tlsgate did not start:\n" + self.text())
            time.sleep(0.05)

    def text(self):
        return open(self.log, errors="replace").read()

    def decision_lines(self):
        out = []
        for l in self.text().splitlines():
            m = re.match(r"^tlsgate\[\d+\]: (.*)$", l)
            if m and not m.group(1).startswith(("started: ", "mta: ", "stopped", "reloaded ")):
                out.append(m.group(1))
        return out

    def produce(self, sample):
        """The lines tlsgate logs for a session with the sample's facts."""
        m = re.match(r"^(\S+): (.*)$", sample)
        qid = m.group(1)
        fields = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', m.group(2)))
        fields = {k: v[1:-1] if v.startswith('"') else v for k, v in fields.items()}
        mail = {}
        if fields.get("tls", "none") != "none":
            mail["{tls_version}"] = fields["tls"]
            for k, macro in (("cipher", "{cipher}"), ("bits", "{cipher_bits}")):
                if fields.get(k, "none") != "none":
                    mail[macro] = fields[k]
        if fields.get("auth", "none") != "none":
            mail["{auth_type}"] = fields["auth"]
            mail["{auth_authen}"] = fields.get("auth_user", "user")
        if fields.get("cert", "none") != "none":
            mail["{cert_subject}"] = fields["cert"]
            if "cert_issuer" in fields:
                mail["{cert_issuer}"] = fields["cert_issuer"]
        helo = {k: v for k, v in mail.items() if not k.startswith("{auth")}
        eom = {} if qid == "NOQUEUE" else {"{i}": qid}
        # The envelope: MAIL FROM in the sample's sender_domain (partners, issue 21),
        # RCPT TO in its rcpt_domain.
        domain = fields.get("sender_domain", "example.net")
        sender = {"<>": "<>", "(none)": "<postmaster>"}.get(domain, f"<sender@{domain}>")
        rcpt = f"<bob@{fields.get('rcpt_domain', 'example.test')}>"
        before = len(self.decision_lines())
        milter = Milter(f"inet:{self.port}@127.0.0.1", timeout=5)
        milter.negotiate()
        try:
            run_session(milter, "6" if ":" in fields["client"] else "4", fields["client"],
                        sender=sender, rcpts=(rcpt,), macros={"connect": {"v": "Postfix 3.7.11"}, "helo": helo,
                                "mail": mail, "rcpt": mail, "eom": eom})
        finally:
            milter.quit()
        deadline = time.monotonic() + 5
        while len(self.decision_lines()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)  # a second line (the message after a would-reject)
        return self.decision_lines()[before:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


labs = {}


def samples_of(block):
    out = []
    for l in block.lines:
        if block.kind == "demo":
            m = re.match(r"^\s*tlsgate  (.*)$", l)
            if m:
                out.append(m.group(1))
            continue
        if l[:1].isspace() and out:
            out[-1] += " " + l.strip()
            continue
        m = re.match(r"^(?:tlsgate\[\d+\]: )?(.*)$", l)
        if m.group(1).strip():
            out.append(m.group(1))
    return out


def check_log(block):
    section = with_section(block)
    if section not in labs:
        labs[section] = LogLab(section)
    lab = labs[section]
    for sample in samples_of(block):
        produced = lab.produce(sample)
        check(f"{block.where}: tlsgate logs {sample[:60]}...", sample in produced,
              "tlsgate logged instead:\n" + "\n".join(produced))


def main():
    blocks = [b for doc in DOCS for b in blocks_of(doc)]
    handlers = {"commands": check_commands, "main.cf": check_main_cf,
                "sendmail.mc": check_sendmail_mc, "ini": check_ini, "log": check_log,
                "demo": check_log, "synopsis": check_synopsis, "promql": check_promql}
    try:
        for b in blocks:
            if b.kind == "skip":
                check(f"{b.where}: skipped, with a reason ({b.arg})", bool(b.arg.strip()))
                continue
            handlers[b.kind](b)
        # The whole of contrib/postfix/main.cf, as installed.
        cf = open(os.path.join(ROOT, "contrib/postfix/main.cf")).read().split("\n")
        check_main_cf(Block("contrib/postfix/main.cf", 1, "main.cf", "", cf))
    finally:
        for lab in labs.values():
            lab.stop()
        for d in _example_copies.values():
            shutil.rmtree(d, ignore_errors=True)
    golden_dir = os.path.join(HERE, "golden")
    unused = sorted(set(os.listdir(golden_dir)) - goldens_used) if os.path.isdir(golden_dir) else []
    if args.update:
        for name in unused:
            os.remove(os.path.join(golden_dir, name))
    else:
        check("no file in t/docs/golden/ is left over from a command the docs no longer show",
              not unused, "\n".join(unused))
    print(f"not run (they need root, systemd or an MTA): {len(not_run)} command lines")
    print(f"docs: {len(blocks)} blocks, {check.passed} passed, {check.failed} failed")
    return check.exit_status()


sys.exit(main())
