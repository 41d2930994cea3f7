"""Resource links (RULES R-RES-1): loading the handbook's catalogue, searching it, and the windows that open
soon. Public API: load_catalogue, programmes, accounts, next_opening, upcoming, reminders_due, SETTINGS."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from core.db import today, transaction
from core.settings import PluginSettings

from .models import Account, Programme

DATA = Path(__file__).with_name("catalogue.json")
SETTINGS = PluginSettings(__file__)
DISTRICTS = ("越秀区", "海珠区", "荔湾区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区",
             "从化区", "增城区")
# the resource types people search by (the words of the handbook's 服务资源种类 column)
RESOURCE_TYPES = ("资金", "物资", "志愿者", "志愿服务", "培训", "项目")
_DISTRICT = re.compile("(" + "|".join(d[:-1] for d in DISTRICTS) + ")区?")


def district_of(name: str) -> str:
    """The district a name mentions (“广州市天河区慈善会” → 天河区), else 全市 for a Guangzhou body, else ""."""
    m = _DISTRICT.search(name or "")
    if m:
        return m.group(1) + "区"
    if "广东" in (name or ""):
        return "广东省"
    return "全市"


def load_catalogue() -> tuple[int, int]:
    """Load the 17 programmes and the public accounts of handbook 篇4 二(一)1–2 from catalogue.json, text as
    printed. Idempotent: numbers already present are left alone (an admin's edits survive). Returns the
    (programmes, accounts) added."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    have_p = {n for (n,) in Programme.select(Programme.number).tuples()}
    have_a = {n for (n,) in Account.select(Account.number).tuples()}
    added_p = added_a = 0
    with transaction():
        for r in data["programmes"]:
            if r["number"] in have_p:
                continue
            Programme.create(
                number=r["number"], name=r["name"], window_text=r["window_text"],
                months=",".join(str(m) for m in r["months"]), funding_text=r["funding_text"],
                funding_min=None if r["funding_min"] is None else r["funding_min"] * 100,
                funding_max=None if r["funding_max"] is None else r["funding_max"] * 100,
                email=r["email"], channel=r["channel"], url=r["url"], district=r["district"],
                resource_types="、".join(r["types"]), notes=r.get("notes", ""))
            added_p += 1
        for number, name, wechat, types in data["accounts"]:
            if number in have_a:
                continue
            Account.create(number=number, name=name, wechat_id=wechat, resource_types=types,
                           district=district_of(name))
            added_a += 1
    return added_p, added_a


def _filtered(model, rtype: str = "", district: str = "", q: str = ""):
    query = model.select().where(model.active == True)  # noqa: E712
    if rtype:
        query = query.where(model.resource_types.contains(rtype))
    if district:
        query = query.where(model.district == district)
    if q:
        query = query.where(model.name.contains(q))
    return query.order_by(model.number)


def programmes(rtype: str = "", district: str = "", q: str = "") -> list[Programme]:
    return list(_filtered(Programme, rtype, district, q))


def accounts(rtype: str = "", district: str = "", q: str = "") -> list[Account]:
    return list(_filtered(Account, rtype, district, q))


def _window_starts(months: list[int]) -> list[int]:
    """The months in which a window begins: 8,9,10 → [8]; 12,1 → [12]."""
    s = set(months)
    return sorted(m for m in s if ((m - 2) % 12) + 1 not in s) or sorted(s)[:1]


def next_opening(p: Programme, on: dt.date | None = None) -> tuple[str, dt.date | None]:
    """("open", None) while the window is open, ("opens", first day) for the next window start,
    ("irregular", None) for 不定期 or no printed window."""
    on = on or today()
    months = p.month_list()
    if not months:
        return "irregular", None
    if on.month in months:
        return "open", None
    best = None
    for m in _window_starts(months):
        year = on.year if m > on.month else on.year + 1
        d = dt.date(year, m, 1)
        best = d if best is None or d < best else best
    return "opens", best


def upcoming(days: int | None = None, on: dt.date | None = None) -> list[tuple[Programme, str, dt.date | None]]:
    """The programmes one can apply to now or whose window opens within ``days`` (setting upcoming_days)."""
    on = on or today()
    days = SETTINGS.get("upcoming_days") if days is None else days
    out = []
    for p in programmes():
        state, d = next_opening(p, on)
        if state == "open" or (state == "opens" and (d - on).days <= days):
            out.append((p, state, d))
    return sorted(out, key=lambda t: (t[1] != "open", t[2] or on, t[0].number))


def reminders_due(on: dt.date | None = None) -> list[Programme]:
    """The programmes whose window opens exactly ``reminder_days_ahead`` days after ``on`` (a daily job
    reminds teams of them)."""
    on = on or today()
    ahead = SETTINGS.get("reminder_days_ahead")
    return [p for p in programmes()
            if next_opening(p, on) == ("opens", on + dt.timedelta(days=ahead))]


def reminders_pending(on: dt.date | None = None) -> list[tuple[Programme, dt.date]]:
    """(programme, first day of its next window) for every window that opens after ``on`` and at most
    ``reminder_days_ahead`` days later. A daily job sends on the first day a window enters this range, i.e.
    N days before it opens; a day the job missed is caught up the next day (the unique row sends once)."""
    on = on or today()
    ahead = SETTINGS.get("reminder_days_ahead")
    out = []
    for p in programmes():
        state, d = next_opening(p, on)
        if state == "opens" and 0 < (d - on).days <= ahead:
            out.append((p, d))
    return out


def _reminder_text(p: Programme, start: dt.date):
    from flask_babel import gettext as _
    subject = _("Funding programme opens soon: %(name)s", name=p.name)
    lines = [_("The application window of “%(name)s” opens on %(date)s (%(window)s).", name=p.name,
               date=start.isoformat(), window=p.window_text or start.isoformat())]
    if p.funding_text:
        lines.append(_("Funding: %(text)s", text=p.funding_text))
    how = "；".join(x for x in (p.channel, p.email, p.url) if x)
    if how:
        lines.append(_("How to apply: %(how)s", how=how))
    return subject, "\n".join(lines)


def send_reminders(on: dt.date | None = None) -> int:
    """The daily reminder job (issue 14 point 1): each approved team's admins get an inbox message
    (core.messages, through every channel) about each programme whose window opens within
    ``reminder_days_ahead`` days, with its name, window and channel — exactly once per programme, team
    and window (a unique ``Reminder`` row, written before the messages in the same transaction; the
    messages' dedupe keys hold even when a concurrent run gets past the row). Returns the reminders
    written; audited ``resources.reminders_sent``."""
    import peewee as pw
    from core import audit, messages
    from plugins.teams.models import Team
    from plugins.teams.services import team_admin_users
    from .models import Reminder
    on = on or today()
    due = reminders_pending(on)
    if not due:
        return 0
    teams = list(Team.select(Team.id).where(Team.status == "approved").order_by(Team.id))
    written = []
    for p, start in due:
        have = {t for (t,) in Reminder.select(Reminder.team).where(
            (Reminder.programme == p.id) & (Reminder.window_start == start)).tuples()}
        for t in teams:
            if t.id in have:
                continue
            users = team_admin_users(t.id)
            try:
                with transaction():
                    Reminder.create(programme=p.id, team=t.id, window_start=start, recipients=len(users))
                    for u in users:
                        messages.send_translated(u, lambda p=p, start=start: _reminder_text(p, start),
                                                 category="resources",
                                                 dedupe_key=f"resources.reminder:{p.id}:{t.id}:{start.isoformat()}")
            except pw.IntegrityError:
                continue        # another run wrote it first
            written.append((p.id, t.id, start.isoformat(), len(users)))
    if written:
        audit.log("resources.reminders_sent", None, {"day": on.isoformat(), "reminders": len(written),
                                                     "programmes": sorted({w[0] for w in written})})
    return len(written)


def send_reminders_task():
    """The scheduled task: today's reminders (see send_reminders)."""
    return send_reminders()
