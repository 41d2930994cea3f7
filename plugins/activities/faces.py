"""Faces blurred in a photo that shows service recipients (R-PRIV-3, issue 13 point 5).

A real detector, shipped inside the ``opencv-python-headless`` wheel: OpenCV's Haar cascades for frontal
and profile faces (``cv2.data.haarcascades``; nothing is downloaded at run time). Each face box found is
widened by ``photo_blur_margin_percent`` on every side and pixelated, then Gaussian-blurred, so that the
face cannot be recognised; pixels outside the widened boxes are left exactly as they were.

Runs once, when a photo is uploaded (``photos.prepare``), never while a page is served: the blurred copy
is stored next to the original and public pages serve the stored file.
"""
from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image

DETECT_EDGE = 800    # faces are looked for on a copy at most this wide/high (a 12-megapixel photo in ~1 s)
SCALE_STEP = 1.15    # the cascades' scale pyramid step


@functools.lru_cache(maxsize=None)
def _cascades():
    import cv2
    base = cv2.data.haarcascades
    return [cv2.CascadeClassifier(base + name) for name in (
        "haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml")]


def detect(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in an RGB array, in its own pixel coordinates. Frontal faces with two
    cascades, profiles both ways (the image and its mirror)."""
    import cv2
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_EDGE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)),
                                                interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    sw = gray.shape[1]
    min_side = max(20, round(min(gray.shape) * 0.03))
    boxes = []
    frontal, alt, profile = _cascades()
    for cascade in (frontal, alt):
        boxes += [tuple(b) for b in cascade.detectMultiScale(gray, SCALE_STEP, 5, minSize=(min_side, min_side))]
    boxes += [tuple(b) for b in profile.detectMultiScale(gray, SCALE_STEP, 5, minSize=(min_side, min_side))]
    boxes += [(sw - x - bw, y, bw, bh) for x, y, bw, bh in
              profile.detectMultiScale(cv2.flip(gray, 1), SCALE_STEP, 5, minSize=(min_side, min_side))]
    return [(int(x / scale), int(y / scale), int(round(bw / scale)), int(round(bh / scale)))
            for x, y, bw, bh in boxes]


def expanded(box, margin_percent: int, shape) -> tuple[int, int, int, int]:
    """The box widened by ``margin_percent`` of its size on every side, clipped to the image:
    (x0, y0, x1, y1), end exclusive."""
    x, y, w, h = box
    mx, my = w * margin_percent // 100, h * margin_percent // 100
    return max(0, x - mx), max(0, y - my), min(shape[1], x + w + mx), min(shape[0], y + h + my)


def blur(rgb: np.ndarray, boxes, margin_percent: int = 20) -> np.ndarray:
    """A copy of ``rgb`` with each box (widened) pixelated to about 8 blocks across and then blurred
    with a strong Gaussian; the rest of the image is the same array content."""
    import cv2
    out = rgb.copy()
    for box in boxes:
        x0, y0, x1, y1 = expanded(box, margin_percent, rgb.shape)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = out[y0:y1, x0:x1]
        rh, rw = region.shape[:2]
        tiny = cv2.resize(region, (max(1, rw // max(1, rw // 8)), max(1, rh // max(1, rh // 8))),
                          interpolation=cv2.INTER_AREA)
        blocks = cv2.resize(tiny, (rw, rh), interpolation=cv2.INTER_NEAREST)
        k = max(3, (min(rw, rh) // 3) | 1)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(blocks, (k, k), 0)
    return out


def blurred_copy(data: bytes, fmt: str, margin_percent: int = 20) -> tuple[bytes, int]:
    """The stored bytes of a cleaned photo, faces blurred, re-encoded in the same format without
    metadata: (bytes, number of faces found)."""
    img = Image.open(io.BytesIO(data))
    img.load()
    alpha = img.getchannel("A") if img.mode in ("RGBA", "LA") else None
    rgb = np.asarray(img.convert("RGB"))
    boxes = detect(rgb)
    out = Image.fromarray(blur(rgb, boxes, margin_percent))
    if alpha is not None:
        out.putalpha(alpha)
    buf = io.BytesIO()
    out.save(buf, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    return buf.getvalue(), len(boxes)
