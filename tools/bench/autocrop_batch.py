"""The peer headshot's `--uses linkedin` is compared with: autocrop 2.0.0 (OpenCV's YuNet face
detector and a face-centred crop), used as a batch user would, from Python with the cropper
made once: one 400x400 JPEG per photo (quality 90), written to OUTDIR.

    python autocrop_batch.py OUTDIR PHOTO...
"""
import os
import sys

from autocrop import Cropper
from PIL import Image


def main() -> int:
    out, photos = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    cropper = Cropper(width=400, height=400, face_percent=50)
    made = 0
    for path in photos:
        result = cropper.crop(path)
        if result.image is None:
            continue
        name = os.path.splitext(os.path.basename(path))[0] + ".jpg"
        Image.fromarray(result.image).save(os.path.join(out, name), quality=90)
        made += 1
    print(f"autocrop: {made} of {len(photos)} photos cropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
