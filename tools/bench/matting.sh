#!/usr/bin/env bash
# The matting benchmark (run by hand, not in CI): MODNet in headshot (tract with our faster
# upsampling) beside onnxruntime from PyPI, on one core, for every input shape the studio uses,
# the fastest of RUNS runs each. Prints both times and their ratio per shape.
#
#   tools/bench/matting.sh [RUNS]      (default 5; needs python3-venv and taskset)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
work=target/bench-matting
mkdir -p "$work"

cargo build --release --quiet -p headshot-vision --example matting
venv=target/bench-venv-ort
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnxruntime' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check onnxruntime==1.32.0 numpy==2.4.6
fi

taskset -c 0 env RAYON_NUM_THREADS=1 target/release/examples/matting "$runs" | tee "$work/tract.txt"
shapes=$(awk '{ sub(":", "", $1); print $1 }' "$work/tract.txt")
# shellcheck disable=SC2086 # one argument per shape
taskset -c 0 env OMP_NUM_THREADS=1 "$venv/bin/python" tools/bench/matting_ort.py models/modnet.onnx "$runs" $shapes |
    tee "$work/ort.txt"
echo "shape      headshot  onnxruntime  ratio"
awk 'NR == FNR { sub(":", "", $1); for (i = 1; i <= NF; i++) if ($i == "run") t[$1] = $(i + 1); next }
     { printf "%-9s %6.0f ms %8.0f ms  %5.2fx\n", $1, t[$1], $3, t[$1] / $3 }' "$work/tract.txt" "$work/ort.txt"
