"""The resources plugin's evaluation indicators (the incentives plugin's hook ``incentive_indicators``,
R-INC-3): government funding granted to the teams in scope — the requested amounts of the funding
applications that passed the review (announced, implemented, evaluated or closed) and start in the period."""
from __future__ import annotations

import peewee as pw
from flask_babel import gettext as _

from core import money

from .models import Application

FUNDED = ("publicity", "meeting", "implementing", "evaluating", "closed")


def indicators(team_ids, start, end) -> list[dict]:
    q = Application.select(pw.fn.COALESCE(pw.fn.SUM(Application.requested), 0), pw.fn.COUNT(Application.id)).where(
        Application.status.in_(FUNDED) & (Application.period_start >= start) & (Application.period_start <= end))
    if team_ids is not None:
        q = q.where(Application.team.in_(list(team_ids)))
    fen, n = q.tuples().get()
    return [{"code": "resources.funding", "label": _("Government funding granted"), "unit": "元",
             "value": money.to_decimal(int(fen or 0)),
             "how": _("Requested amounts of the funding applications that passed the review.")},
            {"code": "resources.funded_projects", "label": _("Funded projects"), "unit": "项", "value": n or 0,
             "how": _("Funding applications that passed the review.")}]
