"""The working-day calendar past the holiday library's last year (issue 18 point 8; R-ACT-1, R-ACT-8).

``chinese_calendar`` 1.11 knows 2004–2026. A review submitted on 30 December 2026 must not be due on
1 January 2027 (元旦), the platform admin must be warned that 2027 is unknown, due dates there are marked
provisional, and the site's own calendar page (系统 → 工作日历) fills the gap.
"""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import csrf_from, login

D = dt.date


def _unknown_year():
    import chinese_calendar
    from core import workdays
    year = 2027
    while True:
        try:
            chinese_calendar.is_workday(D(year, 6, 1))
        except NotImplementedError:
            return year
        year += 1
    assert workdays  # pragma: no cover


def test_r_act_1_a_review_due_past_the_calendar_skips_new_year_and_is_provisional(app):
    from core import workdays
    year = _unknown_year()
    with app.app_context():
        start = D(year - 1, 12, 30)
        due = workdays.add_workdays(start, 2)
        assert due != D(year, 1, 1)
        assert not workdays.is_workday(D(year, 1, 1))
        assert not workdays.is_workday(D(year, 10, 2)) and not workdays.is_workday(D(year, 5, 1))
        assert workdays.provisional(due) and not workdays.provisional(start)
        assert workdays.coverage_gaps(D(year - 1, 12, 1), 60) == [year]
        assert workdays.coverage_gaps(D(year - 1, 6, 1), 60) == []


def test_r_act_1_the_site_calendar_page_enters_a_holiday_and_the_due_dates_follow(app, client, make_user):
    from core import workdays
    from core.models import AuditLog
    from core.workdays import CalendarDay
    year = _unknown_year()
    make_user("admin", "platform_admin")
    assert login(client, "admin").status_code == 302
    page = client.get("/admin/core_calendar_day/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "工作日历" in html and "录入节假日或调休上班日" in html
    # the Spring Festival week of the unknown year, entered in one step
    r = client.post("/admin/core_calendar_day/range", data={
        "start": f"{year}-02-08", "end": f"{year}-02-14", "kind": "off", "note": "春节",
        "csrf_token": csrf_from(html)}, follow_redirects=True)
    assert r.status_code == 200 and "已记录 7 天" in r.get_data(as_text=True)
    # and a 调休 Sunday workday
    client.post("/admin/core_calendar_day/range", data={
        "start": f"{year}-02-07", "kind": "work", "note": "调休上班", "csrf_token": csrf_from(html)})
    with app.app_context():
        assert CalendarDay.select().where(CalendarDay.is_workday == False).count() == 7  # noqa: E712
        assert workdays.is_workday(D(year, 2, 7))  # a Sunday, but a 调休 workday
        assert workdays.add_workdays(D(year, 2, 5), 2) == D(year, 2, 15)  # Fri 5th → Sun 7th → Mon 15th
        assert workdays.known_year(year) and not workdays.provisional(D(year, 2, 15))
        row = AuditLog.select().where(AuditLog.action == "calendar.days_set").order_by(AuditLog.id).first()
        assert row is not None and row.username == "admin"


@pytest.mark.parametrize("data, message", [
    ({"start": "2027-03-10", "end": "2027-03-01", "kind": "off"}, "结束日期早于开始日期"),
    ({"start": "2027-01-01", "end": "2028-06-01", "kind": "off"}, "一次最多录入一年"),
    ({"start": "not a date", "kind": "off"}, "从"),
    ({"start": "2027-03-10", "kind": "sometimes"}, "这些日子是"),
])
def test_r_act_1_bad_calendar_input_is_refused_in_chinese_and_writes_nothing(app, client, make_user, data,
                                                                          message):
    from core.workdays import CalendarDay
    make_user("admin", "platform_admin")
    login(client, "admin")
    html = client.get("/admin/core_calendar_day/").get_data(as_text=True)
    r = client.post("/admin/core_calendar_day/range", data={**data, "csrf_token": csrf_from(html)},
                    follow_redirects=True)
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    with app.app_context():
        assert CalendarDay.select().count() == 0


def test_ac5_ac7_the_calendar_needs_a_platform_admin_and_a_csrf_token(app, client, make_user):
    from core.workdays import CalendarDay
    make_user("admin", "platform_admin")
    make_user("ta", "team_admin", scope="1")
    login(client, "ta")
    assert client.get("/admin/core_calendar_day/").status_code == 403
    client.get("/logout")
    login(client, "admin")
    r = client.post("/admin/core_calendar_day/range", data={"start": "2027-03-10", "kind": "off"})
    assert r.status_code == 400
    with app.app_context():
        assert CalendarDay.select().count() == 0


def test_the_dashboard_warns_when_the_calendar_does_not_cover_the_next_60_days(app, client, make_user,
                                                                             monkeypatch):
    import sys
    dbmod = sys.modules["core.db"]  # the module (``core.db`` the attribute is the database proxy)
    year = _unknown_year()
    make_user("admin", "platform_admin")
    login(client, "admin")
    monkeypatch.setattr(dbmod, "today", lambda: D(year - 1, 12, 1))
    html = client.get("/admin/").get_data(as_text=True)
    assert f"工作日历尚未包含 {year} 年" in html and "/admin/core_calendar_day/" in html
    monkeypatch.setattr(dbmod, "today", lambda: D(year - 1, 9, 1))  # 2027 is 120 days away
    assert f"工作日历尚未包含 {year} 年" not in client.get("/admin/").get_data(as_text=True)
    app.config["CALENDAR_WARN_DAYS"] = 150  # the number is a setting: the warning follows it
    assert f"工作日历尚未包含 {year} 年" in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("bad", ["1", "x", "2027-13-01", "2027-02-30", "'; DROP"])
def test_ns2_a_calendar_day_that_is_no_date_is_a_404_not_a_500(app, client, make_user, bad):
    """The calendar's rows are keyed by their date: a crafted id is refused before the database sees it
    (PostgreSQL answers `day = '1'` with an error)."""
    make_user("admin", "platform_admin")
    login(client, "admin")
    for url in ("/admin/core_calendar_day/edit/", "/admin/core_calendar_day/details/"):
        assert client.get(url, query_string={"id": bad}).status_code in (302, 404)
