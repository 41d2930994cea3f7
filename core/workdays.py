"""Working days on the Chinese calendar: public holidays and the 调休 weekend workdays.

The ``chinese_calendar`` package knows the State Council's arrangements up to the year it was released
for (it raises for later years). A site can add or correct days in the ``core_calendar_day`` table
(admin: 系统 → 工作日历, one day or a whole holiday at a time): a row there always wins. For a year neither
knows, weekdays count as working days except the fixed-date holidays (元旦, 劳动节, 国庆节); the dashboard
warns the platform admin when such a year begins within ``CALENDAR_WARN_DAYS`` (``coverage_gaps``), and
due dates in it are shown as provisional (``provisional``, the ``due_date`` template filter).
"""
from __future__ import annotations

import datetime as _dt

import chinese_calendar
import peewee as pw

from .db import BaseModel, db


class CalendarDay(BaseModel):
    day = pw.DateField(primary_key=True)
    is_workday = pw.BooleanField()
    note = pw.CharField(max_length=100, default="")

    class Meta:
        table_name = "core_calendar_day"


_have_table: set = set()   # the databases (by id) where core_calendar_day is known to exist


def _table_ready() -> bool:
    """Whether the site's calendar table exists (a site whose kernel migration has not run yet has
    none). Asked of the catalogue, never by a query that fails: on PostgreSQL a failed statement
    aborts the caller's whole transaction, so catching its error would only move the failure to the
    caller's next query. Remembered once true (one catalogue query per process)."""
    key = id(db.obj)
    if key in _have_table:
        return True
    if CalendarDay.table_exists():
        _have_table.add(key)
        return True
    return False


def _overrides(start: _dt.date, end: _dt.date) -> dict[_dt.date, bool]:
    """The site's own days between ``start`` and ``end``. Any database error propagates: an error
    swallowed here would leave a PostgreSQL transaction aborted and the deadline silently wrong."""
    if not _table_ready():
        return {}
    rows = CalendarDay.select().where((CalendarDay.day >= start) & (CalendarDay.day <= end))
    return {r.day: r.is_workday for r in rows}


def known_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(_dt.date(year, 1, 1))
        return True
    except NotImplementedError:
        return _table_ready() and CalendarDay.select().where(
            (CalendarDay.day >= _dt.date(year, 1, 1)) & (CalendarDay.day <= _dt.date(year, 12, 31))).exists()


def missing_years(*dates: _dt.date) -> list[int]:
    return sorted({d.year for d in dates if not known_year(d.year)})


def coverage_gaps(start: _dt.date, days: int) -> list[int]:
    """The years between ``start`` and ``days`` later that neither the library nor the site's own calendar
    knows: working days there are guessed from weekdays, so the dashboard warns the platform admin."""
    end = start + _dt.timedelta(days=max(days, 0))
    return [y for y in range(start.year, end.year + 1) if not known_year(y)]


def provisional(day: _dt.date | _dt.datetime | None) -> bool:
    """True when ``day`` lies in a year the calendar does not know: a due date computed there may move
    once the State Council's holiday notice for that year is entered."""
    if day is None:
        return False
    return not known_year(day.year)


def set_days(start: _dt.date, end: _dt.date, is_workday: bool, note: str = "") -> int:
    """Record ``start``..``end`` (inclusive) as working days or days off, replacing what the site had
    entered for those days, in one transaction; returns the number of days. Callers audit."""
    from .db import transaction
    if end < start:
        raise ValueError("end before start")
    days = [start + _dt.timedelta(days=i) for i in range((end - start).days + 1)]
    with transaction():
        CalendarDay.delete().where((CalendarDay.day >= start) & (CalendarDay.day <= end)).execute()
        CalendarDay.insert_many([{"day": d, "is_workday": is_workday, "note": note[:100]} for d in days]).execute()
    return len(days)


# Days off fixed by date in 《全国年节及纪念日放假办法》 (元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct): a year
# the calendar does not know still skips these; the lunar holidays and 调休 need that year's notice.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_workday(day: _dt.date, _cache: dict | None = None) -> bool:
    over = _cache if _cache is not None else _overrides(day, day)
    if day in over:
        return over[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def add_workdays(start: _dt.date | _dt.datetime, n: int) -> _dt.date:
    """The date ``n`` working days after ``start`` (a date or a datetime; the start day itself does not
    count). ``add_workdays(friday_before_national_day, 2)`` skips the holiday week."""
    day = start.date() if isinstance(start, _dt.datetime) else start
    over = _overrides(day, day + _dt.timedelta(days=n * 3 + 30))
    left = n
    while left > 0:
        day += _dt.timedelta(days=1)
        if is_workday(day, over):
            left -= 1
    return day


def workdays_between(start: _dt.date, end: _dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    over = _overrides(start, end)
    n, day = 0, start
    while day < end:
        day += _dt.timedelta(days=1)
        n += is_workday(day, over)
    return n


def deadline(start: _dt.datetime, n: int) -> _dt.datetime:
    """End of the ``n``-th working day after ``start`` (23:59:59 local time) — a due time for reviews."""
    d = add_workdays(start, n)
    tz = start.tzinfo
    return _dt.datetime.combine(d, _dt.time(23, 59, 59), tzinfo=tz)
