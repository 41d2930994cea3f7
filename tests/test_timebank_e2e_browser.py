"""Issue 5's "Done means" for the time bank, end to end in a real browser against a real server
(R-TB-1…5, R-CERT-1…3, R-NAT-5, R-NAT-6, LG4, LG6, LG7).

"A volunteer's confirmed hours appear as points once, even when the confirmation is replayed; they
redeem an item and donate to a campaign; ``timebank ledger verify`` passes after the property-based
run; a certificate PDF opens with the right Chinese text and its QR code leads to a verification page
that says it is valid."

``timebank init`` + ``timebank serve`` run the site (the shared ``server`` fixture of
tests/test_browser.py); the ledger, exchange, donations and certificates plugins are on by default.
Only the setup goes through the services, in this process on the served site's database: an approved
team with its admin ``ta``, a registered volunteer with an account, a published activity of that team
(tomorrow 09:00–12:00) the volunteer signed up for, an exchange partner and item of the team, and an
open points campaign of the team. The slot lies in the future (sign-up closes when a slot starts), so
the worker's ``finish_due`` task runs as it would after the slot's end — the scheduler's step, not a
person's.

The setting ``ledger.redemption_threshold_hours`` is lowered to 3 in the setup: the default of 100
confirmed hours (R-TB-2, the handbook's one star) would need 34 three-hour activities before the
volunteer may exchange anything; the threshold itself is tested in tests/test_exchange.py.

Everything under test is done by people in Chromium (Debian's, driven by Playwright), each in their own
browser context:

1. the organiser confirms 3 hours on the activity's 确认时数 page; the volunteer's 我的时间积分 page shows
   3 points and one statement row. The confirmation is replayed twice — the organiser submits the same
   page again, and the test re-delivers the same ``activities.hours_confirmed`` event to the ledger's
   handler, as an event bus retrying a delivery would — and the page still shows 3 points and one row;
2. the volunteer opens the exchange catalogue, exchanges the item, reads the receipt number (DH…) and the
   lower balance under 我的兑换; the catalogue shows one less in stock;
3. the volunteer donates points to the campaign on its public page; the campaign page, seen by an
   anonymous visitor, shows the progress and the donor's masked name; the volunteer's statement shows the
   hours, the exchange and the donation;
4. ``timebank ledger verify`` on the served instance (a subprocess, as an operator runs it) says
   ``ledger OK``;
5. the volunteer applies for a certificate of the confirmed record (实践证明); the team admin approves it
   in the admin; the volunteer downloads the PDF; its Chinese text is read back (pypdf); its QR code is
   decoded for real (the page rendered by ``pdftoppm``, read by zxing-cpp) and the decoded address,
   opened by an anonymous browser, says the certificate is valid, with masked data only.

No response is a 5xx and no page has a script error. Screenshots are kept in the test's tmp folder (and
copied to ``$TIMEBANK_SCREENSHOT_DIR`` when set) for debugging.
"""
from __future__ import annotations

import datetime as _dt
import re
import shutil
import subprocess

import pytest
from test_activities_e2e_browser import PASSWORD, TZ, _context, _decode, _login, _pdf_text, _shot
from test_browser import CHROMIUM, CHROMIUM_ARGS, _missing, timebank
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

TEAM = "越秀区北京街党员志愿服务队"
TITLE = "关爱独居老人上门探访"
VOLUNTEER = "陈志愿"
MASKED = "陈*愿"
PARTNER = "北京街爱心超市"
ITEM = "爱心大米5公斤"
CAMPAIGN = "长者饭堂爱心餐积分募集"
ID_NUMBER = 4102


def _setup(app) -> dict:
    """The team and its admin ``ta``, the volunteer, the activity they signed up for (finished by the
    scheduler's task), the exchange item and the open campaign; the redemption threshold at 3 h."""
    from core.db import today
    from fixtures.activities_plugins.actsupport import new_activity, set_setting, slot
    from plugins.activities import services as act
    from plugins.activities.models import Activity, Shift
    from plugins.donations import services as don
    from plugins.exchange import services as ex
    from plugins.teams.models import Team
    from plugins.volunteers import services as vs
    from plugins.volunteers.models import Volunteer
    from test_teams_workflow import cn_id, new_team
    tomorrow = (_dt.datetime.now(TZ) + _dt.timedelta(days=1)).date()
    start = _dt.datetime.combine(tomorrow, _dt.time(9, 0), tzinfo=TZ)
    set_setting(app, "ledger.redemption_threshold_hours", 3)
    team_id = new_team(app, TEAM, admin="ta")
    with app.app_context():
        v = vs.register({"name": VOLUNTEER, "id_type": "cn_id", "id_number": cn_id(ID_NUMBER),
                         "phone": "13800004102", "agreement": True, "password": PASSWORD})
        who = {"team": team_id, "volunteer": v.id, "number": v.number, "username": v.user.username,
               "id_number": cn_id(ID_NUMBER), "tomorrow": tomorrow}
    aid = new_activity(app, who["team"], title=TITLE, shifts=[slot(start, hours=3, capacity=5)])
    with app.app_context():
        shift = Shift.get(Shift.activity == aid)
        su = act.sign_up(Volunteer.get_by_id(who["volunteer"]), shift)
        if su.status == "pending":
            act.confirm([su])
        assert act.finish_due(Activity.get_by_id(aid).ends_at + _dt.timedelta(minutes=1)) == 1
        p = ex.save_partner({"name": PARTNER, "contact": "李店长", "team_id": who["team"]})
        item = ex.save_item({"partner_id": p.id, "name": ITEM, "kind": "goods", "price": 1, "stock": 5})
        c = don.create_campaign(Team.get_by_id(who["team"]), title=CAMPAIGN, purpose="为社区长者饭堂申请爱心餐",
                                goal=10, deadline=today() + _dt.timedelta(days=10))
        c = don.open_campaign(c)
        who.update(activity=aid, signup=su.id, item=item.id, campaign=c.id)
    return who


def _ledger_rows(app, volunteer_id) -> dict:
    """What the ledger holds for the volunteer: transfers by kind, hours credits, the balance."""
    from plugins.ledger import services as L
    from plugins.ledger.models import HoursCredit, Transfer
    with app.app_context():
        acct = L.find_account("volunteer", volunteer_id)
        kinds = [r["kind"] for r in L.statement(acct)]
        return {"kinds": sorted(kinds), "credits": HoursCredit.select().count(),
                "transfers": Transfer.select().count(), "balance": acct.balance}


def _replay_hours_event(app, signup_id):
    """The same ``activities.hours_confirmed`` event delivered again to the ledger's handler, built from
    the confirmed record exactly as ``confirm_hours`` emitted it (same idempotency key)."""
    from plugins.activities.models import ServiceRecord
    from plugins.activities.services import HoursConfirmed
    from plugins.ledger.services import on_hours_confirmed
    with app.app_context():
        rec = ServiceRecord.get(ServiceRecord.signup == signup_id)
        on_hours_confirmed(HoursConfirmed(
            record_id=rec.id, volunteer_id=rec.volunteer_id, team_id=rec.team_id, activity_id=rec.activity_id,
            kind=rec.kind, minutes=rec.minutes, delta_minutes=rec.minutes, version=rec.version,
            service_date=rec.service_date, idempotency_key=f"service_record:{rec.id}:v{rec.version}"))
        return rec.id


def _stock(app, item_id) -> int:
    from plugins.exchange.models import Item
    with app.app_context():
        return Item.get_by_id(item_id).stock


def _qr_of_pdf(pdf_path, out_prefix) -> str:
    """The QR code printed on page 1, rendered at 150 dpi by pdftoppm and read by zxing-cpp."""
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf_path), str(out_prefix)],
                   check=True, timeout=60)
    png = sorted(out_prefix.parent.glob(out_prefix.name + "*.png"))[0]
    return _decode(png.read_bytes())


def test_issue_5_done_means_in_a_real_browser(server, site):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright
    if not shutil.which("pdftoppm"):
        _missing("pdftoppm not found (apt-get install poppler-utils)")
    base = server["base"]
    who = _setup(site)
    year = _dt.datetime.now(TZ).year

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            organiser = _login(_context(browser), base, "ta")
            volunteer = _login(_context(browser, is_mobile=True, has_touch=True,
                                         viewport={"width": 390, "height": 844}), base, who["username"])
            public = _context(browser).new_page()           # an anonymous visitor
            public.problems = []
            public.on("response", lambda r: r.status >= 500 and public.problems.append(f"{r.status} {r.url}"))
            public.on("pageerror", lambda e: public.problems.append(f"script error {e}"))

            # 1. the organiser confirms 3 hours; they become 3 points, once (R-TB-1, LG4)
            page = organiser
            page.goto(base + f"/admin/activities_activity/hours/?id={who['activity']}")
            row = page.locator("table tr", has_text=VOLUNTEER)
            page.locator(f"input[name=m{who['signup']}]").fill("3")
            with page.expect_navigation():
                page.get_by_role("button", name="确认时数").click()
            expect(page.locator(".alert").first).to_contain_text("时数已确认")
            expect(row.locator("td").nth(5)).to_have_text("3.0")

            page = volunteer
            page.goto(base + "/points/me")
            expect(page.locator("h1")).to_have_text("我的时间积分")
            expect(page.locator("#points")).to_have_text("3")
            expect(page.locator("#service-hours")).to_have_text("3.0")
            statement = page.locator("table.statement tbody tr")
            expect(statement).to_have_count(1)
            expect(statement.first).to_contain_text("已入账服务时数")
            expect(statement.first).to_contain_text("+3")
            before = _ledger_rows(site, who["volunteer"])
            assert before["kinds"] == ["hours"] and before["credits"] == 1 and before["balance"] == 3

            # replayed: the organiser submits the same confirmation again, and the event is delivered again
            page = organiser
            with page.expect_navigation():
                page.get_by_role("button", name="确认时数").click()
            expect(page.locator(".alert").first).to_contain_text("时数已确认")
            expect(row.locator("td").nth(5)).to_have_text("3.0")
            _replay_hours_event(site, who["signup"])
            _replay_hours_event(site, who["signup"])
            assert _ledger_rows(site, who["volunteer"]) == before
            page = volunteer
            page.reload()
            expect(page.locator("#points")).to_have_text("3")
            expect(statement).to_have_count(1)
            expect(page.locator("main")).to_contain_text("您可以使用积分兑换。")
            _shot(page, server, "tb-points.png")

            # 2. the volunteer exchanges the item (R-TB-2, LG7 receipt number)
            page.goto(base + "/exchange/")
            expect(page.locator("#balance")).to_have_text("3")
            expect(page.locator("#may-redeem")).to_have_text("您可以使用积分兑换。")
            offer = page.locator("table.catalogue tbody tr", has_text=ITEM)
            expect(offer).to_contain_text(PARTNER)
            expect(offer.locator("td").nth(4)).to_have_text("5")
            offer.get_by_role("link", name="立即兑换").click()
            expect(page.locator("h1")).to_have_text("确认兑换")
            expect(page.locator("#price")).to_have_text("1")
            expect(page.locator("#balance")).to_have_text("3")
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
            assert page.url.endswith("/exchange/mine"), page.url
            number = f"DH{year}000001"
            expect(page.locator(".flash.success")).to_contain_text(f"兑换成功：凭证号 {number}，扣减 1 积分。")
            receipt = page.locator("table.exchanges tbody tr").first
            expect(receipt).to_contain_text(number)
            expect(receipt).to_contain_text(ITEM)
            expect(receipt).to_contain_text("已下单")
            expect(page.locator("#balance")).to_have_text("2")
            _shot(page, server, "tb-exchanged.png")
            assert _stock(site, who["item"]) == 4
            page.goto(base + "/exchange/")
            expect(page.locator("table.catalogue tbody tr", has_text=ITEM).locator("td").nth(4)).to_have_text("4")

            # 3. the volunteer donates a point to the campaign on its page (R-TB-3, R-TB-4)
            page.goto(base + "/donations/")
            page.get_by_role("link", name=CAMPAIGN).click()
            expect(page.locator("h1")).to_have_text(CAMPAIGN)
            expect(page.locator("#raised")).to_have_text("0")
            page.locator("main").get_by_role("link", name="捐赠积分").click()
            expect(page.locator("#balance")).to_have_text("2")
            page.locator("input[name=points]").fill("1")
            page.locator("input[name=message]").fill("一点心意，祝长者安康")
            page.get_by_role("button", name="确认捐赠").click()
            expect(page.locator("h1")).to_have_text("感谢您的捐赠")
            expect(page.locator("#amount")).to_have_text("1")
            expect(page.locator("#balance")).to_have_text("1")

            public.goto(base + f"/donations/campaigns/{who['campaign']}")   # the progress, in public
            expect(public.locator("#raised")).to_have_text("1")
            expect(public.locator("#goal")).to_have_text("10")
            expect(public.locator("#donors")).to_have_text("1")
            assert public.locator("progress").get_attribute("value") == "10"
            gifts = public.locator("main table.list").first.locator("tbody tr")
            expect(gifts).to_have_count(1)
            expect(gifts.first).to_contain_text(MASKED)
            expect(gifts.first).to_contain_text("一点心意，祝长者安康")
            expect(public.locator("main")).not_to_contain_text(VOLUNTEER)
            _shot(public, server, "tb-campaign.png")

            page.goto(base + "/points/me")                  # both sides of the volunteer's statement
            expect(page.locator("#points")).to_have_text("1")
            expect(statement).to_have_count(3)
            expect(statement.nth(0)).to_contain_text("积分捐赠")
            expect(statement.nth(0)).to_contain_text(CAMPAIGN)
            expect(statement.nth(0)).to_contain_text("-1")
            expect(statement.nth(1)).to_contain_text("积分兑换")
            expect(statement.nth(1)).to_contain_text("-1")
            expect(statement.nth(2)).to_contain_text("已入账服务时数")
            assert [statement.nth(i).locator("td").nth(4).inner_text() for i in range(3)] == ["1", "2", "3"]
            _shot(page, server, "tb-statement.png")

            # 4. the ledger's integrity check on the served instance, as an operator runs it (LG6)
            r = subprocess.run(timebank("ledger", "verify"), env=server["env"], cwd=server["tmp"],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and "ledger OK" in r.stdout, (r.stdout, r.stderr)

            # 5. a certificate: applied for, approved by the team admin, printed, verified (R-CERT-1…3)
            page = volunteer
            page.goto(base + "/certificates/mine")
            rec = page.locator("table.records tbody tr", has_text=TITLE)
            expect(rec).to_contain_text(TEAM)
            rec.locator("input[name=records]").check()
            page.locator("select[name=purpose]").select_option(label="实践证明")
            page.get_by_role("button", name="提交申请").click()
            expect(page.locator(".flash.success")).to_contain_text("申请已提交")
            expect(page.locator("ul.certificates li").first).to_contain_text("待审核")

            page = organiser
            page.goto(base + "/admin/certificates_certificate/")
            expect(page.locator("table.model-list")).to_contain_text(VOLUNTEER)
            page.locator("table.model-list a[href*='/details/']").first.click()
            page.get_by_role("button", name="通过", exact=True).click()
            page.wait_for_load_state()
            expect(page.locator(".alert-success").first).to_contain_text("已开具证明：1 份。")
            cert_no = f"ZM{year}000001"
            expect(page.locator("table.model-list")).to_contain_text(cert_no)
            expect(page.locator("table.model-list")).to_contain_text("已发放")

            page = volunteer
            page.goto(base + "/certificates/mine")
            mine = page.locator("ul.certificates li").first
            expect(mine).to_contain_text(cert_no)
            expect(mine).to_contain_text("已发放")
            href = mine.get_by_role("link", name="下载 PDF").get_attribute("href")
            got = page.context.request.get(base + href)           # the volunteer's session, as a click would
            assert got.status == 200 and got.headers["content-type"].startswith("application/pdf")
            pdf = server["tmp"] / "certificate.pdf"
            pdf.write_bytes(got.body())
            text = _pdf_text(got.body())
            day = who["tomorrow"]
            for part in ("党员志愿者个人服务时数记录证明", cert_no, VOLUNTEER, who["number"], who["id_number"], TITLE,
                         TEAM, "合计3小时", "实践证明", "志愿服务证明专用章", f"{day:%Y-%m-%d}"):
                assert part in text, (part, text[:1200])

            link = _qr_of_pdf(pdf, server["tmp"] / "certificate-page")
            assert re.fullmatch(re.escape(base) + r"/certificates/verify/[A-Za-z0-9_-]{32}", link), link
            assert link.rsplit("/", 1)[1] in text.replace("\n", "")        # the address is printed too

            public.goto(link)                                 # anyone, without logging in
            expect(public.locator("h1")).to_have_text("服务证明核验")
            expect(public.locator("[role=status]")).to_have_text("有效：该证明由本平台开具。")
            facts = public.locator("dl.verify")
            expect(facts).to_contain_text(cert_no)
            expect(facts).to_contain_text(MASKED)
            expect(facts).to_contain_text(who["number"])
            expect(facts).to_contain_text(TEAM)
            body = public.locator("body").inner_text()
            assert VOLUNTEER not in body and who["id_number"] not in body and "13800004102" not in body
            _shot(public, server, "tb-verified.png")

            assert organiser.problems == [] and volunteer.problems == [] and public.problems == []
        finally:
            browser.close()
