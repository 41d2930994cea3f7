"""AC6 team isolation over the exchange plugin, generated as a matrix in the way of
tests/test_activities_isolation.py (whose request builders it reuses through test_teams_isolation):
every admin view of exchange × team A's admin and a volunteer × every way a row can be reached, with
team B's ids; plus the custom pages (fulfil, cancel, receipt). Every answer is 403/404 or a page
without B's data, and the database is unchanged. Control: the same pages work for A's own rows and
for the platform admin. IV7: a script in a partner or item name shows escaped.

B's world carries the marker ``B9PRIV`` (partner name, contact, item names, the volunteer who
exchanged) and its team name ``BRAVO9Z``; B's volunteer number is a marker too.
"""
from __future__ import annotations

import pytest

from conftest import database_url
from core import create_app
from fixtures.activities_plugins.actsupport import site_config
from fixtures.security_plugins.secsupport import XSS, body_text, logged_in, snapshot
from test_teams_isolation import (_actions, _ajax_lookup, _ajax_update, _delete, _details, _edit_get, _edit_post,
                                  _export_csv, _export_xlsx, _filters, _list, _picker_forms, _search, _sort, Eager)
from test_teams_workflow import new_team, new_volunteer

MARK_A, PUB_B, PRIV_B = "ALPHA7Q", "BRAVO9Z", "B9PRIV"
VIEWS = ["exchange_partner", "exchange_item", "exchange_redemption"]
ROLES = ["team_admin_a", "volunteer"]


@pytest.fixture(scope="module", autouse=True)
def quick_password_hashing():
    from argon2 import PasswordHasher
    from core import security
    mp = pytest.MonkeyPatch()
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    mp.undo()


def seed(app) -> dict:
    """Team A and team B, each with a partner, two items and two exchanges (one placed, one
    fulfilled) by a volunteer of its own; a platform partner (no team) with one item."""
    from core.models import Setting, User
    from core.security import grant_role, hash_password
    from conftest import PASSWORD
    from plugins.exchange import services as X
    from plugins.ledger import services as L
    ids = {"A": new_team(app, f"{MARK_A}总队", admin="ta"), "B": new_team(app, f"{PUB_B}总队", admin="tb")}
    numbers = {}
    for key, n, name in (("va", 6001, f"{MARK_A}甲"), ("vb", 6002, f"{PRIV_B}甲")):
        ids[key], numbers[key] = new_volunteer(app, n, name=name)
    ids["numbers"] = numbers
    with app.app_context():
        Setting.create(key="ledger.redemption_threshold_hours", value="1")
        for team, mark, v in (("A", MARK_A, "va"), ("B", PRIV_B, "vb")):
            p = X.save_partner({"name": f"{mark}伙伴", "contact": f"{mark}联系人", "team_id": ids[team]})
            i1 = X.save_item({"partner_id": p.id, "name": f"{mark}商品", "price": 2, "stock": 10,
                              "description": f"{mark}简介"})
            i2 = X.save_item({"partner_id": p.id, "name": f"{mark}服务", "kind": "service", "price": 3, "stock": 5})
            L.credit_hours(record_id=900 + ids[v], volunteer_id=ids[v], kind="service", minutes=600, version=1)
            r1 = X.redeem(ids[v], i1, 1)
            r2 = X.fulfil(X.redeem(ids[v], i2, 1))
            ids[f"partner_{team}"], ids[f"items_{team}"], ids[f"red_{team}"] = p.id, [i1.id, i2.id], [r1.id, r2.id]
        plat = X.save_partner({"name": f"{PRIV_B}平台伙伴", "team_id": None})
        ids["partner_P"] = plat.id
        ids["items_P"] = [X.save_item({"partner_id": plat.id, "name": f"{PRIV_B}平台商品", "price": 1,
                                       "stock": 3}).id]
        User.create(username="admin", password_hash=hash_password(PASSWORD))
        grant_role(User.get(User.username == "admin"), "platform_admin")
    return ids


def rows(ids) -> dict:
    return {"exchange_partner": ([ids["partner_A"]], [ids["partner_B"], ids["partner_P"]]),
            "exchange_item": (ids["items_A"], ids["items_B"] + ids["items_P"]),
            "exchange_redemption": (ids["red_A"], ids["red_B"])}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exchange_isolation")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    cfg = site_config(listener=False)
    cfg["PLUGINS"] = cfg["PLUGINS"] + ["ledger", "exchange"]
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp), "TESTING": True,
                      "TASKS_IMMEDIATE": True, **cfg})
    ids = seed(app)
    with app.app_context():
        from plugins.volunteers.models import Volunteer
        vol = Volunteer.get_by_id(ids["va"]).user.username
    clients = {"team_admin_a": logged_in(app, "ta"), "volunteer": logged_in(app, vol),
               "platform_admin": logged_in(app, "admin"), "team_admin_b": logged_in(app, "tb")}
    yield {"app": app, "ids": ids, "clients": clients, "rows": rows(ids),
           "markers": [PRIV_B, PUB_B, ids["numbers"]["vb"]]}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def leaks(w, resp) -> list[str]:
    text = body_text(resp)
    return [m for m in w["markers"] if m in text]


def _picker_posts(c, e, own, other, w):
    """Relation pickers pointed at B's world: a partner for team B, an item under B's partner, an
    own partner moved to team B."""
    i = w["ids"]
    if e == "exchange_partner":
        data = {"name": "HACKED", "team": i["B"], "active": "y", "csrf_token": c.csrf}
        return [c.post(f"/admin/{e}/new/", data=data)] + [c.post(f"/admin/{e}/edit/?id={x}", data=data)
                                                          for x in own[:1]]
    if e == "exchange_item":
        data = {"partner": i["partner_B"], "name": "HACKED", "kind": "goods", "price": "1", "stock": "1",
                "active": "y", "csrf_token": c.csrf}
        return [c.post(f"/admin/{e}/new/", data=data), c.post(f"/admin/{e}/new/", data={**data, "partner": i["partner_P"]})]
    return [c.get(f"/admin/{e}/new/")]


PAGE, GONE = {200}, {403, 404}
ATTACKS = {
    "list": (_list, PAGE), "search": (_search, PAGE), "filters": (_filters, PAGE), "sort": (_sort, PAGE),
    "details": (_details, GONE), "edit_get": (_edit_get, GONE), "edit_post": (_edit_post, GONE),
    "delete": (_delete, GONE | {405}), "bulk_actions": (_actions, GONE | {302}),
    "inline_ajax_update": (_ajax_update, GONE | {400}), "export_csv": (_export_csv, PAGE | GONE),
    "export_xlsx": (_export_xlsx, PAGE | GONE), "ajax_lookup": (_ajax_lookup, PAGE | GONE | {400}),
    "relation_picker_choices": (_picker_forms, PAGE | GONE),
    "relation_picker_posts": (_picker_posts, PAGE | GONE | {302}),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", VIEWS)
def test_ac6_team_b_exchange_rows_are_unreachable(world, view, role, attack):
    """AC6: <view> × <role> × <attack> with team B's ids: 403/404 or no B data; the DB is unchanged."""
    app, client = world["app"], world["clients"][role]
    own, other = world["rows"][view]
    fn, allowed = ATTACKS[attack]
    if role != "team_admin_a":
        allowed = GONE
    before = snapshot(app)
    responses = fn(Eager(client), view, own, other, world)
    after = snapshot(app)
    for r in responses:
        assert r.status_code in allowed, (r.request.full_path, r.status_code, body_text(r)[:300])
        assert leaks(world, r) == [], (r.request.full_path, leaks(world, r))
        if r.status_code == 302:
            follow = client.get(r.headers["Location"])
            assert follow.status_code < 500 and leaks(world, follow) == [], r.headers["Location"]
    assert after == before, "the attack changed the database"


def test_every_view_of_exchange_is_in_the_matrix(world):
    views = [v for v in world["app"].extensions["timebank"].admin._views if v.endpoint.startswith("exchange_")]
    assert {v.endpoint for v in views} == set(VIEWS)


def _custom_requests(c, ids):
    base = "/admin/exchange_redemption"
    out = []
    for rid in ids["red_B"]:
        out += [c.get(f"{base}/receipt/?id={rid}"),
                c.post(f"{base}/fulfil/", data={"id": rid, "csrf_token": c.csrf}),
                c.post(f"{base}/cancel/", data={"id": rid, "reason": "HACKED", "csrf_token": c.csrf}),
                c.get(f"/exchange/redemptions/{rid}/receipt.pdf"),
                c.post(f"/exchange/redemptions/{rid}/cancel", data={"reason": "HACKED", "csrf_token": c.csrf})]
    return out


@pytest.mark.parametrize("role", ROLES)
def test_ac6_custom_pages_refuse_team_b(world, role):
    """fulfil, cancel and the receipts (admin and volunteer pages) with B's ids: 403/404, no change."""
    app, c, ids = world["app"], world["clients"][role], world["ids"]
    before = snapshot(app)
    for r in _custom_requests(Eager(c), ids):
        assert r.status_code in GONE, (r.request.full_path, r.status_code)
        assert leaks(world, r) == [], (r.request.full_path, leaks(world, r))
    assert snapshot(app) == before


def test_ac6_the_same_pages_work_for_own_rows_and_the_platform(world):
    """Control: team A's admin reaches A's rows; the platform admin reaches B's; B's admin not A's."""
    c, ids = world["clients"]["team_admin_a"], world["ids"]
    for url in (f"/admin/exchange_partner/edit/?id={ids['partner_A']}",
                f"/admin/exchange_item/edit/?id={ids['items_A'][0]}",
                f"/admin/exchange_redemption/details/?id={ids['red_A'][0]}"):
        assert c.get(url).status_code == 200, url
    r = c.get(f"/admin/exchange_redemption/receipt/?id={ids['red_A'][0]}")
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    assert MARK_A in body_text(c.get("/admin/exchange_item/"))
    p = world["clients"]["platform_admin"]
    for url in (f"/admin/exchange_partner/edit/?id={ids['partner_P']}",
                f"/admin/exchange_item/edit/?id={ids['items_B'][0]}",
                f"/admin/exchange_redemption/details/?id={ids['red_B'][0]}"):
        assert p.get(url).status_code == 200, url
    assert PRIV_B in body_text(p.get("/admin/exchange_redemption/"))
    tb = world["clients"]["team_admin_b"]
    text = body_text(tb.get("/admin/exchange_item/")) + body_text(tb.get("/admin/exchange_redemption/"))
    assert PRIV_B in text and MARK_A not in text


def test_iv7_script_in_partner_and_item_names_shows_escaped(world):
    app, ids = world["app"], world["ids"]
    from plugins.exchange import services as X
    from plugins.exchange.models import Item, Partner
    with app.app_context():
        p = X.save_partner({"name": XSS, "contact": XSS, "team_id": ids["A"]})
        X.save_item({"partner_id": p.id, "name": XSS, "description": XSS, "price": 1, "stock": 1})
    try:
        pages = [app.test_client().get("/exchange/"), world["clients"]["team_admin_a"].get("/admin/exchange_item/"),
                 world["clients"]["team_admin_a"].get("/admin/exchange_partner/")]
        for r in pages:
            html = r.get_data(as_text=True)
            assert r.status_code == 200 and XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    finally:
        from core.db import transaction
        with app.app_context(), transaction():
            Item.delete().where(Item.partner == p.id).execute()
            Partner.delete().where(Partner.id == p.id).execute()
