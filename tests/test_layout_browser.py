"""The people's side on a phone and accessible to everyone, in Chromium against a real server
(issue 18 points 3 and 10).

Point 3: every public and volunteer page, at 390 px (a phone) as a visitor and as a logged-in volunteer,
fits the screen (no horizontal scroll), has no interactive controls lying on top of each other, and its
header menu and buttons are touch targets of at least 44 px; the header menu collapses behind one button
(aria-expanded) and opens. Screenshots at 390 px and 1280 px of each page are kept in the test's tmp folder
(and copied to ``$TIMEBANK_SCREENSHOT_DIR`` when set).

Point 10: axe-core (the PyPI package axe-playwright-python, which bundles axe.min.js) runs on the same pages
and on the admin's dashboard, list, create, edit and details pages at both widths: zero violations of
WCAG 2.0/2.1 A and AA, and of 2.2's target-size rule (tag wcag22aa).

Setup goes through the services (tests/test_timebank_e2e_browser.py's ``_setup``: a team, a volunteer whose
activity has finished, an exchange item and an open campaign; plus the hours confirmed, an issued certificate,
an open activity and a notice).
"""
from __future__ import annotations

import datetime as _dt
import os
import shutil

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

TZ = _dt.timezone(_dt.timedelta(hours=8))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # wcag22aa: the target-size rule
MIN_TOUCH = 44


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true"}


def _setup(app) -> dict:
    from fixtures.activities_plugins.actsupport import new_activity, slot
    from plugins.activities.models import Shift
    from plugins.notices import services as notices
    from test_timebank_e2e_browser import _setup as e2e_setup
    who = e2e_setup(app)
    start = _dt.datetime.combine(who["tomorrow"] + _dt.timedelta(days=2), _dt.time(14, 0), tzinfo=TZ)
    open_id = new_activity(app, who["team"], title="社区长者助餐服务（下午场）",
                           shifts=[slot(start, hours=2, capacity=8)])
    with app.app_context():
        from plugins.activities import services as act
        from plugins.activities.models import Activity
        act.confirm_hours(Activity.get_by_id(who["activity"]), {who["signup"]: 180})  # a points statement row
    with app.test_request_context():  # an issued certificate: its verification page, and a row in "mine"
        from core.models import User
        from plugins.activities.models import ServiceRecord
        from plugins.certificates import services as certs
        from plugins.volunteers.models import Volunteer
        rec = ServiceRecord.get(ServiceRecord.signup == who["signup"])
        c = certs.apply(Volunteer.get_by_id(who["volunteer"]), [rec.id], purpose="settlement")
        who["certificate"] = certs.approve(c, actor=User.get(User.username == "ta")).token
    with app.app_context():
        who["open_activity"] = open_id
        who["open_shift"] = Shift.get(Shift.activity == open_id).id
        who["notice"] = notices.publish("端午节社区志愿服务安排通知", "请各志愿服务队按时报名。").id
    return who


def _shot(page, server, name):  # noqa: F811
    path = server["tmp"] / "layout" / name
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    out = os.environ.get("TIMEBANK_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, name))


# the layout checks, run in the page: horizontal overflow, overlapping controls, small touch targets
LAYOUT_JS = r"""(minTouch) => {
  const problems = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
    problems.push(`horizontal overflow: scrollWidth ${se.scrollWidth} > ${window.innerWidth} (${wide.join(', ')})`);
  }
  const visible = e => {
    if (e.type === 'hidden') return false;
    if (e.checkVisibility && !e.checkVisibility({checkVisibilityCSS: true, contentVisibilityAuto: true})) return false;
    if (e.closest('details:not([open]) > :not(summary)')) return false;  // inside a closed <details>
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const name = e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}"${(e.textContent || e.name || e.value || '').trim().slice(0, 20)}"`;
  const controls = [...document.querySelectorAll('a[href], button, input, select, textarea')].filter(visible);
  const rects = controls.map(e => [...e.getClientRects()].filter(r => r.width > 0 && r.height > 0));
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      if (controls[i].contains(controls[j]) || controls[j].contains(controls[i])) continue;
      const hit = rects[i].some(a => rects[j].some(b =>
        Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1));
      if (hit) problems.push(`overlapping controls: ${name(controls[i])} and ${name(controls[j])}`);
    }
  }
  const primary = [...document.querySelectorAll(
    'header .navbar-brand, header .navbar-toggler, header .nav-link, header select, ' +
    'main .btn, main .button, main button, main input[type=submit]')].filter(visible);
  for (const e of primary) {
    const r = e.getBoundingClientRect();
    if (r.height < minTouch - 0.5 || r.width < minTouch - 0.5)
      problems.push(`touch target ${Math.round(r.width)}x${Math.round(r.height)} px < ${minTouch}: ${name(e)}`);
  }
  return problems;
}"""


def _axe(page, axe) -> list[str]:
    res = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    out = []
    for v in res.response["violations"]:
        nodes = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                          for n in v["nodes"][:4])
        out.append(f"axe {v['id']} ({len(v['nodes'])}): {nodes}")
    return out


def _check(page, server, axe, base, path, label, problems):
    """``path`` at 390 px (layout, menu, axe, screenshot) and at 1280 px (axe, screenshot)."""
    slug = label + "_" + (path.strip("/").replace("/", "_").replace("?", "_").replace("=", "_") or "home")
    page.set_viewport_size(PHONE)
    resp = page.goto(base + path)
    assert resp is not None and resp.status < 400, f"{label} {path}: {resp and resp.status}"
    page.wait_for_load_state("load")
    found = page.evaluate(LAYOUT_JS, MIN_TOUCH)
    found += _axe(page, axe)
    _shot(page, server, f"{slug}_390.png")
    # the collapsed menu opens behind one button that says so, and everything still fits
    toggler = page.locator("header .navbar-toggler")
    if toggler.get_attribute("aria-expanded") != "false" or not page.locator("#site-menu").is_hidden():
        found.append("the header menu is not collapsed at 390 px")
    toggler.click()
    if toggler.get_attribute("aria-expanded") != "true" or not page.locator("#site-menu").is_visible():
        found.append("the header menu does not open")
    found += [f"menu open: {p}" for p in page.evaluate(LAYOUT_JS, MIN_TOUCH)]
    if path == "/":
        _shot(page, server, f"{label}_menu_open_390.png")
    page.set_viewport_size(DESKTOP)
    page.reload()
    page.wait_for_load_state("load")
    if not page.locator("#site-menu").is_visible() or toggler.is_visible():
        found.append("at 1280 px the header menu is not laid out open (or the 菜单 button shows)")
    tall = page.evaluate("[...document.querySelectorAll('header .nav-link')].filter(e => e.getBoundingClientRect().height > 50)"
                         ".map(e => e.textContent.trim())")
    if tall:
        found.append(f"at 1280 px menu links break across lines: {tall}")
    found += [f"1280: {p}" for p in page.evaluate(LAYOUT_JS, MIN_TOUCH) if "touch target" not in p]
    found += [f"1280: {p}" for p in _axe(page, axe)]
    _shot(page, server, f"{slug}_1280.png")
    problems += [f"{label} {path}: {p}" for p in found]


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def _context(browser):
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE)
    ctx.set_default_timeout(20_000)
    return ctx


def _login(page, base, username, password):
    page.goto(base + "/login")
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


def test_issue18_p3_p10_people_pages_fit_a_phone_and_pass_axe(server, site):  # noqa: F811
    """Issue 18 points 3 and 10: every public and volunteer page at 390 px (visitor and volunteer) has no
    horizontal scroll, no overlapping controls, 44 px touch targets for the menu and buttons, a collapsible
    menu, and no axe-core violation (WCAG 2.1 AA + 2.2 target size) at 390 and 1280 px."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
    from test_timebank_e2e_browser import PASSWORD
    base = server["base"]
    who = _setup(site)
    public = ["/", "/activities/", f"/activities/{who['activity']}", f"/activities/{who['open_activity']}",
              "/activities/?q=%E9%95%BF%E8%80%85", "/notices/", f"/notices/{who['notice']}", "/teams/",
              "/teams/register", "/register", "/login", "/donations/", f"/donations/campaigns/{who['campaign']}",
              "/donations/beneficiaries", "/exchange/", "/activate",
              f"/certificates/verify/{who['certificate']}"]
    volunteer = ["/", "/activities/", f"/activities/{who['open_activity']}",
                 f"/activities/shifts/{who['open_shift']}/signup", "/activities/mine", "/activities/mycode",
                 "/points/me", "/certificates/mine", "/exchange/", "/exchange/mine",
                 f"/exchange/items/{who['item']}/redeem", "/donations/", f"/donations/campaigns/{who['campaign']}",
                 f"/donations/campaigns/{who['campaign']}/donate", "/targets/me", "/inbox", "/teams/", "/me",
                 "/notices/", "/account/password", f"/activities/{who['activity']}/feedback"]
    problems: list[str] = []
    axe = Axe()
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = _context(browser).new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(f"script error {e}"))
            page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
                    and errors.append(f"CSP: {m.text}"))
            for path in public:
                _check(page, server, axe, base, path, "visitor", problems)
            page = _context(browser).new_page()
            page.on("pageerror", lambda e: errors.append(f"script error {e}"))
            _login(page, base, who["username"], PASSWORD)
            page.goto(base + "/inbox")
            volunteer.append(page.locator("main a[href*='/inbox/']").first.get_attribute("href"))  # a message
            for path in volunteer:
                _check(page, server, axe, base, path, "volunteer", problems)
        finally:
            browser.close()
    assert errors == [], errors
    assert problems == [], "\n".join(problems)


def test_issue18_p10_admin_pages_pass_axe(server, site):  # noqa: F811
    """Issue 18 point 10: the admin's dashboard, every list page, and create, edit and details pages at 390 and
    1280 px have a <main> landmark, one <h1> and no axe-core violation (WCAG 2.1 AA + 2.2 target size)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
    base = server["base"]
    who = _setup(site)
    pages = ["/admin/", "/admin/plugins/", "/admin/settings/",
             "/admin/notices_notice/new/", f"/admin/notices_notice/edit/?id={who['notice']}",
             f"/admin/activities_activity/details/?id={who['activity']}", "/admin/activities_activity/new/",
             "/admin/teams_team/new/", "/admin/volunteers_volunteer/new/", "/admin/exchange_item/new/",
             "/admin/donations_campaign/new/", "/admin/volunteers_import/",
             f"/admin/activities_activity/hours/?id={who['activity']}",
             f"/admin/activities_activity/outcome/?id={who['activity']}",
             f"/admin/activity_forms/{who['activity']}/", f"/admin/teams_team/edit/?id={who['team']}",
             f"/admin/volunteers_volunteer/details/?id={who['volunteer']}",
             f"/admin/volunteers_volunteer/edit/?id={who['volunteer']}",
             "/admin/team_standards_assessment/assess/", "/admin/certificates_certificate/batch/",
             f"/admin/activities_activity/review/?id={who['open_activity']}",
             f"/admin/teams_team/decide/?id={who['team']}", "/admin/ledger_totals/?year=2026"]
    with site.app_context():  # and every list page the admin has
        from flask import current_app
        lists = sorted({r.rule for r in current_app.url_map.iter_rules()
                        if r.rule.startswith("/admin/") and r.rule.count("/") == 3 and r.rule.endswith("/")
                        and "<" not in r.rule and "static" not in r.rule})
    pages += [p for p in lists if p not in pages]
    problems: list[str] = []
    axe = Axe()
    with sync_playwright() as pw:
        browser = _browser(pw)
        try:
            page = _context(browser).new_page()
            _login(page, base, "admin", server["password"])
            for path in pages:
                for size in (PHONE, DESKTOP):
                    page.set_viewport_size(size)
                    resp = page.goto(base + path)
                    if resp is None or resp.status >= 400:
                        problems.append(f"{path}: HTTP {resp and resp.status}")
                        continue
                    page.wait_for_load_state("load")
                    found = _axe(page, axe)
                    if page.locator("main").count() != 1:
                        found.append("no single <main> landmark")
                    if page.locator("h1").count() < 1:
                        found.append("no <h1>")
                    if page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth"):
                        found.append("horizontal overflow: the page scrolls sideways (a wide list scrolls in its box)")
                    slug = "admin_" + (path.strip("/").replace("/", "_").replace("?", "_").replace("=", "_"))
                    _shot(page, server, f"{slug}_{size['width']}.png")
                    problems += [f"{path} @{size['width']}: {p}" for p in found]
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
