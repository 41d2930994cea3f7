"""捐赠与票据, stock and use (issue 15 point 4, point 2 of the brief: reconciliation; R-DON-1, R-DON-4;
SECURITY.md LG1, CC2, CC3, AC6): accepted goods go into stock, leave it for an activity or a beneficiary,
never below zero (also two at once, on both databases); money is allocated to purposes (fen) within what was
received; a restricted gift is used for its restriction only (Chinese error, nothing written); movements and
allocations are append-only with reversals (at most once); ``timebank check`` reconciles stock, allocations
and receipts and catches a tampered row; the public page shows how gifts were used without names."""
from __future__ import annotations

import threading

import pytest

from conftest import login
from test_giving import PLUGINS, audit_actions, donor, goods_gift, money_gift, site, user  # noqa: F401

STOCK_TABLES = ("giving_stock_item", "giving_stock_movement", "giving_allocation", "giving_restriction")


def snap(app) -> dict:
    from core.db import db
    with app.app_context():
        return {t: db.execute_sql(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in STOCK_TABLES}


def accepted_goods(app, team, **extra):
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    d = goods_gift(app, team, donor(app, team), **extra)
    with app.app_context():
        G.check_goods(Donation.get_by_id(d), True, "安全、卫生、环保：已检查", None)
    return d


def item_of(app, donation_id):
    from plugins.giving.stock import StockItem
    with app.app_context():
        return StockItem.get(StockItem.donation == donation_id)


def checks(app) -> list:
    """What `timebank check` runs (core.backup.run_checks: the kernel's checks and every site_checks)."""
    from core.backup import run_checks
    with app.app_context():
        return run_checks(app)


def check(app) -> dict:
    from plugins.giving import stock
    with app.app_context():
        return stock.verify()


# ------------------------------------------------------------------------------------- stock in and out
def test_r_don_1_accepted_goods_go_into_stock_and_leave_it_for_a_beneficiary_or_activity(site):
    """issue 15 point 4: accepting goods makes a stock item (type, unit, quantity, expiry) and its `in`
    movement; handing 10 of 20 to a beneficiary and 4 to an activity leaves 6; refused goods never enter;
    every step is audited and `timebank check` reconciles."""
    from plugins.giving import services as G
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    g = accepted_goods(app, site["A"])
    it = item_of(app, g)
    assert (it.property_type, it.unit, it.received, it.on_hand, str(it.expiry_on)) == \
        ("食品", "袋", 20, 20, "2026-12-31")
    ta = user(app, "ta")
    with app.test_request_context():
        stock.use_goods(it, {"use": "beneficiary", "quantity": "10", "purpose": "困难家庭",
                             "beneficiary": "王阿婆"}, ta)
        stock.use_goods(item_of(app, g), {"use": "activity", "quantity": "４", "purpose": "困难家庭"}, ta)
    with app.app_context():
        kinds = [(m.kind, m.change) for m in stock.StockMovement.select().order_by(stock.StockMovement.id)]
    assert kinds == [("in", 20), ("beneficiary", -10), ("activity", -4)]
    assert item_of(app, g).on_hand == 6
    refused = goods_gift(app, site["A"], donor(app, site["A"]))
    with app.app_context():
        G.check_goods(Donation.get_by_id(refused), False, "已过期", None)
        assert stock.StockItem.select().where(stock.StockItem.donation == refused).count() == 0
    assert audit_actions(app).count("giving.stock.used") == 2
    assert "giving.stock.received" in audit_actions(app)
    assert all(v == [] for v in check(app).values())


def test_r_don_1_stock_never_goes_below_zero_and_bad_input_writes_nothing(site):
    """issue 15 point 4: more than on hand, zero, text, no beneficiary named: a Chinese message per field,
    nothing written; another team's admin reaches nothing (AC6)."""
    from plugins.giving import services as G
    from plugins.giving import stock
    app = site["app"]
    g = accepted_goods(app, site["A"])
    before = snap(app)
    ta = user(app, "ta")
    with app.test_request_context():
        for data, field, words in (
                ({"use": "beneficiary", "quantity": "21", "purpose": "困难家庭", "beneficiary": "王阿婆"},
                 "quantity", "库存"),
                ({"use": "beneficiary", "quantity": "0", "purpose": "困难家庭", "beneficiary": "王阿婆"},
                 "quantity", ""),
                ({"use": "beneficiary", "quantity": "两袋", "purpose": "困难家庭", "beneficiary": "王阿婆"},
                 "quantity", ""),
                ({"use": "beneficiary", "quantity": "1", "purpose": "困难家庭"}, "beneficiary", "受赠"),
                ({"use": "gift", "quantity": "1", "purpose": "困难家庭"}, "use", "")):
            with pytest.raises(G.FieldErrors) as e:
                stock.use_goods(item_of(app, g), data, ta)
            assert field in e.value.errors, data
            msg = str(e.value.errors[field])
            assert words in msg and any("\u4e00" <= ch <= "\u9fff" for ch in msg), msg
        with pytest.raises(G.GivingDenied):
            stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "1", "purpose": "困难家庭",
                                              "beneficiary": "王阿婆"}, user(app, "tb"))
    assert snap(app) == before


@pytest.mark.parametrize("n", [2])
def test_r_don_1_two_concurrent_uses_of_the_last_goods_give_one_success(site, n):
    """issue 15 point 4, CC2/CC3: two connections take 15 of 20 at the same moment: one succeeds, the other
    is told only 5 are left; on hand is 5, never below zero (SQLite BEGIN IMMEDIATE, PostgreSQL FOR UPDATE)."""
    from core.db import db
    from plugins.giving import stock
    app = site["app"]
    g = accepted_goods(app, site["A"])
    item_id = item_of(app, g).id
    barrier = threading.Barrier(n)
    ok, refused, other = [], [], []

    def go():
        try:
            with app.test_request_context():
                it = stock.StockItem.get_by_id(item_id)
                barrier.wait()
                stock.use_goods(it, {"use": "beneficiary", "quantity": "15", "purpose": "困难家庭",
                                     "beneficiary": "王阿婆"}, None)
                ok.append(1)
        except stock.FieldErrors as e:
            refused.append(str(e.errors.get("quantity")))
        except Exception as e:  # noqa: BLE001 - reported below
            other.append(repr(e))
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == [] and len(ok) == 1 and len(refused) == 1, (ok, refused, other)
    assert "5" in refused[0]
    assert item_of(app, g).on_hand == 5
    assert check(app)["giving.stock"] == []


def test_r_don_1_two_concurrent_allocations_never_exceed_the_gift(site):
    """issue 15 point 4, CC2/CC3: two connections allocate ¥60 of a ¥100 gift at the same moment: one is
    written, the other is told only ¥40.00 is left (the donation row is locked before the sum)."""
    from core.db import db
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    barrier = threading.Barrier(2)
    ok, refused, other = [], [], []

    def go():
        try:
            with app.test_request_context():
                d = Donation.get_by_id(m)
                barrier.wait()
                stock.allocate(d, {"amount": "60", "purpose": "助老"}, None)
                ok.append(1)
        except stock.FieldErrors as e:
            refused.append(str(e.errors.get("amount")))
        except Exception as e:  # noqa: BLE001 - reported below
            other.append(repr(e))
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == [] and len(ok) == 1 and len(refused) == 1, (ok, refused, other)
    assert "¥40.00" in refused[0]
    with app.app_context():
        assert stock.allocated(m) == 6000
    assert check(app)["giving.allocations"] == []


# ----------------------------------------------------------------------------------------- reversals
def test_lg1_movements_are_append_only_and_reversed_at_most_once(site):
    """issue 15 point 4, LG1: a reversal points to the movement it reverses and puts the goods back; a second
    reversal or a reversal of a reversal is refused; the database refuses UPDATE and DELETE of movements
    and allocations; a reversal needs a reason."""
    import peewee as pw
    from core.db import db
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    g = accepted_goods(app, site["A"])
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    ta = user(app, "ta")
    with app.test_request_context():
        out = stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "8", "purpose": "困难家庭",
                                                "beneficiary": "王阿婆"}, ta)
        with pytest.raises(stock.FieldErrors) as e:
            stock.reverse_movement(out, "  ", ta)
        assert "reason" in e.value.errors
        back = stock.reverse_movement(out, "登记错误", ta)
        assert (back.kind, back.change, back.reverses_id) == ("reversal", 8, out.id)
        assert item_of(app, g).on_hand == 20
        for target in (out, back):
            with pytest.raises(stock.FieldErrors):
                stock.reverse_movement(stock.StockMovement.get_by_id(target.id), "再来", ta)
        a = stock.allocate(Donation.get_by_id(m), {"amount": "30", "purpose": "助老"}, ta)
        ra = stock.reverse_allocation(a, "金额错误", ta)
        assert (ra.amount, ra.reverses_id) == (-3000, a.id)
        with pytest.raises(stock.FieldErrors):
            stock.reverse_allocation(stock.Allocation.get_by_id(a.id), "再来", ta)
        with pytest.raises(stock.FieldErrors):
            stock.reverse_allocation(ra, "再来", ta)
    with app.app_context():
        for sql in ('UPDATE "giving_stock_movement" SET change = 1',
                    'DELETE FROM "giving_stock_movement"', 'UPDATE "giving_allocation" SET amount = 1',
                    'DELETE FROM "giving_allocation"'):
            with pytest.raises(pw.DatabaseError):
                with db.atomic():
                    db.execute_sql(sql)
    assert audit_actions(app).count("giving.stock.reversed") == 1
    assert audit_actions(app).count("giving.allocation.reversed") == 1
    assert all(v == [] for v in check(app).values())


# ------------------------------------------------------------------------------- money and restrictions
def test_r_don_1_money_is_allocated_in_fen_within_what_was_received(site):
    """issue 15 point 4: ¥100.50 allocated as 60.25 + 40.25; one fen more is refused with what is left
    (Chinese, nothing written); goods cannot be allocated as money."""
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100.50", purpose="")
    ta = user(app, "ta")
    with app.test_request_context():
        d = Donation.get_by_id(m)
        stock.allocate(d, {"amount": "60.25", "purpose": "助学"}, ta)
        stock.allocate(d, {"amount": "￥40.25", "purpose": "助老"}, ta)
        before = snap(app)
        with pytest.raises(stock.FieldErrors) as e:
            stock.allocate(d, {"amount": "0.01", "purpose": "助老"}, ta)
        assert "¥0.00" in str(e.value.errors["amount"])
        with pytest.raises(stock.FieldErrors) as e:
            stock.allocate(d, {"amount": "1.001", "purpose": "助老"}, ta)
        assert "amount" in e.value.errors
        with pytest.raises(stock.FieldErrors) as e:
            stock.allocate(d, {"amount": "1"}, ta)
        assert "purpose" in e.value.errors
        assert snap(app) == before
        assert stock.allocated(m) == 10050
    assert check(app)["giving.allocations"] == []


def test_r_don_1_restricted_gifts_are_used_for_their_restriction_only(site):
    """issue 15 point 4: a gift for 助老 is not allocated to 助学; goods for a designated beneficiary go to
    that beneficiary only, not to an activity; a campaign restriction binds both forms of use; the restriction
    cannot be added once the gift is used. Each refusal is a Chinese field error and writes nothing."""
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    ta = user(app, "ta")
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    g = accepted_goods(app, site["A"], beneficiary="李伯伯", purpose="")
    c = money_gift(app, site["A"], donor(app, site["A"]), amount="50", purpose="")
    with app.test_request_context():
        stock.restrict(Donation.get_by_id(c), {"campaign": "99公益日"}, ta)
        before = snap(app)
        cases = [
            (lambda: stock.allocate(Donation.get_by_id(m), {"amount": "10", "purpose": "助学"}, ta), "purpose", "助老"),
            (lambda: stock.use_goods(item_of(app, g), {"use": "activity", "quantity": "1"}, ta), "use", "指定"),
            (lambda: stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "1",
                                                       "beneficiary": "张三"}, ta), "beneficiary", "李伯伯"),
            (lambda: stock.allocate(Donation.get_by_id(c), {"amount": "10", "purpose": "助学"}, ta),
             "campaign", "99公益日"),
        ]
        for fn, field, words in cases:
            with pytest.raises(stock.FieldErrors) as e:
                fn()
            assert words in str(e.value.errors[field]), e.value.errors
        assert snap(app) == before
        stock.allocate(Donation.get_by_id(m), {"amount": "10", "purpose": "助老"}, ta)
        stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "2", "beneficiary": "李伯伯"}, ta)
        stock.allocate(Donation.get_by_id(c), {"amount": "10", "campaign": "99公益日"}, ta)
        with pytest.raises(stock.FieldErrors):
            stock.restrict(Donation.get_by_id(m), {"campaign": "晚来的限定"}, ta)
    assert all(v == [] for v in check(app).values())


# ------------------------------------------------------------------------------------ reconciliation
def test_r_don_3_timebank_check_reconciles_and_catches_tampered_rows(site):
    """brief point 2: `timebank check` passes on honest data and names each tampered row: stock on hand
    edited, an allocation inserted past the money received, a goods donation accepted behind the service's
    back (not in stock), an old accepted donation without a valid or waived receipt."""
    import datetime as _dt
    from core.db import db, now
    from plugins.giving import services as G
    from plugins.giving.models import Donation
    app = site["app"]
    g = accepted_goods(app, site["A"])
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    with app.app_context():
        G.issue_receipt(Donation.get_by_id(m), None, handler="经办")
        G.issue_receipt(Donation.get_by_id(g), None, handler="经办")
    assert all(ok for _, ok, _m in checks(app)), checks(app)
    assert {"giving.stock", "giving.allocations", "giving.receipts_due"} <= {n for n, _, _m in checks(app)}
    with app.app_context():
        db.execute_sql('UPDATE "giving_stock_item" SET on_hand = on_hand + 3')
        db.execute_sql('INSERT INTO "giving_allocation" (donation_id, team_id, amount, purpose, campaign, '
                       'beneficiary, note, created_at) VALUES (%s, %s, 20000, %s, %s, %s, %s, %s)'
                       .replace("%s", "?" if "sqlite" in type(db.obj).__name__.lower() else "%s"),
                       (m, site["A"], "助学", "", "", "", now()))
    found = check(app)
    assert any("on hand 23" in p for p in found["giving.stock"]), found
    assert any(f"donation {m}: allocated 20000 fen of 10000" in p for p in found["giving.allocations"]), found
    assert any("outside the restriction" in p for p in found["giving.allocations"]), found
    g2 = goods_gift(app, site["A"], donor(app, site["A"]))
    with app.app_context():
        Donation.update(status="accepted", created_at=now() - _dt.timedelta(days=60)).where(
            Donation.id == g2).execute()
    found = check(app)
    assert f"donation {g2}: accepted goods not in stock" in found["giving.stock"]
    assert any(f"donation {g2}: accepted without a receipt" in p for p in found["giving.receipts_due"])
    bad = {n for n, ok, _m in checks(app) if not ok}
    assert {"giving.stock", "giving.allocations", "giving.receipts_due"} <= bad


# ------------------------------------------------------------------------------ staff pages and AC6
def test_r_don_1_staff_pages_use_reverse_and_another_team_gets_404(site):
    """issue 15 point 4 and point 7 (AC6 for the new views): the use page hands goods out (POST + CSRF);
    bad input is 422 with the message beside the field and writes nothing; the reverse page asks for a reason;
    team B's admin gets 404 on A's use and reverse pages and sees none of A's rows in the three admin
    lists; A's admin sees them and the reverse link."""
    from conftest import csrf_from
    from plugins.giving import stock
    app = site["app"]
    g = accepted_goods(app, site["A"])
    ca = app.test_client()
    assert login(ca, "ta").status_code == 302
    page = ca.get(f"/giving/donations/{g}/use")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    assert ca.post(f"/giving/donations/{g}/use", data={"action": "use", "use": "beneficiary"}).status_code == 400
    before = snap(app)
    bad = ca.post(f"/giving/donations/{g}/use", data={"csrf_token": token, "action": "use", "use": "beneficiary",
                                                      "quantity": "999", "purpose": "困难家庭", "beneficiary": "王阿婆"})
    assert bad.status_code == 422 and 'id="error-use-quantity"' in bad.get_data(as_text=True)
    assert snap(app) == before
    ok = ca.post(f"/giving/donations/{g}/use", data={"csrf_token": token, "action": "use", "use": "beneficiary",
                                                     "quantity": "10", "purpose": "困难家庭", "beneficiary": "王阿婆"})
    assert ok.status_code == 302
    with app.app_context():
        out = stock.StockMovement.get(stock.StockMovement.kind == "beneficiary")
    assert f"/giving/movements/{out.id}/reverse" in ca.get("/admin/giving_movement/").get_data(as_text=True)
    for ep in ("giving_stock", "giving_movement", "giving_allocation"):
        assert ca.get(f"/admin/{ep}/").status_code == 200, ep
    cb = app.test_client()
    assert login(cb, "tb").status_code == 302
    assert cb.get(f"/giving/donations/{g}/use").status_code == 404
    assert cb.get(f"/giving/movements/{out.id}/reverse").status_code == 404
    tb_token = csrf_from(cb.get("/giving/record").get_data(as_text=True))
    assert cb.post(f"/giving/movements/{out.id}/reverse",
                   data={"csrf_token": tb_token, "reason": "x"}).status_code == 404
    for ep in ("giving_stock", "giving_movement", "giving_allocation"):
        html = cb.get(f"/admin/{ep}/").get_data(as_text=True)
        assert "王阿婆" not in html and "大米" not in html, ep
    assert cb.get(f"/admin/giving_movement/details/?id={out.id}").status_code in (302, 403, 404)
    assert cb.get(f"/admin/giving_stock/details/?id={item_of(app, g).id}").status_code in (302, 403, 404)
    nothing = ca.post(f"/giving/movements/{out.id}/reverse", data={"csrf_token": token, "reason": ""})
    assert nothing.status_code == 422 and 'id="error-reason"' in nothing.get_data(as_text=True)
    done = ca.post(f"/giving/movements/{out.id}/reverse", data={"csrf_token": token, "reason": "登记错误"})
    assert done.status_code == 302 and item_of(app, g).on_hand == 20


# ------------------------------------------------------------------------------------------ disclosure
def test_r_don_4_public_page_shows_how_gifts_were_used_without_beneficiary_names(site):
    """issue 15 point 4 on the public page: goods used by purpose (net of reversals) and money allocated by
    purpose, totals only: no beneficiary's name; another team's use is not shown."""
    from core.db import today
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    ta = user(app, "ta")
    g = accepted_goods(app, site["A"])
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    with app.test_request_context():
        stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "10", "purpose": "困难家庭",
                                          "beneficiary": "王阿婆"}, ta)
        wrong = stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "3", "purpose": "困难家庭",
                                                  "beneficiary": "王阿婆"}, ta)
        stock.reverse_movement(wrong, "登记错误", ta)
        stock.allocate(Donation.get_by_id(m), {"amount": "70.50", "purpose": "助老", "beneficiary": "赵爷爷"}, ta)
    html = app.test_client().get(f"/giving/disclosure/{site['A']}?year={today().year}").get_data(as_text=True)
    assert "捐赠使用情况" in html
    assert "10 袋" in html and "13 袋" not in html and "¥70.50" in html
    assert "王阿婆" not in html and "赵爷爷" not in html


def test_lg1_migration_0002_creates_the_stock_tables_and_puts_accepted_goods_into_stock(site):
    """issue 15 point 4 on a site of the previous version: 0002 creates the four tables, installs the
    append-only triggers and puts goods accepted before the upgrade into stock; `timebank check` then passes;
    a second run changes nothing."""
    import peewee as pw
    from core import plugins as P
    from core.db import db
    from plugins.giving import stock
    app = site["app"]
    g = accepted_goods(app, site["A"])
    with app.app_context():
        db.obj.drop_tables([stock.Allocation, stock.StockMovement, stock.StockItem, stock.Restriction])
        ph = "%s" if db.obj.param == "%s" else "?"
        db.execute_sql(f'DELETE FROM "migrations_giving" WHERE name = {ph}', ("0002_stock",))
        info = P.discover()[0]["giving"]
        assert "0002_stock" in P.migrate_plugin(info)
        it = stock.StockItem.get(stock.StockItem.donation == g)
        assert (it.received, it.on_hand) == (20, 20)
        assert [(m.kind, m.change) for m in it.movements] == [("in", 20)]
        with pytest.raises(pw.DatabaseError):
            with db.atomic():
                db.execute_sql('DELETE FROM "giving_stock_movement"')
        assert P.migrate_plugin(info) == []
    assert all(v == [] for v in check(app).values())


def test_issue15_done_means_through_the_pages(site):
    """issue 15 "Done means" without the browser (tests/test_giving_done_browser.py is the Chromium one), on
    both databases: the staff form records a money gift (donor not named) and a goods gift (named), the goods
    pass the check, both get receipts; the agreement and receipt PDFs read back; half the goods go to a
    beneficiary; one receipt is voided and re-issued (1 voided, 2, 3: no gap); the public page shows the
    totals and the agreed name only; every `timebank check` passes."""
    from conftest import csrf_from, pdf_text
    from core.db import today
    from plugins.giving import stock
    from plugins.giving.models import Receipt
    app, team = site["app"], site["A"]
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    token = csrf_from(c.get("/giving/record").get_data(as_text=True))
    day, y = today().isoformat(), today().year

    def record(data):
        r = c.post("/giving/record", data={"csrf_token": token, "team_id": team, "donated_on": day, **data})
        assert r.status_code == 302, r.get_data(as_text=True)[:3000]
        return int(r.headers["Location"].rsplit("/", 1)[1])

    def act(donation_id, **data):
        r = c.post(f"/giving/donations/{donation_id}", data={"csrf_token": token, **data})
        assert r.status_code == 302, r.get_data(as_text=True)[:3000]

    m = record({"donor_kind": "person", "donor_name": "低调女士", "kind": "money", "channel": "bank",
                "amount": "1000.50", "purpose": "助老"})
    act(m, action="issue", handler="李经办")
    g = record({"donor_kind": "organisation", "donor_name": "北京街爱心超市", "disclose_name": "1", "kind": "goods",
                "property_type": "食品", "description": "大米", "quantity": "20", "unit": "袋",
                "condition": "全新", "delivery_on": day, "purpose": "困难家庭", "wants_agreement": "1"})
    act(g, action="accept", note="安全、卫生、环保")
    act(g, action="issue", handler="李经办")
    agreement = pdf_text(c.get(f"/giving/donations/{g}/agreement.pdf").data)
    assert "捐赠协议" in agreement and "北京街爱心超市" in agreement and "困难家庭" in agreement
    with app.app_context():
        rg = Receipt.get(Receipt.donation == g)
    receipt = pdf_text(c.get(f"/giving/receipts/{rg.id}.pdf").data)
    assert rg.number in receipt and "李经办" in receipt
    r = c.post(f"/giving/donations/{g}/use", data={"csrf_token": token, "action": "use", "use": "beneficiary",
                                                   "quantity": "10", "purpose": "困难家庭", "beneficiary": "王阿婆"})
    assert r.status_code == 302 and item_of(app, g).on_hand == 10
    act(m, action="void", reason="金额写错")
    act(m, action="issue", handler="李经办")
    with app.app_context():
        rows = [(r.number, r.status) for r in Receipt.select().order_by(Receipt.id)]
    assert rows == [(f"JZ{y}000001", "voided"), (f"JZ{y}000002", "issued"), (f"JZ{y}000003", "issued")]
    assert "金额写错" in c.get(f"/giving/donations/{m}").get_data(as_text=True)
    html = app.test_client().get(f"/giving/disclosure/{team}?year={y}").get_data(as_text=True)
    assert "¥1000.50" in html and "北京街爱心超市" in html and "低调女士" not in html and "王阿婆" not in html
    assert "10 袋" in html
    assert all(ok for _, ok, _m in checks(app)), [x for x in checks(app) if not x[1]]
    with app.app_context():
        assert stock.StockMovement.select().count() == 2


def test_r_don_1_stock_pages_and_admin_lists_speak_chinese(site):
    """issue 18 point 6 for the new pages: the use page, a reversal page and the three admin lists and their
    details pages show no English word (the rule of tests/test_admin_words.py)."""
    import re
    from test_admin_words import _english
    from plugins.giving import stock
    from plugins.giving.models import Donation
    app = site["app"]
    g = accepted_goods(app, site["A"])
    m = money_gift(app, site["A"], donor(app, site["A"]), amount="100", purpose="助老")
    with app.test_request_context():
        out = stock.use_goods(item_of(app, g), {"use": "beneficiary", "quantity": "3", "purpose": "困难家庭",
                                                "beneficiary": "王阿婆"}, user(app, "ta"))
        a = stock.allocate(Donation.get_by_id(m), {"amount": "10", "purpose": "助老"}, user(app, "ta"))
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    urls = [f"/giving/donations/{g}/use", f"/giving/donations/{m}/use", f"/giving/movements/{out.id}/reverse",
            f"/giving/allocations/{a.id}/reverse", f"/giving/donations/{g}",
            "/admin/giving_stock/", "/admin/giving_movement/", "/admin/giving_allocation/",
            f"/admin/giving_stock/details/?id={item_of(app, g).id}", f"/admin/giving_movement/details/?id={out.id}",
            f"/admin/giving_allocation/details/?id={a.id}"]
    found = {}
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        main = re.search(r"<main.*?</main>", html, re.S) or re.search(r"<body.*?</body>", html, re.S)
        texts = re.findall(r">([^<>]+)<", re.sub(r"<(script|style)\b.*?</\1>", "", main.group(0), flags=re.S))
        assert len("".join(texts).strip()) > 20, url
        bad = _english(texts)
        if bad:
            found[url] = bad
    assert found == {}
    assert "冲销" in c.get("/admin/giving_movement/").get_data(as_text=True)


def test_r_don_1_with_activities_loaded_goods_go_to_an_activity_of_the_team_and_its_restriction(make_app,
                                                                                                monkeypatch):
    """issue 15 point 4 with the optional activities plugin: an activity use names an activity of the
    donation's team by id (another team's id is refused); a gift restricted to an activity goes to that
    activity only; the public page shows the activity's title, not a name."""
    from argon2 import PasswordHasher
    from core import security
    from core.db import today
    from fixtures.activities_plugins.actsupport import new_activity
    from plugins.giving import stock
    from plugins.giving.models import Donation
    from test_teams_workflow import new_team
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = make_app(plugins=PLUGINS + ["activities"], PUBLIC_URL="http://127.0.0.1:5000")
    A, B = new_team(app, "阳光志愿服务队", admin="ta"), new_team(app, "星火志愿服务队", admin="tb")
    mine = new_activity(app, A, title="长者饭堂助餐")
    other_mine = new_activity(app, A, title="社区义剪")
    theirs = new_activity(app, B, title="星火读书会")
    g = accepted_goods(app, A, purpose="")
    ta = user(app, "ta")
    with app.test_request_context():
        stock.restrict(Donation.get_by_id(g), {"activity_id": str(mine)}, ta)
        before = snap(app)
        for aid, field in ((theirs, "activity_id"), (other_mine, "activity_id"), ("", "activity_id")):
            with pytest.raises(stock.FieldErrors) as e:
                stock.use_goods(item_of(app, g), {"use": "activity", "quantity": "2", "activity_id": str(aid)}, ta)
            assert field in e.value.errors, (aid, e.value.errors)
        assert snap(app) == before
        m = stock.use_goods(item_of(app, g), {"use": "activity", "quantity": "2", "activity_id": str(mine)}, ta)
        assert (m.kind, m.activity_id, m.change) == ("activity", mine, -2)
    html = app.test_client().get(f"/giving/disclosure/{A}?year={today().year}").get_data(as_text=True)
    assert "活动：长者饭堂助餐" in html and "2 袋" in html
    assert all(v == [] for v in check(app).values())
