"""捐赠与票据 in a real browser (issue 15 points 5 and 7, R-DON-4): a team admin on a 390 px phone changes the
organisation's basic information and publishes it; the public disclosure page (no login, 390 px, no
horizontal scrolling) shows the new basic information, the money total and the project, and no name of a
donor who did not agree; the finance user voids a receipt on the staff page."""
from __future__ import annotations

import pytest

from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_env():
    return {"TIMEBANK_PLUGINS": "volunteers,teams,documents,privacy,giving", "TIMEBANK_TASKS_IMMEDIATE": "true"}


def _setup(app):
    from fixtures.security_plugins.secsupport import create_user
    from test_teams_workflow import new_team
    from plugins.giving import orginfo
    from plugins.giving import services as G
    from plugins.teams.models import Team
    tid = new_team(app, "阳光志愿服务队", admin="ta")
    create_user(app, "fa", "giving_finance", scope=f"team:{tid}")
    with app.app_context():
        team = Team.get_by_id(tid)
        yes = G.save_donor({"team_id": tid, "kind": "person", "name": "公开捐赠人", "disclose_name": "1"})
        no = G.save_donor({"team_id": tid, "kind": "person", "name": "匿名意愿人"})
        from core.db import today
        day = today().isoformat()
        G.record_money({"team_id": tid, "donor_id": yes.id, "amount": "1000.50", "channel": "bank",
                        "donated_on": day, "purpose": "助老"})
        m = G.record_money({"team_id": tid, "donor_id": no.id, "amount": "99.50", "channel": "cash",
                            "donated_on": day, "purpose": "助老"})
        G.issue_receipt(m, handler="李经办")
        orginfo.save_basic_info(team, {"org_name": "阳光志愿服务队", "registration_no": "51440100MJL000000X",
                                       "address": "广州市越秀区旧址1号", "principal": "张负责",
                                       "contact": "020-12345678", "purpose_scope": "扶老助残"})
        orginfo.publish_basic_info(team)
        orginfo.save_project(team, {"kind": "fundraising", "title": "重阳敬老募捐", "starts_on": day,
                                    "raised": "300"})
        return tid, m.id


def _login(page, base, username):
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/login" not in page.url


WIDE = "() => document.documentElement.scrollWidth"


def test_r_don_4_browser_publish_basic_info_and_disclosure_on_a_phone(server, site):  # noqa: F811
    from playwright.sync_api import sync_playwright
    tid, mid = _setup(site)
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            staff = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
            _login(staff, base, "ta")
            staff.goto(f"{base}/giving/orginfo/{tid}")
            staff.locator("#address").fill("广州市越秀区新址88号")
            staff.get_by_role("button", name="保存为新版本").click()
            staff.wait_for_load_state()
            assert "尚未公开" in staff.locator("#clock").inner_text()
            assert "30 个自然日" in staff.content()
            staff.locator("#publish").click()
            staff.wait_for_load_state()
            assert staff.locator("#clock").count() == 0
            public = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
            resp = public.goto(f"{base}/giving/disclosure/{tid}")
            assert resp.status == 200
            text = public.locator("main").inner_text()
            assert "广州市越秀区新址88号" in text and "旧址" not in text
            assert "公开捐赠人" in text and "匿名意愿人" not in text
            assert "¥1100.00" in text and "重阳敬老募捐" in text
            assert public.evaluate(WIDE) <= PHONE["width"] + 1, "the disclosure page scrolls sideways at 390 px"
            fin = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            _login(fin, base, "fa")
            fin.goto(f"{base}/giving/donations/{mid}")
            fin.locator("input[name=reason]").last.fill("金额写错")
            fin.locator("button[value=void]").click()
            fin.wait_for_load_state()
            assert "已作废" in fin.content() and "金额写错" in fin.content()
        finally:
            browser.close()
