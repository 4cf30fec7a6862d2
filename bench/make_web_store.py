#!/usr/bin/env python3
"""Generate a findings store of a million findings for the review screen's
figures (`mamori serve`): p95 page times with 20 concurrent clients.

mamori itself creates the database (`mamori run --once` over a tiny share:
every migration, the key check, a run); the generator then inserts files,
findings, decisions' states and events straight into that schema (the
current one: it checks `PRAGMA user_version`), with the same columns and
forms the store writes: display paths under five roots (課), random keyed
hashes and fingerprints, masked values, first-seen times spread over twelve
weeks, 10% resolved, review states, outbound mail, unreadable files. It
then runs `mamori records` once so that every file has its records verdict,
and adds the users the load generator logs in as.

usage: python3 bench/make_web_store.py DIR [--findings 1000000] [--mamori target/release/mamori]
then:  bench/web_load.sh DIR        (serve, log in, wrk with 20 connections)
Not committed: the store is regenerated where it is measured.
"""
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DIR = os.path.abspath(sys.argv[1])
FINDINGS = int(sys.argv[sys.argv.index("--findings") + 1]) if "--findings" in sys.argv else 1_000_000
MAMORI = (
    sys.argv[sys.argv.index("--mamori") + 1]
    if "--mamori" in sys.argv
    else os.path.join(ROOT, "target", "release", "mamori")
)
PER_FILE = 10
ROOTS = ["総務課", "市民課", "税務課", "福祉課", "職員課"]
KINDS = [  # (kind, weight, masked form)
    ("person_name", 30, "山田 **"),
    ("phone_number", 15, "***-****-5678"),
    ("postal_address", 15, "東京都千代田区****"),
    ("birth_date", 10, "昭和**年**月**日"),
    ("email_address", 8, "****@example.jp"),
    ("my_number", 12, "********6428"),
    ("bank_account", 4, "******7890"),
    ("resident_code", 2, "*******9608"),
    ("basic_pension_number", 2, "******7810"),
    ("corporate_number", 2, "*********0002"),
]
STATES = [("open", 85), ("confirmed", 5), ("false_positive", 4), ("remediated", 3), ("retained", 2), ("hold", 1)]
PASSWORD = "load test password"

random.seed(12)


def run(args, stdin=None, quiet=False):
    env = dict(os.environ, MAMORI_STATE_DIR=os.path.join(DIR, "state"), MAMORI_OCR="off", MAMORI_LOG="warn")
    out = subprocess.DEVNULL if quiet else None
    subprocess.run(args, check=True, input=stdin, text=True, env=env, stdout=out)


def main():
    share = os.path.join(DIR, "share")
    for r in ROOTS:
        os.makedirs(os.path.join(share, r), exist_ok=True)
        with open(os.path.join(share, r, "seed.txt"), "w") as f:
            f.write("氏名 山田 太郎\n")
    cfg = os.path.join(DIR, "mamori.toml")
    with open(cfg, "w") as f:
        f.write(f'[store]\ndatabase = "{DIR}/state/mamori.db"\n')
        for r in ROOTS:
            f.write(f'[[root]]\npath = "{share}/{r}"\nlabel = "{r}"\nwatch = "poll"\n')
        f.write("[[retention]]\npath = \"**/平成*年度/**\"\nclass = \"一般文書\"\nyears = 5\naction = \"廃棄\"\n")
        f.write("[[my_number_area]]\npath = \"**/賦課/**\"\npurpose = \"個人住民税の賦課\"\n")
        f.write("[web]\nsession_idle_secs = 3600\n")
    run([MAMORI, "run", "--once", "--config", cfg])

    db = sqlite3.connect(os.path.join(DIR, "state", "mamori.db"))
    version = db.execute("PRAGMA user_version").fetchone()[0]
    run_id, detector_set = db.execute("SELECT last_run_id, detector_set FROM files WHERE last_run_id IS NOT NULL LIMIT 1").fetchone()
    print(f"schema {version}; inserting {FINDINGS} findings", file=sys.stderr)

    now = datetime.now(timezone.utc)
    ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    kinds = [k for k, w, _ in KINDS for _ in range(w)]
    masked = {k: m for k, _, m in KINDS}
    states = [s for s, w in STATES for _ in range(w)]
    files = FINDINGS // PER_FILE
    start = time.time()
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    with db:
        for i in range(files):
            root = ROOTS[i % len(ROOTS)]
            year = random.choice(["平成29年度", "平成30年度", "令和元年度", "令和3年度", "令和5年度", "令和6年度"])
            folder = random.choice(["賦課", "名簿", "申請書", "照会", "連絡"])
            ext, fmt = random.choice([("xlsx", "xlsx"), ("docx", "docx"), ("pdf", "pdf"), ("csv", "csv"), ("eml", "eml")])
            path = f"{share}/{root}/{year}/{folder}/文書_{i:06d}.{ext}"
            first = now - timedelta(days=random.uniform(0, 84))
            unreadable = None
            if random.random() < 0.01:
                unreadable = random.choice(["encrypted", "corrupt", "image_only", "too_large"])
            cur = db.execute(
                """INSERT INTO files(path, path_key, root, size, mtime_ns, content_hash, detector_set, format,
                       first_seen_at, last_scanned_at, last_run_id, unreadable_reason, scan_seq)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
                (path, os.urandom(32), f"{share}/{root}", random.randint(2000, 2_000_000),
                 int(first.timestamp() * 1e9), os.urandom(32), detector_set, fmt, ts(first), ts(now), run_id, unreadable),
            )
            file_id = cur.lastrowid
            db.execute("INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?, ?, 'file_added', ?, ?)",
                       (ts(first), run_id, file_id, path))
            outbound = ext == "eml" and random.random() < 0.3
            rows = []
            for j in range(PER_FILE):
                kind = random.choice(kinds)
                seen = first + timedelta(minutes=j)
                resolved = ts(now - timedelta(days=random.uniform(0, 30))) if random.random() < 0.1 else None
                rows.append((
                    file_id, "message 1" if outbound else "", kind, random.choice(["low", "medium", "high", "high"]),
                    f"line {j + 1}", masked[kind], os.urandom(32), f"gen_{kind}", 1, ts(seen), ts(now), run_id, 1,
                    "outbound_leak_candidate" if outbound else None, "example.co.jp" if outbound else None,
                    resolved, "not found on rescan" if resolved else None, random.choice(states),
                ))
            db.executemany(
                """INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint, detector_id,
                       detector_version, first_seen_at, last_seen_at, last_run_id, scan_seq, flags, recipient_domains,
                       resolved_at, resolve_reason, review_state)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
            if i % 10000 == 0 and i:
                print(f"  {i * PER_FILE} findings ({time.time() - start:.0f} s)", file=sys.stderr)
    # The verdicts of `run --once` are of today and these rules: mark them
    # out of date (as a scan without rules does) so that `mamori records`
    # evaluates every file. No ANALYZE: the store never runs it.
    db.execute("DELETE FROM meta WHERE key = 'records_as_of'")
    db.commit()
    db.close()
    print(f"inserted in {time.time() - start:.0f} s; evaluating records", file=sys.stderr)
    t = time.time()
    run([MAMORI, "records", "--config", cfg, "--format", "jsonl"], quiet=True)
    print(f"records evaluated in {time.time() - t:.0f} s", file=sys.stderr)
    for name, role in [("load", "reviewer"), ("admin", "admin")]:
        run([MAMORI, "user", "add", name, "--role", role, "--config", cfg], stdin=PASSWORD + "\n")


if __name__ == "__main__":
    main()
