"""Public API of the certificates plugin (R-CERT-1…3, R-NAT-5…7, LG7; 篇2 二(二)3, 附录六).

Every function is one business step in one transaction; bad input raises ``CertificateError`` with
translated messages and writes nothing; every transition is audited (``certificate.applied``,
``.approved``, ``.rejected``, ``.revoked``, ``.issued``) and announced after commit (events below).

- ``apply``        a volunteer asks for a certificate of some of their own confirmed service records;
- ``approve`` / ``reject`` / ``revoke``   the issuing team's admins or the platform decide;
- ``issue_for_activity``   everyone who served in an activity gets an approved certificate (idempotent);
- ``find_by_token``        what the public verification page shows;
- ``pdf_for``              the 附录六 PDF for a user, with the ID number shown or masked and audited.

Who may do what is decided on the object: ``core.security.can(perm, certificate)``, where the plugin's
``permission_allowed`` hook limits team admins to certificates of their own team tree (AC6).
"""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, events, inputs, numbering, security
from core.db import for_update, now, today, transaction
from core.errors import FieldErrors
from plugins.activities import services as activities
from plugins.activities.models import Activity
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

from .models import PURPOSE_TEXT, PURPOSES, Certificate, CertificateLine, Issuer

SENSITIVE = "volunteers.volunteer.sensitive"
NUMBER_KIND = "certificates.certificate"   # its core.numbering sequence, one a year
VERIFY_PATH = "/certificates/verify/"


SETTINGS = PluginSettings(__file__)


def setting(key):
    """A site setting ``certificates.<key>`` over the manifest's default (core.settings)."""
    return SETTINGS.get(key)


class CertificateError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written. ``code`` is the HTTP status a
    view answers with when it is not a form error (403, 404)."""

    def __init__(self, errors, code: int = 400):
        super().__init__(errors)
        self.code = code


# ---------------------------------------------------------------- events
@dataclass
class CertificateApplied(events.Event):
    name = "certificates.applied"
    certificate_id: int = 0
    team_id: int = 0


@dataclass
class CertificateDecided(events.Event):
    """A certificate was approved (``status`` approved, with its number), rejected or revoked."""
    name = "certificates.decided"
    certificate_id: int = 0
    volunteer_id: int = 0
    status: str = ""
    number: str = ""


EVENTS = [CertificateApplied, CertificateDecided]


# ---------------------------------------------------------------- helpers
def purposes() -> list[tuple[str, str]]:
    return [(p, PURPOSE_TEXT[p]) for p in PURPOSES]


def _ids(raw) -> list[int] | None:
    out = []
    for x in raw or []:
        n = inputs.parse_id(x)
        if n is None:
            return None
        out.append(n)
    return list(dict.fromkeys(out))


def _content(a: Activity) -> str:
    """服务内容: the activity's service field (or category), else the start of its description."""
    for cat in (a.field, a.category):
        if cat is not None:
            return cat.name
    return (a.description or "").strip().replace("\n", " ")[:40]


def _organiser(team: Team) -> str:
    if team.organisation and team.organisation not in team.name:
        return f"{team.organisation} {team.name}"
    return team.name


def _lines_from(records) -> list[dict]:
    return [{"record": r.id, "record_version": r.version, "activity": r.activity_id,
             "service_date": r.service_date, "activity_title": r.activity.title[:200],
             "content": _content(r.activity)[:200], "organiser": _organiser(r.activity.team)[:300],
             "minutes": r.minutes} for r in sorted(records, key=lambda r: (r.service_date, r.id))]


def _summary(lines: list[dict]) -> dict:
    return {"total_minutes": sum(x["minutes"] for x in lines),
            "period_start": min(x["service_date"] for x in lines),
            "period_end": max(x["service_date"] for x in lines)}


def _notify(cert: Certificate, subject, body=""):
    """An inbox message to the volunteer (in their language), once per certificate and status."""
    from flask_babel import force_locale
    from core import messages
    user = cert.volunteer.user
    if user is None:
        return
    langs = current_app.config.get("LANGUAGES") or []
    with force_locale(user.locale if user.locale in langs else current_app.config["DEFAULT_LOCALE"]):
        messages.send(user, str(subject), str(body), category="certificates",
                      dedupe_key=f"certificate:{cert.id}:{cert.status}")


# ---------------------------------------------------------------- applying (R-CERT-1, R-CERT-2)
def clean_application(volunteer: Volunteer, record_ids, purpose: str, purpose_other: str = "") -> tuple:
    errors = {}
    if purpose not in PURPOSES:
        errors["purpose"] = _l("Choose what the certificate is for.")
    other = (purpose_other or "").strip()
    if purpose == "other" and not other:
        errors["purpose_other"] = _l("Say what the certificate is for.")
    elif len(other) > 100:
        errors["purpose_other"] = _l("At most %(n)s characters.", n=100)
    ids = _ids(record_ids)
    records = []
    if not ids:
        errors["records"] = _l("Choose at least one of your confirmed service records.")
    elif len(ids) > setting("max_records"):
        errors["records"] = _l("At most %(n)s records on one certificate.", n=setting("max_records"))
    else:
        records = activities.confirmed_service_records(volunteer, ids)
        if len(records) != len(ids):
            # another volunteer's record, a training, a record without confirmed hours or an unknown id
            errors["records"] = _l("Only your own confirmed volunteer-service records can be certified "
                                   "(trainings and unconfirmed hours cannot).")
        elif len({r.team_id for r in records}) > 1:
            errors["records"] = _l("The unit that keeps the records issues the certificate: choose records "
                                   "of one team and apply once for each team.")
    if errors:
        raise CertificateError(errors)
    return records, (other if purpose == "other" else "")


def apply(volunteer: Volunteer, record_ids, *, purpose: str, purpose_other: str = "",
          has_attachments: bool = False, actor=None) -> Certificate:
    """A volunteer applies for a certificate of some of their confirmed service records (R-CERT-1).
    Free of charge (R-NAT-5); the team that keeps the records reviews it."""
    if volunteer is None or volunteer.status != "active":
        raise CertificateError(_l("Only registered volunteers can apply for a certificate."))
    records, other = clean_application(volunteer, record_ids, purpose, purpose_other)
    lines = _lines_from(records)
    with transaction():
        busy = (CertificateLine.select(CertificateLine.id).join(Certificate)
                .where(CertificateLine.record.in_([x["record"] for x in lines])
                       & (Certificate.status == "pending") & (Certificate.volunteer == volunteer.id)))
        if busy.exists():
            raise CertificateError({"records": _l("Some of these records are already in an application "
                                                  "waiting for review.")})
        cert = Certificate.create(volunteer=volunteer.id, team=records[0].team_id, purpose=purpose,
                                  purpose_other=other, has_attachments=bool(has_attachments),
                                  created_by=getattr(actor, "id", None), **_summary(lines))
        CertificateLine.insert_many([{**x, "certificate": cert.id} for x in lines]).execute()
        audit.log("certificate.applied", cert, {"records": [x["record"] for x in lines],
                                                "purpose": purpose}, user=actor)
        events.emit(CertificateApplied(certificate_id=cert.id, team_id=cert.team_id))
    return cert


# ---------------------------------------------------------------- numbers (LG7)
def next_number() -> str:
    """The next certificate number, ``ZM2026000001``: prefix + year + 6-digit sequence per year, from
    ``core.numbering`` (kind ``certificates.certificate``). Call inside the approving transaction: the
    sequence row stays locked until it commits, so numbers are unique, sequential and without gaps, and a
    rolled-back approval gives its number to the next one."""
    return numbering.take(NUMBER_KIND, pattern="{prefix}{year}{seq:06d}", prefix=setting("number_prefix"))


def _issue(cert_id: int, actor, t) -> Certificate:
    """Number, token, handler and date for a locked pending certificate (inside a transaction)."""
    c = Certificate.get_by_id(cert_id)
    issuer = Issuer.get_or_none(Issuer.team == c.team_id)
    handler = (issuer.handler_name if issuer and issuer.handler_name else
               (getattr(actor, "display_name", "") or getattr(actor, "username", "") if actor else ""))
    Certificate.update(status="approved", number=next_number(), token=secrets.token_urlsafe(24),
                       issued_on=t.date(), decided_at=t, decided_by=getattr(actor, "id", None), reason="",
                       handler_name=(handler or "")[:50],
                       handler_phone=(issuer.contact_phone if issuer else "")[:30]).where(
        Certificate.id == cert_id).execute()
    return Certificate.get_by_id(cert_id)


# ---------------------------------------------------------------- review (R-CERT-1, R-NAT-5)
def _locked(cert: Certificate) -> Certificate:
    return for_update(Certificate.select().where(Certificate.id == cert.id)).get()


def _require(perm: str, cert: Certificate, actor):
    if actor is not None and not security.can(perm, cert, user=actor):
        audit.log("access.denied", cert, {"permission": perm}, user=actor)
        raise CertificateError(_l("Access denied"), code=403)


def approve(cert: Certificate, *, actor=None) -> Certificate:
    """Approve a pending application: the certificate gets its number and verification token."""
    _require("certificates.certificate.review", cert, actor)
    base_url()  # an issued certificate prints the configured public address: refuse without one
    with transaction():
        c = _locked(cert)
        if c.status != "pending":
            raise CertificateError(_l("This application is not waiting for review."))
        c = _issue(c.id, actor, now())
        audit.log("certificate.approved", c, {"number": c.number}, user=actor)
        events.emit(CertificateDecided(certificate_id=c.id, volunteer_id=c.volunteer_id, status=c.status,
                                       number=c.number))
    _notify(c, _l("Your service certificate %(number)s is ready", number=c.number),
            _l("Download it from My certificates."))
    return c


def reject(cert: Certificate, *, reason: str, actor=None) -> Certificate:
    """Refuse a pending application; the volunteer sees the reason."""
    _require("certificates.certificate.review", cert, actor)
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError({"reason": _l("A rejection needs a reason.")})
    with transaction():
        c = _locked(cert)
        if c.status != "pending":
            raise CertificateError(_l("This application is not waiting for review."))
        Certificate.update(status="rejected", reason=reason[:2000], decided_at=now(),
                           decided_by=getattr(actor, "id", None)).where(Certificate.id == c.id).execute()
        c = Certificate.get_by_id(c.id)
        audit.log("certificate.rejected", c, {"reason": reason[:500]}, user=actor)
        events.emit(CertificateDecided(certificate_id=c.id, volunteer_id=c.volunteer_id, status=c.status))
    _notify(c, _l("Your certificate application was not approved"), _l("Reason: %(reason)s", reason=reason))
    return c


def revoke(cert: Certificate, *, reason: str, actor=None) -> Certificate:
    """Revoke an issued certificate: it keeps its number, the verification page says it was revoked
    (LG7); nothing is deleted."""
    _require("certificates.certificate.revoke", cert, actor)
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError({"reason": _l("Revoking a certificate needs a reason.")})
    with transaction():
        c = _locked(cert)
        if c.status != "approved":
            raise CertificateError(_l("Only an issued certificate can be revoked."))
        Certificate.update(status="revoked", reason=reason[:2000], revoked_at=now(),
                           revoked_by=getattr(actor, "id", None)).where(Certificate.id == c.id).execute()
        c = Certificate.get_by_id(c.id)
        audit.log("certificate.revoked", c, {"number": c.number, "reason": reason[:500]}, user=actor)
        events.emit(CertificateDecided(certificate_id=c.id, volunteer_id=c.volunteer_id, status=c.status,
                                       number=c.number))
    _notify(c, _l("Your service certificate %(number)s was revoked", number=c.number),
            _l("Reason: %(reason)s", reason=reason))
    return c


# ---------------------------------------------------------------- batch issuance (R-NAT-5)
@dataclass
class BatchResult:
    issued: list
    skipped: int


def issue_for_activity(activity: Activity, *, actor=None, purpose: str = "practice") -> BatchResult:
    """Every volunteer with a confirmed service record in ``activity`` gets an approved certificate of
    that record (purpose 实践证明 by default), issued by the activity's team. Idempotent: a volunteer
    who already got one from this activity's batch (whatever its status now) is skipped, so running it
    twice, or twice at once, issues nothing twice (a unique batch key, and the activity row locked)."""
    if purpose not in PURPOSES or purpose == "other":
        raise CertificateError({"purpose": _l("Choose what the certificate is for.")})
    if activity.kind != "service":
        raise CertificateError(_l("Only volunteer-service activities are certified, not trainings."))
    probe = Certificate(team=activity.team_id)
    _require("certificates.certificate.issue", probe, actor)
    base_url()  # issued certificates print the configured public address: refuse without one
    issued, skipped = [], 0
    t = now()
    with transaction():
        for_update(Activity.select(Activity.id).where(Activity.id == activity.id)).first()
        for vid in activities.confirmed_service_volunteers(activity):
            key = f"activity:{activity.id}:volunteer:{vid}"
            if Certificate.select(Certificate.id).where(Certificate.batch_key == key).exists():
                skipped += 1
                continue
            records = [r for r in activities.confirmed_service_records(vid) if r.activity_id == activity.id]
            if not records:
                continue
            lines = _lines_from(records)
            c = Certificate.create(volunteer=vid, team=activity.team_id, purpose=purpose, batch_key=key,
                                   created_by=getattr(actor, "id", None), **_summary(lines))
            CertificateLine.insert_many([{**x, "certificate": c.id} for x in lines]).execute()
            c = _issue(c.id, actor, t)
            audit.log("certificate.issued", c, {"number": c.number, "activity": activity.id, "batch": True},
                      user=actor)
            events.emit(CertificateDecided(certificate_id=c.id, volunteer_id=vid, status=c.status,
                                           number=c.number))
            issued.append(c)
        audit.log("certificate.batch", activity, {"issued": len(issued), "skipped": skipped}, user=actor)
    for c in issued:
        _notify(c, _l("Your service certificate %(number)s is ready", number=c.number),
                _l("Download it from My certificates."))
    return BatchResult(issued, skipped)


# ---------------------------------------------------------------- reading
def find(user, raw, perm: str = "certificates.certificate.view") -> Certificate:
    """The certificate ``raw`` names if ``user`` may reach it under ``perm``, else CertificateError(404),
    audited: another team's certificate looks exactly like a missing one (AC6)."""
    s = str(raw or "").strip()
    c = None
    if (n := inputs.parse_id(s)) is not None:
        c = security.scoped(Certificate, Certificate.select().where(Certificate.id == n), perm,
                            user=user).first()
    if c is None or not security.can(perm, c, user=user):
        audit.log("access.denied", ("certificates_certificate", s[:64]), {"permission": perm}, user=user)
        raise CertificateError(_l("No such certificate."), code=404)
    return c


def of_volunteer(volunteer: Volunteer) -> list[Certificate]:
    return list(Certificate.select().where(Certificate.volunteer == volunteer.id)
                .order_by(Certificate.created_at.desc(), Certificate.id.desc()))


def lines_of(cert: Certificate) -> list[CertificateLine]:
    return list(CertificateLine.select().where(CertificateLine.certificate == cert.id)
                .order_by(CertificateLine.service_date, CertificateLine.id))


def find_by_token(token: str) -> Certificate | None:
    """The issued (or revoked) certificate of a verification token; pending and rejected applications
    have no token and are never found."""
    t = str(token or "")
    if not t or len(t) > 64:
        return None
    return Certificate.get_or_none((Certificate.token == t) & Certificate.status.in_(["approved", "revoked"]))


def base_url() -> str:
    """The site's public base URL: the kernel's configured PUBLIC_URL, never the request's Host header
    (a forged Host on the approving request would print another site's address into an official
    certificate: SECURITY.md NS3, issue 11 point 8). Without one, a CertificateError (503) saying what
    to configure: approving, batch issuance and printing refuse before anything is written."""
    from core.web import PublicURLMissing, public_url
    try:
        return public_url("")
    except PublicURLMissing as e:
        raise CertificateError(e.message, code=503) from None


def verify_url(cert: Certificate) -> str:
    """The absolute address of the certificate's public verification page (printed as a QR code)."""
    return f"{base_url()}{VERIFY_PATH}{cert.token}"


# ---------------------------------------------------------------- the PDF (附录六, R-CERT-3)
@dataclass
class Document:
    data: bytes
    filename: str
    fallback: str
    full: bool


def may_see_full(user) -> bool:
    return security.can(SENSITIVE, user=user)


def pdf_for(cert: Certificate, user, *, full: bool = False) -> Document:
    """The certificate as a PDF for ``user``.

    - The volunteer themself gets their own approved certificate with the full ID number.
    - Anyone else needs ``certificates.certificate.export`` on the certificate (their team's, AC6); the ID
      number is masked unless ``full`` is asked by a role holding ``volunteers.volunteer.sensitive``
      (PR5). Every download by someone else is audited: ``export``, or ``pii.exported`` with the field
      name when unmasked (AU1: never the value).
    """
    from . import pdf
    url = verify_url(cert)  # before anything is audited: no configured public address, no PDF
    own = (user is not None and getattr(user, "is_authenticated", False)
           and cert.volunteer.user_id == user.id)
    if own:
        if cert.status != "approved":
            raise CertificateError(_l("No such certificate."), code=404)
        show_full = True
        audit.log("certificate.downloaded", cert, {"own": True}, user=user)
    else:
        if cert.status not in ("approved", "revoked"):
            raise CertificateError(_l("Only an issued certificate can be printed."))
        _require("certificates.certificate.export", cert, user)
        if full and not may_see_full(user):
            audit.log("access.denied", cert, {"permission": SENSITIVE, "document": "certificate"}, user=user)
            raise CertificateError(_l("You may not print full ID numbers."), code=403)
        show_full = bool(full)
    seal = seal_bytes(cert.team_id)
    data = pdf.build(cert, lines_of(cert), full_id=show_full, seal=seal, url=url)
    if not own:
        details = {"document": "certificate", "number": cert.number}
        if show_full:
            details["fields"] = ["id_number"]
        audit.log("pii.exported" if show_full else "export", cert, details, user=user)
    name = f"服务时数记录证明_{cert.number}.pdf"
    return Document(data, name, f"certificate_{cert.number}.pdf", show_full)


# ---------------------------------------------------------------- seal images (IV6)
SEAL_TYPES = {"PNG", "JPEG"}


def seal_folder() -> Path:
    p = Path(current_app.config["INSTANCE_PATH"]) / "uploads" / "certificates"
    p.mkdir(parents=True, exist_ok=True)
    return p


def seal_bytes(team_id: int) -> bytes | None:
    issuer = Issuer.get_or_none(Issuer.team == team_id)
    if issuer is None or not issuer.seal_file:
        return None
    path = seal_folder() / issuer.seal_file
    return path.read_bytes() if path.is_file() else None


def clean_seal(data: bytes) -> bytes:
    """A seal image as it is stored: at most ``seal_max_bytes``, PNG or JPEG verified by decoding it with
    Pillow, re-encoded as PNG (drops EXIF and anything appended; keeps transparency) (IV6)."""
    from PIL import Image, UnidentifiedImageError
    limit = setting("seal_max_bytes")
    if len(data) > limit:
        raise CertificateError({"seal": _l("A seal image may be at most %(kb)s KB.", kb=limit // 1024)})
    try:
        img = Image.open(io.BytesIO(data))
        img.verify()
        img = Image.open(io.BytesIO(data))
        fmt = img.format
        if fmt not in SEAL_TYPES:
            raise CertificateError({"seal": _l("The seal must be a PNG or JPEG image.")})
        if img.width * img.height > 16_000_000 or min(img.width, img.height) < 16:
            raise CertificateError({"seal": _l("The seal image must be between 16 and 4000 pixels wide.")})
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise CertificateError({"seal": _l("The seal must be a PNG or JPEG image.")}) from None
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def set_issuer(team: Team, *, handler_name: str | None = None, contact_phone: str | None = None,
               seal: bytes | None = None, remove_seal: bool = False, actor=None) -> Issuer:
    """Save how ``team`` signs its certificates; ``seal`` is the uploaded image's bytes."""
    _require("certificates.issuer.edit", Certificate(team=team.id), actor)
    errors = {}
    hn = (handler_name or "").strip() if handler_name is not None else None
    cp = (contact_phone or "").strip() if contact_phone is not None else None
    if hn is not None and len(hn) > 50:
        errors["handler_name"] = _l("At most %(n)s characters.", n=50)
    if cp is not None and (len(cp) > 30 or any(ch not in "0123456789-+ ()（）转" for ch in cp)):
        errors["contact_phone"] = _l("Enter a telephone number (digits, - and spaces).")
    if errors:
        raise CertificateError(errors)
    stored = clean_seal(seal) if seal else None
    name = ""
    if stored is not None:
        name = secrets.token_hex(16) + ".png"
        (seal_folder() / name).write_bytes(stored)
    with transaction():
        Issuer.insert(team=team.id).on_conflict_ignore().execute()
        row = for_update(Issuer.select().where(Issuer.team == team.id)).get()
        old = row.seal_file
        if hn is not None:
            row.handler_name = hn
        if cp is not None:
            row.contact_phone = cp
        if stored is not None:
            row.seal_file, row.seal_size = name, len(stored)
        elif remove_seal:
            row.seal_file, row.seal_size = "", 0
        row.updated_at, row.updated_by = now(), getattr(actor, "id", None)
        row.save()
        audit.log("certificate.issuer_changed", row, {"seal": bool(row.seal_file),
                                                      "seal_changed": stored is not None or remove_seal},
                  user=actor)
    if old and old != row.seal_file:
        (seal_folder() / old).unlink(missing_ok=True)
    return row


# ---------------------------------------------------------------- checks
def check_numbers() -> tuple[bool, str]:
    """``timebank check``: every issued or revoked certificate has a number and a token, numbers are
    unique, and each year's numbers run 1…N without gaps (LG7)."""
    rows = list(Certificate.select(Certificate.number, Certificate.token, Certificate.status)
                .where(Certificate.status.in_(["approved", "revoked"])).tuples())
    missing = [n for n, t, _s in rows if not n or not t]
    by_year: dict[str, list[int]] = {}
    for n, _t, _s in rows:
        if n:
            digits = n[-10:]
            by_year.setdefault(digits[:4], []).append(int(digits[4:]))
    gaps = [y for y, seq in by_year.items() if sorted(seq) != list(range(1, len(seq) + 1))]
    ok = not missing and not gaps
    return ok, ("%d certificates numbered" % len(rows)) if ok else (
        f"{len(missing)} without number/token; years with gaps or duplicates: {', '.join(sorted(gaps))}")

