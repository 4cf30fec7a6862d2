#!/bin/sh
# Figures of the review screen (README "Review screen figures"): p95 page
# times of the findings list and the file page with 20 concurrent clients
# on loopback, on a store of 1,000,000 findings, and the server's memory.
#
#   bench/web_load.sh DIR [SECONDS]
#
# Builds mamori in release (unless MAMORI names a binary), makes the store
# in DIR with bench/make_web_store.py if DIR has none (FINDINGS=1000000 by
# default; a few minutes), starts `mamori serve` on 127.0.0.1, logs in as
# the store's `load` reviewer, and runs wrk (Debian: apt-get install wrk)
# with 20 connections for SECONDS (30) each against the findings list
# (first and deep pages, with and without filters) and random file pages,
# then times one dashboard request and runs 4 connections against it.
# Prints latency percentiles and the server's resident memory (VmRSS,
# peak VmHWM) after each run. The store is kept: a second run reuses it.
#
# CENTRAL=postgres://… SITE=NAME: the same against `mamori serve --central`
# (DIR's store shipped to that centre as site NAME first, e.g. with
# `mamori central sync`; DIR's store then only holds the `load` account).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DIR [SECONDS]" >&2; exit 2; }
command -v wrk > /dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
SECS=${2:-30}
if [ -z "${MAMORI:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet --bin mamori)
  MAMORI=$ROOT/target/release/mamori
fi
if [ ! -f "$DIR/state/mamori.db" ]; then
  python3 "$ROOT/bench/make_web_store.py" "$DIR" --findings "${FINDINGS:-1000000}" --mamori "$MAMORI"
fi
OUT=$(mktemp)
if [ -n "${CENTRAL:-}" ]; then
  MAMORI_LOG=warn "$MAMORI" serve --config "$DIR/mamori.toml" --listen 127.0.0.1:0 --central "$CENTRAL" > "$OUT" &
else
  MAMORI_LOG=warn "$MAMORI" serve --config "$DIR/mamori.toml" --listen 127.0.0.1:0 > "$OUT" &
fi
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$OUT" "$OUT.jar" "$OUT.login"' EXIT
until grep -q listening "$OUT"; do
  kill -0 $PID 2>/dev/null || { echo "mamori serve stopped" >&2; exit 1; }
  sleep 0.2
done
BASE=$(sed -n 's/.*listening on \(http[^ ]*\)\//\1/p' "$OUT")
curl -s -c "$OUT.jar" "$BASE/login" > "$OUT.login"
TOKEN=$(sed -n 's/.*name="login_token" value="\([0-9a-f]*\)".*/\1/p' "$OUT.login")
curl -s -b "$OUT.jar" -c "$OUT.jar" --data-urlencode name=load --data-urlencode "password=load test password" \
  --data-urlencode "login_token=$TOKEN" --data-urlencode next=/ -o /dev/null "$BASE/login"
COOKIE=$(awk '$6 == "mamori_session" { print $7 }' "$OUT.jar")
[ -n "$COOKIE" ] || { echo "login failed" >&2; exit 1; }
if [ -n "${CENTRAL:-}" ]; then
  # The centre's ids (cid) and root names (SITE:LABEL).
  read MAX_FILE MAX_FINDING <<EOT
$(psql "$CENTRAL" -At -F ' ' -c 'SELECT (SELECT max(cid) FROM files), (SELECT max(cid) FROM findings)')
EOT
  ROOTQ=$(python3 -c "import urllib.parse, sys; print(urllib.parse.quote(sys.argv[1] + ':税務課'))" "${SITE:?SITE=NAME with CENTRAL}")
else
  read MAX_FILE MAX_FINDING <<EOT
$(python3 -c "import sqlite3, sys; c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True); print(*c.execute('SELECT (SELECT max(id) FROM files), (SELECT max(id) FROM findings)').fetchone())" "$DIR/state/mamori.db")
EOT
  ROOTQ=$(python3 -c "import urllib.parse; print(urllib.parse.quote('税務課'))")
fi
rss() { awk '/VmRSS|VmHWM/ { printf "%s %s %s  ", $1, $2, $3 } END { print "" }' /proc/$PID/status; }
echo "mamori: $MAMORI"
echo "store: $MAX_FILE files, $MAX_FINDING findings; server pid $PID; $(rss)"
run() { # MODE CONNECTIONS TIMEOUT
  echo "$1, $2 connections, ${SECS} s:"
  wrk -t2 -c"$2" -d"${SECS}s" --timeout "$3" -s "$ROOT/bench/web_load.lua" "$BASE" -- \
    "$1" "$COOKIE" "$MAX_FILE" "$MAX_FINDING" "$ROOTQ" | sed -n '/requests in .* not 200/,$p'
  echo "  server: $(rss)"
}
run list 20 30s
run file 20 30s
# The overview's counts are computed once a minute (and after decisions)
# by one request while the others wait: time that computation, then the
# page as served from the kept counts.
echo "dashboard, first request (computes the counts and the trend): $(curl -s -b "mamori_session=$COOKIE" -o /dev/null -w '%{http_code} %{time_total} s' "$BASE/")"
run dashboard 4 60s
