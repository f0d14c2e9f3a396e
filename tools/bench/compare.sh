#!/usr/bin/env bash
# Side by side with the tools people use instead, on the same photos, in one run, alternating
# (so a noisy machine hurts every tool alike), on one core and on all of them:
#   autocrop 2.0.0 (pip; OpenCV YuNet, one face crop per photo)  vs  headshot studio --uses linkedin
#   libvips via sharp (npm): decode -> resize -> encode of the same outputs  vs  headshot studio
#   OpenCV (the same pip package): decode -> resize -> YuNet on the same model file  vs  headshot analyze
# Prints photos per second (median of ROUNDS), the ratios, and peak memory (/usr/bin/time),
# then what the issue of speed asks for beside them: the 12 MP studio and analysis with the
# pure-Rust JPEG codecs against libjpeg-turbo; one small photo's `analyze` on one core,
# start-up included; the models' loading; the 12 MP studio's pixel work (its time less the
# networks', from `--timings`) against the floor; the release binary's size; peak memory of a
# 24 MP photo and of a 20- vs a 200-photo batch.
#
#   tools/bench/compare.sh [ROUNDS]        (default 3; needs python3-venv, node, taskset, and
#                                           libturbojpeg0 for headshot's faster JPEG codec)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
work=target/bench-compare
mkdir -p "$work"
raw="$work/raw.txt"
: > "$raw"

echo "== building and installing the peers" >&2
cargo build --release --quiet -p headshot --bin headshot --example bench_photos
cargo build --release --quiet -p headshot-vision --example load_times
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import autocrop' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check autocrop==2.0.0
fi
(cd tools/bench && npm ci --no-audit --no-fund --loglevel=error)
bin=target/release/headshot

echo "== photo sets" >&2
# small: the bundled photos as they are (0.3-3 MP), four copies each; 12mp: the same enlarged
# to 12 MP with grain; 24mp: one photo at 24 MP (memory).
rm -rf "$work/sets/small"
mkdir -p "$work/sets/small"
for copy in 1 2 3 4; do
    for f in examples/*.jpg examples/*.png; do
        b="$(basename "$f")"
        cp "$f" "$work/sets/small/${b%.*}-$copy.${b##*.}"
    done
done
target/release/examples/bench_photos "$work/sets/12mp" 12 examples/*.jpg examples/*.png >/dev/null
target/release/examples/bench_photos "$work/sets/24mp" 24 examples/biden.jpg >/dev/null

# run NAME SET CORES CMD...: one timed run, appended to $raw as "name set cores wall_s peak_kb"
# (the wall time to the microsecond from the clock, the peak from /usr/bin/time).
run() {
    local name="$1" set="$2" cores="$3"
    shift 3
    local pin=()
    [ "$cores" = 1 ] && pin=(taskset -c 0)
    rm -rf "$work/out"
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "${pin[@]}" env RAYON_NUM_THREADS="$cores" THREADS="$cores" \
        UV_THREADPOOL_SIZE="$cores" OMP_NUM_THREADS="$cores" "$@" >"$work/last.log" 2>&1 ||
        { echo "$name failed:" >&2; cat "$work/last.log" >&2; exit 1; }
    end=$(date +%s%N)
    read -r _ kb < "$work/time.txt"
    echo "$name $set $cores $(( (end - start) / 1000 ))e-6 $kb" >> "$raw"
}

# nets NAME SET CORES: the networks' share of the last run (its --timings on stderr: detect, mesh,
# segment, matting, model loading included), appended to $raw as "NAME set cores seconds 0".
nets() {
    local ms
    ms=$(awk '$1 ~ /^(detect|mesh|segment|matting)$/ { s += $2 } END { print s + 0 }' "$work/last.log")
    echo "$1 $2 $3 ${ms}e-3 0" >> "$raw"
}

cores_all="$(nproc)"
for set in small 12mp; do
    photos=("$work/sets/$set"/*)
    # The outputs the floor must make: those of a full studio run on this set.
    "$bin" studio "$work/sets/$set" --out "$work/full-$set" >/dev/null
    for cores in 1 "$cores_all"; do
        for r in $(seq "$rounds"); do
            echo "== $set, $cores core(s), round $r of $rounds" >&2
            run autocrop "$set" "$cores" "$venv/bin/python" tools/bench/autocrop_batch.py "$work/out" "${photos[@]}"
            run linkedin "$set" "$cores" "$bin" studio "$work/sets/$set" --uses linkedin --out "$work/out"
            run floor "$set" "$cores" node tools/bench/floor_batch.mjs "$work/full-$set/report.json" "$work/out"
            run studio "$set" "$cores" "$bin" studio "$work/sets/$set" --out "$work/out" --timings
            nets studio-nets "$set" "$cores"
            run analyze "$set" "$cores" "$bin" analyze --json "$work/sets/$set"
            run opencv "$set" "$cores" "$venv/bin/python" tools/bench/opencv_detect_batch.py \
                models/face_detection_yunet_2023mar.onnx "${photos[@]}"
            if [ "$set" = 12mp ] && [ "$cores" = 1 ]; then
                # The same runs with the pure-Rust JPEG codecs, as on a machine without libjpeg-turbo.
                run studio-rust "$set" "$cores" env HEADSHOT_TURBOJPEG=off "$bin" studio "$work/sets/$set" \
                    --out "$work/out"
                run analyze-rust "$set" "$cores" env HEADSHOT_TURBOJPEG=off "$bin" analyze --json "$work/sets/$set"
            fi
            if [ "$set" = small ] && [ "$cores" = 1 ]; then
                # One small photo, as a new user's first command: start-up and loading included.
                for _ in 1 2 3; do run one-photo one 1 "$bin" analyze examples/obama.jpg; done
                taskset -c 0 target/release/examples/load_times >"$work/load.log"
                awk '{ s += $NF } END { print "load one 0 " s "e-3 0" }' "$work/load.log" >> "$raw"
            fi
        done
    done
done

echo "== memory" >&2
run studio-24mp 24mp 1 "$bin" studio "$work/sets/24mp" --out "$work/out"
rm -rf "$work/sets/batch200"
mkdir -p "$work/sets/batch200"
small=("$work/sets/small"/*)
for i in $(seq 0 199); do
    f="${small[$((i % ${#small[@]}))]}"
    b="$(basename "$f")"
    # Copies, not links: the studio takes two links to one file as one photo.
    cp "$f" "$work/sets/batch200/$i-$b"
done
rm -rf "$work/sets/batch20"
mkdir -p "$work/sets/batch20"
for f in $(ls "$work/sets/batch200" | head -20); do cp "$work/sets/batch200/$f" "$work/sets/batch20/$f"; done
run batch-20 batch20 "$cores_all" "$bin" studio "$work/sets/batch20" --uses linkedin,team-page --out "$work/out"
run batch-200 batch200 "$cores_all" "$bin" studio "$work/sets/batch200" --uses linkedin,team-page --out "$work/out"

codec="pure Rust (libturbojpeg.so.0 is not installed)"
# grep reads the whole list (not -q): under pipefail, ldconfig killed by a closed pipe would fail the test.
ldconfig -p | grep 'libturbojpeg\.so\.0 ' >/dev/null && codec="libjpeg-turbo (the system's libturbojpeg.so.0)"
python3 - "$raw" "$work/sets" "$codec" <<'PY'
import collections, os, statistics, sys
raw, sets, codec = sys.argv[1], sys.argv[2], sys.argv[3]
runs = collections.defaultdict(list)
for line in open(raw):
    name, s, cores, wall, kb = line.split()
    runs[(name, s, int(cores))].append((float(wall), int(kb)))
count = {s: len(os.listdir(os.path.join(sets, s))) for s in os.listdir(sets)}
def med(k): return statistics.median(w for w, _ in runs[k])
def peak(k): return max(kb for _, kb in runs[k]) / 1024
print(f"machine: {os.cpu_count()} cores, {os.uname().machine}; median of {len(runs[next(iter(runs))])} alternating runs; wall time includes start-up and model loading; headshot's JPEG codec: {codec}")
print()
print("| set | cores | tool | photos/s | peak MiB | ratio |")
print("|---|---|---|---|---|---|")
for s in ("small", "12mp"):
    for cores in sorted({c for (_, s2, c) in runs if s2 == s}):
        n = count[s]
        for name, what in (("autocrop", "autocrop 2.0.0 (one 400x400 crop)"), ("linkedin", "headshot studio --uses linkedin"),
                           ("floor", "libvips/sharp floor (same outputs)"), ("studio", "headshot studio (all uses)"),
                           ("analyze", "headshot analyze"),
                           ("opencv", "OpenCV decode + resize + YuNet (detection only)")):
            k = (name, s, cores)
            if k not in runs: continue
            ratio = ""
            if name == "linkedin": ratio = f"{med(('autocrop', s, cores)) / med(k):.2f}x autocrop's speed"
            if name == "studio": ratio = f"{med(k) / med(('floor', s, cores)):.2f}x the floor's time"
            if name == "analyze" and ("opencv", s, cores) in runs:
                ratio = f"{med(k) / med(('opencv', s, cores)):.2f}x OpenCV's time"
            print(f"| {s} ({n} photos) | {cores} | {what} | {n / med(k):.2f} | {peak(k):.0f} | {ratio} |")
print()
if ("studio-nets", "12mp", 1) in runs:
    k = ("studio", "12mp", 1)
    total, networks = med(k), med(("studio-nets", "12mp", 1))
    print(f"12 MP full studio, one core: {total:.2f} s, of which the networks {networks:.2f} s; the pixel work "
          f"(decode, resample, matte refinement, compositing, encode) {total - networks:.2f} s = "
          f"{(total - networks) / med(('floor', '12mp', 1)):.2f}x the floor's {med(('floor', '12mp', 1)):.2f} s")
if ("studio-rust", "12mp", 1) in runs:
    for name in ("studio", "analyze"):
        turbo, rust = med((name, "12mp", 1)), med((f"{name}-rust", "12mp", 1))
        print(f"12 MP {name}, one core, JPEGs through libjpeg-turbo: {turbo:.2f} s; through the pure-Rust codecs "
              f"(HEADSHOT_TURBOJPEG=off): {rust:.2f} s = {rust / turbo:.2f}x")
if ("one-photo", "one", 1) in runs:
    print(f"one photo (examples/obama.jpg, 0.9 MP), analyze, one core, start-up included: "
          f"{med(('one-photo', 'one', 1)) * 1e3:.0f} ms (median of {len(runs[('one-photo', 'one', 1)])})")
if ("load", "one", 0) in runs:
    print(f"the analysis models made ready (examples/load_times, the program's way, one core): "
          f"{med(('load', 'one', 0)) * 1e3:.0f} ms (median of {len(runs[('load', 'one', 0)])})")
print(f"release binary: {os.path.getsize('target/release/headshot') / 1e6:.1f} MB")
for k, label in ((("studio-24mp", "24mp", 1), "studio, one 24 MP photo, all uses"),
                 (("batch-20", "batch20", os.cpu_count()), "studio --uses linkedin,team-page, 20 photos"),
                 (("batch-200", "batch200", os.cpu_count()), "studio --uses linkedin,team-page, 200 photos")):
    if k in runs: print(f"peak memory, {label}: {peak(k):.0f} MiB ({med(k):.1f} s)")
PY
