#!/usr/bin/env bash
# Photos per second for 1, 2 and 4 workers sharing one queue and one store on this machine
# (run by hand, not in CI): the same photos queued afresh for each count, every worker the
# release binary with --exit-when-idle, the time from the first worker's start to the last's end.
#
#   tools/bench/workers.sh QUEUE_URL [PHOTO_DIR] [USES]
#   (QUEUE_URL: a server database, e.g. from tests/postgres/start.sh; default photos:
#    ../shared/photos/deepface, uses: linkedin)
set -euo pipefail
cd "$(dirname "$0")/../.."
server="$1"
photos="${2:-../shared/photos/deepface}"
uses="${3:-linkedin}"
# HEADSHOT_BIN: another build to time (e.g. target/debug/headshot, the README's profile).
bin="${HEADSHOT_BIN:-target/release/headshot}"
[ -n "${HEADSHOT_BIN:-}" ] || cargo build --release --quiet
echo "workers  photos  seconds  photos/s"
for n in 1 2 4; do
    db="headshot_bench_$n"
    psql -q "$server" -o /dev/null -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    url="${server%/*}/$db"
    store="$(mktemp -d)"
    count=$("$bin" enqueue --queue "$url" --store "$store" --uses "$uses" "$photos" | wc -l)
    start=$(date +%s.%N)
    for i in $(seq "$n"); do
        "$bin" worker --queue "$url" --store "$store" --name "w$i" --exit-when-idle 2>/dev/null &
    done
    wait
    end=$(date +%s.%N)
    awk -v n="$n" -v c="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%7d  %6d  %7.1f  %8.2f\n", n, c, e - s, c / (e - s) }'
    rm -rf "$store"
done
