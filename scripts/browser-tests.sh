#!/usr/bin/env bash
# The portal in a real browser: installs what the journey needs (Debian's
# chromium and CJK fonts if missing, playwright-core into tests/browser/node_modules),
# starts `anchorfin serve` on a fresh SQLite data dir, onboards a supplier,
# its buyer, two banks (each with a signing key file) and an operator with
# a risk officer (`anchorfin org add`, `risk-officer add`), and runs
# tests/browser/journey.mjs against it.
# Screenshots are left in tests/browser/screenshots/ (not committed).
#
#   scripts/browser-tests.sh            # on a fresh SQLite data dir
#   scripts/browser-tests.sh postgres   # on a fresh PostgreSQL database
#                                       # (ANCHORFIN_TEST_DATABASE_URL's server)
#
# .ci/run runs it after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium (Playwright's own browser download cannot work here),
# node and npm, and CJK fonts for the Chinese screenshots, when missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

BACKEND="${1:-sqlite}"
ADMIN_URL="${ANCHORFIN_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DATABASE=""
cargo build --quiet --locked --bin anchorfin
BIN="$PWD/target/debug/anchorfin"
WORK="$(mktemp -d)"
DATA="$WORK/data"
ARGS=(--data-dir "$DATA")
case "$BACKEND" in
  sqlite) ;;
  postgres)
    DATABASE="anchorfin_browser_$$_$RANDOM"
    psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DATABASE"
    DATABASE_URL_OF_RUN="$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$ADMIN_URL" "$DATABASE")"
    ARGS+=(--database-url "$DATABASE_URL_OF_RUN")
    ;;
  *) echo "browser-tests: the backend is sqlite or postgres, not $BACKEND" >&2; exit 2 ;;
esac
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
  if [ -n "$DATABASE" ]; then psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

BUYER_LEGAL_ID="91110000100000000X"
SUPPLIER_LEGAL_ID="91440300MA5F000001"
"$BIN" migrate "${ARGS[@]}" >/dev/null
# Signing keys, picked in the browser as files (the journey signs with them).
for who in supplier buyer bank-a bank-b; do "$BIN" key gen --out "$WORK/$who.key" >"$WORK/$who.pub"; done
OPERATOR="$("$BIN" org add "${ARGS[@]}" --name "Platform operator" --role operator --legal-id "OPS-BROWSER")"
SUPPLIER="$("$BIN" org add "${ARGS[@]}" --name "Shenzhen Parts" --role supplier --legal-id "$SUPPLIER_LEGAL_ID" --public-key "$(cat "$WORK/supplier.pub")")"
BUYER="$("$BIN" org add "${ARGS[@]}" --name "Beijing Buyer" --role core_enterprise --legal-id "$BUYER_LEGAL_ID" --public-key "$(cat "$WORK/buyer.pub")")"
BANK_A="$("$BIN" org add "${ARGS[@]}" --name "Bank A" --role bank --legal-id "BANK-A-BROWSER" --public-key "$(cat "$WORK/bank-a.pub")")"
"$BIN" org add "${ARGS[@]}" --name "Bank B" --role bank --legal-id "BANK-B-BROWSER" --public-key "$(cat "$WORK/bank-b.pub")" >/dev/null
OFFICER="$("$BIN" risk-officer add "${ARGS[@]}" --org "$(echo "$OPERATOR" | json id)" --email risk@operator.example)"

"$BIN" serve "${ARGS[@]}" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "browser-tests: the server did not start" >&2; exit 1; }
  sleep 0.2
done

# The journey lets its sessions' idle time run out (rather than wait 30
# minutes) by moving their idle expiry into the past, in the database the
# server reads every request from.
case "$BACKEND" in
  sqlite) EXPIRE="python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE portal_sessions SET idle_expires_at = :past\", {\"past\": \"2000-01-01 00:00:00\"}); c.commit()' '$DATA/anchorfin.db'" ;;
  postgres) EXPIRE="psql '$DATABASE_URL_OF_RUN' -qc \"UPDATE portal_sessions SET idle_expires_at = '2000-01-01'\"" ;;
esac

BACKEND="$BACKEND" ANCHORFIN_URL="$BASE" EXPIRE_SESSIONS="$EXPIRE" \
  SUPPLIER_KEY="$(echo "$SUPPLIER" | json api_key)" \
  SUPPLIER_KEY_FILE="$WORK/supplier.key" \
  BUYER_KEY="$(echo "$BUYER" | json api_key)" \
  BUYER_KEY_FILE="$WORK/buyer.key" \
  BANK_A_KEY="$(echo "$BANK_A" | json api_key)" \
  BANK_A_KEY_FILE="$WORK/bank-a.key" \
  RISK_OFFICER_KEY="$(echo "$OFFICER" | json api_key)" \
  BUYER_LEGAL_ID="$BUYER_LEGAL_ID" \
  SUPPLIER_LEGAL_ID="$SUPPLIER_LEGAL_ID" \
  OPERATOR_KEY="$(echo "$OPERATOR" | json api_key)" \
  node tests/browser/journey.mjs || { echo "--- server log" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
BACKEND="$BACKEND" ANCHORFIN_URL="$BASE" SUPPLIER_KEY="$(echo "$SUPPLIER" | json api_key)" BUYER_LEGAL_ID="$BUYER_LEGAL_ID" node tests/browser/ledger.mjs || { echo "--- server log" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
BACKEND="$BACKEND" ANCHORFIN_URL="$BASE" SUPPLIER_KEY="$(echo "$SUPPLIER" | json api_key)" BUYER_KEY="$(echo "$BUYER" | json api_key)" BUYER_KEY_FILE="$WORK/buyer.key" node tests/browser/orders.mjs || { echo "--- server log" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }
