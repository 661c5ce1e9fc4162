# Sourced by the scripts under examples/: start vpsorg-emulator on a free
# loopback port and stop it when the script exits, whatever happens.
# The script sets `work` (a temporary directory, removed on exit) and
# `script` (its name in messages) before sourcing this file.

emulator_pid=""
endpoint=""

cleanup() {
  status=$?
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  if [[ $status -ne 0 ]]; then
    echo "$script: FAILED (exit $status)" >&2
  fi
  exit $status
}
trap cleanup EXIT INT TERM

# start_emulator BINARY FLAG...: runs the emulator with -listen 127.0.0.1:0
# and the flags, and sets endpoint to the URL it prints.
start_emulator() {
  local bin="$1"
  shift
  "$bin" -listen 127.0.0.1:0 "$@" >"$work/emulator.out" 2>"$work/emulator.log" &
  emulator_pid=$!
  for _ in $(seq 1 100); do
    endpoint="$(sed -n 's/^vpsorg-emulator listening on \(http[^ ]*\).*/\1/p' "$work/emulator.out" | head -n 1)"
    [[ -n "$endpoint" ]] && return 0
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$script: the emulator did not start" >&2
  exit 1
}
