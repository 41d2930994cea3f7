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
    ta, tb = new_team(app, "甲总队", admin="ta"), new_team(app, "乙总队", admin="tb")
    with app.app_context():
        a = A.save(Team.get_by_id(ta), draft(activity_name="ALPHA活动"), [], good_lines())
        b = A.save(Team.get_by_id(tb), draft(activity_name="BRAVO活动"), [], good_lines())
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
    assert "ALPHA活动" in html and "BRAVO活动" not in html
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
