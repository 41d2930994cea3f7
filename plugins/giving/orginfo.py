"""R-DON-4 (handbook 篇4 二(二)2, 二(三); 慈善法, 慈善组织信息公开办法): the organisation's basic information as
versioned records, with its 30-day publication clock, and the public fundraising and projects shown on the
disclosure page.

- A change of basic information is a new version (``save_basic_info``): the row records when it was made and
  by whom and is never edited afterwards (only its publication is recorded on it).
- ``publish_basic_info`` publishes the newest version on the public disclosure page and records when.
- The clock (``basic_info_clock``): a change not published within ``basic_info_publish_days`` (setting,
  default 30) is overdue. The law counts **calendar days** (信息公开办法: "30日内"), so this clock does not
  use ``core.workdays``: day 1 is the day after the change; published on day 30 at the latest.
- ``save_project``: a public fundraising (公开募捐) or a charity project (慈善项目) with its period and the
  amounts raised (fen, ``core.money``).
"""
from __future__ import annotations

import datetime as _dt

import peewee as pw
from flask_babel import lazy_gettext as _l

from core import audit, inputs, money
from core.db import BaseModel, DateTimeTZField, for_update, now, today, transaction
from core.errors import FieldErrors
from core.money import MoneyField
from plugins.teams.models import Team

BASIC_FIELDS = {   # field → (label, max length, required)
    "org_name": (_l("Organisation name"), 200, True),
    "registration_no": (_l("Registration certificate number or unified social credit code"), 40, True),
    "address": (_l("Domicile"), 300, True),
    "principal": (_l("Person in charge"), 100, True),
    "contact": (_l("Contact details"), 200, True),
    "purpose_scope": (_l("Purpose and scope of business"), 2000, True),
    "other": (_l("Other basic information"), 2000, False),
}
PROJECT_KINDS = {"fundraising": _l("Public fundraising"), "project": _l("Charity project")}


class BasicInfo(BaseModel):
    """One version of a team's basic information. Never edited: a change is the next version."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    version = pw.IntegerField()
    org_name = pw.CharField(max_length=200)
    registration_no = pw.CharField(max_length=40)
    address = pw.CharField(max_length=300)
    principal = pw.CharField(max_length=100)      # 负责人: published by law (not a private person's record)
    contact = pw.CharField(max_length=200)         # the organisation's public contact (phone, e-mail)
    purpose_scope = pw.TextField()
    other = pw.TextField(default="")
    changed_at = DateTimeTZField(default=now)
    changed_by = pw.IntegerField(null=True)
    published_at = DateTimeTZField(null=True)
    published_by = pw.IntegerField(null=True)

    PERSONAL_FIELDS = ("principal", "contact")

    class Meta:
        table_name = "giving_basic_info"
        indexes = ((("team", "version"), True),)


class Project(BaseModel):
    """A public fundraising or a charity project shown on the disclosure page (R-DON-4)."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    kind = pw.CharField(max_length=16, constraints=[pw.Check("kind IN ('fundraising', 'project')")])
    title = pw.CharField(max_length=200)
    record_no = pw.CharField(max_length=64, default="")   # 募捐方案备案编号, when there is one
    starts_on = pw.DateField()
    ends_on = pw.DateField(null=True)
    target = MoneyField(null=True)
    raised = MoneyField(default=0)
    description = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)
    created_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "giving_project"
        constraints = [pw.SQL("CHECK (raised >= 0)")]


MODELS = [BasicInfo, Project]


def _uid(user):
    return getattr(user, "id", None) if hasattr(user, "username") else None


def _require(user, team_id):
    from .services import _require_team
    _require_team(user, team_id)


def latest(team_id: int) -> BasicInfo | None:
    return (BasicInfo.select().where(BasicInfo.team == team_id).order_by(BasicInfo.version.desc()).first())


def published(team_id: int) -> BasicInfo | None:
    """The version the public page shows: the newest published one."""
    return (BasicInfo.select().where((BasicInfo.team == team_id) & BasicInfo.published_at.is_null(False))
            .order_by(BasicInfo.version.desc()).first())


def save_basic_info(team: Team, data: dict, user=None) -> BasicInfo:
    """A change of basic information: the next version, recorded with when it was made (the clock starts)."""
    _require(user, team.id)
    errors, values = {}, {}
    for name, (label, max_length, required) in BASIC_FIELDS.items():
        v = inputs.normalize(data.get(name) or "").strip()
        if required and not v:
            errors[name] = _l("This field is required.")
        elif len(v) > max_length:
            errors[name] = _l("At most %(n)s characters.", n=max_length)
        values[name] = v
    if errors:
        raise FieldErrors(errors)
    with transaction():
        for_update(Team.select().where(Team.id == team.id)).get()     # versions are numbered one at a time
        prev = latest(team.id)
        if prev is not None and all(getattr(prev, k) == v for k, v in values.items()):
            raise FieldErrors(_l("Nothing changed."))
        row = BasicInfo.create(team=team.id, version=(prev.version + 1 if prev else 1), changed_by=_uid(user),
                               **values)
        audit.log("giving.basic_info.changed", row, {"team_id": team.id, "version": row.version,
                                                     "fields": sorted(k for k in values if prev is None
                                                                      or getattr(prev, k) != values[k])},
                  user=user if _uid(user) else None)
    return row


def publish_basic_info(team: Team, user=None) -> BasicInfo:
    """Publish the newest version on the disclosure page; records when (and stops the clock)."""
    _require(user, team.id)
    with transaction():
        row = for_update(BasicInfo.select().where(BasicInfo.team == team.id)
                         .order_by(BasicInfo.version.desc())).first()
        if row is None:
            raise FieldErrors(_l("Enter the basic information first."))
        if row.published_at is not None:
            raise FieldErrors(_l("This version is published already."))
        BasicInfo.update(published_at=now(), published_by=_uid(user)).where(BasicInfo.id == row.id).execute()
        audit.log("giving.basic_info.published", row, {"team_id": team.id, "version": row.version},
                  user=user if _uid(user) else None)
    return BasicInfo.get_by_id(row.id)


def basic_info_clock(team_id: int, on: _dt.date | None = None) -> dict | None:
    """The publication clock of ``team_id``: None when everything is published; otherwise the first change
    not yet published, its deadline (change day + N calendar days) and whether it is overdue."""
    from .services import SETTINGS
    days = int(SETTINGS.get("basic_info_publish_days"))
    last_pub = published(team_id)
    q = BasicInfo.select().where(BasicInfo.team == team_id)
    if last_pub is not None:
        q = q.where(BasicInfo.version > last_pub.version)
    first = q.order_by(BasicInfo.version).first()
    if first is None:
        return None
    on = on or today()
    changed_on = first.changed_at.date()
    deadline = changed_on + _dt.timedelta(days=days)      # calendar days, as the law counts them
    return {"team_id": team_id, "version": first.version, "changed_on": changed_on, "deadline": deadline,
            "days": days, "overdue": on > deadline, "days_late": max(0, (on - deadline).days)}


def overdue(team_ids: list[int] | None, on: _dt.date | None = None) -> list[dict]:
    """Clocks of the given teams (None: every team) that are past their deadline."""
    q = BasicInfo.select(BasicInfo.team).distinct()
    if team_ids is not None:
        q = q.where(BasicInfo.team.in_(team_ids or [0]))
    out = []
    for row in q:
        c = basic_info_clock(row.team_id, on)
        if c and c["overdue"]:
            out.append(c)
    return sorted(out, key=lambda c: c["deadline"])


# --------------------------------------------------------------------------- fundraising and projects
def save_project(team: Team, data: dict, user=None, project: Project | None = None) -> Project:
    """A public fundraising or a charity project: title, period, target and amount raised (fen)."""
    _require(user, team.id)
    errors: dict = {}
    kind = data.get("kind") or ""
    if kind not in PROJECT_KINDS:
        errors["kind"] = _l("Choose public fundraising or charity project.")
    title = inputs.normalize(data.get("title") or "").strip()
    if not title:
        errors["title"] = _l("This field is required.")
    elif len(title) > 200:
        errors["title"] = _l("At most %(n)s characters.", n=200)
    record_no = inputs.normalize(data.get("record_no") or "").strip()[:64]
    description = inputs.normalize(data.get("description") or "").strip()[:5000]
    dates = {}
    for name, required in (("starts_on", True), ("ends_on", False)):
        try:
            dates[name] = inputs.parse_date(data.get(name), field=name, **({} if required else {"default": None}))
        except inputs.InputError as e:
            errors.update(e.errors)
            dates[name] = None
    if dates["starts_on"] and dates["ends_on"] and dates["ends_on"] < dates["starts_on"]:
        errors["ends_on"] = _l("The end is before the start.")
    amounts = {}
    for name, required in (("target", False), ("raised", True)):
        raw = data.get(name)
        if not required and not (raw or "").strip():
            amounts[name] = None
            continue
        try:
            amounts[name] = money.parse(raw if (raw or "").strip() else "0", min=0, field=name)
        except inputs.InputError as e:
            errors.update(e.errors)
    if errors:
        raise FieldErrors(errors)
    values = dict(kind=kind, title=title, record_no=record_no, description=description, **dates, **amounts)
    with transaction():
        if project is None:
            project = Project.create(team=team.id, created_by=_uid(user), **values)
            action = "giving.project.created"
        else:
            Project.update(**values).where(Project.id == project.id).execute()
            action = "giving.project.changed"
        audit.log(action, project, {"team_id": team.id, "kind": kind, "raised_fen": amounts["raised"]},
                  user=user if _uid(user) else None)
    return Project.get_by_id(project.id)


def projects(team_id: int, year: int | None = None) -> list[Project]:
    q = Project.select().where(Project.team == team_id)
    if year:
        start, end = _dt.date(year, 1, 1), _dt.date(year, 12, 31)
        q = q.where((Project.starts_on <= end) & (Project.ends_on.is_null() | (Project.ends_on >= start)))
    return list(q.order_by(Project.starts_on, Project.id))
