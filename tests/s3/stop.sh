#!/usr/bin/env bash
# Stops the server tests/s3/start.sh started on PORT and removes its folder.
#
#   tests/s3/stop.sh [PORT]     (default 54339)
exec "$(dirname "$0")/../stop-server.sh" s3 "${1:-54339}"
