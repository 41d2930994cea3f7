"""AC6 team isolation of funding applications (RULES R-RES-2; issue 14 points 3 and 6): team A's admin
reaches only A's tree's 申报书 — list, details, export, search and the workflow steps with team B's ids are
404 or show nothing of B, and B's application is unchanged; A's own steps work; the platform admin sees
both and reviews."""
from __future__ import annotations

import pytest

from conftest import csrf_from, login
from test_resources_application import draft, good_lines
from test_teams_workflow import new_team

PLUGINS = ["volunteers", "teams", "resources"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="zh_Hans_CN")


@pytest.fixture
def world(app, make_user):
    from plugins.resources import applications as A
    from plugins.teams.models import Team
    from test_teams_workflow import add_member, new_volunteer
    ta, tb = new_team(app, "甲总队", admin="ta"), new_team(app, "乙总队", admin="tb")
    leaders = []
    for i, t in enumerate((ta, tb)):
        vid, _number = new_volunteer(app, 7390 + i)
        add_member(app, vid, t)
        leaders.append(vid)
    complete = dict(needs="需求", goals="目标", leader_phone="13800138000", evaluation_methods=["summary"])
    schedule, outputs = [{"when": "3月", "theme": "启动"}], [{"indicator": "人次", "planned": "10"}]
    with app.app_context():
        a = A.save(Team.get_by_id(ta), draft(activity_name="ALPHA活动", leader=leaders[0], **complete), [],
                   good_lines(), schedule=schedule, outputs=[dict(o) for o in outputs])
        b = A.save(Team.get_by_id(tb), draft(activity_name="BRAVO活动", leader=leaders[1], **complete), [],
                   good_lines(), schedule=schedule, outputs=[dict(o) for o in outputs])
    make_user("pa", "platform_admin")
    return a.id, b.id


def status(app, aid):
    from plugins.resources.models import Application
    with app.app_context():
        return Application.get_by_id(aid).status


def test_r_res_2_ac6_team_admin_sees_and_moves_only_its_own_applications(app, world):
    a, b = world
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    base = "/admin/resources_application/"
    html = c.get(base).get_data(as_text=True)
    assert "ALPHA活动" in html and "BRAVO活动" not in html and "新建资助申报书" in html
    assert "BRAVO活动" not in c.get(base + "?search=BRAVO").get_data(as_text=True)
    assert c.get(f"{base}details/?id={b}").status_code in (302, 404)
    r = c.get(base + "export/csv/")
    assert r.status_code == 200 and "ALPHA活动" in r.get_data(as_text=True)
    assert "BRAVO" not in r.get_data(as_text=True)
    page = c.get(f"{base}details/?id={a}").get_data(as_text=True)
    assert "ALPHA活动" in page and 'value="submit"' in page and 'value="start_review"' not in page
    token = csrf_from(page)
    r = c.post(base + "step/", data={"csrf_token": token, "id": str(b), "step": "submit"})
    assert r.status_code == 404 and status(app, b) == "draft"
    r = c.post(base + "step/", data={"csrf_token": token, "id": str(a), "step": "start_review"})
    assert r.status_code == 403 and status(app, a) == "draft"
    r = c.post(base + "step/", data={"csrf_token": token, "id": str(a), "step": "submit"})
    assert r.status_code == 302 and status(app, a) == "submitted"
    # the platform admin sees both and reviews; a rejection without a reason is refused, nothing changes
    p = app.test_client()
    assert login(p, "pa").status_code == 302
    html = p.get(base).get_data(as_text=True)
    assert "ALPHA活动" in html and "BRAVO活动" in html
    token = csrf_from(p.get(f"{base}details/?id={a}").get_data(as_text=True))
    assert p.post(base + "step/", data={"csrf_token": token, "id": str(a), "step": "start_review"}).status_code == 302
    r = p.post(base + "step/", data={"csrf_token": token, "id": str(a), "step": "reject", "reason": ""},
               follow_redirects=True)
    assert r.status_code == 200 and status(app, a) == "reviewing"


def test_r_res_3_team_admin_drafts_in_the_admin_refused_beside_the_fields_then_saved(app, world):
    """issue 14 point 2 ("Done means"): a 35 % publicity line and a 6th member are refused with the message
    beside the line and the member list, nothing written; fixed, the draft is saved; another team's id in
    the form is 404."""
    from plugins.resources.models import Application
    from test_teams_workflow import add_member, new_volunteer
    from plugins.teams.models import Team
    with app.app_context():
        ta = Team.get(Team.name == "甲总队").id
    numbers = []
    for i in range(6):
        vid, number = new_volunteer(app, 7300 + i)
        add_member(app, vid, ta)
        numbers.append(number)
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    url = "/admin/resources_application/draft/"
    token = csrf_from(c.get(url).get_data(as_text=True))
    form = {"csrf_token": token, "team": str(ta), "activity_name": "GAMMA活动", "field": "社区治理",
            "target_group": "居民", "period_start": "2026-03-01", "period_end": "2026-05-01", "place": "某社区",
            "total_budget": "1000", "requested": "1000", "summary": "概述"}
    for i, n in enumerate(numbers):
        form[f"members-{i}-number"] = n
    lines = [("service", "物资", "300", "1"), ("publicity", "折页", "3.5", "100"), ("transport", "交通补贴", "10", "10"),
             ("meals", "误餐补贴", "20", "5"), ("trainer", "导师费", "100", "1")]
    for i, (cat, d, p, q) in enumerate(lines):
        form.update({f"lines-{i}-category": cat, f"lines-{i}-detail": d, f"lines-{i}-unit_price": p,
                     f"lines-{i}-quantity": q})
    r = c.post(url, data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'data-field="members"' in html and "团队成员不得超过 5 人" in html
    assert 'data-field="lines-1-amount"' in html and "30%" in html
    with app.app_context():
        assert Application.select().where(Application.activity_name == "GAMMA活动").count() == 0
    del form["members-5-number"]
    form["lines-0-unit_price"], form["lines-1-unit_price"] = "400", "3"
    r = c.post(url, data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    with app.app_context():
        g = Application.get(Application.activity_name == "GAMMA活动")
        assert g.members.count() == 5 and g.requested == 100000 and g.lines.count() == 5
    a, b = world
    assert c.get(f"{url}?id={b}").status_code == 404
    assert c.post(url, data={**form, "id": str(b)}).status_code == 404


STEP_VIEWS = ("assign/", "score/", "objection/", "attendance/", "activity/", "evaluate/")


def test_r_res_5_ac6_every_step_view_with_another_teams_id_is_404_and_reviewers_see_what_they_review(
        app, world, make_user):
    """issue 14 point 6 / AC6 over the new views: team A's admin posting any step form (assign, score,
    objection, attendance, activity, evaluation) with B's id gets 404, nothing written; a reviewer lists
    and opens only the application assigned to them; the public objection page is 404 outside 公示."""
    from plugins.resources import steps as S
    from plugins.resources.models import Application, Objection, Review
    from core.models import User
    a, b = world
    make_user("rv", "resources_reviewer")
    base = "/admin/resources_application/"
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    token = csrf_from(c.get(f"{base}details/?id={a}").get_data(as_text=True))
    for v in STEP_VIEWS:
        r = c.post(base + v, data={"csrf_token": token, "id": str(b), "username": "rv", "text": "x",
                                   "conclusion": "x"})
        assert r.status_code == 404, v
    # A's own admin may not assign reviewers or record objections (the platform's steps): 403
    for v in ("assign/", "objection/", "attendance/", "activity/"):
        assert c.post(base + v, data={"csrf_token": token, "id": str(a), "username": "rv"}).status_code == 403
    with app.app_context():
        assert Review.select().count() == 0 and Objection.select().count() == 0
        pa = User.get(User.username == "pa")
        for aid in (a, b):
            x = S.move(Application.get_by_id(aid), "submit", actor=pa)
            S.move(x, "start_review", actor=pa)
        S.assign_reviewer(Application.get_by_id(a), User.get(User.username == "rv"), actor=pa)
    rv = app.test_client()
    assert login(rv, "rv").status_code == 302
    html = rv.get(base).get_data(as_text=True)
    assert "ALPHA活动" in html and "BRAVO活动" not in html
    assert rv.get(f"{base}details/?id={b}").status_code in (302, 404)
    page = rv.get(f"{base}details/?id={a}").get_data(as_text=True)
    assert 'id="score-innovation"' in page
    token = csrf_from(page)
    assert rv.post(base + "score/", data={"csrf_token": token, "id": str(b)}).status_code == 404
    scores = {k: "8" for k in ("significance", "feasibility", "participation", "innovation", "detail",
                               "funding")}
    r = rv.post(base + "score/", data={"csrf_token": token, "id": str(a), "decision": "fund", **scores})
    assert r.status_code == 302
    with app.app_context():
        assert Review.get(Review.application == a).total() == 48
    assert app.test_client().get(f"/resources/publicity/{a}/object").status_code == 404
