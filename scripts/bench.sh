#!/usr/bin/env bash
# Registrations, confirmations, pledge decisions (a share of them raced on
# hot assets) and encumbrance look-ups per second, measured over loopback
# HTTP with `anchorfin-load` (64 clients by default) against a release build
# on PostgreSQL and on SQLite; beside them, in the same run, pgbench's
# figures for the raw SQL each needs (a registration: look up the
# fingerprint, insert the receivable, its ledger leaf and queue row; a
# pledge: lock the asset row, look for an active lien, append a ledger leaf,
# insert the lien and the idempotency record; a look-up: the receivable by
# fingerprint and whether it has an active lien), one per commit.
# Afterwards it checks in the database that no asset ever got two active
# liens. Results go to docs/BENCHMARKS.md.
#
#   scripts/bench.sh                # both backends
#   CLIENTS=32 ASSETS=2000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
CLIENTS="${CLIENTS:-64}"
ASSETS="${ASSETS:-10000}"
PORT="${PORT:-18080}"
export POOL="${POOL:-32}" # the server's database connections
SECONDS_RAW="${SECONDS_RAW:-20}"
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
    >"$work/$backend.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$operator_key" --clients "$CLIENTS" --assets "$ASSETS" \
    --run "$backend" >"$work/$backend.json"
  local rss_kb
  rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  # No asset may have two active liens.
  local doubled
  if [ "$backend" = postgres ]; then
    doubled="$(psql -Atq "$url" -c "SELECT count(*) FROM (SELECT asset_id FROM liens WHERE status = 'active' AND asset_id IS NOT NULL GROUP BY asset_id HAVING count(*) > 1) d")"
  else
    doubled="$(python3 - "$data/anchorfin.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM (SELECT asset_id FROM liens WHERE status = 'active' AND asset_id IS NOT NULL GROUP BY asset_id HAVING count(*) > 1)").fetchone()[0])
PY
)"
  fi
  if [ "$doubled" != 0 ]; then
    echo "FAILED: $doubled assets have two active liens on $backend" >&2
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
  tps="$(pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_RAW" -l --log-prefix="$work/pgbench-$1" -f "$work/$1.sql" "$raw_url" 2>/dev/null |
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
  psql -q "$raw_url" >/dev/null <<'SQL'
CREATE TABLE receivables (id BIGSERIAL PRIMARY KEY, fingerprint BYTEA NOT NULL UNIQUE, supplier_id TEXT NOT NULL,
  buyer_id TEXT NOT NULL, invoice_number TEXT NOT NULL, amount_minor BIGINT NOT NULL, status TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
INSERT INTO receivables (fingerprint, supplier_id, buyer_id, invoice_number, amount_minor, status, created_at)
  SELECT sha256(int8send(g)), 's', 'b', 'INV-' || g, 100000, 'confirmed', now() FROM generate_series(1, 1000000) g;
CREATE TABLE assets (id BIGINT PRIMARY KEY, status TEXT NOT NULL, updated_at TIMESTAMP NOT NULL);
INSERT INTO assets SELECT g, 'active', now() FROM generate_series(1, 1000000) g;
CREATE TABLE liens (id BIGSERIAL PRIMARY KEY, asset_id BIGINT NOT NULL, bank_id INT NOT NULL, status TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE UNIQUE INDEX liens_one_active ON liens (asset_id) WHERE status = 'active';
CREATE TABLE ledger_leaves (leaf_hash BYTEA PRIMARY KEY, entry BYTEA NOT NULL, details TEXT NOT NULL);
CREATE TABLE ledger_queue (id BIGSERIAL PRIMARY KEY, leaf_hash BYTEA NOT NULL);
CREATE TABLE idempotency_keys (bank_id INT, key TEXT, response TEXT, PRIMARY KEY (bank_id, key));
VACUUM ANALYZE;
SQL
  cat >"$work/pledge.sql" <<'SQL'
\set asset random(1, 1000000)
BEGIN;
SELECT response FROM idempotency_keys WHERE bank_id = :client_id AND key = 'k' || :asset;
UPDATE assets SET updated_at = now() WHERE id = :asset AND status = 'active';
SELECT id FROM liens WHERE asset_id = :asset AND status = 'active';
INSERT INTO ledger_leaves VALUES (sha256(('leaf' || :asset || random())::bytea), repeat('e', 200)::bytea, repeat('d', 300));
INSERT INTO ledger_queue (leaf_hash) VALUES (sha256(('queue' || :asset || random())::bytea));
INSERT INTO liens (asset_id, bank_id, status, created_at) VALUES (:asset, :client_id, 'active', now()) ON CONFLICT DO NOTHING;
INSERT INTO idempotency_keys VALUES (:client_id, 'k' || :asset || random(), '{}') ON CONFLICT DO NOTHING;
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
\set n random(1, 1000000)
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
confirmed, pledged (10% raced by a second bank, refused 409) and looked up
(4 look-ups each); release build; durable commits (PostgreSQL
`synchronous_commit=on`; SQLite WAL with `synchronous=FULL`). The raw figures
are pgbench running the SQL each operation needs, one per commit, {clients}
clients, in the same run (latencies from pgbench's per-transaction log). The server used {os.environ.get('POOL', '32')} database connections. Server peak RSS: {pg['server_peak_rss_mb']} MB on
PostgreSQL, {sq['server_peak_rss_mb']} MB on SQLite.
Machine: {os.cpu_count()} cores ({cpu()}), {mem_gb} GiB, {pg_version}.

| operation | what | per second | p50 ms | p99 ms | p99.9 ms | answers | ratio to raw |
|---|---|---|---|---|---|---|---|
{raw_rows}
{rows("PostgreSQL", pg)}
{rows("SQLite", sq)}

After each run the script checked that no asset has two active liens (none had).
"""
header = "# Benchmarks\n\nMeasured figures, each beside the raw database's own figure for the same work in the same run (SPEC section 9).\n\n"
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
