"""Retention (R-PRIV-5, issue 13 point 7): a schedule per data kind (one labelled setting each), a nightly
job that lists what is past its date as a ``RetentionItem``, a reviewer who confirms destruction or keeps it
longer with a reason (``core.workflow``), and the item itself as the destruction record. Nothing personal
is kept past its date without a recorded reason: ``kept_without_reason()`` lists what is past its date and
neither destroyed, nor waiting for review, nor kept with a reason.

Each kind names its setting (days), the rows past their date (``due(cutoff)`` → ids), a short description
of a row that names no person, and how a row is destroyed."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Callable

import peewee as pw
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import BaseModel, DateTimeTZField, now, transaction
from core.models import User
from core.settings import PluginSettings
from core.workflow import Step, Workflow

SETTINGS = PluginSettings(__file__)
REVIEW_PERMISSION = "privacy.retention.review"


class RetentionItem(BaseModel):
    """One row of personal data past its retention date: waiting for review (``due``), kept longer with a
    reason until ``kept_until`` (``extended``), or destroyed (``destroyed``: the destruction record)."""
    kind = pw.CharField(max_length=40, index=True)
    object_type = pw.CharField(max_length=64)
    object_id = pw.CharField(max_length=64)
    summary = pw.CharField(max_length=200, default="")      # names no person
    expired_at = DateTimeTZField()                          # when the row passed its retention date
    status = pw.CharField(max_length=16, default="due", index=True)
    due_at = DateTimeTZField(null=True)                     # the reviewer's due time (working days)
    kept_until = DateTimeTZField(null=True)
    reason = pw.CharField(max_length=500, default="")
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "privacy_retention_item"
        indexes = ((("kind", "object_type", "object_id"), True),)


REVIEW = Workflow(
    "privacy.retention", RetentionItem,
    states={"due": _l("Past its retention date"), "extended": _l("Kept longer with a reason"),
            "destroyed": _l("Destroyed")},
    steps=[Step("destroy", "due", "destroyed", REVIEW_PERMISSION, _l("Confirm destruction")),
           Step("extend", "due", "extended", REVIEW_PERMISSION, _l("Keep longer"), reason=True),
           Step("reopen", "extended", "due", REVIEW_PERMISSION, _l("Review again"))],
    due={"due": lambda: SETTINGS.get("retention_review_workdays")},
)


@dataclass(frozen=True)
class Kind:
    key: str
    label: object
    setting: str                                   # days to keep, a privacy setting
    due: Callable[[_dt.datetime], list]            # cutoff -> [(object_type, object_id, expired_at, summary)]
    destroy: Callable[[str], None]                 # object_id -> removes the row (idempotent)


# ------------------------------------------------------------------------------------ the kinds
def _messages_due(cutoff):
    from core.models import Message
    q = Message.select(Message.id, Message.created_at).where(Message.created_at < cutoff).order_by(Message.id)
    return [("core_message", str(m.id), m.created_at, f"#{m.id} {m.created_at:%Y-%m-%d}") for m in q]


def _messages_destroy(oid):
    from core.models import Message
    Message.delete().where(Message.id == int(oid)).execute()


def _sessions_due(cutoff):
    from core.models import LoginSession
    q = (LoginSession.select(LoginSession.id, LoginSession.last_seen_at)
         .where(LoginSession.last_seen_at < cutoff).order_by(LoginSession.id))
    return [("core_login_session", str(s.id), s.last_seen_at, f"#{s.id} {s.last_seen_at:%Y-%m-%d}") for s in q]


def _sessions_destroy(oid):
    from core.models import LoginSession
    LoginSession.delete().where(LoginSession.id == int(oid)).execute()


def _photos_due(cutoff):
    try:
        from plugins.activities.models import Photo
    except ImportError:
        return []
    if not Photo.table_exists():
        return []
    q = Photo.select(Photo.id, Photo.uploaded_at).where(Photo.uploaded_at < cutoff).order_by(Photo.id)
    return [("activities_photo", str(p.id), p.uploaded_at, f"#{p.id} {p.uploaded_at:%Y-%m-%d}") for p in q]


def _photos_destroy(oid):
    from core.db import after_commit
    from plugins.activities import photos
    from plugins.activities.models import Photo
    p = Photo.get_or_none(Photo.id == int(oid))
    if p is None:
        return
    paths = photos.files_of(p)   # the original and, for a photo showing recipients, its blurred copy (R-PRIV-3)
    p.delete_instance(recursive=True)
    after_commit(lambda: [path.unlink(missing_ok=True) for path in paths])


def _signups_due(cutoff):
    """Sign-ups (with their check-in and check-out times) that never became a service record, counted
    from the end of their shift: they carry no hours the books must keep. A sign-up with a service record
    is kept with the record (the hours) and leaves with the volunteer's erasure."""
    try:
        from plugins.activities.models import ServiceRecord, Shift, SignUp
    except ImportError:
        return []
    has_record = ServiceRecord.select(ServiceRecord.signup).where(ServiceRecord.signup == SignUp.id)
    q = (SignUp.select(SignUp.id, Shift.ends_at).join(Shift)
         .where((Shift.ends_at < cutoff) & ~pw.fn.EXISTS(has_record)).order_by(SignUp.id))
    return [("activities_signup", str(s.id), s.shift.ends_at, f"#{s.id} {s.shift.ends_at:%Y-%m-%d}")
            for s in q]


def _signups_destroy(oid):
    from plugins.activities.models import ServiceRecord, SignUp
    s = SignUp.get_or_none(SignUp.id == int(oid))
    if s is None or ServiceRecord.select().where(ServiceRecord.signup == s.id).exists():
        return                                       # became a record meanwhile: the books keep it
    SignUp.update(mentor=None).where(SignUp.mentor == s.id).execute()
    s.delete_instance()


KINDS: dict[str, Kind] = {k.key: k for k in [
    Kind("inbox_messages", _l("Inbox messages"), "retention_days_inbox", _messages_due, _messages_destroy),
    Kind("login_sessions", _l("Logins (address and browser)"), "retention_days_sessions", _sessions_due,
         _sessions_destroy),
    Kind("activity_photos", _l("Activity photos"), "retention_days_photos", _photos_due, _photos_destroy),
    Kind("activity_signups", _l("Sign-ups and check-ins without a service record"),
         "retention_days_signups", _signups_due, _signups_destroy),
]}


def schedule() -> list[dict]:
    """The retention schedule as shown on the admin page: kind, label, days."""
    return [{"key": k.key, "label": k.label, "days": SETTINGS.get(k.setting)} for k in KINDS.values()]


def _enabled_kinds():
    from core.db import db
    tables = set(db.obj.get_tables())
    need = {"inbox_messages": "core_message", "login_sessions": "core_login_session",
            "activity_photos": "activities_photo", "activity_signups": "activities_service_record"}
    return [k for k in KINDS.values() if need.get(k.key, "") in tables]


# ------------------------------------------------------------------------------------ the nightly job
def scan(at: _dt.datetime | None = None) -> int:
    """List every row past its date as a ``RetentionItem`` waiting for review (once per row); an item kept
    longer whose ``kept_until`` has passed goes back for review. Returns how many items were opened.
    ``at`` moves the clock (tests, a catch-up run)."""
    at = at or now()
    opened = 0
    with transaction():
        for k in _enabled_kinds():
            cutoff = at - _dt.timedelta(days=int(SETTINGS.get(k.setting)))
            known = {r.object_id for r in RetentionItem.select(RetentionItem.object_id)
                     .where(RetentionItem.kind == k.key)}
            for otype, oid, created, summary in k.due(cutoff):
                if oid in known:
                    continue
                expired = created + _dt.timedelta(days=int(SETTINGS.get(k.setting)))
                RetentionItem.create(kind=k.key, object_type=otype, object_id=oid, summary=summary[:200],
                                     expired_at=expired, status="due", due_at=REVIEW.due_at("due", at))
                opened += 1
        back = list(RetentionItem.select().where((RetentionItem.status == "extended") &
                                                 (RetentionItem.kept_until < at)))
    for item in back:
        REVIEW.move(item, "reopen", reason="kept_until passed")
    if opened or back:
        audit.log("privacy.retention_scanned", ("privacy_retention_item", ""),
                  {"opened": opened, "reopened": len(back)})
    return opened


def nightly() -> int:
    return scan()


# ------------------------------------------------------------------------------------ the reviewer
def destroy(item: RetentionItem, actor) -> RetentionItem:
    """Confirm destruction: the row is removed and the item stays as the destruction record, in one
    transaction with the step's audit row."""
    with transaction():
        item = REVIEW.move(item, "destroy", actor=actor,
                           values={"decided_by": actor.id, "decided_at": now(), "reason": ""})
        KINDS[item.kind].destroy(item.object_id)
    return item


def extend(item: RetentionItem, actor, reason: str, until) -> RetentionItem:
    """Keep the row longer: a reason and a date (``YYYY-MM-DD``, after today) are required."""
    from core.errors import FieldErrors
    from core.inputs import parse_date
    errors = {}
    day = None
    try:
        day = parse_date(until, field="kept_until")
    except FieldErrors as e:
        errors.update(e.errors)
    if day is not None and day <= now().date():
        errors["kept_until"] = _l("The date must be after today.")
    if not " ".join(str(reason or "").split()):
        errors["reason"] = _l("Give a reason.")
    if errors:
        raise FieldErrors(errors)
    from core.db import TZ
    kept = _dt.datetime.combine(day, _dt.time(23, 59, 59), TZ)
    return REVIEW.move(item, "extend", actor=actor, reason=reason,
                       values={"decided_by": actor.id, "decided_at": now(), "kept_until": kept,
                               "reason": " ".join(str(reason).split())[:500]})


def kept_without_reason(at: _dt.datetime | None = None) -> list[tuple[str, str]]:
    """Rows past their date that are neither waiting for review nor kept with a reason (R-PRIV-5): should
    be empty after each nightly scan. (kind, object_id) pairs."""
    at = at or now()
    out = []
    for k in _enabled_kinds():
        cutoff = at - _dt.timedelta(days=int(SETTINGS.get(k.setting)))
        covered = {r.object_id for r in RetentionItem.select(RetentionItem.object_id).where(
            (RetentionItem.kind == k.key) & (RetentionItem.status.in_(["due", "extended"])))}
        out += [(k.key, oid) for _t, oid, _c, _s in k.due(cutoff) if oid not in covered]
    return out
