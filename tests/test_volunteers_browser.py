"""A new volunteer registers on a phone, in a real browser against a real server (issue 3 point 1,
"Done means": "A new user registers in a browser").

``timebank init`` creates a site in a temporary folder and ``timebank serve`` runs it under gunicorn;
headless Chromium (Debian's, driven by Playwright) opens ``/register`` at a phone's viewport, submits a
wrong ID number and sees the error beside the field (nothing saved, the other answers kept), corrects it,
gets a volunteer number, logs in with the mobile number and sees the record masked (R-REG-1…3, IV1,
PR5). Elements are found by their ids and names, so the test holds in any language. Screenshots are
kept beside the server log (and copied to ``$TIMEBANK_SCREENSHOT_DIR`` when set).
"""
from __future__ import annotations

import os
import shutil

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import server as site  # noqa: F401 - the site `timebank serve` runs, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PHONE_VIEWPORT = {"width": 390, "height": 844}      # a common phone (CSS pixels)
ID_OK = "11010519491231002X"                        # SECURITY IV1 vectors
ID_BAD = "110105194912310021"


@pytest.fixture
def phone(site):
    """A Chromium page the size of a phone, in Chinese, with touch; records failed requests."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="zh-CN", viewport=PHONE_VIEWPORT, is_mobile=True,
                                          has_touch=True, device_scale_factor=2)
            pg = context.new_page()
            pg.set_default_timeout(20_000)
            pg.problems = []
            pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"{r.status} {r.url}"))
            pg.on("requestfailed", lambda r: pg.problems.append(f"failed {r.url} {r.failure}"))
            pg.on("pageerror", lambda e: pg.problems.append(f"script error {e}"))
            yield pg
        finally:
            browser.close()


def _shot(page, site, name):
    path = site["tmp"] / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    out = os.environ.get("TIMEBANK_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, name))
    return path


def _fits_the_screen(page):
    """One column, no sideways scrolling: inputs line up and span the form's width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    boxes = [page.locator(sel).bounding_box() for sel in ("#f-name", "#f-id_number", "#f-phone")]
    assert len({round(b["x"]) for b in boxes}) == 1, boxes
    assert all(b["width"] >= PHONE_VIEWPORT["width"] * 0.7 for b in boxes), boxes
    assert all(b["height"] >= 40 for b in boxes), "touch targets of at least ~44 CSS px"
    # 16 px text in inputs: phones do not zoom in when a field gets focus
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#f-name')).fontSize)") >= 16


def test_volunteer_registers_on_a_phone_and_sees_the_record_masked(site, phone):
    from playwright.sync_api import expect
    base = site["base"]
    page = phone
    page.goto(base + "/register")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator('meta[name="viewport"]').get_attribute("content").startswith("width=device-width")
    _fits_the_screen(page)
    # nothing is pre-ticked (PR3, R-REG-2)
    for box in ("agreement", "sensitive_consent", "pledge", "guardian_consent"):
        expect(page.locator(f"#f-{box}")).not_to_be_checked()

    # first attempt: a wrong check digit
    page.locator("#f-name").fill("陈志愿")
    page.locator("#f-id_number").fill(ID_BAD)
    page.locator("#f-phone").fill("+86 138 0000 2468")
    page.locator("#f-password").fill("a long walk by the pearl river")
    expect(page.locator("#f-district")).to_be_hidden()                  # optional answers start folded
    page.locator("details.section > summary").first.tap()
    page.locator("#f-district").select_option("天河区")
    page.locator("#f-agreement").check()
    page.locator("#register-form button[type=submit]").click()
    page.wait_for_load_state()
    err = page.locator("#err-id_number")
    expect(err).to_be_visible()
    assert err.inner_text().strip()
    # the error sits right under its own field, and the input says so to screen readers
    id_box, err_box = page.locator("#f-id_number").bounding_box(), err.bounding_box()
    assert 0 <= err_box["y"] - (id_box["y"] + id_box["height"]) < 80
    assert page.locator("#f-id_number").get_attribute("aria-describedby") == "err-id_number"
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("陈志愿")            # answers kept …
    expect(page.locator("#f-district")).to_have_value("天河区")
    expect(page.locator("#f-password")).to_have_value("")              # … but not the password
    expect(page.locator(".vol-number")).to_have_count(0)
    _fits_the_screen(page)
    _shot(page, site, "register-error-mobile.png")
    assert [p for p in page.problems if "/register" not in p] == []
    page.problems.clear()                                               # the 400 was the point

    # corrected: a volunteer number is handed out
    page.locator("#f-id_number").fill(ID_OK.lower())
    page.locator("#f-password").fill("a long walk by the pearl river")
    page.locator("#f-gender").select_option("F")
    page.locator("#register-form button[type=submit]").click()
    number = page.locator(".vol-number")
    expect(number).to_be_visible()
    vol_number = number.inner_text().strip()
    assert vol_number.startswith("GZ") and len(vol_number) == 13
    _shot(page, site, "registered-mobile.png")

    # log in with the mobile number (any spelling) and see the record, masked
    page.goto(base + "/login")
    page.locator("input[name=username]").fill("138-0000-2468")
    page.locator("input[name=password]").fill("a long walk by the pearl river")
    page.locator("form button[type=submit]").last.click()
    page.goto(base + "/me")
    body = page.locator("main").inner_text()
    assert vol_number in body and "110105********002X" in body and "138****2468" in body
    assert ID_OK not in page.content() and "13800002468" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    _shot(page, site, "me-mobile.png")
    assert page.problems == [], page.problems
