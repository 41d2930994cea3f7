"""Activity photos (R-ACT-8) under the upload rules of SECURITY.md IV6: a size limit, an allow-list of
types verified by decoding the image with Pillow, random stored names, EXIF stripped by re-encoding,
served with nosniff and only to those who may see the activity.

Photos showing service recipients (R-PRIV-3, issue 13 point 5): the uploader marks them and, with the
recipients plugin, names the recipients. At upload a copy with every face blurred (``faces``) is stored
beside the original. Public pages serve ``public_file``: the original only when the photo shows no
recipients, or when the hook ``photo_original_public`` (answered by the privacy plugin) says every named
recipient consented; otherwise the blurred copy. The original of such a photo is shown only in the admin,
to staff who may see the activity, audited ``photo.original_viewed``."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from core import audit
from core.db import transaction

from .models import Activity, Photo, PhotoRecipient

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


def prepare(file, *, caption: str = "", shows_recipients: bool = False) -> dict:
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
    out = {"data": clean.getvalue(), "content_type": mime, "ext": ext, "caption": caption[:200],
           "blurred": None, "faces": None}
    if shows_recipients:  # R-PRIV-3: the faces blurred once, here, never while a page is served
        from . import faces
        out["blurred"], out["faces"] = faces.blurred_copy(out["data"], fmt, setting("photo_blur_margin_percent"))
    return out


def store_all(activity: Activity, prepared: list[dict], *, actor=None, before=None,
              recipient_ids=()) -> list[Photo]:
    """Store photos ``prepare``d beforehand, all or none: the files are written, then ``before()`` (e.g.
    the outcome text) and the rows run in ONE transaction; on any failure the files written are removed
    again, so a refused or failed upload leaves neither rows nor files (no partial write). A photo
    prepared with ``shows_recipients`` gets its blurred copy stored too and ``recipient_ids`` (checked
    by ``clean_recipients``) named on it."""
    written = []
    try:
        names = []
        for p in prepared:
            name = secrets.token_hex(16) + p["ext"]
            (folder() / name).write_bytes(p["data"])
            written.append(name)
            blurred = None
            if p.get("blurred") is not None:
                blurred = secrets.token_hex(16) + p["ext"]
                (folder() / blurred).write_bytes(p["blurred"])
                written.append(blurred)
            names.append((name, blurred))
        with transaction():
            if before is not None:
                before()
            rows = []
            for p, (name, blurred) in zip(prepared, names):
                row = Photo.create(activity=activity, stored_name=name, content_type=p["content_type"],
                                   size=len(p["data"]), caption=p["caption"],
                                   uploaded_by=getattr(actor, "id", None), shows_recipients=blurred is not None,
                                   blurred_name=blurred, faces_found=p.get("faces"))
                if blurred is not None:
                    for rid in sorted(set(recipient_ids)):
                        PhotoRecipient.create(photo=row, recipient_id=rid)
                audit.log("photo.uploaded", row, {"shows_recipients": True, "faces": p.get("faces"),
                                                  "recipients": sorted(set(recipient_ids))}
                          if blurred is not None else None, user=actor)
                rows.append(row)
        return rows
    except BaseException:
        for name in written:
            (folder() / name).unlink(missing_ok=True)
        raise


def path_of(photo: Photo) -> Path:
    return folder() / photo.stored_name


def files_of(photo: Photo) -> list[Path]:
    """Every file stored for ``photo``: the original and, for one showing recipients, the blurred copy
    (retention and deletion remove both)."""
    return [path_of(photo)] + ([folder() / photo.blurred_name] if photo.blurred_name else [])


# ------------------------------------------------------------------ R-PRIV-3: what the public sees
PUBLIC_STATUSES = ("published", "finished", "closed")


def recipient_ids_of(photo: Photo) -> list[int]:
    return [r.recipient_id for r in PhotoRecipient.select(PhotoRecipient.recipient_id)
            .where(PhotoRecipient.photo == photo.id).order_by(PhotoRecipient.recipient_id)]


def original_public(photo: Photo) -> bool:
    """May public pages show the original? Yes for a photo not marked as showing recipients; for one that
    is, only when the hook ``photo_original_public`` answers True (the privacy plugin: every named
    recipient consented). No answer — privacy disabled — is no."""
    if not photo.shows_recipients:
        return True
    pm = current_app.extensions["timebank"].pm
    return bool(pm.hook.photo_original_public(photo=photo, recipient_ids=recipient_ids_of(photo)))


def public_file(photo: Photo) -> Path | None:
    """The stored file public pages serve for ``photo`` (R-PRIV-3): the original, or the copy with the
    faces blurred; None (not published) for a photo marked as showing recipients in which no face was
    found, unless its original may be public: a face the detector missed would otherwise be shown."""
    if original_public(photo):
        return path_of(photo)
    if not photo.blurred_name or not photo.faces_found:
        return None   # no face found in a photo said to show recipients: the detector may have missed one
    return folder() / photo.blurred_name


def published_bytes(photo: Photo) -> bytes | None:
    """The bytes public pages serve for ``photo`` (``public_file``), or None when it is not published:
    what an archive files (R-ARC-2 with R-PRIV-3: the blurred copy, never the private original)."""
    f = public_file(photo)
    try:
        return f.read_bytes() if f is not None else None
    except OSError:
        return None


def public_listing(activity) -> list[Photo]:
    """The photos the public activity page lists (ids and captions, one query): all but those marked as
    showing recipients in which no face was found (public_file refuses them while any named recipient
    has not consented; the page does not ask, so it leaves them out)."""
    from peewee import fn
    hidden = Photo.shows_recipients & (fn.COALESCE(Photo.faces_found, 0) == 0)
    return list(Photo.select(Photo.id, Photo.caption).where((Photo.activity == activity) & ~hidden)
                .order_by(Photo.id).limit(24))


def recipients_loaded() -> bool:
    return "recipients" in current_app.extensions["timebank"].loaded


def recipient_choices(activity: Activity) -> list[tuple[int, str]]:
    """(id, label) of the service recipients of the activity's team, for the uploader to name; empty
    without the recipients plugin (its public API: for_team, label)."""
    if not recipients_loaded():
        return []
    from plugins.recipients import services as recipients
    return [(r.id, recipients.label(r)) for r in recipients.for_team(activity.team)]


def clean_recipients(raw: list[str], user) -> list[int]:
    """The recipient ids the uploader named, each one the user may reach (the recipients plugin's
    ``get_scoped``); PhotoError beside the field otherwise. Empty without the recipients plugin."""
    if not raw or not recipients_loaded():
        return []
    from core import inputs
    from plugins.recipients import services as recipients
    try:
        ids = inputs.parse_ids(raw, strict=True, max_count=200)
    except inputs.InputError:
        ids = None
    if ids is None or any(recipients.get_scoped(i, user) is None for i in ids):
        err = PhotoError(_l("Choose service recipients from the list."))
        err.errors = {"recipients": err.errors["photos"]}
        raise err
    return sorted(set(ids))
