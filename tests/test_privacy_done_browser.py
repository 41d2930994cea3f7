"""issue 13 "Done means", one flow in a real browser at phone width (390 px): a volunteer logs in, asks
for the export, downloads the ZIP through the single-use link (a second use is refused), files an erasure
request on /me (a privacy request, issue 13 point 2); a platform admin grants it in the admin, and the
volunteer is erased (PR6, PR7, PIPL 45, 47)."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
NAME = "陈全程"


def test_pr7_done_means_export_then_erasure_request_granted_in_a_real_browser_at_390px(server, site):  # noqa: F811
    from playwright.sync_api import sync_playwright
    from plugins.volunteers import services as vs
    from test_teams_workflow import cn_id
    with site.app_context():
        v = vs.register({"name": NAME, "id_type": "cn_id", "id_number": cn_id(4411), "phone": "13800004411",
                         "agreement": True, "password": PASSWORD})
        username, vid = v.user.username, v.id
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(locale="zh-CN", accept_downloads=True,
                                      viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
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
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
            page.get_by_role("link", name="下载我的全部信息").click()
            page.wait_for_load_state()
            page.get_by_role("button", name="准备下载").click()
            page.wait_for_load_state()
            link = page.locator("#privacy-download")
            href = link.get_attribute("href")
            with page.expect_download() as dl:
                link.click()
            z = zipfile.ZipFile(io.BytesIO(open(dl.value.path(), "rb").read()))
            assert NAME in json.dumps(json.loads(z.read("data.json")), ensure_ascii=False)
            assert "志愿者档案" in z.read("个人信息.html").decode()
            page.goto(base + href)                                  # the same link again
            page.wait_for_load_state()
            assert "已经使用" in page.content()
            # the erasure request on /me: a privacy request
            page.goto(base + "/me")
            page.locator("#f-kind").select_option("deletion")
            page.locator("#f-details").fill("请删除我的全部个人信息")
            page.get_by_role("button", name="提交请求").click()
            page.wait_for_load_state()
            assert "请删除我的全部个人信息" in page.content()
            ctx.close()
            # staff grant it in the admin
            admin = browser.new_context(locale="zh-CN")
            admin.set_default_timeout(20_000)
            ap = admin.new_page()
            ap.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            ap.goto(base + "/login")
            ap.locator("input[name=username]").fill("admin")
            ap.locator("input[name=password]").fill(server["password"])
            ap.locator("main form button[type=submit]").last.click()
            ap.wait_for_load_state()
            if ap.url.endswith("/account/password"):  # the generated admin password is changed first (AC3)
                new = server["password"] + "-changed"
                ap.locator("input[name=current]").fill(server["password"])
                ap.locator("input[name=new]").fill(new)
                ap.locator("input[name=confirm]").fill(new)
                ap.locator("main form button[type=submit]").click()
                ap.wait_for_load_state()
            ap.goto(base + "/admin/privacy_requests_admin/")
            row = ap.locator("#privacy-requests tr", has_text="请删除我的全部个人信息")
            row.locator("input[name=outcome]").fill("已按您的请求删除")
            row.get_by_role("button", name="同意", exact=True).click()
            ap.wait_for_load_state()
            assert problems == []
        finally:
            browser.close()
    from plugins.privacy.requests import SubjectRequest
    from plugins.volunteers.models import Volunteer
    with site.app_context():
        req = SubjectRequest.get(SubjectRequest.kind == "deletion")
        assert req.status == "done" and req.outcome == "已按您的请求删除"
        gone = Volunteer.get_by_id(vid)
        assert gone.status == "erased" and gone.name != NAME
