#!/usr/bin/env bash
# PostgreSQL stopped and started mid-load: a PostgreSQL cluster of the
# script's own (initdb on a free port in a temp dir, as the `postgres` user
# when run as root), a release server on it and the clients of
# scripts/reliability/harness.py; after a few seconds of load the cluster is
# stopped (`pg_ctl stop -m fast`: the server's connections are terminated),
# left down for OUTAGE_SECONDS, and started again. While it is down every
# answer must be 503 (with `outcome`) within MAX_503_MS, and /readyz false;
# after it, the server must recover without a restart (the time to the first
# 2xx is measured), nothing acknowledged may be lost, and the checks of the
# crash cycles hold (no false alert, no double lien, heads consistent,
# `anchorfin verify`).
#
#   scripts/pg-outage.sh                    # the short form CI runs (5 s outage)
#   OUTAGE_SECONDS=30 scripts/pg-outage.sh --report
#
# Prints one line of figures; exits non-zero when an invariant fails.
set -euo pipefail
OUTAGE_SECONDS="${OUTAGE_SECONDS:-5}"
MAX_503_MS="${MAX_503_MS:-100}"
REPORT=""
[ "${1:-}" = "--report" ] && REPORT=1
TIME_LIMIT_SECONDS="${TIME_LIMIT_SECONDS:-$((180 + 2 * OUTAGE_SECONDS))}"
source "$(dirname "$0")/reliability/common.sh"
source "$ROOT/scripts/reliability/cluster.sh"

ensure_binary
ensure_python

chmod 755 "$WORK"
PG_PORT="$(free_port)"
CLUSTER="$WORK/pg"
cluster_init "$CLUSTER" "$PG_PORT"
on_exit "source '$ROOT/scripts/reliability/cluster.sh'; cluster_stop '$CLUSTER' immediate"
cluster_start "$CLUSTER"
create_database "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
URL="$DB_URL"
DATA="$WORK/data"
db_args=(--data-dir "$DATA" --database-url "$URL")
onboard_operator "${db_args[@]}"
start_server "${db_args[@]}"

note "PostgreSQL outage of ${OUTAGE_SECONDS}s under load: cluster on :$PG_PORT, server on $BASE"
status=0
run_harness outage "PostgreSQL stopped and started mid-load" "OUTAGE_SECONDS=$OUTAGE_SECONDS scripts/pg-outage.sh --report" \
  "$WORK/server.log" --url "$BASE" --postgres "$URL" --platform-key-file "$DATA/platform-signing.key" \
  --min-load-seconds 3 --fault-seconds "$OUTAGE_SECONDS" --max-503-ms "$MAX_503_MS" \
  --fault-cmd "source '$ROOT/scripts/reliability/cluster.sh'; cluster_stop '$CLUSTER' fast" \
  --recover-cmd "source '$ROOT/scripts/reliability/cluster.sh'; cluster_start '$CLUSTER'" || status=$?
still_running "during the outage"
exit "$status"
