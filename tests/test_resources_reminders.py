"""The reminder job of 资源链接 (issue 14 point 1; RULES R-RES-1): each approved team's admins get an inbox
message (core.messages) ``reminder_days_ahead`` days (a setting) before a programme's application window
opens, with the programme's name, window and channel — exactly once per programme, team and window (a
unique row); the public page answers "what can we apply for in the next N days" with N a bounded
parameter."""
from __future__ import annotations

import datetime as dt

import pytest

from test_teams_workflow import new_team

PLUGINS = ["volunteers", "teams", "resources"]
DAY = dt.date(2026, 7, 18)      # programmes 1 and 6 (window 8月-10月) open on 2026-08-01, 14 days later


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="zh_Hans_CN")


@pytest.fixture
def teams(app):
    return (new_team(app, "甲提醒队", admin="ta"), new_team(app, "乙提醒队", admin="tb"),
            new_team(app, "丙未审核队", admin="tc", approved=False))


def inbox(app, username):
    from core.models import Message, User
    with app.app_context():
        u = User.get(User.username == username)
        return [(m.subject, m.body) for m in Message.select().where(Message.recipient == u.id).order_by(Message.id)]


def test_r_res_1_1_reminder_reaches_each_team_once_per_programme_and_window(app, teams):
    from core.models import AuditLog
    from plugins.resources import services
    from plugins.resources.models import Programme, Reminder
    ta, tb, tc = teams
    with app.app_context():
        due = {p.number for p, start in services.reminders_pending(DAY)}
        assert {1, 6} <= due and all(start == dt.date(2026, 8, 1) for _p, start in services.reminders_pending(DAY))
        assert services.send_reminders(DAY - dt.timedelta(days=1)) == \
            2 * len(services.reminders_pending(DAY - dt.timedelta(days=1)))
        before = Reminder.select().count()
        sent = services.send_reminders(DAY)
        assert sent == 2 * (len(due) - len(services.reminders_pending(DAY - dt.timedelta(days=1))))
        # again the same day and the next day: nothing more (one row per programme, team and window)
        assert services.send_reminders(DAY) == 0
        assert services.send_reminders(DAY + dt.timedelta(days=1)) == 0
        assert Reminder.select().count() == before + sent
        assert Reminder.select().where(Reminder.team == tc).count() == 0
        p1 = Programme.get(Programme.number == 1)
        rows = list(Reminder.select().where(Reminder.programme == p1))
        assert sorted((r.team_id, r.window_start, r.recipients) for r in rows) == \
            [(ta, dt.date(2026, 8, 1), 1), (tb, dt.date(2026, 8, 1), 1)]
        assert AuditLog.select().where(AuditLog.action == "resources.reminders_sent").count() >= 1
    mine = inbox(app, "ta")
    about_p1 = [(s, b) for s, b in mine if p1.name in s]
    assert len(about_p1) == 1
    subject, body = about_p1[0]
    assert "2026-08-01" in body and p1.window_text in body
    assert (p1.channel or p1.email or p1.url)[:20] in body
    assert len(inbox(app, "tb")) == len(mine) and inbox(app, "tc") == []


def test_r_res_1_2_reminder_days_follow_the_setting(app, teams, make_user):
    from core import settings
    from plugins.resources import services
    admin = make_user("pa", "platform_admin")
    with app.app_context():
        assert services.send_reminders(dt.date(2026, 7, 2)) == 0          # 30 days ahead: not yet
        settings.change("resources", {"reminder_days_ahead": "30"}, user=admin)
        assert {p.number for p, _d in services.reminders_pending(dt.date(2026, 7, 2))} >= {1, 6}
        assert services.send_reminders(dt.date(2026, 7, 2)) >= 4
        from core.settings import SettingError
        with pytest.raises(SettingError):
            settings.change("resources", {"reminder_days_ahead": "0"}, user=admin)


def test_r_res_1_3_the_daily_task_is_registered(app):
    from plugins.resources import register_tasks
    (task,) = register_tasks(None)
    assert task.name == "resources.reminders" and task.schedule is not None


@pytest.mark.parametrize("query,days", [("", 60), ("?days=10", 10), ("?days=366", 366), ("?days=0", 60),
                                        ("?days=367", 60), ("?days=abc", 60), ("?days=-5", 60)])
def test_r_res_1_4_what_can_we_apply_for_in_the_next_n_days(app, query, days):
    r = app.test_client().get("/resources/" + query)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'name="days" value="{days}"' in html and 'name="days"' in html and 'max="366"' in html


def test_r_res_1_6_migrations_0003_0004_upgrade_a_site_of_the_previous_version(app, teams):
    """A site from before issue 14 points 1 and 5 gets the reminder and points-use tables from migrations
    0003 and 0004 (SQLite and PostgreSQL), with the unique programme-team-window index; running them again
    changes nothing; the reminder job then works."""
    import importlib
    import peewee as pw
    from playhouse.migrate import SchemaMigrator
    from core.db import db
    from plugins.resources import models as M, services
    with app.app_context():
        d = db.obj
        d.drop_tables([M.Reminder, M.PointsUse])
        assert not M.Reminder.table_exists() and not M.PointsUse.table_exists()
        m = SchemaMigrator.from_database(d)
        for name in ("0003_reminders", "0004_points_use"):
            mig = importlib.import_module(f"plugins.resources.migrations.{name}")
            mig.up(m, d)
            mig.up(m, d)
        assert M.Reminder.table_exists() and M.PointsUse.table_exists()
        assert services.send_reminders(DAY) > 0
        r = M.Reminder.select().first()
        with pytest.raises(pw.IntegrityError), db.atomic():
            M.Reminder.create(programme=r.programme_id, team=r.team_id, window_start=r.window_start)
