"""Public API of the rosters plugin (R-TEAM-7; handbook 附录一～三).

- ``team_roster`` — 附录二 单位（社区）登记注册党员志愿队伍花名册, as XLSX or PDF;
- ``volunteer_roster`` — 附录三 单位（社区）登记注册党员志愿者花名册, as XLSX or PDF;
- ``registration_form`` — 附录一 党员志愿者注册登记表 of one volunteer, filled, as a PDF to sign.

Who sees what: rows are limited by ``core.security.scoped`` (the teams plugin's team-tree scoping) and,
for a team filter, by ``teams.services.admin_team_ids``: a team admin only ever gets their own team and
its sub-teams (AC6). Phones and ID numbers are masked on the server (PR5); ``full=True`` needs the
sensitive-data permission of every plugin owning a column and writes a ``pii.exported`` audit row.
The documents are Chinese official forms: their titles and headings are the handbook's own words.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import peewee as pw
from flask_babel import lazy_gettext as _l

from core import audit, inputs, security
from core.db import today
from core.pii import age_on, mask_id, mask_phone
from plugins.documents.services import Cell, Column, Para, form_pdf, table_pdf, table_xlsx
from plugins.teams.models import Membership, Team
from plugins.teams.services import admin_team_ids, tree_ids
from plugins.volunteers.models import Volunteer

TEAM_ROSTER_TITLE = "单位（社区）登记注册党员志愿队伍花名册"
VOLUNTEER_ROSTER_TITLE = "单位（社区）登记注册党员志愿者花名册"
REGISTRATION_TITLE = "党员志愿者注册登记表"
PLEDGE = ("我愿意成为一名光荣的党员志愿者。我承诺：作为党员志愿者，主动在服务中亮明党员身份，发挥党员先锋"
          "模范作用，积极参与社区治理，热心服务社区居民，接受社区党组织和人民群众监督。")

TEAM_COLUMNS = [Column("序号", 0.6, 6, "CENTER"), Column("志愿队伍名称", 3.0, 32),
                Column("负责人姓名", 1.2, 12, "CENTER"), Column("联系电话", 1.5, 15, "CENTER"),
                Column("队伍人数", 0.9, 10, "CENTER"), Column("服务方向", 2.6, 30),
                Column("登记日期", 1.3, 13, "CENTER"), Column("备注", 2.0, 24)]
VOLUNTEER_COLUMNS = [Column("序号", 0.6, 6, "CENTER"), Column("姓名", 1.1, 10, "CENTER"),
                     Column("性别", 0.6, 6, "CENTER"), Column("年龄", 0.6, 6, "CENTER"),
                     Column("家庭住址或工作单位", 3.0, 34), Column("联系电话", 1.5, 15, "CENTER"),
                     Column("特长", 1.8, 20), Column("所属志愿队伍", 2.4, 28), Column("备注", 1.5, 18)]

GENDER = {"M": "男", "F": "女"}
ID_TYPE_NAMES = {"cn_id": "居民身份证", "hmt_permit": "港澳台居民居住证",
                 "hk_macau_pass": "港澳居民来往内地通行证", "tw_pass": "台湾居民来往大陆通行证",
                 "passport": "护照", "foreign_permit": "外国人永久居留身份证"}

# permissions needed for full values, per document (every plugin owning an unmasked column agrees)
FULL_PERMISSIONS = {
    "teams": ("teams.team.sensitive", "volunteers.volunteer.sensitive"),
    "volunteers": ("volunteers.volunteer.sensitive",),
    "registration": ("volunteers.volunteer.sensitive",),
}
FORMATS = ("xlsx", "pdf")
# a request builds the whole file: beyond these a roster is a job for a team filter, not one download
# (measured: PDF ~2 ms a row, XLSX ~0.8 ms a row)
MAX_ROWS = {"pdf": 2000, "xlsx": 20000}


class RosterError(Exception):
    """The request cannot be served; ``code`` is the HTTP status a view answers with."""

    def __init__(self, message, code: int = 400):
        super().__init__(str(message))
        self.message, self.code = message, code


class TooManyRows(RosterError):
    def __init__(self, limit: int):
        super().__init__("", 400)
        self.limit = limit


@dataclass
class Document:
    data: bytes
    filename: str          # Chinese, for filename*
    fallback: str          # ASCII, for old browsers
    rows: int = 0
    full: bool = False
    extra: dict = field(default_factory=dict)


def cn_date(d) -> str:
    if d is None:
        return ""
    if isinstance(d, _dt.datetime):
        from core.db import TZ
        d = d.astimezone(TZ).date() if d.tzinfo else d.date()
    return f"{d.year}年{d.month}月{d.day}日"


def _stamp() -> str:
    return today().strftime("%Y%m%d")


# ----------------------------------------------------------------------------------- scope
def may_see_full(user, doc: str, obj=None) -> bool:
    return all(security.can(p, obj, user=user) for p in FULL_PERMISSIONS[doc])


def _tree_key(team: Team):
    return [int(x) for x in team.path.strip("/").split("/") if x.isdigit()] or [team.id]


def visible_teams(user, *, status: str | None = "approved") -> list[Team]:
    """Teams ``user`` may put on a roster, parents before their sub-teams."""
    q = Team.select()
    if status:
        q = q.where(Team.status == status)
    ids = admin_team_ids(user)
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    q = security.scoped(Team, q, "teams.team.view", user=user)
    return sorted(q, key=_tree_key)


def resolve_team(user, raw) -> Team | None:
    """The team a roster is filtered by (``raw`` from a URL or form), or None for "all I may see".
    A team outside the user's tree, or anything that is not a team id, is a RosterError(404) and
    audited: a team admin of A learns nothing about B, whatever the parameter (AC6)."""
    if raw is None or str(raw).strip() in ("", "all"):
        return None
    s = str(raw).strip()
    tid = inputs.parse_id(s)
    if tid is None:
        raise RosterError(_l("No such team."), 404)
    ids = admin_team_ids(user)
    team = None
    if ids is None or tid in ids:
        team = security.scoped(Team, Team.select().where(Team.id == tid), "teams.team.view", user=user).first()
    if team is None:
        audit.log("access.denied", ("teams_team", str(tid)), {"document": "roster"}, user=user)
        raise RosterError(_l("No such team."), 404)
    return team


def _team_ids_for(user, team: Team | None) -> list[int] | None:
    """Team ids a roster covers: the filter team's tree within the user's scope; None = every team."""
    ids = admin_team_ids(user)
    if team is None:
        return ids if ids is None else list(ids)
    tree = tree_ids(team)
    return tree if ids is None else [i for i in tree if i in set(ids)]


def _check_full(user, doc: str, full: bool, obj=None):
    if full and not may_see_full(user, doc, obj):
        audit.log("access.denied", obj, {"permission": " & ".join(FULL_PERMISSIONS[doc]),
                                         "document": doc}, user=user)
        raise RosterError(_l("You may not export full phone and ID numbers."), 403)


def _audit_export(user, doc: str, fmt: str, full: bool, team: Team | None, rows: int, fields: list[str],
                  obj=None):
    """Every export is logged (``export``, as the admin's own exports are); an unmasked one as
    ``pii.exported`` (PR5, AU1) — no personal data in the row itself, only which document, which
    team, how many rows and which fields."""
    details = {"document": doc, "format": fmt, "team": team.id if team else None, "rows": rows}
    if full:
        details["fields"] = fields
    target = obj if obj is not None else (("teams_team", team.id) if team else (doc, ""))
    audit.log("pii.exported" if full else "export", target, details, user=user)


def _reporting_unit(user, team: Team | None) -> str:
    """填报单位: the filter team's organisation (or name); a team admin's own top team when they
    administer exactly one tree; blank (filled in by hand) otherwise."""
    if team is None:
        ids = admin_team_ids(user)
        if not ids:
            return ""
        tops = [t for t in Team.select().where(Team.id.in_(ids)) if t.parent_id not in set(ids)]
        team = tops[0] if len(tops) == 1 else None
    if team is None:
        return ""
    return team.organisation or team.name


def _too_many(fmt: str):
    return RosterError(_l("This roster has more than %(max)s rows, too many for one %(fmt)s file: choose a "
                          "team (or download the XLSX).", max=MAX_ROWS[fmt], fmt=fmt.upper()), 400)


def _reporter(user) -> str:
    return getattr(user, "display_name", "") or getattr(user, "username", "")


# ----------------------------------------------------------------------------------- 附录二
def team_rows(user, team: Team | None = None, *, full: bool = False, max_rows: int | None = None
              ) -> list[list]:
    ids = _team_ids_for(user, team)
    q = Team.select().where(Team.status == "approved")
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    q = security.scoped(Team, q, "teams.team.view", user=user)
    teams = list(q.limit(max_rows + 1) if max_rows else q)
    if max_rows and len(teams) > max_rows:
        raise TooManyRows(max_rows)
    teams.sort(key=_tree_key)
    counts = dict(Membership.select(Membership.team, pw.fn.COUNT(Membership.id))
                  .where((Membership.status == "approved") & Membership.team.in_(q.select(Team.id)))
                  .group_by(Membership.team).tuples())
    names = {t.id: t.name for t in teams}
    rows = []
    for i, t in enumerate(teams, 1):
        remark = f"隶属：{names[t.parent_id]}" if t.parent_id in names else ""
        if t.parent_id and t.parent_id not in names and ids is None:
            remark = f"隶属：{t.parent.name}"
        phone = t.leader_phone if full else mask_phone(t.leader_phone)
        rows.append([i, t.name, t.leader_name, phone, counts.get(t.id, 0), t.service_direction,
                     t.registered_on.isoformat() if t.registered_on else "", remark])
    return rows


def team_roster(user, team: Team | None = None, fmt: str = "xlsx", *, full: bool = False) -> Document:
    """附录二 for ``user``: approved teams of their tree (or of ``team``'s tree), masked unless ``full``."""
    if fmt not in FORMATS:
        raise RosterError(_l("Unknown format."), 404)
    if not security.can("teams.team.view", user=user):
        raise RosterError(_l("Access denied"), 403)
    _check_full(user, "teams", full, team)
    try:
        rows = team_rows(user, team, full=full, max_rows=MAX_ROWS[fmt])
    except TooManyRows:
        raise _too_many(fmt) from None
    fields = [("填报单位（盖章）", _reporting_unit(user, team)), ("填报日期", cn_date(today()))]
    signatures = [("填报人", _reporter(user)), ("负责人签字", ""), ("日期", "　　　　年　　月　　日")]
    maker = table_xlsx if fmt == "xlsx" else table_pdf
    data = maker(TEAM_ROSTER_TITLE, TEAM_COLUMNS, rows, fields=fields, signatures=signatures)
    _audit_export(user, "team_roster", fmt, full, team, len(rows), ["leader_phone"])
    return Document(data, f"党员志愿队伍花名册_{_stamp()}.{fmt}", f"team-roster-{_stamp()}.{fmt}",
                    rows=len(rows), full=full)


# ----------------------------------------------------------------------------------- 附录三
def volunteer_rows(user, team: Team | None = None, *, full: bool = False, max_rows: int | None = None
                   ) -> list[list]:
    ids = _team_ids_for(user, team)
    q = Volunteer.select().where(Volunteer.status == "active")
    if ids is not None:
        q = q.where(Volunteer.id.in_(Membership.select(Membership.volunteer).where(
            Membership.team.in_(ids or [-1]) & (Membership.status == "approved"))))
    q = security.scoped(Volunteer, q, "volunteers.volunteer.view", user=user)
    vols = list(q.order_by(Volunteer.number).limit(max_rows + 1) if max_rows else q.order_by(Volunteer.number))
    if max_rows and len(vols) > max_rows:
        raise TooManyRows(max_rows)
    teams: dict[int, list[str]] = {}
    if vols:
        mq = (Membership.select(Membership.volunteer, Team.name).join(Team)
              .where((Membership.status == "approved") & (Team.status == "approved") &
                     Membership.volunteer.in_(q.select(Volunteer.id))))
        if ids is not None:   # never name a team outside the roster's scope
            mq = mq.where(Membership.team.in_(ids or [-1]))
        for vid, tname in mq.order_by(Team.path).tuples():
            teams.setdefault(vid, []).append(tname)
    remarks: dict[int, str] = {}
    if vols:   # other plugins' remarks after the volunteer number (e.g. incentives' star rating)
        from flask import current_app
        for group in current_app.extensions["timebank"].pm.hook.roster_volunteer_remarks(
                volunteer_ids=[v.id for v in vols]):
            for vid, text in (group or {}).items():
                if text:
                    remarks[vid] = f"{remarks[vid]} {text}" if vid in remarks else str(text)
    rows = []
    for i, v in enumerate(vols, 1):
        phone = v.phone if full else mask_phone(v.phone)
        place = v.address or v.employer
        if v.address and v.employer:
            place = f"{v.address}；{v.employer}"
        rows.append([i, v.name, GENDER.get(v.gender, ""), age_on(v.birth_date) if v.birth_date else "",
                     place, phone, v.specialties, "、".join(teams.get(v.id, [])),
                     f"{v.number} {remarks[v.id]}" if v.id in remarks else v.number])
    return rows


def volunteer_roster(user, team: Team | None = None, fmt: str = "xlsx", *, full: bool = False) -> Document:
    """附录三 for ``user``: active volunteers who are approved members of the teams in scope (every
    active volunteer for a site-wide role without a team filter), masked unless ``full``."""
    if fmt not in FORMATS:
        raise RosterError(_l("Unknown format."), 404)
    if not security.can("volunteers.volunteer.view", user=user):
        raise RosterError(_l("Access denied"), 403)
    _check_full(user, "volunteers", full, team)
    try:
        rows = volunteer_rows(user, team, full=full, max_rows=MAX_ROWS[fmt])
    except TooManyRows:
        raise _too_many(fmt) from None
    fields = [("填报单位（盖章）", _reporting_unit(user, team)), ("填报日期", cn_date(today()))]
    signatures = [("填报人", _reporter(user)), ("负责人签字", ""), ("日期", "　　　　年　　月　　日")]
    maker = table_xlsx if fmt == "xlsx" else table_pdf
    data = maker(VOLUNTEER_ROSTER_TITLE, VOLUNTEER_COLUMNS, rows, fields=fields, signatures=signatures)
    _audit_export(user, "volunteer_roster", fmt, full, team, len(rows), ["phone"])
    return Document(data, f"党员志愿者花名册_{_stamp()}.{fmt}", f"volunteer-roster-{_stamp()}.{fmt}",
                    rows=len(rows), full=full)


# ----------------------------------------------------------------------------------- 附录一
def find_volunteer(user, raw) -> Volunteer:
    """A volunteer ``user`` may see (scoped like the volunteers admin), or RosterError(404), audited."""
    s = str(raw or "").strip()
    v = None
    if (n := inputs.parse_id(s)) is not None:
        v = security.scoped(Volunteer, Volunteer.select().where(
            (Volunteer.id == n) & (Volunteer.status != "erased")),
            "volunteers.volunteer.view", user=user).first()
    if v is None or not security.can("volunteers.volunteer.view", v, user=user):
        audit.log("access.denied", ("volunteers_volunteer", s[:64]), {"document": "registration_form"},
                  user=user)
        raise RosterError(_l("No such volunteer."), 404)
    return v


def search_volunteers(user, term: str, limit: int = 50) -> list[Volunteer]:
    """Volunteers in ``user``'s scope whose number or name contains ``term`` (for the 附录一 links)."""
    term = (term or "").strip()[:50]
    q = Volunteer.select().where(Volunteer.status == "active")
    if term:
        q = q.where(Volunteer.number.contains(term) | Volunteer.name.contains(term))
    q = security.scoped(Volunteer, q, "volunteers.volunteer.view", user=user)
    return list(q.order_by(Volunteer.number).limit(limit))


def _masked_text(value: str, full: bool) -> str:
    if not value:
        return ""
    return value if full else "***"


def registration_grid(v: Volunteer, *, full: bool) -> list[list[Cell]]:
    L = lambda text, span=1, rowspan=1: Cell(text, span=span, rowspan=rowspan, label=True)  # noqa: E731
    V = lambda text, span=1, **kw: Cell("" if text is None else str(text), span=span, **kw)  # noqa: E731
    id_no = v.id_number if full else mask_id(v.id_number)
    is_cn = v.id_type == "cn_id"
    other = "" if is_cn else f"{ID_TYPE_NAMES.get(v.id_type, v.id_type)} {id_no}"
    birth = f"{v.birth_date.year}年{v.birth_date.month}月" if v.birth_date else ""
    pledge = [Para("（请抄写）", "LEFT", 9), Para(PLEDGE, "LEFT")]
    if v.pledge_accepted_at:
        pledge.append(Para(f"（已于{cn_date(v.pledge_accepted_at)}在线确认以上承诺）", "LEFT", 9))
    pledge.append(Para("申请人签字：＿＿＿＿＿＿＿＿　　　　年　　月　　日", "RIGHT", space_before=6))
    return [
        [L("姓名"), V(v.name), L("性别"), V(GENDER.get(v.gender, "")), L("出生年月"), V(birth),
         L("民族"), V(v.ethnicity)],
        [L("籍贯"), V(v.native_place), L("户籍所在地"), V(v.household_place), L("政治面貌"),
         V(_masked_text(v.political_status, full)), L("宗教信仰"), V(_masked_text(v.religion, full))],
        [L("学历"), V(v.education), L("职称"), V(v.professional_title), L("职务"), V(v.job_title),
         L("职业"), V(v.occupation)],
        [L("毕业学校与专业", 2), V(v.school_major)],
        [L("工作单位及地址", 2), V(v.employer)],
        [L("居住地址", 2), V(v.address)],
        [L("身份证号码", 2), V(id_no if is_cn else "", 3), L("特长"), V(v.specialties)],
        [L("其他有效证件号", 2), V(other, 3), L("爱好"), V(v.hobbies)],
        [L("联系方式", rowspan=3), L("联系地址"), V(v.address, 4), L("邮编"), V(v.postcode)],
        [L("联系电话"), V(v.phone if full else mask_phone(v.phone))],
        [L("Email"), V(v.email, 4), L("QQ"), V(v.qq)],
        [L("服务意向", 2), V(v.service_intention)],
        [L("个人简历", 2), V(v.resume, min_height=35)],
        [L("申请人承诺", 2), Cell(pledge, min_height=42)],
        [L("备注", 2), V(v.remarks, min_height=12)],
    ]


def registration_form(user, volunteer: Volunteer, *, full: bool = False) -> Document:
    """附录一 filled for ``volunteer``, for signature; ``user`` must be allowed to see the volunteer
    (the caller found them through ``find_volunteer`` or they are the volunteer themself)."""
    _check_full(user, "registration", full, volunteer)
    grid = registration_grid(volunteer, full=full)
    data = form_pdf(REGISTRATION_TITLE, grid, columns=[1.15, 1.2, 1.15, 1.2, 1.15, 1.2, 1.15, 1.2],
                    fields=[("志愿者编号（注册机构填写）", volunteer.number),
                            ("填表日期", cn_date(volunteer.registered_at))])
    _audit_export(user, "registration_form", "pdf", full, None, 1,
                  ["id_number", "phone", "political_status", "religion"], obj=volunteer)
    return Document(data, f"党员志愿者注册登记表_{volunteer.number}.pdf",
                    f"registration-form-{volunteer.number}.pdf", rows=1, full=full)
