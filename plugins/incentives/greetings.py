"""Greetings and regular contact (维系, R-INC-4).

Occasions: the Chinese festivals — solar ones (元旦, 劳动节, 国庆节) and lunar ones (春节, 元宵节, 端午节,
中秋节, 重阳节) — International Volunteer Day (5 December) and birthdays. Lunar dates come from
``lunar_python`` (6tail's lunar calendar, maintained, pure Python, no table of our own);
``chinesecalendar`` (already a dependency) only knows statutory days off, not festival dates such as
重阳节, which is not a day off.

Exactly once per person and occasion: a row (occasion, year, volunteer) is inserted — unique index — in the
transaction that sends the message; a second worker's insert conflicts and sends nothing. Birthdays only
with the privacy plugin's consent purpose ``birthday`` when the privacy plugin is on.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, messages
from core.db import today, transaction
from core.models import User
from plugins.volunteers.models import Volunteer

from .models import Contact, Greeting, GreetingTemplate
from .settings import SETTINGS

# code: (label, calendar, month, day)
OCCASIONS = {
    "new_year": (_l("New Year's Day"), "solar", 1, 1),
    "spring_festival": (_l("Spring Festival"), "lunar", 1, 1),
    "lantern": (_l("Lantern Festival"), "lunar", 1, 15),
    "labour_day": (_l("Labour Day"), "solar", 5, 1),
    "dragon_boat": (_l("Dragon Boat Festival"), "lunar", 5, 5),
    "mid_autumn": (_l("Mid-Autumn Festival"), "lunar", 8, 15),
    "double_ninth": (_l("Double Ninth Festival"), "lunar", 9, 9),
    "national_day": (_l("National Day"), "solar", 10, 1),
    "volunteer_day": (_l("International Volunteer Day"), "solar", 12, 5),
    "birthday": (_l("Birthday"), "birthday", 0, 0),
}

# the shipped texts, in Chinese (the admin edits them on 激励与维系 → 问候模板); {name} is the volunteer's name
DEFAULT_TEMPLATES = {
    "new_year": ("元旦快乐", "{name}您好：新年伊始，感谢您一年来的志愿服务，祝您元旦快乐、身体健康！"),
    "spring_festival": ("新春快乐", "{name}您好：值此新春佳节，感谢您的志愿服务与奉献，祝您阖家幸福、万事如意！"),
    "lantern": ("元宵节快乐", "{name}您好：元宵佳节，祝您和家人团团圆圆、幸福安康！"),
    "labour_day": ("劳动节快乐", "{name}您好：五一劳动节，向用行动服务社区的您致敬！"),
    "dragon_boat": ("端午安康", "{name}您好：端午时节，祝您端午安康！感谢您对社区的付出。"),
    "mid_autumn": ("中秋快乐", "{name}您好：月圆人团圆，祝您中秋快乐、阖家美满！"),
    "double_ninth": ("重阳节问候", "{name}您好：重阳敬老，感谢您对长者的关爱与陪伴，祝您健康长寿！"),
    "national_day": ("国庆快乐", "{name}您好：国庆佳节，感谢您的志愿服务，祝您节日快乐！"),
    "volunteer_day": ("国际志愿者日问候",
                      "{name}您好：12月5日是国际志愿者日。感谢您奉献爱心、服务社区，向您致以崇高的敬意！"),
    "birthday": ("生日快乐", "{name}您好：今天是您的生日，感谢您的志愿服务，祝您生日快乐、身体健康！"),
}


def load_templates():
    for code, (subject, body) in DEFAULT_TEMPLATES.items():
        GreetingTemplate.insert(occasion=code, subject=subject, body=body).on_conflict_ignore().execute()


def occasion_label(code: str) -> str:
    return str(OCCASIONS[code][0]) if code in OCCASIONS else code


def occasions_on(day: _dt.date) -> list[str]:
    """The festival occasions that fall on ``day`` (lunar dates converted by lunar_python; a leap month
    never counts)."""
    from lunar_python import Solar
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    out = []
    for code, (_label, cal, month, dday) in OCCASIONS.items():
        if cal == "solar" and (day.month, day.day) == (month, dday):
            out.append(code)
        elif cal == "lunar" and lunar.getMonth() == month and lunar.getDay() == dday:
            out.append(code)
    return out


def _privacy_on() -> bool:
    return "privacy" in current_app.extensions["timebank"].loaded


def _birthday_people(day: _dt.date):
    days = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        days.append((2, 29))        # born on 29 February: greeted on the 28th in other years
    people = []
    q = Volunteer.select(Volunteer.id, Volunteer.name, Volunteer.user, Volunteer.birth_date).where(
        (Volunteer.status == "active") & Volunteer.birth_date.is_null(False) & Volunteer.user.is_null(False))
    for v in q:
        if (v.birth_date.month, v.birth_date.day) in days:
            people.append(v)
    if people and _privacy_on():
        from plugins.privacy.consents import consented
        people = [v for v in people if consented(v, "birthday")]
    return people


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def recipients(code: str, day: _dt.date):
    if code == "birthday":
        return _birthday_people(day)
    return list(Volunteer.select(Volunteer.id, Volunteer.name, Volunteer.user).where(
        (Volunteer.status == "active") & Volunteer.user.is_null(False)).order_by(Volunteer.id))


def greet(code: str, volunteer, day: _dt.date, template: GreetingTemplate) -> bool:
    """Greet one volunteer for ``code`` in ``day``'s year, at most once: the (occasion, year, volunteer)
    row is inserted first; when another worker has it already, nothing is sent. True when sent here."""
    with transaction():
        inserted = (Greeting.insert(occasion=code, year=day.year, volunteer=volunteer.id)
                    .on_conflict_ignore().as_rowcount().execute())
        if not inserted:
            return False
        subject = template.subject.replace("{name}", volunteer.name)
        body = template.body.replace("{name}", volunteer.name)
        messages.send(User.get_by_id(volunteer.user_id), subject, body, category="incentives.greeting",
                      dedupe_key=f"incentives.greeting:{code}:{day.year}")
    return True


def run(day: _dt.date | None = None) -> dict[str, int]:
    """Send the greetings due on ``day`` (default today); safe to run twice or in two workers at once."""
    day = day or today()
    if not SETTINGS.get("greetings_enabled"):
        return {}
    codes = occasions_on(day) + ["birthday"]
    templates = {t.occasion: t for t in GreetingTemplate.select().where(
        GreetingTemplate.occasion.in_(codes) & (GreetingTemplate.active == True))}  # noqa: E712
    sent = {}
    for code in codes:
        t = templates.get(code)
        if t is None:
            continue
        n = sum(1 for v in recipients(code, day) if greet(code, v, day, t))
        if n:
            sent[code] = n
            audit.log("incentives.greetings_sent", None, {"occasion": code, "year": day.year, "sent": n})
    return sent


def daily_task():
    run()


# ----------------------------------------------------------------------------- regular contact
def months_ago(day: _dt.date, months: int) -> _dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    import calendar
    return _dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def last_contacts(volunteer_ids) -> dict[int, _dt.date]:
    import peewee as pw
    ids = list(volunteer_ids)
    if not ids:
        return {}
    return dict(Contact.select(Contact.volunteer, pw.fn.MAX(Contact.contacted_on)).where(
        Contact.volunteer.in_(ids)).group_by(Contact.volunteer).tuples())


def not_contacted(query, months: int | None = None, day: _dt.date | None = None):
    """Active volunteers of ``query`` (already scoped to the viewer) with no contact recorded in the last
    ``months`` (setting ``not_contacted_months``), longest-waiting first."""
    months = months or SETTINGS.get("not_contacted_months")
    cutoff = months_ago(day or today(), months)
    recent = Contact.select(Contact.volunteer).where(Contact.contacted_on > cutoff)
    return query.where((Volunteer.status == "active") & Volunteer.id.not_in(recent)).order_by(Volunteer.number)


def record_contact(volunteer, *, note: str = "", day: _dt.date | None = None, actor=None) -> Contact:
    from core.errors import FieldErrors
    note = (note or "").strip()
    if len(note) > 500:
        raise FieldErrors({"note": _l("At most %(n)s characters.", n=500)})
    with transaction():
        c = Contact.create(volunteer=volunteer.id, contacted_on=day or today(), note=note,
                           by_user=getattr(actor, "id", None))
        audit.log("incentives.contacted", ("volunteer", volunteer.id), {}, user=actor)
    return c
