"""The funding application (申报书) and its flow (RULES R-RES-2, R-RES-3; handbook 篇4 二(一)3 and the 申报书
template with its 填表说明 and budget notes; issue 14 points 2 and 3): every rule is checked on the server on
every save, refused beside the offending field or budget line with nothing written; every limit is a
setting; the 6 steps move through core.workflow with permissions, reasons, due dates and audit."""
from __future__ import annotations

import datetime as dt

import pytest

from test_teams_workflow import new_team, new_volunteer

PLUGINS = ["volunteers", "teams", "resources"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")


def draft(**over):
    d = {"activity_name": "长者探访", "field": "扶贫济困", "target_group": "独居长者",
         "period_start": dt.date(2026, 3, 1), "period_end": dt.date(2026, 4, 1), "place": "某某社区",
         "total_budget": 150000, "requested": 100000, "summary": "每周探访", "goals": "探访 40 人次"}
    d.update(over)
    return d


def good_lines():
    # 1000 元 requested: service 400, publicity 300 (30 %), transport 10×10, meals 20×5, trainer 100
    return [{"category": "service", "detail": "社区活动物资", "unit_price": "400", "quantity": "1"},
            {"category": "publicity", "detail": "设计并印制项目折页", "unit_price": "3", "quantity": "100"},
            {"category": "transport", "detail": "交通补贴", "unit_price": "10", "quantity": "10"},
            {"category": "meals", "detail": "误餐补贴", "unit_price": "20", "quantity": "5"},
            {"category": "trainer", "detail": "导师费", "unit_price": "100", "quantity": "1"}]


def counts(app):
    from plugins.resources.models import Application, BudgetLine, Member
    with app.app_context():
        return Application.select().count(), Member.select().count(), BudgetLine.select().count()


@pytest.fixture
def world(app):
    tid = new_team(app, "甲队", admin="ta")
    vids = [new_volunteer(app, 7100 + i)[0] for i in range(6)]
    return tid, vids


def save(app, tid, data, members, lines, application=None):
    from plugins.resources import applications as A
    from plugins.teams.models import Team
    with app.app_context():
        return A.save(Team.get_by_id(tid), data, members, lines, application=application)


def test_r_res_3_a_good_draft_is_saved_in_fen_with_members_and_lines(app, world):
    from plugins.resources import applications as A
    from plugins.resources.models import Application
    from core.models import AuditLog
    tid, vids = world
    a = save(app, tid, draft(), [{"volunteer": v, "duty": "探访"} for v in vids[:5]], good_lines())
    with app.app_context():
        a = Application.get_by_id(a.id)
        assert [x.amount for x in a.lines.order_by(A.BudgetLine.position)] == [40000, 30000, 10000, 10000, 10000]
        t = A.totals(a)
        assert t["total"] == 100000 and t["publicity"] == (30000, 30) and t["allowance"][0] == 20000
        assert a.members.count() == 5 and a.status == "draft"
        assert AuditLog.select().where(AuditLog.action == "resources.application.created").count() == 1


def test_r_res_3_a_sixth_member_is_refused_beside_members(app, world):
    from core.errors import FieldErrors
    tid, vids = world
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(), [{"volunteer": v} for v in vids], good_lines())
    assert set(e.value.errors) == {"members"} and "5" in str(e.value.errors["members"])
    assert counts(app) == (0, 0, 0)


def test_r_res_3_period_of_at_least_one_month(app, world):
    from core.errors import FieldErrors
    tid, _ = world
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(period_end=dt.date(2026, 3, 31)), [], good_lines())
    assert set(e.value.errors) == {"period_end"}
    assert counts(app) == (0, 0, 0)


def test_r_res_3_publicity_of_35_percent_is_refused_beside_its_line(app, world):
    from core.errors import FieldErrors
    tid, _ = world
    lines = good_lines()
    lines[0]["unit_price"], lines[1]["unit_price"] = "350", "3.5"      # publicity 350 of 1000 = 35 %
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(), [], lines)
    assert set(e.value.errors) == {"lines-1-amount"} and "30%" in str(e.value.errors["lines-1-amount"])
    assert counts(app) == (0, 0, 0)


def test_r_res_3_allowance_and_training_caps_and_per_person_limits(app, world):
    from core.errors import FieldErrors
    tid, _ = world
    lines = good_lines()
    lines[2].update(unit_price="10.01", quantity="10")           # transport 10.01 元/人
    lines[3].update(unit_price="21")                             # meals 21 元/人
    lines[4].update(unit_price="301")                            # trainer 301 元/人
    lines[0].update(unit_price="0.5")
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(requested=100000), [], lines)
    errs = e.value.errors
    assert {"lines-2-unit_price", "lines-3-unit_price", "lines-4-unit_price"} <= set(errs)
    assert "lines-4-amount" in errs                                # training 301 of 1000 > 30 %
    # the allowance cap: 310 of 1000
    lines = good_lines()
    lines[0].update(unit_price="190")
    lines[2].update(quantity="31")                                # transport 310 → allowance 410 > 300
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(), [], lines)
    assert "lines-2-amount" in e.value.errors
    assert counts(app) == (0, 0, 0)


def test_r_res_3_forbidden_items_and_totals(app, world):
    from core.errors import FieldErrors
    tid, _ = world
    lines = good_lines()
    lines[0].update(detail="购买电脑一台")
    lines.append({"category": "rent", "detail": "x", "unit_price": "1", "quantity": "1"})
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(), [], lines)
    errs = e.value.errors
    assert "lines-0-detail" in errs and "电脑" in str(errs["lines-0-detail"])
    assert "lines-5-category" in errs and "requested" in errs      # 1001 元 of lines ≠ 1000 requested
    with pytest.raises(FieldErrors) as e:
        save(app, tid, draft(), [], [{"category": "service", "detail": "x", "unit_price": "1.001",
                                       "quantity": "0"}])
    assert {"lines-0-unit_price", "lines-0-quantity"} <= set(e.value.errors)
    assert counts(app) == (0, 0, 0)


def test_r_res_3_every_limit_is_a_setting(app, world):
    from core.settings import change
    tid, vids = world
    with app.app_context():
        change("resources", {"publicity_max_percent": "40", "max_members": "6"})
    lines = good_lines()
    lines[0]["unit_price"], lines[1]["unit_price"] = "350", "3.5"
    save(app, tid, draft(), [{"volunteer": v} for v in vids], lines)
    assert counts(app)[0] == 1


def test_r_res_2_the_six_steps_with_permissions_reasons_due_dates_and_audit(app, world, make_user):
    from core.models import AuditLog, User
    from core.workflow import WorkflowError
    from plugins.resources.applications import FLOW
    from plugins.resources.models import Application
    tid, _ = world
    a = save(app, tid, draft(), [], good_lines())
    make_user("pa", "platform_admin")
    with app.app_context():
        ta, pa = User.get(User.username == "ta"), User.get(User.username == "pa")
        a = Application.get_by_id(a.id)
        a = FLOW.move(a, "submit", actor=ta)
        assert a.status == "submitted" and a.due_at is not None
        with pytest.raises(WorkflowError) as e:
            FLOW.move(a, "start_review", actor=ta)                 # a team admin does not review
        assert getattr(e.value, "code", None) == 403
        a = FLOW.move(a, "start_review", actor=pa)
        with pytest.raises(WorkflowError):
            FLOW.move(a, "reject", actor=pa)                       # a rejection needs a reason
        a = FLOW.move(a, "send_back", actor=pa, reason="预算说明不足")
        assert a.status == "draft"
        a = FLOW.move(a, "submit", actor=ta)
        a = FLOW.move(a, "start_review", actor=pa)
        a = FLOW.move(a, "approve", actor=pa)
        assert a.status == "publicity" and a.due_at is not None
        a = FLOW.move(a, "announced", actor=pa)
        a = FLOW.move(a, "trained", actor=pa)
        a = FLOW.move(a, "implemented", actor=ta)
        a = FLOW.move(a, "close", actor=pa)
        assert Application.get_by_id(a.id).status == "closed"
        acts = [r.action for r in AuditLog.select().where(AuditLog.action.startswith("resources.application."))
                .order_by(AuditLog.id)]
        assert acts[-9:] == ["resources.application." + s for s in (
            "submit", "start_review", "send_back", "submit", "start_review", "approve", "announced",
            "trained", "implemented", "close")][-9:]


def test_r_res_2_a_submitted_application_is_no_longer_edited(app, world, make_user):
    from core.errors import FieldErrors
    from core.models import User
    from plugins.resources.applications import FLOW
    tid, _ = world
    a = save(app, tid, draft(), [], good_lines())
    with app.app_context():
        a = FLOW.move(a, "submit", actor=User.get(User.username == "ta"))
    with pytest.raises(FieldErrors):
        save(app, tid, draft(activity_name="改"), [], good_lines(), application=a)
