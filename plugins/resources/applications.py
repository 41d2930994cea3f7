"""The funding application (申报书; RULES R-RES-2, R-RES-3): saving a draft with every rule checked on the
server (FieldErrors beside the field or budget line, nothing written), and its 6-step flow 申报 → 评审 → 公示 →
见面会及培训 → 实施 → 末期评估 through core.workflow (permission per step, reasons on rejection, due dates in
working days, audit). Public API: save, FLOW, check, totals."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core import audit, inputs, money
from core.db import now, transaction
from core.errors import FieldErrors
from core.workflow import Step, Workflow

from .models import (CATEGORIES, CRITERIA, EVALUATION_METHODS, GROUPS, ActivityLink, Application, Attendance,
                     BudgetLine, Member, Objection, Output, Review, ScheduleRow)
from .services import SETTINGS

CATEGORY_LABELS = {"service": _l("Service costs"), "publicity": _l("Publicity"),
                   "transport": _l("Volunteer allowance: transport"), "meals": _l("Volunteer allowance: meals"),
                   "trainer": _l("Training: trainer fee"), "training_material": _l("Training: materials"),
                   "other": _l("Other costs")}
GROUP_LABELS = {"publicity": _l("Publicity"), "allowance": _l("Volunteer allowance"), "training": _l("Training")}
PER_PERSON = {"transport": "transport_max_fen", "meals": "meals_max_fen", "trainer": "trainer_max_fen"}

FLOW = Workflow(
    "resources.application", Application,
    states={"draft": _l("Draft"), "submitted": _l("Submitted"), "reviewing": _l("Under review"),
            "publicity": _l("Public announcement"), "meeting": _l("Meeting and training"),
            "implementing": _l("Implementation"), "evaluating": _l("Final evaluation"),
            "closed": _l("Closed"), "rejected": _l("Not funded")},
    steps=[Step("submit", "draft", "submitted", "resources.application.edit", _l("Submit")),
           Step("start_review", "submitted", "reviewing", "resources.application.review", _l("Start review")),
           Step("send_back", ("submitted", "reviewing"), "draft", "resources.application.review",
                _l("Send back for changes"), reason=True),
           Step("approve", "reviewing", "publicity", "resources.application.review",
                _l("Approve and announce")),
           Step("reject", "reviewing", "rejected", "resources.application.review", _l("Reject"), reason=True),
           Step("announced", "publicity", "meeting", "resources.application.manage",
                _l("Announcement ended without upheld objection")),
           Step("withdraw", "publicity", "rejected", "resources.application.manage",
                _l("Withdraw after an objection"), reason=True),
           Step("trained", "meeting", "implementing", "resources.application.manage",
                _l("Meeting and training held")),
           Step("implemented", "implementing", "evaluating", "resources.application.edit",
                _l("Activities carried out")),
           Step("close", "evaluating", "closed", "resources.application.manage", _l("Close after evaluation"))],
    due={"submitted": lambda: SETTINGS.get("review_workdays"),
         "reviewing": lambda: SETTINGS.get("review_workdays"),
         "publicity": lambda: SETTINGS.get("publicity_workdays")},
)
EDITABLE = ("draft",)


@dataclass
class Line:
    category: str
    detail: str
    unit_price: int      # fen
    quantity: int
    note: str = ""

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    import calendar
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def parse_lines(rows: list[dict]) -> tuple[list[Line], dict]:
    """Budget lines from form rows (text in yuan), and the errors beside each line's fields."""
    lines, errors = [], {}
    for i, r in enumerate(rows):
        k = f"lines-{i}-"
        cat = str(r.get("category") or "")
        if cat not in CATEGORIES:
            errors[k + "category"] = _l("Choose a category for this line.")
        try:
            price = r["unit_price"] if isinstance(r.get("unit_price"), int) else \
                money.parse(r.get("unit_price"), max=10**11, field=k + "unit_price")
        except FieldErrors as e:
            errors.update(e.errors)
            price = 0
        try:
            qty = inputs.parse_int(r.get("quantity"), min=1, max=100000, field=k + "quantity")
        except FieldErrors as e:
            errors.update(e.errors)
            qty = 0
        lines.append(Line(cat, str(r.get("detail") or "")[:200], price, qty, str(r.get("note") or "")[:200]))
    return lines, errors


def check(data: dict, members: list[dict], lines: list[Line]) -> dict:
    """Every rule of R-RES-3 on one draft: {field or "lines-N-field": message}; empty when all hold."""
    s = SETTINGS.all()
    errors: dict = {}
    if not (data.get("activity_name") or "").strip():
        errors["activity_name"] = _l("Enter the activity's name.")
    if len(members) > s["max_members"]:
        errors["members"] = _l("A team application has at most %(n)s members.", n=s["max_members"])
    start, end = data.get("period_start"), data.get("period_end")
    if start and end and end < _add_months(start, s["min_period_months"]):
        errors["period_end"] = _l("The activity must run for at least %(n)s month(s).", n=s["min_period_months"])
    if len(data.get("summary") or "") > s["summary_max_chars"]:
        errors["summary"] = _l("The summary has at most %(n)s characters.", n=s["summary_max_chars"])
    words = [w.strip() for w in s["forbidden_words"].replace("，", ",").split(",") if w.strip()]
    for i, ln in enumerate(lines):
        text = ln.detail + " " + ln.note
        hit = next((w for w in words if w in text), None)
        if hit:
            errors[f"lines-{i}-detail"] = _l("Funds may not pay for “%(word)s” (fixed assets, staff pay, rent, "
                                             "management fees, investment, debt or fines).", word=hit)
        key = PER_PERSON.get(ln.category)
        if key and ln.unit_price > s[key]:
            errors[f"lines-{i}-unit_price"] = _l("At most %(amount)s per person.", amount=money.fmt(s[key]))
    requested = data.get("requested") or 0
    total = sum(ln.amount for ln in lines)
    for group, cats in GROUPS.items():
        part = sum(ln.amount for ln in lines if ln.category in cats)
        cap = s[f"{group}_max_percent"]
        if part * 100 > requested * cap:
            first = next(i for i, ln in enumerate(lines) if ln.category in cats)
            errors.setdefault(f"lines-{first}-amount", _l(
                "%(group)s is %(amount)s, more than %(cap)s%% of the requested amount.",
                group=GROUP_LABELS[group], amount=money.fmt(part), cap=cap))
    if lines and total != requested:
        errors["requested"] = _l("The requested amount must equal the sum of the budget lines (%(amount)s).",
                                 amount=money.fmt(total))
    if (data.get("total_budget") or 0) < requested:
        errors["total_budget"] = _l("The total budget cannot be below the requested amount.")
    return errors


FIELDS = ("activity_name", "field", "target_group", "period_start", "period_end", "place", "total_budget",
          "requested", "summary", "background", "needs", "goals", "content")


METHOD_LABELS = {"phone": _l("Phone follow-up calls"), "survey": _l("Questionnaire survey"),
                 "follow_up": _l("Service follow-up"), "summary": _l("Activity summary"), "other": _l("Other")}
CRITERIA_LABELS = {"significance": _l("Practical significance"),
                   "feasibility": _l("Feasibility and sustainability"), "participation": _l("Participation"),
                   "innovation": _l("Innovation"), "detail": _l("Detailed and thorough plan"),
                   "funding": _l("Funding needs")}
SCHEDULE_FIELDS = ("when", "place", "theme", "content", "materials", "person")


def check_content(team_id, data: dict, schedule: list[dict], outputs: list[dict], *, complete: bool = False
                  ) -> dict:
    """R-RES-4/R-RES-5 on one 申报书: the leader (an approved member of the team) and their mobile, the
    schedule rows (time and theme on every row), outputs (an indicator name and a whole planned number
    from 1), evaluation methods (known keys; 其他 needs its text). ``complete``: what a submitted
    application must have (leader, needs, goals, a schedule row, an output, a method)."""
    from core.pii import PIIError, validate_mobile
    errors: dict = {}
    leader = data.get("leader")
    leader = getattr(leader, "id", leader)
    if leader is not None:
        from plugins.teams.services import member_ids
        if leader not in {r[0] for r in member_ids([team_id]).tuples()}:
            errors["leader"] = _l("The leader must be an approved member of the team.")
    elif complete:
        errors["leader"] = _l("Choose the team's leader.")
    phone = (data.get("leader_phone") or "").strip()
    if phone:
        try:
            data["leader_phone"] = validate_mobile(phone)
        except PIIError as e:
            errors["leader_phone"] = e.args[0]
    elif complete:
        errors["leader_phone"] = _l("Enter the leader's mobile number.")
    for i, r in enumerate(schedule):
        for f in ("when", "theme"):
            if not (r.get(f) or "").strip():
                errors[f"schedule-{i}-{f}"] = _l("Every schedule row needs its time and theme.")
    for i, o in enumerate(outputs):
        if not (o.get("indicator") or "").strip():
            errors[f"outputs-{i}-indicator"] = _l("Name the indicator.")
        try:
            o["planned"] = inputs.parse_int(o.get("planned"), min=1, max=10**7)
        except (TypeError, ValueError):
            errors[f"outputs-{i}-planned"] = _l("Enter the planned number as a whole number from 1.")
    methods = [m for m in data.get("evaluation_methods") or [] if m]
    if any(m not in EVALUATION_METHODS for m in methods):
        errors["evaluation_methods"] = _l("Choose the evaluation methods from the list.")
    elif "other" in methods and not (data.get("evaluation_other") or "").strip():
        errors["evaluation_other"] = _l("Describe the other evaluation method.")
    if complete:
        if not methods:
            errors["evaluation_methods"] = _l("Choose at least one evaluation method.")
        for f, msg in (("needs", _l("Describe the needs analysis.")), ("goals", _l("State measurable goals."))):
            if not (data.get(f) or "").strip():
                errors[f] = msg
        if not schedule:
            errors["schedule"] = _l("Add at least one schedule row.")
        if not outputs:
            errors["outputs"] = _l("Add at least one output with its indicator.")
    return errors


def submit(application, *, actor=None):
    """草稿 → 已申报 once the 申报书 is complete (R-RES-5): the content check with ``complete``, then the
    workflow step; errors beside the fields, nothing written."""
    a = application
    data = {"leader": a.leader_id, "leader_phone": a.leader_phone, "needs": a.needs, "goals": a.goals,
            "evaluation_methods": [m for m in a.evaluation_methods.split(",") if m],
            "evaluation_other": a.evaluation_other}
    errors = check_content(a.team_id, data, [{f: getattr(r, f) for f in SCHEDULE_FIELDS} for r in a.schedule],
                           [{"indicator": o.indicator, "planned": o.planned} for o in a.outputs], complete=True)
    if errors:
        raise FieldErrors(errors)
    return FLOW.move(a, "submit", actor=actor)


def save(team, data: dict, members: list[dict], line_rows: list[dict], *, application=None, actor=None,
         schedule: list[dict] | None = None, outputs: list[dict] | None = None):
    """Create or update a draft 申报书 of ``team``: checks everything, then writes the application, its
    members and budget lines in one transaction (FieldErrors beside the fields, nothing written). Members
    are {"volunteer": id, "duty", "responsibility"}; line rows hold text as typed (yuan) or fen ints."""
    if application is not None and application.status not in EDITABLE:
        raise FieldErrors(_l("Only a draft can be changed."))
    lines, errors = parse_lines(line_rows)
    schedule = [{f: str(r.get(f) or "").strip()[:2000 if f == "content" else 200] for f in SCHEDULE_FIELDS}
                for r in (schedule or [])]
    outputs = [dict(o) for o in (outputs or [])]
    errors = {**check(data, members, lines), **check_content(team.id, data, schedule, outputs), **errors}
    if errors:
        raise FieldErrors(errors)
    values = {f: data.get(f) for f in FIELDS if f in data}
    if "evaluation_methods" in data:
        values["evaluation_methods"] = ",".join(m for m in EVALUATION_METHODS if m in data["evaluation_methods"])
        values["evaluation_other"] = (data.get("evaluation_other") or "").strip()[:200] \
            if "other" in data["evaluation_methods"] else ""
    if "leader_phone" in data:
        values["leader_phone"] = data["leader_phone"] or ""
    with transaction():
        if application is None:
            application = Application.create(team=team, created_by=getattr(actor, "id", None),
                                             leader=data.get("leader"), **values)
            action = "resources.application.created"
        else:
            for k, v in values.items():
                setattr(application, k, v)
            application.leader = data.get("leader", application.leader_id)
            application.updated_at = now()
            application.save()
            for m in (Member, BudgetLine, ScheduleRow, Output):
                m.delete().where(m.application == application).execute()
            action = "resources.application.updated"
        for m in members:
            Member.create(application=application, volunteer=m["volunteer"], duty=m.get("duty", "")[:100],
                          responsibility=m.get("responsibility", ""))
        for i, ln in enumerate(lines):
            BudgetLine.create(application=application, position=i, category=ln.category, detail=ln.detail,
                              unit_price=ln.unit_price, quantity=ln.quantity, amount=ln.amount, note=ln.note)
        for i, r in enumerate(schedule):
            ScheduleRow.create(application=application, position=i, **r)
        for i, o in enumerate(outputs):
            Output.create(application=application, position=i, indicator=o["indicator"].strip()[:100],
                          planned=o["planned"])
        audit.log(action, application, {"members": len(members), "lines": len(lines),
                                        "schedule": len(schedule), "outputs": len(outputs),
                                        "requested": application.requested})
    return application


def totals(application) -> dict:
    """{"total": fen, group: (fen, percent of requested)} for the 合计 and 所占比例 columns."""
    lines = list(application.lines)
    out = {"total": sum(x.amount for x in lines)}
    for group, cats in GROUPS.items():
        part = sum(x.amount for x in lines if x.category in cats)
        out[group] = (part, (part * 100 / application.requested) if application.requested else 0)
    return out
