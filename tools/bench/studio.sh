#!/usr/bin/env bash
# The studio benchmark (run by hand, not in CI): headshot's studio on a 12 MP and a 24 MP photo,
# per stage, on one core, beside the floor of a plain decode-resize-encode of the same outputs
# by libvips (sharp). Prints both and their ratio.
#
#   tools/bench/studio.sh [PHOTO] [THREADS]      (default: examples/biden.jpg, 1 thread)
set -euo pipefail
cd "$(dirname "$0")/../.."
photo="${1:-examples/biden.jpg}"
threads="${2:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example studio_bench
(cd tools/bench && npm ci --no-audit --no-fund --loglevel=error)
./target/release/examples/studio_bench "$photo" "$work" "$threads" 3 | tee "$work/studio.txt"
for mp in 12 24; do
    THREADS="$threads" node tools/bench/floor.mjs "$work/${mp}mp.jpg" "$work/${mp}mp-jobs.json" 3 | tee "$work/floor-$mp.txt"
    studio=$(awk -v mp="$mp" '$1 == mp && $2 == "MP" { on = 1 } on && $1 == "total" { print $2; exit }' "$work/studio.txt")
    floor=$(grep -o 'floor [0-9.]* ms' "$work/floor-$mp.txt" | awk '{ print $2 }')
    awk -v s="$studio" -v f="$floor" -v mp="$mp" 'BEGIN { printf "%s MP: studio %.0f ms, floor %.0f ms: %.2fx the floor\n", mp, s, f, s / f }'
done
