#!/usr/bin/env python3
"""Generate a large mbox (default 1 GB) of real MIME messages, built by
Python's email package, with PDF, xlsx and docx attachments from
tests/fixtures/docs, for `mamori scan` speed and memory measurements.

usage: python3 bench/make_mbox.py OUT.mbox [--mb 1024]
then:  /usr/bin/time -v target/release/mamori scan --internal-domain city.example.lg.jp OUT.mbox
"""
import os
import random
import sys
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(ROOT, "tests", "fixtures", "docs")
OUT = sys.argv[1]
MB = int(sys.argv[sys.argv.index("--mb") + 1]) if "--mb" in sys.argv else 1024
random.seed(1)
attachments = [
    ("請求書.pdf", "application", "pdf", open(os.path.join(DOCS, "cid_unijis.pdf"), "rb").read()),
    ("名簿.xlsx", "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     open(os.path.join(DOCS, "meibo.xlsx"), "rb").read()),
    ("申請書.docx", "application", "vnd.openxmlformats-officedocument.wordprocessingml.document",
     open(os.path.join(DOCS, "request_form.docx"), "rb").read()),
]
prose = "本市では、令和6年度の予算編成にあたり、市民サービスの向上と財政の健全化を両立させることを基本方針としています。\n"


def blob(i):
    m = EmailMessage(policy=policy.SMTP)
    m["From"] = "soumu@city.example.lg.jp"
    m["To"] = random.choice(["zaisei@city.example.lg.jp", "uketsuke@example.co.jp"])
    m["Subject"] = f"文書送付 第{i}号"
    m["Date"] = formatdate(1700000000 + i * 60)
    m.set_content(prose * random.randint(5, 40), charset="iso-2022-jp")
    for name, maintype, subtype, data in random.sample(attachments, random.randint(0, 2)):
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


blobs = [blob(i) for i in range(40)]
written = 0
n = 0
with open(OUT, "wb") as f:
    while written < MB * 1_000_000:
        b = blobs[n % len(blobs)]
        line = b"From soumu@city.example.lg.jp Tue Nov 14 23:13:20 2023\n"
        body = b.replace(b"\nFrom ", b"\n>From ")
        f.write(line + body + b"\n")
        written += len(line) + len(body) + 1
        n += 1
print(f"{n} messages, {written / 1e6:.0f} MB in {OUT}")
