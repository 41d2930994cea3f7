"""Activity photos (R-ACT-8) under the upload rules of SECURITY.md IV6: a size limit, an allow-list of
types verified by decoding the image with Pillow, random stored names, EXIF stripped by re-encoding,
served with nosniff and only to those who may see the activity."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from core import audit
from core.db import transaction

from .models import Activity, Photo

def max_bytes() -> int:
    """The largest photo accepted: the activities setting ``photo_max_mb`` (issue 11 point 16)."""
    from .services import setting
    return int(setting("photo_max_mb")) * 1024 * 1024


ALLOWED = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


class PhotoError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.errors = {"photos": message}


def folder() -> Path:
    p = Path(current_app.config["INSTANCE_PATH"]) / "uploads" / "activities"
    p.mkdir(parents=True, exist_ok=True)
    return p


def store(activity: Activity, file, *, caption: str = "", actor=None) -> Photo:
    """Check, clean and store one uploaded photo (``store_all`` of one ``prepare``)."""
    return store_all(activity, [prepare(file, caption=caption)], actor=actor)[0]


def prepare(file, *, caption: str = "") -> dict:
    """An upload checked and cleaned, nothing written yet (IV6): at most ``photo_max_mb``, the pixel count read
    from the header and capped by the setting ``photo_max_megapixels`` BEFORE anything is decoded (a
    20000×20000 PNG is a few KB on disk and 1.6 GB decoded), the type verified by Pillow, re-encoded
    (drops EXIF and anything appended). Raises ``PhotoError``."""
    from core import inputs
    from .services import setting
    limit = max_bytes()
    data = file.read(limit + 1)
    if len(data) > limit:
        raise PhotoError(_l("A photo may be at most %(mb)s MB.", mb=limit // 1024 // 1024))
    max_mp = setting("photo_max_megapixels")
    too_large = _l("The image is too large: at most %(mp)s million pixels.", mp=max_mp)
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
        fmt = img.format
        if fmt not in ALLOWED:
            raise PhotoError(_l("Only JPEG, PNG and WebP photos can be uploaded."))
        try:
            inputs.check_image_pixels(img, max_mp)
        except inputs.InputError:
            raise PhotoError(too_large) from None
        img.verify()
        img = Image.open(io.BytesIO(data))
        img.load()
    except Image.DecompressionBombError:  # Pillow's own limit, should the setting be above it
        raise PhotoError(too_large) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(_l("Only JPEG, PNG and WebP photos can be uploaded.")) from None
    mime, ext = ALLOWED[fmt]
    clean = io.BytesIO()
    img = img.convert("RGB") if fmt == "JPEG" and img.mode not in ("RGB", "L") else img
    img.save(clean, format=fmt)  # re-encoding drops EXIF (location, camera) and anything appended
    return {"data": clean.getvalue(), "content_type": mime, "ext": ext, "caption": caption[:200]}


def store_all(activity: Activity, prepared: list[dict], *, actor=None, before=None) -> list[Photo]:
    """Store photos ``prepare``d beforehand, all or none: the files are written, then ``before()`` (e.g.
    the outcome text) and the rows run in ONE transaction; on any failure the files written are removed
    again, so a refused or failed upload leaves neither rows nor files (no partial write)."""
    written = []
    try:
        for p in prepared:
            name = secrets.token_hex(16) + p["ext"]
            (folder() / name).write_bytes(p["data"])
            written.append(name)
        with transaction():
            if before is not None:
                before()
            rows = []
            for p, name in zip(prepared, written):
                row = Photo.create(activity=activity, stored_name=name, content_type=p["content_type"],
                                   size=len(p["data"]), caption=p["caption"],
                                   uploaded_by=getattr(actor, "id", None))
                audit.log("photo.uploaded", row, user=actor)
                rows.append(row)
        return rows
    except BaseException:
        for name in written:
            (folder() / name).unlink(missing_ok=True)
        raise


def path_of(photo: Photo) -> Path:
    return folder() / photo.stored_name
