#!/usr/bin/env bash
# API fuzzing: schemathesis (pinned, from PyPI) against a freshly built
# server on a fresh data dir, with real API keys of every role (operator,
# supplier, buyer, bank, and the operator's risk officer):
#   - no answer may be a 5xx, and every answer must conform to
#     api-spec/openapi.yaml (status code, content type, headers, schema);
#   - every method the spec does not document on a path (GET, POST, PUT,
#     PATCH, DELETE) must answer 405 with an `application/problem+json`
#     problem document, for every role's key and without one;
#   - the server must log no internal error.
# The server runs with its rate limits off (see below), on SQLite.
# Exits non-zero on any failure and prints each one with the request that
# caused it (schemathesis prints a curl command to reproduce it).
#
#   scripts/fuzz-api.sh                  # 50 s of schemathesis per role: ~5 minutes in all
#   MAX_TIME=300 scripts/fuzz-api.sh     # longer, per role
#   SEED=123 scripts/fuzz-api.sh         # another seed (the default one is fixed)
#   FUZZ_LOG_DIR=/tmp/fuzz scripts/fuzz-api.sh   # keep the full logs and reports there
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_TIME="${MAX_TIME:-50}"    # seconds of schemathesis per role
SEED="${SEED:-13013}"         # fixed, so that a run generates the same cases as the last one
WORKERS="${WORKERS:-1}"
SPEC=api-spec/openapi.yaml
started=$SECONDS

say() { printf '%s\n' "$*"; }
elapsed() { printf '%ds' $((SECONDS - started)); }

installed="$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
  say "== installing schemathesis $SCHEMATHESIS_VERSION (found: ${installed:-none})"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

say "== building the anchorfin binary"
cargo build --quiet --bin anchorfin
BIN="$PWD/target/debug/anchorfin"
WORK="$(mktemp -d)"
LOGS="${FUZZ_LOG_DIR:-$WORK/logs}"
mkdir -p "$LOGS" "$WORK/keys"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Small HTTP and JSON helpers in Python, so that nothing beyond python3 is needed.
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
onboard() { # name role legal_id public_key -> the organisation's JSON
  python3 - "$BASE/v1/orgs" "$operator_key" "$@" <<'PY'
import json, sys, urllib.request
url, api_key, name, role, legal_id, public_key = sys.argv[1:]
body = json.dumps({"name": name, "role": role, "legal_id": legal_id, "public_keys": [public_key]}).encode()
request = urllib.request.Request(url, data=body, method="POST", headers={
    "Authorization": f"Bearer {api_key}", "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    print(response.read().decode())
PY
}

say "== starting the server on $BASE (rate limits off)"
# Rate limits off: schemathesis sends more than the default 100 requests a
# second per organisation (20 for encumbrance look-ups), and which request
# then got a 429 would depend on timing; the runs would differ, and many
# cases would stop at the limiter instead of reaching the handlers.
RUST_LOG=warn "$BIN" serve --data-dir "$WORK/data" --bind "127.0.0.1:$PORT" \
  --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 >"$LOGS/server.log" 2>&1 &
server=$!
if python3 - "$BASE/readyz" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
then :; else
  say "-- the server did not become ready within 30 s; its log:"
  tail -n 40 "$LOGS/server.log"
  exit 1
fi

# Every organisation is onboarded with an ed25519 public key, as the signed
# actions (offers, pledges, payments, ...) need one.
pubkey() { "$BIN" key gen --out "$WORK/keys/$1.key"; }
operator="$("$BIN" org add --data-dir "$WORK/data" --name Operator --role operator --legal-id FUZZ-OPS \
  --public-key "$(pubkey operator)")"
operator_key="$(echo "$operator" | field api_key)"
officer_key="$("$BIN" risk-officer add --data-dir "$WORK/data" --org "$(echo "$operator" | field id)" \
  --email risk@fuzz.example | field api_key)"
supplier_key="$(onboard Supplier supplier FUZZ-SUP "$(pubkey supplier)" | field api_key)"
buyer_key="$(onboard Buyer core_enterprise FUZZ-BUY "$(pubkey buyer)" | field api_key)"
bank_key="$(onboard Bank bank FUZZ-BANK "$(pubkey bank)" | field api_key)"
roles=(operator supplier buyer bank officer)
say "   onboarded: operator, supplier, buyer (core_enterprise), bank, each with an ed25519 key; a risk officer of the operator"

status=0
failed=()

# One section of a schemathesis log: from its `==== NAME ====` line to the next such line.
section() { awk -v name="$1" '/^=+ [A-Z ]+ =+$/ { on = ($0 ~ "^=+ " name " =+$") } on' "$2"; }
# Its ERRORS section without the tracebacks: each error's operation, kind,
# message and the exception that ended its traceback (lines cut at 400 characters).
errors_brief() {
  section ERRORS "$1" | awk '
    /^(Need more help\?|    Join our Discord)/ { next }
    /^    [A-Za-z_.]*(Error|Exception|Exit)[A-Za-z_]*: / { last = $0; next }
    /^ / { next }
    { if (last != "") { print last; last = "" } print }
    END { if (last != "") print last }' | cut -c1-400
}

# 1. Schemathesis, once per role, on all its phases (examples, coverage,
# fuzzing, stateful) within MAX_TIME. One worker: two threads generating
# cases at once crash Python 3.11's ast module inside Hypothesis ("AST
# constructor recursion depth mismatch"), which skipped whole operations.
# The `unsupported_method` check is not in the list: it also fails a 405
# without an `Allow` header, which is not required yet; step 2 checks every
# undocumented method itself.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
# Errors of these kinds are schemathesis failing to generate or send a case,
# not findings about the API: they are printed, not counted.
TOOL_ERRORS='Runtime Error|Serialization not possible|XML serialization error|Failed Health Check'
say "== schemathesis $SCHEMATHESIS_VERSION: ${MAX_TIME}s per role, seed $SEED, $WORKERS worker(s)"
say "   checks: $CHECKS"
for role in "${roles[@]}"; do
  eval "api_key=\$${role}_key"
  log="$LOGS/st-$role.log"
  say ""
  say "== schemathesis as $role (at most ${MAX_TIME}s; $(elapsed) so far)"
  code=0
  # `timeout` bounds the run even if schemathesis overran its own budget.
  timeout --kill-after=10 $((MAX_TIME + 120)) python3 -m schemathesis.cli run "$SPEC" --url "$BASE" \
    -H "Authorization: Bearer $api_key" \
    --checks "$CHECKS" \
    --max-time "$MAX_TIME" --seed "$SEED" --workers "$WORKERS" \
    --generation-database none --suppress-health-check all --request-timeout 30 \
    --no-color --output-truncate false \
    --report junit --report-junit-path "$LOGS/st-$role.junit.xml" \
    >"$log" 2>&1 || code=$?
  # Sections are read into variables: `| grep -q` would close the pipe
  # early, and under pipefail a killed writer would hide the section.
  summary="$(section SUMMARY "$log")"
  failures="$(section FAILURES "$log")"
  errors="$(section ERRORS "$log")"
  # Its closing `==== 1 failure, 3 warnings in 50.02s ====` line is shown
  # without the rules, so that no reader takes it for a test runner's.
  printf '%s\n' "$summary" | grep -vE '^=+ SUMMARY =+$|^ *(Reports:|- JUnit:|For more information)|^$' \
    | sed -E 's/^=+ (.*) =+$/result: \1/; s/^/   /' || true
  role_failed=""
  if [ -n "$failures" ]; then
    say "-- FAILURES as $role (each with a curl command reproducing it):"
    printf '%s\n' "$failures" | tail -n +2
    role_failed="failures"
  fi
  if [ -n "$errors" ]; then
    say "-- ERRORS as $role (tracebacks in the full log):"
    errors_brief "$log" | tail -n +2
    # Each error is `____ METHOD /path ____` followed by its kind.
    counted="$(printf '%s\n' "$errors" | grep -A1 -E '^_+ .* _+$' | grep -vE '^_+ .* _+$|^--$' \
      | grep -cvE "^($TOOL_ERRORS)$" || true)"
    if [ "$counted" -gt 0 ]; then
      role_failed="${role_failed:+$role_failed, }$counted error(s) about the API"
    else
      say "   (schemathesis's own errors while generating or sending cases: shown, not counted)"
    fi
  fi
  if [ "$code" -ne 0 ] && [ -z "$summary" ]; then
    say "-- schemathesis exited $code as $role without a summary; the end of its output:"
    tail -n 40 "$log"
    role_failed="${role_failed:+$role_failed, }exit $code"
  fi
  if [ -n "$role_failed" ]; then
    failed+=("schemathesis as $role ($role_failed)")
    status=1
  fi
done

# 2. Every method the spec does not document on a path answers 405 with a
# problem document, for every role's key and without a key. The `Allow`
# header is reported but not required yet.
say ""
say "== 405 for methods not documented on a path ($(elapsed) so far)"
code=0
ROLE_KEYS="$(for role in "${roles[@]}"; do eval "printf '%s=%s\n' \"\$role\" \"\$${role}_key\""; done)" \
python3 - "$SPEC" "$BASE" <<'PY' || code=$?
import json, os, re, sys, urllib.error, urllib.request
import yaml, jsonschema_rs

spec_path, base = sys.argv[1:]
with open(spec_path) as f:
    spec = yaml.safe_load(f)
keys = dict(line.split("=", 1) for line in os.environ["ROLE_KEYS"].splitlines() if line)
callers = [(role, key) for role, key in keys.items()] + [("no key", None)]
problem = jsonschema_rs.validator_for(
    {"$ref": "#/components/schemas/Problem", "components": spec["components"]})
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
DOCUMENTABLE = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def path_value(path_item, operation, name):
    """A well-formed value for a path parameter (the resource need not exist)."""
    parameters = [resolve(p) for p in path_item.get("parameters", []) + operation.get("parameters", [])]
    for parameter in parameters:
        if parameter.get("in") == "path" and parameter.get("name") == name:
            schema = resolve(parameter.get("schema", {}))
            if schema.get("format") == "uuid":
                return "0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90"
            if "{64}" in schema.get("pattern", ""):
                return "ab" * 32
            return "x"
    return "x"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
checked = failures = answered_405 = with_allow = 0
allow_seen = {}
for path, path_item in spec["paths"].items():
    documented = sorted(m.upper() for m in path_item if m in DOCUMENTABLE)
    operation = next(path_item[m] for m in path_item if m in DOCUMENTABLE)
    url = base + re.sub(r"\{([^}]+)\}", lambda m: path_value(path_item, operation, m.group(1)), path)
    for method in METHODS:
        if method in documented:
            continue
        for role, key in callers:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            if method in ("POST", "PUT", "PATCH"):
                headers["Content-Type"] = "application/json"
            data = b"{}" if method in ("POST", "PUT", "PATCH") else None
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                response = opener.open(request, timeout=30)
            except urllib.error.HTTPError as error:
                response = error
            with response:
                status, body = response.status, response.read()
                content_type = response.headers.get("Content-Type", "")
                allow = response.headers.get("Allow")
            checked += 1
            problems = []
            if status != 405:
                problems.append(f"status {status}, expected 405")
            if content_type.split(";")[0].strip().lower() != "application/problem+json":
                problems.append(f"Content-Type {content_type!r}, expected application/problem+json")
            try:
                document = json.loads(body)
            except ValueError:
                problems.append("the body is not JSON")
            else:
                errors = [f"{'/'.join(map(str, e.instance_path)) or 'document'}: {e.message}"
                          for e in problem.iter_errors(document)]
                if errors:
                    problems.append("not a Problem document: " + "; ".join(errors))
                elif status == 405 and (document.get("status") != 405 or document.get("code") != "method_not_allowed"):
                    problems.append(f"status {document.get('status')!r} and code {document.get('code')!r} in the "
                                    "document, expected 405 and 'method_not_allowed'")
            if status == 405:
                answered_405 += 1
                with_allow += allow is not None
                allow_seen.setdefault(path, set()).add(allow)
            if problems:
                failures += 1
                print(f"   FAIL {method} {path} ({url[len(base):]}) as {role}: " + "; ".join(problems))
                print(f"        response: {status} {content_type} {body[:500].decode(errors='replace')}")
print(f"   {checked} requests ({len(spec['paths'])} paths, each undocumented one of {', '.join(METHODS)}, "
      f"as {', '.join(role for role, _ in callers)}): {checked - failures} passed, {failures} failed")
print(f"   Allow header (not required yet): present on {with_allow} of {answered_405} 405 answers")
for path, values in allow_seen.items():
    documented = {m.upper() for m in spec["paths"][path] if m in DOCUMENTABLE}
    for value in values - {None}:
        advertised = {m.strip().upper() for m in value.split(",") if m.strip()} - {"HEAD", "OPTIONS"}
        if advertised != documented:
            print(f"   note: {path} answers `Allow: {value}`, the spec documents {', '.join(sorted(documented))}")
sys.exit(1 if failures else 0)
PY
if [ "$code" -ne 0 ]; then
  failed+=("405 for undocumented methods")
  status=1
fi

# 3. The server's own log.
say ""
if grep -q 'internal error' "$LOGS/server.log"; then
  say "-- the server logged internal errors:"
  grep 'internal error' "$LOGS/server.log" | head -20
  failed+=("internal errors in the server log")
  status=1
fi

say "== API fuzzing took $(elapsed)"
if [ "$status" -ne 0 ]; then
  say "== API fuzzing FAILED:"
  printf '   - %s\n' "${failed[@]}"
  [ -n "${FUZZ_LOG_DIR:-}" ] && say "   full logs in $FUZZ_LOG_DIR"
else
  say "== API fuzzing passed"
fi
exit "$status"
