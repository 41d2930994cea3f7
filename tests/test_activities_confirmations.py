"""Trainings (R-ACT-6): the organiser answers sign-ups within 2 working days on the Chinese calendar;
late ones are flagged to the organising team's admins once each, and shown on their dashboard."""
from __future__ import annotations

import datetime as _dt

import pytest

from fixtures.activities_plugins.actsupport import make_site, new_activity, quick_hashing, shift_ids, slot, soon, volunteers
from test_teams_workflow import new_team


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_site(make_app)
    return app, new_team(app, "培训队", admin="trainer")


def _age_signup(app, signup_id, created):
    from plugins.activities.models import SignUp
    with app.app_context():
        SignUp.update(created_at=created).where(SignUp.id == signup_id).execute()


def test_r_act_6_training_signups_waiting_past_two_working_days_are_flagged_once(site):
    app, team_id = site
    aid = new_activity(app, team_id, kind="training", auto_confirm="", shifts=[slot(soon(20))])
    (sid,) = shift_ids(app, aid)
    fresh, old = volunteers(app, 61, 2)
    from core.db import TZ, now
    from core.models import Message, User
    from plugins.activities import services, tasks
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        s_fresh = services.sign_up(Volunteer.get_by_id(fresh), Shift.get_by_id(sid))
        s_old = services.sign_up(Volunteer.get_by_id(old), Shift.get_by_id(sid))
        assert s_fresh.status == s_old.status == "pending"
    # applied a Friday a week ago: two working days later (Tue) are long past
    t = now().astimezone(TZ)
    friday = (t - _dt.timedelta(days=(t.weekday() - 4) % 7 + 7)).replace(hour=10)
    _age_signup(app, s_old.id, friday)
    with app.app_context():
        late = services.pending_confirmations()
        assert [s.id for s in late] == [s_old.id]
        assert {s.id for s in services.pending_confirmations(overdue_only=False)} == {s_old.id, s_fresh.id}
        assert tasks.flag_overdue_confirmations() == 1
        tasks.flag_overdue_confirmations()  # the scheduler runs again: nothing new
        admin = User.get(User.username == "trainer")
        msgs = list(Message.select().where((Message.recipient == admin) & (Message.category == "activities.overdue")))
        assert len(msgs) == 1 and msgs[0].dedupe_key == f"activities.pending:{s_old.id}"
        # once decided, it is no longer waiting
        services.confirm([s_old])
        assert services.pending_confirmations() == []


def test_r_act_6_dashboard_shows_the_waiting_sign_ups_to_the_team_admin(site):
    app, team_id = site
    aid = new_activity(app, team_id, kind="training", auto_confirm="", shifts=[slot(soon(20))])
    (sid,) = shift_ids(app, aid)
    (vid,) = volunteers(app, 71, 1)
    from plugins.activities import services
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        services.sign_up(Volunteer.get_by_id(vid), Shift.get_by_id(sid))
    from fixtures.security_plugins.secsupport import logged_in
    c = logged_in(app, "trainer")
    html = c.get("/admin/").get_data(True)
    assert "/admin/activities_signup/" in html
    assert "0 past the confirmation deadline" in html or "0 个已超过确认期限" in html
