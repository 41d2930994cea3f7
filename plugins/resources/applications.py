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

from .models import CATEGORIES, GROUPS, Application, BudgetLine, Member
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


def save(team, data: dict, members: list[dict], line_rows: list[dict], *, application=None, actor=None):
    """Create or update a draft 申报书 of ``team``: checks everything, then writes the application, its
    members and budget lines in one transaction (FieldErrors beside the fields, nothing written). Members
    are {"volunteer": id, "duty", "responsibility"}; line rows hold text as typed (yuan) or fen ints."""
    if application is not None and application.status not in EDITABLE:
        raise FieldErrors(_l("Only a draft can be changed."))
    lines, errors = parse_lines(line_rows)
    errors = {**check(data, members, lines), **errors}
    if errors:
        raise FieldErrors(errors)
    values = {f: data.get(f) for f in FIELDS if f in data}
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
            Member.delete().where(Member.application == application).execute()
            BudgetLine.delete().where(BudgetLine.application == application).execute()
            action = "resources.application.updated"
        for m in members:
            Member.create(application=application, volunteer=m["volunteer"], duty=m.get("duty", "")[:100],
                          responsibility=m.get("responsibility", ""))
        for i, ln in enumerate(lines):
            BudgetLine.create(application=application, position=i, category=ln.category, detail=ln.detail,
                              unit_price=ln.unit_price, quantity=ln.quantity, amount=ln.amount, note=ln.note)
        audit.log(action, application, {"members": len(members), "lines": len(lines),
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
