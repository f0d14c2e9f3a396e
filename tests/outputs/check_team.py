"""A team run's outputs measured by an independent eye, on the files as written: OpenCV's
FaceDetectorYN (the YuNet file headshot embeds, run by another implementation) finds each face,
and OpenCV's dnn module runs MediaPipe's iris landmark model (the ONNX file headshot embeds) on a
crop around each eye, as MediaPipe's graph crops it, to place the eye's corners. Each eye is the
middle of its corners (fixed in the face; the pupils move with the gaze), read on the image and
on its mirror image. YuNet's own eye points are not used: they wander by 2-4 % of the inter-eye
distance between scales and mirror images, more than a team page may differ by.

- eye line: the eyes' height in the frame, spread (max - min) within EYE_LINE_SPREAD of the
  output height;
- head size: the distance between the eyes over the output height, as it would be seen with the
  face turned to the camera (divided by the cosine of the head's turn, which the ruler reads off
  the depth of the eye corners in OpenCV's run of the face mesh: a head turned 15 degrees shows
  its eyes 3.4 % closer together and is no smaller), spread (max - min over the mean) within
  HEAD_SPREAD; a member whose report says they are framed tighter than the team (`team_size`,
  their photo had no room) is measured against that claim;
- light: the median luminance of the upper middle of each face (the detector box's middle
  three fifths across, from a tenth to half way down: forehead, eyes, cheekbones, the bridge of
  the nose; no beard, mouth or hair), spread (max - min over the mean) within LIGHT_SPREAD. The
  mean of the whole middle of the face is printed beside it: a beard or a shaded side pulls
  that one down, which is the person, not the light.

    python check_team.py STUDIO_OUT_DIR USE[,USE...]

CI runs it on a --team run of seven labelled photos of different people.

Prints a table per use (person, eye line, head size, face luminance) and the spreads; exits 1
when a spread is over its limit or a team member has no output without a reason in the report.
"""

import json
import os
import sys

import cv2
import numpy as np

from check_outputs import detect

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
IRIS_MODEL = os.path.join(MODELS, "iris_landmark.onnx")
MESH_MODEL = os.path.join(MODELS, "face_landmark.onnx")
IRIS_SIDE, MESH_SIDE = 64, 192
# MediaPipe crops 2.3 times the corner-to-corner width around the eye.
EYE_CROP_SCALE = 2.3
_nets = {}

EYE_LINE_SPREAD = 0.01
HEAD_SPREAD = 0.03
LIGHT_SPREAD = 0.15


def net(path):
    if path not in _nets:
        _nets[path] = cv2.dnn.readNetFromONNX(path)
    return _nets[path]


def window(rgb, centre, side, angle, n):
    """The n x n crop of a square `side` wide around `centre`, turned by `angle` (radians), and
    the map from crop pixels back to image pixels (origin + to_img . (u, v)). The image is
    area-reduced first, so a large window does not alias (as headshot's own crops are taken)."""
    k = n / side
    small = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 0.5 else rgb
    ks = small.shape[1] / rgb.shape[1]
    c, s = np.cos(angle), np.sin(angle)
    to_img = np.array([[c, -s], [s, c]]) / k
    origin = np.array(centre, dtype=float) - to_img @ np.array([n / 2, n / 2])
    # Crop pixel centres (u + 0.5) sample image pixel centres.
    m = np.hstack([to_img * ks, ((origin + to_img @ np.array([0.5, 0.5])) * ks - 0.5).reshape(2, 1)])
    crop = cv2.warpAffine(small, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return crop, lambda u, v: origin + to_img @ np.array([u, v])


def run(path, crop, names):
    model = net(path)
    model.setInput(np.ascontiguousarray(crop, dtype=np.float32)[None] / 255.0)
    return model.forward(names)


def eye_centre(rgb, a, b, mirror):
    """The middle of one eye's corners as the iris model places them, on MediaPipe's crop of
    the eye whose mesh corners are `a` (viewer's left) and `b`; `mirror` for the subject's left
    eye (the model reads right eyes)."""
    d = b - a
    crop, to_img = window(rgb, (a + b) / 2, EYE_CROP_SCALE * np.linalg.norm(d), np.arctan2(d[1], d[0]), IRIS_SIDE)
    if mirror:
        crop = crop[:, ::-1]
    eye, _ = run(IRIS_MODEL, crop, ["output_eyes_contours_and_brows", "output_iris"])
    pts = eye.reshape(-1, 3)[:, :2]
    corners = [to_img(IRIS_SIDE - u if mirror else u, v) for u, v in (pts[0], pts[8])]
    return (corners[0] + corners[1]) / 2


def eye_centres(img):
    """Each eye's centre (the subject's right eye first) as headshot's pipeline reads it, run by
    OpenCV: YuNet's box, the face mesh on 1.5 times the box turned level with YuNet's eyes, the
    iris model on a crop around each eye's mesh corners. Also the head's turn (radians, > 0 when
    the subject's left eye is further from the camera), from the mesh's depth of the outer eye
    corners: headshot reads its turn from the direction of the mesh's face plane instead."""
    faces = detect(img)
    if not faces:
        return None, None, None
    box, lm, _ = faces[0]
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    x, y, bw, bh = box
    roll = np.arctan2(lm[1][1] - lm[0][1], lm[1][0] - lm[0][0])
    crop, to_img = window(rgb, (x + bw / 2, y + bh / 2), 1.5 * max(bw, bh), roll, MESH_SIDE)
    points, _ = run(MESH_MODEL, crop, ["conv2d_20", "conv2d_30"])
    points = points.reshape(-1, 3)
    mesh = [to_img(u, v) for u, v in points[:, :2]]
    right = eye_centre(rgb, mesh[33], mesh[133], False)
    left = eye_centre(rgb, mesh[362], mesh[263], True)
    across = points[263] - points[33]
    turn = float(np.arctan2(across[2], across[0]))
    return [right, left], box, turn


def measure(path):
    img = cv2.imread(path)
    if img is None:
        return None
    h, w = img.shape[:2]
    direct, box, turn = eye_centres(img)
    mirrored, _, turn_mirrored = eye_centres(np.ascontiguousarray(img[:, ::-1]))
    if direct is None or mirrored is None:
        return None
    # The mirror's right eye is the subject's left, at x -> w - x.
    flip = lambda p: np.array([w - p[0], p[1]])
    right = (direct[0] + flip(mirrored[1])) / 2
    left = (direct[1] + flip(mirrored[0])) / 2
    eye_line = (right[1] + left[1]) / 2 / h
    inter_eye = float(np.linalg.norm(left - right)) / h
    # Mirrored, the head turns the other way.
    yaw = (turn - turn_mirrored) / 2
    frontal = inter_eye / np.cos(yaw)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)

    def patch(left, right, top, bottom):
        x, y, bw, bh = box
        x0, x1 = int(max(0, x + left * bw)), int(min(w, x + right * bw))
        y0, y1 = int(max(0, y + top * bh)), int(min(h, y + bottom * bh))
        return grey[y0:y1, x0:x1].astype(float) / 255

    upper, middle = patch(0.2, 0.8, 0.1, 0.5), patch(0.25, 0.75, 0.25, 0.75)
    light = float(np.median(upper)) if upper.size else float("nan")
    middle_mean = float(middle.mean()) if middle.size else float("nan")
    return eye_line, frontal, light, np.degrees(yaw), inter_eye, middle_mean


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
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
            # A member whose photo could not give the team's size says so (team_size: their
            # head over the team's); the ruler checks that claim instead of the team's size.
            claimed = made[0].get("team_size") or 1.0
            if claimed != 1.0:
                print(f"  {use}: {name} is framed at {claimed:.2f} times the team's size, as its report says")
            eye_line, frontal, lum, yaw, seen, middle = m
            rows.append((name, eye_line, frontal / claimed, lum, yaw, seen / claimed, middle))
        if len(rows) < 2:
            continue
        eyes = [r[1] for r in rows]
        sizes = [r[2] for r in rows]
        lums = [r[3] for r in rows]
        eye_spread = max(eyes) - min(eyes)
        size_spread = (max(sizes) - min(sizes)) / np.mean(sizes)
        light_spread = (max(lums) - min(lums)) / np.mean(lums)
        print(f"{use}: {len(rows)} people")
        print(
            f"  {'person':34} {'eye line':>9} {'turn':>6} {'inter-eye seen':>15} {'frontal':>8} {'face light':>11}"
            f" {'middle mean':>12}"
        )
        for name, e, s, l, yaw, seen, middle in rows:
            print(f"  {name:34} {100 * e:8.2f}% {yaw:5.1f}° {100 * seen:14.2f}% {100 * s:7.2f}% {l:11.3f} {middle:12.3f}")
        seens = [r[5] for r in rows]
        middles = [r[6] for r in rows]
        print(f"  (the inter-eye distance as seen, uncorrected for the turn, spreads {100 * (max(seens) - min(seens)) / np.mean(seens):.2f}%;")
        print(f"  the mean of the middle of the face, beards and shaded sides included, {100 * (max(middles) - min(middles)) / np.mean(middles):.1f}%)")
        ok_eye, ok_size, ok_light = eye_spread <= EYE_LINE_SPREAD, size_spread <= HEAD_SPREAD, light_spread <= LIGHT_SPREAD
        print(
            f"  spread: eye line {100 * eye_spread:.2f}% of the height (limit {100 * EYE_LINE_SPREAD:.0f}%)"
            f"{'' if ok_eye else ' FAIL'}, head size {100 * size_spread:.2f}% (limit {100 * HEAD_SPREAD:.0f}%)"
            f"{'' if ok_size else ' FAIL'}, face light {100 * light_spread:.1f}% (limit {100 * LIGHT_SPREAD:.0f}%)"
            f"{'' if ok_light else ' FAIL'}"
        )
        failed |= not ok_eye or not ok_size or not ok_light
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
