"""Working days on the Chinese calendar: public holidays and the 调休 weekend workdays.

The ``chinese_calendar`` package knows the State Council's arrangements up to the year it was released
for (it raises for later years). A site can add or correct days in the ``core_calendar_day`` table
(admin: 工作日历): a row there always wins. For a year neither knows, weekdays count as working days and
``missing_years`` reports it so the dashboard can warn the platform admin to enter that year's notice.
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


def is_workday(day: _dt.date, _cache: dict | None = None) -> bool:
    over = _cache if _cache is not None else _overrides(day, day)
    if day in over:
        return over[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


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
