#!/usr/bin/env python3
"""Generate a mixed benchmark corpus with real tools: python-docx, openpyxl,
python-pptx, reportlab (CID font), LibreOffice (PDF of Word files), Python's
csv/zipfile. Synthetic personal data, valid My Numbers.

usage: python3 bench/make_corpus.py OUTDIR [--scale N]   (default N=1: ~60 MB)
then:  cargo run --release -- bench --corpus OUTDIR
Not committed: the corpus is regenerated where it is measured.
"""
import csv
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile

from docx import Document
import openpyxl
from pptx import Presentation
from pptx.util import Inches
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

OUT = os.path.abspath(sys.argv[1])
SCALE = int(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 1
random.seed(20241124)
os.makedirs(OUT, exist_ok=True)
SUR = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"]
GIV = ["太郎", "花子", "一郎", "美咲", "翔太", "さくら", "健", "由美"]
ADDR = ["東京都千代田区霞が関三丁目1番1号", "大阪府大阪市北区中之島1-3-20", "神奈川県横浜市中区本町6-50-10"]
PROSE = ["本市では、令和6年度の予算編成にあたり、市民サービスの向上と財政の健全化を両立させることを基本方針としています。",
         "公文書の管理に関する条例第5条の規定により、各課は文書の保存期間を定め、適切に管理しなければなりません。",
         "防災訓練は毎年9月に実施しており、今年度は約1,200名の市民が参加しました。"]


def mn():
    b = "".join(str(random.randint(0, 9)) for _ in range(11))
    r = sum(int(c) * w for c, w in zip(b, [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])) % 11
    return b + str(0 if r <= 1 else 11 - r)


def person():
    return (random.choice(SUR) + " " + random.choice(GIV), mn(), random.choice(ADDR),
            "090-%04d-%04d" % (random.randint(0, 9999), random.randint(0, 9999)))


n = 0
# A file share is mostly prose with a few lists: Word files of prose with a
# small table of people, a few large resident lists (xlsx, csv).
for i in range(30 * SCALE):
    d = Document()
    for _ in range(400):
        d.add_paragraph(random.choice(PROSE))
    t = d.add_table(rows=6, cols=4)
    for c, h in enumerate(["氏名", "個人番号", "住所", "電話番号"]):
        t.cell(0, c).text = h
    for r in range(1, 6):
        for c, v in enumerate(person()):
            t.cell(r, c).text = v
    d.save(os.path.join(OUT, f"doc{i:03}.docx"))
for i in range(4 * SCALE):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["氏名", "個人番号", "住所", "電話番号", "備考"])
    for _ in range(2000):
        ws.append(list(person()) + [random.choice(PROSE)])
    wb.save(os.path.join(OUT, f"book{i:03}.xlsx"))
pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
for i in range(10 * SCALE):
    c = canvas.Canvas(os.path.join(OUT, f"cid{i:03}.pdf"), pagesize=A4)
    for page in range(30):
        c.setFont("HeiseiMin-W3", 10)
        y = 800
        name, m, a, p = person()
        c.drawString(40, y, f"申請者 {name} 個人番号 {m}")
        for _ in range(34):
            y -= 20
            c.drawString(40, y, random.choice(PROSE)[:40])
        c.showPage()
    c.save()
for i in range(6 * SCALE):
    prs = Presentation()
    for _ in range(20):
        s = prs.slides.add_slide(prs.slide_layouts[5])
        s.shapes.title.text = "申請者一覧"
        box = s.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(4))
        box.text_frame.text = "\n".join(" ".join(person()) for _ in range(8))
    prs.save(os.path.join(OUT, f"deck{i:03}.pptx"))
for i in range(2 * SCALE):
    with open(os.path.join(OUT, f"list{i:03}.csv"), "w", encoding="cp932", newline="") as f:
        w = csv.writer(f)
        w.writerow(["氏名", "個人番号", "住所", "電話番号"])
        for _ in range(5000):
            w.writerow(person())
# LibreOffice PDFs of some Word files (TrueType subsets with ToUnicode).
if shutil.which("soffice"):
    with tempfile.TemporaryDirectory() as tmp:
        srcs = [os.path.join(OUT, f"doc{i:03}.docx") for i in range(4 * SCALE)]
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp] + srcs,
                       check=True, capture_output=True)
        for f in os.listdir(tmp):
            shutil.move(os.path.join(tmp, f), os.path.join(OUT, "lo_" + f))
# Zips of documents, as mailed or archived.
for i in range(4 * SCALE):
    with zipfile.ZipFile(os.path.join(OUT, f"archive{i:03}.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for name in random.sample(sorted(x for x in os.listdir(OUT) if x.endswith((".docx", ".csv"))), 3):
            z.write(os.path.join(OUT, name), "docs/" + name)
total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
print(f"{len(os.listdir(OUT))} files, {total / 1e6:.1f} MB in {OUT}")
