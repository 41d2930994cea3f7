"""A volunteer downloads everything held about them in a real browser (issue 13 point 2; PR7, PIPL 45).

``timebank init`` (privacy is on by default for new sites) + ``timebank serve``; Chromium logs in as a
volunteer, opens /me, follows 下载我的全部信息, prepares the download and saves one ZIP holding data.json
and the Chinese page; the same link a second time is refused in Chinese."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
NAME = "陈下载"


def test_pr7_volunteer_downloads_one_zip_from_me_in_a_real_browser(server, site):  # noqa: F811
    from playwright.sync_api import sync_playwright
    from plugins.volunteers import services as vs
    from test_teams_workflow import cn_id
    with site.app_context():
        assert "privacy" in site.extensions["timebank"].loaded
        v = vs.register({"name": NAME, "id_type": "cn_id", "id_number": cn_id(4301), "phone": "13800004301",
                         "agreement": True, "password": PASSWORD})
        username = v.user.username
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(locale="zh-CN", accept_downloads=True)
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
            page.goto(base + "/me")
            page.get_by_role("link", name="下载我的全部信息").click()
            page.wait_for_load_state()
            page.get_by_role("button", name="准备下载").click()
            page.wait_for_load_state()
            link = page.locator("#privacy-download")
            href = link.get_attribute("href")
            with page.expect_download() as dl:
                link.click()
            z = zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read()))
            data = json.loads(z.read("data.json"))
            assert NAME in json.dumps(data, ensure_ascii=False)
            assert "志愿者档案" in z.read("个人信息.html").decode()
            page.goto(base + href)
            page.wait_for_load_state()
            assert "已经使用" in page.content()
            assert problems == []
        finally:
            browser.close()
