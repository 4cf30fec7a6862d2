#!/bin/sh
# Figures for issue 11 item 6: report generation and `review list` over a
# store of N findings in N/10 files (default 1,000,000 in 100,000; target
# for `report weekly`: under 10 s and under 300 MB RSS).
#
#   cargo build --release
#   sh bench/report_figures.sh                  # 1,000,000 findings in /tmp/mamori-report-bench
#   sh bench/report_figures.sh 20000 /tmp/rb    # smaller, elsewhere
#   MAMORI=target/debug/mamori sh bench/report_figures.sh 20000 /tmp/rb
#
# The store is made once by `mamori bench --report-store N` (generated scan
# outcomes written through the store's own API: see src/cmd/bench_report.rs)
# and reused on later runs; delete DIR to make it again. Each command is
# timed with GNU time (wall seconds, peak RSS); outputs go to DIR/out.
set -eu
N=${1:-1000000}
DIR=${2:-/tmp/mamori-report-bench}
MAMORI=${MAMORI:-target/release/mamori}
TIME=/usr/bin/time
[ -x "$MAMORI" ] || { echo "no $MAMORI: cargo build --release first (or set MAMORI=)" >&2; exit 2; }
[ -x "$TIME" ] || { echo "GNU time is needed: apt-get install time" >&2; exit 2; }

if [ ! -f "$DIR/mamori.toml" ]; then
    mkdir -p "$DIR"
    "$TIME" -f "store made: %e s, %M KB peak RSS" \
        "$MAMORI" bench --report-store "$N" --report-dir "$DIR"
fi
CFG="$DIR/mamori.toml"
OUT="$DIR/out"
mkdir -p "$OUT"
# The generated store spreads first-seen times over the 16 weeks before it
# was made: report the week under way (figures up to now) and, below, the
# last complete week.
THIS_WEEK=$(TZ=Asia/Tokyo date +%G-W%V)

timed() {
    what=$1
    shift
    "$TIME" -f "$what: %e s, %M KB peak RSS" "$@" >"$OUT/stdout.txt"
}

echo "store: $(du -h "$DIR/state/mamori.db" | cut -f1) ($DIR/state/mamori.db)"
timed "report weekly (this week $THIS_WEEK: html, xlsx, csv, json)" \
    "$MAMORI" report weekly --config "$CFG" --week "$THIS_WEEK" --out "$OUT/weekly"
timed "report weekly (last complete week)" \
    "$MAMORI" report weekly --config "$CFG" --out "$OUT/weekly-last"
timed "report retention --out .xlsx" \
    "$MAMORI" report retention --config "$CFG" --out "$OUT/retention.xlsx"
timed "report retention --out .csv" \
    "$MAMORI" report retention --config "$CFG" --out "$OUT/retention.csv"
timed "review list (summary, first 200)" \
    "$MAMORI" review list --config "$CFG"
timed "review list --kind my_number --root 税務課 --format jsonl --limit 0" \
    "$MAMORI" review list --config "$CFG" --kind my_number --root 税務課 --format jsonl --limit 0
echo "  ($(wc -l <"$OUT/stdout.txt") findings listed)"
timed "review list --format jsonl --limit 0 (every open finding)" \
    "$MAMORI" review list --config "$CFG" --format jsonl --limit 0
echo "  ($(wc -l <"$OUT/stdout.txt") findings listed)"
ls -l "$OUT/weekly"
