"""The activities plugin's evaluation indicators (the incentives plugin's hook ``incentive_indicators``,
R-INC-3): satisfaction from the feedback forms (附录四 套表2), sign-ups, coverage (places filled) and
no-shows of the service activities of the teams in scope that ended in the period."""
from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal

import peewee as pw
from flask_babel import gettext as _

from core.db import TZ

from .models import Activity, Feedback, ServiceRecord, SignUp


def _pct(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def indicators(team_ids, start: _dt.date, end: _dt.date) -> list[dict]:
    lo = _dt.datetime.combine(start, _dt.time(0), TZ)
    hi = _dt.datetime.combine(end + _dt.timedelta(days=1), _dt.time(0), TZ)
    acts = Activity.select(Activity.id).where(
        (Activity.kind == "service") & (Activity.ends_at >= lo) & (Activity.ends_at < hi)
        & Activity.status.in_(("finished", "closed")))
    if team_ids is not None:
        acts = acts.where(Activity.team.in_(list(team_ids)))
    n_fb, total = (Feedback.select(pw.fn.COUNT(Feedback.overall), pw.fn.COALESCE(pw.fn.SUM(Feedback.overall), 0))
                   .where(Feedback.activity.in_(acts) & Feedback.overall.is_null(False)).tuples().get())
    capacity = Activity.select(pw.fn.COALESCE(pw.fn.SUM(Activity.capacity), 0)).where(Activity.id.in_(acts)).scalar()
    confirmed = SignUp.select(SignUp.id).where(SignUp.activity.in_(acts) & (SignUp.status == "confirmed"))
    n_signups = confirmed.count()
    served = (SignUp.select(pw.fn.COUNT(pw.fn.DISTINCT(SignUp.id)))
              .join(ServiceRecord, on=(ServiceRecord.signup == SignUp.id))
              .where(SignUp.activity.in_(acts) & (SignUp.status == "confirmed") & (ServiceRecord.minutes > 0))
              .scalar() or 0)
    people = (SignUp.select(pw.fn.COUNT(pw.fn.DISTINCT(SignUp.volunteer)))
              .where(SignUp.activity.in_(acts) & (SignUp.status == "confirmed")).scalar() or 0)
    return [
        {"code": "activities.satisfaction", "label": _("Satisfaction (feedback forms)"), "unit": "%",
         "value": _pct(total, n_fb * 10), "how": _("Average overall score (0–10) of the feedback forms (套表2) "
                                                  "of the activities ended in the period, as a percentage.")},
        {"code": "activities.feedback_forms", "label": _("Feedback forms returned"), "unit": "份", "value": n_fb,
         "how": _("Feedback forms (套表2) with an overall score.")},
        {"code": "activities.activities", "label": _("Service activities held"), "unit": "场",
         "value": acts.count(), "how": _("Service activities ended in the period.")},
        {"code": "activities.signups", "label": _("Confirmed sign-ups"), "unit": "人次", "value": n_signups,
         "how": _("Confirmed sign-ups for those activities.")},
        {"code": "activities.volunteers", "label": _("Volunteers who served"), "unit": "人", "value": people,
         "how": _("Different volunteers among the confirmed sign-ups.")},
        {"code": "activities.fill_rate", "label": _("Places filled (coverage)"), "unit": "%",
         "value": _pct(n_signups, capacity), "how": _("Confirmed sign-ups ÷ places offered.")},
        {"code": "activities.no_show_rate", "label": _("No-shows (turnover)"), "unit": "%",
         "value": _pct(n_signups - served, n_signups), "better": "lower",
         "how": _("Confirmed sign-ups without confirmed hours ÷ confirmed sign-ups.")},
    ]
