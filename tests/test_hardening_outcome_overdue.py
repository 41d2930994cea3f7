"""Outcome and hours overdue (R-ACT-8, R-NAT-3; issue 11 point 17).

Within 5 working days after an activity the organiser records its outcome and confirms the hours; the
national rule's 10 working days are the hard limit. Both are settings and count working days on the
Chinese calendar. Before this, the due date was only displayed: nothing flagged a late activity and
nobody was reminded. Now the platform and team dashboards list the overdue activities with links, and a
periodic task reminds the organiser once per activity and threshold, audited. The clock is moved with
the activities tests' ``clock`` fixture.

Calendar used: an activity on Monday 2025-09-29 ends before the National Day holiday (10-01…10-08); the
Saturday 10-11 is a 调休 working day. 5 working days after 09-29: 09-30, 10-09, 10-10, 10-11, 10-13 →
due 2025-10-13; 10 working days: … 10-14, 10-15, 10-16, 10-17, 10-20 → hard limit 2025-10-20.
"""
from __future__ import annotations

import json

import pytest

from fixtures.activities_plugins.actsupport import (at, clock, make_site, new_activity, quick_hashing,  # noqa: F401
                                                    set_setting, shift_ids, slot, volunteers)
from fixtures.security_plugins.secsupport import logged_in
from test_teams_workflow import new_team


@pytest.fixture
def site(make_app, monkeypatch, clock):  # noqa: F811
    quick_hashing(monkeypatch)
    app = make_site(make_app)
    team = new_team(app, "探访队", admin="organiser")
    other = new_team(app, "别的队", admin="stranger")
    clock.set(at("2025-09-20", 10))
    aid = new_activity(app, team, shifts=[slot(at("2025-09-29", 9), hours=3)])
    (sid,) = shift_ids(app, aid)
    (vid,) = volunteers(app, 81, 1)
    from plugins.activities import services
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        s = services.sign_up(Volunteer.get_by_id(vid), Shift.get_by_id(sid))
        assert s.status == "confirmed"
    clock.set(at("2025-09-29", 13))
    with app.app_context():
        assert services.finish_due() == 1
    return app, aid, team, other, s.id


def inbox(app, username):
    from core.models import Message, User
    with app.app_context():
        u = User.get(User.username == username)
        return [(m.subject, m.body, m.dedupe_key) for m in Message.select().where(
            (Message.recipient == u.id) & (Message.category == "activities.outcome_overdue")).order_by(Message.id)]


def audits(app, aid):
    from core.models import AuditLog
    with app.app_context():
        return [(a.action, json.loads(a.details)["threshold"]) for a in AuditLog.select().where(
            AuditLog.action.startswith("activity.outcome_") & (AuditLog.object_id == str(aid))).order_by(AuditLog.id)]


def overdue_ids(app, team_ids=None):
    from plugins.activities import overdue
    with app.app_context():
        return [(o.activity.id, o.threshold) for o in overdue.overdue(team_ids)]


def run_task(app):
    from plugins.activities import tasks
    with app.app_context():
        return tasks.flag_overdue_outcomes()


def test_r_act_8_r_nat_3_overdue_outcome_reminded_once_per_threshold_on_the_chinese_calendar(site, clock):  # noqa: F811
    """issue 11 point 17: not overdue on the due day (10-13, after the National Day week and the Saturday
    调休 workday); overdue the next working day → one reminder to the organiser, audited, not repeated;
    past the national hard limit (10-20) → one more reminder, audited, not repeated."""
    app, aid, team, other, _sid = site
    clock.set(at("2025-10-13", 23, 30))
    assert overdue_ids(app) == [] and run_task(app) == 0

    clock.set(at("2025-10-14", 9))
    assert overdue_ids(app) == [(aid, "due")]
    assert run_task(app) == 1
    assert run_task(app) == 0                         # the scheduler runs again: nothing new
    msgs = inbox(app, "organiser")
    assert len(msgs) == 1 and msgs[0][2] == f"activities.outcome_overdue:{aid}:due"
    assert "2025-10-13" in msgs[0][1] and "5" in msgs[0][1]
    assert inbox(app, "stranger") == []
    assert audits(app, aid) == [("activity.outcome_overdue", "due")]

    clock.set(at("2025-10-20", 18))
    assert overdue_ids(app) == [(aid, "due")] and run_task(app) == 0
    clock.set(at("2025-10-21", 9))
    assert overdue_ids(app) == [(aid, "hard")]
    assert run_task(app) == 1 and run_task(app) == 0
    msgs = inbox(app, "organiser")
    assert [m[2] for m in msgs] == [f"activities.outcome_overdue:{aid}:due", f"activities.outcome_overdue:{aid}:hard"]
    assert "2025-10-20" in msgs[1][1] and "10" in msgs[1][1]
    assert audits(app, aid) == [("activity.outcome_overdue", "due"), ("activity.outcome_hard_limit", "hard")]


def test_r_act_8_outcome_and_hours_done_is_no_longer_overdue(site, clock):  # noqa: F811
    """issue 11 point 17: overdue while the outcome or a participant's hours are missing; both done, the
    activity leaves the list (and a missed worker run then sends nothing)."""
    app, aid, team, other, sid = site
    from plugins.activities import overdue, services
    from plugins.activities.models import Activity
    clock.set(at("2025-10-15", 9))
    with app.app_context():
        (o,) = overdue.overdue()
        assert o.outcome_missing and o.hours_missing == 1
        services.submit_outcome(Activity.get_by_id(aid), served_count=1, summary="打扫卫生，陪伴聊天。",
                                beneficiary_types="独居老人", recorder="李老师")
        (o,) = overdue.overdue()
        assert not o.outcome_missing and o.hours_missing == 1
        services.confirm_hours(Activity.get_by_id(aid), {sid: None})
        assert Activity.get_by_id(aid).status == "closed"
        assert overdue.overdue() == []
    assert run_task(app) == 0 and inbox(app, "organiser") == [] and audits(app, aid) == []


def test_r_act_8_due_dates_follow_the_settings(site, clock):  # noqa: F811
    """issue 11 point 16/17: the 5 and 10 working days are settings; changing them moves the due dates."""
    app, aid, *_ = site
    clock.set(at("2025-10-14", 9))
    set_setting(app, "activities.outcome_workdays", 6)
    assert overdue_ids(app) == []                       # due 10-14 now
    set_setting(app, "activities.outcome_workdays", 3)
    set_setting(app, "activities.outcome_hard_limit_workdays", 4)
    assert overdue_ids(app) == [(aid, "hard")]          # hard limit 10-11 (the 调休 Saturday)


def test_r_act_8_dashboards_list_overdue_activities_with_links(site, clock):  # noqa: F811
    """issue 11 point 17: the team's dashboard and the platform's list the overdue activity with links
    to record the outcome and confirm the hours; another team's admin does not see it."""
    app, aid, team, other, _sid = site
    from conftest import PASSWORD  # noqa: F401
    from core.models import User
    from core.security import grant_role, hash_password
    with app.app_context():
        u = User.create(username="platform", password_hash=hash_password("correct horse battery staple"))
        grant_role(u, "platform_admin", "")
    clock.set(at("2025-10-14", 9))
    for who in ("organiser", "platform"):
        html = logged_in(app, who).get("/admin/").get_data(True)
        assert "tb-overdue-outcomes" in html, who
        assert f"/admin/activities_activity/outcome/?id={aid}" in html, who
        assert f"/admin/activities_activity/hours/?id={aid}" in html, who
        assert "2025-10-13" in html
    page = logged_in(app, "organiser").get(f"/admin/activities_activity/outcome/?id={aid}").get_data(True)
    assert "2025-10-13" in page and "2025-10-20" in page   # due date and hard limit from the settings
    html = logged_in(app, "stranger").get("/admin/").get_data(True)
    assert "tb-overdue-outcomes" in html and f"outcome/?id={aid}" not in html
    clock.set(at("2025-10-21", 9))
    html = logged_in(app, "organiser").get("/admin/").get_data(True)
    assert "2025-10-20" in html and 'class="text-danger"' in html
