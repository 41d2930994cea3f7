"""The volunteer's performance evaluation (绩效评价, R-INC-6; R-NAT-1: evaluations belong to the record).

For a period: confirmed service hours, confirmed sign-ups for activities that ended in the period and how
many of them brought no confirmed hours (no-shows), the average overall score (0–10) of the feedback forms
(套表2) of the activities the volunteer served in, where any exist; a grade proposed from settings
(excellent / good / pass / to improve), which staff may change, and a staff comment. Publishing it tells the
volunteer (inbox) and shows it on their page.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, messages, security
from core.db import TZ, now, transaction
from core.errors import FieldErrors
from core.models import User
from plugins.activities.models import Activity, Feedback, ServiceRecord, SignUp
from plugins.volunteers.models import Volunteer

from .models import Evaluation
from .settings import SETTINGS

GRADES = {"excellent": _l("Excellent"), "good": _l("Good"), "pass": _l("Pass"), "improve": _l("To improve")}


class EvaluationError(FieldErrors):
    pass


def _bounds(start: _dt.date, end: _dt.date):
    lo = _dt.datetime.combine(start, _dt.time(0), TZ)
    hi = _dt.datetime.combine(end + _dt.timedelta(days=1), _dt.time(0), TZ)
    return lo, hi


def figures(volunteer_id: int, start: _dt.date, end: _dt.date) -> dict:
    minutes = ServiceRecord.select(pw.fn.COALESCE(pw.fn.SUM(ServiceRecord.minutes), 0)).where(
        (ServiceRecord.volunteer == volunteer_id) & (ServiceRecord.kind == "service")
        & (ServiceRecord.service_date >= start) & (ServiceRecord.service_date <= end)).scalar() or 0
    lo, hi = _bounds(start, end)
    ended = (SignUp.select(SignUp.id, ServiceRecord.minutes).join(Activity, on=(SignUp.activity == Activity.id))
             .switch(SignUp).join(ServiceRecord, pw.JOIN.LEFT_OUTER, on=(ServiceRecord.signup == SignUp.id))
             .where((SignUp.volunteer == volunteer_id) & (SignUp.status == "confirmed")
                    & (Activity.kind == "service") & (Activity.ends_at >= lo) & (Activity.ends_at < hi)
                    & (Activity.status.in_(("finished", "closed")))).tuples())
    rows = list(ended)
    no_shows = sum(1 for _sid, mins in rows if not mins)
    served = ServiceRecord.select(ServiceRecord.activity).where(
        (ServiceRecord.volunteer == volunteer_id) & (ServiceRecord.minutes > 0)
        & (ServiceRecord.service_date >= start) & (ServiceRecord.service_date <= end))
    avg = Feedback.select(pw.fn.AVG(Feedback.overall)).where(
        Feedback.activity.in_(served) & Feedback.overall.is_null(False)).scalar()
    score = Decimal(str(round(float(avg), 1))) if avg is not None else None
    return {"minutes": int(minutes), "signups": len(rows), "no_shows": no_shows, "feedback_score": score}


def proposed_grade(minutes: int, signups: int, no_shows: int) -> str:
    conf = SETTINGS.all()
    hours = minutes / 60
    rate_ok = signups == 0 or no_shows * 100 <= signups * conf["evaluation_max_no_show_percent"]
    if hours >= conf["evaluation_excellent_hours"] and rate_ok:
        return "excellent"
    if hours >= conf["evaluation_good_hours"]:
        return "good"
    return "pass" if minutes > 0 else "improve"


def no_show_percent(e: Evaluation) -> str:
    return f"{e.no_shows * 100 / e.signups:.0f}%" if e.signups else "—"


def attendance_percent(e: Evaluation) -> str:
    return f"{(e.signups - e.no_shows) * 100 / e.signups:.0f}%" if e.signups else "—"


def evaluate(volunteer_id: int, start: _dt.date, end: _dt.date, *, actor=None) -> Evaluation:
    """Create (or refresh, while still a draft) the evaluation of one volunteer for a period."""
    if end < start:
        raise EvaluationError({"period_end": _l("The period ends after it starts.")})
    f = figures(volunteer_id, start, end)
    with transaction():
        e = Evaluation.get_or_none((Evaluation.volunteer == volunteer_id) & (Evaluation.period_start == start)
                                   & (Evaluation.period_end == end))
        if e is not None and e.status == "published":
            return e
        grade = proposed_grade(f["minutes"], f["signups"], f["no_shows"])
        if e is None:
            e = Evaluation.create(volunteer=volunteer_id, period_start=start, period_end=end, grade=grade, **f)
        else:
            for k, v in f.items():
                setattr(e, k, v)
            e.save()
    return e


def evaluate_all(start: _dt.date, end: _dt.date, *, actor=None) -> int:
    n = 0
    for (vid,) in Volunteer.select(Volunteer.id).where(Volunteer.status == "active").tuples():
        evaluate(vid, start, end, actor=actor)
        n += 1
    audit.log("incentives.evaluations_made", None, {"from": start.isoformat(), "to": end.isoformat(), "n": n},
              user=actor)
    return n


def publish(e: Evaluation, *, actor) -> Evaluation:
    """Publish an evaluation: shown on the volunteer's page, and an inbox message (once)."""
    if not security.can("incentives.evaluation.edit", e, user=actor):
        raise EvaluationError(_l("Access denied"))
    if e.grade not in GRADES:
        raise EvaluationError({"grade": _l("Choose a grade.")})
    with transaction():
        Evaluation.update(status="published", published_at=now()).where(Evaluation.id == e.id).execute()
        e.status = "published"
        audit.log("incentives.evaluation_published", e, {"grade": e.grade}, user=actor)
        v = Volunteer.get_by_id(e.volunteer_id)
        if v.user_id:
            def make():
                return (_("Your performance evaluation %(period)s", period=str(e)),
                        _("Grade: %(grade)s. Service hours: %(hours)s. %(comment)s", grade=str(GRADES[e.grade]),
                          hours=f"{e.minutes / 60:g}", comment=e.comment))
            messages.send_translated(User.get_by_id(v.user_id), make, category="incentives.evaluation",
                                     dedupe_key=f"incentives.evaluation:{e.id}")
    return e


def published_of(volunteer_id: int) -> list[Evaluation]:
    return list(Evaluation.select().where((Evaluation.volunteer == volunteer_id)
                                          & (Evaluation.status == "published"))
                .order_by(Evaluation.period_end.desc()))
