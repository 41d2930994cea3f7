"""A volunteer gives and withdraws a consent on /me/privacy in a real browser (issue 13 point 3; PR3, PIPL 15).

``timebank init`` (privacy on by default) + ``timebank serve``; Chromium logs in as a volunteer, opens
/me/privacy, gives 生日祝福 then withdraws it; the register answers at once, both steps audited."""
from __future__ import annotations

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def test_pr3_volunteer_gives_and_withdraws_a_consent_in_a_real_browser(server, site):  # noqa: F811
    from playwright.sync_api import sync_playwright
    from plugins.volunteers import services as vs
    from test_teams_workflow import cn_id
    with site.app_context():
        assert "privacy" in site.extensions["timebank"].loaded
        v = vs.register({"name": "陈同意", "id_type": "cn_id", "id_number": cn_id(4311), "phone": "13800004311",
                         "agreement": True, "password": PASSWORD})
        username, vid = v.user.username, v.id
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(locale="zh-CN")
            ctx.set_default_timeout(20_000)
            page = ctx.new_page()
            problems = []
            page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            page.on("pageerror", lambda e: problems.append(f"script error {e}"))
            page.goto(base + "/login")
            page.locator("input[name=username]").fill(username)
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state()
            page.goto(base + "/me/privacy")
            row = page.locator('#privacy-consent-list tr[data-purpose="birthday"]')
            assert "生日祝福" in row.inner_text() and "未同意" in row.inner_text()
            row.get_by_role("button", name="同意").click()
            page.wait_for_load_state()
            assert "您的同意已记录" in page.content()
            from plugins.privacy.consents import consented
            with site.app_context():
                assert consented(("volunteer", vid), "birthday")
            page.locator('#privacy-consent-list tr[data-purpose="birthday"]').get_by_role("button", name="撤回").click()
            page.wait_for_load_state()
            assert "立即生效" in page.content()
            with site.app_context():
                assert not consented(("volunteer", vid), "birthday")
                from core.models import AuditLog
                acts = [a.action for a in AuditLog.select().where((AuditLog.object_type == "volunteers_volunteer")
                                                                  & (AuditLog.object_id == str(vid)))]
                assert "consent.given" in acts and "consent.withdrawn" in acts
            assert problems == []
        finally:
            browser.close()
