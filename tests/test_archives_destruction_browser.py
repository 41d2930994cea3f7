"""Issue 17 "Done means", borrowing and destruction in a real browser (R-ARC-4, R-ARC-5): the archivist
registers a loan in the borrowing register and the file shows who has it; it comes back; then a short-term
file past its disposal date is destroyed through all five steps, each by its own person in their own
Chromium context (application and review by two archivists, appraisal by the supervision group, approval by
the team leader, destruction before two witnesses with the signed sheet uploaded). Its stored bytes are gone,
the destruction register remains. The archives are staff pages (the admin), so desktop width."""
from __future__ import annotations

import datetime as _dt

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def site_env():
    return {"TIMEBANK_TASKS_IMMEDIATE": "true",
            "TIMEBANK_PLUGINS": "volunteers,teams,documents,activities,privacy,archives"}


def _setup(app):
    from core.models import User
    from core.security import grant_role, hash_password
    from plugins.archives import services as A
    from plugins.teams.services import register_team
    with app.test_request_context():
        team = register_team({"name": "北京街党员志愿服务队", "leader_name": "王队长", "leader_phone": "13800138001"})
        for name, role in (("leader", "team_admin"), ("arc", "archives_archivist"), ("arcb", "archives_archivist"),
                           ("sup", "archives_supervisor"), ("keeper", "archives_archivist")):
            u = User.create(username=name, password_hash=hash_password(PASSWORD))
            grant_role(u, role, f"team:{team.id}")
        f = A.create_file(team.id, A.kind("work"), "北京街2015年会议记录", retention="short",
                          date_from=_dt.date(2015, 1, 1), date_to=_dt.date(2015, 12, 31))
        d = A.add_document(f, "2015年支部会议记录", "minutes-2015.txt", "二〇一五年支部会议记录正文".encode())
        return f.id, f.number, d.key


def _login(browser, base, username, problems):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda e: problems.append(f"script error {e}"))
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    return page


def _step(page, base, did, button):
    page.goto(f"{base}/admin/archives_destruction/details/?id={did}")
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    assert "已完成" in page.content() or "完成" in page.content()


def test_r_arc_5_done_means_a_short_term_file_destroyed_through_five_steps_in_chromium(server, site, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright
    from plugins.archives.models import ArchiveFile, Destruction, Document, Loan
    from plugins.archives.storage import folder_root
    fid, number, key = _setup(site)
    with site.app_context():
        stored = folder_root() / key
    assert stored.exists()
    base = server["base"]
    sheet = tmp_path / "监销签字.pdf"
    sheet.write_bytes(b"%PDF-1.4 signed by the witnesses")
    problems: list = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # borrowing (R-ARC-4): the archivist registers the loan; the file shows who has it
            arc = _login(browser, base, "arc", problems)
            arc.goto(base + "/admin/archives_loan/new/")
            arc.evaluate("""fid => { const s = document.querySelector('select[name=file]');
                                    if (!s.querySelector(`option[value="${fid}"]`)) s.add(new Option('f', fid));
                                    s.value = String(fid); }""", fid)
            arc.locator("input[name=borrower]").fill("李借阅")
            arc.locator("input[name=contact]").fill("13812345678")
            arc.locator("input[name=content]").fill("2015年会议记录")
            with arc.expect_navigation():
                arc.locator("input[name=content]").press("Enter")          # submits the register's form
            arc.goto(base + "/admin/archives_loan/")
            assert "138****5678" in arc.content() and "13812345678" not in arc.content()
            arc.goto(f"{base}/admin/archives_file/details/?id={fid}")
            assert "借出中" in arc.content() and "李借阅" in arc.content()
            with site.app_context():
                loan_id = Loan.get().id
            arc.goto(f"{base}/admin/archives_loan/details/?id={loan_id}")
            arc.get_by_role("button", name="已归还").click()
            arc.wait_for_load_state()
            # destruction (R-ARC-5): the list of files past their date, then five steps by five people
            arc.goto(base + "/admin/archives_destruction/due")
            row = arc.locator("tr", has_text=number)
            row.locator("input[name=reason]").fill("保管期满，无保存价值")
            row.get_by_role("button", name="申请销毁").click()
            arc.wait_for_load_state()
            with site.app_context():
                did = Destruction.get(Destruction.file == fid).id
            _step(_login(browser, base, "arcb", problems), base, did, "审核（档案员）")
            _step(_login(browser, base, "sup", problems), base, did, "鉴定（监督小组）")
            _step(_login(browser, base, "leader", problems), base, did, "批准（队长）")
            keeper = _login(browser, base, "keeper", problems)
            keeper.goto(f"{base}/admin/archives_destruction/details/?id={did}")
            keeper.locator("#witnesses").fill("王见证\n李见证")
            keeper.locator("#signature").set_input_files(str(sheet))
            keeper.get_by_role("button", name="监销销毁").click()
            keeper.wait_for_load_state()
            assert "已销毁" in keeper.content()
            keeper.goto(base + "/admin/archives_destruction/")
            assert number in keeper.content() and "已销毁" in keeper.content()
            assert problems == []
        finally:
            browser.close()
    assert not stored.exists()                                       # the bytes are gone
    with site.app_context():
        assert Document.select().where(Document.file == fid).count() == 0
        assert ArchiveFile.get_by_id(fid).status == "destroyed"
        reg = Destruction.get_by_id(did)                             # the register remains
        assert reg.status == "destroyed" and reg.file_number == number and reg.document_count == 1
        assert reg.witnesses.splitlines() == ["王见证", "李见证"] and "2015年支部会议记录" in reg.contents
