#!/usr/bin/env bash
# Seeds the fuzzing corpora (fuzz/corpus/<target>/, not committed) from the repository's own
# fixtures: the format files, the odd-input corpus the tests write, small copies of the examples,
# a studio report, and the built-in catalogue.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/{decode,analyse,report,catalogue}
cp tests/fixtures/formats/* fuzz/corpus/decode/
# The odd inputs (written by `cargo test --test behaviour odd`).
[ -d target/odd-inputs ] && find target/odd-inputs -type f -size -2M -exec cp {} fuzz/corpus/decode/ \;
# The analysis corpus: small photos only, so each run stays in milliseconds.
cp tests/fixtures/formats/{reference.png,gray.jpg,photo.heic,animated.webp} fuzz/corpus/analyse/
out="$(mktemp -d)"
cargo run -q -- studio examples/obama.jpg examples/two_people.jpg --out "$out" >/dev/null
cp "$out/report.json" fuzz/corpus/report/studio.json
find "$out" -name .finished.json | head -2 | while read -r f; do cp "$f" "fuzz/corpus/report/$(basename "$(dirname "$f")").json"; done
python3 - "$out/report.json" fuzz/corpus/report <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for i, p in enumerate(d["photos"]):
    json.dump(p, open(f"{sys.argv[2]}/photo-{i}.json", "w"))
PY
cp crates/headshot-core/src/uses.toml fuzz/corpus/catalogue/
echo "seeded: $(ls fuzz/corpus/decode | wc -l) decode, $(ls fuzz/corpus/report | wc -l) report inputs"
