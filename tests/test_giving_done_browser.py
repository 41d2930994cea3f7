"""Issue 15's "Done means", as one journey in Chromium (the brief's point 4).

"In a browser a staff member records a money gift and a goods gift, prints the agreement and the receipt,
hands half the goods to a beneficiary, voids and re-issues one receipt (the number sequence has no gap and
the void is visible), and the public disclosure page shows the totals without the name of a donor who did
not agree; `timebank check` passes; both databases."

``timebank init`` + ``timebank serve`` run the site with the giving plugin; only the team (with its admin
``ta``) is made through the services. The team admin does everything else in Chromium: the record form, the
safety check, receipts, the agreement and receipt PDFs (fetched with the browser's session and read back with
pypdf), the stock page, the void and the re-issue. A visitor opens the public page on a 390 px phone. Then the
real ``timebank check`` command runs against the served site's database. The same steps without a browser
run on both databases in ``test_issue15_done_means_through_the_pages`` (tests/test_giving_stock.py).
"""
from __future__ import annotations

import io
import re
import subprocess

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

from core.testing import timebank_command

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

PASSWORD = "correct horse battery staple"
TEAM = "越秀区北京街党员志愿服务队"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true", "TIMEBANK_PLUGINS": "volunteers,teams,documents,privacy,giving"}


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def _watch(page):
    page.problems = []
    page.on("response", lambda r: r.status >= 500 and page.problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: page.problems.append(f"script error {e}"))
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
            and page.problems.append(f"CSP: {m.text}"))
    return page


def _record(page, base, team_id, fields: dict, checks=()):
    page.goto(base + "/giving/record")
    page.locator("#team_id").select_option(str(team_id))
    for name, value in fields.items():
        loc = page.locator(f"#{name}")
        if loc.evaluate("e => e.tagName") == "SELECT":
            loc.select_option(value)
        else:
            loc.fill(value)
    for name in checks:
        page.locator(f"#{name}").check()
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_load_state()
    m = re.search(r"/giving/donations/(\d+)$", page.url)
    assert m, (page.url, page.content()[:2000])
    return int(m.group(1))


def _issue(page):
    page.get_by_role("button", name="开具捐赠票据", exact=True).click()
    page.wait_for_load_state()


def _receipts(page) -> list[list[str]]:
    return [[c.strip() for c in row.locator("td").all_inner_texts()] for row in page.locator("#receipts tbody tr").all()]


def test_issue15_done_means_staff_record_print_hand_out_void_reissue_and_publish(server, site):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright
    from test_teams_workflow import new_team

    from core.db import today
    base = server["base"]
    team_id = new_team(site, TEAM, admin="ta")
    from core.models import User
    from core.security import grant_role   # the admin here also keeps the books (财务): only finance voids
    with site.app_context():
        grant_role(User.get(User.username == "ta"), "giving_finance", f"team:{team_id}")
    year, day = today().year, today().isoformat()
    expiry = today().replace(year=year + 1).isoformat()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            staff = _watch(browser.new_context(locale="zh-CN").new_page())
            staff.set_default_timeout(20_000)
            staff.goto(base + "/login")
            staff.locator("input[name=username]").fill("ta")
            staff.locator("input[name=password]").fill(PASSWORD)
            staff.locator("main form button[type=submit]").last.click()
            staff.wait_for_load_state()
            assert "/login" not in staff.url

            # a money gift from a donor who did NOT agree to be named; its receipt
            money_id = _record(staff, base, team_id, {
                "donor_kind": "person", "donor_name": "低调女士", "phone": "13800138000", "kind": "money",
                "channel": "bank", "amount": "1000.50", "donated_on": day, "purpose": "助老"})
            _issue(staff)
            first = _receipts(staff)
            assert len(first) == 1 and first[0][0] == f"JZ{year}000001" and first[0][3] == "已发放", first

            # a goods gift from an organisation that agreed; the safety check, the receipt, the agreement
            goods_id = _record(staff, base, team_id, {
                "donor_kind": "organisation", "donor_name": "北京街爱心超市", "kind": "goods",
                "donated_on": day, "property_type": "食品", "description": "大米 5 公斤装", "quantity": "20",
                "unit": "袋", "condition": "全新，包装完好", "expiry_on": expiry, "delivery_on": day,
                "purpose": "困难家庭"}, checks=("disclose_name", "wants_agreement"))
            expect(staff.locator("#status")).to_have_text("待查验")
            staff.locator("#note").fill("安全、卫生、环保：已逐袋检查")
            staff.get_by_role("button", name="已接受", exact=True).click()
            staff.wait_for_load_state()
            expect(staff.locator("#status")).to_have_text("已接受")
            _issue(staff)
            goods_receipt = _receipts(staff)[0][0]
            assert goods_receipt == f"JZ{year}000002"

            # print: the agreement and the receipt as real PDFs, read back
            href = staff.get_by_role("link", name="捐赠协议").get_attribute("href")
            r = staff.context.request.get(base + href)
            assert r.status == 200 and r.headers["content-type"] == "application/pdf"
            text = _pdf_text(r.body())
            for words in ("捐赠协议", "北京街爱心超市", TEAM, "食品", "20袋", "包装完好", "困难家庭", day):
                assert words in text, (words, text)
            href = staff.locator("#receipts a").first.get_attribute("href")
            r = staff.context.request.get(base + href)
            assert r.status == 200
            text = _pdf_text(r.body())
            for words in (goods_receipt, "北京街爱心超市", "食品", "20袋", TEAM, day):
                assert words in text, (words, text)

            # hand half the goods to a beneficiary on the stock page
            staff.get_by_role("link", name="库存与使用").click()
            staff.wait_for_load_state()
            expect(staff.locator("#on-hand")).to_have_text("20 袋")
            staff.locator("#use-use").select_option("beneficiary")
            staff.locator("#use-quantity").fill("10")
            staff.locator("#use-beneficiary").fill("王阿婆")
            staff.get_by_role("button", name="出库", exact=True).click()
            staff.wait_for_load_state()
            expect(staff.locator("#on-hand")).to_have_text("10 袋")
            expect(staff.locator("#movements")).to_contain_text("发放给受益方")

            # void the money receipt with a reason and issue a new one: 1 voided, 2, 3 — no gap
            staff.goto(base + f"/giving/donations/{money_id}")
            staff.locator("#void-reason").fill("金额写错")
            staff.get_by_role("button", name="作废捐赠票据", exact=True).click()
            staff.wait_for_load_state()
            _issue(staff)
            rows = _receipts(staff)
            assert [(r[0], r[3], r[4]) for r in rows] == [(f"JZ{year}000001", "已作废", "金额写错"),
                                                          (f"JZ{year}000003", "已发放", "")], rows
            staff.goto(base + f"/admin/giving_receipt/")
            listing = staff.locator("main").inner_text()
            for n in (1, 2, 3):
                assert f"JZ{year}{n:06d}" in listing
            assert "已作废" in listing and "金额写错" in listing
            assert staff.problems == []

            # the public page on a phone: totals, the agreed name, not the other one, how the gifts were used
            ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
            visitor = _watch(ctx.new_page())
            visitor.goto(base + f"/giving/disclosure/{team_id}?year={year}")
            visitor.wait_for_load_state()
            html = visitor.content()
            expect(visitor.locator("#total")).to_have_text("¥1000.50")
            assert "北京街爱心超市" in html and "低调女士" not in html and "王阿婆" not in html
            assert "13800138000" not in html and "138****" not in html
            expect(visitor.locator("#use-goods")).to_contain_text("10 袋")
            assert visitor.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
            assert visitor.problems == []
        finally:
            browser.close()

    # `timebank check` on the served site's database: every check passes, giving's included
    r = subprocess.run(timebank_command("check"), env=server["env"], cwd=server["tmp"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("giving.receipts", "giving.stock", "giving.allocations", "giving.receipts_due"):
        assert f"OK  {name}" in r.stdout or f"OK {name}" in r.stdout, r.stdout
