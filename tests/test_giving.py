"""捐赠与票据 (issue 15 points 1, 2, 3; R-DON-1, R-DON-2, R-DON-3; SECURITY.md LG7, AC6, PR1, PR5, IV):
donors and gifts of money or goods, the safety check of goods, gap-free receipt numbers per team and year
(also under concurrent issuance), void with a reason, waived and anonymous receipts, receipt and agreement
PDFs; another team's ids reach nothing; bad input gives Chinese field errors and writes nothing."""
from __future__ import annotations

import threading

import pytest

from conftest import csrf_from, login, pdf_text
from test_teams_workflow import new_team

PLUGINS = ["volunteers", "teams", "documents", "privacy", "giving"]
TABLES = ("giving_donor", "giving_donation", "giving_receipt", "core_number_sequence", "core_number")


@pytest.fixture
def site(make_app, monkeypatch):
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = make_app(plugins=PLUGINS, PUBLIC_URL="http://127.0.0.1:5000")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    from core.security import grant_role   # the admins here also keep the books (财务): they may void
    with app.app_context():
        for name, team in (("ta", ta), ("tb", tb)):
            grant_role(user(app, name), "giving_finance", f"team:{team}")
    return {"app": app, "A": ta, "B": tb}


def user(app, name):
    from core.models import User
    with app.app_context():
        return User.get(User.username == name)


def snapshot(app) -> dict:
    from core.db import db
    with app.app_context():
        return {t: db.execute_sql(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in TABLES}


def donor(app, team, kind="person", **extra):
    from plugins.giving import services as G
    data = {"team_id": team, "kind": kind, "name": "陈大文", "phone": "13800138000",
            "id_number": "11010519491231002X", **extra}
    with app.app_context():
        return G.save_donor(data).id


def money_gift(app, team, donor_id, amount="1000.50", **extra):
    from plugins.giving import services as G
    with app.app_context():
        return G.record_money({"team_id": team, "donor_id": donor_id, "amount": amount, "channel": "bank",
                               "donated_on": "2026-01-05", "purpose": "助老", **extra}).id


def goods_gift(app, team, donor_id, **extra):
    from plugins.giving import services as G
    with app.app_context():
        return G.record_goods({"team_id": team, "donor_id": donor_id, "property_type": "食品",
                               "description": "大米 5 公斤装", "quantity": "20", "unit": "袋",
                               "condition": "全新，包装完好", "donated_on": "2026-01-06",
                               "delivery_on": "2026-01-08", "expiry_on": "2026-12-31", "purpose": "困难家庭",
                               **extra}).id


def audit_actions(app):
    from core.models import AuditLog
    with app.app_context():
        return [a.action for a in AuditLog.select().order_by(AuditLog.id)]


# ----------------------------------------------------------------------------------------- R-DON-1
def test_r_don_1_money_is_stored_in_fen_and_goods_wait_for_the_safety_check(site):
    """issue 15 point 1: a money gift is exact fen and accepted; goods are accepted only after the staff's
    check (安全、卫生、环保) and refused goods keep their reason; every change is audited."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    d = donor(app, site["A"])
    m = money_gift(app, site["A"], d)
    g1, g2 = goods_gift(app, site["A"], d), goods_gift(app, site["A"], d)
    ta = user(app, "ta")
    with app.app_context():
        assert Donation.get_by_id(m).amount == 100050 and Donation.get_by_id(m).status == "accepted"
        assert Donation.get_by_id(g1).status == "pending_check"
        with pytest.raises(G.FieldErrors) as e:
            G.issue_receipt(Donation.get_by_id(g1), ta)
        assert "接受" in str(e.value.messages()[0]) or e.value.errors
        G.check_goods(Donation.get_by_id(g1), True, "已检查：安全、卫生、环保", ta)
        G.check_goods(Donation.get_by_id(g2), False, "已过期", ta)
        assert Donation.get_by_id(g1).status == "accepted" and Donation.get_by_id(g1).check_note
        assert Donation.get_by_id(g2).status == "refused" and Donation.get_by_id(g2).refuse_reason == "已过期"
        with pytest.raises(G.FieldErrors):
            G.check_goods(Donation.get_by_id(g2), True, "再查", ta)
    acts = audit_actions(app)
    assert acts.count("giving.donation.recorded") == 3
    assert "giving.goods.accepted" in acts and "giving.goods.refused" in acts and "giving.donor.created" in acts


@pytest.mark.parametrize("field,data", [
    ("amount", {"amount": "12.345"}), ("amount", {"amount": "-5"}), ("amount", {"amount": "abc"}),
    ("amount", {"amount": "0"}), ("channel", {"channel": "bitcoin"}), ("donated_on", {"donated_on": "2026-13-40"}),
    ("donated_on", {"donated_on": "2999-01-01"}), ("donor_id", {"donor_id": "99999"}),
    ("team_id", {"team_id": ""}),
])
def test_r_don_1_bad_money_input_gives_chinese_field_errors_and_writes_nothing(site, field, data):
    """issue 15 point 1, IV: each bad field is named with a Chinese message; nothing is written."""
    from plugins.giving import services as G
    app = site["app"]
    d = donor(app, site["A"])
    before = snapshot(app)
    base = {"team_id": site["A"], "donor_id": d, "amount": "10", "channel": "bank", "donated_on": "2026-01-05"}
    with app.app_context():
        with pytest.raises(G.FieldErrors) as e:
            G.record_money({**base, **data})
        assert field in e.value.errors
        msg = str(e.value.errors[field])       # rendered in the site's language (zh_Hans_CN)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in msg), msg
    assert snapshot(app) == before


def test_r_don_1_bad_goods_input_names_every_field_and_writes_nothing(site):
    """issue 15 point 1: quantity, unit, condition, type and description are required; expiry after the gift."""
    from plugins.giving import services as G
    app = site["app"]
    d = donor(app, site["A"])
    before = snapshot(app)
    with app.test_request_context(), pytest.raises(G.FieldErrors) as e:
        G.record_goods({"team_id": site["A"], "donor_id": d, "quantity": "0", "donated_on": "2026-01-06",
                        "expiry_on": "2026-01-01"})
    assert {"quantity", "unit", "condition", "property_type", "description", "expiry_on"} <= set(e.value.errors)
    assert snapshot(app) == before


def test_r_don_1_donor_phone_and_id_are_encrypted_and_masked_anonymous_keeps_nothing(site):
    """issue 15 point 1, PR1/PR5: phone and ID number are ciphertext in the database and masked for
    display; an anonymous donor keeps no name or contact; a bad ID number is a field error."""
    from core.db import db
    from plugins.giving import services as G
    from plugins.giving.models import Donor
    app = site["app"]
    d = donor(app, site["A"])
    a = donor(app, site["A"], kind="anonymous")
    with app.app_context():
        raw = db.execute_sql("SELECT phone, id_number FROM giving_donor WHERE id = %s" % d).fetchone()
        assert "13800138000" not in str(raw) and "11010519491231002X" not in str(raw)
        assert G.masked(Donor.get_by_id(d)) == {"name": "陈大文", "phone": "138****8000",
                                                "id_number": "110105********002X"}
        an = Donor.get_by_id(a)
        assert (an.name, an.phone, an.id_number) == ("", "", "")
        with pytest.raises(G.FieldErrors) as e:
            G.save_donor({"team_id": site["A"], "kind": "person", "name": "王", "id_number": "123"})
        assert "id_number" in e.value.errors
        with pytest.raises(G.FieldErrors) as e:
            G.save_donor({"team_id": site["A"], "kind": "person", "name": ""})
        assert "name" in e.value.errors


def test_r_don_1_donor_data_is_declared_to_the_privacy_contract(site):
    """issue 15 point 1, R-PRIV-1: every personal field of the giving models is declared."""
    from plugins.privacy.contract import personal_fields
    from plugins.giving.privacy import declarations
    from plugins.giving.models import MODELS
    app = site["app"]
    with app.app_context():
        declared = {(d.model, f) for d in declarations() for f in d.fields}
        for m in MODELS:
            for f in personal_fields(m):
                assert (m, f) in declared, f"{m.__name__}.{f} undeclared"


def test_r_don_1_another_teams_admin_reaches_nothing(site):
    """issue 15 point 1, AC6: team B's admin cannot record against team A, check A's goods, issue or void
    A's receipts, nor open A's PDFs or list rows; nothing is written."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    d = donor(app, site["A"])
    m = money_gift(app, site["A"], d)
    g = goods_gift(app, site["A"], d)
    with app.app_context():
        r = G.issue_receipt(Donation.get_by_id(m), user(app, "ta"))
    tb = user(app, "tb")
    before = snapshot(app)
    with app.test_request_context():
        with pytest.raises(G.GivingDenied):
            G.save_donor({"team_id": site["A"], "kind": "organisation", "name": "某公司"}, tb)
        with pytest.raises(G.GivingDenied):
            G.record_money({"team_id": site["A"], "donor_id": d, "amount": "5", "channel": "cash",
                            "donated_on": "2026-01-05"}, tb)
        with pytest.raises(G.GivingDenied):
            G.check_goods(Donation.get_by_id(g), True, "ok", tb)
        with pytest.raises(G.GivingDenied):
            G.void_receipt(Receipt.get_by_id(r.id), "错", tb)
        with pytest.raises(G.GivingDenied):
            G.issue_receipt(Donation.get_by_id(g), tb)
        # B's donor cannot be used for A's team either
        db_ = donor(app, site["B"], name="星火捐赠人")
        with pytest.raises(G.FieldErrors) as e:
            G.record_money({"team_id": site["A"], "donor_id": db_, "amount": "5", "channel": "cash",
                            "donated_on": "2026-01-05"})
        assert "donor_id" in e.value.errors
    after = snapshot(app)
    assert after["giving_donation"] == before["giving_donation"]
    assert after["giving_receipt"] == before["giving_receipt"]
    client = app.test_client()
    assert login(client, "tb").status_code == 302
    assert client.get(f"/giving/receipts/{r.id}.pdf").status_code == 404
    assert client.get(f"/giving/donations/{m}/agreement.pdf").status_code == 404
    for ep in ("giving_donor", "giving_donation", "giving_receipt"):
        page = client.get(f"/admin/{ep}/")
        assert page.status_code in (200, 403), ep
        assert "陈大文" not in page.get_data(as_text=True) and r.number not in page.get_data(as_text=True)
    for ep, oid in (("giving_donor", d), ("giving_donation", m), ("giving_receipt", r.id)):
        assert client.get(f"/admin/{ep}/details/?id={oid}").status_code in (302, 403, 404)
    ca = app.test_client()
    assert login(ca, "ta").status_code == 302
    assert ca.get(f"/giving/receipts/{r.id}.pdf").status_code == 200
    assert "陈大文" in ca.get("/admin/giving_donor/").get_data(as_text=True)
    assert "138****8000" in ca.get("/admin/giving_donor/").get_data(as_text=True)      # masked (PR5)
    assert "13800138000" not in ca.get("/admin/giving_donor/").get_data(as_text=True)
    assert r.number in ca.get("/admin/giving_receipt/").get_data(as_text=True)
    assert ca.get("/admin/giving_donation/").status_code == 200


# ----------------------------------------------------------------------------------------- R-DON-3
def test_r_don_3_receipt_numbers_are_gap_free_per_team_and_a_void_keeps_the_number(site):
    """issue 15 point 3, LG7: A's receipts JZ<year>000001, 000002; B has its own sequence; voiding needs
    a reason, keeps the receipt and its number (voided in the register) and a re-issue takes the next
    number; `timebank check` agrees."""
    from core import numbering
    from core.db import today
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    y = None
    da, dbb = donor(app, site["A"]), donor(app, site["B"])
    m1, m2 = money_gift(app, site["A"], da), money_gift(app, site["A"], da, amount="20")
    mb = money_gift(app, site["B"], dbb)
    ta = user(app, "ta")
    with app.app_context():
        y = today().year
        r1 = G.issue_receipt(Donation.get_by_id(m1), ta)
        r2 = G.issue_receipt(Donation.get_by_id(m2), ta)
        rb = G.issue_receipt(Donation.get_by_id(mb), user(app, "tb"))
        assert (r1.number, r2.number, rb.number) == (f"JZ{y}000001", f"JZ{y}000002", f"JZ{y}000001")
        assert (r1.donor_name, r1.quantity_text, r1.organisation, r1.handler) == (
            "陈大文", "¥1,000.50", "阳光志愿服务队", "ta")
        with pytest.raises(G.FieldErrors):
            G.issue_receipt(Donation.get_by_id(m1), ta)        # one valid receipt per donation
        before = Receipt.select().count()
        with pytest.raises(G.FieldErrors) as e:
            G.void_receipt(r1, "  ", ta)
        assert "reason" in e.value.errors and Receipt.get_by_id(r1.id).status == "issued"
        G.void_receipt(r1, "金额写错", ta)
        v = Receipt.get_by_id(r1.id)
        assert (v.status, v.void_reason, v.number) == ("voided", "金额写错", f"JZ{y}000001")
        assert numbering.status(G.RECEIPT_KIND, v.number, scope=f"team:{site['A']}") == "voided"
        with pytest.raises(G.FieldErrors):
            G.void_receipt(v, "again", ta)
        r3 = G.issue_receipt(Donation.get_by_id(m1), ta)
        assert r3.number == f"JZ{y}000003" and Receipt.select().count() == before + 1
        assert numbering.gaps(G.RECEIPT_KIND, scope=f"team:{site['A']}", year=y) == []
        assert G.verify() == []
        assert "VOIDED" in pdf_text(G.receipt_pdf(v)) or "作废" in pdf_text(G.receipt_pdf(v))
    acts = audit_actions(app)
    assert acts.count("giving.receipt.issued") == 4 and "giving.receipt.voided" in acts


def test_r_don_3_receipt_pdf_states_donor_type_quantity_organisation_handler_date(site):
    """issue 15 point 3: a real PDF with every field R-DON-3 names."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    d = donor(app, site["A"])
    g = goods_gift(app, site["A"], d)
    ta = user(app, "ta")
    with app.app_context():
        G.check_goods(Donation.get_by_id(g), True, "安全、卫生、环保", ta)
        r = G.issue_receipt(Donation.get_by_id(g), ta, handler="李经办")
    client = app.test_client()
    assert login(client, "ta").status_code == 302
    resp = client.get(f"/giving/receipts/{r.id}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = pdf_text(resp.data)
    for s in (r.number, "陈大文", "食品", "20 袋", "阳光志愿服务队", "李经办", r.issued_on.isoformat()):
        assert s in text.replace("\n", " ") or s in text, s
    assert "giving.receipt.printed" in audit_actions(app)


def test_r_don_3_anonymous_and_waived_receipts_are_recorded_as_such(site):
    """issue 15 point 3: an anonymous donor's receipt says 匿名 and is flagged; a waived receipt keeps the
    donor's words and no receipt can then be issued; waiving needs a reason."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    a = donor(app, site["A"], kind="anonymous")
    d = donor(app, site["A"])
    m1, m2 = money_gift(app, site["A"], a), money_gift(app, site["A"], d)
    ta = user(app, "ta")
    with app.app_context():
        r = G.issue_receipt(Donation.get_by_id(m1), ta)
        assert r.anonymous and "匿名" in r.donor_name
        assert "匿名" in pdf_text(G.receipt_pdf(r))
        with pytest.raises(G.FieldErrors) as e:
            G.waive_receipt(Donation.get_by_id(m2), "", ta)
        assert "reason" in e.value.errors
        G.waive_receipt(Donation.get_by_id(m2), "捐赠人电话告知不需要票据", ta)
        w = Donation.get_by_id(m2)
        assert (w.receipt_state, w.waive_reason) == ("waived", "捐赠人电话告知不需要票据")
        with pytest.raises(G.FieldErrors):
            G.issue_receipt(w, ta)
    assert "giving.receipt.waived" in audit_actions(app)


def test_r_don_3_concurrent_issuance_gives_distinct_consecutive_numbers(site):
    """issue 15 point 3, LG7/CC: eight receipts issued at once for eight donations get 1..8, no gap, no twin."""
    from core.db import db, today
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    d = donor(app, site["A"])
    ids = [money_gift(app, site["A"], d, amount=str(i + 1)) for i in range(8)]
    errors = []

    def go(i):
        try:
            with app.app_context():
                G.issue_receipt(Donation.get_by_id(i), None, handler="经办")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        y = today().year
        nums = sorted(r.number for r in Receipt.select())
        assert nums == [f"JZ{y}{n:06d}" for n in range(1, 9)]
        assert G.verify() == []


# ----------------------------------------------------------------------------------------- R-DON-2
def test_r_don_2_agreement_pdf_has_every_required_field_and_is_required_for_a_beneficiary(site):
    """issue 15 point 2: the agreement states donor, recipient, property type, quantity, quality, purpose and
    delivery time; it is required when the donor asks and when a beneficiary is designated."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    d = donor(app, site["A"])
    g = goods_gift(app, site["A"], d, wants_agreement="1")
    m = money_gift(app, site["A"], d)
    b = money_gift(app, site["A"], d, beneficiary="李阿婆")
    with app.app_context():
        assert G.agreement_required(Donation.get_by_id(g)) and G.agreement_required(Donation.get_by_id(b))
        assert not G.agreement_required(Donation.get_by_id(m))
    client = app.test_client()
    assert login(client, "ta").status_code == 302
    resp = client.get(f"/giving/donations/{g}/agreement.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = pdf_text(resp.data)
    for s in ("陈大文", "阳光志愿服务队", "食品", "20 袋", "全新", "包装完好", "困难家庭", "受赠人", "捐赠用途", "2026-01-08"):
        assert s in text, s
    assert "giving.agreement.printed" in audit_actions(app)


# ----------------------------------------------------------------------------------------- R-DON-4
def test_r_don_4_public_page_shows_totals_by_purpose_without_names_not_agreed(site):
    """issue 15 point 4 (R-DON-4, R-PRIV-1): the public page (no login) lists accepted donations and money
    by purpose; a donor is named only when they agreed, an anonymous donor never; no phone or ID number,
    no refused goods, no other team's donations; an unknown team is a 404."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    agreed = donor(app, site["A"], name="公开先生", disclose_name="1")
    shy = donor(app, site["A"], name="低调女士")
    anon = donor(app, site["A"], kind="anonymous", name="不应出现")
    money_gift(app, site["A"], agreed, amount="100", purpose="助老")
    money_gift(app, site["A"], shy, amount="50.25", purpose="助老")
    money_gift(app, site["A"], anon, amount="10", purpose="助学")
    g = goods_gift(app, site["A"], shy, property_type="过期药品")
    money_gift(app, site["B"], donor(app, site["B"], name="星火捐赠人", disclose_name="1"), amount="999")
    with app.app_context():
        G.check_goods(Donation.get_by_id(g), False, "已过期", None)
    client = app.test_client()
    page = client.get(f"/giving/disclosure/{site['A']}?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "公开先生" in html and "低调女士" not in html and "不应出现" not in html
    assert "匿名捐赠人" in html and "爱心人士（未公开姓名）" in html
    assert "138****" not in html and "13800138000" not in html and "11010519491231002X" not in html
    assert "¥150.25" in html and "¥10.00" in html and "¥160.25" in html
    assert "过期药品" not in html and "星火捐赠人" not in html and "999" not in html
    assert client.get("/giving/disclosure/99999").status_code == 404


def test_r_don_3_official_receipt_number_is_recorded_once_and_printed(site):
    """issue 15 point 3: the 财政票据 number is recorded against a valid receipt once (empty → field error,
    nothing written), printed on the receipt PDF, audited; a voided receipt takes none."""
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    app = site["app"]
    d = donor(app, site["A"])
    m = money_gift(app, site["A"], d)
    ta = user(app, "ta")
    with app.app_context():
        r = G.issue_receipt(Donation.get_by_id(m), ta)
        with pytest.raises(G.FieldErrors) as e:
            G.record_official_number(r, "  ", ta)
        assert "official_number" in e.value.errors and Receipt.get_by_id(r.id).official_number == ""
        with pytest.raises(G.GivingDenied):
            G.record_official_number(r, "X1", user(app, "tb"))
        G.record_official_number(r, "粤财0012345", ta)
        assert Receipt.get_by_id(r.id).official_number == "粤财0012345"
        assert "粤财0012345" in pdf_text(G.receipt_pdf(Receipt.get_by_id(r.id)))
        with pytest.raises(G.FieldErrors):
            G.record_official_number(Receipt.get_by_id(r.id), "粤财0099999", ta)
        G.void_receipt(Receipt.get_by_id(r.id), "重开", ta)
        r2 = G.issue_receipt(Donation.get_by_id(m), ta)
        G.void_receipt(r2, "再重开", ta)
        with pytest.raises(G.FieldErrors):
            G.record_official_number(Receipt.get_by_id(r2.id), "粤财1", ta)
    assert "giving.receipt.official_number" in audit_actions(app)


def test_r_don_3_staff_page_checks_goods_issues_voids_and_reissues_without_a_gap(site):
    """issue 15 points 1 and 3 ("done means", without a browser): on the donation page a team admin
    accepts goods after the check, issues the receipt, voids it with a reason and issues again; the
    numbers run 1, 2 with the void visible; an empty reason is a Chinese field error (422) writing
    nothing; team B's admin gets 404 on the page and on every action."""
    from core.db import today
    app = site["app"]
    d = donor(app, site["A"])
    g = goods_gift(app, site["A"], d)
    y = today().year
    cb = app.test_client()
    assert login(cb, "tb").status_code == 302
    assert cb.get(f"/giving/donations/{g}").status_code == 404
    gb = goods_gift(app, site["B"], donor(app, site["B"], name="星火捐赠人"))
    tok_b = csrf_from(cb.get(f"/giving/donations/{gb}").get_data(as_text=True))   # B's own valid token
    before = snapshot(app)
    assert cb.post(f"/giving/donations/{g}", data={"action": "accept", "note": "ok", "csrf_token": tok_b}
                   ).status_code == 404
    assert snapshot(app) == before
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    page = c.get(f"/giving/donations/{g}")
    assert page.status_code == 200 and "待查验" in page.get_data(as_text=True)
    tok = csrf_from(page.get_data(as_text=True))
    r = c.post(f"/giving/donations/{g}", data={"action": "accept", "note": "", "csrf_token": tok})
    assert r.status_code == 422 and "请填写查验情况" in r.get_data(as_text=True)
    assert snapshot(app) == before
    assert c.post(f"/giving/donations/{g}", data={"action": "accept", "note": "安全、卫生、环保",
                                                  "csrf_token": tok}).status_code == 302
    assert c.post(f"/giving/donations/{g}", data={"action": "issue", "handler": "李经办",
                                                  "csrf_token": tok}).status_code == 302
    r = c.post(f"/giving/donations/{g}", data={"action": "void", "reason": "", "csrf_token": tok})
    assert r.status_code == 422 and "请填写作废该票据的原因" in r.get_data(as_text=True)
    assert c.post(f"/giving/donations/{g}", data={"action": "void", "reason": "数量写错",
                                                  "csrf_token": tok}).status_code == 302
    assert c.post(f"/giving/donations/{g}", data={"action": "issue", "handler": "李经办",
                                                  "csrf_token": tok}).status_code == 302
    html = c.get(f"/giving/donations/{g}").get_data(as_text=True)
    assert f"JZ{y}000001" in html and f"JZ{y}000002" in html and "数量写错" in html and "已作废" in html
    assert cb.post(f"/giving/donations/{g}", data={"action": "void", "reason": "x", "csrf_token": tok_b}
                   ).status_code == 404


def test_r_don_1_staff_form_records_donor_and_gift_together_or_nothing(site):
    """issue 15 point 1: the staff form records a donor and a money gift in one step; with a bad amount and
    a bad phone both are shown in Chinese beside their fields (422) and neither donor nor donation is
    written; team B's admin cannot pick team A (404, nothing written); a volunteer without the role is 403."""
    app = site["app"]
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    page = c.get("/giving/record")
    assert page.status_code == 200 and "阳光志愿服务队" in page.get_data(as_text=True)
    assert "星火志愿服务队" not in page.get_data(as_text=True)
    tok = csrf_from(page.get_data(as_text=True))
    base = {"csrf_token": tok, "team_id": str(site["A"]), "donor_kind": "person", "donor_name": "陈大文",
            "phone": "138001380", "kind": "money", "amount": "12.345", "channel": "bank", "donated_on": "2026-01-05"}
    before = snapshot(app)
    r = c.post("/giving/record", data=base)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="error-phone"' in html and 'id="error-amount"' in html
    assert "陈大文" in html                                        # what was typed stays in the form
    assert snapshot(app) == before
    r = c.post("/giving/record", data={**base, "phone": "13800138000", "amount": "88.80"})
    assert r.status_code == 302 and "/giving/donations/" in r.headers["Location"]
    assert snapshot(app)["giving_donation"] != before["giving_donation"]
    cb = app.test_client()
    assert login(cb, "tb").status_code == 302
    tok_b = csrf_from(cb.get("/giving/record").get_data(as_text=True))
    mid = snapshot(app)
    assert cb.post("/giving/record", data={**base, "csrf_token": tok_b, "phone": "13800138000",
                                           "amount": "1"}).status_code == 404
    assert snapshot(app) == mid
