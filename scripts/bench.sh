#!/usr/bin/env bash
# Registrations, confirmations, the supplier's offers (no raw figure),
# pledge decisions accepting them (a share of them raced on hot assets by a
# second bank the offer is not addressed to) and encumbrance look-ups per
# second, measured over loopback HTTP with `anchorfin-load` (64 clients by
# default) against a release build on PostgreSQL and on SQLite; beside them,
# in the same run, pgbench's figures for the raw SQL each needs (a
# registration: look up the fingerprint, insert the receivable, its ledger
# leaf and queue row; a pledge: lock the asset row, read the offer, look for
# an active lien, mark the offer taken, append a ledger leaf, insert the
# lien and the idempotency record; a look-up: the receivable by fingerprint
# and whether it has an active lien), one per commit. Afterwards it checks
# in the database that no asset ever got two active liens and that every
# lien accepted an offer made to its bank. Results go to docs/BENCHMARKS.md.
#
#   scripts/bench.sh                # both backends
#   CLIENTS=32 ASSETS=2000 scripts/bench.sh
#   RAW_ROWS=10000 SECONDS_RAW=3 ASSETS=300 OUT=/tmp/bench.md scripts/bench.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."

# Over loopback, without TLS (libpq's default `prefer` encrypts every
# statement and costs both sides 5-10% of their CPU); pgbench connects the same.
ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
CLIENTS="${CLIENTS:-64}"
ASSETS="${ASSETS:-10000}"
PORT="${PORT:-18080}"
export POOL="${POOL:-32}" # the server's database connections
SECONDS_RAW="${SECONDS_RAW:-20}"
RAW_ROWS="${RAW_ROWS:-1000000}" # receivables, assets and open offers in the raw database
OUT="${OUT:-docs/BENCHMARKS.md}"

cargo build --release --locked --bin anchorfin --bin anchorfin-load >&2
BIN=target/release/anchorfin
LOAD=target/release/anchorfin-load
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench WITH (FORCE)" >/dev/null 2>&1 || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_raw WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

with_database() { # URL NAME -> URL with the database replaced
  python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$1" "$2"
}

run_backend() { # postgres|sqlite -> JSON report on stdout
  local backend="$1" data="$work/$1" url=""
  mkdir -p "$data"
  if [ "$backend" = postgres ]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench WITH (FORCE)" -c "CREATE DATABASE anchorfin_bench" >/dev/null
    url="$(with_database "$ADMIN_URL" anchorfin_bench)"
  fi
  local db_args=(--data-dir "$data")
  [ -n "$url" ] && db_args+=(--database-url "$url")
  local operator_key
  operator_key="$("$BIN" org add "${db_args[@]}" --name "Bench operator" --role operator --legal-id "BENCH-OPS" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')"
  RUST_LOG=warn "$BIN" serve "${db_args[@]}" --bind "127.0.0.1:$PORT" --database-max-connections "$POOL" \
    --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 \
    >"$work/$backend.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # PostgreSQL's planner statistics are brought up to date before each
  # phase (ANALYZE, outside the timing), as autovacuum would have done a
  # minute into a running system; a run is shorter than that, and the raw
  # database is analyzed too. Without them a fresh table's queries are
  # planned as sequential scans.
  local hook=()
  if [ -n "$url" ]; then
    printf '#!/bin/sh\n[ "$ANCHORFIN_PHASE_EVENT" = start ] && psql -q "%s" -c ANALYZE >/dev/null\nexit 0\n' "$url" >"$work/analyze.sh"
    chmod +x "$work/analyze.sh"
    hook=(--phase-hook "$work/analyze.sh")
  fi
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$operator_key" --clients "$CLIENTS" --assets "$ASSETS" \
    --run "$backend" "${hook[@]}" >"$work/$backend.json"
  local rss_kb
  rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  # No asset may have two active liens, and every lien accepted an offer
  # of its asset made to its own bank, which is now taken.
  local doubled_sql unconsented_sql doubled unconsented
  doubled_sql="SELECT count(*) FROM (SELECT asset_id FROM liens WHERE status = 'active' AND asset_id IS NOT NULL GROUP BY asset_id HAVING count(*) > 1) d"
  unconsented_sql="SELECT count(*) FROM liens l WHERE l.asset_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = l.offer_id AND o.asset_id = l.asset_id AND o.bank_id = l.bank_id AND o.status = 'taken')"
  if [ "$backend" = postgres ]; then
    doubled="$(psql -Atq "$url" -c "$doubled_sql")"
    unconsented="$(psql -Atq "$url" -c "$unconsented_sql")"
  else
    read -r doubled unconsented < <(python3 - "$data/anchorfin.db" "$doubled_sql" "$unconsented_sql" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(*(c.execute(sql).fetchone()[0] for sql in sys.argv[2:]))
PY
)
  fi
  if [ "$doubled" != 0 ]; then
    echo "FAILED: $doubled assets have two active liens on $backend" >&2
    exit 1
  fi
  if [ "$unconsented" != 0 ]; then
    echo "FAILED: $unconsented liens accepted no offer made to their bank on $backend" >&2
    exit 1
  fi
  python3 - "$work/$backend.json" "$rss_kb" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
report["server_peak_rss_mb"] = round(int(sys.argv[2]) / 1024, 1)
print(json.dumps(report))
PY
}

raw_pgbench() { # SCRIPT -> {"per_second", "p50", "p99", "p99_9"} of the raw transaction (latencies in ms)
  local tps
  tps="$(pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_RAW" -D rows="$RAW_ROWS" -l --log-prefix="$work/pgbench-$1" -f "$work/$1.sql" "$raw_url" 2>/dev/null |
    awk '/^tps/ {print $3; exit}')"
  # Each log line: client, transaction, latency in microseconds, ...
  cat "$work/pgbench-$1".* | python3 -c '
import json, sys
latencies = sorted(int(line.split()[2]) / 1000 for line in sys.stdin if line.strip())
def at(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0
print(json.dumps({"per_second": float(sys.argv[1]), "p50": at(0.50), "p99": at(0.99), "p99_9": at(0.999)}))
' "$tps"
}

prepare_raw() {
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_raw WITH (FORCE)" -c "CREATE DATABASE anchorfin_bench_raw" >/dev/null
  raw_url="$(with_database "$ADMIN_URL" anchorfin_bench_raw)"
  psql -q -v ON_ERROR_STOP=1 -v rows="$RAW_ROWS" "$raw_url" >/dev/null <<'SQL'
CREATE TABLE receivables (id BIGSERIAL PRIMARY KEY, fingerprint BYTEA NOT NULL UNIQUE, supplier_id TEXT NOT NULL,
  buyer_id TEXT NOT NULL, invoice_number TEXT NOT NULL, amount_minor BIGINT NOT NULL, status TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
INSERT INTO receivables (fingerprint, supplier_id, buyer_id, invoice_number, amount_minor, status, created_at)
  SELECT sha256(int8send(g)), 's', 'b', 'INV-' || g, 100000, 'confirmed', now() FROM generate_series(1, :rows) g;
CREATE TABLE assets (id BIGINT PRIMARY KEY, status TEXT NOT NULL, updated_at TIMESTAMP NOT NULL);
INSERT INTO assets SELECT g, 'active', now() FROM generate_series(1, :rows) g;
-- Each asset's open offer (its id is the asset's) to one of 8 banks, with
-- the columns and indexes of migrations/postgres/*_consent.
CREATE TABLE offers (id BIGINT PRIMARY KEY, asset_id BIGINT, purchase_order_id BIGINT, holder_id TEXT NOT NULL,
  bank_id INT NOT NULL, kind TEXT NOT NULL, amount_minor BIGINT NOT NULL, currency TEXT NOT NULL, expires_at TIMESTAMP NOT NULL,
  status TEXT NOT NULL, leaf_hash BYTEA NOT NULL, created_at TIMESTAMP NOT NULL, ended_at TIMESTAMP);
INSERT INTO offers SELECT g, g, NULL, 's', 1 + g % 8, 'pledge', 90000, 'CNY', now() + interval '1 day', 'open',
  sha256(('offer' || g)::bytea), now(), NULL FROM generate_series(1, :rows) g;
CREATE UNIQUE INDEX offers_one_open_per_asset ON offers (asset_id) WHERE status = 'open' AND asset_id IS NOT NULL;
CREATE UNIQUE INDEX offers_one_open_per_purchase_order ON offers (purchase_order_id) WHERE status = 'open' AND purchase_order_id IS NOT NULL;
CREATE INDEX offers_bank ON offers (bank_id, created_at);
CREATE INDEX offers_holder ON offers (holder_id, created_at);
CREATE INDEX offers_open_by_expiry ON offers (expires_at) WHERE status = 'open';
CREATE TABLE liens (id BIGSERIAL PRIMARY KEY, asset_id BIGINT NOT NULL, bank_id INT NOT NULL, offer_id BIGINT, status TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX liens_one_active ON liens (asset_id) WHERE status = 'active';
CREATE UNIQUE INDEX liens_one_per_offer ON liens (offer_id) WHERE offer_id IS NOT NULL;
CREATE TABLE ledger_leaves (leaf_hash BYTEA PRIMARY KEY, entry BYTEA NOT NULL, details TEXT NOT NULL);
CREATE TABLE ledger_queue (id BIGSERIAL PRIMARY KEY, leaf_hash BYTEA NOT NULL);
CREATE TABLE idempotency_keys (bank_id INT, key TEXT, response TEXT, PRIMARY KEY (bank_id, key));
VACUUM ANALYZE;
SQL
  cat >"$work/pledge.sql" <<'SQL'
\set asset random(1, :rows)
\set bank 1 + :asset % 8
BEGIN;
SELECT response FROM idempotency_keys WHERE bank_id = :bank AND key = 'k' || :asset;
UPDATE assets SET updated_at = now() WHERE id = :asset AND status = 'active';
SELECT asset_id, holder_id, bank_id, kind, amount_minor, currency, expires_at, status FROM offers WHERE id = :asset;
SELECT id FROM liens WHERE asset_id = :asset AND status = 'active';
UPDATE offers SET status = 'taken', ended_at = now() WHERE id = :asset AND status = 'open' AND expires_at > now();
INSERT INTO ledger_leaves VALUES (sha256(('leaf' || :asset || random())::bytea), repeat('e', 200)::bytea, repeat('d', 300));
INSERT INTO ledger_queue (leaf_hash) VALUES (sha256(('queue' || :asset || random())::bytea));
INSERT INTO liens (asset_id, bank_id, offer_id, status, created_at) VALUES (:asset, :bank, :asset, 'active', now()) ON CONFLICT DO NOTHING;
INSERT INTO idempotency_keys VALUES (:bank, 'k' || :asset || random(), '{}') ON CONFLICT DO NOTHING;
COMMIT;
SQL
  cat >"$work/register.sql" <<'SQL'
\set n random(1, 1000000000)
BEGIN;
SELECT id FROM receivables WHERE fingerprint = sha256(('new' || :n)::bytea);
INSERT INTO ledger_leaves VALUES (sha256(('leaf' || :n || random())::bytea), repeat('e', 200)::bytea, repeat('d', 300));
INSERT INTO ledger_queue (leaf_hash) VALUES (sha256(('queue' || :n || random())::bytea));
INSERT INTO receivables (fingerprint, supplier_id, buyer_id, invoice_number, amount_minor, status, created_at)
  VALUES (sha256(('fp' || :n || random())::bytea), 's', 'b', 'INV', 100000, 'registered', now());
COMMIT;
SQL
  cat >"$work/lookup.sql" <<'SQL'
\set n random(1, :rows)
SELECT id, status FROM receivables WHERE fingerprint = sha256(int8send(:n));
SELECT EXISTS (SELECT 1 FROM liens WHERE asset_id = :n AND status = 'active');
SQL
}

echo "raw PostgreSQL (pgbench, $CLIENTS clients, ${SECONDS_RAW}s each)..." >&2
prepare_raw
raw_register="$(raw_pgbench register)"
raw_pledge="$(raw_pgbench pledge)"
raw_lookup="$(raw_pgbench lookup)"
echo "anchorfin on PostgreSQL..." >&2
pg_report="$(run_backend postgres)"
echo "anchorfin on SQLite..." >&2
sqlite_report="$(run_backend sqlite)"

python3 - "$OUT" "$raw_register" "$raw_pledge" "$raw_lookup" "$pg_report" "$sqlite_report" "$CLIENTS" "$ASSETS" <<'PY'
import datetime, json, os, platform, subprocess, sys
out = sys.argv[1]
raw_latency = {"register": json.loads(sys.argv[2]), "pledge": json.loads(sys.argv[3]), "lookup": json.loads(sys.argv[4])}
raw = {k: v["per_second"] for k, v in raw_latency.items()}
pg, sq, clients, assets = json.loads(sys.argv[5]), json.loads(sys.argv[6]), sys.argv[7], sys.argv[8]
def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
pg_version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
def rows(name, report):
    lines = []
    for phase in report["phases"]:
        l = phase["latency_ms"]
        base = raw.get(phase["phase"])
        ratio = f"{phase['per_second'] / base:.2f}" if base else ""
        lines.append(f"| {phase['phase']} | anchorfin on {name} | {phase['per_second']:.0f} | {l['p50']:.1f} | {l['p99']:.1f} "
                     f"| {l['p99_9']:.1f} | {phase['statuses']} | {ratio} |")
    return "\n".join(lines)
raw_rows = "\n".join(f"| {k} | raw PostgreSQL transaction (pgbench) | {v['per_second']:.0f} | {v['p50']:.1f} | {v['p99']:.1f} "
                     f"| {v['p99_9']:.1f} | | 1.00 |" for k, v in raw_latency.items())
section = f"""## Throughput over HTTP ({datetime.date.today()})

`scripts/bench.sh`: {clients} concurrent HTTP clients over loopback (the
load generator runs on the same machine), {assets} receivables registered,
confirmed, offered by the supplier to one bank each (signed offers; no raw
figure), pledged by that bank (10% raced by a second bank naming the same
offer, refused 404: it is not addressed to it) and looked up (4 look-ups
each); release build; durable commits (PostgreSQL
`synchronous_commit=on`; SQLite WAL with `synchronous=FULL`). The raw figures
are pgbench running the SQL each operation needs, one per commit, {clients}
clients, in the same run (latencies from pgbench's per-transaction log). Both
connect over loopback without TLS; the raw database is `VACUUM ANALYZE`d after
its fill and anchorfin's is `ANALYZE`d before each phase (outside the timing),
as autovacuum keeps a running system's statistics. The server used {os.environ.get('POOL', '32')} database connections. Server peak RSS: {pg['server_peak_rss_mb']} MB on
PostgreSQL, {sq['server_peak_rss_mb']} MB on SQLite.
Machine: {os.cpu_count()} cores ({cpu()}), {mem_gb} GiB, {pg_version}.

| operation | what | per second | p50 ms | p99 ms | p99.9 ms | answers | ratio to raw |
|---|---|---|---|---|---|---|---|
{raw_rows}
{rows("PostgreSQL", pg)}
{rows("SQLite", sq)}

After each run the script checked that no asset has two active liens (none had)
and that every lien accepted an offer made to its bank (all had).
"""
header = "# Benchmarks\n\nMeasured figures, each beside the raw database's own figure for the same work in the same run (docs/PRODUCT.md §9).\n\n"
try:
    existing = open(out).read()
except FileNotFoundError:
    existing = header
marker = "## Throughput over HTTP ("
if marker in existing:
    # Replace the section in place, keeping what follows it (the analysis).
    start = existing.index(marker)
    rest = existing[start + len(marker):]
    end = rest.find("\n## ")
    after = rest[end + 1:] if end >= 0 else ""
    updated = existing[:start] + section + ("\n" + after if after else "")
else:
    updated = existing.rstrip() + "\n\n" + section
open(out, "w").write(updated)
print(section)
PY
