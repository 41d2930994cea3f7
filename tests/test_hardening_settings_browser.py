"""The settings page in a real browser (issue 11 point 16), on a phone (390 px) and a desktop (1280 px):
a platform admin finds 系统设置 in the menu, sees the Chinese labels and the handbook defaults, gets a
Chinese error next to a bad value, saves ``min_age`` = 18, and the registration page then says
"未满 18 周岁" and its script opens the minors' section for a 17-year-old's ID number.
"""
from __future__ import annotations

import re

import pytest

from conftest import PASSWORD
from plugins.volunteers import fakes
from test_browser import CHROMIUM, CHROMIUM_ARGS, server, served_app  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]


@pytest.fixture
def browser(server):  # noqa: F811
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def new_page(browser, width):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"script error {e}"))
    return pg


@pytest.mark.parametrize("width", [390, 1280])
def test_r_reg_4_platform_admin_changes_min_age_in_the_browser_and_registration_follows(server, site, browser,  # noqa: F811
                                                                                        width):
    from playwright.sync_api import expect
    from core.models import User
    from core.security import grant_role, hash_password
    with site.app_context():
        u = User.create(username="settings_admin", password_hash=hash_password(PASSWORD))
        grant_role(u, "platform_admin", "")
    base = server["base"]
    page = new_page(browser, width)
    page.goto(base + "/login")
    page.get_by_label("用户名").fill("settings_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/")
    page.wait_for_load_state("networkidle")  # the menu's scripts (jQuery, Bootstrap) are in place

    # 系统 ▸ 系统设置 (on a phone the menu is behind the navbar toggler)
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    page.locator("nav").get_by_text("系统", exact=True).click()
    expect(page.get_by_role("link", name="系统设置")).to_be_visible()
    page.get_by_role("link", name="系统设置").click()
    expect(page).to_have_url(base + "/admin/settings/")
    page.locator(".nav-pills").get_by_role("link", name="志愿者").click()
    expect(page.locator("h1")).to_contain_text("系统设置")
    field = page.get_by_label(re.compile("可独立参加服务的年龄"))
    expect(field).to_have_value("16")
    expect(page.locator("#h-min_age")).to_contain_text("手册默认值：16")
    # the form fits the screen: no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(server["tmp"] / f"settings-{width}.png"), full_page=True)

    field.fill("abc")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#s-min_age + .invalid-feedback, #s-min_age ~ .invalid-feedback")).to_have_text("请输入整数。")
    expect(page.get_by_text("未保存任何修改")).to_be_visible()

    page.get_by_label(re.compile("可独立参加服务的年龄")).fill("18")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(base + "/admin/settings/volunteers")
    expect(page.get_by_text(re.compile("已保存"))).to_be_visible()
    expect(page.get_by_label(re.compile("可独立参加服务的年龄"))).to_have_value("18")

    visitor = new_page(browser, width)
    visitor.goto(base + "/register")
    minor = visitor.locator("details#minor")
    expect(minor.locator("summary")).to_have_text("未满 18 周岁？")
    assert minor.get_attribute("open") is None
    visitor.locator("#f-id_number").fill(fakes.id_number(fakes.birth_for_age(17), gender="M", seq=915))
    visitor.locator("#f-id_number").dispatch_event("change")
    expect(minor).to_have_attribute("open", "")
    assert page.problems == [] and visitor.problems == [], (page.problems, visitor.problems)
