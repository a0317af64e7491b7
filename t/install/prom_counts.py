#!/usr/bin/env python3
"""Compares tlsgate series in a Prometheus text file with the expected ones.

  prom_counts.py FILE SESSIONS EXPECTED

Every series of EXPECTED (lines "name{labels} value") must have its value in FILE,
and the final decisions in FILE (tlsgate_decisions_total but would-reject) must add
up to SESSIONS. Series are compared as Prometheus reads them: label order does not
matter and an empty label is no label (node_exporter re-renders tlsgate's file that
way). What differs goes to stderr; exit 1 if anything does.
"""
import re
import sys

SAMPLE = re.compile(r'^(tlsgate_\w+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def series(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        m = SAMPLE.match(line.strip())
        if m:
            labels = tuple(sorted((k, v) for k, v in LABEL.findall(m[2] or "") if v))
            out[(m[1], labels)] = float(m[3])
    return out


got, want = series(sys.argv[1]), series(sys.argv[3])
wrong = [f"{name}{dict(labels)}: {got.get((name, labels))}, want {v:g}"
         for (name, labels), v in want.items() if got.get((name, labels)) != v]
final = sum(v for (name, labels), v in got.items()
            if name == "tlsgate_decisions_total" and ("action", "would-reject") not in labels)
if final != float(sys.argv[2]):
    wrong.append(f"final decisions add up to {final:g}, {sys.argv[2]} sessions were sent")
print("\n".join(wrong), file=sys.stderr)
sys.exit(1 if wrong else 0)
