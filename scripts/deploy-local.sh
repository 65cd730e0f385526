#!/usr/bin/env bash
# The multi-machine topology of docs/DEPLOYMENT.md, on one machine:
#
#   haproxy 127.0.0.1:$LB_PORT  (health check: GET /readyz)
#     ├── anchorfin serve 127.0.0.1:$APP1_PORT  (data dir app1: the key files)
#     └── anchorfin serve 127.0.0.1:$APP2_PORT  (data dir app2: copies of them)
#            │  postgres://…@127.0.0.1:$PRIMARY_PORT,127.0.0.1:$STANDBY_PORT/anchorfin
#            │      ?target_session_attrs=read-write&connect_timeout=2
#     PostgreSQL primary :$PRIMARY_PORT ──(synchronous streaming replication)──> standby :$STANDBY_PORT
#
# Everything lives in $DEPLOY_DIR (default /tmp/anchorfin-deploy); the
# PostgreSQL clusters run as the `postgres` user when this runs as root.
#
#   scripts/deploy-local.sh up            # build if needed, start everything, print the URLs
#   scripts/deploy-local.sh status
#   scripts/deploy-local.sh kill-primary  # kill -9 the primary's postmaster and backends
#   scripts/deploy-local.sh promote       # promote the standby (the URL finds it by itself)
#   scripts/deploy-local.sh down          # stop everything and delete $DEPLOY_DIR
#
# Needs haproxy (Debian: apt-get install haproxy) and PostgreSQL's server
# binaries (initdb, pg_ctl, pg_basebackup; PG_BIN, default the newest
# /usr/lib/postgresql/*/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reliability/cluster.sh

DEPLOY_DIR="${DEPLOY_DIR:-/tmp/anchorfin-deploy}"
PRIMARY_PORT="${PRIMARY_PORT:-55432}"
STANDBY_PORT="${STANDBY_PORT:-55433}"
LB_PORT="${LB_PORT:-18180}"
APP1_PORT="${APP1_PORT:-18181}"
APP2_PORT="${APP2_PORT:-18182}"
POOL="${POOL:-16}" # database connections per process; 2 × POOL stays well under max_connections (100)
BIN="${BIN:-$PWD/target/release/anchorfin}"
DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT,127.0.0.1:$STANDBY_PORT/anchorfin?target_session_attrs=read-write&connect_timeout=2"

say() { printf '[deploy-local] %s\n' "$*" >&2; }

start_app() { # NAME PORT
  local name="$1" port="$2"
  RUST_LOG="${RUST_LOG:-warn}" setsid "$BIN" serve --data-dir "$DEPLOY_DIR/$name" --database-url "$DATABASE_URL" \
    --bind "127.0.0.1:$port" --database-max-connections "$POOL" \
    --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 \
    >>"$DEPLOY_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DEPLOY_DIR/$name.pid"
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$DEPLOY_DIR/$name.pid")" 2>/dev/null || break
    sleep 0.2
  done
  say "$name did not become ready: $(tail -n 5 "$DEPLOY_DIR/$name.log")"
  return 1
}

haproxy_config() {
  cat <<CFG
global
    maxconn 2000
    pidfile $DEPLOY_DIR/haproxy.pid
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # Only connection failures are retried (haproxy's default retry-on):
    # a request that reached a process is never sent twice by the balancer.
    retries 2
    option redispatch
frontend anchorfin
    bind 127.0.0.1:$LB_PORT
    default_backend processes
backend processes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # A process marked down keeps the requests it is answering (no
    # on-marked-down shutdown-sessions): cutting them would turn answers
    # into no answer. With every process unready (the database lost)
    # haproxy answers 503 itself.
    default-server inter 1s fall 2 rise 1
    server app1 127.0.0.1:$APP1_PORT check
    server app2 127.0.0.1:$APP2_PORT check
CFG
}

up() {
  command -v haproxy >/dev/null || { say "haproxy is not installed (apt-get install haproxy)"; exit 1; }
  [ -x "$BIN" ] || cargo build --release --locked --quiet --bin anchorfin
  [ -e "$DEPLOY_DIR" ] && { say "$DEPLOY_DIR exists: run down first"; exit 1; }
  mkdir -p "$DEPLOY_DIR"
  chmod 755 "$DEPLOY_DIR"
  say "primary on :$PRIMARY_PORT"
  cluster_init "$DEPLOY_DIR/primary" "$PRIMARY_PORT"
  cluster_start "$DEPLOY_DIR/primary"
  say "standby on :$STANDBY_PORT (pg_basebackup), synchronous: standby1"
  cluster_standby "$PRIMARY_PORT" "$DEPLOY_DIR/standby" "$STANDBY_PORT" standby1
  cluster_start "$DEPLOY_DIR/standby"
  cluster_require_sync "$PRIMARY_PORT" standby1 || { say "the standby did not become synchronous"; exit 1; }
  psql -XqAt -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -c "CREATE DATABASE anchorfin" >/dev/null
  say "app1 on :$APP1_PORT creates the key files; app2 on :$APP2_PORT gets copies"
  mkdir -p "$DEPLOY_DIR/app1" "$DEPLOY_DIR/app2"
  chmod 700 "$DEPLOY_DIR/app1" "$DEPLOY_DIR/app2"
  start_app app1 "$APP1_PORT"
  # One platform identity per database: every process shares both key files.
  cp -p "$DEPLOY_DIR/app1/platform-signing.key" "$DEPLOY_DIR/app1/fingerprint.key" "$DEPLOY_DIR/app2/"
  start_app app2 "$APP2_PORT"
  say "haproxy on :$LB_PORT"
  haproxy_config >"$DEPLOY_DIR/haproxy.cfg"
  haproxy -q -D -f "$DEPLOY_DIR/haproxy.cfg"
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$LB_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  cat >"$DEPLOY_DIR/env" <<ENV
ANCHORFIN_URL='http://127.0.0.1:$LB_PORT'
DATABASE_URL='$DATABASE_URL'
ANCHORFIN_DATA_DIR='$DEPLOY_DIR/app1'
ENV
  status
}

status() {
  echo "balancer:  http://127.0.0.1:$LB_PORT ($(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LB_PORT/readyz"))"
  for app in app1:$APP1_PORT app2:$APP2_PORT; do
    echo "${app%%:*}:      http://127.0.0.1:${app#*:} ($(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${app#*:}/readyz"))"
  done
  for node in primary standby; do
    local port=$PRIMARY_PORT
    [ "$node" = standby ] && port=$STANDBY_PORT
    local role
    role="$(psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END" 2>/dev/null || echo down)"
    echo "$node:   127.0.0.1:$port ($role)"
  done
  echo "database:  $DATABASE_URL"
  echo "env file:  $DEPLOY_DIR/env"
}

down() {
  [ -d "$DEPLOY_DIR" ] || return 0
  [ -f "$DEPLOY_DIR/haproxy.pid" ] && kill "$(cat "$DEPLOY_DIR/haproxy.pid")" 2>/dev/null || true
  for app in app1 app2; do
    [ -f "$DEPLOY_DIR/$app.pid" ] && kill -9 "$(cat "$DEPLOY_DIR/$app.pid")" 2>/dev/null || true
  done
  for node in standby primary; do
    if [ -d "$DEPLOY_DIR/$node/data" ]; then
      cluster_stop "$DEPLOY_DIR/$node" immediate 2>/dev/null || cluster_kill "$DEPLOY_DIR/$node"
    fi
  done
  rm -rf "$DEPLOY_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kill-primary) cluster_kill "$DEPLOY_DIR/primary" ;;
  promote) cluster_promote "$DEPLOY_DIR/standby" ;;
  *) echo "usage: $0 up|status|kill-primary|promote|down" >&2; exit 2 ;;
esac
