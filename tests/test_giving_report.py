"""捐赠与票据, issue 15 points 5 (part), 6, 7 (R-DON-4, R-DON-3; SECURITY.md AC6, IV8, NS6): the
organisation's basic information as versions with its 30-calendar-day publication clock and dashboard
widget; public fundraising and projects on the disclosure page; statement CSV import (UTF-8 and GBK,
per-row report, idempotent, no partial rows); XLSX exports; the finance role (财务) that alone voids
receipts; the annual report (PDF with CJK font, XLSX); an AC6 matrix over every giving view, export and PDF."""
from __future__ import annotations

import datetime as _dt
import io
from decimal import Decimal

import openpyxl
import pytest

from conftest import csrf_from, login, pdf_text
from fixtures.security_plugins.secsupport import create_user
from test_giving import PLUGINS, donor, goods_gift, money_gift, snapshot, user
from test_teams_workflow import new_team

TABLES = ("giving_donor", "giving_donation", "giving_receipt", "giving_basic_info", "giving_project",
          "giving_statement_line")
INFO = {"org_name": "阳光志愿服务队", "registration_no": "51440100MJL000000X", "address": "广州市越秀区中山路1号",
        "principal": "张负责", "contact": "020-12345678", "purpose_scope": "扶老助残、社区服务"}


@pytest.fixture
def site(make_app, monkeypatch):
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = make_app(plugins=PLUGINS, PUBLIC_URL="http://127.0.0.1:5000")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    create_user(app, "fa", "giving_finance", scope=f"team:{ta}")      # 财务 of team A
    create_user(app, "fb", "giving_finance", scope=f"team:{tb}")
    create_user(app, "root", "platform_admin")
    return {"app": app, "A": ta, "B": tb}


def client(app, name):
    c = app.test_client()
    assert login(c, name).status_code == 302
    return c


def snap(app):
    from core.db import db
    with app.app_context():
        return {t: db.execute_sql(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in TABLES}


def team(app, tid):
    from plugins.teams.models import Team
    return Team.get_by_id(tid)


# ------------------------------------------------------------------------ R-DON-4: basic information
def test_r_don_4_1_basic_info_is_versioned_with_change_and_publication_times(site):
    """A change is the next version with when it was made; publishing records when it was published; the
    public page shows the newest published version only; bad input writes nothing; audited."""
    from plugins.giving import orginfo
    from plugins.giving.services import FieldErrors
    app = site["app"]
    ta = user(app, "ta")
    before = snap(app)
    with app.app_context():
        with pytest.raises(FieldErrors) as e:
            orginfo.save_basic_info(team(app, site["A"]), dict(INFO, org_name=""), ta)
        assert str(e.value.errors["org_name"]) == "此项为必填项。"
    assert snap(app) == before
    with app.app_context():
        v1 = orginfo.save_basic_info(team(app, site["A"]), INFO, ta)
        assert v1.version == 1 and v1.changed_at is not None and v1.published_at is None
        orginfo.publish_basic_info(team(app, site["A"]), ta)
        v2 = orginfo.save_basic_info(team(app, site["A"]), dict(INFO, address="广州市天河区新地址2号"), ta)
        assert v2.version == 2 and orginfo.published(site["A"]).version == 1
        assert orginfo.BasicInfo.get_by_id(v1.id).published_at is not None
        with pytest.raises(FieldErrors):
            orginfo.save_basic_info(team(app, site["A"]), dict(INFO, address="广州市天河区新地址2号"), ta)
    page = app.test_client().get(f"/giving/disclosure/{site['A']}").get_data(as_text=True)
    assert "广州市越秀区中山路1号" in page and "新地址2号" not in page
    with app.app_context():
        orginfo.publish_basic_info(team(app, site["A"]), ta)
    page = app.test_client().get(f"/giving/disclosure/{site['A']}").get_data(as_text=True)
    assert "新地址2号" in page and "统一社会信用代码" in page
    from core.models import AuditLog
    with app.app_context():
        acts = [a.action for a in AuditLog.select()]
    assert acts.count("giving.basic_info.changed") == 2 and acts.count("giving.basic_info.published") == 2


def test_r_don_4_2_clock_counts_calendar_days_and_follows_the_setting(site):
    """The law says 30 days (calendar days, not working days): a change on 2026-09-30 is due 2026-10-30
    although the National Day holidays fall inside; day 31 is overdue. The setting moves the deadline.
    A later publication stops the clock; the clock runs from the first unpublished change."""
    from core import settings as S
    from plugins.giving import orginfo
    app = site["app"]
    ta = user(app, "ta")
    with app.app_context():
        v = orginfo.save_basic_info(team(app, site["A"]), INFO, ta)
        changed = _dt.datetime(2026, 9, 30, 10, 0, tzinfo=v.changed_at.tzinfo)
        orginfo.BasicInfo.update(changed_at=changed).where(orginfo.BasicInfo.id == v.id).execute()
        orginfo.save_basic_info(team(app, site["A"]), dict(INFO, contact="020-87654321"), ta)
        c = orginfo.basic_info_clock(site["A"], on=_dt.date(2026, 10, 30))
        assert (c["version"], c["deadline"], c["overdue"]) == (1, _dt.date(2026, 10, 30), False)
        c = orginfo.basic_info_clock(site["A"], on=_dt.date(2026, 10, 31))
        assert c["overdue"] and c["days_late"] == 1
        assert [x["team_id"] for x in orginfo.overdue(None, on=_dt.date(2026, 10, 31))] == [site["A"]]
        S.change("giving", {"basic_info_publish_days": "45"})
        c = orginfo.basic_info_clock(site["A"], on=_dt.date(2026, 10, 31))
        assert (c["deadline"], c["overdue"]) == (_dt.date(2026, 11, 14), False)
        orginfo.publish_basic_info(team(app, site["A"]), ta)
        assert orginfo.basic_info_clock(site["A"]) is None


def test_r_don_4_3_dashboard_widget_flags_overdue_changes_of_own_tree_only(site):
    """The admin dashboard shows the overdue change to team A's admin (with the rule in calendar days and
    the setting's number), and nothing of A to team B's admin."""
    from plugins.giving import orginfo
    app = site["app"]
    with app.app_context():
        v = orginfo.save_basic_info(team(app, site["A"]), INFO, user(app, "ta"))
        old = v.changed_at - _dt.timedelta(days=40)
        orginfo.BasicInfo.update(changed_at=old).where(orginfo.BasicInfo.id == v.id).execute()
    html = client(app, "ta").get("/admin/").get_data(as_text=True)
    assert "基本信息变更未按时公开" in html and 'id="giving-basic-info-overdue">1<' in html
    assert "30 个自然日" in html and "逾期 10 天" in html
    html_b = client(app, "tb").get("/admin/").get_data(as_text=True)
    assert 'id="giving-basic-info-overdue">0<' in html_b and "阳光志愿服务队" not in html_b.split(
        "giving-basic-info-overdue")[1][:500]


def test_r_don_4_4_staff_page_and_public_projects(site):
    """The staff page saves a version, publishes it and adds a public fundraising; bad amounts are a
    Chinese error beside the field (422, nothing written); the public page lists the project with period
    and amounts and stays readable at 390 px (no login)."""
    app = site["app"]
    c = client(app, "ta")
    url = f"/giving/orginfo/{site['A']}"
    tok = csrf_from(c.get(url).get_data(as_text=True))
    assert c.post(url, data=dict(INFO, action="save", csrf_token=tok)).status_code == 302
    assert c.post(url, data={"action": "publish", "csrf_token": tok}).status_code == 302
    before = snap(app)
    bad = {"action": "project", "kind": "fundraising", "title": "重阳敬老募捐", "starts_on": "2026-10-01",
           "ends_on": "2026-10-31", "target": "50000", "raised": "12.345", "csrf_token": tok}
    r = c.post(url, data=bad)
    assert r.status_code == 422 and 'id="error-raised"' in r.get_data(as_text=True) and "分" in r.get_data(as_text=True)
    assert snap(app) == before
    assert c.post(url, data=dict(bad, raised="12345.60")).status_code == 302
    page = app.test_client().get(f"/giving/disclosure/{site['A']}?year=2026").get_data(as_text=True)
    assert "重阳敬老募捐" in page and "公开募捐" in page and "¥12345.60" in page and "2026-10-01" in page
    assert "张负责" in page


# --------------------------------------------------------------------------- point 6: statement import
STATEMENT = ("交易日期,收入金额,对方户名,交易流水号,交易渠道,摘要\n"
             "2026/01/05,\"1,000.50\",广州某某科技有限公司,BK001,网银,助老\n"
             "20260106,200,李四,BK002,,\n"
             "2026-01-07,12.345,王五,BK003,,\n"        # three decimals: refused
             "2026-13-01,10,赵六,BK004,,\n"             # no such date: refused
             "2026-01-08,50,,BK005,现金,\n"              # no payer: anonymous
             "2026-01-08,50,钱七,,现金,\n")              # no reference: refused


def test_r_don_6_1_statement_import_reports_each_row_and_is_idempotent(site):
    """UTF-8 and GBK files; amounts exact in fen; a bad row refuses only itself (with its Chinese reason);
    the same file again skips every imported reference; payers become donors (organisation by name)."""
    from plugins.giving.imports import import_statement
    from plugins.giving.models import Donation, Donor
    app = site["app"]
    ta = user(app, "ta")
    with app.app_context():
        rep = import_statement(team(app, site["A"]), STATEMENT.encode("gbk"), ta, filename="stmt.csv")
        assert (rep["imported"], rep["skipped"], rep["refused"]) == (3, 0, 3)
        status = {r["line"]: (r["status"], r["reason"]) for r in rep["rows"]}
        assert status[4][0] == "refused" and "分" in status[4][1]
        assert status[5][0] == "refused" and "日期" in status[5][1]
        assert status[7][0] == "refused" and "流水号" in status[7][1]
        d1 = Donation.get_by_id(rep["rows"][0]["donation_id"])
        assert (d1.amount, d1.channel, d1.purpose, str(d1.donated_on)) == (100050, "online", "助老", "2026-01-05")
        assert d1.donor.kind == "organisation" and d1.donor.name == "广州某某科技有限公司"
        assert Donation.get_by_id(rep["rows"][4]["donation_id"]).donor.kind == "anonymous"
        n = Donation.select().count(), Donor.select().count()
        again = import_statement(team(app, site["A"]), ("\ufeff" + STATEMENT).encode("utf-8"), ta)
        assert (again["imported"], again["skipped"], again["refused"]) == (0, 3, 3)
        assert "已导入" in again["rows"][0]["reason"]
        assert (Donation.select().count(), Donor.select().count()) == n
        # team B may import the same references for itself: idempotency is per organisation
        rep_b = import_statement(team(app, site["B"]), STATEMENT.encode("utf-8"), user(app, "tb"))
        assert rep_b["imported"] == 3


def test_r_don_6_2_import_page_bad_file_is_a_field_error_and_writes_nothing(site):
    """The page: a file without the required columns is a Chinese error beside the file field (422, nothing
    written); a good upload shows the per-row report; team B's admin cannot import into team A."""
    app = site["app"]
    c = client(app, "ta")
    tok = csrf_from(c.get("/giving/import").get_data(as_text=True))
    before = snap(app)
    r = c.post("/giving/import", data={"csrf_token": tok, "team_id": site["A"], "channel": "bank",
                                      "file": (io.BytesIO("名字,钱\n张三,1\n".encode()), "x.csv")},
               content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="error-file"' in r.get_data(as_text=True)
    assert "缺少" in r.get_data(as_text=True)
    assert snap(app) == before
    r = c.post("/giving/import", data={"csrf_token": tok, "team_id": site["A"], "channel": "bank",
                                      "file": (io.BytesIO(STATEMENT.encode("gbk")), "s.csv")},
               content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已导入：3" in html and "拒绝：3" in html
    cb = client(app, "tb")
    tok_b = csrf_from(cb.get("/giving/import").get_data(as_text=True))
    before = snap(app)
    r = cb.post("/giving/import", data={"csrf_token": tok_b, "team_id": site["A"], "channel": "bank",
                                       "file": (io.BytesIO(STATEMENT.encode()), "s.csv")},
                content_type="multipart/form-data")
    assert r.status_code == 422 and snap(app) == before


def test_r_don_6_3_xlsx_exports_of_donations_and_receipts_are_scoped_and_escaped(site):
    """Donations and receipts as XLSX (openpyxl reads them back): money as exact Decimal yuan, a formula-
    looking name stored as escaped text, team A's admin sees only team A's rows."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    d = donor(app, site["A"], name="=HYPERLINK(\"http://x\")")
    m = money_gift(app, site["A"], d, amount="1000.50")
    money_gift(app, site["B"], donor(app, site["B"], name="星火捐赠人"), amount="7.00")
    with app.app_context():
        G.issue_receipt(Donation.get_by_id(m), user(app, "ta"))
    c = client(app, "ta")
    for name in ("donations", "receipts"):
        r = c.get(f"/giving/export/{name}.xlsx")
        assert r.status_code == 200 and r.data[:2] == b"PK"
        ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
        cells = [x.value for row in ws.iter_rows() for x in row]
        assert all(getattr(x, "data_type", "s") != "f" for row in ws.iter_rows() for x in row)
        assert "'=HYPERLINK(\"http://x\")" in cells and "星火捐赠人" not in cells
        if name == "donations":
            assert Decimal("1000.50") in cells and Decimal("7.00") not in cells
    assert c.get("/giving/export/nothing.xlsx").status_code == 404


# ------------------------------------------------------------------------------ point 7: finance role
def test_r_don_3_finance_role_alone_voids_receipts(site):
    """Only 财务 (giving_finance) or a platform admin voids: a team admin without it is refused by the
    service and by the page (403, nothing written); the finance user of team A voids A's receipt, not B's."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    m = money_gift(app, site["A"], donor(app, site["A"]))
    mb = money_gift(app, site["B"], donor(app, site["B"]))
    with app.app_context():
        r = G.issue_receipt(Donation.get_by_id(m), user(app, "ta"))
        rb = G.issue_receipt(Donation.get_by_id(mb), user(app, "tb"))
        before = snap(app)
        with pytest.raises(G.GivingDenied):
            G.void_receipt(Receipt.get_by_id(r.id), "写错", user(app, "ta"))
        with pytest.raises(G.GivingDenied):
            G.void_receipt(Receipt.get_by_id(rb.id), "写错", user(app, "fa"))
    assert snap(app) == before
    c = client(app, "ta")
    tok = csrf_from(c.get(f"/giving/donations/{m}").get_data(as_text=True))
    assert c.post(f"/giving/donations/{m}", data={"action": "void", "reason": "写错", "csrf_token": tok}
                  ).status_code == 403
    assert snap(app) == before
    f = client(app, "fa")
    page = f.get(f"/giving/donations/{m}")
    assert page.status_code == 200
    tok = csrf_from(page.get_data(as_text=True))
    assert f.post(f"/giving/donations/{m}", data={"action": "issue", "handler": "x", "csrf_token": tok}
                  ).status_code == 403                       # finance voids, it does not issue
    assert f.post(f"/giving/donations/{m}", data={"action": "void", "reason": "写错", "csrf_token": tok}
                  ).status_code == 302
    assert f.get(f"/giving/donations/{mb}").status_code == 404
    with app.app_context():
        assert Receipt.get_by_id(r.id).status == "voided" and Receipt.get_by_id(rb.id).status == "issued"
        G.void_receipt(Receipt.get_by_id(rb.id), "平台纠错", user(app, "root"))


# ------------------------------------------------------------------------------ point 5: annual report
def test_r_don_4_5_annual_report_pdf_and_xlsx_from_the_records(site):
    """The report for a year: money by purpose and its total, goods by type, receipts issued / voided,
    public fundraising, the published basic information; the PDF embeds a CJK font (pdftotext reads the
    Chinese back), the XLSX holds exact Decimals; a registered section (the stock module's "use of
    donations") appears in both."""
    from plugins.giving import orginfo, report
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    ta, fa = user(app, "ta"), user(app, "fa")
    d = donor(app, site["A"])
    m1 = money_gift(app, site["A"], d, amount="1000.50")
    money_gift(app, site["A"], d, amount="99.50", purpose="助学")
    g = goods_gift(app, site["A"], d)
    money_gift(app, site["B"], donor(app, site["B"]), amount="5000")
    with app.app_context():
        G.check_goods(Donation.get_by_id(g), True, "安全、卫生、环保", ta)
        r = G.issue_receipt(Donation.get_by_id(m1), ta)
        G.void_receipt(Receipt.get_by_id(r.id), "重开", fa)
        G.issue_receipt(Donation.get_by_id(m1), ta)
        orginfo.save_basic_info(team(app, site["A"]), INFO, ta)
        orginfo.publish_basic_info(team(app, site["A"]), ta)
        orginfo.save_project(team(app, site["A"]), {"kind": "project", "title": "社区助老餐桌",
                                                    "starts_on": "2026-01-01", "raised": "300"}, ta)
        rep = report.annual_report(team(app, site["A"]), 2026)
    assert rep["totals"]["money_fen"] == 110000 and rep["totals"]["receipts"] == {"issued": 1, "voided": 1}
    c = client(app, "ta")
    pdf = c.get(f"/giving/report/{site['A']}.pdf?year=2026")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    text = pdf_text(pdf.data)
    for s in ("年度工作报告", "阳光志愿服务队", "助老", "助学", "1,100.00", "食品", "20 袋", "社区助老餐桌",
              "捐赠使用情况", "51440100MJL000000X"):
        assert s in text, s
    assert "5,000.00" not in text
    try:
        report.register_section("use_of_donations", "捐赠使用情况（库存模块）",
                                lambda t, y: [("助老：发放大米", 1, "10 袋")], order=35)
        x = c.get(f"/giving/report/{site['A']}.xlsx?year=2026")
    finally:
        report.SECTIONS.pop("use_of_donations", None)
    assert x.status_code == 200
    cells = [v for row in openpyxl.load_workbook(io.BytesIO(x.data)).active.iter_rows(values_only=True) for v in row]
    assert Decimal("1100.00") in cells and "捐赠使用情况（库存模块）" in cells and "助老：发放大米" in cells


# ------------------------------------------------------------------------------------- AC6 matrix
def test_ac6_giving_matrix_other_teams_ids_reach_nothing(site):
    """Every giving view, export and PDF with team A's ids, asked by team B's admin and team B's finance
    user: 403 or 404, never data; team A's admin gets 200 for each; the exports carry none of A's rows."""
    from plugins.giving import orginfo
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    d = donor(app, site["A"], name="甲队捐赠人ALPHA")
    m = money_gift(app, site["A"], d, beneficiary="乙某", purpose="ALPHA用途")
    with app.app_context():
        r = G.issue_receipt(Donation.get_by_id(m), user(app, "ta"))
        orginfo.save_basic_info(team(app, site["A"]), dict(INFO, principal="ALPHA负责人"), user(app, "ta"))
    a = site["A"]
    urls = [f"/giving/donations/{m}", f"/giving/donations/{m}/agreement.pdf", f"/giving/receipts/{r.id}.pdf",
            f"/giving/orginfo/{a}", f"/giving/report/{a}.pdf?year=2026", f"/giving/report/{a}.xlsx?year=2026",
            f"/admin/giving_donor/details/?id={d}", f"/admin/giving_donation/details/?id={m}",
            f"/admin/giving_receipt/details/?id={r.id}"]
    ca = client(app, "ta")
    for u in urls[:6]:
        assert ca.get(u).status_code == 200, u
    for name in ("tb", "fb"):
        c = client(app, name)
        for u in urls:
            resp = c.get(u)
            assert resp.status_code in (302, 403, 404), (name, u, resp.status_code)
            assert b"ALPHA" not in resp.data and "甲队".encode() not in resp.data, (name, u)
        for e in ("donations", "receipts"):
            resp = c.get(f"/giving/export/{e}.xlsx")
            assert resp.status_code == 200
            cells = [v for row in openpyxl.load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)
                     for v in row]
            assert not any("ALPHA" in str(v) or "甲队" in str(v) or "阳光" in str(v) for v in cells), (name, e)
        tok = csrf_from(c.get("/giving/import").get_data(as_text=True)) if name == "tb" else None
        if tok:
            before = snap(app)
            assert c.post(f"/giving/orginfo/{a}", data={"action": "publish", "csrf_token": tok}).status_code == 404
            assert c.post(f"/giving/donations/{m}", data={"action": "void", "reason": "x", "csrf_token": tok}
                          ).status_code in (403, 404)
            assert snap(app) == before
    # a user with no giving role at all
    create_user(app, "nobody", "volunteer")
    cn = client(app, "nobody")
    for u in urls[:6] + ["/giving/export/donations.xlsx", "/giving/import", "/giving/overview"]:
        assert cn.get(u).status_code in (302, 403, 404), u


def test_r_don_4_6_migration_0002_creates_the_new_tables(site):
    """Upgrading a site that had giving 0.1 (tables of 0001 only): 0002 creates basic information,
    projects and statement lines on SQLite and PostgreSQL alike."""
    import importlib
    from playhouse.migrate import SchemaMigrator
    from core.db import db
    app = site["app"]
    with app.app_context():
        db.execute_sql('DROP TABLE "giving_statement_line"')
        db.execute_sql('DROP TABLE "giving_project"')
        db.execute_sql('DROP TABLE "giving_basic_info"')
        mod = importlib.import_module("plugins.giving.migrations.0002_basic_info_projects_statement")
        mod.up(SchemaMigrator.from_database(db.obj), db.obj)
        tables = set(db.obj.get_tables())
    assert {"giving_statement_line", "giving_project", "giving_basic_info"} <= tables
    from plugins.giving.imports import import_statement
    with app.app_context():
        assert import_statement(team(app, site["A"]), STATEMENT.encode(), user(app, "ta"))["imported"] == 3
