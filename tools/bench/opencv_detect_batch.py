"""OpenCV's own way to the faces of a batch, the floor `headshot analyze` is measured against:
decode (cv2.imread), reduce so the long side is 640 px (INTER_AREA; headshot's detector input
is the same size), and YuNet (cv2.FaceDetectorYN) on the same model file headshot ships. Only
detection: no landmarks model, no matte, no judgement, nothing written. THREADS sets OpenCV's
thread count (compare.sh pins it with the cores).

    python opencv_detect_batch.py MODEL PHOTO...
"""
import os
import sys

import cv2

SIDE = 640


def main() -> int:
    model, photos = sys.argv[1], sys.argv[2:]
    cv2.setNumThreads(int(os.environ.get("THREADS", "0")))
    detector = cv2.FaceDetectorYN.create(model, "", (SIDE, SIDE), 0.6, 0.3, 5000)
    faces_found = 0
    for path in photos:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            print(f"{path}: cannot be read", file=sys.stderr)
            continue
        h, w = img.shape[:2]
        scale = SIDE / max(h, w)
        if scale < 1:
            img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        detector.setInputSize((img.shape[1], img.shape[0]))
        _, faces = detector.detect(img)
        faces_found += 0 if faces is None else len(faces)
    print(f"opencv: {faces_found} faces in {len(photos)} photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
