#!/usr/bin/env bash
# Stops the emulator tests/azure/start.sh started on PORT and removes its folder.
#
#   tests/azure/stop.sh [PORT]     (default 54349)
set -euo pipefail
port="${1:-54349}"
record="/tmp/headshot-azure-$port.dir"
[ -f "$record" ] || exit 0
dir="$(cat "$record")"
kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir" "$record"
