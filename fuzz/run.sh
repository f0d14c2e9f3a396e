#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS each (default 300), one process, from the seeded
# corpora (fuzz/seed.sh). Findings land in fuzz/artifacts/<target>/; a summary per target is
# printed (runs, coverage, corpus size).
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode report catalogue analyse)
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t for ${seconds}s"
    # 2 GB of memory per input at most: a photo that tries more has escaped the decode budget.
    cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2560 \
        -timeout=30 -print_final_stats=1 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::|==[0-9]+==ERROR|SUMMARY|Test unit written|thread .* panicked)" || true
done
