#!/usr/bin/env bash
# Stops a server that tests/NAME/start.sh started in the background on PORT, and removes its
# folder: the start script records the folder in /tmp/headshot-NAME-PORT.dir, the server's pid
# in the folder. Nothing to do when there is no record.
#
#   tests/stop-server.sh NAME PORT
set -euo pipefail
record="/tmp/headshot-$1-$2.dir"
[ -f "$record" ] || exit 0
dir="$(cat "$record")"
kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir" "$record"
