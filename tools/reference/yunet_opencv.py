"""Reference face detections from an independent implementation: OpenCV's FaceDetectorYN
running the same YuNet file that headshot embeds.

    python3 -m venv /tmp/cv && /tmp/cv/bin/pip install opencv-python-headless numpy
    /tmp/cv/bin/python tools/reference/yunet_opencv.py examples/*.jpg examples/*.png \
        ../shared/photos/face_recognition/obama_and_biden.jpg > tests/reference/yunet_opencv.json

The photo is scaled so its long side is 640 px (what headshot's detector sees), detected with
the same score (0.6) and NMS (0.3) thresholds, and mapped back to the photo's pixels.
"""
import json
import os
import sys

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "models", "face_detection_yunet_2023mar.onnx")
SIDE = 640
SCORE = 0.6
NMS = 0.3

out = {"opencv": cv2.__version__, "side": SIDE, "score_threshold": SCORE, "photos": {}}
for path in sys.argv[1:]:
    img = cv2.imread(path, cv2.IMREAD_COLOR)  # applies EXIF orientation, gives BGR
    h, w = img.shape[:2]
    s = SIDE / max(w, h)
    vw, vh = round(w * s), round(h * s)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    view = cv2.resize(img, (vw, vh), interpolation=interp)
    det = cv2.FaceDetectorYN.create(MODEL, "", (vw, vh), SCORE, NMS, 5000)
    _, faces = det.detect(view)
    rows = []
    for f in faces if faces is not None else []:
        x, y, bw, bh = (float(v) / s for v in f[:4])
        lm = [[float(f[4 + 2 * i]) / s, float(f[5 + 2 * i]) / s] for i in range(5)]
        rows.append({"box": [x, y, bw, bh], "score": float(f[14]), "landmarks": lm})
    out["photos"][os.path.basename(path)] = {"width": w, "height": h, "faces": rows}
json.dump(out, sys.stdout, indent=1)
print()
