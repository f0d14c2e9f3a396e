"""A team run's outputs measured by an independent eye: OpenCV's FaceDetectorYN (the YuNet file
headshot embeds, run by another implementation, on the files as written) finds each person's
eyes and face in every output of a use, and this script checks that the page reads as one
shoot:

- eye line: the eyes' height in the frame, spread (max - min) within EYE_LINE_SPREAD of the
  output height;
- head size: the inter-eye distance over the output height, spread (max - min over the mean)
  within HEAD_SPREAD (the eyes are the most precisely placed of the detector's landmarks);
- light: the mean luminance of the middle of each face, spread within LIGHT_SPREAD of the
  mean (printed; checked when --light is given).

    python check_team.py STUDIO_OUT_DIR USE[,USE...] [--light]

Prints a table per use (person, eye line, head size, face luminance) and the spreads; exits 1
when a spread is over its limit or a team member has no output without a reason in the report.
"""

import json
import os
import sys

import cv2
import numpy as np

from check_outputs import detect

EYE_LINE_SPREAD = 0.01
HEAD_SPREAD = 0.03
LIGHT_SPREAD = 0.15


def measure(path):
    img = cv2.imread(path)
    if img is None:
        return None
    h, w = img.shape[:2]
    faces = detect(img)
    if not faces:
        return None
    box, lm, _ = faces[0]
    (rx, ry), (lx, ly) = lm[0], lm[1]
    eye_line = (ry + ly) / 2 / h
    inter_eye = float(np.hypot(lx - rx, ly - ry)) / h
    x, y, bw, bh = box
    # The middle of the face (cheeks, nose, forehead): half the box each way, no hair or
    # background.
    x0, x1 = int(max(0, x + 0.25 * bw)), int(min(w, x + 0.75 * bw))
    y0, y1 = int(max(0, y + 0.25 * bh)), int(min(h, y + 0.75 * bh))
    patch = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    luminance = float(patch.mean()) / 255 if patch.size else float("nan")
    return eye_line, inter_eye, luminance


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    light = "--light" in sys.argv
    out_dir, uses = args[0], args[1].split(",")
    report = json.load(open(os.path.join(out_dir, "report.json")))
    failed = False
    for use in uses:
        rows = []
        for p in report["photos"]:
            name = os.path.basename(p["path"])
            made = [o for o in p.get("outputs", []) if o["use"] == use]
            if not made:
                v = next((v for v in p["verdicts"] if v["use"] == use), None)
                reasons = v["reasons"] if v else []
                print(f"  {use}: {name} has no output ({', '.join(reasons) or 'no reason given'})")
                if not reasons:
                    failed = True
                continue
            m = measure(os.path.join(out_dir, made[0]["path"]))
            if m is None:
                print(f"  {use}: {name}: no face found in the output")
                failed = True
                continue
            rows.append((name, *m))
        if len(rows) < 2:
            continue
        eyes = [r[1] for r in rows]
        sizes = [r[2] for r in rows]
        lums = [r[3] for r in rows]
        eye_spread = max(eyes) - min(eyes)
        size_spread = (max(sizes) - min(sizes)) / np.mean(sizes)
        light_spread = (max(lums) - min(lums)) / np.mean(lums)
        print(f"{use}: {len(rows)} people")
        print(f"  {'person':34} {'eye line':>9} {'inter-eye':>10} {'face lum':>9}")
        for name, e, s, l in rows:
            print(f"  {name:34} {100 * e:8.2f}% {100 * s:9.2f}% {l:9.3f}")
        ok_eye, ok_size, ok_light = eye_spread <= EYE_LINE_SPREAD, size_spread <= HEAD_SPREAD, light_spread <= LIGHT_SPREAD
        print(
            f"  spread: eye line {100 * eye_spread:.2f}% of the height (limit {100 * EYE_LINE_SPREAD:.0f}%)"
            f"{'' if ok_eye else ' FAIL'}, head size {100 * size_spread:.2f}% (limit {100 * HEAD_SPREAD:.0f}%)"
            f"{'' if ok_size else ' FAIL'}, face luminance {100 * light_spread:.1f}% (limit {100 * LIGHT_SPREAD:.0f}%)"
            f"{'' if ok_light or not light else ' FAIL'}"
        )
        failed |= not ok_eye or not ok_size or (light and not ok_light)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
