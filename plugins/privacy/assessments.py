"""Personal-information protection impact assessments (个人信息保护影响评估, PIPL 55–56; issue 13 point 8) and
the kept copies of the processing record and of each assessment (PIPL 56: kept at least three years).

- **Cases** come from the plugins' declarations (``contract.Declaration``), never typed by hand: a table
  with a field tagged ``sensitive`` (processing of sensitive data, PIPL 55(1)), a table marked ``public``
  (names and faces on public pages, 55(3)/(5)), a table with ``shared_with`` (entrusted or shared processing,
  55(3)) and, when the ``sms`` plugin is enabled, the volunteers' phone numbers given to the SMS gateway.
  ``generate_drafts()`` opens one draft per case not assessed yet, with the purpose from the declaration and
  the usual risks and measures of the case filled in for staff to complete.
- **An assessment** (``privacy_impact_assessment``): purpose, risks, measures, conclusion, who completed it
  and when. ``save(a, data, actor, complete=)``: all four texts are required to complete; audited.
- **Kept copies** (``privacy_record_snapshot``): on every change of an assessment, and whenever the
  processing record generated from the declarations differs from its last copy (checked when the page is
  viewed and nightly, task ``privacy.record_snapshot``), a dated JSON copy with its SHA-256 is stored, kept
  ``record_keep_years`` (default 3) years. ``delete_snapshot`` refuses before that date; ``purge_snapshots``
  (nightly) removes only copies past it.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json

import peewee as pw
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import BaseModel, DateTimeTZField, now, transaction
from core.errors import FieldErrors
from core.models import User
from core.settings import PluginSettings

SETTINGS = PluginSettings(__file__)
PERMISSION = "privacy.assessment.edit"
CASES = {"sensitive": _l("Processing of sensitive personal data (PIPL 55(1))"),
         "public": _l("Public disclosure of names or faces (PIPL 55(5))"),
         "entrusted": _l("Entrusted or shared processing (PIPL 55(3))")}
RISKS = {"sensitive": _l("Leak or misuse of sensitive data harming the person's dignity, safety or property; "
                         "discrimination."),
         "public": _l("A person identified, located or contacted through a public page without wanting it; "
                      "photos of service recipients shown without consent."),
         "entrusted": _l("The receiving party keeps, reuses or leaks the data beyond the agreed purpose.")}
MEASURES = {"sensitive": _l("Separate consent; encrypted at rest and masked on screen; access by permission, "
                            "audited; erased on withdrawal or erasure."),
            "public": _l("Consent for photos and publicity recorded; faces of people without consent blurred; "
                         "no phone or ID number on public pages; withdrawal takes effect at once."),
            "entrusted": _l("Written agreement with the purpose, the period and deletion; only the needed "
                            "fields are passed; consent for sharing recorded.")}
TEXTS = ("purpose", "risks", "measures", "conclusion")
MAX_TEXT = 4000


class ImpactAssessment(BaseModel):
    """One assessment of one case (``case`` × plugin × table): a draft generated from the declarations,
    completed by staff (who, when)."""
    case = pw.CharField(max_length=16)
    plugin = pw.CharField(max_length=64)
    table = pw.CharField(max_length=64)
    purpose = pw.TextField(default="")
    risks = pw.TextField(default="")
    measures = pw.TextField(default="")
    conclusion = pw.TextField(default="")
    status = pw.CharField(max_length=12, default="draft", index=True)     # draft | completed
    completed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    completed_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "privacy_impact_assessment"
        indexes = ((("case", "plugin", "table"), True),)


class RecordSnapshot(BaseModel):
    """A dated copy of the processing record (``kind`` ``record``) or of one assessment (``assessment``,
    ``object_id`` its id), as JSON with its SHA-256; never deleted before ``keep_until``."""
    kind = pw.CharField(max_length=12, index=True)
    object_id = pw.CharField(max_length=32, default="")
    taken_at = DateTimeTZField(default=now, index=True)
    content = pw.TextField()
    sha256 = pw.CharField(max_length=64)
    keep_until = DateTimeTZField(index=True)
    taken_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "privacy_record_snapshot"


# ------------------------------------------------------------------------------------ cases and drafts
def cases() -> list[dict]:
    """Every case the declarations call for: {case, plugin, table, purpose}."""
    from flask import current_app
    from . import services
    out = []
    for d in services.declarations():
        table = d.model._meta.table_name
        if "sensitive" in d.fields.values():
            out.append({"case": "sensitive", "plugin": d.plugin, "table": table, "purpose": str(d.purpose)})
        if d.public or "public" in d.fields.values():
            out.append({"case": "public", "plugin": d.plugin, "table": table, "purpose": str(d.purpose)})
        if d.shared_with:
            out.append({"case": "entrusted", "plugin": d.plugin, "table": table,
                        "purpose": f"{d.purpose}（{d.shared_with}）"})
    if "sms" in current_app.extensions["timebank"].loaded:
        out.append({"case": "entrusted", "plugin": "sms", "table": "volunteers_volunteer",
                    "purpose": str(_l("Text messages to volunteers through the SMS gateway (their phone numbers)"))})
    return out


def generate_drafts(actor=None) -> int:
    """A draft for each case not assessed yet (purpose from the declaration, the case's usual risks and
    measures); returns how many were opened. Audited, and each draft's first copy is kept."""
    opened = 0
    with transaction():
        have = {(a.case, a.plugin, a.table) for a in ImpactAssessment.select(
            ImpactAssessment.case, ImpactAssessment.plugin, ImpactAssessment.table)}
        for c in cases():
            if (c["case"], c["plugin"], c["table"]) in have:
                continue
            have.add((c["case"], c["plugin"], c["table"]))
            a = ImpactAssessment.create(case=c["case"], plugin=c["plugin"], table=c["table"],
                                        purpose=c["purpose"][:MAX_TEXT], risks=str(RISKS[c["case"]]),
                                        measures=str(MEASURES[c["case"]]))
            _keep_assessment(a, actor)
            opened += 1
        if opened:
            audit.log("privacy.assessment.drafted", ("privacy_impact_assessment", ""), {"opened": opened},
                      user=actor)
    return opened


def save(a: ImpactAssessment, data: dict, actor, *, complete: bool = False) -> ImpactAssessment:
    """Staff edit an assessment; ``complete`` needs all four texts (purpose, risks, measures,
    conclusion) and records who and when. Bad input: errors per field, nothing written. Audited; a copy is
    kept."""
    from core import security
    if not security.can(PERMISSION, user=actor):
        audit.log("access.denied", a, {"permission": PERMISSION}, user=actor)
        raise FieldErrors(_l("You may not take this step."))
    values, errors = {}, {}
    for f in TEXTS:
        v = str(data.get(f, getattr(a, f)) or "").strip()
        if len(v) > MAX_TEXT:
            errors[f] = _l("At most %(n)s characters.", n=MAX_TEXT)
        elif complete and not v:
            errors[f] = _l("Required to complete the assessment.")
        values[f] = v
    if errors:
        raise FieldErrors(errors)
    with transaction():
        changed = {f: v for f, v in values.items() if v != getattr(a, f)}
        values["updated_at"] = now()
        if complete:
            values.update(status="completed", completed_by=actor.id, completed_at=now())
        ImpactAssessment.update(values).where(ImpactAssessment.id == a.id).execute()
        a = ImpactAssessment.get_by_id(a.id)
        audit.log("privacy.assessment.completed" if complete else "privacy.assessment.saved", a,
                  {"fields": sorted(changed)}, user=actor)
        _keep_assessment(a, actor)
    return a


# ------------------------------------------------------------------------------------ kept copies
def _keep_years():
    return int(SETTINGS.get("record_keep_years"))


def _store(kind, object_id, payload, actor=None) -> RecordSnapshot:
    content = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    taken = now()
    keep = taken.replace(year=taken.year + _keep_years()) if not (taken.month == 2 and taken.day == 29) \
        else taken.replace(year=taken.year + _keep_years(), day=28)
    return RecordSnapshot.create(kind=kind, object_id=str(object_id), taken_at=taken, content=content,
                                 sha256=hashlib.sha256(content.encode()).hexdigest(), keep_until=keep,
                                 taken_by=getattr(actor, "id", None))


def _keep_assessment(a: ImpactAssessment, actor=None):
    who = User.get_or_none(User.id == a.completed_by_id) if a.completed_by_id else None
    _store("assessment", a.id, {
        "case": a.case, "case_label": str(CASES.get(a.case, a.case)), "plugin": a.plugin, "table": a.table,
        **{f: getattr(a, f) for f in TEXTS}, "status": a.status,
        "completed_by": (who.display_name or who.username) if who else "", "completed_at": a.completed_at}, actor)


def record_payload() -> dict:
    """The processing record as it is generated now, in Chinese (the language it is kept in)."""
    from flask_babel import force_locale
    from . import services
    with force_locale("zh_Hans_CN"):
        return {"headers": [str(h) for h in services.RECORD_HEADERS], "rows": services.processing_record()}


def keep_record(actor=None) -> RecordSnapshot | None:
    """Store a copy of the processing record when it differs from the last copy (a plugin enabled, a
    declaration changed); returns the new copy or None."""
    payload = record_payload()
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
                            .encode()).hexdigest()
    last = (RecordSnapshot.select().where(RecordSnapshot.kind == "record")
            .order_by(RecordSnapshot.taken_at.desc(), RecordSnapshot.id.desc()).first())
    if last is not None and last.sha256 == digest:
        return None
    with transaction():
        snap = _store("record", "", payload, actor)
        audit.log("privacy.record_kept", snap, {"sha256": digest}, user=actor)
    return snap


def snapshots(kind=None, object_id=None):
    q = RecordSnapshot.select().order_by(RecordSnapshot.taken_at.desc(), RecordSnapshot.id.desc())
    if kind:
        q = q.where(RecordSnapshot.kind == kind)
    if object_id is not None:
        q = q.where(RecordSnapshot.object_id == str(object_id))
    return q


def delete_snapshot(snap: RecordSnapshot, actor=None, at: _dt.datetime | None = None):
    """Remove a kept copy: refused before its ``keep_until`` (PIPL 56: kept at least three years)."""
    at = at or now()
    if snap.keep_until > at:
        raise FieldErrors({"keep_until": _l("This copy must be kept until %(day)s.",
                                            day=f"{snap.keep_until:%Y-%m-%d}")})
    with transaction():
        audit.log("privacy.record_copy_deleted", snap, {"taken_at": str(snap.taken_at)}, user=actor)
        RecordSnapshot.delete().where(RecordSnapshot.id == snap.id).execute()


def purge_snapshots(at: _dt.datetime | None = None) -> int:
    """Nightly: copies past their ``keep_until`` are deleted (the newest copy of the record is always
    kept); returns how many."""
    at = at or now()
    newest = (RecordSnapshot.select(RecordSnapshot.id).where(RecordSnapshot.kind == "record")
              .order_by(RecordSnapshot.taken_at.desc(), RecordSnapshot.id.desc()).first())
    q = RecordSnapshot.delete().where(RecordSnapshot.keep_until <= at)
    if newest is not None:
        q = q.where(RecordSnapshot.id != newest.id)
    n = q.execute()
    if n:
        audit.log("privacy.record_copies_purged", ("privacy_record_snapshot", ""), {"deleted": n})
    return n


def nightly() -> int:
    keep_record()
    return purge_snapshots()
