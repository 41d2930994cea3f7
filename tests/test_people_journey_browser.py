"""Issue 18's "Done means", as one journey in a real browser at phone width (issue 18 points 2, 3, 4, 5, 6, 7, 9).

"A volunteer on a 390 px screen registers, is logged in, finds an activity from the home page or the map,
signs up, checks in, and is told when hours and points arrive; the organiser creates a two-slot activity in
one form and is told when it is approved; all of it in Chromium at phone width, no English word on the way."

``timebank init`` + ``timebank serve`` run the site (the shipped ``server``/``site`` fixtures of core.testing)
with immediate delivery. Only the setup goes through the services: an approved team with its admin ``ta``,
and two settings on the served site (check-in opens three days ahead, because the slot starts tomorrow and
the scans happen now — R-ACT-7's window is a setting; the map's tiles at an address where nothing listens,
so the test never needs the internet). Everything else is done by people in Chromium (Debian's), each in
their own browser context, every one of them a phone (390×844, touch, zh-CN):

1. the organiser creates a two-slot activity in ONE admin form — the team box already on their team, the
   times typed into datetime-local pickers, a landline as the contact number, coordinates for the map — and
   submits it with the button on the activity's own page; the platform admin approves it with the button
   there; the organiser's inbox shows 【审核通过】 with the title, once; the organiser publishes it;
2. a visitor opens the home page, taps 志愿者注册, registers, and is logged in at once (no login form);
3. the home page's 近期活动 lists the activity; the volunteer opens it from the listing's service map (the
   marker's popup link) and signs up for the first slot;
4. check-in and check-out by scanning: the organiser's code screen is screenshotted, the QR code decoded
   (zxing-cpp) and the decoded link opened by the volunteer's phone — tokens are never made by the test;
5. the worker's ``finish_due`` runs in the test process (the scheduler's step, not a person's); the organiser
   enters the hours actually given on the hours page (the scans were seconds apart: the page says so rather
   than confirming 0.0 h silently) and confirms; the volunteer's inbox shows 【时数确认】 naming the
   activity and the points credited, once;
6. on every page the volunteer and the organiser see: no English word of the UI chrome (the COLLECT /
   ``english`` logic of tests/test_admin_zh_browser.py), no horizontal overflow, no table cell squeezed to a
   character a line, no script error, no server error and no request refused by the Content-Security-Policy.

What it found on the way (fixed with it): the map's Leaflet controls spoke English ("Zoom in", "Zoom out",
"Close popup" as titles and aria-labels); the hours page at 390 px squeezed its headings and the 0.0 h note
to a character a line, and showed the check-in and check-out times without their date (scans today, slot
tomorrow, read as if on the slot's day).

Screenshots of each step are kept in the test's tmp folder (and copied to ``$TIMEBANK_SCREENSHOT_DIR`` when set).
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import shutil

import pytest
from test_activities_e2e_browser import _decode
from test_admin_zh_browser import COLLECT, english
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "correct horse battery staple"
TEAM = "越秀区北京街党员志愿服务队"
TITLE = "北京街社区长者助餐配送"
NAME = "林小满"
ID_NUMBER_SEED = 4218          # tests/test_teams_workflow.py cn_id(n): a valid, obviously fake ID number
MOBILE = "13900004218"
LANDLINE = "020-83331234"
TZ = _dt.timezone(_dt.timedelta(hours=8))
PHONE = {"width": 390, "height": 844}
TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"   # nothing listens there: the map works without tiles
# besides tests/test_admin_zh_browser.py's ALLOWED: file formats a person downloads (ZIP, JSON), and the map's
# credits — the library's name and the tile server's required attribution (a setting's value), proper names
NAMES = re.compile(r"(?<![A-Za-z])(ZIP|JSON|Leaflet|© OpenStreetMap contributors)(?![A-Za-z])")


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true"}


def _setup(app) -> int:
    from fixtures.activities_plugins.actsupport import set_setting
    from test_teams_workflow import new_team
    team_id = new_team(app, TEAM, admin="ta")
    set_setting(app, "activities.checkin_opens_minutes_before", 3 * 24 * 60)
    set_setting(app, "activities.map_tile_url", TILES)
    return team_id

# a table cell so narrow that its words break a character a line (readable tables, issue 18 point 3)
SQUEEZED = r"""() => [...document.querySelectorAll('main td, main th')].filter(c => {
  const t = (c.innerText || '').trim();
  if (t.length < 4 || !c.getClientRects().length || c.getBoundingClientRect().width < 4) return false;  // sr-only
  const s = getComputedStyle(c);
  const inner = c.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  return inner < 2.2 * parseFloat(s.fontSize);
}).map(c => c.innerText.trim().slice(0, 30))"""


class Journey:
    """Each page a person sees is checked (English words, overflow) and screenshotted, in order."""

    def __init__(self, server, data):
        self.server, self.data, self.n, self.found = server, data, 0, []

    def phone(self, browser):
        ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
        ctx.set_default_timeout(20_000)
        page = ctx.new_page()
        page.problems = []
        page.on("response", lambda r: r.status >= 500 and page.problems.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda e: page.problems.append(f"script error {e}"))
        page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
                and page.problems.append(f"CSP: {m.text}"))
        return page

    def see(self, page, who, name):
        """What ``who`` sees now: checked and kept as ``NN-who-name.png``."""
        page.wait_for_load_state("load")
        self.n += 1
        where = f"{self.n:02d} {who} {name} {page.url.replace(self.server['base'], '')}"
        seen = [(kind, NAMES.sub(" ", text)) for kind, text in page.evaluate(COLLECT)]
        for text in english(seen, self.data):
            self.found.append(f"{where}: English {text}")
        wide = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        if wide > 0:
            self.found.append(f"{where}: horizontal overflow of {wide} px")
        for cell in page.evaluate(SQUEEZED):
            self.found.append(f"{where}: a table cell squeezed to a character a line: {cell}")
        path = self.server["tmp"] / "journey" / f"{self.n:02d}-{who}-{name}.png"
        path.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        out = os.environ.get("TIMEBANK_SCREENSHOT_DIR")
        if out:
            os.makedirs(out, exist_ok=True)
            shutil.copy(path, os.path.join(out, "journey-" + path.name))


def _login(journey, page, base, username, password):
    page.goto(base + "/login")
    journey.see(page, username, "login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    if page.url.endswith("/account/password"):  # the generated admin password is changed first (AC3)
        new = password + "-changed"
        page.locator("input[name=current]").fill(password)
        page.locator("input[name=new]").fill(new)
        page.locator("input[name=confirm]").fill(new)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    assert "/login" not in page.url and "/account/password" not in page.url, f"{username} could not log in"


def _step_button(page, label):
    """A workflow step's button on the activity's own details page (issue 18 point 4)."""
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()
    assert "/admin/activities_activity/details/" in page.url, page.url


def test_issue18_done_means_the_people_journey_on_a_phone(server, site):  # noqa: F811
    """issue 18 Done means (points 2, 3, 4, 5, 6, 7, 9): organiser and volunteer on a 390 px phone in zh-CN —
    a two-slot activity in one form, approved by buttons and announced; a volunteer registers (logged in at
    once), finds it on the map, signs up, checks in and out by the scanned QR code, and is told the hours
    and points; no English word, no overflow, no script error or CSP refusal on any page on the way."""
    from playwright.sync_api import expect, sync_playwright
    base = server["base"]
    team_id = _setup(site)
    tomorrow = (_dt.datetime.now(TZ) + _dt.timedelta(days=1)).date()
    last_end = _dt.datetime.combine(tomorrow, _dt.time(17, 0), tzinfo=TZ)
    journey = Journey(server, frozenset({"ta", "admin"}))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            organiser, platform, volunteer = (journey.phone(browser) for _ in range(3))
            _login(journey, organiser, base, "ta", PASSWORD)
            _login(journey, platform, base, "admin", server["password"])

            # 1. the organiser: one form, two slots, pickers, own team preselected, a landline (point 4)
            page = organiser
            page.goto(base + "/admin/activities_activity/new/")
            expect(page.locator("#team")).to_have_value(str(team_id))
            for field in ("slot_start", "slot_end", "slot_start_2", "slot_end_2"):
                expect(page.locator(f"#{field}")).to_have_attribute("type", "datetime-local")
            page.locator("#title").fill(TITLE)
            page.locator("#category").select_option(label="扶贫助困服务")
            page.locator("#field").select_option(label="爱心帮扶")
            page.locator("#district").select_option("越秀区")
            page.locator("#address").fill("广州市越秀区北京街道社区服务中心")
            page.locator("#latitude").fill("23.129")
            page.locator("#longitude").fill("113.264")
            page.locator("#description").fill("为社区独居长者配送午餐，陪伴用餐并了解近况。")
            page.locator("#contact_name").fill("李老师")
            page.locator("#contact_phone").fill(LANDLINE)
            page.locator("#volunteer_type").fill("配送员")
            page.locator("#slot_start").fill(f"{tomorrow}T09:00")
            page.locator("#slot_end").fill(f"{tomorrow}T12:00")
            page.locator("#slot_capacity").fill("5")
            page.locator("#volunteer_type_2").fill("陪餐员")
            page.locator("#slot_start_2").fill(f"{tomorrow}T14:00")
            page.locator("#slot_end_2").fill(f"{tomorrow}T17:00")
            page.locator("#slot_capacity_2").fill("3")
            journey.see(page, "organiser", "new-activity")
            page.get_by_role("button", name="保存", exact=True).click()
            page.wait_for_load_state()
            expect(page.locator(".alert-danger")).to_have_count(0)
            row = page.locator("table.model-list tr", has_text=TITLE)
            expect(row).to_contain_text("草稿")
            aid = int(row.locator("input.action-checkbox[name=rowid]").get_attribute("value"))
            journey.see(page, "organiser", "activities")
            details = base + f"/admin/activities_activity/details/?id={aid}"
            page.goto(details)
            expect(page.locator("main")).to_contain_text(LANDLINE)
            journey.see(page, "organiser", "draft")
            _step_button(page, "提交审核")
            expect(page.locator("main")).to_contain_text("待审核")
            journey.see(page, "organiser", "submitted")

            # the platform admin approves with the button on the record's page
            platform.goto(details)
            journey.see(platform, "admin", "to-review")
            _step_button(platform, "审核通过（平台）")
            expect(platform.locator("main")).to_contain_text("已通过")
            journey.see(platform, "admin", "approved")

            # the organiser is told (point 5), once, and publishes with the button
            page.goto(base + "/inbox")
            told = page.locator("main").get_by_role("link", name=f"【审核通过】{TITLE}")
            expect(told).to_have_count(1)
            journey.see(page, "organiser", "inbox-approved")
            page.goto(details)
            _step_button(page, "发布")
            expect(page.locator("main")).to_contain_text("已发布")
            journey.see(page, "organiser", "published")

            # 2. a visitor registers from the home page and is logged in at once (points 2, 4)
            page = volunteer
            from test_teams_workflow import cn_id
            page.goto(base + "/")
            journey.see(page, "volunteer", "home-visitor")
            page.locator("main").get_by_role("link", name="志愿者注册").first.click()
            page.wait_for_url(base + "/register")
            journey.see(page, "volunteer", "register")
            page.locator("#f-name").fill(NAME)
            page.locator("#f-id_number").fill(cn_id(ID_NUMBER_SEED))
            page.locator("#f-phone").fill(MOBILE)
            page.locator("#f-password").fill(PASSWORD)
            page.locator("#f-agreement").check()
            page.locator("#register-form button[type=submit]").click()
            page.wait_for_load_state()
            expect(page.locator("h1")).to_contain_text(NAME)
            expect(page.locator("main")).to_contain_text("您已登录")
            number = page.locator(".vol-number").inner_text().strip()
            journey.data = journey.data | {number}
            journey.see(page, "volunteer", "registered")
            page.goto(base + "/me")                      # no login form on the way: the session is theirs
            assert page.url == base + "/me", page.url
            expect(page.locator("main")).to_contain_text(NAME)
            journey.see(page, "volunteer", "me")

            # 3. the home page's 近期活动 lists it; the map's marker leads to it (points 2, 9)
            page.goto(base + "/")
            upcoming = page.locator("main section, main .card, main div", has_text="近期活动").last
            expect(upcoming.get_by_role("link", name=TITLE)).to_have_attribute("href", f"/activities/{aid}")
            journey.see(page, "volunteer", "home")
            page.goto(base + "/activities/")
            marker = page.locator(f"#service-map .leaflet-marker-icon[title='{TITLE}']")
            expect(marker).to_have_count(1)
            marker.click()
            link = page.locator(".leaflet-popup-content a.service-map-link")
            expect(link).to_be_visible()
            expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
            journey.see(page, "volunteer", "map")
            link.click()
            page.wait_for_url(base + f"/activities/{aid}")
            expect(page.locator("h1")).to_have_text(TITLE)
            expect(page.locator("main")).to_contain_text("配送员")
            expect(page.locator("main")).to_contain_text("陪餐员")
            journey.see(page, "volunteer", "activity")
            page.get_by_role("link", name="我要报名").first.click()
            expect(page.locator("main")).to_contain_text(NAME)
            journey.see(page, "volunteer", "confirm-signup")
            page.locator("main form button[type=submit]").click()
            page.wait_for_url(base + "/activities/mine")
            expect(page.locator(".flash.success")).to_be_visible()
            expect(page.locator("ul.signups")).to_contain_text("已确认")
            journey.see(page, "volunteer", "signed-up")

            # 4. check in and out by scanning the organiser's screen (point 7's window open now)
            for mode, screen_title, done in (("in", "扫码签到", "已签到"), ("out", "扫码签退", "已签退")):
                organiser.goto(details)
                with organiser.context.expect_page() as new_tab:
                    organiser.get_by_role("link", name="签到二维码" if mode == "in" else "签退二维码").click()
                screen = new_tab.value
                screen.wait_for_load_state("load")
                expect(screen.locator("h1")).to_have_text(screen_title)
                screen.problems = organiser.problems
                screen.on("pageerror", lambda e: organiser.problems.append(f"script error {e}"))
                journey.see(screen, "organiser", f"code-{mode}")
                link = _decode(screen.locator(".qr").screenshot())
                assert link.startswith(base + "/activities/checkin?t="), link
                volunteer.goto(link)
                expect(volunteer.locator("h1")).to_contain_text(done)
                journey.see(volunteer, "volunteer", f"checked-{mode}")
                screen.close()
            volunteer.goto(base + "/activities/mine")
            expect(volunteer.locator("ul.signups")).to_contain_text("已签退")
            journey.see(volunteer, "volunteer", "mine-checked-out")

            # 5. the slots end (the worker's step), the organiser confirms the hours actually given
            from plugins.activities import services as act
            with site.app_context():
                assert act.finish_due(last_end + _dt.timedelta(minutes=1)) == 1
            page = organiser
            page.goto(details)
            page.get_by_role("link", name="确认时数").click()
            row = page.locator("main table tr", has_text=NAME)
            expect(row).to_contain_text("0.0")
            today = _dt.datetime.now(TZ).strftime("%m-%d")     # the scans were today, the slot is tomorrow:
            expect(row.locator("td").nth(2)).to_contain_text(today)  # the times say their date (point 6)
            expect(row.locator(".text-danger, .text-warning")).not_to_have_count(0)  # never 0.0 h silently
            journey.see(page, "organiser", "hours")
            row.locator("input[name^=m]").fill("3")
            row.locator("input[name^=r]").fill("扫码在活动前完成，按现场签到表录入实际服务时数")
            page.get_by_role("button", name="确认时数").click()
            page.wait_for_load_state()
            expect(page.locator(".alert").first).to_contain_text("时数已确认")
            expect(row.locator("td").nth(5)).to_have_text("3.0")
            journey.see(page, "organiser", "hours-confirmed")

            page = volunteer
            page.goto(base + "/inbox")
            told = page.locator("main").get_by_role("link", name=f"【时数确认】{TITLE}")
            expect(told).to_have_count(1)
            journey.see(page, "volunteer", "inbox-hours")
            told.click()
            body = page.locator("main")
            expect(body).to_contain_text(TITLE)
            expect(body).to_contain_text(re.compile(r"3\.0 小时服务时数已确认，获得 3 个时间积分"))
            journey.see(page, "volunteer", "message-hours")
            page.goto(base + "/points/me")
            expect(page.locator("main")).to_contain_text(TITLE)
            journey.see(page, "volunteer", "points")

            # 6. along the way
            problems = organiser.problems + platform.problems + volunteer.problems
            assert problems == [], problems
        finally:
            browser.close()
    assert journey.found == [], "\n".join(journey.found)
