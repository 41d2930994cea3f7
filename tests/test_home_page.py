"""A home page that invites (issue 18 point 2): what a visitor can do — register as a volunteer or a team,
upcoming activities from the listing, the site's totals, notices and how to verify a certificate — each
from the plugin that owns it (``home_sections``), and only what the enabled plugins offer."""
from __future__ import annotations

import pytest

from fixtures.activities_plugins.actsupport import new_activity, quick_hashing, slot, soon, volunteers
from fixtures.ledger_support import LEDGER_PLUGINS, serve
from test_teams_workflow import new_team


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    return make_app(plugins=LEDGER_PLUGINS + ["donations", "certificates", "notices"], HOME_CACHE_SECONDS=1)


def test_the_home_page_invites_a_visitor_with_what_they_can_do(site):
    team = new_team(site, "海珠区南华西街党员志愿服务队", admin="ta")
    (vid,) = volunteers(site, 601, 1)
    serve(site, team, {vid: 180}, hours=3)  # 3 confirmed service hours (its activity is over)
    new_activity(site, team, title="关爱独居长者探访", shifts=[slot(soon(5), capacity=6)])
    html = site.test_client().get("/").get_data(as_text=True)
    for text in ("志愿者注册", "团队注册", "查找活动", "登录",            # what a visitor can do
                 "近期活动", "关爱独居长者探访", "全部活动",           # upcoming activities from the listing
                 "注册志愿者", "志愿服务队伍", "服务时数", "捐赠积分",   # the site's totals
                 "公告", "验证服务证明", "二维码"):
        assert text in html, text
    assert '<strong>3</strong><span>服务时数</span>' in html
    assert 'href="/register"' in html and 'href="/teams/register"' in html


def test_a_logged_in_volunteer_is_not_offered_registration(site):
    from conftest import PASSWORD, login
    from fixtures.activities_plugins.actsupport import username_of
    (vid,) = volunteers(site, 611, 1)
    c = site.test_client()
    login(c, username_of(site, vid), PASSWORD)
    html = c.get("/").get_data(as_text=True)
    assert "查找活动" in html and 'href="/register"' not in html and 'href="/teams/register"' not in html


def test_the_home_page_shows_only_what_enabled_plugins_offer(make_app):
    html = make_app(plugins=["notices"]).test_client().get("/").get_data(as_text=True)
    assert "公告" in html and "近期活动" not in html and "<span>服务时数</span>" not in html
    assert "登录" in html
