# Sourced by the reliability scripts (scripts/crash-cycles.sh, pg-outage.sh,
# failover.sh, full-disk.sh): the time bound, the release binary, ports,
# databases, the operator and the harness's Python. Each script sets
# TIME_LIMIT_SECONDS before sourcing this, and registers what it must undo
# with `on_exit`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$ROOT"

# A hard bound on the whole script: it runs itself again under timeout(1),
# which on expiry signals the whole process group (the harness and the
# servers too); the traps below still clean up.
if [ -z "${ANCHORFIN_RELIABILITY_TIMED:-}" ]; then
  export ANCHORFIN_RELIABILITY_TIMED=1
  exec timeout --kill-after=20 "${TIME_LIMIT_SECONDS:?}" "$SELF" "$@"
fi

# The server where crash-cycles.sh creates (and drops) its database.
ADMIN_URL="${ANCHORFIN_RELIABILITY_DATABASE_URL:-${ANCHORFIN_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
BIN="$ROOT/target/release/anchorfin"
HARNESS="$ROOT/scripts/reliability/harness.py"
WORK="$(mktemp -d /tmp/anchorfin-reliability.XXXXXX)"
RUN="$(date +%s)-$RANDOM"

cleanups=()
on_exit() { cleanups+=("$*"); }
run_cleanups() {
  local status=$?
  trap - EXIT INT TERM
  # Last registered first: servers before the databases they use.
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do
    eval "${cleanups[$i]}" >/dev/null 2>&1 || true
  done
  if [ "$status" -ne 0 ] && [ -n "${KEEP_WORK_ON_FAILURE:-}" ]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap run_cleanups EXIT
trap 'exit 124' INT TERM

fail() { echo "FAILED: $*" >&2; exit 1; }
note() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The release build .ci/run makes; built here when missing or older than the sources.
ensure_binary() {
  if [ ! -x "$BIN" ] || [ -n "$(find src migrations Cargo.lock -newer "$BIN" -print -quit)" ]; then
    note "building the release binary"
    cargo build --release --locked --quiet --bin anchorfin
  fi
}

# The harness needs `cryptography` (ed25519); installed for the user when missing.
ensure_python() {
  python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'cryptography>=42'
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

with_database() { # URL NAME -> URL with the database replaced
  python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$1" "$2"
}

# create_database ADMIN_URL: a fresh database, dropped on exit; sets DB_URL
# (not a command substitution: its subshell would lose the on_exit)
create_database() {
  local admin="$1" name="anchorfin_rel_${RUN//-/_}_$RANDOM"
  psql -XqAt "$admin" -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" >/dev/null
  on_exit "psql -Xq '$admin' -c 'DROP DATABASE IF EXISTS $name WITH (FORCE)'"
  DB_URL="$(with_database "$admin" "$name")"
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# onboard_operator DB_ARGS... -> sets OPERATOR_KEY and RISK_KEY (an operator's risk officer reads alerts)
onboard_operator() {
  local operator
  operator="$("$BIN" org add "$@" --name "Reliability operator" --role operator --legal-id "REL-OPS-$RUN")"
  OPERATOR_KEY="$(echo "$operator" | json_field api_key)"
  RISK_KEY="$("$BIN" risk-officer add "$@" --org "$(echo "$operator" | json_field id)" \
    --email "risk-$RUN@operator.example" | json_field api_key)"
}

# start_server DB_ARGS...: a release server on a free port, its output in
# $WORK/server.log, killed on exit; sets BASE and SERVER_PID.
start_server() {
  local port
  port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  RUST_LOG=warn "$BIN" serve "$@" --bind "127.0.0.1:$port" \
    --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  on_exit "kill -9 $SERVER_PID"
  wait_ready "$BASE" 60 || fail "the server did not become ready: $(tail -n 20 "$WORK/server.log")"
}

# still_running WHAT: fails unless the server is still there.
still_running() {
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died $1: $(tail -n 20 "$WORK/server.log")"
}

wait_ready() { # BASE_URL [SECONDS]
  local deadline=$((SECONDS + ${2:-60}))
  until curl -fsS "$1/readyz" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# run_harness SCENARIO HEADING COMMAND LOGS HARNESS_ARGS...: runs the
# harness (with OPERATOR_KEY, RISK_KEY, BIN, WORK, RUN), prints its one line
# of figures and, when REPORT is set, writes them into docs/RELIABILITY.md
# under HEADING with COMMAND, the command line that reproduces them. LOGS
# are the server logs to show when it wrote no figures. Returns the
# harness's status.
run_harness() {
  local scenario="$1" heading="$2" command="$3" logs="$4" status=0
  shift 4
  python3 "$HARNESS" "$scenario" --operator-key "$OPERATOR_KEY" --risk-key "$RISK_KEY" --anchorfin "$BIN" \
    --work "$WORK" --run "$RUN" --out "$WORK/figures.json" "$@" >/dev/null || status=$?
  # shellcheck disable=SC2086 # LOGS is a list of paths (or globs)
  [ -s "$WORK/figures.json" ] || fail "the harness wrote no figures (exit $status); logs: $(tail -n 20 $logs)"
  python3 "$ROOT/scripts/reliability/report.py" --summary --figures "$WORK/figures.json"
  if [ -n "${REPORT:-}" ]; then
    python3 "$ROOT/scripts/reliability/report.py" --heading "$heading" --figures "$WORK/figures.json" \
      --command "$command" --file "$ROOT/docs/RELIABILITY.md"
  fi
  return "$status"
}
