#!/usr/bin/env bash
# Schemathesis (from PyPI) against a running server on a fresh data dir,
# with real API keys of each role: no answer may be a 5xx, and every answer
# must conform to api-spec/openapi.yaml (status code, content type, schema).
#
#   scripts/fuzz-api.sh              # ~1 minute per role
#   MAX_TIME=300 scripts/fuzz-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_TIME="${MAX_TIME:-60}"
command -v st >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check schemathesis
cargo build --quiet --bin anchorfin
BIN="$PWD/target/debug/anchorfin"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
key() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

RUST_LOG=warn "$BIN" serve --data-dir "$WORK/data" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
operator="$("$BIN" org add --data-dir "$WORK/data" --name Operator --role operator --legal-id FUZZ-OPS)"
operator_key="$(echo "$operator" | key api_key)"
officer_key="$("$BIN" risk-officer add --data-dir "$WORK/data" --org "$(echo "$operator" | key id)" --email risk@fuzz.example | key api_key)"
org() {
  curl -fsS -X POST "$BASE/v1/orgs" -H "Authorization: Bearer $operator_key" -H 'content-type: application/json' \
    -d "{\"name\": \"$1\", \"role\": \"$2\", \"legal_id\": \"$3\"}" | key api_key
}
supplier_key="$(org Supplier supplier FUZZ-SUP)"
buyer_key="$(org Buyer core_enterprise FUZZ-BUY)"
bank_key="$(org Bank bank FUZZ-BANK)"

status=0
for role in operator supplier buyer bank officer; do
  eval "api_key=\$${role}_key"
  echo "== schemathesis as $role (${MAX_TIME}s)"
  code=0
  st run api-spec/openapi.yaml --url "$BASE" -H "Authorization: Bearer $api_key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-time "$MAX_TIME" --workers 2 --suppress-health-check all --no-color >"$WORK/st-$role.log" 2>&1 || code=$?
  grep -E "^(=+ (FAILURES|WARNINGS|SUMMARY) =+|  .* generated, .*)" "$WORK/st-$role.log" || true
  if grep -qE "^=+ FAILURES =+" "$WORK/st-$role.log"; then
    sed -n '/^=* FAILURES =*/,/^=* \(WARNINGS\|SUMMARY\) =*/p' "$WORK/st-$role.log"
    status=1
  elif [ "$code" -ne 0 ]; then
    # Schemathesis's own runtime errors (a crash while generating cases)
    # are not findings about the API; they are shown, not counted.
    echo "   (schemathesis exited $code without any failed check; its own errors:)"
    grep -E "^(Runtime Error|_+ [A-Z]+ /)" "$WORK/st-$role.log" | sed 's/^/   /' || true
  fi
done
if grep -q 'internal error' "$WORK/server.log"; then
  echo "the server logged internal errors:" >&2
  grep 'internal error' "$WORK/server.log" | head -20 >&2
  status=1
fi
exit "$status"
