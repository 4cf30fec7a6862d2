#!/usr/bin/env python3
"""Precision and recall of `mamori scan` on the share made by make_city_share.py.

usage: python3 bench/evaluate.py OUTDIR [--mamori PATH] [--min-confidence low|medium|high]
                                        [--internal-domain DOMAIN] [--misses]

Runs `mamori scan --format jsonl` on OUTDIR/share with the key in
OUTDIR/eval.key (so that finding fingerprints can be compared with the
truth's) and prints precision, recall and F1 per format and per kind, at the
default confidence (every finding, `low` and up) and at `medium` and up.
Columns: truth items, items found, findings that show an item (right),
findings that show none (false); precision = right / (right + false),
recall = found / truth.

Matching, per file and kind: a finding shows a truth item when its
fingerprint equals one of the item's (the value as mamori normalises it, in
any of the forms the generator may have printed it), or, except for dates,
when its masked form equals the item's. Truth items are counted (found or
missed); findings are counted as right or false (a value that occurs three
times in a file gives three right findings). A finding that shows no truth
item is a false positive; a truth item that no finding shows is a miss. `--misses` lists misses and false positives by
file, kind and masked form (never full values).
"""
import collections
import json
import os
import subprocess
import sys

OUT = os.path.abspath(sys.argv[1])


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


MAMORI = arg("--mamori", "target/release/mamori")
DOMAIN = arg("--internal-domain", "city.example.lg.jp")
SHARE = os.path.join(OUT, "share")
LEVELS = {"low": 0, "medium": 1, "high": 2}


def fmt_of(path, member):
    name = member.split("/")[-1] if member else path
    ext = os.path.splitext(name)[1].lower().lstrip(".")
    return ext or "?"


def scan():
    cmd = [MAMORI, "scan", "--format", "jsonl", "--no-progress", "--key-file", os.path.join(OUT, "eval.key"),
           "--internal-domain", DOMAIN, SHARE]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    findings = []
    for line in res.stdout.splitlines():
        f = json.loads(line)
        if f["kind"] == "unreadable":
            print("unreadable: %s %s %s" % (os.path.relpath(f["path"], SHARE), f.get("member"), f.get("reason")))
            continue
        f["file"] = os.path.relpath(f["path"], SHARE)
        findings.append(f)
    return findings


def matches(f, t):
    """A finding shows a truth item: the same normalised value (fingerprint),
    or the same masked form (a span mamori cut differently); dates only by
    value, since their masked forms (19********) say too little."""
    if f["fingerprint"] in t["fingerprints"]:
        return True
    return t["kind"] != "birth_date" and f["masked"] in t["masked"]


def evaluate(findings, truth, min_level):
    fs = [f for f in findings if LEVELS[f["confidence"]] >= LEVELS[min_level]]
    by_key = collections.defaultdict(list)
    for f in fs:
        by_key[(f["file"], f["kind"])].append(f)
    truth_by_key = collections.defaultdict(list)
    for t in truth:
        truth_by_key[(t["file"], t["kind"])].append(t)
    tp = collections.Counter()
    fn = collections.Counter()
    fp = collections.Counter()
    right = collections.Counter()
    misses, false_pos = [], []
    for key in set(by_key) | set(truth_by_key):
        file, kind = key
        found = by_key.get(key, [])
        items = truth_by_key.get(key, [])
        # A value may occur several times in a file (a name in the From
        # header, the body and the signature): each finding that shows a
        # truth item is right, and an item is found when any finding shows it.
        for t in items:
            fmt = fmt_of(file, t.get("member"))
            if any(matches(f, t) for f in found):
                tp[(fmt, kind)] += 1
            else:
                fn[(fmt, kind)] += 1
                misses.append((file, kind, t["masked"][0]))
        for f in found:
            if any(matches(f, t) for t in items):
                right[(fmt_of(file, f.get("member")), kind)] += 1
            else:
                fp[(fmt_of(file, f.get("member")), kind)] += 1
                false_pos.append((file, kind, f["masked"], f["confidence"], f["location"]))
    return tp, fn, fp, right, misses, false_pos


def prf(tp, fn, fp, right):
    p = right / (right + fp) if right + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if p == p and r == r and p + r else float("nan")
    return p, r, f


def table(title, tp, fn, fp, right, axis):
    groups = sorted({k[axis] for k in list(tp) + list(fn) + list(fp) + list(right)})
    print("\n%s" % title)
    print("%-26s %6s %6s %6s %6s %9s %7s %6s" % ("", "truth", "found", "right", "false", "precision", "recall", "F1"))
    total = [0, 0, 0, 0]
    for g in groups:
        t = sum(v for k, v in tp.items() if k[axis] == g)
        n = sum(v for k, v in fn.items() if k[axis] == g)
        f = sum(v for k, v in fp.items() if k[axis] == g)
        ok = sum(v for k, v in right.items() if k[axis] == g)
        total = [total[0] + t, total[1] + n, total[2] + f, total[3] + ok]
        p, r, f1 = prf(t, n, f, ok)
        print("%-26s %6d %6d %6d %6d %9.3f %7.3f %6.3f" % (g, t + n, t, ok, f, p, r, f1))
    p, r, f1 = prf(*total)
    print("%-26s %6d %6d %6d %6d %9.3f %7.3f %6.3f" % ("all", total[0] + total[1], total[0], total[3], total[2], p, r, f1))


def main():
    truth = [json.loads(l) for l in open(os.path.join(OUT, "truth.jsonl"), encoding="utf-8")]
    findings = scan()
    print("mamori: %s; %d findings, %d truth items" % (MAMORI, len(findings), len(truth)))
    levels = [arg("--min-confidence", None)] if "--min-confidence" in sys.argv else ["low", "medium"]
    for level in levels:
        tp, fn, fp, right, misses, false_pos = evaluate(findings, truth, level)
        table("== per format, confidence >= %s" % level, tp, fn, fp, right, 0)
        table("== per kind, confidence >= %s" % level, tp, fn, fp, right, 1)
        if "--misses" in sys.argv:
            print("\nmisses (>= %s):" % level)
            for m in sorted(misses):
                print("  %s  %s  %s" % m)
            print("\nfalse positives (>= %s):" % level)
            for m in sorted(false_pos):
                print("  %s  %s  %s  %s  %s" % m)


main()
