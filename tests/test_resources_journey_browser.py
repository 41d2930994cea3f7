"""Issue 14's "Done means" as one journey in Chromium (R-RES-2, R-RES-3, R-RES-4, R-RES-5): a team admin
drafts a 申报书 in the browser, is refused with a clear message for a 35 % publicity line and a 6th member,
fixes it and submits; the platform assigns a reviewer who scores the six criteria; the application is
approved into 公示 and the public page shows it (also at 390 px, without the leader's or members' personal
data); after the announcement the attendance is recorded, the funded activity is published through the
activities plugin and is live in the activities listing, and only then does the application move to 实施
(入选项目必须在时间银行上线); the final evaluation closes it. Setup only (team, members, reviewer account) goes
through the services; everything else is clicks."""
from __future__ import annotations

import datetime as _dt

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared
from test_people_journey_browser import _login

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "correct horse battery staple"
TITLE = "北京街长者探访计划"
LEADER_MOBILE = "13900004321"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true",
            "TIMEBANK_PLUGINS": "volunteers,teams,documents,activities,resources"}


def _setup(app):
    from core.security import create_user, grant_role
    from test_teams_workflow import add_member, new_team, new_volunteer
    team_id = new_team(app, "越秀区北京街党员志愿服务队", admin="ta")
    numbers = []
    for i in range(6):
        vid, number = new_volunteer(app, 4400 + i)
        add_member(app, vid, team_id)
        numbers.append(number)
    with app.app_context():
        grant_role(create_user("rv", password=PASSWORD), "resources_reviewer")
    return team_id, numbers


def _step(page, step):
    page.locator(f"form:has(input[name=step][value={step}]) button").click()
    page.wait_for_load_state()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").all_inner_texts()


def test_r_res_2_issue14_done_means_the_application_journey_in_chromium(server, site):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright
    base = server["base"]
    team_id, numbers = _setup(site)
    day = (_dt.date.today() + _dt.timedelta(days=20)).isoformat()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            def ctx(**kw):
                c = browser.new_context(locale="zh-CN", **kw)
                c.set_default_timeout(20_000)
                p = c.new_page()
                p.problems = []
                p.on("response", lambda r: r.status >= 500 and p.problems.append(f"{r.status} {r.url}"))
                return p
            team, platform, reviewer = ctx(), ctx(), ctx()
            journey = type("J", (), {"see": lambda *a: None})()
            _login(journey, team, base, "ta", PASSWORD)
            _login(journey, platform, base, "admin", server["password"])
            _login(journey, reviewer, base, "rv", PASSWORD)

            # 1. the team admin drafts: a 35 % publicity line and six members are refused beside them
            page = team
            page.goto(base + "/admin/resources_application/draft/")
            for k, v in {"activity_name": TITLE, "field": "扶贫济困", "target_group": "独居长者",
                         "period_start": "2027-03-01", "period_end": "2027-05-01", "place": "北京街某社区",
                         "total_budget": "1200", "requested": "1000", "summary": "每周上门探访独居长者",
                         "background": "辖区独居长者多", "needs": "长者缺少陪伴", "goals": "探访 40 人次",
                         "content": "探访、陪伴、电话关怀", "leader_number": numbers[0],
                         "leader_phone": LEADER_MOBILE}.items():
                page.locator(f"[name={k}]").fill(v)
            for i, n in enumerate(numbers):
                page.locator(f"[name=members-{i}-number]").fill(n)
                page.locator(f"[name=members-{i}-duty]").fill("探访员")
            for f, v in {"when": "2027年3月第1周", "place": "社区活动室", "theme": "启动会", "content": "破冰",
                         "materials": "海报", "person": "张三"}.items():
                page.locator(f"[name=schedule-0-{f}]").fill(v)
            page.locator("[name=outputs-0-indicator]").fill("探访人次")
            page.locator("[name=outputs-0-planned]").fill("40")
            page.locator("input[name=evaluation_methods][value=phone]").check()
            page.locator("input[name=evaluation_methods][value=summary]").check()
            lines = [("service", "社区活动物资", "300", "1"), ("publicity", "设计并印制项目折页", "3.5", "100"),
                     ("transport", "交通补贴", "10", "10"), ("meals", "误餐补贴", "20", "5"),
                     ("trainer", "导师费", "100", "1")]
            for i, (cat, d, p, q) in enumerate(lines):
                page.locator(f"[name=lines-{i}-category]").select_option(cat)
                page.locator(f"[name=lines-{i}-detail]").fill(d)
                page.locator(f"[name=lines-{i}-unit_price]").fill(p)
                page.locator(f"[name=lines-{i}-quantity]").fill(q)
            page.get_by_role("button", name="保存草稿").click()
            page.wait_for_load_state()
            expect(page.locator('[data-field="members"]')).to_contain_text("5")
            expect(page.locator('[data-field="lines-1-amount"]')).to_contain_text("30%")
            page.locator("[name=members-5-number]").fill("")
            page.locator("[name=members-5-duty]").fill("")
            page.locator("[name=lines-0-unit_price]").fill("400")
            page.locator("[name=lines-1-unit_price]").fill("3")
            page.get_by_role("button", name="保存草稿").click()
            page.wait_for_load_state()
            assert "/details/" in page.url, page.locator(".invalid-feedback").all_inner_texts()
            aid = page.url.split("id=")[1].split("&")[0]
            details = f"{base}/admin/resources_application/details/?id={aid}"
            expect(page.locator("#leader")).to_contain_text("139****4321")
            _step(page, "submit")

            # 2. the platform starts the review and assigns the reviewer, who scores the six criteria
            page = platform
            page.goto(details)
            _step(page, "start_review")
            page.locator("#username").fill("rv")
            page.get_by_role("button", name="指派", exact=True).click()
            page.wait_for_load_state()
            page = reviewer
            page.goto(base + "/admin/resources_application/")
            expect(page.locator("body")).to_contain_text(TITLE)
            page.goto(details)
            for c, v in {"significance": "9", "feasibility": "8", "participation": "8", "innovation": "7",
                         "detail": "9", "funding": "8"}.items():
                page.locator(f"#score-{c}").fill(v)
            page.locator("#comment").fill("需求明确，计划可行")
            page.locator("#decision").select_option("fund")
            page.get_by_role("button", name="保存评分").click()
            page.wait_for_load_state()
            expect(page.locator("#reviews")).to_contain_text("49")

            # 3. approved into 公示: the public page lists it, also on a phone, without personal data
            page = platform
            page.goto(details)
            _step(page, "approve")
            public = ctx(viewport=PHONE, is_mobile=True, has_touch=True)
            public.goto(base + "/resources/publicity/")
            expect(public.locator("#publicity")).to_contain_text(TITLE)
            assert public.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
            html = public.content()
            assert LEADER_MOBILE not in html and numbers[0] not in html
            public.screenshot(path=str(server["tmp"] / "publicity-390.png"), full_page=True)

            # 4. announcement over; attendance; the time-bank rule refuses 实施 until an activity is live
            page.goto(details)
            _step(page, "announced")
            page.locator("#attendance input[name=present]").first.check()
            page.get_by_role("button", name="保存签到").click()
            page.wait_for_load_state()
            page.locator("form:has(input[name=step][value=trained]) button").click()
            page.wait_for_load_state()
            expect(page.locator(".alert-danger")).to_contain_text("入选项目必须在时间银行上线")
            page.locator("#act-contact_name").fill("张三")
            page.locator("#act-contact_phone").fill("13900004322")
            page.locator("#act-district").fill("越秀区")
            page.locator("#act-starts_at").fill(f"{day}T09:00")
            page.locator("#act-ends_at").fill(f"{day}T11:00")
            page.locator("#act-capacity").fill("10")
            page.get_by_role("button", name="发布资助活动").click()
            page.wait_for_load_state()
            expect(page.locator("#live")).to_contain_text(TITLE)
            listing = ctx()
            listing.goto(base + "/activities/")
            expect(listing.locator("main")).to_contain_text(TITLE)
            _step(page, "trained")
            _step(page, "implemented")

            # 5. the final evaluation: outputs achieved, money spent per line, results, then closed
            page.locator("input[name^=achieved-]").first.fill("42")
            for inp in page.locator("input[name^=spent-]").all():
                inp.fill("90")
            page.locator("#method_results").fill("电话回访 20 位长者，均表示满意")
            page.locator("#conclusion").fill("达成预期目标")
            page.get_by_role("button", name="保存末期评估").click()
            page.wait_for_load_state()
            expect(page.locator("#evaluation-budget")).to_contain_text("450")
            _step(page, "close")
            expect(page.locator("body")).to_contain_text("已结束")
            from plugins.resources.models import Application, Review
            with site.app_context():
                a = Application.get_by_id(int(aid))
                assert a.status == "closed" and a.conclusion == "达成预期目标"
                assert Review.get(Review.application == a).total() == 49
            for p in (team, platform, reviewer, public, listing):
                assert not p.problems, p.problems
        finally:
            browser.close()
