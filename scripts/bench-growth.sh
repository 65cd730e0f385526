#!/usr/bin/env bash
# Whether encumbrance look-ups and pledges slow down as the registry grows,
# how the list endpoints answer with big tables, and the server's memory
# (issue 19, parts 4 and 5). For each SIZE (10,000 and 1,000,000
# receivables by default), on a fresh PostgreSQL database:
#
# 1. Filled directly, not through the API: SIZE receivables of one
#    supplier to one buyer (4 in 5 confirmed, each confirmed one an active
#    asset; 1 asset in 10 pledged to a bank through an offer it took; due
#    in 2027, so that the default sweeper leaves them), with psql's
#    generate_series, after the server's first start on the empty database; ALERTS near-duplicate alerts (100,000) addressed
#    to the operator, whose risk officer lists them; and LEDGER_ENTRIES
#    ledger entries (1,000,000) appended and sequenced by `anchorfin-fill`
#    through the crate's own ledger code and signed with the server's
#    platform key, so that the tree is real. Then VACUUM ANALYZE.
# 2. The release server on that database, and `anchorfin-load` (CLIENTS
#    clients, ASSETS assets) registering, confirming, offering, pledging
#    and looking up its own receivables on top of the filled ones.
# 3. The list endpoints, REQUESTS GETs each from one kept-alive connection
#    after 20 to warm up: the risk officer's alerts (first page, and a page
#    half-way down by cursor), ledger entries (100 from a random index,
#    as the operator), an inclusion proof at the latest tree size, and the
#    filled supplier's receivables list (the portal's, signed in).
# 4. The server's peak and current RSS (VmHWM, VmRSS) after all that.
# 5. A short pass with auto_explain on (every statement the server runs,
#    logged with its plan to PostgreSQL's log) under a small load, and the
#    plans of the request path that read a big table sequentially.
#
# Results go to the "## Growth" section of docs/BENCHMARKS.md (OUT), the
# raw reports and plans to KEEP if set.
#
#   scripts/bench-growth.sh
#   SIZES="10000 100000" LEDGER_ENTRIES=100000 OUT=/tmp/growth.md scripts/bench-growth.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SIZES="${SIZES:-10000 1000000}"
ALERTS="${ALERTS:-100000}"
LEDGER_ENTRIES="${LEDGER_ENTRIES:-1000000}"
CLIENTS="${CLIENTS:-64}"
ASSETS="${ASSETS:-5000}"
REQUESTS="${REQUESTS:-200}"
PORT="${PORT:-18347}"
POOL="${POOL:-32}"
DATABASE="${DATABASE:-growth_bench}"
POSTGRES_LOG="${POSTGRES_LOG:-/var/log/postgresql/postgresql-15-main.log}"
OUT="${OUT:-docs/BENCHMARKS.md}"
KEEP="${KEEP:-}"

cargo build --release --locked --bin anchorfin --bin anchorfin-load --bin anchorfin-fill >&2
BIN=target/release/anchorfin
LOAD=target/release/anchorfin-load
FILL=target/release/anchorfin-fill
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/
  fi
  rm -rf "$work"
}
trap cleanup EXIT

url="$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$ADMIN_URL" "$DATABASE")"

start_server() { # DATA_DIR LOG
  RUST_LOG=warn "$BIN" serve --data-dir "$1" --database-url "$url" --bind "127.0.0.1:$PORT" \
    --database-max-connections "$POOL" --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 \
    >>"$2" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break # e.g. the port is taken
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "FAILED: the server did not become ready (see $2):" >&2
  tail -20 "$2" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

add_org() { # DATA_DIR ROLE NAME LEGAL_ID [more flags] -> the JSON answer
  local data="$1" role="$2" name="$3" legal_id="$4"
  shift 4
  "$BIN" org add --data-dir "$data" --database-url "$url" --name "$name" --role "$role" --legal-id "$legal_id" "$@"
}

json_field() { # PATH (python subscript) < JSON
  python3 -c 'import json,sys; print(eval("d" + sys.argv[1], {"d": json.load(sys.stdin)}))' "$1"
}

# The list endpoints: JSON {name: {p50, p99, requests}} on stdout.
measure_lists() { # SUPPLIER_KEY OFFICER_KEY OPERATOR_KEY
  python3 - "http://127.0.0.1:$PORT" "$1" "$2" "$3" "$REQUESTS" "$ALERTS" <<'PY'
import http.client, json, random, re, sys, time, urllib.parse

base, supplier_key, officer_key, operator_key = sys.argv[1:5]
requests, alerts = int(sys.argv[5]), int(sys.argv[6])
host = urllib.parse.urlsplit(base)

def connect():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=60)

def call(connection, path, headers=None, method="GET", body=None):
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    return response.status, response.getheaders(), response.read()

def sign_in(key):  # the portal's form, as bench-portal.sh signs in
    connection = connect()
    status, headers, page = call(connection, "/sign-in")
    assert status == 200, status
    token = re.search(rb'name="form_token" value="([^"]+)"', page).group(1).decode()
    form_cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    body = urllib.parse.urlencode({"api_key": key, "form_token": token, "next": "/"})
    status, headers, _ = call(connection, "/sign-in", {"Content-Type": "application/x-www-form-urlencoded",
                                                       "Cookie": form_cookie}, "POST", body)
    assert status == 303, status
    return next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie" and v.startswith("anchorfin_session="))

officer = {"Authorization": "Bearer " + officer_key}
operator = {"Authorization": "Bearer " + operator_key}
api = connect()
status, _, body = call(api, "/v1/ledger/head")
assert status == 200, (status, body[:300])
tree_size = json.loads(body)["tree_size"]

# A cursor half-way down the officer's alerts, reached by following the
# pages' own cursors (100 a page); the measured page is the default 50.
status, _, body = call(api, "/v1/alerts?limit=100", officer)
assert status == 200, (status, body[:300])
page, pages = json.loads(body), 1
while page["next_cursor"] and pages < alerts // 200:
    status, _, body = call(api, "/v1/alerts?limit=100&cursor=" + page["next_cursor"], officer)
    assert status == 200, (status, body[:300])
    page, pages = json.loads(body), pages + 1
deep_cursor = page["next_cursor"]
assert deep_cursor, "fewer alerts than expected"

supplier = {"Cookie": sign_in(supplier_key)}
random.seed(7)
ENDPOINTS = [
    ("alerts, first page", lambda: "/v1/alerts", officer),
    (f"alerts, {pages * 100:,} down by cursor", lambda: "/v1/alerts?cursor=" + deep_cursor, officer),
    ("ledger entries, 100 from a random index", lambda: (lambda start: f"/v1/ledger/entries?start={start}&end={start + 100}")(random.randrange(tree_size - 100)), operator),
    (f"inclusion proof at tree size {tree_size}", lambda: f"/v1/ledger/proofs/inclusion?index={random.randrange(tree_size)}&tree_size={tree_size}", operator),
    ("supplier's receivables, first page (portal)", lambda: "/receivables", supplier),
]

def at(values, q):
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)

report = {}
for name, path, headers in ENDPOINTS:
    connection = connect()
    for _ in range(20):
        status, _, body = call(connection, path(), headers)
        assert status == 200, (name, status, body[:300])
    latencies = []
    for _ in range(requests):
        target = path()
        started = time.perf_counter()
        status, _, body = call(connection, target, headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, (name, target, status, body[:300])
    latencies.sort()
    report[name] = {"requests": len(latencies), "p50": at(latencies, 0.5), "p99": at(latencies, 0.99),
                    "bytes": len(body)}
print(json.dumps({"tree_size": tree_size, "lists": report}))
PY
}

# Plans of the server's statements that read a big table sequentially,
# from PostgreSQL's log (auto_explain), as JSON.
sequential_scans() { # LOG_EXCERPT ROWS_PER_TABLE_JSON
  python3 - "$1" "$2" <<'PY'
import json, re, sys
text = open(sys.argv[1], errors="replace").read()
table_rows = json.loads(sys.argv[2])
big = ("receivables", "assets", "liens", "offers", "alerts", "alert_audiences", "ledger_leaves", "ledger_sequence",
       "ledger_nodes", "ledger_leaf_fingerprints", "lookups", "idempotency_keys")
# Each log record starts with a time stamp; auto_explain's carry "plan:".
records = re.split(r"\n(?=\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", text)
plans, found = 0, {}
for record in records:
    if "plan:" not in record or "Query Text:" not in record:
        continue
    plans += 1
    scanned = sorted({t for t in re.findall(r"Seq Scan on (\w+)", record) if t in big})
    if not scanned:
        continue
    # The statement runs from "Query Text:" to the plan's first node.
    lines = record.split("Query Text:", 1)[1].split("\n")
    query = " ".join(line.strip() for line in lines[:next((i for i, l in enumerate(lines) if "(cost=" in l), 1)])
    key = (tuple(scanned), query[:300])
    if key not in found:
        found[key] = {"tables": {t: table_rows.get(t) for t in scanned}, "query": query[:1000], "count": 0,
                      "plan": record.split("plan:", 1)[1].strip()[:4000]}
    found[key]["count"] += 1
print(json.dumps({"plans_logged": plans, "sequential": list(found.values())}))
PY
}

run_size() { # SIZE -> JSON report on stdout
  local size="$1" data="$work/data-$size" log="$work/server-$size.log"
  rm -rf "$data" && mkdir -p "$data"
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" -c "CREATE DATABASE $DATABASE" >/dev/null
  # Organisations through the CLI (which migrates the database): the
  # operator with a risk officer, and the filled rows' supplier, buyer and bank.
  local operator supplier buyer bank
  operator="$(add_org "$data" operator "Growth operator" GROWTH-OPS --risk-email risk@growth.example)"
  supplier="$(add_org "$data" supplier "Growth supplier" GROWTH-SUP)"
  buyer="$(add_org "$data" core_enterprise "Growth buyer" GROWTH-BUY)"
  bank="$(add_org "$data" bank "Growth bank" GROWTH-BANK)"

  # The server's first start binds the platform and fingerprint keys to
  # the database (re-keying stored fingerprints one row at a time, which
  # an empty registry makes instant) and creates the signing key that
  # anchorfin-fill signs the filled tree heads with.
  start_server "$data" "$log"
  stop_server

  echo "  filling $size receivables and $ALERTS alerts..." >&2
  local started fill_rows_seconds fill_ledger fill_vacuum_seconds
  started="$(date +%s.%N)"
  psql -q -v ON_ERROR_STOP=1 -v size="$size" -v alerts="$ALERTS" \
    -v supplier="$(json_field '["id"]' <<<"$supplier")" -v buyer="$(json_field '["id"]' <<<"$buyer")" \
    -v bank="$(json_field '["id"]' <<<"$bank")" -v operator="$(json_field '["id"]' <<<"$operator")" "$url" <<'SQL'
BEGIN;
INSERT INTO receivables (id, fingerprint, supplier_id, buyer_id, invoice_number, issue_date, due_date, currency,
    amount_minor, status, leaf_hash, created_at, decided_at)
SELECT md5('growth-receivable-' || g)::uuid::text, sha256(('growth-fingerprint-' || g)::bytea), :'supplier', :'buyer',
       'GF-' || lpad(g::text, 8, '0'), date '2026-06-01' + (g % 180), date '2026-06-01' + (g % 180) + 400, 'CNY',
       100000 + (g % 1000) * 100, CASE WHEN g % 5 = 0 THEN 'registered' ELSE 'confirmed' END,
       sha256(('growth-leaf-receivable-' || g)::bytea), timestamp '2026-01-01' + g * interval '1 second',
       CASE WHEN g % 5 = 0 THEN NULL ELSE timestamp '2026-01-01' + g * interval '1 second' + interval '1 hour' END
  FROM generate_series(1, :size) g;
INSERT INTO assets (id, receivable_id, holder_id, face_value_minor, currency, status, leaf_hash, created_at, updated_at)
SELECT md5('growth-asset-' || g)::uuid::text, md5('growth-receivable-' || g)::uuid::text, :'supplier',
       100000 + (g % 1000) * 100, 'CNY', 'active', sha256(('growth-leaf-asset-' || g)::bytea),
       timestamp '2026-01-01' + g * interval '1 second' + interval '1 hour',
       timestamp '2026-01-01' + g * interval '1 second' + interval '1 hour'
  FROM generate_series(1, :size) g WHERE g % 5 <> 0;
INSERT INTO offers (id, asset_id, holder_id, bank_id, kind, amount_minor, currency, expires_at, status, leaf_hash,
    created_at, ended_at)
SELECT md5('growth-offer-' || g)::uuid::text, md5('growth-asset-' || g)::uuid::text, :'supplier', :'bank', 'pledge',
       90000, 'CNY', timestamp '2026-01-01' + g * interval '1 second' + interval '30 days', 'taken',
       sha256(('growth-leaf-offer-' || g)::bytea), timestamp '2026-01-01' + g * interval '1 second' + interval '2 hours',
       timestamp '2026-01-01' + g * interval '1 second' + interval '3 hours'
  FROM generate_series(1, :size) g WHERE g % 10 = 1;
INSERT INTO liens (id, asset_id, bank_id, kind, amount_minor, currency, status, leaf_hash, created_at, offer_id)
SELECT md5('growth-lien-' || g)::uuid::text, md5('growth-asset-' || g)::uuid::text, :'bank', 'pledge', 90000, 'CNY',
       'active', sha256(('growth-leaf-lien-' || g)::bytea),
       timestamp '2026-01-01' + g * interval '1 second' + interval '3 hours', md5('growth-offer-' || g)::uuid::text
  FROM generate_series(1, :size) g WHERE g % 10 = 1;
INSERT INTO alerts (id, kind, fingerprint, subject_id, attempting_org_id, existing_party_id, details, leaf_hash, status,
    created_at)
SELECT md5('growth-alert-' || a)::uuid::text, 'near_duplicate_registration',
       sha256(('growth-fingerprint-' || (1 + a % :size))::bytea), md5('growth-receivable-' || (1 + a % :size))::uuid::text,
       :'supplier', :'supplier',
       json_build_object('attempt', 'registration', 'invoice_number', 'GF-' || lpad((1 + a % :size)::text, 8, '0'),
                         'amount_minor', 100000 + ((1 + a % :size) % 1000) * 100, 'currency', 'CNY')::text,
       sha256(('growth-leaf-alert-' || a)::bytea), 'open', timestamp '2026-01-01' + a * interval '7 seconds'
  FROM generate_series(1, :alerts) a;
INSERT INTO alert_audiences (alert_id, organization_id, redacted, status)
SELECT md5('growth-alert-' || a)::uuid::text, :'operator', false, 'open' FROM generate_series(1, :alerts) a;
COMMIT;
SQL
  fill_rows_seconds="$(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))")"
  echo "  appending and sequencing $LEDGER_ENTRIES ledger entries..." >&2
  fill_ledger="$("$FILL" --database-url "$url" --data-dir "$data" --entries "$LEDGER_ENTRIES" \
    --party "$(json_field '["id"]' <<<"$supplier")")"
  started="$(date +%s.%N)"
  psql -q "$url" -c "VACUUM ANALYZE" >/dev/null
  fill_vacuum_seconds="$(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))")"

  echo "  load ($CLIENTS clients, $ASSETS assets)..." >&2
  start_server "$data" "$log"
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$(json_field '["api_key"]' <<<"$operator")" \
    --clients "$CLIENTS" --assets "$ASSETS" --run "growth-$size" >"$work/load-$size.json"
  echo "  list endpoints ($REQUESTS requests each)..." >&2
  measure_lists "$(json_field '["api_key"]' <<<"$supplier")" \
    "$(json_field '["risk_officers"][0]["api_key"]' <<<"$operator")" \
    "$(json_field '["api_key"]' <<<"$operator")" >"$work/lists-$size.json"
  local peak_kb current_kb
  peak_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  current_kb="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
  stop_server

  # The plans: a new server process (its connections load auto_explain)
  # under a small load, and the list endpoints once more.
  echo "  plans (auto_explain)..." >&2
  psql -q "$url" -c "ALTER DATABASE $DATABASE SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE $DATABASE SET auto_explain.log_min_duration = 0" >/dev/null
  local log_offset
  log_offset="$(stat -c %s "$POSTGRES_LOG")"
  start_server "$data" "$log"
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$(json_field '["api_key"]' <<<"$operator")" \
    --clients 4 --assets 100 --run "growth-explain-$size" >/dev/null
  REQUESTS=5 measure_lists "$(json_field '["api_key"]' <<<"$supplier")" \
    "$(json_field '["risk_officers"][0]["api_key"]' <<<"$operator")" \
    "$(json_field '["api_key"]' <<<"$operator")" >/dev/null
  stop_server
  psql -q "$url" -c "ALTER DATABASE $DATABASE RESET ALL" >/dev/null
  tail -c "+$((log_offset + 1))" "$POSTGRES_LOG" >"$work/plans-$size.log"
  sequential_scans "$work/plans-$size.log" \
    "$(psql -Atq "$url" -c "SELECT json_object_agg(relname, n_live_tup) FROM pg_stat_user_tables")" >"$work/scans-$size.json"

  python3 - "$size" "$work/load-$size.json" "$work/lists-$size.json" "$work/scans-$size.json" "$fill_ledger" \
    "$fill_rows_seconds" "$fill_vacuum_seconds" "$peak_kb" "$current_kb" <<'PY'
import json, sys
size, load, lists, scans, ledger = sys.argv[1], *(json.load(open(p)) for p in sys.argv[2:5]), json.loads(sys.argv[5])
print(json.dumps({"size": int(size), "load": load, "lists": lists, "scans": scans,
                  "fill": {"rows_seconds": float(sys.argv[6]), "ledger": ledger, "vacuum_seconds": float(sys.argv[7])},
                  "rss_mb": {"peak": round(int(sys.argv[8]) / 1024, 1), "current": round(int(sys.argv[9]) / 1024, 1)}}))
PY
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null
}

reports="$work/reports.jsonl"
for size in $SIZES; do
  echo "size $size..." >&2
  run_size "$size" >>"$reports"
done

python3 - "$reports" "$CLIENTS" "$ASSETS" "$ALERTS" "$LEDGER_ENTRIES" "$REQUESTS" "$POOL" <<'PY' | python3 scripts/bench-section.py "$OUT" "## Growth ("
import datetime, json, os, subprocess, sys
reports = [json.loads(line) for line in open(sys.argv[1])]
clients, assets, alerts, entries, requests, pool = sys.argv[2:]
def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"
pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
def phase(report, name):
    found = [p for p in report["load"]["phases"] if p["phase"] == name]
    if not found:
        return "–"
    p = found[0]
    return f"{p['per_second']:,.0f}/s, {p['latency_ms']['p50']:.1f} / {p['latency_ms']['p99']:.1f} ms"
names = list(reports[0]["lists"]["lists"])
rows = []
for r in reports:
    lists = "<br>".join(f"{name}: {v['p50']:.1f} / {v['p99']:.1f}" for name, v in r["lists"]["lists"].items())
    rows.append(f"| {r['size']:,} | {phase(r, 'lookup')} | {phase(r, 'pledge')} | {phase(r, 'register')} | {lists} "
                f"| {r['rss_mb']['peak']} / {r['rss_mb']['current']} MB |")
fills = "; ".join(
    f"{r['size']:,} receivables and {alerts} alerts {r['fill']['rows_seconds']:.0f} s, "
    f"{r['fill']['ledger']['entries']:,} ledger entries {r['fill']['ledger']['seconds']:.0f} s "
    f"({r['fill']['ledger']['tree_heads']} signed heads), VACUUM ANALYZE {r['fill']['vacuum_seconds']:.0f} s"
    for r in reports)
scans = []
for r in reports:
    s = r["scans"]
    if not s["sequential"]:
        scans.append(f"at {r['size']:,}: none of the {s['plans_logged']:,} plans logged read a big table sequentially")
    for found in s["sequential"]:
        tables = ", ".join(f"{t} ({n or 0:,} rows)" for t, n in found["tables"].items())
        scans.append(f"at {r['size']:,}, {found['count']}× on {tables}: `{found['query'][:300]}`")
def flat(name):
    values = [(r["size"], p) for r in reports for p in r["load"]["phases"] if p["phase"] == name]
    if len(values) < 2:
        return ""
    (small, a), (large, b) = values[0], values[-1]
    return (f"{name}: p50 {a['latency_ms']['p50']:.1f} → {b['latency_ms']['p50']:.1f} ms, "
            f"p99 {a['latency_ms']['p99']:.1f} → {b['latency_ms']['p99']:.1f} ms, "
            f"{a['per_second']:,.0f} → {b['per_second']:,.0f}/s from {small:,} to {large:,} receivables")
print(f"""## Growth ({datetime.date.today()})

`scripts/bench-growth.sh`: for each size, a fresh PostgreSQL database filled
directly (not through the API) with that many receivables of one supplier
(4 in 5 confirmed, each with an active asset; 1 asset in 10 pledged to a bank
through an offer it took; fingerprints 32 bytes of SHA-256 of the row number,
as stored keyed fingerprints look) and {int(alerts):,} near-duplicate alerts for the
operator's risk officer, by `INSERT … SELECT … FROM generate_series`; and
{int(entries):,} ledger entries appended and sequenced by `anchorfin-fill`
through the crate's own ledger code (`tlog::append_prepared`,
`tlog::sequence_batch`), signed with the server's key, so the server serves
proofs from a real tree; then `VACUUM ANALYZE`. Then the release server on it
({pool} database connections) and `anchorfin-load` through the API:
{clients} clients, {assets} assets of its own registered, confirmed,
offered, pledged and looked up. Then the list endpoints, {requests} GETs
each from one kept-alive connection after 20 to warm up (p50 / p99 ms),
and the server's peak / current RSS (VmHWM / VmRSS) after all of it.
Machine: {os.cpu_count()} cores ({cpu()}), load generator, server and
{pg} on the same cores.

| receivables | look-up: per second, p50 / p99 | pledge: per second, p50 / p99 | registration: per second, p50 / p99 | list endpoints, p50 / p99 ms | server RSS, peak / current |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Filling took: {fills}.

{chr(10).join("- " + line for line in (flat("lookup"), flat("pledge"), flat("register")) if line)}

Plans (auto_explain on every statement the server ran under a short load
of 100 assets and the list endpoints, on the filled database):
{chr(10).join("- " + line for line in scans)}
""")
PY
