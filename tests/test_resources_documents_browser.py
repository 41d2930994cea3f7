"""Issue 14 points 1 and 4 in Chromium at 390 px (a phone): the public page answers "what can we apply for
in the next N days" with N typed in a bounded field, without sideways scrolling; the 公示 page links the
list as a PDF that downloads as a real PDF (R-RES-1, R-RES-2)."""
from __future__ import annotations

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true", "TIMEBANK_PLUGINS": "volunteers,teams,documents,resources"}


def test_r_res_1_5_next_n_days_and_the_publicity_pdf_on_a_phone(server, site):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            c = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
            c.set_default_timeout(20_000)
            page = c.new_page()
            problems = []
            page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            page.goto(base + "/resources/")
            field = page.locator("#days-form input[name=days]")
            expect(field).to_have_value("60")
            assert field.get_attribute("min") == "1" and field.get_attribute("max") == "366"
            field.fill("10")
            page.locator("#days-form button").click()
            page.wait_for_load_state()
            assert "days=10" in page.url
            expect(page.locator("h2").first).to_contain_text("10")
            assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
            page.goto(base + "/resources/?days=9999")       # out of bounds: the setting, no error
            expect(page.locator("#days-form input[name=days]")).to_have_value("60")
            page.goto(base + "/resources/publicity/")
            link = page.locator("#publicity-pdf")
            expect(link).to_be_visible()
            r = page.request.get(base + link.get_attribute("href"))
            assert r.status == 200 and r.headers["content-type"] == "application/pdf" and r.body()[:5] == b"%PDF-"
            assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
            assert problems == []
        finally:
            browser.close()
