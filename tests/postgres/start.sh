#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the distributed-jobs tests and prints its
# URL: a fresh data folder under /tmp, trust authentication on 127.0.0.1 only, stopped by
# `tests/postgres/stop.sh DATA_DIR` (or left to die with the machine).
#
#   url=$(tests/postgres/start.sh [PORT])     (default 54329; Debian: apt install postgresql)
set -euo pipefail
port="${1:-54329}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "PostgreSQL server programs not found (Debian: apt install postgresql)" >&2; exit 1; }
data="$(mktemp -d /tmp/headshot-pg.XXXXXX)"
# PostgreSQL refuses to run as root: as root, the server runs as the postgres user.
as=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$data"
    as=(runuser -u postgres --)
fi
"${as[@]}" "$bin/initdb" -D "$data/db" -A trust -U postgres --no-sync >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=100" start >/dev/null
echo "postgres://postgres@127.0.0.1:$port/postgres"
echo "$data" > "/tmp/headshot-pg-$port.dir"
