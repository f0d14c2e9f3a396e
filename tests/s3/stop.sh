#!/usr/bin/env bash
# Stops the server tests/s3/start.sh started on PORT and removes its folder.
#
#   tests/s3/stop.sh [PORT]     (default 54339)
set -euo pipefail
port="${1:-54339}"
record="/tmp/headshot-s3-$port.dir"
[ -f "$record" ] || exit 0
dir="$(cat "$record")"
kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir" "$record"
