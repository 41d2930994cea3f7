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
    limit = max_bytes()
    data = file.read(limit + 1)
    if len(data) > limit:
        raise PhotoError(_l("A photo may be at most %(mb)s MB.", mb=limit // 1024 // 1024))
    try:
        img = Image.open(io.BytesIO(data))
        img.verify()
        img = Image.open(io.BytesIO(data))
        fmt = img.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise PhotoError(_l("Only JPEG, PNG and WebP photos can be uploaded.")) from None
    if fmt not in ALLOWED:
        raise PhotoError(_l("Only JPEG, PNG and WebP photos can be uploaded."))
    if img.width * img.height > 60_000_000:
        raise PhotoError(_l("The photo is too large."))
    mime, ext = ALLOWED[fmt]
    clean = io.BytesIO()
    img = img.convert("RGB") if fmt == "JPEG" and img.mode not in ("RGB", "L") else img
    img.save(clean, format=fmt)  # re-encoding drops EXIF (location, camera) and anything appended
    name = secrets.token_hex(16) + ext
    (folder() / name).write_bytes(clean.getvalue())
    with transaction():
        p = Photo.create(activity=activity, stored_name=name, content_type=mime, size=len(clean.getvalue()),
                         caption=caption[:200], uploaded_by=getattr(actor, "id", None))
        audit.log("photo.uploaded", p, user=actor)
    return p


def path_of(photo: Photo) -> Path:
    return folder() / photo.stored_name
