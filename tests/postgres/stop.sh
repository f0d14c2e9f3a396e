#!/usr/bin/env bash
# Stops the server tests/postgres/start.sh started on PORT and removes its data folder.
#
#   tests/postgres/stop.sh [PORT]     (default 54329)
set -euo pipefail
port="${1:-54329}"
record="/tmp/headshot-pg-$port.dir"
[ -f "$record" ] || exit 0
data="$(cat "$record")"
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as=()
[ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
"${as[@]}" "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null || true
rm -rf "$data" "$record"
