# Sourced by the benchmark scripts. start_server LOG DATABASE_ARGS...:
# starts `"$BIN" serve` on 127.0.0.1:$PORT with the rate limits off (a
# benchmark measures the service, not its limiter), its output in LOG, and
# waits until it is ready; its pid is left in server_pid.
start_server() {
  local log="$1"
  shift
  RUST_LOG=warn "$BIN" serve "$@" --bind "127.0.0.1:$PORT" \
    --rate-limit-per-second 0 --lookup-rate-limit-per-second 0 >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
}
