"""Points for resources (RULES R-TB-4; issue 14 point 5): with the donations plugin on, the points a team
raised in a campaign (积分募集) are applied to one of its funding applications through the donations
plugin's public API; the ledger (the campaign's statement) shows the transfer naming the application;
audited; refused with a clear message beyond the campaign's balance, for another team's campaign or
application (AC6); replay-safe; ``ledger verify`` and the donations check pass."""
from __future__ import annotations

import pytest

from conftest import csrf_from, login
from fixtures.ledger_support import ledger_site, new_team, volunteers
from test_donations import _campaign, _give

BASE = "/admin/resources_application/"


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch, "donations", "resources")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    v1, v2 = volunteers(app, 451, 2)
    return {"app": app, "teams": (ta, tb), "v": (v1, v2)}


def _application(app, team_id, name):
    import datetime as dt
    from plugins.resources.models import Application
    with app.app_context():
        return Application.create(team=team_id, activity_name=name, period_start=dt.date(2026, 3, 1),
                                  period_end=dt.date(2026, 5, 1), requested=100000, total_budget=150000).id


@pytest.fixture
def world(site):
    """Campaign of team A holding 30 points (two donations), A's and B's applications, B's campaign."""
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.volunteers.models import Volunteer
    app, (ta, tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 50)
    _give(app, v2, 50)
    ca, cb = _campaign(app, ta), _campaign(app, tb, title="星火募集")
    with app.app_context():
        D.donate_to_campaign(Volunteer.get_by_id(v1), Campaign.get_by_id(ca), 20)
        D.donate_to_campaign(Volunteer.get_by_id(v2), Campaign.get_by_id(ca), 10)
        D.donate_to_campaign(Volunteer.get_by_id(v2), Campaign.get_by_id(cb), 5)
    return app, ca, cb, _application(app, ta, "长者饭堂资助申报"), _application(app, tb, "星火资助申报")


def _user(app, name):
    from core.models import User
    with app.app_context():
        return User.get(User.username == name)


def _checks(app):
    from plugins.donations import services as D
    from plugins.ledger import services as L
    with app.app_context():
        return L.verify(), D.verify()


def test_r_tb_4_1_campaign_points_applied_to_an_application_the_ledger_shows_it(world):
    from core.models import AuditLog
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.resources import points as P
    from plugins.resources.models import Application, PointsUse
    app, ca, _cb, a, _b = world
    ta = _user(app, "ta")
    with app.app_context():
        use = P.apply_campaign_points(Application.get_by_id(a), ca, "12", actor=ta, key="k1")
        assert (use.points, use.campaign_id, use.application_id) == (12, ca, a)
        again = P.apply_campaign_points(Application.get_by_id(a), ca, "12", actor=ta, key="k1")   # a replay
        assert again.id == use.id and PointsUse.select().count() == 1
        c = Campaign.get_by_id(ca)
        assert D.held(c) == 18
        rows = D.statement(c)
        spent = [(r["tid"], r["kind"], r["amount"], r["balance_after"]) for r in rows if "长者饭堂资助申报" in r["reason"]]
        assert spent == [(use.transfer_id, "campaign_spend", -12, 18)]
        assert any(s.amount == 12 and "长者饭堂资助申报" in s.purpose for s in D.spends_of(campaign=c))
        log = AuditLog.get(AuditLog.action == "resources.application.points_applied")
        assert log.object_id == str(a) and '"points": 12' in log.details
    assert _checks(app) == ([], [])


def test_r_tb_4_2_beyond_the_balance_or_another_teams_campaign_is_refused_nothing_written(world):
    from core.errors import FieldErrors
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.resources import points as P
    from plugins.resources.models import Application, PointsUse
    app, ca, cb, a, b = world
    ta = _user(app, "ta")
    with app.app_context():
        with pytest.raises(FieldErrors) as e:
            P.apply_campaign_points(Application.get_by_id(a), ca, "31", actor=ta)
        assert "points" in e.value.errors and "30" in str(e.value.errors["points"])
        with pytest.raises(FieldErrors) as e:
            P.apply_campaign_points(Application.get_by_id(a), cb, "1", actor=ta)     # B's campaign
        assert "campaign" in e.value.errors
        with pytest.raises(FieldErrors):
            P.apply_campaign_points(Application.get_by_id(b), cb, "1", actor=ta)     # B's application
        for bad in ("0", "-3", "abc", "1.5"):
            with pytest.raises(FieldErrors):
                P.apply_campaign_points(Application.get_by_id(a), ca, bad, actor=ta)
        assert PointsUse.select().count() == 0
        assert D.held(Campaign.get_by_id(ca)) == 30 and D.held(Campaign.get_by_id(cb)) == 5
        Application.update(status="closed").where(Application.id == a).execute()
        with pytest.raises(FieldErrors):
            P.apply_campaign_points(Application.get_by_id(a), ca, "1", actor=ta)
    assert _checks(app) == ([], [])


def test_r_tb_4_3_the_details_page_applies_points_and_lists_them_ac6(world):
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.resources.models import PointsUse
    app, ca, cb, a, b = world
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    page = c.get(f"{BASE}details/?id={a}").get_data(as_text=True)
    assert 'name="campaign"' in page and "长者饭堂爱心餐积分募集" in page and "星火募集" not in page
    token = csrf_from(page)
    r = c.post(BASE + "points/", data={"csrf_token": token, "id": str(a), "campaign": str(ca), "points": "99",
                                       "key": "x1"}, follow_redirects=True)
    assert r.status_code == 200 and "the account holds 30" in r.get_data(as_text=True)
    r = c.post(BASE + "points/", data={"csrf_token": token, "id": str(a), "campaign": str(ca), "points": "7",
                                       "key": "x2"})
    assert r.status_code == 302
    r = c.post(BASE + "points/", data={"csrf_token": token, "id": str(a), "campaign": str(ca), "points": "7",
                                       "key": "x2"})            # a double submit: the same use
    # another team's application: 404, nothing moves
    assert c.post(BASE + "points/", data={"csrf_token": token, "id": str(b), "campaign": str(cb),
                                          "points": "1"}).status_code == 404
    with app.app_context():
        assert [(u.application_id, u.points) for u in PointsUse.select()] == [(a, 7)]
        assert D.held(Campaign.get_by_id(ca)) == 23 and D.held(Campaign.get_by_id(cb)) == 5
    html = c.get(f"{BASE}details/?id={a}").get_data(as_text=True)
    assert 'id="points-uses"' in html and ">7<" in html
    assert _checks(app) == ([], [])


def test_r_tb_4_4_without_the_donations_plugin_nothing_is_offered(make_app):
    app = make_app(plugins=["volunteers", "teams", "resources"], DEFAULT_LOCALE="en")
    from core.errors import FieldErrors
    from plugins.resources import points as P
    with app.app_context():
        assert P.donations_on() is False
        with pytest.raises(FieldErrors):
            P.apply_campaign_points(None, 1, 1)
