# Sourced: PostgreSQL clusters of a script's own (initdb, pg_ctl,
# pg_basebackup from PG_BIN), each in a directory given by the caller, run
# as the `postgres` user when the caller is root (initdb refuses root).

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# cluster_init DIR PORT: a new primary listening on 127.0.0.1:PORT (trust
# for local connections and replication), durable commits; see
# cluster_require_sync to make them wait for a standby.
cluster_init() {
  local dir="$1" port="$2"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
fsync = on
synchronous_commit = on
max_connections = 100
shared_buffers = 64MB
CONF
  echo "host replication all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
}

# cluster_standby PRIMARY_PORT DIR PORT NAME: a streaming standby of the
# primary, named NAME (the primary's synchronous_standby_names), cloned with
# pg_basebackup. It will not wait for a standby of its own once promoted.
cluster_standby() {
  local primary_port="$1" dir="$2" port="$3" name="$4"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" -R -X stream \
    --checkpoint=fast >"$dir/basebackup.log" 2>&1
  as_postgres tee -a "$dir/data/postgresql.auto.conf" >/dev/null <<CONF
primary_conninfo = 'host=127.0.0.1 port=$primary_port user=postgres application_name=$name'
port = $port
unix_socket_directories = '$dir'
synchronous_standby_names = ''
CONF
}

cluster_start() { # DIR
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/postgres.log" -w -t 60 start >/dev/null
}

cluster_stop() { # DIR [MODE]
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

cluster_running() { # DIR
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# cluster_kill DIR: SIGKILL to the postmaster and to every backend of it (a
# machine that dies takes them all), leaving postmaster.pid behind.
cluster_kill() {
  local pid
  pid="$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)" || return 0
  [ -n "$pid" ] || return 0
  local children
  children="$(pgrep -P "$pid" || true)"
  kill -9 "$pid" $children 2>/dev/null || true
}

cluster_promote() { # DIR
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -w -t 60 promote >/dev/null
}

# cluster_require_sync PRIMARY_PORT NAME: from now on the primary's commits
# wait for the standby NAME to have flushed them; returns once it is the
# synchronous standby. (Set after the standby is up: before, every commit,
# CREATE DATABASE too, would wait for it.)
cluster_require_sync() {
  local port="$1" name="$2"
  psql -XqAt -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "ALTER SYSTEM SET synchronous_standby_names = '$name'" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 100); do
    [ "$(cluster_sync_state "$port")" = sync ] && return 0
    sleep 0.2
  done
  return 1
}

# cluster_sync_state PRIMARY_PORT -> the standby's sync_state (sync when it is synchronous)
cluster_sync_state() {
  psql -XAtq -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "SELECT sync_state FROM pg_stat_replication" 2>/dev/null
}
