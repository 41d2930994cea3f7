"""表彰嘉许 (commendations, R-INC-2; 篇5 一(二)2): award schemes as data — by target (individual, team
leader/骨干, mentor, team, partner company or media), period (annual, quarterly, daily) and theme —,
nominations (by a team, from a rule: the top hours of a period, the targets plugin's "met" when it is
loaded, or the built-in 年度优秀党员志愿者 from hours and feedback scores of Party members), review,
decision and publication through ``core.workflow`` (a reason on rejection, due dates in working days,
one audit row per step), the public honour roll, and the thank-you letter and honour certificate PDFs.
Awards are part of the volunteer's record (R-NAT-1: name, date, granting body) and their page.
"""
from __future__ import annotations

import datetime as _dt
import io
from decimal import Decimal

import peewee as pw
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, messages
from core.db import today, transaction
from core.errors import FieldErrors
from core.models import User
from core.workflow import Step, Workflow
from plugins.activities.models import Feedback, ServiceRecord
from plugins.volunteers.models import Volunteer

from .models import Nomination, Scheme
from .settings import SETTINGS

TARGETS = {"individual": _l("Individual volunteer"), "leader": _l("Team leader or core member"),
           "mentor": _l("Mentor"), "team": _l("Volunteer team"), "partner": _l("Partner company or media")}
PERIODS = {"annual": _l("Annual"), "quarterly": _l("Quarterly"), "daily": _l("Everyday")}
PERSON_TARGETS = ("individual", "leader", "mentor")
PARTY_ANNUAL = "party_annual"

# the built-in schemes (reference data; admins add their own, e.g. themed ones)
BUILTIN = [
    {"code": PARTY_ANNUAL, "name": "年度优秀党员志愿者", "target": "individual", "period": "annual",
     "theme": "", "party_only": True},
    {"code": "quarter_star", "name": "季度服务之星", "target": "individual", "period": "quarterly", "theme": ""},
    {"code": "leifeng_month", "name": "雷锋月优秀志愿者", "target": "individual", "period": "annual",
     "theme": "雷锋月"},
    {"code": "summer_service", "name": "暑期服务优秀志愿者", "target": "individual", "period": "annual",
     "theme": "暑期"},
    {"code": "elderly_service", "name": "长者服务优秀志愿者", "target": "individual", "period": "annual",
     "theme": "长者服务"},
    {"code": "excellent_leader", "name": "优秀党员志愿者领队（骨干）", "target": "leader", "period": "annual",
     "theme": ""},
    {"code": "excellent_mentor", "name": "优秀导师", "target": "mentor", "period": "annual", "theme": ""},
    {"code": "excellent_team", "name": "优秀党员志愿服务团队", "target": "team", "period": "annual",
     "theme": ""},
    {"code": "partner", "name": "志愿服务发展支持单位（企业、媒体）", "target": "partner", "period": "annual",
     "theme": ""},
]

STATES = {"nominated": _l("Nominated"), "reviewed": _l("Reviewed"), "awarded": _l("Awarded"),
          "published": _l("Published"), "rejected": _l("Not awarded")}
AWARDED = ("awarded", "published")

WORKFLOW = Workflow(
    "incentives.nomination", Nomination, states=STATES,
    steps=[Step("review", "nominated", "reviewed", "incentives.commendation.review", _l("Reviewed")),
           Step("award", "reviewed", "awarded", "incentives.commendation.decide", _l("Award")),
           Step("reject", ("nominated", "reviewed"), "rejected", "incentives.commendation.review",
                _l("Do not award"), reason=True),
           Step("publish", "awarded", "published", "incentives.commendation.decide", _l("Publish"))],
    due={"nominated": lambda: SETTINGS.get("commendation_review_workdays"),
         "reviewed": lambda: SETTINGS.get("commendation_decision_workdays")},
)


class CommendationError(FieldErrors):
    pass


def load_schemes():
    """Create the built-in schemes that are missing (never overwrites an admin's changes)."""
    have = {c for (c,) in Scheme.select(Scheme.code).tuples()}
    for s in BUILTIN:
        if s["code"] not in have:
            Scheme.create(builtin=True, granting_body="", **s)


def granting_body(scheme: Scheme) -> str:
    return scheme.granting_body or SETTINGS.get("commendation_granting_body")


def _loaded(name: str) -> bool:
    return name in current_app.extensions["timebank"].loaded


def _party_members(volunteer_ids) -> set[int]:
    """The Party members among ``volunteer_ids``: through the volunteers plugin's public API, which
    decrypts the sealed political status in bulk (NS5: no column groups Party members)."""
    from plugins.volunteers.models import PARTY_MEMBER_STATUSES
    from plugins.volunteers.services import political_standing
    return {vid for vid, status, _in_service in political_standing(volunteer_ids)
            if status in PARTY_MEMBER_STATUSES}


def period_of(scheme: Scheme, year: int, quarter: int | None = None) -> tuple[_dt.date, _dt.date]:
    if scheme.period == "quarterly":
        if quarter not in (1, 2, 3, 4):
            raise CommendationError({"quarter": _l("Choose a quarter.")})
        start = _dt.date(year, 3 * quarter - 2, 1)
        end = (_dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - _dt.timedelta(days=1))
        return start, end
    return _dt.date(year, 1, 1), _dt.date(year, 12, 31)


def service_minutes(start: _dt.date, end: _dt.date, volunteer_ids=None) -> dict[int, int]:
    q = (ServiceRecord.select(ServiceRecord.volunteer, pw.fn.SUM(ServiceRecord.minutes))
         .where((ServiceRecord.kind == "service") & (ServiceRecord.service_date >= start)
                & (ServiceRecord.service_date <= end))
         .group_by(ServiceRecord.volunteer))
    if volunteer_ids is not None:
        q = q.where(ServiceRecord.volunteer.in_(list(volunteer_ids)))
    return {vid: int(m or 0) for vid, m in q.tuples()}


def feedback_scores(start: _dt.date, end: _dt.date, volunteer_ids) -> dict[int, Decimal]:
    """The average overall score (0–10) of the feedback forms (套表2) of the activities each volunteer
    served in during the period."""
    served = (ServiceRecord.select(ServiceRecord.volunteer, ServiceRecord.activity)
              .where((ServiceRecord.minutes > 0) & (ServiceRecord.service_date >= start)
                     & (ServiceRecord.service_date <= end) & ServiceRecord.volunteer.in_(list(volunteer_ids)))
              .distinct())
    out = {}
    rows = (Feedback.select(served.c.volunteer_id, pw.fn.AVG(Feedback.overall))
            .join(served, on=(Feedback.activity == served.c.activity_id))
            .where(Feedback.overall.is_null(False)).group_by(served.c.volunteer_id).tuples())
    for vid, avg in rows:
        out[vid] = Decimal(str(round(float(avg), 1)))
    return out


# ------------------------------------------------------------------------------------ nominating
def nominate(scheme: Scheme, *, period_start: _dt.date, period_end: _dt.date, volunteer_id: int | None = None,
             team_id: int | None = None, partner: str = "", reason: str = "", source: str = "team",
             actor=None, minutes: int = 0, feedback_score=None) -> Nomination:
    """One nomination; checks the nominee fits the scheme's target (a person, a team, a partner), that a
    party-only scheme gets a Party member, and that the same nominee is not nominated twice for the same
    scheme and period. Nothing is written on an error."""
    from core import security
    errors = {}
    reason = " ".join(str(reason or "").split())
    partner = " ".join(str(partner or "").split())
    if not scheme.active:
        errors["scheme"] = _l("This award scheme is not active.")
    if period_end < period_start:
        errors["period_end"] = _l("The period ends after it starts.")
    if scheme.target in PERSON_TARGETS:
        if not volunteer_id or Volunteer.get_or_none(Volunteer.id == volunteer_id) is None:
            errors["volunteer"] = _l("Choose a volunteer.")
        elif scheme.party_only and volunteer_id not in _party_members([volunteer_id]):
            errors["volunteer"] = _l("This award is for Party members only.")
        team_id, partner = None, ""
    elif scheme.target == "team":
        if not team_id:
            errors["team"] = _l("Choose a team.")
        volunteer_id, partner = None, ""
    else:
        if not partner:
            errors["partner"] = _l("Give the name of the company or media outlet.")
        elif len(partner) > 100:
            errors["partner"] = _l("At most %(n)s characters.", n=100)
        volunteer_id = None
    if len(reason) > 2000:
        errors["reason"] = _l("At most %(n)s characters.", n=2000)
    if not errors:
        dup = Nomination.select().where(
            (Nomination.scheme == scheme.id) & (Nomination.period_start == period_start)
            & (Nomination.status != "rejected")
            & ((Nomination.volunteer == volunteer_id) if volunteer_id else
               (Nomination.team == team_id) if team_id else (Nomination.partner == partner)))
        if dup.exists():
            errors["__all__"] = _l("Already nominated for this award and period.")
    if errors:
        raise CommendationError(errors)
    n = Nomination(scheme=scheme.id, volunteer=volunteer_id, team=team_id, partner=partner,
                   period_start=period_start, period_end=period_end, source=source, reason=reason,
                   minutes=minutes, feedback_score=feedback_score, status="nominated",
                   nominated_by=getattr(actor, "id", None))
    if actor is not None and not _may_nominate(actor, volunteer_id, team_id):
        audit.log("access.denied", None, {"permission": "incentives.commendation.create"}, user=actor)
        raise CommendationError(_l("You may not nominate for this team."))
    with transaction():
        n.due_at = WORKFLOW.due_at("nominated")
        n.save(force_insert=True)
        audit.log("incentives.nomination.nominate", n, {"scheme": scheme.code, "source": source}, user=actor)
    return n


def _may_nominate(actor, volunteer_id, team_id) -> bool:
    """A platform admin nominates anyone; a team admin a member or a team of its tree (AC6), no partner."""
    from core import security
    from plugins.teams.services import admin_team_ids, member_ids
    if not security.can("incentives.commendation.create", user=actor):
        return False
    tree = admin_team_ids(actor)
    if tree is None:
        return True
    if team_id:
        return team_id in set(tree)
    return bool(volunteer_id) and volunteer_id in {v for (v,) in member_ids(tree).tuples()}


def nominate_top_hours(scheme: Scheme, start: _dt.date, end: _dt.date, *, count: int | None = None,
                       team_ids=None, actor=None) -> list[Nomination]:
    """The rule "top hours this period": the ``count`` (setting ``commendation_top_count``) volunteers
    with the most confirmed service hours in the period (within ``team_ids``' members when given)."""
    count = int(count or SETTINGS.get("commendation_top_count"))
    ids = None
    if team_ids is not None:
        from plugins.teams.services import member_ids
        ids = list(member_ids(team_ids))
    mins = service_minutes(start, end, ids)
    if scheme.party_only:
        party = _party_members(mins)
        mins = {k: v for k, v in mins.items() if k in party}
    top = sorted(((m, vid) for vid, m in mins.items() if m > 0), key=lambda t: (-t[0], t[1]))[:count]
    out = []
    for m, vid in top:
        try:
            out.append(nominate(scheme, period_start=start, period_end=end, volunteer_id=vid, source="top_hours",
                                reason=_("Top service hours of the period: %(h)s hours", h=f"{m / 60:g}"),
                                minutes=m, actor=actor))
        except CommendationError:
            continue    # already nominated
    return out


def nominate_targets_met(scheme: Scheme, year: int, *, actor=None) -> list[Nomination]:
    """Nominate the volunteers whose yearly target is met, from the targets plugin's public API (only when
    that plugin is loaded; otherwise nothing)."""
    if not _loaded("targets"):
        return []
    from plugins.targets import services as targets
    _share, _g, rows = targets.build_rows(year, targets.categorise(targets.run(targets.report_query(year))))
    start, end = _dt.date(year, 1, 1), _dt.date(year, 12, 31)
    out = []
    for r in rows:
        if r.status != "met":
            continue
        try:
            out.append(nominate(scheme, period_start=start, period_end=end, volunteer_id=r.volunteer_id,
                                source="targets_met", minutes=r.minutes,
                                reason=_("Yearly service target met"), actor=actor))
        except CommendationError:
            continue
    return out


def party_annual_candidates(year: int) -> list[tuple[int, int, Decimal | None]]:
    """年度优秀党员志愿者 (篇5 一(二)2(1)): Party members whose confirmed service hours in the year reach
    ``party_annual_min_hours`` and whose feedback score (0–10) reaches ``party_annual_min_score`` (no
    feedback: judged on hours alone), best first: (volunteer id, minutes, score)."""
    start, end = _dt.date(year, 1, 1), _dt.date(year, 12, 31)
    min_minutes = int(SETTINGS.get("party_annual_min_hours")) * 60
    mins = {k: v for k, v in service_minutes(start, end).items() if v >= min_minutes}
    party = _party_members(mins)
    mins = {k: v for k, v in mins.items() if k in party}
    scores = feedback_scores(start, end, mins) if mins else {}
    min_score = Decimal(str(SETTINGS.get("party_annual_min_score")))
    rows = [(vid, m, scores.get(vid)) for vid, m in mins.items()
            if scores.get(vid) is None or scores[vid] >= min_score]
    rows.sort(key=lambda t: (-(t[2] or 0), -t[1], t[0]))
    return rows


def nominate_party_annual(year: int, *, actor=None) -> list[Nomination]:
    scheme = Scheme.get(Scheme.code == PARTY_ANNUAL)
    start, end = _dt.date(year, 1, 1), _dt.date(year, 12, 31)
    out = []
    for vid, m, score in party_annual_candidates(year):
        try:
            out.append(nominate(scheme, period_start=start, period_end=end, volunteer_id=vid,
                                source=PARTY_ANNUAL, minutes=m, feedback_score=score, actor=actor,
                                reason=_("%(h)s service hours in %(y)s", h=f"{m / 60:g}", y=year)))
        except CommendationError:
            continue
    return out


# ------------------------------------------------------------------------------------ deciding
def review(n: Nomination, *, actor) -> Nomination:
    return WORKFLOW.move(n, "review", actor=actor)


def reject(n: Nomination, *, reason: str, actor) -> Nomination:
    return WORKFLOW.move(n, "reject", actor=actor, reason=reason, values={"rejection": reason})


def award(n: Nomination, *, actor, on: _dt.date | None = None) -> Nomination:
    return WORKFLOW.move(n, "award", actor=actor, values={"decided_on": on or today()})


def publish(n: Nomination, *, actor) -> Nomination:
    """Publish an award on the honour roll and tell the volunteer (one inbox message)."""
    n = WORKFLOW.move(n, "publish", actor=actor)
    if n.volunteer_id:
        v = Volunteer.get_by_id(n.volunteer_id)
        if v.user_id:
            scheme = Scheme.get_by_id(n.scheme_id)

            def make():
                return (_("You have been commended: %(award)s", award=scheme.name),
                        _("Thank you for your service. Your thank-you letter and honour certificate are on "
                          "your page."))
            messages.send_translated(User.get_by_id(v.user_id), make, category="incentives.commendation",
                                     dedupe_key=f"incentives.commendation:{n.id}")
    return n


# ------------------------------------------------------------------------------------ reading
def nominee_name(n: Nomination) -> str:
    if n.volunteer_id:
        return Volunteer.get_by_id(n.volunteer_id).name
    if n.team_id:
        from plugins.teams.models import Team
        return Team.get_by_id(n.team_id).name
    return n.partner


def honour_roll(year: int | None = None) -> list[dict]:
    """The published awards (public honour roll), newest first."""
    q = (Nomination.select(Nomination, Scheme).join(Scheme).where(Nomination.status == "published")
         .order_by(Nomination.decided_on.desc(), Scheme.name, Nomination.id))
    if year:
        q = q.where((Nomination.period_start >= _dt.date(year, 1, 1))
                    & (Nomination.period_start <= _dt.date(year, 12, 31)))
    return [{"award": n.scheme.name, "theme": n.scheme.theme, "name": nominee_name(n),
             "target": str(TARGETS.get(n.scheme.target, "")), "on": n.decided_on,
             "period": f"{n.period_start:%Y-%m-%d} – {n.period_end:%Y-%m-%d}"} for n in q]


def awards_of(volunteer_id: int) -> list[dict]:
    """The volunteer's awards for the record (R-NAT-1: name, date, granting body)."""
    q = (Nomination.select(Nomination, Scheme).join(Scheme)
         .where((Nomination.volunteer == volunteer_id) & Nomination.status.in_(AWARDED))
         .order_by(Nomination.decided_on.desc()))
    return [{"id": n.id, "award": n.scheme.name, "on": n.decided_on, "body": granting_body(n.scheme),
             "published": n.status == "published"} for n in q]


# ------------------------------------------------------------------------------------ PDFs
def _pdf(title: str, paragraphs: list[tuple[str, int, str]]) -> bytes:
    """A one-page A4 document with the embedded CJK font of the documents plugin (subset TrueType)."""
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape
    from plugins.documents.services import font_name
    font = font_name()
    align = {"L": TA_LEFT, "C": TA_CENTER, "R": TA_RIGHT}
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author="", creator="timebank",
                            initialFontName=font, leftMargin=25 * mm, rightMargin=25 * mm,
                            topMargin=30 * mm, bottomMargin=25 * mm)
    story = []
    for i, (text, size, al) in enumerate(paragraphs):
        style = ParagraphStyle(f"p{i}", fontName=font, fontSize=size, leading=size * 1.6,
                               alignment=align[al], wordWrap="CJK", spaceAfter=size * 0.8,
                               firstLineIndent=(2 * size if al == "L" else 0))
        story.append(Paragraph(escape(text).replace("\n", "<br/>"), style))
        if i == 0:
            story.append(Spacer(1, 10 * mm))
    doc.build(story)
    return buf.getvalue()


def _awarded(n: Nomination) -> Scheme:
    if n.status not in AWARDED:
        raise CommendationError(_l("Only an award has a letter and a certificate."))
    return Scheme.get_by_id(n.scheme_id)


def thank_you_letter_pdf(n: Nomination) -> bytes:
    """感谢信 (R-INC-4 retention, R-INC-2): addressed to the nominee, signed by the granting body."""
    scheme = _awarded(n)
    name, body = nominee_name(n), granting_body(scheme)
    hours = f"，累计志愿服务 {n.minutes / 60:g} 小时" if n.minutes else ""
    return _pdf("感谢信", [
        ("感 谢 信", 24, "C"),
        (f"尊敬的{name}：", 14, "C"),
        (f"在 {n.period_start:%Y年%m月%d日} 至 {n.period_end:%Y年%m月%d日} 期间，您积极参与志愿服务{hours}，"
         f"以实际行动践行“奉献、友爱、互助、进步”的志愿精神。经评审，您荣获“{scheme.name}”。"
         "在此，谨向您致以诚挚的感谢和崇高的敬意！", 14, "L"),
        ("希望您继续发挥示范带头作用，带动更多人参与志愿服务。", 14, "L"),
        (body, 14, "R"),
        (f"{n.decided_on:%Y年%m月%d日}", 14, "R"),
    ])


def certificate_pdf(n: Nomination) -> bytes:
    """荣誉证书: the award's name, the nominee, the granting body and the date."""
    scheme = _awarded(n)
    name, body = nominee_name(n), granting_body(scheme)
    theme = f"（{scheme.theme}）" if scheme.theme else ""
    return _pdf("荣誉证书", [
        ("荣 誉 证 书", 30, "C"),
        (f"{name}：", 16, "L"),
        (f"在 {n.period_start:%Y年%m月%d日} 至 {n.period_end:%Y年%m月%d日} 的志愿服务中表现突出，"
         f"被评为“{scheme.name}”{theme}。", 16, "L"),
        ("特发此证，以资鼓励。", 16, "L"),
        (body, 16, "R"),
        (f"{n.decided_on:%Y年%m月%d日}", 16, "R"),
    ])
