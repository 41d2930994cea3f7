"""Insurance for activities (权益保障, R-INC-5; handbook 篇5 一(二)2(1)⑤).

What an activity needs follows from its length (settings): a one-day activity of at least half a day →
one-day accident insurance; longer than a day and shorter than ``insurance_short_term_days`` →
short-term accident insurance; longer still → long-term insurance; shorter than half a day → none
required. The checklist (insured yes/no, policy number, insurer) is kept per activity before it starts;
the insured list (name, ID, dates) is an XLSX for the insurer, masked unless the user may see full ID
numbers (the volunteers plugin's ``volunteers.volunteer.sensitive``), audited either way.
"""
from __future__ import annotations

import datetime as _dt

from flask_babel import lazy_gettext as _l

from core import audit, exports, security
from core.db import TZ, now, transaction
from core.errors import FieldErrors
from core.pii import mask_id
from plugins.activities.models import Activity, SignUp
from plugins.volunteers.models import Volunteer

from .models import InsuranceCheck
from .settings import SETTINGS

KINDS = {"none": _l("No insurance required"),
         "one_day": _l("One-day accident insurance"),
         "short_term": _l("Short-term accident insurance"),
         "long_term": _l("Long-term accident insurance")}


class InsuranceError(FieldErrors):
    """A refused checklist change or export; messages in the user's language; nothing written."""


def _days(a: Activity) -> tuple[float, int]:
    start, end = a.starts_at.astimezone(TZ), a.ends_at.astimezone(TZ)
    hours = (end - start).total_seconds() / 3600
    last = (end - _dt.timedelta(microseconds=1)).date() if end.time() == _dt.time(0) and end > start else end.date()
    return hours, (last - start.date()).days + 1


def required(a: Activity) -> str:
    """The insurance ``a`` needs: none | one_day | short_term | long_term (R-INC-5)."""
    if a.starts_at is None or a.ends_at is None:
        return "none"
    conf = SETTINGS.all()
    hours, days = _days(a)
    if days <= conf["insurance_one_day_days"]:
        return "one_day" if hours >= conf["insurance_half_day_hours"] else "none"
    if days < conf["insurance_short_term_days"]:
        return "short_term"
    return "long_term"


def required_label(a: Activity) -> str:
    return str(KINDS[required(a)])


def check_of(a: Activity) -> InsuranceCheck | None:
    return InsuranceCheck.get_or_none(InsuranceCheck.activity == a.id)


def record_check(a: Activity, data: dict, *, actor) -> InsuranceCheck:
    """Save the checklist of ``a``: insured yes/no, policy number and insurer (required when insured)."""
    if not security.can("incentives.insurance.edit", InsuranceCheck(activity=a.id), user=actor):
        raise InsuranceError(_l("Access denied"))
    insured = str(data.get("insured", "")).lower() in ("1", "true", "on", "yes", "y")
    policy = str(data.get("policy_number", "")).strip()
    insurer = str(data.get("insurer", "")).strip()
    errors = {}
    if len(policy) > 60:
        errors["policy_number"] = _l("At most %(n)s characters.", n=60)
    if len(insurer) > 100:
        errors["insurer"] = _l("At most %(n)s characters.", n=100)
    if insured and not policy:
        errors["policy_number"] = _l("Enter the policy number of the insurance.")
    if insured and not insurer:
        errors["insurer"] = _l("Enter the insurer.")
    if errors:
        raise InsuranceError(errors)
    with transaction():
        InsuranceCheck.insert(activity=a.id, insured=insured, policy_number=policy, insurer=insurer,
                              checked_at=now(), checked_by=getattr(actor, "id", None)).on_conflict(
            conflict_target=[InsuranceCheck.activity],
            update={InsuranceCheck.insured: insured, InsuranceCheck.policy_number: policy,
                    InsuranceCheck.insurer: insurer, InsuranceCheck.checked_at: now(),
                    InsuranceCheck.checked_by: getattr(actor, "id", None)}).execute()
        audit.log("incentives.insurance_checked", a, {"insured": insured, "kind": required(a)}, user=actor)
    return check_of(a)


def insured_people(a: Activity) -> list[Volunteer]:
    """Volunteers with a confirmed place in ``a``: the people to insure."""
    return list(Volunteer.select().where(Volunteer.id.in_(
        SignUp.select(SignUp.volunteer).where((SignUp.activity == a.id) & (SignUp.status == "confirmed"))))
        .order_by(Volunteer.number))


HEADERS = (_l("No."), _l("Full name"), _l("ID type"), _l("ID number"), _l("Insured from"), _l("Insured until"),
           _l("Insurance"))
ID_TYPES = {"cn_id": _l("Resident ID card")}


def may_see_full(user, a: Activity) -> bool:
    return security.can("volunteers.volunteer.sensitive", user=user) and security.can(
        "incentives.insurance.export", InsuranceCheck(activity=a.id), user=user)


def insured_list(a: Activity, *, user, full: bool = False) -> bytes:
    """The insured list of ``a`` as XLSX (core.exports: every cell escaped). ID numbers masked unless
    ``full`` and the user may see them; audited (``pii.exported`` when full, ``export`` otherwise)."""
    if not security.can("incentives.insurance.export", InsuranceCheck(activity=a.id), user=user):
        raise InsuranceError(_l("Access denied"))
    if full and not may_see_full(user, a):
        raise InsuranceError(_l("You may not see full ID numbers."))
    kind = str(KINDS[required(a)])
    start = a.starts_at.astimezone(TZ).date() if a.starts_at else None
    end = a.ends_at.astimezone(TZ).date() if a.ends_at else None
    people = insured_people(a)
    rows = []
    for i, v in enumerate(people, 1):
        number = v.id_number if full else mask_id(v.id_number)
        rows.append([i, v.name, str(ID_TYPES.get(v.id_type, v.id_type)), number, start, end, kind])
    data = exports.xlsx_bytes([str(h) for h in HEADERS], rows, sheet_title=str(_l("Insured list")))
    audit.log("pii.exported" if full else "export", a,
              {"document": "incentives.insured_list", "format": "xlsx", "rows": len(rows), "full": full,
               "fields": ["name", "id_number"]}, user=user)
    return data
