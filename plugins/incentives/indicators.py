"""评估指标 (evaluation indicators, R-INC-3; 篇5 一(二)4): every loaded plugin contributes the indicators
of the data it holds through the hook ``incentive_indicators(team_ids, start, end)`` (hookspecs.py); this
module asks them for a scope (a team tree, a district, the whole site — within the user's own tree, AC6)
and a period, puts the targets of this plugin's settings on the codes it knows, says met / not met, adds
the values entered by hand (media reports, clicks, outside awards) and the awards of the commendations,
and gives the same numbers to the dashboard's charts, its table and the XLSX export.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal

import peewee as pw
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, inputs
from core.db import transaction
from core.errors import FieldErrors

from .models import IndicatorValue, Nomination
from .settings import SETTINGS

# indicators entered by hand (no data in the system): code -> (label, unit)
ENTERED = {"incentives.media_reports": (_l("Media reports"), "篇"),
           "incentives.clicks": (_l("Clicks on publicity"), "次"),
           "incentives.outside_awards": (_l("Awards from outside bodies"), "项")}

# targets this plugin sets (settings): code -> (setting, better)
TARGETS = {"activities.satisfaction": ("indicator_satisfaction_percent", "higher"),
           "activities.fill_rate": ("indicator_min_signup_fill_percent", "higher"),
           "activities.no_show_rate": ("indicator_max_no_show_percent", "lower")}


class IndicatorError(FieldErrors):
    pass


@dataclass
class Indicator:
    code: str
    label: str
    unit: str
    value: object
    target: object = None
    better: str = "higher"
    how: str = ""

    @property
    def met(self):
        """True / False against the target; None without a target or a value."""
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target


def scope_team_ids(user, team_id: int | None = None, district: str = "") -> list[int] | None:
    """The teams of the scope: ``team_id``'s tree, the teams of ``district``, or all — always within the
    user's own team tree for a team admin (AC6). None = every team (a platform admin, no filter)."""
    from plugins.teams.models import Team
    from plugins.teams.services import admin_team_ids, tree_ids
    own = admin_team_ids(user)
    ids = None
    if team_id:
        ids = list(tree_ids(team_id))
    if district:
        in_d = [t for (t,) in Team.select(Team.id).where(Team.district == district).tuples()]
        ids = in_d if ids is None else [t for t in ids if t in set(in_d)]
    if own is not None:
        ids = list(own) if ids is None else [t for t in ids if t in set(own)]
    return ids


def collect(team_ids, start: _dt.date, end: _dt.date) -> list[Indicator]:
    if end < start:
        raise IndicatorError({"to": _l("The period ends after it starts.")})
    pm = current_app.extensions["timebank"].pm
    out = []
    conf = SETTINGS.all()
    for group in pm.hook.incentive_indicators(team_ids=team_ids, start=start, end=end):
        for d in group or []:
            ind = Indicator(code=d["code"], label=str(d["label"]), unit=d.get("unit", ""), value=d.get("value"),
                            target=d.get("target"), better=d.get("better", "higher"), how=str(d.get("how", "")))
            if ind.code in TARGETS:
                key, better = TARGETS[ind.code]
                ind.target, ind.better = conf[key], better
            out.append(ind)
    out.sort(key=lambda i: i.code)
    return out


def incentive_indicators(team_ids, start, end) -> list[dict]:
    """This plugin's own answer: the awards of its commendations and the values entered by hand."""
    from .commendations import AWARDED
    q = Nomination.select(pw.fn.COUNT(Nomination.id)).where(
        Nomination.status.in_(AWARDED) & (Nomination.decided_on >= start) & (Nomination.decided_on <= end))
    if team_ids is not None:
        from plugins.teams.services import member_ids
        q = q.where(Nomination.team.in_(team_ids) | Nomination.volunteer.in_(member_ids(team_ids)))
    out = [{"code": "incentives.awards", "label": _("Commendations awarded"), "unit": "项", "value": q.scalar() or 0,
            "how": _("Nominations awarded in the period (R-INC-2).")}]
    for code, (label, unit) in ENTERED.items():
        v = IndicatorValue.select(pw.fn.SUM(IndicatorValue.value)).where(
            (IndicatorValue.code == code) & (IndicatorValue.period_start >= start)
            & (IndicatorValue.period_end <= end))
        if team_ids is not None:
            v = v.where(IndicatorValue.team.in_(team_ids))
        total = v.scalar()
        out.append({"code": code, "label": str(label), "unit": unit,
                    "value": Decimal(str(total)).normalize() if total is not None else None,
                    "how": _("Entered by hand on the indicators page.")})
    return out


def enter(data: dict, *, actor, team_ids_allowed) -> IndicatorValue:
    """A value entered by hand for a team (or the site) and a period; a team admin only for its tree."""
    errors = {}
    code = data.get("code", "")
    if code not in ENTERED:
        errors["code"] = _l("Choose an indicator.")
    try:
        start = inputs.parse_date(data.get("period_start"), field="period_start")
        end = inputs.parse_date(data.get("period_end"), field="period_end")
        value = inputs.parse_decimal(data.get("value"), min=0, max=10 ** 11, places=2, field="value")
    except inputs.InputError as e:
        errors.update(e.errors)
        start = end = value = None
    if not errors and (start is None or end is None):
        errors["period_start" if start is None else "period_end"] = _l("This field is required.")
    elif not errors and end < start:
        errors["period_end"] = _l("The period ends after it starts.")
    team = inputs.parse_id(data.get("team")) if data.get("team") else None
    if team_ids_allowed is not None and team not in set(team_ids_allowed):
        errors["team"] = _l("Choose a team.")
    if value is None and "value" not in errors:
        errors["value"] = _l("This field is required.")
    if errors:
        raise IndicatorError(errors)
    with transaction():
        row = IndicatorValue.create(code=code, team=team, period_start=start, period_end=end, value=value,
                                    note=str(data.get("note", ""))[:200], entered_by=actor.id)
        audit.log("incentives.indicator_entered", row, {"code": code, "value": str(value)}, user=actor)
    return row


def xlsx(indicators: list[Indicator], title: str) -> bytes:
    """The table as a workbook through core.exports (formula escaping, NS6)."""
    from core import exports
    rows = [[i.label, i.code, i.value if i.value is not None else "", i.unit,
             i.target if i.target is not None else "", met_label(i.met), i.how] for i in indicators]
    return exports.xlsx_bytes([_("Indicator"), _("Code"), _("Value"), _("Unit"), _("Target"), _("Met"), _("How computed")],
                              rows, sheet_title=title[:31])


def met_label(met) -> str:
    return "" if met is None else (_("Met") if met else _("Not met"))


def chart_data(indicators: list[Indicator]) -> dict:
    """Numbers for the charts: the indicators with a target (value vs target, percent units) and the
    counts; Decimal as float only in the browser's JSON, never in the database."""
    pct = [i for i in indicators if i.unit == "%" and i.value is not None]
    other = [i for i in indicators if i.unit != "%" and i.value is not None]
    return {"pct": {"labels": [i.label for i in pct], "values": [float(i.value) for i in pct],
                    "targets": [float(i.target) if i.target is not None else None for i in pct]},
            "counts": {"labels": [f"{i.label}（{i.unit}）" for i in other], "values": [float(i.value) for i in other]}}
