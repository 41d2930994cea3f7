"""The volunteer's star rating, star history and published evaluation on ``/me`` in Chromium at phone width
(390 px; issue 16 R-INC-1, R-INC-6): served by ``timebank serve`` with the incentives plugin on."""
from __future__ import annotations

import datetime as _dt

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long walk by the pearl river"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true",
            "TIMEBANK_PLUGINS": "volunteers,teams,documents,activities,incentives"}


def test_r_inc_1_7_the_star_and_the_evaluation_show_on_the_volunteers_page_at_390_px(server, site):
    from core.db import today, transaction
    from plugins.incentives import evaluation as E
    from plugins.incentives.models import Star, StarChange
    from plugins.volunteers import services as V
    from test_teams_workflow import cn_id
    with site.test_request_context():
        v = V.register({"name": "林小满", "id_type": "cn_id", "id_number": cn_id(4321), "phone": "13800004321",
                        "agreement": True, "password": PASSWORD})
        with transaction():     # the rating as the recompute leaves it for 320 confirmed hours
            Star.create(volunteer=v.id, stars=2, minutes=320 * 60)
            StarChange.create(volunteer=v.id, from_stars=0, to_stars=1, minutes=100 * 60, source="test")
            StarChange.create(volunteer=v.id, from_stars=1, to_stars=2, minutes=320 * 60, source="test")
        from core.models import User
        e = E.evaluate(v.id, today() - _dt.timedelta(days=90), today())
        e.comment = "服务认真，守时守信"
        e.grade = "good"
        e.save()
        E.publish(e, actor=User.get(User.username == "admin"))
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
            page = ctx.new_page()
            problems = []
            page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
            page.on("pageerror", lambda err: problems.append(f"script error {err}"))
            page.goto(server["base"] + "/login")
            page.locator("input[name=username]").fill("13800004321")
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.goto(server["base"] + "/me")
            body = page.locator("main").inner_text()
            assert "我的星级" in body and "★★" in body
            assert "1★ → 2★" in body and "0★ → 1★" in body
            assert "良好" in body and "服务认真，守时守信" in body
            assert page.locator(".tb-stars").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.screenshot(path=str(server["tmp"] / "me-stars-390.png"), full_page=True)
            assert problems == [], problems
        finally:
            browser.close()
