#!/usr/bin/env bash
# Portal pages with ROWS receivables (10,000 by default) in a supplier's
# list: a release build on PostgreSQL (a fresh database) and on SQLite (a
# fresh data dir); the supplier registers them through
# `POST /v1/receivables/import` (UPLOADS files, so that the operator's risk
# officer has near-duplicate alerts to read), signs in to the portal with
# its API key (`POST /sign-in`, the session cookie kept), and CLIENTS
# clients (4 by default, one process and one kept-alive connection each)
# send REQUESTS GETs (2,000 by default) to each page: the dashboard, the
# list's first page, a keyset page from the middle of the list (reached by
# following the pages' own "next" links), the list filtered by a status
# all rows have and by one none has, one receivable, the ledger, and the
# alert inbox as the operator's risk officer (on PostgreSQL after an
# ANALYZE, as autovacuum would have run a minute after the import).
# Beside each page, the raw database's figure for the page's main query on
# the same data, in the same run: pgbench (prepared statements, CLIENTS
# clients) on PostgreSQL, Python's sqlite3 (one connection) on SQLite.
# Results go to a section of docs/BENCHMARKS.md,
# replaced on each run.
#
#   scripts/bench-portal.sh                                  # both backends
#   ROWS=2000 REQUESTS=200 OUT=/tmp/portal.md scripts/bench-portal.sh   # a quick check
#   scripts/bench-portal.sh sqlite                           # one backend
#   KEEP=/tmp/portal scripts/bench-portal.sh postgres        # keep the data (EXPLAIN it afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
ROWS="${ROWS:-10000}"
UPLOADS="${UPLOADS:-40}"
REQUESTS="${REQUESTS:-2000}"
CLIENTS="${CLIENTS:-4}"
SECONDS_RAW="${SECONDS_RAW:-5}"
PORT="${PORT:-18110}"
OUT="${OUT:-docs/BENCHMARKS.md}"
BACKENDS=("${@:-postgres sqlite}")
read -r -a BACKENDS <<<"${BACKENDS[*]}"
DATABASE=anchorfin_bench_portal

cargo build --release --locked --bin anchorfin >&2
BIN=target/release/anchorfin
# shellcheck source=scripts/bench-serve.sh
. scripts/bench-serve.sh
work="$(mktemp -d)"
server_pid=""
KEEP="${KEEP:-}"
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && cp -r "$work"/sqlite "$KEEP"/ 2>/dev/null || true
    echo "kept: $DATABASE on PostgreSQL, $KEEP/sqlite" >&2
  else
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

with_database() { # URL NAME -> URL with the database replaced
  python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$1" "$2"
}

# The pages, measured over HTTP: JSON on stdout.
measure_pages() { # BASE SUPPLIER_KEY OFFICER_KEY [POSTGRES_URL]
  python3 - "$1" "$2" "$3" "$ROWS" "$UPLOADS" "$REQUESTS" "$CLIENTS" "${4:-}" <<'PY'
import html, http.client, json, multiprocessing, re, subprocess, sys, time, urllib.parse

base, supplier_key, officer_key = sys.argv[1:4]
rows, uploads, requests, clients = (int(value) for value in sys.argv[4:8])
postgres_url = sys.argv[8]
host = urllib.parse.urlsplit(base)

def connect():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=60)

def call(connection, method, path, body=None, headers=None):
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    return response.status, response.getheaders(), response.read()

# The supplier's invoices, in UPLOADS files of the same dates and amounts
# (each file after the first is near duplicates of the one before: one
# alert per upload for the operator's risk officer).
api = connect()
per_file = rows // uploads
for upload in range(uploads):
    count = per_file if upload < uploads - 1 else rows - per_file * (uploads - 1)
    lines = ["invoice_number,buyer_legal_id,issue_date,due_date,currency,amount,po_number"]
    lines += [f"PB-{upload:03d}-{i:05d},BENCH-BUY,2026-11-01,2027-03-31,CNY,{1000 + i}.{i % 100:02d},"
              for i in range(count)]
    status, _, answer = call(api, "POST", "/v1/receivables/import", "\n".join(lines) + "\n",
                             {"Authorization": "Bearer " + supplier_key, "Content-Type": "text/csv"})
    assert status == 200, (status, answer[:500])
    assert json.loads(answer)["created"] == count, answer[:500]
# Small uploads leave PostgreSQL's planner statistics to autovacuum, which
# brings them up to date within a minute or so: measure pages as they are
# then, not in the minute after the import.
if postgres_url:
    subprocess.run(["psql", "-q", postgres_url, "-c", "ANALYZE"], check=True)

def sign_in(key):
    connection = connect()
    status, headers, page = call(connection, "GET", "/sign-in")
    assert status == 200, status
    token = re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()
    form_cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    body = urllib.parse.urlencode({"api_key": key, "form_token": token, "next": "/"})
    status, headers, _ = call(connection, "POST", "/sign-in", body,
                              {"Content-Type": "application/x-www-form-urlencoded", "Cookie": form_cookie})
    assert status == 303, status
    return next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie" and v.startswith("anchorfin_session="))

supplier, officer = sign_in(supplier_key), sign_in(officer_key)

# The middle of the list, reached as a person would: page after page.
browser = connect()
path, pages, receivable = "/receivables", 0, None
while pages < rows // 50 // 2:
    status, _, page = call(browser, "GET", path, headers={"Cookie": supplier})
    assert status == 200, (status, path)
    pages += 1
    receivable = re.search(rb'href="(/receivables/[0-9a-f-]{36})"', page).group(1).decode()
    path = html.unescape(re.search(rb'href="([^"]+)" rel="next"', page).group(1).decode())
middle = path

PAGES = [
    ("dashboard", "/", supplier),
    ("list, first page", "/receivables", supplier),
    (f"list, page {pages + 1} (keyset)", middle, supplier),
    ("list, status=registered", "/receivables?status=registered", supplier),
    ("list, status=confirmed (none)", "/receivables?status=confirmed", supplier),
    ("one receivable", receivable, supplier),
    ("ledger", "/ledger", supplier),
    ("alerts (risk officer)", "/alerts", officer),
]

def worker(arguments):
    path, cookie, count = arguments
    connection = connect()
    latencies, statuses, sizes = [], {}, 0
    for _ in range(count):
        started = time.perf_counter()
        status, _, body = call(connection, "GET", path, headers={"Cookie": cookie})
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        sizes += len(body)
    return latencies, statuses, sizes

def at(values, q):
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)

report = []
with multiprocessing.get_context("fork").Pool(clients) as pool:
    for name, path, cookie in PAGES:
        pool.map(worker, [(path, cookie, 20)] * clients)  # warm up
        started = time.perf_counter()
        results = pool.map(worker, [(path, cookie, requests // clients)] * clients)
        seconds = time.perf_counter() - started
        latencies = sorted(latency for result in results for latency in result[0])
        statuses = {}
        for _, counted, _ in results:
            for status, count in counted.items():
                statuses[str(status)] = statuses.get(str(status), 0) + count
        assert set(statuses) == {"200"}, (name, statuses)
        report.append({"page": name, "path": path.split("?")[0] if "after=" in path else path,
                       "requests": len(latencies), "per_second": round(len(latencies) / seconds),
                       "p50": at(latencies, 0.5), "p99": at(latencies, 0.99), "max": round(latencies[-1], 2),
                       "bytes": sum(result[2] for result in results) // len(latencies)})
print(json.dumps({"pages": report}))
PY
}

# Each page's main query, as the server sends it (the same WHERE, ORDER BY
# and LIMIT), with the values the pages used: the supplier, the keyset of
# the middle page, the receivable, the operator.
QUERIES=(
  "dashboard|SELECT status, currency, count(*), CAST(SUM(amount_minor) AS BIGINT) FROM receivables WHERE supplier_id = :supplier GROUP BY status, currency ORDER BY status, currency"
  "list, first page|SELECT * FROM receivables WHERE supplier_id = :supplier ORDER BY created_at DESC, id DESC LIMIT 51"
  "keyset|SELECT * FROM receivables WHERE supplier_id = :supplier AND created_at <= :after_time AND (created_at < :after_time OR (created_at = :after_time AND id < :after_id)) ORDER BY created_at DESC, id DESC LIMIT 51"
  "list, status=registered|SELECT * FROM receivables WHERE supplier_id = :supplier AND status = 'registered' ORDER BY created_at DESC, id DESC LIMIT 51"
  "list, status=confirmed (none)|SELECT * FROM receivables WHERE supplier_id = :supplier AND status = 'confirmed' ORDER BY created_at DESC, id DESC LIMIT 51"
  "one receivable|SELECT * FROM receivables WHERE id = :receivable"
  "ledger|SELECT s.leaf_index, l.* FROM ledger_sequence s JOIN ledger_leaves l ON l.leaf_hash = s.leaf_hash WHERE s.leaf_index >= :ledger_start AND s.leaf_index < :ledger_end ORDER BY s.leaf_index"
  "alerts (risk officer)|SELECT a.*, u.* FROM alerts a JOIN alert_audiences u ON u.alert_id = a.id WHERE u.organization_id = :operator AND u.status = 'open' ORDER BY a.created_at DESC, a.id DESC LIMIT 26"
)

# The values the queries take, from the database the pages read: NAME=VALUE lines.
values_sql() { # SUPPLIER OPERATOR
  cat <<SQL
SELECT 'supplier=' || '$1';
SELECT 'operator=' || '$2';
SELECT 'after_time=' || created_at || chr(10) || 'after_id=' || id FROM receivables WHERE supplier_id = '$1'
  ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $((ROWS / 2 - 1));
SELECT 'receivable=' || id FROM receivables WHERE supplier_id = '$1' ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $((ROWS / 2));
SELECT 'ledger_start=' || (max(tree_size) - 20) || chr(10) || 'ledger_end=' || max(tree_size) FROM ledger_tree_heads;
SQL
}

raw_postgres() { # URL SUPPLIER OPERATOR -> JSON {query: {per_second, p50, p99}}
  local url="$1" defines=() name sql
  while IFS= read -r line; do
    [ -n "$line" ] && defines+=(-D "$line")
  done < <(values_sql "$2" "$3" | psql -Atq "$url")
  local results="{}"
  for entry in "${QUERIES[@]}"; do
    name="${entry%%|*}"
    sql="${entry#*|}"
    printf '%s;\n' "$sql" >"$work/query.sql"
    rm -f "$work"/pgbench_log.*
    local tps
    tps="$(cd "$work" && pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_RAW" -l "${defines[@]}" -f query.sql "$url" 2>/dev/null |
      awk '/^tps/ {print $3; exit}')"
    results="$(cat "$work"/pgbench_log.* | python3 -c '
import json, sys
latencies = sorted(int(line.split()[2]) / 1000 for line in sys.stdin if line.strip())
at = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)
results = json.loads(sys.argv[1])
results[sys.argv[2]] = {"per_second": round(float(sys.argv[3])), "p50": at(0.5), "p99": at(0.99)}
print(json.dumps(results))' "$results" "$name" "$tps")"
  done
  echo "$results"
}

raw_sqlite() { # FILE SUPPLIER OPERATOR -> JSON {query: {per_second, p50, p99}}
  python3 - "$1" "$2" "$3" "$ROWS" "$REQUESTS" "${QUERIES[@]}" <<'PY'
import json, sqlite3, sys, time
path, supplier, operator, rows, requests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
c = sqlite3.connect(path)
after_time, after_id = c.execute("SELECT created_at, id FROM receivables WHERE supplier_id = ? ORDER BY created_at DESC, id DESC "
                                 "LIMIT 1 OFFSET ?", (supplier, rows // 2 - 1)).fetchone()
receivable = c.execute("SELECT id FROM receivables WHERE supplier_id = ? ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
                       (supplier, rows // 2)).fetchone()[0]
size = c.execute("SELECT max(tree_size) FROM ledger_tree_heads").fetchone()[0]
values = {"supplier": supplier, "operator": operator, "after_time": after_time, "after_id": after_id,
          "receivable": receivable, "ledger_start": size - 20, "ledger_end": size}
results = {}
for entry in sys.argv[6:]:
    name, sql = entry.split("|", 1)
    # sqlite3's named parameters (:name) are written as pgbench's variables.
    for _ in range(20):
        c.execute(sql, values).fetchall()
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        begun = time.perf_counter()
        c.execute(sql, values).fetchall()
        latencies.append((time.perf_counter() - begun) * 1000)
    seconds = time.perf_counter() - started
    latencies.sort()
    at = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)
    results[name] = {"per_second": round(requests / seconds), "p50": at(0.5), "p99": at(0.99)}
print(json.dumps(results))
PY
}

run_backend() { # postgres|sqlite -> JSON on stdout
  local backend="$1" data="$work/$1" url=""
  mkdir -p "$data"
  if [ "$backend" = postgres ]; then
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" -c "CREATE DATABASE $DATABASE" >/dev/null
    url="$(with_database "$ADMIN_URL" "$DATABASE")"
  fi
  local db_args=(--data-dir "$data")
  [ -n "$url" ] && db_args+=(--database-url "$url")
  local operator supplier officer_key operator_id supplier_id
  operator="$("$BIN" org add "${db_args[@]}" --name "Bench operator" --role operator --legal-id "BENCH-OPS" \
    --risk-email risk@bench.example)"
  supplier="$("$BIN" org add "${db_args[@]}" --name "Bench supplier" --role supplier --legal-id "BENCH-SUP")"
  "$BIN" org add "${db_args[@]}" --name "Bench buyer" --role core_enterprise --legal-id "BENCH-BUY" >/dev/null
  read -r operator_id officer_key < <(python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["id"], o["risk_officers"][0]["api_key"])' <<<"$operator")
  read -r supplier_id supplier_key < <(python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["id"], o["api_key"])' <<<"$supplier")
  start_server "$work/$backend.log" "${db_args[@]}"
  local pages raw rss_kb
  pages="$(measure_pages "http://127.0.0.1:$PORT" "$supplier_key" "$officer_key" "$url")"
  rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)"
  # The raw figures with the server stopped, as pgbench's and sqlite3's own.
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if [ "$backend" = postgres ]; then
    raw="$(raw_postgres "$url" "$supplier_id" "$operator_id")"
  else
    raw="$(raw_sqlite "$data/anchorfin.db" "$supplier_id" "$operator_id")"
  fi
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["raw"]=json.loads(sys.argv[2]); r["rss_mb"]=round(int(sys.argv[3])/1024,1); print(json.dumps(r))' \
    "$pages" "$raw" "$rss_kb"
}

reports=()
for backend in "${BACKENDS[@]}"; do
  echo "portal pages on $backend..." >&2
  reports+=("$backend=$(run_backend "$backend")")
done

python3 - "$OUT" "$ROWS" "$UPLOADS" "$REQUESTS" "$CLIENTS" "$SECONDS_RAW" "${reports[@]}" <<'PY' | python3 scripts/bench-section.py "$OUT" "## Portal pages (scripts/bench-portal.sh"
import datetime, json, os, subprocess, sys
out, rows, uploads, requests, clients, seconds_raw = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
reports = [(entry.split("=", 1)[0], json.loads(entry.split("=", 1)[1])) for entry in sys.argv[7:]]
names = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
pg_version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
load = os.getloadavg()
lines = [f"## Portal pages (scripts/bench-portal.sh, {datetime.date.today().isoformat()})", "",
         f"{rows:,} receivables in one supplier's list (registered through `POST /v1/receivables/import` in {uploads} files),",
         f"then {requests:,} GETs of each page from {clients} clients over loopback HTTP (one process and one kept-alive",
         "connection each, signed in through the portal's form; 20 requests each to warm up first); release build;",
         "PostgreSQL's statistics brought up to date (ANALYZE) after the import, as autovacuum does within a minute.",
         "Each page's figure is the whole request: the session's check, the page's queries, the template.",
         "Beside it, the raw database running the page's main query on the same data, in the same run",
         f"(PostgreSQL: pgbench, prepared, {clients} clients, {seconds_raw} s; SQLite: Python's sqlite3, one connection,",
         f"{requests:,} runs). Machine: {os.cpu_count()} cores, {pg_version}; load average at the end {load[0]:.1f}.", "",
         "| backend | page | per second | p50 ms | p99 ms | max ms | KiB | raw query per second | raw p50 ms | raw p99 ms |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for backend, report in reports:
    for page in report["pages"]:
        key = "keyset" if page["page"].endswith("(keyset)") else page["page"]
        raw = report["raw"][key]
        lines.append(f"| {names[backend]} | {page['page']} | {page['per_second']:,} | {page['p50']} | {page['p99']} | "
                     f"{page['max']} | {page['bytes'] / 1024:.1f} | {raw['per_second']:,} | {raw['p50']} | {raw['p99']} |")
lines += ["", "Server peak RSS: " + ", ".join(f"{report['rss_mb']} MB on {names[backend]}" for backend, report in reports) + "."]
print("\n".join(lines))
PY
