"""积分兑换 (issue 5 point 3; R-TB-2; SECURITY.md LG1–LG7, CC3–CC5, AC5, AC6): redemption debits
points and stock together or not at all, never oversells, never overdraws (also under concurrent
requests, on both databases), replays by key, cancels by reversal; receipts are numbered in order;
team admins reach only their own team tree's partners, items and exchanges."""
from __future__ import annotations

import threading

import pytest

from conftest import csrf_from, login
from fixtures.ledger_support import TABLES, ledger_site, new_team, set_setting, snapshot, volunteers

ALL_TABLES = TABLES + ("core_number_sequence", "core_number", "exchange_partner", "exchange_item", "exchange_redemption")
_record = iter(range(70000, 10 ** 6))


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch, "exchange")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    set_setting(app, "ledger.redemption_threshold_hours", 1)
    from plugins.exchange import services as X
    with app.app_context():
        pa = X.save_partner({"name": "阳光爱心超市", "contact": "李店长", "team_id": ta})
        pb = X.save_partner({"name": "星火社区卫生站", "contact": "王医生", "team_id": tb})
        rice = X.save_item({"partner_id": pa.id, "name": "大米 5 公斤", "kind": "goods", "price": 3, "stock": 5})
        checkup = X.save_item({"partner_id": pb.id, "name": "健康体检", "kind": "service", "price": 2, "stock": 50})
    return {"app": app, "teams": (ta, tb), "partners": (pa.id, pb.id), "items": (rice.id, checkup.id)}


def give(app, vid, points, *, team_id=None):
    """``points`` hours of confirmed service credited through the ledger (1 h = 1 point)."""
    from plugins.ledger import services as L
    with app.app_context():
        L.credit_hours(record_id=next(_record), volunteer_id=vid, kind="service", minutes=points * 60, version=1,
                       team_id=team_id)


def balance(app, vid):
    from plugins.ledger import services as L
    with app.app_context():
        return L.balance(L.volunteer_account(vid))


def stock(app, item_id):
    from plugins.exchange.models import Item
    with app.app_context():
        return Item.get_by_id(item_id).stock


def problems(app):
    """The ledger's integrity checks (LG2, LG6) and the exchange's agreement with the ledger."""
    from plugins.exchange import services as X
    from plugins.ledger import services as L
    with app.app_context():
        return [(p.check, p.ref, p.detail) for p in L.verify()] + X.verify()


def redeem(app, vid, item_id, q=1, **kw):
    from plugins.exchange import services as X
    with app.app_context():
        return X.redeem(vid, item_id, q, **kw)


def _year():
    from core.db import now
    return now().year


# ----------------------------------------------------------------- redeem (R-TB-2, LG2, LG7)
def test_r_tb_2_redeem_debits_points_and_stock_together(site):
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 401, 1, account=False)
    give(app, v, 10)
    r = redeem(app, v, rice, 2)
    assert (r.status, r.quantity, r.points, r.unit_price, r.number) == ("placed", 2, 6, 3, f"DH{_year()}000001")
    assert (balance(app, v), stock(app, rice)) == (4, 3)
    from core.models import AuditLog
    from plugins.ledger.models import Transfer
    with app.app_context():
        t = Transfer.get_by_id(r.transfer_id)
        assert (t.kind, t.amount, t.debit.code, t.credit.code, t.idempotency_key, t.reference) == (
            "redemption", 6, f"volunteer:{v}", "system:redemption", f"redemption:{r.id}", r.number)
        assert AuditLog.select().where((AuditLog.action == "exchange.redeemed")
                                       & (AuditLog.object_id == str(r.id))).exists()
    assert problems(app) == []


def test_the_redemption_threshold_says_how_many_hours_are_missing_and_writes_nothing(site):
    app, (rice, _c) = site["app"], site["items"]
    set_setting(app, "ledger.redemption_threshold_hours", 100)
    (v,) = volunteers(app, 402, 1, account=False)
    give(app, v, 30)
    before = snapshot(app, ALL_TABLES)
    from plugins.exchange import services as X
    with pytest.raises(X.ExchangeError, match="100 confirmed service hours.*you have 30, 70 more hours"):
        redeem(app, v, rice)
    (w,) = volunteers(app, 403, 1, account=False)     # no account at all yet
    with pytest.raises(X.ExchangeError, match="100 more hours"):
        redeem(app, w, rice)
    assert snapshot(app, ALL_TABLES) == before
    give(app, v, 70)
    assert redeem(app, v, rice).status == "placed"
    set_setting(app, "ledger.redemption_threshold_hours", 0)      # no threshold: the balance decides
    with pytest.raises(X.ExchangeError, match="this needs 3, your balance is 0"):
        redeem(app, w, rice)


def test_cc5_every_refusal_writes_nothing(site):
    app, (rice, checkup) = site["app"], site["items"]
    (v,) = volunteers(app, 404, 1, account=False)
    give(app, v, 5)
    from core.db import transaction
    from plugins.exchange import services as X
    from plugins.exchange.models import Item, Partner
    with app.app_context():
        limited = X.save_item({"partner_id": site["partners"][0], "name": "纪念徽章", "price": 1, "stock": 9,
                               "per_volunteer_limit": 1})
        gone = X.save_item({"partner_id": site["partners"][0], "name": "停售商品", "price": 1, "stock": 9,
                            "active": False})
        empty = X.save_item({"partner_id": site["partners"][0], "name": "已售罄", "price": 1, "stock": 0})
        closed_p = X.save_partner({"name": "已停止合作", "team_id": None, "active": False})
        closed = X.save_item({"partner_id": closed_p.id, "name": "旧商品", "price": 1, "stock": 3})
    redeem(app, v, limited.id)
    before = snapshot(app, ALL_TABLES)
    cases = [((rice, 2), "this needs 6, your balance is 4"),         # not enough points
             ((checkup, 3), "this needs 6"),
             ((limited.id, 1), "at most 1 of this item; you have 1"),
             ((gone.id, 1), "not offered any more"),
             ((closed.id, 1), "not offered any more"),
             ((empty.id, 1), "Out of stock"),
             ((rice, 6), "Only 5 left"),
             ((rice, 0), "whole number greater than zero"),
             ((rice, -1), "whole number greater than zero"),
             ((rice, 1.5), "whole number greater than zero"),
             ((rice, "abc"), "whole number greater than zero"),
             ((rice, True), "whole number greater than zero"),
             ((rice, 100), "At most 99")]
    for (item, q), msg in cases:
        with pytest.raises(X.ExchangeError, match=msg):
            redeem(app, v, item, q)
    assert snapshot(app, ALL_TABLES) == before
    # a failure after the stock, the number and the transfer were written inside the transaction
    with app.app_context():
        real = X.audit.log

        def broken(action, *a, **kw):
            if action == "exchange.redeemed":
                raise RuntimeError("disk full")
            return real(action, *a, **kw)
        X.audit.log = broken
        try:
            with pytest.raises(RuntimeError):
                X.redeem(v, rice, 1)
        finally:
            X.audit.log = real
    assert snapshot(app, ALL_TABLES) == before
    # the database refuses a negative stock on its own (CHECK constraint)
    with app.app_context():
        with pytest.raises(Exception):
            with transaction():
                Item.update(stock=-1).where(Item.id == rice).execute()
        assert Partner.select().count() == 3
    assert stock(app, rice) == 5 and problems(app) == []


# ----------------------------------------------------------------- concurrency (CC3, CC4, LG3)
def _race(app, jobs):
    """Run each job in its own thread, all released at once; returns (results, refusals, errors)."""
    from core.db import db
    from plugins.exchange import services as X
    ok, refused, errors = [], [], []
    barrier = threading.Barrier(len(jobs))

    def worker(job):
        try:
            with app.app_context():
                barrier.wait()
                try:
                    ok.append(job())
                except X.ExchangeError as e:
                    refused.append(e)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, refused, errors


def test_cc4_thirty_volunteers_racing_for_ten_in_stock_get_exactly_ten(site):
    app, (_rice, checkup) = site["app"], site["items"]
    from plugins.exchange import services as X
    with app.app_context():
        item = X.save_item({"partner_id": site["partners"][1], "name": "限量理疗券", "kind": "service",
                            "price": 4, "stock": 10})
    vids = volunteers(app, 420, 30, account=False)
    for v in vids:
        give(app, v, 8)
    ok, refused, errors = _race(app, [lambda v=v: X.redeem(v, item.id, 1) for v in vids])
    assert not errors, errors
    assert (len(ok), len(refused)) == (10, 20)
    assert all("Out of stock" in str(e) for e in refused)
    assert stock(app, item.id) == 0
    assert sorted(balance(app, v) for v in vids) == [4] * 10 + [8] * 20
    numbers = sorted(r.number for r in ok)
    assert numbers == [f"DH{_year()}{n:06d}" for n in range(1, 11)]          # LG7: no gaps, no repeats
    from plugins.ledger import services as L
    with app.app_context():
        assert L.balance(L.system_account("redemption")) == 40
    assert problems(app) == []


def test_lg3_one_volunteer_racing_itself_never_goes_below_zero(site):
    app, (_rice, checkup) = site["app"], site["items"]
    (v,) = volunteers(app, 460, 1, account=False)
    give(app, v, 7)                        # 7 points, 2 a unit: three exchanges fit, the rest must fail
    from plugins.exchange import services as X
    ok, refused, errors = _race(app, [lambda i=i: X.redeem(v, checkup, 1, key=f"self-race-{i}") for i in range(12)])
    assert not errors, errors
    assert (len(ok), len(refused)) == (3, 9)
    assert all("points" in str(e).lower() for e in refused)
    assert balance(app, v) == 1 and stock(app, checkup) == 47
    assert problems(app) == []


def test_cc3_the_per_volunteer_limit_holds_when_one_volunteer_races_for_it(site):
    app = site["app"]
    from plugins.exchange import services as X
    with app.app_context():
        badge = X.save_item({"partner_id": site["partners"][0], "name": "纪念徽章", "price": 1, "stock": 50,
                             "per_volunteer_limit": 2})
    (v,) = volunteers(app, 465, 1, account=False)
    give(app, v, 20)
    ok, refused, errors = _race(app, [lambda i=i: X.redeem(v, badge.id, 1, key=f"badge-{i}") for i in range(8)])
    assert not errors, errors
    assert (len(ok), len(refused)) == (2, 6)
    assert all("at most 2 of this item" in str(e) for e in refused)
    assert (balance(app, v), stock(app, badge.id)) == (18, 48)
    assert problems(app) == []


def test_cc3_cancels_and_redemptions_of_one_item_at_once_neither_deadlock_nor_lose_stock(site):
    """Lock order (item → counter → accounts; cancel: redemption → item → accounts) keeps PostgreSQL
    free of deadlocks: 8 cancellations race 8 new exchanges of the sold-out item."""
    app = site["app"]
    from plugins.exchange import services as X
    from plugins.exchange.models import Redemption
    with app.app_context():
        item = X.save_item({"partner_id": site["partners"][0], "name": "抢手商品", "price": 2, "stock": 8})
    first, second = volunteers(app, 500, 8, account=False), volunteers(app, 510, 8, account=False)
    for v in first + second:
        give(app, v, 4)
    placed = [redeem(app, v, item.id) for v in first]
    assert stock(app, item.id) == 0
    jobs = [lambda r=r: X.cancel(r.id, reason="让给别人") for r in placed]
    jobs += [lambda v=v: X.redeem(v, item.id, 1) for v in second]
    ok, refused, errors = _race(app, jobs)
    assert not errors, errors
    with app.app_context():
        held = sum(r.quantity for r in Redemption.select().where((Redemption.item == item.id)
                                                                 & (Redemption.status == "placed")))
    assert stock(app, item.id) + held == 8 and stock(app, item.id) >= 0
    assert len(ok) - 8 == held and all("stock" in str(e) for e in refused)
    assert sorted(balance(app, v) for v in first) == [4] * 8
    assert problems(app) == []


def test_lg4_concurrent_replays_of_one_key_exchange_once(site):
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 461, 1, account=False)
    give(app, v, 10)
    from plugins.exchange import services as X
    ok, refused, errors = _race(app, [lambda: X.redeem(v, rice, 1, key="form:double-click") for _ in range(6)])
    assert not errors and not refused, (errors, refused)
    assert len({r.id for r in ok}) == 1
    assert (balance(app, v), stock(app, rice)) == (7, 4)
    assert problems(app) == []


# ----------------------------------------------------------------- replay, cancel, fulfil (LG1, LG4, LG7)
def test_lg4_a_replayed_key_returns_the_first_redemption(site):
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 462, 1, account=False)
    give(app, v, 10)
    first = redeem(app, v, rice, 2, key="req-1")
    assert not first.replayed
    again = redeem(app, v, rice, 2, key="req-1")
    assert again.id == first.id and again.number == first.number and again.replayed
    from plugins.exchange import services as X
    before = snapshot(app, ALL_TABLES)
    with pytest.raises(X.ExchangeError, match="already used for a different exchange"):
        redeem(app, v, rice, 1, key="req-1")
    assert snapshot(app, ALL_TABLES) == before
    assert (balance(app, v), stock(app, rice)) == (4, 3)


def test_cancel_refunds_by_reversal_and_returns_the_stock(site):
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 463, 1, account=False)
    give(app, v, 10)
    r = redeem(app, v, rice, 2)
    from plugins.exchange import services as X
    from plugins.ledger.models import Transfer
    with app.app_context():
        with pytest.raises(X.ExchangeError, match="reason"):
            X.cancel(r, reason="  ")
        c = X.cancel(r, reason="商品临时缺货，无法领取")
        assert (c.status, c.cancel_reason) == ("cancelled", "商品临时缺货，无法领取")
        assert (r.status, r.refund_transfer_id) == ("cancelled", c.refund_transfer_id)   # the caller's copy too
        refund = Transfer.get_by_id(c.refund_transfer_id)
        assert (refund.kind, refund.amount, refund.reverses_id, refund.debit.code, refund.credit.code) == (
            "reversal", 6, r.transfer_id, "system:redemption", f"volunteer:{v}")
        assert (balance(app, v), stock(app, rice)) == (10, 5)
        before = snapshot(app, ALL_TABLES)
        assert X.cancel(r, reason="again").replayed            # idempotent: nothing moves twice
        with pytest.raises(X.ExchangeError, match="cancelled exchange cannot be fulfilled"):
            X.fulfil(r)
        assert snapshot(app, ALL_TABLES) == before
        # a fulfilled exchange cannot be cancelled
        r2 = X.redeem(v, rice, 1)
        assert X.fulfil(r2).status == "fulfilled"
        assert X.fulfil(r2).status == "fulfilled"
        with pytest.raises(X.ExchangeError, match="fulfilled exchange cannot be cancelled"):
            X.cancel(r2, reason="改主意了")
        from core.models import AuditLog
        acts = [a.action for a in AuditLog.select().where(AuditLog.object_type == "exchange_redemption")]
        assert acts.count("exchange.cancelled") == 1 and acts.count("exchange.fulfilled") == 1
    assert (balance(app, v), stock(app, rice)) == (7, 4)
    assert problems(app) == []


def test_lg7_receipt_numbers_are_sequential_and_a_cancelled_one_keeps_its_number(site):
    app, (rice, checkup) = site["app"], site["items"]
    (v,) = volunteers(app, 464, 1, account=False)
    give(app, v, 30)
    from plugins.exchange import services as X
    rs = [redeem(app, v, checkup, 1) for _ in range(3)]
    with app.app_context():
        X.cancel(rs[1], reason="重复下单")
    with pytest.raises(X.ExchangeError):
        redeem(app, v, rice, 9)                              # refused: takes no number
    rs.append(redeem(app, v, rice, 1))
    from plugins.exchange.models import Redemption
    with app.app_context():
        got = [(r.number, r.status) for r in Redemption.select().order_by(Redemption.id)]
    y = _year()
    assert got == [(f"DH{y}000001", "placed"), (f"DH{y}000002", "cancelled"), (f"DH{y}000003", "placed"),
                   (f"DH{y}000004", "placed")]
    assert problems(app) == []


# ----------------------------------------------------------------- volunteer pages (AC5)
def test_volunteer_redeems_once_on_a_double_submit_and_cancels_from_my_exchanges(site):
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 470, 1)
    give(app, v, 10)
    from fixtures.activities_plugins.actsupport import username_of
    c = app.test_client()
    page = c.get("/exchange/").get_data(as_text=True)
    assert "大米 5 公斤" in page and "阳光爱心超市" in page and 'id="balance"' not in page
    login(c, username_of(app, v))
    page = c.get("/exchange/").get_data(as_text=True)
    assert 'id="balance">10<' in page and "You can exchange points." in page
    panel = c.get("/me").get_data(as_text=True)          # the volunteer_panels widget
    assert "You can exchange points (balance 10)." in panel and "/exchange/mine" in panel
    form = c.get(f"/exchange/items/{rice}/redeem").get_data(as_text=True)
    import re
    token = re.search(r'name="token" value="([^"]+)"', form).group(1)
    data = {"csrf_token": csrf_from(form), "token": token, "quantity": "2"}
    assert c.post(f"/exchange/items/{rice}/redeem", data={**data, "csrf_token": ""}).status_code == 400   # AC5
    for _ in range(2):                                       # the second click replays the first
        r = c.post(f"/exchange/items/{rice}/redeem", data=data)
        assert r.status_code == 302 and r.headers["Location"].endswith("/exchange/mine")
    assert (balance(app, v), stock(app, rice)) == (4, 3)
    mine = c.get("/exchange/mine")
    assert mine.headers["Cache-Control"] == "no-store"
    text = mine.get_data(as_text=True)
    assert f"DH{_year()}000001" in text and text.count("<tr id=\"r") == 1
    bad = c.post(f"/exchange/items/{rice}/redeem", data={**data, "token": "x" * 20, "quantity": "9"})
    assert bad.status_code == 400 and "Only 3 left" in bad.get_data(as_text=True)
    from plugins.exchange.models import Redemption
    with app.app_context():
        rid = Redemption.get().id
    pdf = c.get(f"/exchange/redemptions/{rid}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    csrf = csrf_from(text)
    c.post(f"/exchange/redemptions/{rid}/cancel", data={"csrf_token": csrf, "reason": ""})
    assert balance(app, v) == 4                              # no reason: nothing happened
    c.post(f"/exchange/redemptions/{rid}/cancel", data={"csrf_token": csrf, "reason": "买错了"})
    assert (balance(app, v), stock(app, rice)) == (10, 5)
    # someone else's exchange: 404 for another volunteer
    (w,) = volunteers(app, 471, 1)
    c2 = app.test_client()
    login(c2, username_of(app, w))
    assert c2.get(f"/exchange/redemptions/{rid}/receipt.pdf").status_code == 404
    csrf2 = csrf_from(c2.get("/exchange/mine").get_data(as_text=True))
    assert c2.post(f"/exchange/redemptions/{rid}/cancel", data={"csrf_token": csrf2, "reason": "x"}).status_code == 404
    page = c2.get("/exchange/").get_data(as_text=True)
    assert 'id="balance">0<' in page and "1 more hours are needed" in page
    assert problems(app) == []


# ----------------------------------------------------------------- admin (AC6)
def test_ac6_a_team_admin_manages_only_its_own_partners_items_and_exchanges(site):
    app, (ta, tb), (pa, pb), (rice, checkup) = site["app"], site["teams"], site["partners"], site["items"]
    (v,) = volunteers(app, 480, 1, account=False)
    give(app, v, 20)
    ra = redeem(app, v, rice, 1)
    rb = redeem(app, v, checkup, 1)
    c = app.test_client()
    login(c, "ta")
    items = c.get("/admin/exchange_item/").get_data(as_text=True)
    assert "大米 5 公斤" in items and "健康体检" not in items
    assert "星火社区卫生站" not in c.get("/admin/exchange_partner/").get_data(as_text=True)
    listing = c.get("/admin/exchange_redemption/").get_data(as_text=True)
    assert ra.number in listing and rb.number not in listing
    csrf = csrf_from(c.get(f"/admin/exchange_item/edit/?id={rice}").get_data(as_text=True))
    before = snapshot(app, ALL_TABLES)
    for url in (f"/admin/exchange_item/edit/?id={checkup}", f"/admin/exchange_item/details/?id={checkup}",
                f"/admin/exchange_partner/edit/?id={pb}", f"/admin/exchange_redemption/details/?id={rb.id}",
                f"/admin/exchange_redemption/receipt/?id={rb.id}"):
        assert c.get(url).status_code == 404, url
    r = c.post(f"/admin/exchange_item/edit/?id={checkup}", data={"csrf_token": csrf, "name": "x", "kind": "goods",
                                                                "price": "1", "stock": "999", "active": "y"})
    assert r.status_code == 404
    for url in ("/admin/exchange_redemption/fulfil/", "/admin/exchange_redemption/cancel/"):
        assert c.post(url, data={"csrf_token": csrf, "id": rb.id, "reason": "x"}).status_code == 404
    c.post("/admin/exchange_redemption/action/", data={"csrf_token": csrf, "action": "fulfil", "rowid": [rb.id]})
    # a partner cannot be moved to, nor an item created under, another team
    c.post("/admin/exchange_partner/new/", data={"csrf_token": csrf, "name": "越界伙伴", "team": tb, "active": "y"})
    c.post("/admin/exchange_item/new/", data={"csrf_token": csrf, "partner": pb, "name": "越界商品",
                                              "kind": "goods", "price": "1", "stock": "1", "active": "y"})
    assert snapshot(app, ALL_TABLES) == before
    # its own: fulfil one, cancel another with a reason, change price and stock (audited)
    ra2 = redeem(app, v, rice, 1)
    c.post("/admin/exchange_redemption/action/", data={"csrf_token": csrf, "action": "fulfil", "rowid": [ra.id]})
    c.post("/admin/exchange_redemption/cancel/", data={"csrf_token": csrf, "id": ra2.id, "reason": "伙伴停业"})
    from plugins.exchange.models import Item, Redemption
    with app.app_context():
        assert [Redemption.get_by_id(x.id).status for x in (ra, ra2, rb)] == ["fulfilled", "cancelled", "placed"]
    assert stock(app, rice) == 4
    form = c.get(f"/admin/exchange_item/edit/?id={rice}").get_data(as_text=True)
    assert 'name="stock_seen"' in form and 'value="4"' in form
    redeem(app, v, rice, 1)                  # someone exchanges while the form is open: 3 left
    r = c.post(f"/admin/exchange_item/edit/?id={rice}", data={
        "csrf_token": csrf, "name": "大米 5 公斤", "kind": "goods", "price": "4", "stock": "14", "stock_seen": "4",
        "active": "y", "description": ""})
    assert r.status_code == 302
    from core.models import AuditLog
    import json
    with app.app_context():
        it = Item.get_by_id(rice)
        assert (it.price, it.stock) == (4, 13)           # +10 on top of what is left, not overwritten
        log = AuditLog.select().where(AuditLog.action == "exchange.item.updated").order_by(AuditLog.id.desc()).get()
        assert json.loads(log.details)["changes"] == {"price": [3, 4], "stock": [3, 13]} and log.username == "ta"
        assert AuditLog.select().where((AuditLog.action == "exchange.cancelled") & (AuditLog.username == "ta")).exists()
    pdf = c.get(f"/admin/exchange_redemption/receipt/?id={ra.id}")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    assert c.get("/admin/exchange_redemption/export/xlsx/").data[:2] == b"PK"
    assert problems(app) == []


def test_platform_admin_sees_every_team_and_manages_platform_partners(site, make_user):
    app, (ta, tb), _p, (rice, checkup) = site["app"], site["teams"], site["partners"], site["items"]
    make_user("boss", "platform_admin")
    c = app.test_client()
    login(c, "boss")
    page = c.get("/admin/exchange_item/").get_data(as_text=True)
    assert "大米 5 公斤" in page and "健康体检" in page
    csrf = csrf_from(c.get("/admin/exchange_partner/new/").get_data(as_text=True))
    r = c.post("/admin/exchange_partner/new/", data={"csrf_token": csrf, "name": "平台合作伙伴", "team": "0",
                                                     "contact": "热线", "active": "y"})
    assert r.status_code == 302
    from plugins.exchange.models import Item, Partner
    with app.app_context():
        p = Partner.get(Partner.name == "平台合作伙伴")
        assert p.team_id is None
    r = c.post("/admin/exchange_item/new/", data={"csrf_token": csrf, "partner": p.id, "name": "纪念徽章",
                                                  "kind": "goods", "price": "0", "stock": "-1", "active": "y"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "at least 1" in page and "at least 0" in page
    r = c.post("/admin/exchange_item/new/", data={"csrf_token": csrf, "partner": p.id, "name": "纪念徽章",
                                                  "kind": "goods", "price": "5", "stock": "10", "active": "y"})
    assert r.status_code == 302
    with app.app_context():
        assert Item.get(Item.name == "纪念徽章").partner_id == p.id
    # a team admin does not see the platform's partner
    c2 = app.test_client()
    login(c2, "ta")
    assert "平台合作伙伴" not in c2.get("/admin/exchange_partner/").get_data(as_text=True)


def test_lg6_check_finds_a_redemption_the_ledger_refunded_behind_the_exchanges_back(site):
    """A platform admin reverses a redemption's transfer in the ledger admin instead of cancelling the
    exchange: the points came back but the exchange still says placed. ``timebank check`` says so."""
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 490, 1, account=False)
    give(app, v, 10)
    r = redeem(app, v, rice, 1)
    assert problems(app) == []
    from plugins.exchange import services as X
    from plugins.ledger import services as L
    from plugins.ledger.models import Transfer
    with app.app_context():
        L.reverse(Transfer.get_by_id(r.transfer_id), reason="在账本里直接冲正")
        assert X.verify() == [f"{r.number}: placed but transfer {r.transfer_id} was reversed by "
                              f"{Transfer.get(Transfer.reverses == r.transfer_id).id}"]
        checks = [c for group in app.extensions["timebank"].pm.hook.site_checks() for c in group]
        assert ("exchange.ledger", False) in [(n, ok) for n, ok, _m in checks]
        assert L.verify() == []                       # the ledger itself is consistent
        # cancelling the exchange now takes that reversal as its refund: no second refund, stock back
        c = X.cancel(r, reason="与账本冲正对齐")
        assert c.refund_transfer_id == Transfer.get(Transfer.reverses == r.transfer_id).id
    assert (balance(app, v), stock(app, rice)) == (10, 5)
    assert problems(app) == []


def test_lg7_a_cancelled_exchange_keeps_its_receipt_number_voided_in_the_register(site):
    """issue 13 shapes point 1 (LG7): the receipt number of a cancelled exchange stays used, with the
    void status and the reason in core.numbering's register; the next receipt takes the next number."""
    app, (rice, _c) = site["app"], site["items"]
    (v,) = volunteers(app, 470, 1, account=False)
    give(app, v, 10)
    r = redeem(app, v, rice, 1)
    from core import numbering
    from plugins.exchange import services as X
    with app.app_context():
        assert numbering.status(X.RECEIPT_KIND, r.number) == "issued"
        X.cancel(r, reason="商品临时缺货")
        row = numbering.IssuedNumber.get(numbering.IssuedNumber.number == r.number)
        assert (row.status, row.reason) == ("voided", "商品临时缺货")
        r2 = X.redeem(v, rice, 1)
        assert int(r2.number[-6:]) == int(r.number[-6:]) + 1
        assert numbering.check()[0]
