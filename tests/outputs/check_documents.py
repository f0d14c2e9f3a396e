"""Document photos (passports, visas, ID cards) checked by an independent eye: every document
output of a studio run that headshot reports as compliant is measured again here, with OpenCV's
FaceDetectorYN (the same YuNet file headshot embeds, run by another implementation) and with
the file's bytes read directly, against the preset's rules in the catalogue:

- the file is exactly the preset's pixel size, carries its DPI in the JFIF header (JPEG) or the
  pHYs chunk (PNG), and its byte size is within the preset's window;
- there is one face;
- the eye line (the mean of the two eye landmarks) lies in the preset's band from the bottom,
  and the eyes' midpoint between 45 % and 55 % of the width (ISO/IEC 19794-5);
- the head, from the crown (the first row from the top, over the face's width, that is not the
  flat backdrop colour) to the chin (the detector box's bottom, which YuNet puts at the chin),
  is within the preset's band, give or take the detector's chin error;
- the backdrop's corners are the preset's first colour;
- each print sheet is 300 dpi and holds at least one copy of the photo's own pixels.

    python check_documents.py STUDIO_OUT_DIR DOCUMENTS.toml

Prints one line per failed output and a summary; exits 1 on any failure, or when no output was
checked at all.
"""

import json
import os
import struct
import sys
import tomllib

import cv2
import numpy as np

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "models", "face_detection_yunet_2023mar.onnx")

# Two implementations of the detector place the eyes within a pixel or two of each other: at
# 531 px tall that is a fraction of a per cent; the allowance is twice the worst seen.
EYE_TOLERANCE = 0.015
# YuNet's box bottom sits at the chin give or take a few per cent of the face's height.
HEAD_TOLERANCE = 0.04
# JPEG keeps a flat colour within a few levels.
COLOUR_TOLERANCE = 6


def dpi_of(data):
    """Pixels per inch written in a JPEG's JFIF segment or a PNG's pHYs chunk, or None."""
    if data[:2] == b"\xff\xd8":
        if data[2:4] != b"\xff\xe0" or data[6:11] != b"JFIF\x00":
            return None
        units = data[13]
        x = struct.unpack(">H", data[14:16])[0]
        return x if units == 1 else round(x * 2.54) if units == 2 else None
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        at = 8
        while at + 8 <= len(data):
            length = struct.unpack(">I", data[at : at + 4])[0]
            kind = data[at + 4 : at + 8]
            if kind == b"pHYs":
                ppm = struct.unpack(">I", data[at + 8 : at + 12])[0]
                return round(ppm * 0.0254) if data[at + 16] == 1 else None
            if kind == b"IDAT":
                return None
            at += 12 + length
    return None


def detect(img):
    h, w = img.shape[:2]
    det = cv2.FaceDetectorYN.create(MODEL, "", (w, h), 0.6, 0.3, 5000)
    _, faces = det.detect(img)
    return [] if faces is None else list(faces)


def hex_rgb(s):
    s = s.lstrip("#")
    return [int(s[i : i + 2], 16) for i in (0, 2, 4)]


def check_output(out_dir, o, u):
    """The failures of one document output against its preset `u`."""
    rules = u["document"]
    problems = []
    path = os.path.join(out_dir, o["path"])
    with open(path, "rb") as f:
        data = f.read()
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    if (w, h) != (u["width"], u["height"]):
        problems.append(f"size {w}x{h}, preset {u['width']}x{u['height']}")
    if dpi_of(data) != rules["dpi"]:
        problems.append(f"dpi {dpi_of(data)}, preset {rules['dpi']}")
    lo, hi = rules.get("min_bytes", 0), u["max_bytes"]
    if not lo <= len(data) <= hi:
        problems.append(f"{len(data)} bytes, preset {lo}-{hi}")
    faces = detect(img)
    if len(faces) != 1:
        return problems + [f"{len(faces)} faces"]
    f = faces[0]
    box_x, box_y, box_w, box_h = (float(v) for v in f[:4])
    eyes_y = (float(f[5]) + float(f[7])) / 2
    eyes_x = (float(f[4]) + float(f[6])) / 2
    eye_line = 1 - eyes_y / h
    e_lo, e_hi = rules["eye_line_from_bottom"]
    if not e_lo - EYE_TOLERANCE <= eye_line <= e_hi + EYE_TOLERANCE:
        problems.append(f"eye line {eye_line:.3f} from the bottom, preset {e_lo}-{e_hi}")
    centre = eyes_x / w
    if not 0.45 - EYE_TOLERANCE <= centre <= 0.55 + EYE_TOLERANCE:
        problems.append(f"eyes at {centre:.3f} of the width, allowed 0.45-0.55")
    # The crown: the first row, over the face box's width, that differs from the backdrop.
    backdrop = np.array(hex_rgb(rules["backgrounds"][0])[::-1], dtype=np.int16)
    x0, x1 = max(0, int(box_x)), min(w, int(box_x + box_w))
    diff = np.abs(img[:, x0:x1].astype(np.int16) - backdrop).max(axis=2)
    rows = np.nonzero((diff > 24).sum(axis=1) >= 3)[0]
    crown = int(rows[0]) if len(rows) else 0
    chin = box_y + box_h
    head = (chin - crown) / h
    h_lo, h_hi = rules["head_height"]
    if not h_lo - HEAD_TOLERANCE <= head <= h_hi + HEAD_TOLERANCE:
        problems.append(f"head {head:.3f} of the height (crown {crown}, chin {chin:.0f}), preset {h_lo}-{h_hi}")
    if crown <= 0:
        problems.append("the head touches the top edge")
    # The backdrop's top corners.
    for y, x in [(2, 2), (2, w - 3)]:
        if np.abs(img[y, x].astype(np.int16) - backdrop).max() > COLOUR_TOLERANCE:
            problems.append(f"corner ({x}, {y}) is {img[y, x][::-1].tolist()}, not {rules['backgrounds'][0]}")
    if o.get("sheet"):
        problems += check_sheet(out_dir, o["sheet"], img)
    return problems


def check_sheet(out_dir, rel, photo):
    with open(os.path.join(out_dir, rel), "rb") as f:
        data = f.read()
    problems = []
    if dpi_of(data) != 300:
        problems.append(f"sheet dpi {dpi_of(data)}")
    sheet = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    scores = cv2.matchTemplate(sheet, photo, cv2.TM_SQDIFF_NORMED)
    if float(scores.min()) > 0.001:
        problems.append(f"no copy of the photo on the sheet (best match {float(scores.min()):.4f})")
    return problems


def main():
    out_dir, catalogue_path = sys.argv[1], sys.argv[2]
    with open(catalogue_path, "rb") as f:
        presets = {u["name"]: u for u in tomllib.load(f)["use"]}
    with open(os.path.join(out_dir, "report.json")) as f:
        report = json.load(f)
    checked = failed = skipped = 0
    for p in report["photos"]:
        for o in p.get("outputs", []):
            u = presets.get(o["use"])
            if u is None:
                continue
            if not o.get("compliant"):
                # headshot itself says this file fails a rule (and which): nothing to confirm.
                skipped += 1
                continue
            checked += 1
            problems = check_output(out_dir, o, u)
            if problems:
                failed += 1
                print(f"FAIL {o['path']}: " + "; ".join(problems))
    print(f"documents: {checked} compliant outputs checked, {failed} failed; {skipped} reported as failing a rule")
    sys.exit(1 if failed or checked == 0 else 0)


if __name__ == "__main__":
    main()
