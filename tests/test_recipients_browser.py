"""R-REC-1 / R-PRIV-6 in Chromium: a team admin registers a child with the guardian's consent through the
admin form (the missing consent refused beside its field first, nothing saved); the list shows the name and
phones masked; and at 390 px phone width no public page shows the recipient."""
from __future__ import annotations

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared
from test_teams_workflow import PASSWORD, new_team

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]


@pytest.fixture
def site_env():
    return {"TIMEBANK_PLUGINS": "teams,volunteers,documents,privacy,recipients", "TIMEBANK_TASKS_IMMEDIATE": "true"}


def test_r_rec_1_a_team_admin_registers_a_child_with_the_guardians_consent_in_chromium(server, site):
    from playwright.sync_api import sync_playwright
    team_id = new_team(site, "越秀区北京街党员志愿服务队", admin="ta")
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
            problems = []
            page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            page.on("pageerror", lambda e: problems.append(f"script error {e}"))
            page.goto(base + "/login")
            page.locator("input[name=username]").fill("ta")
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("main form button[type=submit]").last.click()
            page.wait_for_load_state()
            page.goto(base + "/admin/recipients_recipient/new/")
            assert "服务对象" in page.content()
            page.select_option("#team", str(team_id))
            page.select_option("#file_kind", "long")
            page.select_option("#category", "child")
            page.fill("#name", "李小明")
            page.fill("#phone", "13912345678")
            page.fill("#guardian_name", "李大明")
            page.fill("#guardian_relation", "父亲")
            page.fill("#guardian_phone", "13800001111")
            page.select_option("#consent_by", "guardian")
            page.locator("form.admin-form [type=submit]").first.click()
            page.wait_for_load_state()
            assert "须先告知本人（或监护人）收集信息的目的并取得同意" in page.content()
            with site.app_context():
                from plugins.recipients.models import Recipient
                assert Recipient.select().count() == 0
            page.check("#consent")
            page.locator("form.admin-form [type=submit]").first.click()
            page.wait_for_load_state()
            page.goto(base + "/admin/recipients_recipient/")
            html = page.content()
            assert "李*明" in html and "139****5678" in html and "李小明" not in html and "13912345678" not in html
            with site.app_context():
                r = Recipient.get()
                assert (r.consent_by, r.guardian_name, r.notice_version) == ("guardian", "李大明", "2024-01")
                from plugins.privacy.consents import consented
                assert consented(("recipient", r.id), "recipient_registration")
            # the public pages at phone width: the recipient is never shown
            phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True).new_page()
            for path in ("/", "/volunteers/register", "/login"):
                phone.goto(base + path)
                text = phone.content()
                assert "李小明" not in text and "李*明" not in text and "13912345678" not in text, path
                assert phone.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0, path
            assert not problems, problems
        finally:
            browser.close()
