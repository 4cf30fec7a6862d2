#!/usr/bin/env python3
"""Make a realistic city file share with real tools, and its ground truth.

usage: python3 bench/make_city_share.py OUTDIR [--rows N] [--seed N] [--heldout]
then:  python3 bench/evaluate.py OUTDIR [--mamori target/release/mamori]

Writes OUTDIR/share/ (the documents), OUTDIR/truth.jsonl (which identifier of
which kind is in which file) and OUTDIR/eval.key (the fingerprint key the
evaluation scans with). The truth file never holds a full value: each line has
the file, the kind, the HMAC-SHA256 fingerprints (under eval.key) of the ways
mamori may normalise the value, and its masked form.

The share is what a city office's file server holds (issue 13):
- lists made with openpyxl with title rows, a 取扱注意 line, a date, notes below
  the list, two-row headers with merged group cells, two tables in one sheet;
  every identifier kind in a column of its own; a 12-digit column that is not
  My Number (check digits fail); a list whose My Number column has no telling
  header; LibreOffice conversions of them to xls and ods;
- CP932 CSV extracts of 住基, 税 and 福祉 systems with romanised headers
  (KOJIN_NO, JUMINHYO_CD, SHIMEI …), a TSV with English headers, a CSV saved
  from a list with title rows;
- LibreOffice PDF exports of lists;
- Word application forms (python-docx) with 氏名 cells and a list table;
- citizen and partner mails (Python's email package) with signatures, plus a
  staff reply;
- documents without personal data: a 予算編成方針, notices (お知らせ), minutes,
  and a blank form with a 記入例 block.

All personal data is synthetic; My Numbers and 法人番号 carry valid check digits.
Needs: openpyxl, python-docx, LibreOffice (soffice --headless).
"""
import collections
import csv
import datetime as dt
import email.message
import email.policy
import email.utils
import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import unicodedata

import openpyxl
from openpyxl.styles import Alignment, Font
from docx import Document

OUT = os.path.abspath(sys.argv[1])
ROWS = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 24
SHARE = os.path.join(OUT, "share")
SEED = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 20250113
random.seed(SEED)
if os.path.exists(OUT):
    shutil.rmtree(OUT)
os.makedirs(SHARE)
KEY = secrets.token_bytes(32)
# mamori refuses a key file others can read (0600 only).
with open(os.open(os.path.join(OUT, "eval.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    f.write(KEY.hex() + "\n")

# ------------------------------------------------------------------ identifiers

def my_number(base11=None):
    base11 = base11 or "".join(random.choice("0123456789") for _ in range(11))
    w = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    r = sum(int(c) * x for c, x in zip(base11, w)) % 11
    return base11 + str(0 if r <= 1 else 11 - r)


def not_my_number():
    """12 digits whose check digit fails (a 受付番号)."""
    while True:
        s = "".join(random.choice("0123456789") for _ in range(12))
        if my_number(s[:11]) != s and s[0] != "0":
            return s


def corporate_number():
    base = "".join(random.choice("0123456789") for _ in range(12))
    s = sum(int(base[12 - n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return str(9 - s % 9) + base


def resident_code():
    d = "".join(random.choice("0123456789") for _ in range(10))
    w = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5]
    s = sum(int(c) * x for c, x in zip(reversed(d), w)) % 11
    return d + str(0 if s <= 1 else 11 - s)


def pension():
    return "%04d-%06d" % (random.randint(1000, 9999), random.randint(0, 999999))


def passport():
    return random.choice(["TK", "TR", "MZ", "TZ", "RE"]) + "%07d" % random.randint(0, 9999999)


def licence():
    pp = random.choice(["30", "45", "62", "10", "50"])
    d10 = pp + "%02d" % random.randint(80, 99) + "%06d" % random.randint(0, 999999)
    c = (11 - sum(int(a) * b for a, b in zip(d10, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])) % 11) % 10
    return d10 + str(c) + "0"


def insured():
    return "%08d" % random.randint(1, 99999999)


def account():
    return "%07d" % random.randint(1000000, 9999999)


def mobile():
    return "0%d0-%04d-%04d" % (random.choice([7, 8, 9]), random.randint(1000, 9999), random.randint(0, 9999))


def fixed():
    area = random.choice([("0467", 2), ("045", 3), ("03", 4), ("0466", 2), ("046", 3)])
    mid = "%0*d" % (area[1], random.randint(10 ** (area[1] - 1), 10 ** area[1] - 1))
    return area[0], mid, "%04d" % random.randint(0, 9999)


SURNAMES = [("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("五十嵐", "イガラシ"), ("長谷川", "ハセガワ"),
            ("齋藤", "サイトウ"), ("渡邉", "ワタナベ"), ("小野寺", "オノデラ"), ("猪狩", "イガリ"),
            ("大和田", "オオワダ"), ("菅原", "スガワラ"), ("千葉", "チバ"), ("及川", "オイカワ"),
            ("熊谷", "クマガイ"), ("阿部", "アベ"), ("工藤", "クドウ"), ("早坂", "ハヤサカ"),
            ("若林", "ワカバヤシ"), ("土屋", "ツチヤ"), ("桑原", "クワバラ"), ("根本", "ネモト"),
            ("宍戸", "シシド"), ("栗田", "クリタ"), ("蓮見", "ハスミ"), ("東海林", "ショウジ"),
            ("新井", "アライ"), ("相澤", "アイザワ"), ("今野", "コンノ"), ("三浦", "ミウラ"),
            ("橘", "タチバナ"), ("森", "モリ"), ("藤本", "フジモト"), ("野口", "ノグチ")]
GIVEN = [("七夏", "ナナカ"), ("陽翔", "ハルト"), ("結衣", "ユイ"), ("蒼", "アオイ"), ("湊", "ミナト"),
         ("芽依", "メイ"), ("悠真", "ユウマ"), ("紬", "ツムギ"), ("大和", "ヤマト"), ("琴音", "コトネ"),
         ("健二", "ケンジ"), ("恵子", "ケイコ"), ("和夫", "カズオ"), ("幸子", "サチコ"), ("弘", "ヒロシ"),
         ("直樹", "ナオキ"), ("美穂", "ミホ"), ("拓海", "タクミ"), ("凛", "リン"), ("颯太", "ソウタ"),
         ("あすか", "アスカ"), ("さくら", "サクラ"), ("ひなた", "ヒナタ"), ("ゆい", "ユイ"),
         ("こはる", "コハル"), ("みのり", "ミノリ"), ("エミ", "エミ"), ("ナオミ", "ナオミ"),
         ("ゆり子", "ユリコ"), ("さち子", "サチコ"), ("はる香", "ハルカ"), ("千尋", "チヒロ")]
TOWNS = [("神奈川県", "藤沢市", ["鵠沼海岸", "辻堂元町", "湘南台", "片瀬"]),
         ("神奈川県", "茅ヶ崎市", ["東海岸北", "松浪", "共恵"]),
         ("東京都", "八王子市", ["元本郷町", "子安町", "明神町"]),
         ("宮城県", "仙台市青葉区", ["一番町", "国分町", "本町"])]


# Names not used while the detectors were developed (--heldout): a check
# that name detection is not fitted to the pools above.
HELDOUT_SURNAMES = [("高木", "タカギ"), ("松下", "マツシタ"), ("安藤", "アンドウ"), ("宮本", "ミヤモト"), ("内田", "ウチダ"),
                    ("菅野", "カンノ"), ("服部", "ハットリ"), ("増田", "マスダ"), ("北村", "キタムラ"), ("岩崎", "イワサキ"),
                    ("荒木", "アラキ"), ("久保", "クボ"), ("桜井", "サクライ"), ("杉山", "スギヤマ"), ("関", "セキ"),
                    ("柴田", "シバタ"), ("河合", "カワイ"), ("勅使河原", "テシガワラ"), ("小鳥遊", "タカナシ"),
                    ("薬師寺", "ヤクシジ"), ("我妻", "アガツマ"), ("四方田", "ヨモダ"), ("百瀬", "モモセ"), ("一ノ瀬", "イチノセ")]
HELDOUT_GIVEN = [("蓮", "レン"), ("樹", "イツキ"), ("陽菜", "ヒナ"), ("凪", "ナギ"), ("朝陽", "アサヒ"), ("結菜", "ユイナ"),
                 ("悠人", "ユウト"), ("莉子", "リコ"), ("蒼空", "ソラ"), ("心春", "コハル"), ("節子", "セツコ"), ("勝", "マサル"),
                 ("美智子", "ミチコ"), ("一輝", "カズキ"), ("あかり", "アカリ"), ("ほのか", "ホノカ"), ("つばさ", "ツバサ"),
                 ("ミカ", "ミカ"), ("まゆみ", "マユミ"), ("由紀子", "ユキコ"), ("奈々", "ナナ"), ("柚希", "ユズキ"),
                 ("湊斗", "ミナト"), ("さゆり", "サユリ")]
if "--heldout" in sys.argv:
    SURNAMES, GIVEN = HELDOUT_SURNAMES, HELDOUT_GIVEN


def person():
    (s, sr), (g, gr) = random.choice(SURNAMES), random.choice(GIVEN)
    return s, g, sr, gr


def address():
    pref, city, towns = random.choice(TOWNS)
    return "%s%s%s%d丁目%d番%d号" % (pref, city, random.choice(towns), random.randint(1, 6),
                                 random.randint(1, 30), random.randint(1, 20))


def birth():
    return dt.date(1940, 1, 1) + dt.timedelta(days=random.randint(0, 365 * 70))


def wareki(d):
    for name, start, off in [("令和", dt.date(2019, 5, 1), 2018), ("平成", dt.date(1989, 1, 8), 1988),
                             ("昭和", dt.date(1926, 12, 25), 1925)]:
        if d >= start:
            y = d.year - off
            return "%s%s年%d月%d日" % (name, "元" if y == 1 else y, d.month, d.day)
    return d.isoformat()


def email_of(surname_reading, given_reading):
    roma = {"ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o"}
    tag = "".join(random.choice("abcdefghijkmnprstuwyz") for _ in range(6))
    return "%s.%s%d@%s" % (tag, roma.get(given_reading[0], "k"), random.randint(1, 99),
                           random.choice(["example.ne.jp", "example.com", "mail.example.jp"]))


# ------------------------------------------------------------------ truth

TRUTH = []
STRIP = {"my_number": " -\t", "corporate_number": " -", "resident_code": " -", "drivers_license_number": " -",
         "credit_card": " -", "phone_number": " -()", "birth_date": " "}
KEEP = {"my_number": (0, 4), "corporate_number": (0, 4), "resident_code": (0, 4), "basic_pension_number": (0, 4),
        "passport_number": (0, 3), "drivers_license_number": (0, 4), "health_insurance_number": (0, 2),
        "credit_card": (0, 4), "bank_account": (0, 3), "phone_number": (0, 4), "email_address": (1, 2),
        "postal_address": (3, 0), "birth_date": (2, 0), "person_name": (2, 0)}


def nfkc(s):
    return unicodedata.normalize("NFKC", s)


def fingerprint(kind, value):
    v = nfkc(value)
    v = "".join(c for c in v if c not in STRIP.get(kind, ""))
    return hmac.new(KEY, kind.encode() + b"\0" + v.encode(), hashlib.sha256).hexdigest()


def mask(value, keep_first, keep_last):
    sep = set(" -./:@\u3000")
    sig = sum(1 for c in value if c not in sep)
    budget = min(4, sig // 2)
    first = min(keep_first, budget)
    last = min(keep_last, budget - first)
    out, seen = [], 0
    for c in value:
        if c in sep:
            out.append(c)
            continue
        seen += 1
        out.append(c if seen <= first or seen > sig - last else "*")
    return "".join(out)


def variants(kind, value):
    """The texts mamori may see for one value (a date cell prints as YYYY/MM/DD …)."""
    if isinstance(value, dt.date):
        d = value
        return [d.strftime("%Y/%m/%d"), "%d/%d/%d" % (d.year, d.month, d.day), d.strftime("%Y-%m-%d"),
                wareki(d), "%d年%d月%d日" % (d.year, d.month, d.day), d.strftime("%Y%m%d"),
                "%d/%02d/%02d" % (d.year, d.month, d.day)]
    v = [value]
    if kind == "person_name":
        v += [value.replace(" ", ""), value.replace(" ", "\u3000")]
    if kind == "phone_number":
        v.append("".join(c for c in value if c.isdigit()))
    return v


def truth(path, kind, value, member=None):
    rel = os.path.relpath(path, SHARE)
    vs = variants(kind, value)
    shown = vs[0]
    TRUTH.append({"file": rel, "member": member, "kind": kind,
                  "fingerprints": sorted({fingerprint(kind, x) for x in vs}),
                  "masked": [mask(nfkc(x), *KEEP[kind]) for x in vs], "shown_len": len(nfkc(shown))})


def path(*parts):
    p = os.path.join(SHARE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# ------------------------------------------------------------------ LibreOffice

LO_PROFILE = tempfile.mkdtemp(prefix="lo_city_")


def soffice(src, fmt, outdir):
    subprocess.run(["soffice", "-env:UserInstallation=file://" + LO_PROFILE, "--headless",
                    "--convert-to", fmt, "--outdir", outdir, src],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)


def converted(src, ext, fmt=None, dest_dir=None):
    """Converts src with LibreOffice; records the same truth for the copy."""
    dest_dir = dest_dir or os.path.dirname(src)
    tmp = tempfile.mkdtemp()
    soffice(src, fmt or ext, tmp)
    base = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(dest_dir, base + "." + ext)
    shutil.move(os.path.join(tmp, base + "." + ext), out)
    src_rel = os.path.relpath(src, SHARE)
    for t in [t for t in TRUTH if t["file"] == src_rel]:
        c = dict(t)
        c["file"] = os.path.relpath(out, SHARE)
        TRUTH.append(c)
    return out


# ------------------------------------------------------------------ spreadsheets

def printable(wb):
    """Landscape, one page wide: how a list is set up before 「PDF で保存」."""
    for ws in wb.worksheets:
        widths = collections.defaultdict(int)
        merged = {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                  for c in range(m.min_col, m.max_col + 1)}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or (cell.row, cell.column) in merged or cell.row < 4:
                    continue
                text = cell.value.strftime("%Y/%m/%d") if isinstance(cell.value, dt.date) else str(cell.value)
                w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
                widths[cell.column_letter] = max(widths[cell.column_letter], w)
        for letter, w in widths.items():
            ws.column_dimensions[letter].width = min(60, w * 1.15 + 2)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    return wb


def title_rows(ws, title, width, extra=True):
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    if extra:
        ws.cell(2, 1, "取扱注意（個人情報）")
        ws.cell(2, width, "令和6年4月1日現在")
        ws.cell(3, width, "福祉部 福祉総務課")
    return 5


def list_with_title_rows(p):
    """児童手当受給者名簿: title, 取扱注意, date, blank, header in row 5, notes below."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "受給者名簿"
    head = ["No.", "氏名", "フリガナ", "生年月日", "住所", "電話番号", "個人番号", "備考"]
    r0 = title_rows(ws, "令和6年度 児童手当 受給者名簿", len(head))
    for c, h in enumerate(head, 1):
        ws.cell(r0, c, h).font = Font(bold=True)
    for i in range(ROWS):
        s, g, sr, gr = person()
        b, a, mn = birth(), address(), my_number()
        tel = mobile() if i % 2 else "%s-%s-%s" % fixed()
        row = [i + 1, "%s %s" % (s, g), "%s %s" % (sr, gr), b, a, tel, int(mn) if i % 3 == 0 else mn,
               "転入" if i % 7 == 0 else None]
        for c, v in enumerate(row, 1):
            cell = ws.cell(r0 + 1 + i, c, v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy/mm/dd"
            elif isinstance(v, int) and v > 10 ** 9:
                cell.number_format = "0"
        truth(p, "person_name", "%s %s" % (s, g))
        truth(p, "person_name", "%s %s" % (sr, gr))  # the reading is the name too
        truth(p, "birth_date", b)
        truth(p, "postal_address", a)
        truth(p, "phone_number", tel)
        # Excel drops a leading zero of a number: mamori restores it in a 個人番号 column.
        truth(p, "my_number", mn)
    n = r0 + ROWS + 2
    ws.cell(n, 1, "※ 個人番号は番号法に基づき厳重に管理すること。")
    ws.cell(n + 1, 1, "※ 問い合わせ先：子育て支援課（代表 0466-25-1111）")
    printable(wb).save(p)


def two_row_header(p):
    """申請者一覧: a group header 申請者 merged over 氏名 | 住所, 電話番号 merged
    down two rows, then a second table (緊急連絡先) below a blank row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申請者一覧"
    ws.cell(1, 1, "障害福祉サービス 支給申請者一覧（令和6年度）").font = Font(bold=True)
    ws.merge_cells("A1:G1")
    ws.cell(2, 7, "高齢障害課")
    top = ["受付番号", "申請者", None, "電話番号", "個人番号", "生年月日", "受付日"]
    for c, h in enumerate(top, 1):
        if h:
            ws.cell(4, c, h)
    ws.cell(5, 2, "氏名")
    ws.cell(5, 3, "住所")
    ws.merge_cells("B4:C4")
    for col in "ADEFG":
        ws.merge_cells("%s4:%s5" % (col, col))
    for i in range(ROWS):
        s, g, _, _ = person()
        a, tel, mn, b = address(), mobile(), my_number(), birth()
        recv = dt.date(2024, 4, 1) + dt.timedelta(days=i)
        row = ["R6-%04d" % (i + 1), "%s %s" % (s, g), a, tel, mn, b, recv]
        for c, v in enumerate(row, 1):
            cell = ws.cell(6 + i, c, v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy/mm/dd"
        for k, v in [("person_name", "%s %s" % (s, g)), ("postal_address", a), ("phone_number", tel),
                     ("my_number", mn), ("birth_date", b)]:
            truth(p, k, v)
    r = 6 + ROWS + 2
    ws.cell(r, 1, "緊急連絡先").font = Font(bold=True)
    for c, h in enumerate(["受付番号", "連絡先氏名", "続柄", "連絡先電話"], 1):
        ws.cell(r + 1, c, h)
    for i in range(ROWS // 3):
        s, g, _, _ = person()
        tel = mobile()
        for c, v in enumerate(["R6-%04d" % (i + 1), "%s %s" % (s, g), random.choice(["妻", "夫", "長男", "母"]), tel], 1):
            ws.cell(r + 2 + i, c, v)
        truth(p, "person_name", "%s %s" % (s, g))
        truth(p, "phone_number", tel)
    printable(wb).save(p)


def own_columns(p):
    """課税・資格台帳抜粋: every identifier kind in a column of its own."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台帳"
    head = ["氏名", "住民票コード", "基礎年金番号", "旅券番号", "運転免許証番号", "被保険者番号", "口座番号",
            "メールアドレス", "法人番号（勤務先）"]
    r0 = title_rows(ws, "資格・口座情報 照合用台帳（保存期間5年）", len(head))
    for c, h in enumerate(head, 1):
        ws.cell(r0, c, h)
    for i in range(ROWS):
        s, g, sr, gr = person()
        vals = ["%s %s" % (s, g), resident_code(), pension(), passport(), licence(), insured(), account(),
                email_of(sr, gr), corporate_number()]
        for c, v in enumerate(vals, 1):
            ws.cell(r0 + 1 + i, c, v)
        for k, v in zip(["person_name", "resident_code", "basic_pension_number", "passport_number",
                         "drivers_license_number", "health_insurance_number", "bank_account", "email_address",
                         "corporate_number"], vals):
            truth(p, k, v)
    printable(wb).save(p)


def numbers_not_my_numbers(p):
    """受付簿: a 12-digit 受付番号 column whose check digits fail (not My Number),
    next to a My Number column headed only 番号 (column evidence)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "受付簿"
    ws.cell(1, 1, "窓口受付簿")
    head = ["受付番号", "区分", "番号", "処理日"]
    for c, h in enumerate(head, 1):
        ws.cell(3, c, h)
    for i in range(ROWS):
        mn = my_number()
        recv = not_my_number()
        ws.cell(4 + i, 1, recv)
        ws.cell(4 + i, 2, random.choice(["転入", "転出", "証明"]))
        ws.cell(4 + i, 3, mn)
        ws.cell(4 + i, 4, dt.date(2024, 5, 1) + dt.timedelta(days=i)).number_format = "yyyy/mm/dd"
        truth(p, "my_number", mn)
    printable(wb).save(p)


def partner_list(p):
    """取引先一覧: 法人番号, company phones: corporate data only (no person)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "取引先"
    ws.cell(1, 1, "指定管理者・委託事業者一覧")
    for c, h in enumerate(["事業者名", "法人番号", "所在地", "代表電話"], 1):
        ws.cell(3, c, h)
    for i in range(ROWS // 2):
        cn = corporate_number()
        ws.cell(4 + i, 1, "株式会社湘南%sサービス" % random.choice(["環境", "ビル", "福祉", "情報"]))
        ws.cell(4 + i, 2, cn)
        ws.cell(4 + i, 3, "神奈川県藤沢市朝日町%d番地" % random.randint(1, 20))
        ws.cell(4 + i, 4, "0466-%02d-%04d" % (random.randint(20, 99), random.randint(0, 9999)))
        truth(p, "corporate_number", cn)
    printable(wb).save(p)


# ------------------------------------------------------------------ CSV / TSV

def system_csv(p, headers, rows, encoding="cp932", delimiter=","):
    with open(p, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(headers)
        for r in rows:
            w.writerow(r)


def juki_extract(p):
    heads = ["KOJIN_NO", "JUMINHYO_CD", "SHIMEI", "SHIMEI_KANA", "SEINENGAPPI", "SEIBETSU", "YUBIN", "JUSHO",
             "TEL", "MAIL"]
    rows = []
    for _ in range(ROWS):
        s, g, sr, gr = person()
        mn, rc, b, a, tel, em = my_number(), resident_code(), birth(), address(), mobile(), email_of(sr, gr)
        rows.append([mn, rc, "%s　%s" % (s, g), "%s　%s" % (sr, gr), b.strftime("%Y%m%d"), random.choice("12"),
                     "%03d%04d" % (random.randint(100, 999), random.randint(0, 9999)), a, tel.replace("-", ""), em])
        for k, v in [("my_number", mn), ("resident_code", rc), ("person_name", "%s　%s" % (s, g)),
                     ("person_name", "%s　%s" % (sr, gr)),
                     ("birth_date", b), ("postal_address", a), ("phone_number", tel), ("email_address", em)]:
            truth(p, k, v)
    system_csv(p, heads, rows)


def zei_extract(p):
    heads = ["kojin_bango", "name", "kana_shimei", "birth_date", "address", "denwa", "koza_no", "kiso_nenkin_no"]
    rows = []
    for _ in range(ROWS):
        s, g, sr, gr = person()
        mn, b, a, f3, acc, pn = my_number(), birth(), address(), fixed(), account(), pension()
        tel = "%s-%s-%s" % f3
        rows.append([mn, "%s %s" % (s, g), "%s %s" % (sr, gr), b.strftime("%Y/%m/%d"), a, tel, acc, pn])
        for k, v in [("my_number", mn), ("person_name", "%s %s" % (s, g)), ("person_name", "%s %s" % (sr, gr)),
                     ("birth_date", b), ("postal_address", a), ("phone_number", tel), ("bank_account", acc),
                     ("basic_pension_number", pn)]:
            truth(p, k, v)
    system_csv(p, heads, rows)


def fukushi_extract(p):
    heads = ["HIHOKENSHA_NO", "MY_NO", "Shimei", "DOB", "MENKYO_NO", "PASSPORT_NO", "JUKI_CD", "Jusho"]
    rows = []
    for _ in range(ROWS):
        s, g, _, _ = person()
        hi, mn, b, li, pp, rc, a = insured(), my_number(), birth(), licence(), passport(), resident_code(), address()
        rows.append([hi, mn, "%s %s" % (s, g), b.strftime("%Y-%m-%d"), li, pp, rc, a])
        for k, v in [("health_insurance_number", hi), ("my_number", mn), ("person_name", "%s %s" % (s, g)),
                     ("birth_date", b), ("drivers_license_number", li), ("passport_number", pp),
                     ("resident_code", rc), ("postal_address", a)]:
            truth(p, k, v)
    system_csv(p, heads, rows, delimiter="\t")


def english_export(p):
    heads = ["No", "Name", "Date of Birth", "Address", "Phone", "E-mail", "MyNumber"]
    rows = []
    for i in range(ROWS):
        s, g, sr, gr = person()
        b, a, tel, em, mn = birth(), address(), mobile(), email_of(sr, gr), my_number()
        rows.append([i + 1, "%s %s" % (s, g), b.strftime("%Y/%m/%d"), a, tel, em, mn])
        for k, v in [("person_name", "%s %s" % (s, g)), ("birth_date", b), ("postal_address", a),
                     ("phone_number", tel), ("email_address", em), ("my_number", mn)]:
            truth(p, k, v)
    system_csv(p, heads, rows, encoding="utf-8-sig")


def csv_with_title_rows(p):
    """A list saved as CSV from Excel: the title rows come along."""
    with open(p, "w", encoding="cp932", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["令和6年度 敬老祝金 対象者名簿", "", "", "", ""])
        w.writerow(["", "", "", "", "長寿福祉課"])
        w.writerow([])
        w.writerow(["氏名", "生年月日", "住所", "電話", "個人番号"])
        for _ in range(ROWS):
            s, g, _, _ = person()
            b = dt.date(1930, 1, 1) + dt.timedelta(days=random.randint(0, 365 * 15))
            a, f3, mn = address(), fixed(), my_number()
            tel = "(%s)%s-%s" % f3
            w.writerow(["%s %s" % (s, g), wareki(b), a, tel, mn])
            for k, v in [("person_name", "%s %s" % (s, g)), ("birth_date", b), ("postal_address", a),
                         ("phone_number", tel), ("my_number", mn)]:
                truth(p, k, v)


# ------------------------------------------------------------------ Word

def word_form(p):
    """申請書: label cells left, values right (佐々木 あすか in a 氏名 cell)."""
    doc = Document()
    doc.add_heading("児童扶養手当 認定請求書", 1)
    doc.add_paragraph("藤沢市長 殿")
    s, g, sr, gr = "佐々木", "あすか", "ササキ", "アスカ"
    a, tel, mn, b = address(), mobile(), my_number(), birth()
    t = doc.add_table(rows=6, cols=2)
    t.style = "Table Grid"
    for r, (label, value) in enumerate([("フリガナ", "%s %s" % (sr, gr)), ("氏名", "%s %s" % (s, g)),
                                        ("生年月日", wareki(b)), ("住所", a), ("電話番号", tel),
                                        ("個人番号", " ".join([mn[:4], mn[4:8], mn[8:]]))]):
        t.cell(r, 0).text = label
        t.cell(r, 1).text = value
    doc.add_paragraph("上記のとおり請求します。")
    doc.save(p)
    for k, v in [("person_name", "%s %s" % (s, g)), ("person_name", "%s %s" % (sr, gr)), ("birth_date", b),
                 ("postal_address", a), ("phone_number", tel), ("my_number", " ".join([mn[:4], mn[4:8], mn[8:]]))]:
        truth(p, k, v)


def word_forms(n):
    for i in range(n):
        doc = Document()
        doc.add_heading("介護保険 要介護認定 申請書", 1)
        s, g, sr, gr = person()
        a, tel, b, hi = address(), "%s(%s)%s" % fixed(), birth(), insured()
        t = doc.add_table(rows=5, cols=4)
        t.style = "Table Grid"
        cells = [("被保険者番号", hi, "生年月日", wareki(b)), ("フリガナ", "%s %s" % (sr, gr), "", ""),
                 ("氏名", "%s %s" % (s, g), "性別", "女"), ("住所", a, "", ""), ("電話番号", tel, "", "")]
        for r, row in enumerate(cells):
            for c, v in enumerate(row):
                t.cell(r, c).text = v
        p = path("介護保険課", "申請書", "要介護認定申請書_%03d.docx" % (i + 1))
        doc.save(p)
        for k, v in [("health_insurance_number", hi), ("birth_date", b), ("person_name", "%s %s" % (s, g)),
                     ("person_name", "%s %s" % (sr, gr)), ("postal_address", a), ("phone_number", tel)]:
            truth(p, k, v)


def word_list(p):
    doc = Document()
    doc.add_paragraph("令和6年度 民生委員・児童委員 名簿")
    doc.add_paragraph("（取扱注意）")
    t = doc.add_table(rows=1, cols=4)
    for c, h in enumerate(["地区", "氏名", "住所", "電話番号"]):
        t.cell(0, c).text = h
    for _ in range(ROWS // 2):
        s, g, _, _ = person()
        a, tel = address(), "%s-%s-%s" % fixed()
        r = t.add_row().cells
        for c, v in enumerate([random.choice(["鵠沼", "辻堂", "片瀬"]), "%s %s" % (s, g), a, tel]):
            r[c].text = v
        for k, v in [("person_name", "%s %s" % (s, g)), ("postal_address", a), ("phone_number", tel)]:
            truth(p, k, v)
    doc.save(p)


# ------------------------------------------------------------------ mail

def mail(p, frm, to, subject, body, cc=None, reply_to=None):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = frm
    m["To"] = to
    if cc:
        m["Cc"] = cc
    if reply_to:
        m["Reply-To"] = reply_to
    m["Subject"] = subject
    m["Date"] = email.utils.format_datetime(dt.datetime(2024, 6, 3, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    m["Message-ID"] = email.utils.make_msgid(domain="example.jp")
    m.set_content(body)
    with open(p, "wb") as f:
        f.write(m.as_bytes())


def citizen_mails(n):
    for i in range(n):
        s, g, sr, gr = person()
        em, a, tel = email_of(sr, gr), address(), mobile()
        name = "%s %s" % (s, g)
        body = ("市民課 ご担当者様\n\nお世話になっております。%sと申します。\n"
                "先日お願いした住民票の写しの件で連絡いたしました。\n"
                "転居のため、送付先を下記の住所に変更していただけますでしょうか。\n\n"
                "よろしくお願いいたします。\n\n--\n%s\n%s\n携帯 %s\n") % (name, name, a, tel)
        p = path("市民課", "受信メール", "問い合わせ_%03d.eml" % (i + 1))
        mail(p, email.utils.formataddr((name, em)), "shimin@city.example.lg.jp", "住民票の送付先について", body)
        for k, v in [("email_address", em), ("person_name", name), ("postal_address", a), ("phone_number", tel)]:
            truth(p, k, v)
    # A partner company writes; its info@ address is no person.
    s, g, sr, gr = person()
    name = "%s %s" % (s, g)
    em = "%s@example-kensetsu.co.jp" % "".join(random.choice("abcdefgh") for _ in range(7))
    tel = "%s-%s-%s" % fixed()
    body = ("道路管理課 御中\n\n株式会社湘南建設の%sです。\n工事日程の件、添付のとおりご確認ください。\n\n"
            "━━━━━━━━━━━━━━━\n株式会社湘南建設 工務部\n%s\nTEL %s\n━━━━━━━━━━━━━━━\n") % (s, name, tel)
    p = path("道路管理課", "受信メール", "工事日程.eml")
    mail(p, email.utils.formataddr((name, em)), "douro@city.example.lg.jp", "工事日程について", body,
         cc="info@example-kensetsu.co.jp", reply_to=em)
    for k, v in [("email_address", em), ("person_name", name), ("phone_number", tel)]:
        truth(p, k, v)
    # A staff reply to a citizen: the staff signature is organisational.
    s, g, sr, gr = person()
    name = "%s %s" % (s, g)
    em = email_of(sr, gr)
    body = ("%s 様\n\nお問い合わせありがとうございます。\n送付先の変更を承りました。\n\n"
            "-- \n藤沢市 市民課 大和田\n電話 0466-25-1111（内線 2345）\n") % name
    p = path("市民課", "送信メール", "回答_送付先変更.eml")
    mail(p, "市民課 大和田 <owada@city.example.lg.jp>", email.utils.formataddr((name, em)), "Re: 送付先について", body)
    for k, v in [("email_address", em), ("person_name", name)]:
        truth(p, k, v)


# ------------------------------------------------------------------ no personal data

POLICY = """令和7年度 予算編成方針

1 基本的な考え方
本市の財政は、市税収入が緩やかに回復している一方で、社会保障関係経費の増加や公共施設の老朽化対策など、様々な課題を抱えている。
こうした状況を踏まえ、令和7年度の予算編成にあたっては、限られた財源を重点的かつ効率的に配分することとする。
各部局においては、事業の必要性や効果を十分に検証し、スクラップ・アンド・ビルドを徹底すること。
2 重点施策
（1）子育て支援の充実　保育所の定員拡大と放課後児童クラブの整備を進めること。
（2）防災・減災対策　山口県及び長野市との災害時相互応援協定に基づき、訓練を実施すること。
（3）地域経済の活性化　中小企業の皆様の声を踏まえ、たくさんの事業者が参加できる制度とすること。
3 留意事項
市長査定は11月中旬、副市長査定は10月下旬を予定している。各課長は、市民の皆さんにとって真に必要な事業かを検討すること。
国県支出金の動向に留意し、歳入の確保に努めること。担当は財政課 予算担当（内線 2211）とする。
"""

NOTICE = """お知らせ
ごみの収集日が変わります

市民の皆様へ
令和6年10月1日から、鵠沼地区及び辻堂地区の燃やすごみの収集日が変わります。
お子さんからご高齢の方まで、たくさんの方にご協力いただいております。
様々なご意見をお寄せいただき、ありがとうございました。
詳しくは、環境事業センター（電話 0466-87-3111）までお問い合わせください。
問い合わせ先：環境部 環境総務課 TEL 0466-50-3526 FAX 0466-50-8416
"""

MINUTES = """第3回 公共施設再整備検討委員会 議事録

日時：令和6年9月12日（木）午後2時から午後4時
場所：市役所本庁舎 5階 会議室
出席者：委員8名、事務局（企画政策課）
議題
1 前回議事録の確認　事務局から説明があり、了承された。
2 中村地区公民館の建替えについて　委員から、駐車場の確保について意見があった。
3 その他　次回は11月に開催することとした。
会長は、各委員の協力に感謝の意を表し、閉会した。
"""

BLANK_FORM_ROWS = [("記入例", ""), ("氏名", "山田 太郎"), ("フリガナ", "ヤマダ タロウ"), ("生年月日", "昭和50年1月1日"),
                   ("住所", "藤沢市朝日町1番地の1"), ("個人番号", "1234 5678 9018")]


def negatives():
    d = Document()
    for line in POLICY.strip().split("\n"):
        d.add_paragraph(line)
    d.save(path("財政課", "令和7年度予算編成方針.docx"))
    with open(path("環境総務課", "お知らせ_収集日変更.txt"), "w", encoding="cp932") as f:
        f.write(NOTICE)
    d = Document()
    for line in MINUTES.strip().split("\n"):
        d.add_paragraph(line)
    d.save(path("企画政策課", "検討委員会議事録_第3回.docx"))
    converted(path("企画政策課", "検討委員会議事録_第3回.docx"), "pdf")
    d = Document()
    d.add_heading("住民票の写し等 交付申請書（記入例）", 1)
    t = d.add_table(rows=len(BLANK_FORM_ROWS), cols=2)
    for r, (a, b) in enumerate(BLANK_FORM_ROWS):
        t.cell(r, 0).text = a
        t.cell(r, 1).text = b
    d.add_paragraph("※ 太枠内をご記入ください。")
    d.save(path("市民課", "様式", "交付申請書_記入例.docx"))
    d = Document()
    d.add_heading("住民票の写し等 交付申請書", 1)
    t = d.add_table(rows=5, cols=2)
    for r, a in enumerate(["氏名", "フリガナ", "生年月日", "住所", "電話番号"]):
        t.cell(r, 0).text = a
    d.save(path("市民課", "様式", "交付申請書.docx"))


BID = """入札結果のお知らせ

入札参加者各位
令和6年度 市道舗装補修工事（その3）の一般競争入札の結果をお知らせします。
落札者：湘南舗装株式会社様（落札金額 12,345,000円）
次点：山田工業様、佐藤建設様、田中電機様、鈴木商店様
入札参加資格の確認は、契約課にて行いました。
参加いただいた事業者の皆様に御礼申し上げます。
なお、本件に関する問い合わせは契約課（代表 0466-25-1111 内線 3251）までお願いいたします。
"""

VOLUNTEER = """市報ふじさわ 第1234号
ボランティア募集のお知らせ

地域のみなさん、子育てサロンのボランティアを募集しています。
お子さんと一緒に参加できる活動もあります。お父さん、お母さん、おじいさん、おばあさんも大歓迎です。
昨年度は、たくさんの方にご参加いただきました。参加者の皆さんからは「楽しかった」との声をいただいています。
お客様相談窓口、利用者様アンケートの結果は市ホームページでご覧いただけます。
長野県や山口県からの移住者の方々も活動しています。福島の復興支援イベントも予定しています。
申込みは、子育て支援課（電話 0466-50-3525）まで。
"""

ANSWER = """令和6年第3回定例会 一般質問 答弁要旨

議長のお許しをいただきましたので、ご質問にお答え申し上げます。
まず、公共施設の再整備についてでございますが、これは、財政と申しますのは限られた資源でございまして、
優先順位をつけて取り組むこととしております。
次に、子育て支援についてでございますが、市長といたしましては、待機児童の解消を最優先とすることを申し上げてまいりました。
教育長からも、学校施設の長寿命化について答弁申し上げます。
なお、詳細につきましては、担当部長から答弁いたします。
以上、答弁とさせていただきます。
"""

NOTICE_INTERNAL = """各課長 殿
総務部長

文書管理の徹底について（通知）

関係各位におかれましては、日頃から文書の適正な管理にご協力いただき感謝申し上げます。
保存期間が満了した文書は、廃棄手続を行うこと。
個人情報を含む文書は、施錠できる書庫に保管すること。
特定個人情報を取り扱う事務においては、事務取扱担当者以外の者が閲覧することのないよう留意すること。
ご不明な点は、総務課文書担当（内線 2105）にお問い合わせください。
"""

TOURISM = """観光パンフレット原稿

江の島・鎌倉エリアのご案内
中村地区の朝市は毎週日曜日に開かれ、新鮮な野菜が並びます。
上野から電車で約1時間。長野、松本、山口など全国からお客様がいらっしゃいます。
石川さんちの干物（店名）は、地元で人気のお店です。
宮崎牛フェア、熊本物産展も開催予定。
問い合わせ：観光協会 0466-22-4141
"""


def more_negatives():
    for name, text in [("契約課/入札結果のお知らせ.docx", BID), ("議会事務局/一般質問答弁要旨.docx", ANSWER),
                       ("総務課/文書管理の徹底について.docx", NOTICE_INTERNAL)]:
        d = Document()
        for line in text.strip().split("\n"):
            d.add_paragraph(line)
        p = path(*name.split("/"))
        d.save(p)
    converted(path("議会事務局", "一般質問答弁要旨.docx"), "pdf")
    for name, text in [("広報課/市報_ボランティア募集.txt", VOLUNTEER), ("観光課/観光パンフ原稿.txt", TOURISM)]:
        with open(path(*name.split("/")), "w", encoding="cp932") as f:
            f.write(text)
    # Tables without personal data: a schedule with office numbers, and a
    # budget table whose 12-digit yen amounts are no My Numbers.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "訓練日程"
    ws.cell(1, 1, "令和6年度 総合防災訓練 日程表")
    for c, h in enumerate(["日程", "会場", "担当課", "電話番号（代表）", "備考"], 1):
        ws.cell(3, c, h)
    for i in range(12):
        for c, v in enumerate([dt.date(2024, 9, 1) + dt.timedelta(days=7 * i), random.choice(["市民会館", "秋葉台体育館", "辻堂市民センター"]),
                               random.choice(["防災政策課", "危機管理課", "消防総務課"]), "0466-25-1111", "雨天決行"], 1):
            cell = ws.cell(4 + i, c, v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy/mm/dd"
    printable(wb).save(path("防災政策課", "総合防災訓練日程表.xlsx"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "歳出"
    ws.cell(1, 1, "令和6年度 一般会計 歳出予算額（款別）")
    for c, h in enumerate(["款", "予算額（円）", "前年度予算額（円）", "増減率"], 1):
        ws.cell(3, c, h)
    for i, k in enumerate(["議会費", "総務費", "民生費", "衛生費", "労働費", "農林水産業費", "商工費", "土木費", "消防費", "教育費", "公債費", "諸支出金"]):
        a, b = random.randint(10 ** 11, 9 * 10 ** 11), random.randint(10 ** 11, 9 * 10 ** 11)
        for c, v in enumerate([k, a, b, "%.1f%%" % ((a - b) * 100 / b)], 1):
            cell = ws.cell(4 + i, c, v)
            if isinstance(v, int):
                cell.number_format = "0"
    printable(wb).save(path("財政課", "歳出予算額_款別.xlsx"))


def more_lists():
    """Lists with other header words: お名前 / ご住所 / マイナンバー（個人番号）,
    氏　名 with a space, and a list that splits 姓 and 名 into two columns."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "見守り"
    ws.cell(1, 1, "高齢者見守り対象者名簿（民生委員配布用）")
    ws.cell(2, 1, "※取扱注意")
    head = ["お名前", "ご住所", "連絡先（電話）", "マイナンバー（個人番号）", "生年月日（和暦）", "緊急連絡先"]
    for c, h in enumerate(head, 1):
        ws.cell(4, c, h)
    p = path("高齢福祉課", "見守り対象者名簿.xlsx")
    for i in range(ROWS):
        s, g, _, _ = person()
        a, tel, mn = address(), "%s-%s-%s" % fixed(), my_number()
        b = dt.date(1930, 1, 1) + dt.timedelta(days=random.randint(0, 365 * 20))
        emergency = mobile()
        for c, v in enumerate(["%s　%s" % (s, g), a, tel, mn, wareki(b), emergency], 1):
            ws.cell(5 + i, c, v)
        for k, v in [("person_name", "%s　%s" % (s, g)), ("postal_address", a), ("phone_number", tel),
                     ("my_number", mn), ("birth_date", b), ("phone_number", emergency)]:
            truth(p, k, v)
    printable(wb).save(p)
    p = path("市民課", "転入者一覧_CSV出力.csv")
    with open(p, "w", encoding="cp932", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["転入者一覧（令和6年5月分）"])
        w.writerow(["受付日", "氏　名", "生年月日", "新住所", "電　話"])
        for i in range(ROWS):
            s, g, _, _ = person()
            b, a, tel = birth(), address(), mobile()
            w.writerow(["2024/05/%02d" % (1 + i % 28), "%s %s" % (s, g), b.strftime("%Y/%m/%d"), a, tel])
            for k, v in [("person_name", "%s %s" % (s, g)), ("birth_date", b), ("postal_address", a),
                         ("phone_number", tel)]:
                truth(p, k, v)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名簿"
    for c, h in enumerate(["姓", "名", "セイ", "メイ", "生年月日", "電話番号"], 1):
        ws.cell(1, c, h)
    p = path("スポーツ推進課", "教室参加者_姓名別.xlsx")
    for i in range(ROWS // 2):
        s, g, sr, gr = person()
        b, tel = birth(), mobile()
        for c, v in enumerate([s, g, sr, gr, b, tel], 1):
            cell = ws.cell(2 + i, c, v)
            if isinstance(v, dt.date):
                cell.number_format = "yyyy/mm/dd"
        # A surname in its own column is the person's name (with the given
        # name next to it): counted as a name.
        for k, v in [("person_name", s), ("person_name", sr), ("birth_date", b), ("phone_number", tel)]:
            truth(p, k, v)
    printable(wb).save(p)


# ------------------------------------------------------------------ build

def main():
    p = path("子育て支援課", "令和6年度_児童手当受給者名簿.xlsx")
    list_with_title_rows(p)
    converted(p, "xls")
    converted(p, "ods")
    converted(p, "pdf")
    p = path("高齢障害課", "支給申請者一覧.xlsx")
    two_row_header(p)
    converted(p, "ods")
    converted(p, "xls")
    converted(p, "pdf")
    p = path("市民課", "資格口座照合台帳.xlsx")
    own_columns(p)
    converted(p, "ods")
    p = path("市民課", "窓口受付簿.xlsx")
    numbers_not_my_numbers(p)
    converted(p, "xls")
    p = path("契約課", "委託事業者一覧.xlsx")
    partner_list(p)
    juki_extract(path("情報政策課", "抽出", "JUKI_EXTRACT_20240401.csv"))
    zei_extract(path("情報政策課", "抽出", "kazei_master.csv"))
    fukushi_extract(path("情報政策課", "抽出", "FUKUSHI_SHIKAKU.tsv"))
    english_export(path("国際交流課", "resident_export.csv"))
    csv_with_title_rows(path("長寿福祉課", "敬老祝金対象者.csv"))
    word_form(path("子育て支援課", "申請書", "児童扶養手当認定請求書.docx"))
    word_forms(4)
    p = path("福祉総務課", "民生委員名簿.docx")
    word_list(p)
    converted(p, "pdf")
    citizen_mails(5)
    negatives()
    more_negatives()
    more_lists()
    with open(os.path.join(OUT, "truth.jsonl"), "w") as f:
        for t in TRUTH:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    files = sum(len(fs) for _, _, fs in os.walk(SHARE))
    print("%d files, %d identifiers in %s" % (files, len(TRUTH), SHARE))
    shutil.rmtree(LO_PROFILE, ignore_errors=True)


main()
