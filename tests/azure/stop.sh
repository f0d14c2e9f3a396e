#!/usr/bin/env bash
# Stops the emulator tests/azure/start.sh started on PORT and removes its folder.
#
#   tests/azure/stop.sh [PORT]     (default 54349)
exec "$(dirname "$0")/../stop-server.sh" azure "${1:-54349}"
