"""Yearly service targets (R-PARTY-2, R-PARTY-3, R-PARTY-4): who is on track, who is behind.

Categories, one per volunteer, the most specific first:
- ``party_track`` — 入党积极分子, 发展对象, 中共预备党员: ≥ 40 service hours a year (篇1 三(二));
- ``in_service`` — 中共党员 who reported to the community as in-service Party members (在职党员回社区报到):
  ≥ 2 Party volunteer services a year (篇5 一(三)2(4));
- ``registered`` — every other registered volunteer: ≥ 20 service hours a year (附录九 第十九条).

Hours are the volunteer's yearly total of confirmed service records (trainings excluded) in every team,
because each target is a personal yearly total. A *Party volunteer service* is a confirmed service
record (minutes > 0) of an activity marked 党员志愿服务 (``Activity.is_party_service``), counted once per
activity. The report is one aggregate query (volunteers LEFT JOIN the activities plugin's
``service_totals`` subquery, grouped by volunteer over the year), then the categories of exactly the
volunteers it returned: the query also reads their sealed political status and in-service reporting,
which the volunteers plugin decrypts (``decode_standing``), once per volunteer. The database holds no index of the political status to
select by (SECURITY.md NS5: a deterministic index of a value shared by all Party members would tell any
dump or backup who they are).
"""
from __future__ import annotations

import calendar
import datetime as _dt
from dataclasses import dataclass, field

import peewee as pw
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, inputs
from core.db import TZ, today
from core.errors import FieldErrors
from plugins.activities import services as activities
from plugins.teams import services as teams
from plugins.volunteers import services as volunteers
from plugins.volunteers.models import PARTY_MEMBER_STATUSES, PARTY_TRACK_STATUSES, Volunteer

CATEGORIES = ("party_track", "in_service", "registered")
STATUSES = ("met", "on_track", "behind")
CATEGORY_LABELS = {"party_track": _l("Party-track volunteer"), "in_service": _l("In-service Party member"),
                   "registered": _l("Registered volunteer")}
STATUS_LABELS = {"met": _l("Target met"), "on_track": _l("On track"), "behind": _l("Behind")}
# printed in the XLSX (the file is Chinese, whatever the viewer's language)
CATEGORY_ZH = {"party_track": "入党积极分子/发展对象/预备党员", "in_service": "在职党员（回社区报到）",
               "registered": "注册志愿者"}
STATUS_ZH = {"met": "已完成", "on_track": "进度正常", "behind": "落后"}
FIRST_YEAR = 2000


class TargetError(FieldErrors):
    """Bad report parameters (field → translated message)."""


SETTINGS = PluginSettings(__file__)


def setting(key: str):
    """``targets.<key>`` from ``core_setting``, else the manifest's default (R-PARTY-2…4 numbers are
    settings a community may change)."""
    return SETTINGS.get(key)


def settings() -> dict:
    """Every setting of the plugin in one query (site rows over the manifest's defaults)."""
    return SETTINGS.all()


def goals() -> dict[str, tuple[float, str]]:
    """Category → (target, unit): hours are compared in minutes, services as a count."""
    s = settings()
    return {"party_track": (s["party_track_hours"] * 60, "minutes"),
            "in_service": (s["in_service_services"], "services"),
            "registered": (s["registered_hours"] * 60, "minutes")}


# ----------------------------------------------------------------------------- the year
def year_span(year: int) -> tuple[_dt.date, _dt.date]:
    return _dt.date(year, 1, 1), _dt.date(year + 1, 1, 1)


def elapsed_share(year: int, on: _dt.date | None = None) -> float:
    """Share of ``year`` elapsed on ``on`` (today): 1 for a past year, day-of-year / days for this one."""
    on = on or today()
    if year < on.year:
        return 1.0
    if year > on.year:
        raise TargetError({"year": _l("The year has not begun yet.")})
    days = 366 if calendar.isleap(year) else 365
    return on.timetuple().tm_yday / days


def check_year(raw, on: _dt.date | None = None) -> int:
    on = on or today()
    try:  # NS2: "²", "２０２６", "inf", a number past 2**63 are parsed (or refused) in one place
        return inputs.parse_int(raw, min=FIRST_YEAR, max=on.year, default=on.year, field="year")
    except inputs.InputError:
        raise TargetError({"year": _l("Choose a year between %(first)s and %(last)s.", first=FIRST_YEAR,
                                      last=on.year)}) from None


def status_of(achieved: float, target: float, share: float) -> tuple[str, float]:
    """(status, expected so far): met when the target is reached; otherwise on track when at least
    the pro-rata share of the year elapsed is reached (only while the year runs); else behind."""
    expected = target * share
    if achieved >= target:
        return "met", expected
    if share < 1 and achieved >= expected:
        return "on_track", expected
    return "behind", expected


# ----------------------------------------------------------------------------- the query
def category_of(status: str, in_service: bool) -> str:
    """A volunteer's category from their political status and in-service reporting (R-PARTY-2…4)."""
    if status in PARTY_TRACK_STATUSES:
        return "party_track"
    if status in PARTY_MEMBER_STATUSES and in_service:
        return "in_service"
    return "registered"


def categorise(rows) -> list[tuple]:
    """``report_query`` rows (id, number, name, minutes, party_services, sealed status, sealed
    in-service date) as (id, number, name, category, minutes, party_services): the political status
    of exactly these volunteers decrypted once, by the volunteers plugin (``decode_standing``)."""
    decode = volunteers.decode_standing
    return [(r[0], r[1], r[2], category_of(*decode(r[5], r[6])), r[3], r[4]) for r in rows]


def report_query(year: int, team_ids=None, *, volunteer_ids=None):
    """One row per active volunteer in scope (registered before the year's end): id, number, name,
    minutes, party_services and the two sealed columns the category comes from (decrypted by
    ``categorise``: there is no index of the political status to compute it in SQL, NS5). ``team_ids`` None = every
    volunteer; otherwise the approved members of those teams. One SQL statement: volunteers LEFT JOIN
    one GROUP BY over the year."""
    start, end = year_span(year)
    members = None
    if team_ids is not None:
        members = teams.member_ids(list(team_ids) or [-1])
    if volunteer_ids is not None:
        members = list(volunteer_ids) or [-1]
    totals = activities.service_totals(start, end, volunteers=members).alias("totals")
    q = (Volunteer.select(Volunteer.id, Volunteer.number, Volunteer.name,
                          pw.fn.COALESCE(totals.c.minutes, 0).alias("minutes"),
                          pw.fn.COALESCE(totals.c.party_services, 0).alias("party_services"),
                          *volunteers.STANDING_COLUMNS)
         .join(totals, pw.JOIN.LEFT_OUTER, on=(totals.c.volunteer_id == Volunteer.id))
         .where((Volunteer.status == "active")
                & (Volunteer.registered_at < _dt.datetime.combine(end, _dt.time(), tzinfo=TZ))))
    if members is not None:
        q = q.where(Volunteer.id.in_(members))
    # no ORDER BY: sorting by number in SQL makes SQLite walk every volunteer in number order even for
    # one team's members; the caller sorts the rows (build_rows)
    return q


@dataclass
class Row:
    volunteer_id: int
    number: str
    name: str
    category: str
    minutes: int
    party_services: int
    target: float
    unit: str
    expected: float
    status: str

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def achieved(self) -> float:
        return self.party_services if self.unit == "services" else self.minutes

    def show(self, value) -> str:
        """A target or expectation in its unit, for screens: hours with one decimal, services whole."""
        return f"{value / 60:.1f}" if self.unit == "minutes" else (f"{value:.1f}".rstrip("0").rstrip("."))

    @property
    def percent(self) -> int:
        return min(100, int(round(100 * self.achieved / self.target))) if self.target else 100


@dataclass
class Report:
    year: int
    on: _dt.date
    share: float
    team: object
    rows: list[Row]
    goals: dict
    summary: dict = field(default_factory=dict)


def build_rows(year: int, tuples, on: _dt.date | None = None) -> tuple[float, dict, list[Row]]:
    share = elapsed_share(year, on)
    g = goals()
    rows = []
    for vid, number, name, cat, minutes, party in tuples:
        target, unit = g[cat]
        minutes, party = int(minutes or 0), int(party or 0)
        status, expected = status_of(party if unit == "services" else minutes, target, share)
        rows.append(Row(vid, number, name, cat, minutes, party, target, unit, expected, status))
    rows.sort(key=lambda r: r.number)
    return share, g, rows


def summarise(rows) -> dict:
    out = {c: {s: 0 for s in (*STATUSES, "total")} for c in CATEGORIES}
    for r in rows:
        out[r.category][r.status] += 1
        out[r.category]["total"] += 1
    return out


def scope_team_ids(user, team=None) -> list[int] | None:
    """Teams whose members a report covers: ``team``'s tree (within the user's own tree), the user's
    whole tree, or None (every volunteer) for a site-wide admin without a team."""
    own = teams.admin_team_ids(user)
    if team is None:
        return own
    tree = teams.tree_ids(team)
    return tree if own is None else [t for t in tree if t in set(own)]


def run(query) -> list[tuple]:
    """Rows of ``query`` as plain tuples straight from the cursor: the report's columns need no
    conversion, and peewee's per-row processing would cost more than the query on small scopes."""
    from core.db import db
    return db.execute_sql(*query.sql()).fetchall()


def report(user, year: int, team=None, *, category: str | None = None, on: _dt.date | None = None) -> Report:
    """The yearly report for ``user``'s scope (a team admin: their team tree; AC6)."""
    if category and category not in CATEGORIES:
        raise TargetError({"category": _l("Unknown category.")})
    on = on or today()
    ids = scope_team_ids(user, team)
    found = categorise(run(report_query(year, ids)))
    if category:
        found = [r for r in found if r[3] == category]
    share, g, rows = build_rows(year, found, on)
    return Report(year, on, share, team, rows, g, summarise(rows))


SUMMARY_TTL = 300.0


def summary_cached(user, year: int | None = None) -> tuple[Report, bool]:
    """The report for the dashboard, kept per worker for ``SUMMARY_TTL`` seconds per scope (team
    tree), year, day and targets: the dashboard is visited often, and over millions of records the
    report takes seconds (bench/targets.py). The cache belongs to the app (a rebuilt app starts empty).
    Returns (report, from_cache)."""
    import time
    from flask import current_app
    cache = current_app.extensions.setdefault("targets_summary", {})
    on = today()
    year = year or on.year
    ids = scope_team_ids(user)
    key = (tuple(sorted(ids)) if ids is not None else None, year, on, tuple(sorted(goals().items())))
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < SUMMARY_TTL:
        return hit[1], True
    rep = report(user, year, on=on)
    if len(cache) > 256:
        cache.clear()
    cache[key] = (time.monotonic(), rep)
    return rep, False


def own_progress(volunteer: Volunteer, year: int | None = None, on: _dt.date | None = None) -> Row | None:
    """The volunteer's own row of the yearly report (None when not an active volunteer that year)."""
    on = on or today()
    year = year or on.year
    found = categorise(run(report_query(year, volunteer_ids=[volunteer.id])))
    return build_rows(year, found, on)[2][0] if found else None


# ----------------------------------------------------------------------------- XLSX
XLSX_COLUMNS = ("序号", "志愿者编号", "姓名", "类别", "服务时数", "党员志愿服务次数", "年度目标", "应达进度",
                "完成情况")


def _goal_text(value, unit) -> str:
    """40 小时, 19.8 小时, 2 次, 1 次: one decimal at most."""
    return f"{round(value / 60, 1):g} 小时" if unit == "minutes" else f"{round(value, 1):g} 次"


def export_xlsx(user, rep: Report) -> tuple[bytes, str]:
    """The report as a workbook (documents.table_xlsx): names and volunteer numbers only, no ID or phone
    numbers (PR5); audited (AU1)."""
    from plugins.documents.services import Column, table_xlsx
    cols = [Column(t) for t in XLSX_COLUMNS]
    rows = [(i, r.number, r.name, CATEGORY_ZH[r.category], round(r.hours, 1), r.party_services,
             _goal_text(r.target, r.unit), _goal_text(r.expected, r.unit),
             STATUS_ZH[r.status]) for i, r in enumerate(rep.rows, 1)]
    g = rep.goals
    title = f"{rep.year}年度志愿服务目标完成情况"
    fields = [("队伍", rep.team.name if rep.team is not None else "全部（本人可见范围）"),
              ("统计日期", rep.on.isoformat()),
              ("目标", f"入党积极分子/发展对象/预备党员 {_goal_text(*g['party_track'])}；"
                      f"在职党员 {_goal_text(*g['in_service'])}党员志愿服务；注册志愿者 {_goal_text(*g['registered'])}")]
    data = table_xlsx(title, cols, rows, fields=fields, sheet_title=f"{rep.year}年度目标")
    audit.log("targets.report_exported", ("targets_report", str(rep.year)),
              {"team": getattr(rep.team, "id", None), "rows": len(rows), "format": "xlsx"}, user=user)
    suffix = f"-{rep.team.name}" if rep.team is not None else ""
    return data, f"{title}{suffix}.xlsx"


class NotFound(Exception):
    """A team outside the user's tree, or not a team at all: a 404 (AC6)."""


def visible_teams(user) -> list:
    """Approved teams the user may report on (their tree; every team for a site-wide admin), parents
    before their sub-teams."""
    from plugins.teams.models import Team
    q = Team.select(Team.id, Team.name, Team.path).where(Team.status == "approved")
    ids = teams.admin_team_ids(user)
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    return sorted(q, key=lambda t: [int(x) for x in t.path.strip("/").split("/") if x])


def resolve_team(user, raw):
    """The team filter from a request: None for "all I may see"; a team outside the user's tree or
    anything that is not a team id raises NotFound and is audited (AC6)."""
    from plugins.teams.models import Team
    s = str(raw if raw is not None else "").strip()
    if s in ("", "all"):
        return None
    team = None
    if (n := inputs.parse_id(s)) is not None:
        ids = teams.admin_team_ids(user)
        if ids is None or n in ids:
            team = Team.get_or_none(Team.id == n)
    if team is None:
        audit.log("access.denied", ("teams_team", s[:64]), {"report": "targets"}, user=user)
        raise NotFound(s)
    return team
