#!/usr/bin/env bash
# Uploads at batch speed: a ROWS-row CSV upload (10,000 by default) timed
# against a release build on PostgreSQL and on SQLite, while a client keeps
# registering single invoices (`POST /v1/receivables`) and records their
# latencies; then the same file again (a replay of its first report); then
# a JOB_ROWS-row upload (100,000 by default), which runs as a job (202, then
# its progress followed until done), again beside single registrations. Beside
# them, the raw database's own figure for the writes an upload needs: ROWS
# receivables and ROWS ledger leaves inserted in one transaction (psql on
# PostgreSQL, Python's sqlite3 on SQLite). Results go to a section of
# docs/BENCHMARKS.md, replaced on each run.
#
#   scripts/bench-upload.sh                 # both backends, 10,000 rows
#   ROWS=2000 OUT=/tmp/upload.md scripts/bench-upload.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
ROWS="${ROWS:-10000}"
JOB_ROWS="${JOB_ROWS:-100000}"
PORT="${PORT:-18090}"
OUT="${OUT:-docs/BENCHMARKS.md}"

cargo build --release --locked --bin anchorfin >&2
BIN=target/release/anchorfin
# shellcheck source=scripts/bench-serve.sh
. scripts/bench-serve.sh
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_upload WITH (FORCE)" >/dev/null 2>&1 || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_upload_raw WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

with_database() { # URL NAME -> URL with the database replaced
  python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$1" "$2"
}

key_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])'; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

run_backend() { # postgres|sqlite -> JSON on stdout
  local backend="$1" data="$work/$1" url=""
  mkdir -p "$data"
  if [ "$backend" = postgres ]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_upload WITH (FORCE)" \
      -c "CREATE DATABASE anchorfin_bench_upload" >/dev/null
    url="$(with_database "$ADMIN_URL" anchorfin_bench_upload)"
  fi
  local db_args=(--data-dir "$data")
  [ -n "$url" ] && db_args+=(--database-url "$url")
  "$BIN" org add "${db_args[@]}" --name "Bench operator" --role operator --legal-id "BENCH-OPS" >/dev/null
  local supplier buyer_id
  supplier="$("$BIN" org add "${db_args[@]}" --name "Bench supplier" --role supplier --legal-id "BENCH-SUP" | key_of)"
  buyer_id="$("$BIN" org add "${db_args[@]}" --name "Bench buyer" --role core_enterprise --legal-id "BENCH-BUY" | id_of)"
  start_server "$work/$backend.log" "${db_args[@]}"
  python3 - "$work/upload.csv" "$ROWS" "$work/job.csv" "$JOB_ROWS" <<'PY'
import sys
for path, rows, prefix in ((sys.argv[1], int(sys.argv[2]), "UP"), (sys.argv[3], int(sys.argv[4]), "UJ")):
    with open(path, "w") as f:
        f.write("invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number\n")
        for i in range(rows):
            f.write(f"{prefix}-{i:07d},BENCH-BUY,2026-11-01,2027-03-31,CNY,{1000 + i}.{i % 100:02d},\n")
PY
  python3 - "http://127.0.0.1:$PORT" "$supplier" "$buyer_id" "$work/upload.csv" "$work/job.csv" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
base, key, buyer, path, job_path = sys.argv[1:6]
host = urllib.parse.urlsplit(base)
body = open(path, "rb").read()
job_body = open(job_path, "rb").read()

def post(connection, target, payload, content_type):
    connection.request("POST", target, payload, {"Authorization": "Bearer " + key, "Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()

done = threading.Event()
latencies = []
def singles(prefix="SINGLE"):
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    i = 0
    while not done.is_set():
        invoice = {"buyer_id": buyer, "invoice_number": f"{prefix}-{i:07d}", "issue_date": "2026-11-01",
                   "due_date": "2027-03-31", "currency": "CNY", "amount": "10.00"}
        started = time.perf_counter()
        status, _ = post(connection, "/v1/receivables", json.dumps(invoice), "application/json")
        latencies.append((started, (time.perf_counter() - started) * 1000))
        assert status == 201, status
        i += 1

def upload(payload=body):
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
    started = time.perf_counter()
    status, answer = post(connection, "/v1/receivables/import", payload, "text/csv")
    assert status == 200, (status, answer[:500])
    return started, time.perf_counter() - started, json.loads(answer)

thread = threading.Thread(target=singles)
thread.start()
time.sleep(0.5)
upload_started, seconds, report = upload()
done.set()
thread.join()
# Every single registration sent while the upload ran, however long it
# waited for it.
during = sorted(latency for started, latency in latencies
                if upload_started <= started <= upload_started + seconds)
_, replay_seconds, replay = upload()
assert replay["replayed"] and replay["results"] == report["results"]
# Another file of as many new invoices, with nothing else running.
_, alone_seconds, alone = upload(body.replace(b"UP-", b"UQ-"))
assert alone["created"] == report["created"], alone["created"]
def at(values, q):
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None

# The large upload, as a job, beside single registrations again.
done.clear()
latencies.clear()
thread = threading.Thread(target=singles, args=("JOBSINGLE",))
thread.start()
time.sleep(0.5)
connection = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
job_started = time.perf_counter()
status, answer = post(connection, "/v1/receivables/import", job_body, "text/csv")
accepted_seconds = time.perf_counter() - job_started
assert status == 202, (status, answer[:500])
href = json.loads(answer)["href"]
while True:
    connection.request("GET", href, headers={"Authorization": "Bearer " + key})
    shown = json.loads(connection.getresponse().read())
    if shown["status"] == "done":
        break
    assert shown["status"] == "running", shown
    time.sleep(0.1)
job_seconds = time.perf_counter() - job_started
done.set()
thread.join()
assert shown["created"] == len(shown["results"]), shown["created"]
job_during = sorted(latency for started, latency in latencies
                    if job_started <= started <= job_started + job_seconds)
print(json.dumps({
    "rows": len(report["results"]), "created": report["created"], "seconds": round(seconds, 2),
    "rows_per_second": round(len(report["results"]) / seconds),
    "singles_during": len(during), "singles_p50_ms": at(during, 0.5), "singles_p99_ms": at(during, 0.99),
    "singles_max_ms": round(during[-1], 1) if during else None,
    "replay_seconds": round(replay_seconds, 2), "alone_seconds": round(alone_seconds, 2),
    "job_rows": len(shown["results"]), "job_accepted_seconds": round(accepted_seconds, 2),
    "job_seconds": round(job_seconds, 2), "job_rows_per_second": round(len(shown["results"]) / job_seconds),
    "job_singles": len(job_during), "job_singles_p50_ms": at(job_during, 0.5),
    "job_singles_p99_ms": at(job_during, 0.99),
}))
PY
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

raw_postgres() { # -> seconds for ROWS receivables and ledger leaves in one transaction
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_upload_raw WITH (FORCE)" \
    -c "CREATE DATABASE anchorfin_bench_upload_raw" >/dev/null
  local raw_url
  raw_url="$(with_database "$ADMIN_URL" anchorfin_bench_upload_raw)"
  psql -q -v ON_ERROR_STOP=1 "$raw_url" >/dev/null <<'SQL'
CREATE TABLE receivables (id TEXT PRIMARY KEY, fingerprint BYTEA NOT NULL UNIQUE, supplier_id TEXT NOT NULL,
  buyer_id TEXT NOT NULL, invoice_number TEXT NOT NULL, issue_date DATE NOT NULL, due_date DATE NOT NULL,
  currency TEXT NOT NULL, amount_minor BIGINT NOT NULL, status TEXT NOT NULL, leaf_hash BYTEA NOT NULL,
  created_at TIMESTAMP NOT NULL);
CREATE INDEX ON receivables (supplier_id);
CREATE INDEX ON receivables (buyer_id);
CREATE INDEX ON receivables (supplier_id, buyer_id, issue_date, currency, amount_minor);
CREATE TABLE ledger_leaves (leaf_hash BYTEA PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
SQL
  local started ended
  started="$(date +%s.%N)"
  psql -q -v ON_ERROR_STOP=1 -v rows="$ROWS" "$raw_url" >/dev/null <<'SQL'
BEGIN;
INSERT INTO ledger_leaves SELECT sha256(('leaf' || g)::bytea), 'receivable_registered', repeat('x', 400), now()
  FROM generate_series(1, :rows) g;
INSERT INTO receivables SELECT md5(g::text), sha256(int8send(g)), 's', 'b', 'UP-' || g, '2026-11-01', '2027-03-31',
  'CNY', 100000 + g, 'registered', sha256(('leaf' || g)::bytea), now() FROM generate_series(1, :rows) g;
COMMIT;
SQL
  ended="$(date +%s.%N)"
  python3 -c "print(round($ended - $started, 3))"
}

raw_sqlite() {
  python3 - "$work/raw.db" "$ROWS" <<'PY'
import hashlib, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.executescript("""
PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
CREATE TABLE receivables (id TEXT PRIMARY KEY, fingerprint BLOB NOT NULL UNIQUE, supplier_id TEXT NOT NULL,
  buyer_id TEXT NOT NULL, invoice_number TEXT NOT NULL, issue_date DATE NOT NULL, due_date DATE NOT NULL,
  currency TEXT NOT NULL, amount_minor BIGINT NOT NULL, status TEXT NOT NULL, leaf_hash BLOB NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE INDEX r_s ON receivables (supplier_id); CREATE INDEX r_b ON receivables (buyer_id);
CREATE INDEX r_l ON receivables (supplier_id, buyer_id, issue_date, currency, amount_minor);
CREATE TABLE ledger_leaves (leaf_hash BLOB PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
""")
rows = int(sys.argv[2])
started = time.perf_counter()
with c:
    c.executemany("INSERT INTO ledger_leaves VALUES (?, 'receivable_registered', ?, '2026-11-01')",
                  ((hashlib.sha256(b"leaf%d" % g).digest(), "x" * 400) for g in range(rows)))
    c.executemany("INSERT INTO receivables VALUES (?, ?, 's', 'b', ?, '2026-11-01', '2027-03-31', 'CNY', ?, 'registered', ?, '2026-11-01')",
                  ((hashlib.md5(b"%d" % g).hexdigest(), hashlib.sha256(b"%d" % g).digest(), "UP-%d" % g, 100000 + g,
                    hashlib.sha256(b"leaf%d" % g).digest()) for g in range(rows)))
print(round(time.perf_counter() - started, 3))
PY
}

postgres="$(run_backend postgres)"
sqlite="$(run_backend sqlite)"
raw_pg="$(raw_postgres)"
raw_lite="$(raw_sqlite)"

python3 - "$OUT" "$ROWS" "$postgres" "$sqlite" "$raw_pg" "$raw_lite" "$JOB_ROWS" <<'PY' | python3 scripts/bench-section.py "$OUT" "## Uploads (scripts/bench-upload.sh"
import datetime, json, sys
out, rows, job_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[7])
pg, lite = json.loads(sys.argv[3]), json.loads(sys.argv[4])
raw = {"PostgreSQL": float(sys.argv[5]), "SQLite": float(sys.argv[6])}
today = datetime.date.today().isoformat()
lines = [f"## Uploads (scripts/bench-upload.sh, {today})", "",
         f"One CSV upload of {rows:,} invoices (`POST /v1/receivables/import`, committed 500 rows at a time, set-based),",
         "timed over loopback HTTP against a release build, while one client registers single invoices",
         "(`POST /v1/receivables`) without pause; then the same file again, which replays the first report;",
         "then another file of as many new invoices with nothing else running (\"upload alone\").",
         "The raw figure is the database alone inserting as many receivables and ledger leaves in one transaction.", "",
         "| backend | upload | rows/s | raw insert | singles during it | p50 | p99 | max | replay | upload alone |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for name, r in (("PostgreSQL", pg), ("SQLite", lite)):
    lines.append(f"| {name} | {r['seconds']} s | {r['rows_per_second']:,} | {raw[name]} s | {r['singles_during']} | "
                 f"{r['singles_p50_ms']} ms | {r['singles_p99_ms']} ms | {r['singles_max_ms']} ms | {r['replay_seconds']} s | "
                 f"{r['alone_seconds']} s |")
lines += ["", f"Then one upload of {job_rows:,} invoices, which runs as a job: answered 202 (\"accepted\"), its progress",
          "followed every 100 ms until its report is done, while the client again registers single invoices.", "",
          "| backend | accepted | done | rows/s | singles during it | p50 | p99 |", "|---|---|---|---|---|---|---|"]
for name, r in (("PostgreSQL", pg), ("SQLite", lite)):
    lines.append(f"| {name} | {r['job_accepted_seconds']} s | {r['job_seconds']} s | {r['job_rows_per_second']:,} | "
                 f"{r['job_singles']} | {r['job_singles_p50_ms']} ms | {r['job_singles_p99_ms']} ms |")
print("\n".join(lines))
PY
