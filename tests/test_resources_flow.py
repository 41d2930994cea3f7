"""The 申报书's content and the steps after submission (issue 14; RULES R-RES-4, R-RES-5, R-RES-2): leader,
schedule rows, outputs and evaluation methods checked on every save (errors beside the row, nothing written);
评审 scores by the assigned reviewer on the six criteria (scale a setting, audited); 公示 public list and
objections; attendance; funded activities published through the activities plugin and 入选项目必须在时间银行上线;
the final evaluation closes it."""
from __future__ import annotations

import datetime as dt

import pytest

from test_resources_application import draft, good_lines
from test_teams_workflow import new_team, new_volunteer

PLUGINS = ["volunteers", "teams", "activities", "resources"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")


def join(app, tid, vids):
    from plugins.teams.models import Membership
    with app.app_context():
        for v in vids:
            Membership.get_or_create(team=tid, volunteer=v, defaults={"status": "approved"})
            Membership.update(status="approved").where((Membership.team == tid) & (Membership.volunteer == v)) \
                .execute()


@pytest.fixture
def world(app):
    tid = new_team(app, "甲队", admin="ta")
    vids = [new_volunteer(app, 7300 + i)[0] for i in range(3)]
    join(app, tid, vids)
    return tid, vids


SCHEDULE = [{"when": "2026年3月第1周", "place": "社区活动室", "theme": "启动", "content": "破冰", "materials": "海报",
             "person": "张三"}]
OUTPUTS = [{"indicator": "探访人次", "planned": "40"}]


def content(vids, **over):
    d = draft(leader=vids[0], leader_phone="13800138000", needs="独居长者缺少陪伴",
              evaluation_methods=["phone", "survey"], evaluation_other="")
    d.update(over)
    return d


def save(app, tid, data, schedule=SCHEDULE, outputs=OUTPUTS, members=None, application=None):
    from plugins.resources import applications as A
    from plugins.teams.models import Team
    with app.app_context():
        return A.save(Team.get_by_id(tid), dict(data), members or [], good_lines(), application=application,
                      schedule=[dict(r) for r in schedule], outputs=[dict(o) for o in outputs])


def n_rows(app):
    from plugins.resources.models import Application, Output, ScheduleRow
    with app.app_context():
        return Application.select().count(), ScheduleRow.select().count(), Output.select().count()


def test_r_res_5_content_is_saved_with_leader_phone_encrypted(app, world):
    from plugins.resources.models import Application
    from core.db import db
    tid, vids = world
    a = save(app, tid, content(vids))
    with app.app_context():
        a = Application.get_by_id(a.id)
        assert a.leader_id == vids[0] and a.leader_phone == "13800138000"
        assert a.evaluation_methods == "phone,survey"
        assert [(r.when, r.theme, r.materials) for r in a.schedule] == [("2026年3月第1周", "启动", "海报")]
        assert [(o.indicator, o.planned) for o in a.outputs] == [("探访人次", 40)]
        raw = db.execute_sql("SELECT leader_phone FROM resources_application").fetchone()[0]
        assert "13800138000" not in str(raw)


@pytest.mark.parametrize("over,schedule,outputs,key", [
    ({}, [{"when": "", "theme": "启动"}], OUTPUTS, "schedule-0-when"),
    ({}, SCHEDULE + [{"when": "4月", "theme": ""}], OUTPUTS, "schedule-1-theme"),
    ({}, SCHEDULE, [{"indicator": "人次", "planned": "0"}], "outputs-0-planned"),
    ({}, SCHEDULE, [{"indicator": "", "planned": "3"}], "outputs-0-indicator"),
    ({"evaluation_methods": ["other"]}, SCHEDULE, OUTPUTS, "evaluation_other"),
    ({"evaluation_methods": ["magic"]}, SCHEDULE, OUTPUTS, "evaluation_methods"),
    ({"leader_phone": "123"}, SCHEDULE, OUTPUTS, "leader_phone"),
])
def test_r_res_5_bad_rows_are_refused_beside_the_row_nothing_written(app, world, over, schedule, outputs, key):
    from core.errors import FieldErrors
    tid, vids = world
    with pytest.raises(FieldErrors) as e:
        save(app, tid, content(vids, **over), schedule, outputs)
    assert key in e.value.errors
    assert n_rows(app) == (0, 0, 0)


def test_r_res_5_the_leader_must_be_a_member_of_the_team(app, world):
    from core.errors import FieldErrors
    tid, vids = world
    stranger = new_volunteer(app, 7399)[0]
    with pytest.raises(FieldErrors) as e:
        save(app, tid, content(vids, leader=stranger))
    assert "leader" in e.value.errors and n_rows(app) == (0, 0, 0)


def test_r_res_4_submit_needs_a_complete_application(app, world, make_user):
    from core.errors import FieldErrors
    from plugins.resources import applications as A
    tid, vids = world
    a = save(app, tid, content(vids, evaluation_methods=[], needs=""), schedule=[], outputs=[])
    with app.app_context():
        with pytest.raises(FieldErrors) as e:
            A.submit(A.Application.get_by_id(a.id))
        assert {"evaluation_methods", "needs", "schedule", "outputs"} <= set(e.value.errors)
        assert A.Application.get_by_id(a.id).status == "draft"


def _through_review(app, tid, vids, make_user):
    """A submitted application under review with one assigned reviewer; returns (application id, reviewer)."""
    from plugins.resources import applications as A, steps as S
    admin = make_user("padmin", "platform_admin")
    reviewer = make_user("rev", "resources_reviewer")
    a = save(app, tid, content(vids))
    with app.app_context():
        a = A.submit(A.Application.get_by_id(a.id))
        a = S.move(a, "start_review", actor=admin)
        S.assign_reviewer(a, reviewer, actor=admin)
    return a.id, admin, reviewer


SCORES = {"significance": "9", "feasibility": "8", "participation": "8", "innovation": "7", "detail": "9",
          "funding": "8"}


def test_r_res_5_the_assigned_reviewer_scores_six_criteria_audited(app, world, make_user):
    from core.errors import FieldErrors
    from core.models import AuditLog
    from plugins.resources import steps as S
    from plugins.resources.models import Review
    tid, vids = world
    aid, admin, reviewer = _through_review(app, tid, vids, make_user)
    other = make_user("rev2", "resources_reviewer")
    with app.app_context():
        r = Review.get(Review.application == aid)
        with pytest.raises(FieldErrors):
            S.score(r, SCORES, decision="fund", actor=other)
        with pytest.raises(FieldErrors) as e:
            S.score(r, {**SCORES, "innovation": "11"}, decision="reject", actor=reviewer)
        assert {"innovation", "comment"} <= set(e.value.errors)
        r = S.score(r, SCORES, comment="可行", decision="fund", actor=reviewer)
        assert r.total() == 49 and r.decision == "fund"
        log = AuditLog.select().where(AuditLog.action == "resources.application.scored").get()
        assert '"innovation": 7' in log.details if isinstance(log.details, str) else log.details["innovation"] == 7


def test_r_res_5_the_score_scale_is_a_setting(app, world, make_user):
    from core.settings import change
    from plugins.resources import steps as S
    from plugins.resources.models import Review
    tid, vids = world
    aid, admin, reviewer = _through_review(app, tid, vids, make_user)
    with app.app_context():
        change("resources", {"score_max": 20})
        r = S.score(Review.get(Review.application == aid), {**SCORES, "detail": "19"}, decision="fund",
                    actor=reviewer)
        assert r.detail == 19


def test_r_res_2_publicity_list_objection_withdrawal_and_no_personal_data(app, world, make_user):
    from core.errors import FieldErrors
    from plugins.resources import steps as S
    from plugins.resources.models import Application, Objection
    tid, vids = world
    aid, admin, reviewer = _through_review(app, tid, vids, make_user)
    with app.app_context():
        a = S.move(Application.get_by_id(aid), "approve", actor=admin)
        assert a.status == "publicity" and a.due_at is not None
    page = app.test_client().get("/resources/publicity/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "长者探访" in html and "甲队" in html
    assert "13800138000" not in html and "7300" not in html
    c = app.test_client()
    from core.testing import csrf_from
    tok = csrf_from(c.get(f"/resources/publicity/{aid}/object").get_data(as_text=True))
    r = c.post(f"/resources/publicity/{aid}/object", data={"csrf_token": tok, "name": "李四",
                                                           "contact": "12", "text": "预算偏高"})
    assert r.status_code == 400 and Objection.select().count() == 0 if app.app_context() else True
    r = c.post(f"/resources/publicity/{aid}/object", data={"csrf_token": tok, "name": "李四",
                                                           "contact": "13900139000", "text": "预算偏高"})
    assert r.status_code in (200, 302)
    with app.app_context():
        assert Objection.select().count() == 1
        a = Application.get_by_id(aid)
        with pytest.raises(FieldErrors):
            S.move(a, "withdraw", actor=admin)
        a = S.move(a, "withdraw", actor=admin, reason="异议成立")
        assert a.status == "rejected"


def _to_meeting(app, tid, vids, make_user):
    from plugins.resources import steps as S
    from plugins.resources.models import Application
    aid, admin, reviewer = _through_review(app, tid, vids, make_user)
    with app.app_context():
        a = S.move(Application.get_by_id(aid), "approve", actor=admin)
        a = S.move(a, "announced", actor=admin)
    return aid, admin


def activity_data(app):
    from plugins.activities.models import Category
    with app.app_context():
        cat = Category.select().where(Category.kind == "category").first()
        fld = Category.select().where(Category.kind == "field").first()
    return {"title": "长者探访·第一期", "address": "某某社区活动室", "description": "探访独居长者",
            "contact_name": "张三", "contact_phone": "13800138000", "district": "越秀区",
            "category": cat.id, "field": fld.id}


_DAY = (dt.date.today() + dt.timedelta(days=30)).isoformat()   # live: a slot still to come
SHIFTS = [{"starts_at": f"{_DAY}T09:00", "ends_at": f"{_DAY}T11:00", "capacity": "10"}]


def test_r_res_2_attendance_then_online_rule_then_evaluation_closes(app, world, make_user):
    from core.errors import FieldErrors
    from core.models import AuditLog
    from plugins.resources import steps as S
    from plugins.resources.models import Application, Attendance, BudgetLine, Output
    tid, vids = world
    aid, admin = _to_meeting(app, tid, vids, make_user)
    with app.app_context():
        a = Application.get_by_id(aid)
        assert S.record_attendance(a, [vids[0]], actor=admin) == 1
        assert [(x.volunteer_id, x.present) for x in Attendance.select()] == [(vids[0], True)]
        with pytest.raises(FieldErrors) as e:
            S.move(a, "trained", actor=admin)
        assert "时间银行上线" in str(e.value)
        assert Application.get_by_id(aid).status == "meeting"
    data = activity_data(app)
    with app.app_context():
        act = S.publish_activity(Application.get_by_id(aid), data, SHIFTS, actor=admin)
        assert act.status == "published" and act.team_id == tid
        a = S.move(Application.get_by_id(aid), "trained", actor=admin)
        a = S.move(a, "implemented", actor=admin)
        assert a.status == "evaluating"
        with pytest.raises(FieldErrors):
            S.move(a, "close", actor=admin)
        o = Output.get()
        lines = list(a.lines)
        with pytest.raises(FieldErrors) as e:
            S.evaluate(a, achieved={o.id: "-1"}, spent={}, method_results="", conclusion="", actor=admin)
        assert {f"achieved-{o.id}", "method_results", "conclusion"} <= set(e.value.errors)
        a = S.evaluate(a, achieved={o.id: "42"}, spent={ln.id: "100.50" for ln in lines},
                       method_results="电话回访 20 人，满意", conclusion="达成目标", actor=admin)
        ev = S.evaluation(a)
        assert ev["outputs"] == [("探访人次", 40, 42)] and ev["spent"] == 10050 * len(lines)
        assert BudgetLine.select().where(BudgetLine.spent == 10050).count() == len(lines)
        a = S.move(a, "close", actor=admin)
        assert a.status == "closed"
        steps = {x.action for x in AuditLog.select().where(AuditLog.action.startswith("resources.application."))}
        assert {"resources.application.attendance", "resources.application.activity_published",
                "resources.application.evaluated", "resources.application.close"} <= steps
    html = app.test_client().get("/activities/").get_data(as_text=True)
    assert "长者探访·第一期" in html


def test_r_res_2_ac6_a_reviewer_sees_only_what_they_review(app, world, make_user):
    from core.security import can, scoped
    from plugins.resources.models import Application
    tid, vids = world
    aid, admin, reviewer = _through_review(app, tid, vids, make_user)
    other = save(app, tid, content(vids, activity_name="另一个"))
    with app.app_context():
        seen = [a.id for a in scoped(Application, Application.select(), "resources.application.view",
                                     user=reviewer)]
        assert seen == [aid]
        assert not can("resources.application.view", Application.get_by_id(other.id), user=reviewer)
        assert can("resources.application.review", Application.get_by_id(aid), user=reviewer)


def test_r_res_2_overdue_applications_on_the_dashboard_in_working_days(app, world, make_user):
    from core.testing import login
    from plugins.resources import applications as A
    from plugins.resources.models import Application
    tid, vids = world
    a = save(app, tid, content(vids))
    with app.app_context():
        a = A.submit(Application.get_by_id(a.id))
        assert a.due_at is not None
        Application.update(due_at=a.due_at - dt.timedelta(days=60)).where(Application.id == a.id).execute()
        assert A.FLOW.is_overdue(Application.get_by_id(a.id))
    c = app.test_client()
    login(c, "ta")
    html = c.get("/admin/").get_data(as_text=True)
    assert 'id="resources-overdue">1<' in html and "长者探访" in html


def test_r_res_5_migration_0002_upgrades_a_site_of_the_first_version(app):
    """A site whose resources tables predate issue 14's content gets the new columns and tables from
    migrations/0002 (SQLite and PostgreSQL), and running it again changes nothing."""
    import importlib
    from playhouse.migrate import SchemaMigrator, migrate
    from core.db import db
    from plugins.resources import models as M
    mig = importlib.import_module("plugins.resources.migrations.0002_application_content_and_steps")
    new_tables = [M.ScheduleRow, M.Output, M.Review, M.Objection, M.Attendance, M.ActivityLink]
    with app.app_context():
        d = db.obj
        m = SchemaMigrator.from_database(d)
        d.drop_tables(new_tables)
        migrate(*[m.drop_column("resources_application", c) for c in
                  ("leader_phone", "evaluation_methods", "evaluation_other", "method_results", "conclusion")],
                m.drop_column("resources_budget_line", "spent"))
        assert "conclusion" not in {c.name for c in d.get_columns("resources_application")}
        mig.up(m, d)
        mig.up(m, d)
        assert {"leader_phone", "evaluation_methods", "conclusion"} <= \
            {c.name for c in d.get_columns("resources_application")}
        assert "spent" in {c.name for c in d.get_columns("resources_budget_line")}
        assert all(t.table_exists() for t in new_tables)
