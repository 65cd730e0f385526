#!/usr/bin/env bash
# Failover to a synchronous standby under load, on the topology of
# docs/DEPLOYMENT.md brought up by scripts/deploy-local.sh in a temp dir on
# free ports: a PostgreSQL primary with a synchronous standby (initdb +
# pg_basebackup), two anchorfin processes sharing the key files on the
# multi-host URL (target_session_attrs=read-write), haproxy in front. The
# clients of scripts/reliability/harness.py call haproxy; after a few seconds
# of load the primary's postmaster and backends are killed (kill -9),
# PROMOTE_AFTER_SECONDS later the standby is promoted. Afterwards nothing
# acknowledged may be lost, the sequencer must sign heads again (consistent
# with those before), `anchorfin verify` must pass, and the checks of the
# crash cycles hold (no false alert, no double lien).
#
#   scripts/failover.sh                   # the short form CI runs
#   scripts/failover.sh --report          # figures into docs/RELIABILITY.md
#
# Needs haproxy. Prints one line of figures; exits non-zero when an
# invariant fails.
set -euo pipefail
PROMOTE_AFTER_SECONDS="${PROMOTE_AFTER_SECONDS:-3}"
REPORT=""
[ "${1:-}" = "--report" ] && REPORT=1
TIME_LIMIT_SECONDS="${TIME_LIMIT_SECONDS:-240}"
source "$(dirname "$0")/reliability/common.sh"

command -v haproxy >/dev/null || fail "haproxy is not installed (apt-get install haproxy)"
ensure_binary
ensure_python

chmod 755 "$WORK"
export DEPLOY_DIR="$WORK/deploy" BIN
PRIMARY_PORT="$(free_port)" STANDBY_PORT="$(free_port)" LB_PORT="$(free_port)"
APP1_PORT="$(free_port)" APP2_PORT="$(free_port)"
export PRIMARY_PORT STANDBY_PORT LB_PORT APP1_PORT APP2_PORT
on_exit "'$ROOT/scripts/deploy-local.sh' down"
"$ROOT/scripts/deploy-local.sh" up >"$WORK/deploy.txt"
source "$DEPLOY_DIR/env"
db_args=(--data-dir "$DEPLOY_DIR/app1" --database-url "$DATABASE_URL")
onboard_operator "${db_args[@]}"

note "failover under load: balancer $ANCHORFIN_URL, primary :$PRIMARY_PORT, standby :$STANDBY_PORT"
status=0
run_harness failover "Failover to a synchronous standby" "PROMOTE_AFTER_SECONDS=$PROMOTE_AFTER_SECONDS scripts/failover.sh --report" \
  "$DEPLOY_DIR/app1.log $DEPLOY_DIR/app2.log" --url "$ANCHORFIN_URL" --postgres "$DATABASE_URL" \
  --platform-key-file "$DEPLOY_DIR/app1/platform-signing.key" --min-load-seconds 3 \
  --fault-seconds "$PROMOTE_AFTER_SECONDS" --fault-cmd "'$ROOT/scripts/deploy-local.sh' kill-primary" \
  --recover-cmd "'$ROOT/scripts/deploy-local.sh' promote" || status=$?
for app in app1 app2; do
  kill -0 "$(cat "$DEPLOY_DIR/$app.pid")" 2>/dev/null || fail "$app died: $(tail -n 20 "$DEPLOY_DIR/$app.log")"
done
exit "$status"
