#!/usr/bin/env bash
# kill -9 cycles under load: a release server on SQLite (a fresh data dir)
# or PostgreSQL (a fresh database on ANCHORFIN_RELIABILITY_DATABASE_URL's
# server, dropped after), clients taking invoices through registration,
# signed confirmation, offer and pledge (scripts/reliability/harness.py),
# and every 0.5 to 2 s the server killed with SIGKILL and started again
# while the clients retry with the same Idempotency-Keys. After each
# restart: the writes acknowledged since the last check present, the signed
# head after the crash consistent with the one before; after the last:
# everything acknowledged present again, no false alert, no asset with two
# active liens, no invoice registered twice, `anchorfin verify` passes.
#
#   scripts/crash-cycles.sh sqlite 5              # the short form CI runs
#   scripts/crash-cycles.sh postgres 100 --report # figures into docs/RELIABILITY.md
#
# Prints one line of figures; exits non-zero when an invariant fails.
# Bounded by TIME_LIMIT_SECONDS (default 120 s + 12 s per cycle).
set -euo pipefail

BACKEND="${1:-}"
CYCLES="${2:-5}"
REPORT=""
[ "${3:-}" = "--report" ] && REPORT=1
case "$BACKEND" in
  sqlite | postgres) ;;
  *) echo "usage: $0 sqlite|postgres [CYCLES] [--report]" >&2; exit 2 ;;
esac
TIME_LIMIT_SECONDS="${TIME_LIMIT_SECONDS:-$((120 + 12 * CYCLES))}"
source "$(dirname "$0")/reliability/common.sh"

ensure_binary
ensure_python

DATA="$WORK/data"
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
db_args=(--data-dir "$DATA")
sql_args=(--sqlite "$DATA/anchorfin.db")
if [ "$BACKEND" = postgres ]; then
  create_database "$ADMIN_URL"
  URL="$DB_URL"
  db_args+=(--database-url "$URL")
  sql_args=(--postgres "$URL")
fi
on_exit 'kill -9 "$(cat "$WORK/server.log.pid")"'
onboard_operator "${db_args[@]}"

note "crash cycles on $BACKEND: $CYCLES cycles, server on $BASE, work in $WORK"
SERVER_CMD="env RUST_LOG=warn $BIN serve ${db_args[*]} --bind 127.0.0.1:$PORT \
  --rate-limit-per-second 0 --lookup-rate-limit-per-second 0"
name="SQLite"
[ "$BACKEND" = postgres ] && name="PostgreSQL"
status=0
run_harness crash "kill -9 cycles on $name" "scripts/crash-cycles.sh $BACKEND $CYCLES --report" "$WORK/server.log" \
  --url "$BASE" "${sql_args[@]}" --platform-key-file "$DATA/platform-signing.key" \
  --cycles "$CYCLES" --server-cmd "$SERVER_CMD" --server-log "$WORK/server.log" || status=$?
exit "$status"
