"""Every output of a studio run, checked by an independent eye: OpenCV's FaceDetectorYN (the
same YuNet file headshot embeds, run by another implementation) finds the face in each output
file and in its source photo, and this script checks what a photographer would:

- the whole head is inside the frame: a headshot from the forehead to the chin (a tight web
  headshot may crop the top of the hair), a portrait with its crown (estimated above the
  detector's box) and room above it;
- the eye line lies in the use's band (the catalogue's composition, where the frame was made as
  planned; anywhere sensible where the photo had no room and the frame was tightened or moved);
- the head keeps clear of the part of the frame the use reserves (the LinkedIn banner's
  profile circle);
- the photo is not enlarged at the face past the use's limit (the face box's height in the
  output over its height in the source, both from the detector).

    python check_outputs.py STUDIO_OUT_DIR CATALOGUE.toml [PHOTO_ROOT]

Reads STUDIO_OUT_DIR/report.json; photo paths in it are relative to PHOTO_ROOT (default: the
current directory). Prints one line per failed output and a summary; exits 1 on any failure.
"""

import json
import os
import sys
import tomllib

import cv2
import numpy as np

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # the DNN engine warns on every detector

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "models", "face_detection_yunet_2023mar.onnx")
SIDE = 640

# The detector's box starts at about the brows; a crown sits a quarter to a third of the box
# height above it (a quarter with hair slicked back, more with volume). A portrait's crown must
# be inside the frame by the smaller estimate.
CROWN_ABOVE_BOX = 0.25
# Where the frame was made as planned, the eye line is within this of the use's.
EYE_LINE_BAND = 0.06
# Box heights from two detections of the same face differ by a few per cent.
ENLARGE_TOLERANCE = 1.10
# A headshot's box may touch the frame's edge by this share of the frame (tight crops).
HEADSHOT_SLACK = 0.03


def detect(img):
    """Faces in an image (BGR), in its own pixels: (box, landmarks, score) sorted by size."""
    h, w = img.shape[:2]
    # 640 px on the short side at most (a banner is seen at more than 640 px across), and never
    # enlarged past 1280 on the long side.
    s = min(SIDE / min(w, h), 2 * SIDE / max(w, h))
    vw, vh = max(1, round(w * s)), max(1, round(h * s))
    view = cv2.resize(img, (vw, vh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    det = cv2.FaceDetectorYN.create(MODEL, "", (vw, vh), 0.6, 0.3, 5000)
    _, faces = det.detect(view)
    out = []
    for f in faces if faces is not None else []:
        box = [float(v) / s for v in f[:4]]
        lm = [(float(f[4 + 2 * i]) / s, float(f[5 + 2 * i]) / s) for i in range(5)]
        out.append((box, lm, float(f[14])))
    return sorted(out, key=lambda f: -f[0][2] * f[0][3])


def read(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        return None
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:  # a cut-out: judged on a mid grey, as a page would show it
        a = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3] * a + 128 * (1 - a)).astype(np.uint8)
    return img


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter + 1e-9)


def main():
    out_dir, catalogue_path = sys.argv[1], sys.argv[2]
    root = sys.argv[3] if len(sys.argv) > 3 else "."
    with open(catalogue_path, "rb") as f:
        uses = {u["name"]: u for u in tomllib.load(f)["use"]}
    with open(os.path.join(out_dir, "report.json")) as f:
        report = json.load(f)
    failures, checked = [], 0
    for photo in report["photos"]:
        outputs = photo.get("outputs", [])
        if not outputs:
            continue
        source = read(os.path.join(root, photo["path"]))
        # The person the outputs are about, as the report names them, matched to the
        # detector's own faces in the source.
        subject = next((v.get("subject") for v in photo["verdicts"] if v.get("subject")), 1)
        box = photo["faces"][subject - 1]["box"]
        want = [box["x"], box["y"], box["w"], box["h"]]
        found = detect(source)
        match = max(found, key=lambda f: iou(f[0], want), default=None)
        if match is None or iou(match[0], want) < 0.3:
            failures.append(f"{photo['path']}: the detector finds no face where the report's subject is")
            continue
        source_face = match[0][3]
        for o in outputs:
            checked += 1
            u = uses[o["use"]]
            comp = u["composition"]
            img = read(os.path.join(out_dir, o["path"]))
            name = o["path"]
            if img is None:
                failures.append(f"{name}: does not decode")
                continue
            h, w = img.shape[:2]
            faces = detect(img)
            if not faces:
                failures.append(f"{name}: no face found in the output")
                continue
            (x, y, bw, bh), lm, _ = faces[0]
            problems = []
            if u["kind"] == "headshot":
                if y < -HEADSHOT_SLACK * h or y + bh > (1 + HEADSHOT_SLACK) * h:
                    problems.append(f"face cut (box {y / h:.2f}..{(y + bh) / h:.2f} of the height)")
            else:
                crown = y - CROWN_ABOVE_BOX * bh
                if crown < 0 or y + bh > h:
                    problems.append(f"head cut (crown ~{crown / h:.2f}, chin {(y + bh) / h:.2f} of the height)")
            if x < -HEADSHOT_SLACK * w or x + bw > (1 + HEADSHOT_SLACK) * w:
                problems.append(f"face cut at the side (box {x / w:.2f}..{(x + bw) / w:.2f} of the width)")
            eye_line = (lm[0][1] + lm[1][1]) / 2 / h
            if o.get("fit") in ("as-planned", "extended-canvas"):
                if abs(eye_line - comp["eye_line"]) > EYE_LINE_BAND:
                    problems.append(f"eye line at {eye_line:.2f}, the use's is {comp['eye_line']}")
            elif not 0.12 <= eye_line <= 0.62:
                problems.append(f"eye line at {eye_line:.2f} of the height")
            clear = comp.get("clear_left", 0.0)
            if clear and x < clear * w:
                problems.append(f"face at {x / w:.2f} of the width, inside the reserved left {clear}")
            # The box height, not the eye distance: it holds for a turned head too.
            enlarge = bh / max(source_face, 1e-6)
            limit = u["max_enlarge"]
            if enlarge > limit * ENLARGE_TOLERANCE:
                problems.append(f"enlarged {enlarge:.2f}x at the face, the use allows {limit}x")
            if problems:
                failures.append(f"{name}: " + "; ".join(problems))
    for f in failures:
        print(f"FAIL {f}")
    print(f"outputs: {checked} checked by OpenCV {cv2.__version__} FaceDetectorYN, {len(failures)} failed")
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
