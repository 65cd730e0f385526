#!/usr/bin/env bash
# The ledger's micro-benchmarks on a scratch PostgreSQL database: hashing,
# inclusion proofs served from a tree of LEAVES entries (10 million by
# default; the tree's nodes are built and stored as the sequencer stores
# them), and sequencer throughput — each beside the database's own figure
# for the same reads or writes. Results go to docs/BENCHMARKS.md.
#
#   scripts/bench-ledger.sh
#   LEAVES=1000000 scripts/bench-ledger.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_URL="${ANCHORFIN_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
LEAVES="${LEAVES:-10000000}"
PROOFS="${PROOFS:-10000}"
SEQUENCE="${SEQUENCE:-100000}"
OUT="${OUT:-docs/BENCHMARKS.md}"

cargo build --release --locked --bin anchorfin-ledger-bench >&2
url="$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/anchorfin_bench_ledger")))' "$ADMIN_URL")"
psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_ledger WITH (FORCE)" -c "CREATE DATABASE anchorfin_bench_ledger" >/dev/null
trap 'psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS anchorfin_bench_ledger WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
report="$(target/release/anchorfin-ledger-bench --database-url "$url" --leaves "$LEAVES" --proofs "$PROOFS" --sequence "$SEQUENCE")"

python3 - "$OUT" "$report" <<'PY'
import datetime, json, os, subprocess, sys
out, r = sys.argv[1], json.loads(sys.argv[2])
def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"
pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
h, t, p, s = r["hashing"], r["tree"], r["inclusion_proofs"], r["sequencer"]
section = f"""## Ledger ({datetime.date.today()})

`scripts/bench-ledger.sh`, release build, PostgreSQL on the same host
({pg}; {os.cpu_count()} cores, {cpu()}).

| what | ours | the database's own figure |
|---|---|---|
| leaf hashes (256-byte entries) | {h['leaf_hashes_per_second']:,.0f}/s ({h['leaf_megabytes_per_second']:.0f} MB/s) | |
| node hashes | {h['node_hashes_per_second']:,.0f}/s | |
| tree of {t['leaves']:,} leaves built and stored | {t['nodes_stored']:,} nodes in {t['seconds']:.0f} s | {t['node_rows_inserted_per_second']:,.0f} node rows/s inserted |
| inclusion proof at {p['tree_size']:,} leaves, p50 / p99 | {p['ours']['p50_ms']:.3f} / {p['ours']['p99_ms']:.3f} ms | {p['raw_node_reads']['p50_ms']:.3f} / {p['raw_node_reads']['p99_ms']:.3f} ms (the same node reads alone) |
| hashes per proof (count of proofs) | {p['hashes_per_proof']} | |
| sequencer, entries integrated and signed | {s['entries_per_second']:,.0f}/s ({s['entries']:,} entries, {s['batches']} batches) | {s['raw_node_inserts_for_as_many_entries_per_second']:,.0f}/s (the same node rows inserted alone) |

Every served proof was verified against the signed root.
"""
try:
    existing = open(out).read()
except FileNotFoundError:
    existing = "# Benchmarks\n"
marker = "## Ledger ("
if marker in existing:
    start = existing.index(marker)
    rest = existing[start + len(marker):]
    end = rest.find("\n## ")
    existing = existing[:start] + (rest[end + 1:] if end >= 0 else "")
open(out, "w").write(existing.rstrip() + "\n\n" + section)
print(section)
PY
