#!/usr/bin/env python3
"""tlsgate report's HTML page in a real headless Chromium (Debian's chromium).

    report-html.py PAGE.html REPORT.json HOSTILE...

REPORT.json is `tlsgate report --format json` over the same files. Checks: the page
loads from the file alone (no other request), with no console error or warning, no
exception and no log entry (a Content-Security-Policy violation is one); each of the
three charts exists, is drawn, and shows exactly the numbers of REPORT.json; every
HOSTILE text (values from the network, put in the files) shows as text and ran
nothing: no dialog, window.pwned unset, only the page's three scripts, no image.
Prints one ok/FAIL line per check; exit status 1 if any failed.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cdp import Chromium  # noqa: E402

page_path, report_path, hostile = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(report_path) as f:
    report = json.load(f)
failed = 0


def check(what, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1
        if detail:
            print("    " + str(detail)[:2000])


def share(day):
    return (1000 * day["tls"] // day["accepted"]) / 10 if day["accepted"] else None


names = list(report["sources"])
dates = [d["date"] for d in report["total"]["days"]]
expected = {
    "chart-tls-share": {
        "labels": dates,
        "datasets": [[n, [next((share(d) for d in report["sources"][n]["days"] if d["date"] == x),
                               None) for x in dates]] for n in names]},
    "chart-tls-versions": {
        "labels": names,
        "datasets": [[v, [report["sources"][n]["accepted_by_tls_version"].get(v, 0) for n in names]]
                     for v in report["total"]["accepted_by_tls_version"]]},
    "chart-refusals": {
        "labels": list(report["total"]["reasons"]),
        "datasets": [[n, [report["sources"][n]["reasons"].get(r, 0)
                          for r in report["total"]["reasons"]]] for n in names]},
}

with Chromium() as browser:
    page = browser.new_page()
    url = "file://" + os.path.abspath(page_path)
    page.navigate(url)

    console = [e for e in page.events("Runtime.consoleAPICalled")
               if e["type"] in ("error", "warning", "assert")]
    check("no console error or warning", not console, console)
    exceptions = page.events("Runtime.exceptionThrown")
    check("no exception", not exceptions, exceptions)
    logs = [e["entry"] for e in page.events("Log.entryAdded")]
    check("no log entry (a CSP violation, a failed load, ...)", not logs, logs)
    requests = [e["request"]["url"] for e in page.events("Network.requestWillBeSent")]
    check("nothing fetched but the page itself (%d request)" % len(requests),
          requests == [url], requests)

    for chart_id, want in expected.items():
        got = page.evaluate("""(() => {
            const c = Chart.getChart(%s);
            if (!c) return null;
            return {labels: c.data.labels, drawn: c.width > 0 && c.height > 0,
                    datasets: c.data.datasets.map((d) => [d.label, d.data])};
        })()""" % json.dumps(chart_id))
        check(chart_id + ": present and drawn", bool(got and got["drawn"]), got)
        if got:
            check(chart_id + ": labels " + json.dumps(want["labels"])[:80],
                  got["labels"] == want["labels"], got["labels"])
            check(chart_id + ": %d datasets with the report's numbers" % len(want["datasets"]),
                  got["datasets"] == want["datasets"],
                  "got %s, want %s" % (got["datasets"], want["datasets"]))

    text = page.evaluate("document.body.innerText")
    for h in hostile:
        check("hostile value shown as text: " + h, h in text)
    check("no hostile script ran (window.pwned unset)",
          page.evaluate("typeof window.pwned") == "undefined")
    check("no dialog opened", not page.events("Page.javascriptDialogOpening"))
    check("only the page's three scripts", page.evaluate("document.scripts.length") == 3,
          page.evaluate("document.scripts.length"))
    check("no element from a value: no <img>, <b>, <i>",
          page.evaluate("document.querySelectorAll('img, b, i').length") == 0)

print("report-html: %s" % ("all passed" if failed == 0 else "%d failed" % failed))
sys.exit(1 if failed else 0)
