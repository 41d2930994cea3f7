"""The consent register (issue 13 point 3; RULES R-PRIV-1/3/6, SECURITY PR3/PR4; PIPL 14–16).

Purposes are data (``privacy_purpose``: loaded as reference data, extendable by the platform admin), each
consent a row (``privacy_consent``) with the notice version shown, the time given and the time withdrawn,
for one data subject (``subject_kind`` volunteer | recipient | user, ``subject_id``).

The volunteers plugin keeps its own four consents on the volunteer record (service agreement, sensitive-data
consent, Party-member pledge, guardian consent). They are *reflected* here, read live from that record
(``VOLUNTEER_PURPOSES``), so its registration flows are untouched and the register can never disagree with
them; withdrawing the sensitive-data consent goes through the volunteers plugin's public
``withdraw_sensitive_consent``.

Public API for other plugins (call it before acting — e.g. no birthday greeting without it)::

    from plugins.privacy.consents import consented
    if consented(volunteer, "birthday"):       # a Volunteer, a contract.Subject, or ("volunteer", id)
        ...

``consented`` is False for an unknown or inactive purpose, and for a subject who never consented or has
withdrawn. ``give(subject, purpose, actor)`` and ``withdraw(subject, purpose, actor)`` change the register at
once, in one transaction, audited ``consent.given`` / ``consent.withdrawn`` on the subject's record.
"""
from __future__ import annotations

import peewee as pw
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import BaseModel, DateTimeTZField, now, transaction
from core.errors import FieldErrors

SUBJECT_KINDS = ("volunteer", "recipient", "user")


class ConsentError(FieldErrors):
    """A refused consent change; messages in the user's language; nothing is written."""


class Purpose(BaseModel):
    """One purpose a person may consent to. ``source`` ``register``: consents are rows of
    ``privacy_consent``; ``volunteers``: read from the volunteer record (VOLUNTEER_PURPOSES)."""
    code = pw.CharField(max_length=40, unique=True)
    name = pw.CharField(max_length=100)
    description = pw.TextField(default="")
    notice_version = pw.CharField(max_length=20, default="1")
    subject_kind = pw.CharField(max_length=10, default="volunteer")
    withdrawable = pw.BooleanField(default=True)
    source = pw.CharField(max_length=12, default="register")
    active = pw.BooleanField(default=True)
    sort = pw.IntegerField(default=100)

    class Meta:
        table_name = "privacy_purpose"

    def __str__(self):
        return self.name


class Consent(BaseModel):
    """One consent of one subject to one purpose: given (with the notice version shown) and, later,
    withdrawn. A new consent after a withdrawal is a new row (the history stays)."""
    PERSONAL_FIELDS = ("subject_id",)
    purpose = pw.ForeignKeyField(Purpose, backref="consents", on_delete="RESTRICT")
    subject_kind = pw.CharField(max_length=10, default="volunteer")
    subject_id = pw.IntegerField(index=True)
    notice_version = pw.CharField(max_length=20)
    given_at = DateTimeTZField(default=now)
    given_by = pw.IntegerField(null=True)        # the account that recorded it (the person, or staff)
    withdrawn_at = DateTimeTZField(null=True, index=True)
    withdrawn_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "privacy_consent"
        indexes = ((("subject_kind", "subject_id", "purpose"), False),)


# Reference data (name and description in English msgids; stored translated at load time would freeze
# the language, so the code's label is shown when the name is the default one).
DEFAULT_PURPOSES = [
    # code, name, description, withdrawable, source, sort
    ("registration", _l("Registration and service agreement"),
     _l("Your registration data, used to arrange and record your volunteer service."), False, "volunteers", 10),
    ("sensitive", _l("Sensitive personal data"),
     _l("Political status, religion and in-service Party membership, used only to organise Party-member "
        "service."), True, "volunteers", 20),
    ("party_pledge", _l("Party-member volunteer pledge"),
     _l("Your signed pledge as a Party-member volunteer."), False, "volunteers", 30),
    ("guardian", _l("Guardian's consent"),
     _l("A guardian's consent for a volunteer under 16."), False, "volunteers", 40),
    ("photos", _l("Photos and publicity of name and face"),
     _l("Photos showing you and your name may be published in activity reports and on public pages."),
     True, "register", 50),
    ("birthday", _l("Birthday greetings"),
     _l("Your birth date is used to send you a birthday greeting."), True, "register", 60),
    ("partner_sharing", _l("Data shared with a partner"),
     _l("Your name and contact are given to a partner organisation that runs a joint activity."),
     True, "register", 70),
    # service recipients (R-PRIV-6; the recipients plugin records these for the person or their guardian)
    ("recipient_registration", _l("Recipient's registration"),
     _l("Your (or your ward's) data is kept to arrange and record the services you receive; you were told "
        "why it is collected."), True, "register", 80, "recipient"),
    ("recipient_referral", _l("Referral to another body"),
     _l("Your file may be given to another body (e.g. a social work station) that will serve you."),
     True, "register", 90, "recipient"),
    # a service recipient's consent to activity photos showing their face unblurred (R-PRIV-3)
    ("recipient_photos", _l("Photos of a service recipient published unblurred"),
     _l("Activity photos showing the recipient may be published on public pages without blurring the face."),
     True, "register", 100, "recipient"),
]
# R-PRIV-3: the purpose whose consent lets a photo showing a recipient be published unblurred
RECIPIENT_PHOTOS = "recipient_photos"
DEFAULT_LABELS = {code: name for code, name, *_ in DEFAULT_PURPOSES}


def _msgid(lazy) -> str:
    return lazy._args[0] if hasattr(lazy, "_args") else str(lazy)


def purpose_label(p: Purpose) -> str:
    """The purpose's name in the user's language (a shipped purpose not renamed by the admin is
    translated; an admin's own purpose shows its name as entered)."""
    d = DEFAULT_LABELS.get(p.code)
    return str(d) if d is not None and p.name == _msgid(d) else p.name


DEFAULT_DESCRIPTIONS = {code: desc for code, _name, desc, *_ in DEFAULT_PURPOSES}


def purpose_description(p: Purpose) -> str:
    """The purpose's description in the user's language (as ``purpose_label``)."""
    d = DEFAULT_DESCRIPTIONS.get(p.code)
    return str(d) if d is not None and p.description == _msgid(d) else p.description


def load_purposes():
    """Create the shipped purposes that are missing (idempotent; the admin's edits are kept)."""
    for code, name, desc, withdrawable, source, sort, *kind in DEFAULT_PURPOSES:
        if not Purpose.select().where(Purpose.code == code).exists():
            Purpose.create(code=code, name=_msgid(name), description=_msgid(desc),
                           withdrawable=withdrawable, source=source, sort=sort,
                           subject_kind=kind[0] if kind else "volunteer")


# --------------------------------------------------------------------------------- subjects
def _volunteers_loaded() -> bool:
    try:
        return "volunteers" in current_app.extensions["timebank"].loaded
    except (RuntimeError, KeyError):
        return False


def subject_key(subject) -> tuple[str, int]:
    """(kind, id) of a Volunteer, a contract.Subject or a (kind, id) pair; ConsentError otherwise."""
    if isinstance(subject, tuple) and len(subject) == 2:
        kind, sid = subject
    elif getattr(subject, "kind", None) in SUBJECT_KINDS and hasattr(subject, "volunteer_id"):
        kind = subject.kind
        sid = {"volunteer": subject.volunteer_id, "recipient": subject.recipient_id,
               "user": subject.user_id}[kind]
    elif type(subject).__name__ == "Volunteer":
        kind, sid = "volunteer", subject.id
    else:
        raise ConsentError(_l("Unknown data subject."))
    if kind not in SUBJECT_KINDS or not isinstance(sid, int) or isinstance(sid, bool) or sid <= 0:
        raise ConsentError(_l("Unknown data subject."))
    return kind, sid


def _purpose(code) -> Purpose | None:
    if isinstance(code, Purpose):
        return code
    return Purpose.get_or_none(Purpose.code == str(code or "")[:40])


def _volunteer_state(vid: int) -> dict:
    """The volunteers plugin's four consents of one volunteer: code → (given_at, version) or None."""
    from plugins.volunteers.models import Volunteer
    v = Volunteer.get_or_none(Volunteer.id == vid)
    if v is None or v.status == "erased":
        return {}
    return {"registration": (v.agreement_accepted_at, v.agreement_version) if v.agreement_accepted_at else None,
            "sensitive": (v.sensitive_consent_at, v.sensitive_consent_version) if v.sensitive_consent_at else None,
            "party_pledge": (v.pledge_accepted_at, "") if v.pledge_accepted_at else None,
            "guardian": (v.guardian_consent_at, "") if v.guardian_consent_at else None}


def _current(kind: str, sid: int, purpose: Purpose):
    return (Consent.select().where((Consent.subject_kind == kind) & (Consent.subject_id == sid)
                                   & (Consent.purpose == purpose.id) & Consent.withdrawn_at.is_null())
            .order_by(Consent.id.desc()).first())


# --------------------------------------------------------------------------------- public API
def consented(subject, purpose) -> bool:
    """Has ``subject`` a standing consent to ``purpose`` (a code or a Purpose)? Ask before acting."""
    try:
        kind, sid = subject_key(subject)
    except ConsentError:
        return False
    p = _purpose(purpose)
    if p is None or not p.active:
        return False
    if p.source == "volunteers":
        if kind != "volunteer" or not _volunteers_loaded():
            return False
        return bool(_volunteer_state(sid).get(p.code))
    return _current(kind, sid, p) is not None


def consents_of(subject) -> list[dict]:
    """Every active purpose for the subject's kind with its state: dicts with ``purpose``, ``label``,
    ``given`` (bool), ``given_at``, ``version``, ``withdrawable``, plus the withdrawn history."""
    kind, sid = subject_key(subject)
    vol = _volunteer_state(sid) if kind == "volunteer" and _volunteers_loaded() else {}
    out = []
    for p in Purpose.select().where(Purpose.active & (Purpose.subject_kind == kind)).order_by(Purpose.sort, Purpose.id):
        if p.source == "volunteers":
            if kind != "volunteer" or not _volunteers_loaded():
                continue
            st = vol.get(p.code)
            if st is None and p.code in ("party_pledge", "guardian"):
                continue   # not applicable to this person: not shown
            out.append({"purpose": p, "label": purpose_label(p), "given": st is not None,
                        "given_at": st[0] if st else None, "version": st[1] if st else "",
                        "withdrawable": p.withdrawable and st is not None})
        else:
            c = _current(kind, sid, p)
            out.append({"purpose": p, "label": purpose_label(p), "given": c is not None,
                        "given_at": c.given_at if c else None, "version": c.notice_version if c else p.notice_version,
                        "withdrawable": p.withdrawable and c is not None})
    return out


def history_of(subject) -> list[Consent]:
    kind, sid = subject_key(subject)
    return list(Consent.select(Consent, Purpose).join(Purpose)
                .where((Consent.subject_kind == kind) & (Consent.subject_id == sid)).order_by(Consent.id))


def _audit_obj(kind: str, sid: int):
    return ("volunteers_volunteer", sid) if kind == "volunteer" else (f"privacy_{kind}", sid)


def give(subject, purpose, *, actor=None) -> Consent:
    """Record a consent to ``purpose`` with its current notice version; audited ``consent.given``.
    Giving a consent already standing changes nothing and returns it."""
    kind, sid = subject_key(subject)
    p = _purpose(purpose)
    if p is None or not p.active:
        raise ConsentError({"purpose": _l("Unknown purpose.")})
    if p.source != "register":
        raise ConsentError({"purpose": _l("This consent is given when registering.")})
    if p.subject_kind != kind:
        raise ConsentError({"purpose": _l("This purpose does not apply to this person.")})
    with transaction():
        c = _current(kind, sid, p)
        if c is not None:
            return c
        c = Consent.create(purpose=p.id, subject_kind=kind, subject_id=sid, notice_version=p.notice_version,
                           given_at=now(), given_by=getattr(actor, "id", None))
        audit.log("consent.given", _audit_obj(kind, sid), {"consent": p.code, "version": p.notice_version},
                  user=actor)
    return c


def withdraw(subject, purpose, *, actor=None) -> bool:
    """Withdraw a consent at once (PIPL 15); audited ``consent.withdrawn``. The sensitive-data consent
    goes through the volunteers plugin (which erases that data). Returns True when something changed."""
    kind, sid = subject_key(subject)
    p = _purpose(purpose)
    if p is None:
        raise ConsentError({"purpose": _l("Unknown purpose.")})
    if not p.withdrawable:
        raise ConsentError({"purpose": _l("This consent cannot be withdrawn on its own; ask for deletion "
                                          "of your data instead.")})
    if p.source == "volunteers":
        if p.code != "sensitive" or kind != "volunteer" or not _volunteers_loaded():
            raise ConsentError({"purpose": _l("This consent cannot be withdrawn here.")})
        from plugins.volunteers import services as V
        from plugins.volunteers.models import Volunteer
        v = Volunteer.get_or_none(Volunteer.id == sid)
        if v is None or v.sensitive_consent_at is None:
            return False
        V.withdraw_sensitive_consent(v)   # audited consent.withdrawn by the volunteers plugin
        return True
    with transaction():
        c = _current(kind, sid, p)
        if c is None:
            return False
        Consent.update(withdrawn_at=now(), withdrawn_by=getattr(actor, "id", None)).where(
            Consent.id == c.id).execute()
        audit.log("consent.withdrawn", _audit_obj(kind, sid), {"consent": p.code}, user=actor)
    return True


def clean_purpose(data: dict) -> dict:
    """The platform admin's new purpose: a code of lower-case letters, digits and _; a name; errors in
    the user's language."""
    import re
    errors, out = {}, {}
    code = str(data.get("code") or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        errors["code"] = _l("Use 2–40 lower-case letters, digits or _, starting with a letter.")
    elif Purpose.select().where(Purpose.code == code).exists():
        errors["code"] = _l("This code is already used.")
    name = " ".join(str(data.get("name") or "").split())
    if not name or len(name) > 100:
        errors["name"] = _l("Give a name of at most 100 characters.")
    kind = str(data.get("subject_kind") or "volunteer")
    if kind not in SUBJECT_KINDS:
        errors["subject_kind"] = _l("Unknown data subject.")
    version = str(data.get("notice_version") or "1").strip()
    if not version or len(version) > 20:
        errors["notice_version"] = _l("Give a notice version of at most 20 characters.")
    if errors:
        raise ConsentError(errors)
    out.update(code=code, name=name, subject_kind=kind, notice_version=version,
               description=str(data.get("description") or "")[:2000], source="register", withdrawable=True)
    return out
