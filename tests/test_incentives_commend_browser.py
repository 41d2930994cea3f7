"""Commendations' public honour roll at 390 px and the evaluation indicators dashboard's charts (issue 16,
R-INC-2, R-INC-3) in Chromium, served by ``timebank serve`` with the incentives plugin on: the roll fits a
phone; the dashboard draws both ECharts charts (vendored, no CDN, no CSP refusal) on non-empty canvases,
and its table shows the satisfaction of the real feedback forms (套表2) entered for a finished activity."""
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


def _world(site):
    from plugins.activities.models import Category
    from plugins.volunteers import services as V
    from test_teams_workflow import cn_id, new_team
    team = new_team(site, "越秀区北京街党员志愿服务队", admin="ta")
    with site.test_request_context():
        vols = [V.register({"name": name, "id_type": "cn_id", "id_number": cn_id(5300 + n),
                            "phone": f"1380005{n:04d}", "agreement": True, "password": PASSWORD}).id
                for n, name in enumerate(["林小满", "陈大文", "黄晓明"], 1)]
        cats = {c.code: c.id for c in Category.select()}
    return {"app": site, "a": team, "v": vols, "cats": cats, "n": 0}


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def _watch(page):
    problems = []
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda err: problems.append(f"script error {err}"))
    return problems


def test_r_inc_2_9_the_honour_roll_fits_a_390_px_phone(server, site):
    from core.models import User
    from plugins.incentives import commendations as C
    from plugins.incentives.models import Scheme
    w = _world(site)
    with site.test_request_context():
        admin = User.get(User.username == "admin")
        y = _dt.date.today().year
        for code, vid in (("leifeng_month", w["v"][0]), ("elderly_service", w["v"][1])):
            n = C.nominate(Scheme.get(Scheme.code == code), period_start=_dt.date(y, 1, 1),
                           period_end=_dt.date(y, 12, 31), volunteer_id=vid, actor=admin)
            C.publish(C.award(C.review(n, actor=admin), actor=admin), actor=admin)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
            page = ctx.new_page()
            problems = _watch(page)
            page.goto(server["base"] + "/incentives/honours")
            body = page.locator("main").inner_text()
            assert "光荣榜" in body and "林小满" in body and "雷锋月优秀志愿者" in body and "陈大文" in body
            assert page.locator(".tb-honour").count() == 2
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.screenshot(path=str(server["tmp"] / "honours-390.png"), full_page=True)
            assert problems == [], problems
        finally:
            browser.close()


def test_r_inc_3_5_the_dashboard_draws_its_charts_and_the_table_agrees_with_the_feedback_forms(server, site):
    from plugins.activities.models import Feedback
    from test_incentives import serve
    w = _world(site)
    aid, _ = serve(w, w["v"], hours=3)
    with site.app_context():
        for vid, score in zip(w["v"], (10, 9, 7)):          # average 8.667 → 86.7 %, below the 90 % target
            Feedback.create(activity=aid, volunteer=vid, overall=score)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            problems = _watch(page)
            page.goto(server["base"] + "/login")
            from test_teams_workflow import PASSWORD as TEAM_ADMIN_PASSWORD
            page.locator("input[name=username]").fill("ta")          # the team's admin: its own tree (AC6)
            page.locator("input[name=password]").fill(TEAM_ADMIN_PASSWORD)
            page.locator("form button[type=submit]").last.click()
            lo = (_dt.date.today() - _dt.timedelta(days=30)).isoformat()
            hi = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
            page.goto(server["base"] + f"/admin/incentives_indicators/?from={lo}&to={hi}")
            assert "评估指标" in page.locator("h1").first.inner_text(), (page.url, problems)
            page.wait_for_selector("#tb-chart-pct canvas")
            page.wait_for_selector("#tb-chart-counts canvas")
            for box in ("#tb-chart-pct", "#tb-chart-counts"):
                drawn = page.evaluate("""sel => { const c = document.querySelector(sel + ' canvas');
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; }""", box)
                assert drawn > 1000, (box, drawn)
            row = page.locator('tr[data-code="activities.satisfaction"]')
            assert row.locator(".tb-value").inner_text().strip() == "86.7"
            assert row.locator(".tb-met").inner_text().strip() == "未达到"
            signups = page.locator('tr[data-code="activities.signups"] .tb-value').inner_text().strip()
            assert signups == "3"
            page.screenshot(path=str(server["tmp"] / "indicators.png"), full_page=True)
            assert problems == [], problems
        finally:
            browser.close()
