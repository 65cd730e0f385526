#!/usr/bin/env bash
# A full disk under SQLite: the data dir on a small file system of the
# script's own (an ext4 image on a loop device; a tmpfs where loop devices
# cannot be had), a release server on it and the clients of
# scripts/reliability/harness.py; after a few seconds of load a file fills
# the file system, stays for FULL_SECONDS, and is deleted. While the disk is
# full every answer must be 503 (with `outcome`) and /readyz false; once
# space returns, the server must recover without a restart, nothing
# acknowledged may be lost, and the checks of the crash cycles hold (no
# false alert, no double lien, heads consistent, `anchorfin verify`).
# Mounting needs root (CAP_SYS_ADMIN).
#
#   scripts/full-disk.sh                    # the short form CI runs (5 s full)
#   FULL_SECONDS=30 scripts/full-disk.sh --report
#
# Prints one line of figures; exits non-zero when an invariant fails.
set -euo pipefail
FULL_SECONDS="${FULL_SECONDS:-5}"
DISK_MB="${DISK_MB:-64}"
MAX_503_MS="${MAX_503_MS:-100}"
REPORT=""
[ "${1:-}" = "--report" ] && REPORT=1
TIME_LIMIT_SECONDS="${TIME_LIMIT_SECONDS:-$((180 + 2 * FULL_SECONDS))}"
source "$(dirname "$0")/reliability/common.sh"

ensure_binary
ensure_python

DISK="$WORK/disk"
mkdir -p "$DISK"
truncate -s "${DISK_MB}M" "$WORK/disk.img"
if mkfs.ext4 -q -m 0 "$WORK/disk.img" 2>/dev/null && mount -o loop "$WORK/disk.img" "$DISK" 2>/dev/null; then
  FILESYSTEM="ext4 on a loop device, $DISK_MB MiB"
else
  mount -t tmpfs -o "size=${DISK_MB}m" tmpfs "$DISK" || fail "cannot mount a small file system (needs root)"
  FILESYSTEM="tmpfs, $DISK_MB MiB"
fi
on_exit "umount -l '$DISK'"
DATA="$DISK/data"
db_args=(--data-dir "$DATA")
onboard_operator "${db_args[@]}"
start_server "${db_args[@]}"

note "full disk ($FILESYSTEM) for ${FULL_SECONDS}s under load: server on $BASE"
status=0
run_harness full-disk "A full disk under SQLite" "FULL_SECONDS=$FULL_SECONDS scripts/full-disk.sh --report ($FILESYSTEM)" \
  "$WORK/server.log" --url "$BASE" --sqlite "$DATA/anchorfin.db" --platform-key-file "$DATA/platform-signing.key" \
  --min-load-seconds 3 --fault-seconds "$FULL_SECONDS" --max-503-ms "$MAX_503_MS" \
  --fault-cmd "dd if=/dev/zero of='$DISK/filler' bs=1M status=none 2>/dev/null; sync; df -h '$DISK' | tail -n 1" \
  --recover-cmd "rm -f '$DISK/filler'; df -h '$DISK' | tail -n 1" || status=$?
still_running "on the full disk"
exit "$status"
