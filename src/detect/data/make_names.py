#!/usr/bin/env python3
"""Derive the name lexicon from IPADIC (mecab-ipadic 2.7.0-20070801).

usage: python3 src/detect/data/make_names.py [/usr/share/mecab/dic/ipadic]
(Debian: apt install mecab-ipadic, which ships the dictionary's CSV sources.)

Writes, next to this script:
- surnames.txt      every 名詞,固有名詞,人名,姓 entry; `TAB common` marks a
                    surname that is also an ordinary word (名詞 一般, サ変接続,
                    形容動詞語幹, 副詞可能, 代名詞; 動詞, 形容詞, 副詞): 大家, 神,
                    伝 … such a surname alone is no evidence of a person;
- given_names.txt   every 名詞,固有名詞,人名,名 entry (kanji and kana);
- name_readings.txt the katakana readings of both, `TAB s` (surname) or
                    `TAB g` (given name), for names written in kana.
IPADIC's licence is in IPADIC-COPYING (it must travel with the data).
"""
import glob
import os
import sys
import unicodedata

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/mecab/dic/ipadic"
OUT = os.path.dirname(os.path.abspath(__file__))


def rows(name):
    with open(os.path.join(SRC, name), encoding="euc_jp", errors="strict") as f:
        for line in f:
            yield line.rstrip("\n").split(",")


def japanese(s):
    return 0 < len(s) <= 5 and all(
        unicodedata.name(c, "").startswith(("CJK UNIFIED", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC ITERATION"))
        or c in "ヶ々ー"
        for c in s
    )


surnames, given, readings = set(), set(), set()
for r in rows("Noun.name.csv"):
    surface, pos2, pos3, reading = r[0], r[6], r[7], r[11]
    if pos2 != "人名" or not japanese(surface):
        continue
    if pos3 == "姓":
        surnames.add(surface)
        if reading != "*" and japanese(reading):
            readings.add((reading, "s"))
    elif pos3 == "名":
        given.add(surface)
        if reading != "*" and japanese(reading):
            readings.add((reading, "g"))

ORDINARY = {"一般", "サ変接続", "形容動詞語幹", "副詞可能", "代名詞"}
common = set()
for path in sorted(glob.glob(os.path.join(SRC, "*.csv"))):
    base = os.path.basename(path)
    if base == "Noun.name.csv":
        continue
    for r in rows(base):
        if r[0] not in surnames:
            continue
        if r[4] == "名詞" and r[5] in ORDINARY or r[4] in ("動詞", "形容詞", "副詞"):
            common.add(r[0])

HEAD = ("# Derived from IPADIC 2.7.0 (mecab-ipadic, NAIST) by make_names.py; licence in IPADIC-COPYING.\n"
        "# Do not edit by hand: rerun the script.\n")
with open(os.path.join(OUT, "surnames.txt"), "w", encoding="utf-8") as f:
    f.write(HEAD)
    for s in sorted(surnames):
        f.write(s + ("\tcommon" if s in common else "") + "\n")
with open(os.path.join(OUT, "given_names.txt"), "w", encoding="utf-8") as f:
    f.write(HEAD)
    for s in sorted(given):
        f.write(s + "\n")
with open(os.path.join(OUT, "name_readings.txt"), "w", encoding="utf-8") as f:
    f.write(HEAD)
    for s, t in sorted(readings):
        f.write("%s\t%s\n" % (s, t))
print("%d surnames (%d also ordinary words), %d given names, %d readings"
      % (len(surnames), len(common), len(given), len(readings)))
