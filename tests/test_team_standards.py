"""Team standards checklist (RULES R-TEAM-6; handbook 篇3 二, the 七个有): the 34 items load once, an
assessment is all-or-nothing and scores met 1 / partly 0.5 / not 0, team admins reach only their own
team tree, and the admin page (with CSRF) records an assessment."""
from __future__ import annotations

import pytest

from conftest import csrf_from, login
from test_teams_workflow import new_team

PLUGINS = ["volunteers", "teams", "team_standards"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")


def ratings(met=34, partly=0, not_=0):
    kinds = ["met"] * met + ["partly"] * partly + ["not"] * not_
    assert len(kinds) == 34
    return {n: kinds[n - 1] for n in range(1, 35)}


def counts(app):
    from plugins.team_standards.models import Assessment, Result
    with app.app_context():
        return Assessment.select().count(), Result.select().count()


def test_the_34_items_load_once(app, make_app):
    from plugins.team_standards.models import Item
    with app.app_context():
        rows = list(Item.select().order_by(Item.number))
        assert [r.number for r in rows] == list(range(1, 35))
        assert len({r.section_no for r in rows}) == 7
        assert rows[0].section == "有统一党员志愿服务标识" and rows[0].project == "标识类型"
        assert "“志”标识" in rows[0].standard
        assert rows[33].section == "有完整的服务台账" and rows[33].project == "服务台账存放要求"
    app2 = make_app(plugins=PLUGINS)  # restart on the same database: not loaded again
    with app2.app_context():
        assert Item.select().count() == 34


def test_a_full_assessment_scores(app):
    from plugins.team_standards import services
    from plugins.teams.models import Team
    from core.models import AuditLog
    tid = new_team(app, "甲队")
    with app.app_context():
        r = ratings(30, 2, 2)
        a = services.assess(Team.get_by_id(tid), r, kind="platform", note="检查", actor=None)
        s = services.score(a)
        assert s.points == 31 and s.total == 34 and s.percent == round(3100 / 34, 1)
        assert [sec.total for sec in s.sections] == [6, 4, 5, 3, 9, 3, 4]
        # items 31-32 partly and 33-34 not met: all in section 7
        assert [sec.points for sec in s.sections] == [6, 4, 5, 3, 9, 3, 1]
        assert AuditLog.select().where(AuditLog.action == "team_standards.assessed").count() == 1


@pytest.mark.parametrize("bad", [
    lambda r: r.pop(17),
    lambda r: r.__setitem__(5, "maybe"),
    lambda r: r.__setitem__(99, "met"),
    lambda r: r.clear(),
])
def test_missing_items_or_bad_ratings_are_refused_and_write_nothing(app, bad):
    from core.errors import FieldErrors
    from plugins.team_standards import services
    from plugins.teams.models import Team
    tid = new_team(app, "乙队")
    r = ratings()
    bad(r)
    with app.app_context():
        with pytest.raises(FieldErrors):
            services.assess(Team.get_by_id(tid), r, kind="self", note="", actor=None)
    assert counts(app) == (0, 0)


def test_team_admin_sees_and_assesses_only_own_team(app):
    from plugins.team_standards import services
    from plugins.teams.models import Team
    a_id = new_team(app, "A队", admin="admin_a")
    b_id = new_team(app, "B队", admin="admin_b")
    with app.app_context():
        aa = services.assess(Team.get_by_id(a_id), ratings(), kind="self", note="", actor=None).id
        ab = services.assess(Team.get_by_id(b_id), ratings(), kind="self", note="", actor=None).id
    c = app.test_client()
    assert login(c, "admin_a").status_code == 302
    listing = c.get("/admin/team_standards_assessment/").get_data(as_text=True)
    assert "A队" in listing and "B队" not in listing
    assert c.get(f"/admin/team_standards_assessment/report/?id={aa}").status_code == 200
    assert c.get(f"/admin/team_standards_assessment/report/?id={ab}").status_code == 404
    assert c.get(f"/admin/team_standards_assessment/details/?id={ab}").status_code == 404
    assert c.get(f"/admin/team_standards_assessment/assess/?team={b_id}").status_code == 404
    page = c.get(f"/admin/team_standards_assessment/assess/?team={a_id}")
    assert page.status_code == 200
    form = {f"item_{n}": v for n, v in ratings().items()}
    r = c.post(f"/admin/team_standards_assessment/assess/?team={b_id}",
               data={**form, "team": b_id, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 404
    assert counts(app) == (2, 68)
    r = c.post("/admin/team_standards_assessment/assess/",
               data={**form, "team": a_id, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 302
    from plugins.team_standards.models import Assessment
    with app.app_context():
        last = Assessment.select().order_by(Assessment.id.desc()).first()
        assert last.team_id == a_id and last.kind == "self"


def test_volunteer_is_refused(app, make_user):
    make_user("vol", "volunteer")
    c = app.test_client()
    login(c, "vol")
    assert c.get("/admin/team_standards_assessment/assess/").status_code in (403, 404)


def test_platform_admin_fills_in_the_page_with_csrf(app, make_user):
    tid = new_team(app, "丙队")
    make_user("boss", "platform_admin")
    c = app.test_client()
    assert login(c, "boss").status_code == 302
    assert "丙队" in c.get("/admin/team_standards_assessment/assess/").get_data(as_text=True)
    page = c.get(f"/admin/team_standards_assessment/assess/?team={tid}").get_data(as_text=True)
    assert page.count('type="radio"') == 34 * 3 and "有完整的服务台账" in page
    form = {f"item_{n}": v for n, v in ratings(30, 2, 2).items()}
    # without the token: refused, nothing written
    r = c.post(f"/admin/team_standards_assessment/assess/?team={tid}", data=form)
    assert r.status_code in (400, 403) and counts(app) == (0, 0)
    # an item left out: the form comes back, nothing written
    partial = dict(form)
    partial.pop("item_3")
    r = c.post(f"/admin/team_standards_assessment/assess/?team={tid}",
               data={**partial, "csrf_token": csrf_from(page)})
    assert r.status_code == 400 and counts(app) == (0, 0)
    r = c.post(f"/admin/team_standards_assessment/assess/?team={tid}",
               data={**form, "note": "年度检查", "csrf_token": csrf_from(page)})
    assert r.status_code == 302, r.get_data(as_text=True)
    report = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "31 / 34" in report and "1 / 4" in report
    from plugins.team_standards.models import Assessment
    with app.app_context():
        a = Assessment.get()
        assert a.kind == "platform" and a.team_id == tid and a.note == "年度检查"
    listing = c.get("/admin/team_standards_assessment/").get_data(as_text=True)
    assert "丙队" in listing and "31 / 34" in listing
