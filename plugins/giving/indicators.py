"""The giving plugin's evaluation indicators (the incentives plugin's hook ``incentive_indicators``,
R-INC-3): accepted money donations (yuan, from fen) and goods donations of the teams in scope."""
from __future__ import annotations

import peewee as pw
from flask_babel import gettext as _

from core import money

from .models import Donation


def indicators(team_ids, start, end) -> list[dict]:
    q = Donation.select().where((Donation.status == "accepted") & (Donation.donated_on >= start)
                                & (Donation.donated_on <= end))
    if team_ids is not None:
        q = q.where(Donation.team.in_(list(team_ids)))
    fen = q.where(Donation.kind == "money").select(pw.fn.COALESCE(pw.fn.SUM(Donation.amount), 0)).scalar() or 0
    goods = q.where(Donation.kind == "goods").count()
    return [{"code": "giving.donations", "label": _("Money donated"), "unit": "元",
             "value": money.to_decimal(int(fen)), "how": _("Accepted money donations in the period.")},
            {"code": "giving.goods", "label": _("Goods donations"), "unit": "笔", "value": goods,
             "how": _("Accepted goods donations in the period.")}]
