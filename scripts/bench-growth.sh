#!/usr/bin/env bash
# Whether encumbrance look-ups and pledges slow down as the registry grows,
# how the list endpoints answer with big tables, and the server's memory
# (issue 19, parts 4 and 5), on PostgreSQL. For each SIZE (10,000 and
# 1,000,000 receivables by default), a database of its own:
#
# 1. Filled directly, not through the API, after the server's first start
#    on the empty database (which binds its keys): SIZE receivables of one
#    supplier to one buyer (4 in 5 confirmed, each confirmed one an active
#    asset; 1 asset in 10 pledged to a bank through an offer it took; due
#    in 2027, so that the default sweeper leaves them) and ALERTS
#    near-duplicate alerts (100,000) addressed to the operator, whose risk
#    officer lists them, with psql's generate_series; LEDGER_ENTRIES ledger
#    entries (1,000,000) appended and sequenced by `anchorfin-fill` through
#    the crate's own ledger code and signed with the server's platform key,
#    so that the tree is real. Then VACUUM ANALYZE.
# 2. In ROUNDS rounds (3) that alternate between the sizes, so that
#    other work on the machine weighs on each alike: the release server on the
#    size's database, `anchorfin-load` (CLIENTS clients, ASSETS assets)
#    registering, confirming, offering, pledging and looking up its own
#    receivables on top of the filled ones; then the list endpoints,
#    REQUESTS GETs each from one kept-alive connection after 20 to warm
#    up: the risk officer's alerts (first page, and a page half-way down by
#    cursor), ledger entries (100 from a random index, as the operator), an
#    inclusion proof at the latest tree size, and the filled supplier's
#    receivables list (the portal's, signed in); then the server's peak
#    and current RSS (VmHWM, VmRSS).
# 3. A short pass with auto_explain on (every statement the server runs,
#    logged with its plan to PostgreSQL's log, POSTGRES_LOG) under a small
#    load, and the plans that read a big table sequentially.
#
# Results go to the "## Growth" section of docs/BENCHMARKS.md (OUT), the
# raw reports and plans to KEEP if set.
#
#   scripts/bench-growth.sh
#   SIZES="10000 100000" LEDGER_ENTRIES=100000 ROUNDS=1 OUT=/tmp/growth.md scripts/bench-growth.sh   # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SIZES="${SIZES:-10000 1000000}"
ALERTS="${ALERTS:-100000}"
LEDGER_ENTRIES="${LEDGER_ENTRIES:-1000000}"
CLIENTS="${CLIENTS:-64}"
ASSETS="${ASSETS:-5000}"
REQUESTS="${REQUESTS:-200}"
ROUNDS="${ROUNDS:-3}"
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
  for size in $SIZES; do
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${DATABASE}_$size WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/
  fi
  rm -rf "$work"
}
trap cleanup EXIT

url="" # the database of the size at hand: use_size

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

fill_size() { # SIZE: its database, data dir and keys ($work/orgs-SIZE.json), fill figures ($work/fill-SIZE.json)
  local size="$1" data="$work/data-$1" log="$work/server-$1.log"
  use_size "$size"
  rm -rf "$data" && mkdir -p "$data"
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${DATABASE}_$size WITH (FORCE)" -c "CREATE DATABASE ${DATABASE}_$size" >/dev/null
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

  python3 - "$fill_ledger" "$fill_rows_seconds" "$fill_vacuum_seconds" >"$work/fill-$size.json" <<'PY'
import json, sys
print(json.dumps({"rows_seconds": float(sys.argv[2]), "ledger": json.loads(sys.argv[1]), "vacuum_seconds": float(sys.argv[3])}))
PY
  python3 - "$operator" "$supplier" >"$work/orgs-$size.json" <<'PY'
import json, sys
operator, supplier = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"operator": operator["api_key"], "officer": operator["risk_officers"][0]["api_key"],
                  "supplier": supplier["api_key"]}))
PY
}

use_size() { # SIZE: the server and psql work on that size's database from now on
  url="$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$ADMIN_URL" "${DATABASE}_$1")"
}

key_of() { # SIZE NAME -> an API key from $work/orgs-SIZE.json
  json_field "[\"$2\"]" <"$work/orgs-$1.json"
}

measure_size() { # SIZE ROUND -> $work/round-SIZE-ROUND.json
  local size="$1" round="$2"
  use_size "$size"
  echo "  round $round at $size: load ($CLIENTS clients, $ASSETS assets)..." >&2
  start_server "$work/data-$size" "$work/server-$size.log"
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$(key_of "$size" operator)" \
    --clients "$CLIENTS" --assets "$ASSETS" --run "growth-$size-$round" >"$work/load-$size-$round.json"
  echo "  round $round at $size: list endpoints ($REQUESTS requests each)..." >&2
  measure_lists "$(key_of "$size" supplier)" "$(key_of "$size" officer)" "$(key_of "$size" operator)" \
    >"$work/lists-$size-$round.json"
  local peak_kb current_kb
  peak_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  current_kb="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
  stop_server
  python3 - "$size" "$round" "$work/load-$size-$round.json" "$work/lists-$size-$round.json" "$peak_kb" "$current_kb" \
    >"$work/round-$size-$round.json" <<'PY'
import json, sys
print(json.dumps({"size": int(sys.argv[1]), "round": int(sys.argv[2]), "load": json.load(open(sys.argv[3])),
                  "lists": json.load(open(sys.argv[4])),
                  "rss_mb": {"peak": round(int(sys.argv[5]) / 1024, 1), "current": round(int(sys.argv[6]) / 1024, 1)}}))
PY
}

plans_size() { # SIZE -> $work/scans-SIZE.json
  # A new server process (its connections load auto_explain) under a
  # small load, and the list endpoints once more.
  local size="$1" database="${DATABASE}_$1"
  use_size "$size"
  echo "  plans at $size (auto_explain)..." >&2
  psql -q "$url" -c "ALTER DATABASE $database SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE $database SET auto_explain.log_min_duration = 0" >/dev/null
  local log_offset
  log_offset="$(stat -c %s "$POSTGRES_LOG")"
  start_server "$work/data-$size" "$work/server-$size.log"
  "$LOAD" --server "http://127.0.0.1:$PORT" --operator-key "$(key_of "$size" operator)" \
    --clients 4 --assets 100 --run "growth-explain-$size" >/dev/null
  REQUESTS=5 measure_lists "$(key_of "$size" supplier)" "$(key_of "$size" officer)" "$(key_of "$size" operator)" \
    >/dev/null
  stop_server
  psql -q "$url" -c "ALTER DATABASE $database RESET ALL" >/dev/null
  tail -c "+$((log_offset + 1))" "$POSTGRES_LOG" >"$work/plans-$size.log"
  sequential_scans "$work/plans-$size.log" \
    "$(psql -Atq "$url" -c "SELECT json_object_agg(relname, n_live_tup) FROM pg_stat_user_tables")" >"$work/scans-$size.json"
}

# Every size filled first, then the rounds alternate between sizes, so
# that the other work on the machine weighs on each size alike.
for size in $SIZES; do
  echo "size $size: filling..." >&2
  fill_size "$size"
done
for round in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    measure_size "$size" "$round"
  done
done
reports="$work/reports.jsonl"
for size in $SIZES; do
  plans_size "$size"
  python3 - "$size" "$work" "$ROUNDS" >>"$reports" <<'PY'
import json, sys
size, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
print(json.dumps({"size": int(size), "fill": json.load(open(f"{work}/fill-{size}.json")),
                  "scans": json.load(open(f"{work}/scans-{size}.json")),
                  "rounds": [json.load(open(f"{work}/round-{size}-{r}.json")) for r in range(1, rounds + 1)]}))
PY
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS ${DATABASE}_$size WITH (FORCE)" >/dev/null
done

python3 - "$reports" "$CLIENTS" "$ASSETS" "$ALERTS" "$LEDGER_ENTRIES" "$REQUESTS" "$POOL" "$ROUNDS" <<'PY' |
import datetime, json, os, statistics, subprocess, sys
reports = [json.loads(line) for line in open(sys.argv[1])]
clients, assets, alerts, entries, requests, pool, rounds = (int(value) for value in sys.argv[2:])
def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"
pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
def phases(measured, name):
    return [p for p in measured["load"]["phases"] if p["phase"] == name]
def phase(measured, name):
    found = phases(measured, name)
    if not found:
        return "–"
    p = found[0]
    return f"{p['per_second']:,.0f}/s, {p['latency_ms']['p50']:.1f} / {p['latency_ms']['p99']:.1f} ms"
rows = []
for r in reports:
    for m in r["rounds"]:
        lists = "<br>".join(f"{name}: {v['p50']:.1f} / {v['p99']:.1f}" for name, v in m["lists"]["lists"].items())
        rows.append(f"| {r['size']:,} | {m['round']} | {phase(m, 'lookup')} | {phase(m, 'pledge')} | {phase(m, 'register')} "
                    f"| {lists} | {m['rss_mb']['peak']} / {m['rss_mb']['current']} MB |")
fills = "; ".join(
    f"{r['size']:,} receivables and {alerts:,} alerts {r['fill']['rows_seconds']:.0f} s, "
    f"{r['fill']['ledger']['entries']:,} ledger entries {r['fill']['ledger']['seconds']:.0f} s "
    f"({r['fill']['ledger']['tree_heads']} signed heads), VACUUM ANALYZE {r['fill']['vacuum_seconds']:.0f} s"
    for r in reports)
def median_of(r, name, pick):
    return statistics.median(pick(p) for m in r["rounds"] for p in phases(m, name))
def growth(name):
    if len(reports) < 2:
        return ""
    a, b = reports[0], reports[-1]
    figures = []
    for label, pick, unit in (("p50", lambda p: p["latency_ms"]["p50"], " ms"), ("p99", lambda p: p["latency_ms"]["p99"], " ms"),
                              ("per second", lambda p: p["per_second"], "")):
        small, large = median_of(a, name, pick), median_of(b, name, pick)
        figures.append(f"{label} {small:,.1f} → {large:,.1f}{unit} ({(large / small - 1) * 100:+.0f}%)")
    return f"{name}: " + ", ".join(figures)
scans = []
for r in reports:
    found_any = r["scans"]["sequential"]
    if not found_any:
        scans.append(f"at {r['size']:,}: none of the {r['scans']['plans_logged']:,} plans logged read a big table sequentially")
    for found in found_any:
        tables = ", ".join(f"{t} ({n or 0:,} rows)" for t, n in found["tables"].items())
        scans.append(f"at {r['size']:,}, {found['count']}× in {r['scans']['plans_logged']:,} plans, on {tables}: "
                     f"`{found['query'][:300]}`")
print(f"""## Growth ({datetime.date.today()})

`scripts/bench-growth.sh`: for each size, a fresh PostgreSQL database filled
directly (not through the API) with that many receivables of one supplier
(4 in 5 confirmed, each with an active asset; 1 asset in 10 pledged to a bank
through an offer it took; fingerprints 32 bytes of SHA-256 of the row number,
as stored keyed fingerprints look) and {alerts:,} near-duplicate alerts for
the operator's risk officer, by `INSERT … SELECT … FROM generate_series`; and
{entries:,} ledger entries appended and sequenced by `anchorfin-fill`
through the crate's own ledger code (`tlog::append_prepared`,
`tlog::sequence_batch`), signed with the server's key, so the server serves
proofs from a real tree; then `VACUUM ANALYZE`. Then, in {rounds} rounds that
alternate between the sizes, the release server on each database ({pool}
database connections) and `anchorfin-load` through the API: {clients}
clients, {assets:,} assets of its own registered, confirmed, offered, pledged
and looked up (4 look-ups each); then the list endpoints, {requests} GETs
each from one kept-alive connection after 20 to warm up (p50 / p99 ms); and
the server's peak / current RSS (VmHWM / VmRSS) after all of it.
Machine: {os.cpu_count()} cores ({cpu()}); load generator, server and
{pg} on the same cores, which other work shared.

| receivables | round | look-up: per second, p50 / p99 | pledge: per second, p50 / p99 | registration: per second, p50 / p99 | list endpoints, p50 / p99 ms | server RSS, peak / current |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Filling took: {fills}.

Medians over the rounds, from {reports[0]['size']:,} to {reports[-1]['size']:,} receivables:
{chr(10).join("- " + line for line in (growth("lookup"), growth("pledge"), growth("register")) if line)}

Sequential scans of big tables in the plans (auto_explain on every statement
the server ran, background tasks included, under a short load of 100
assets and the list endpoints, on the filled database):
{chr(10).join("- " + line for line in scans)}
""")
PY
  python3 scripts/bench-section.py "$OUT" "## Growth ("
