"""AC6 team isolation over the activities plugin, generated as a matrix in the way of
tests/test_teams_isolation.py (whose request builders it reuses): every admin view of activities ×
team A's admin and a volunteer × every way a row can be reached, with team B's ids. Plus the custom
pages (review, outcome, hours, photo, decline, the QR code screens). Every answer is 403/404 or a
page without B's data, and the database is unchanged. IV7: a script in a title or description shows
escaped on the public list, the detail page and the admin.

B's world carries the marker ``B9PRIV`` (activity title, description, address, contact, volunteer
names) and its team name ``BRAVO9Z``; B's volunteer numbers are markers too.
"""
from __future__ import annotations

import io

import pytest

from conftest import database_url
from core import create_app
from fixtures.activities_plugins.actsupport import (PLUGINS, activity_data, at, new_activity, shift_ids, site_config,
                                                    slot, soon)
from fixtures.security_plugins.secsupport import XSS, body_text, logged_in, snapshot
from test_teams_isolation import (_actions, _ajax_lookup, _ajax_update, _delete, _details, _edit_get, _edit_post,
                                  _export_csv, _export_xlsx, _filters, _list, _picker_forms, _search, _sort, Eager,
                                  view_of)
from test_teams_workflow import new_team, new_volunteer

MARK_A, PUB_B, PRIV_B = "ALPHA7Q", "BRAVO9Z", "B9PRIV"
VIEWS = ["activities_activity", "activities_shift", "activities_signup", "activities_service_record",
         "activities_category"]
ROLES = ["team_admin_a", "volunteer"]
TEAM_ADMIN_OPENS = set(VIEWS) - {"activities_category"}


@pytest.fixture(scope="module", autouse=True)
def quick_password_hashing():
    from argon2 import PasswordHasher
    from core import security
    mp = pytest.MonkeyPatch()
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    mp.undo()


def seed(app) -> dict:
    """Team A and team B, each with a published activity that has sign-ups, a finished one with a
    confirmed service record and a photo, and one waiting for review."""
    from core.models import User
    from core.security import grant_role, hash_password
    from conftest import PASSWORD
    from plugins.activities import photos, services as s
    from plugins.activities.models import Activity, Shift, SignUp
    from plugins.volunteers.models import Volunteer
    from PIL import Image
    ids = {"A": new_team(app, f"{MARK_A}总队", admin="ta"), "B": new_team(app, f"{PUB_B}总队", admin="tb")}
    numbers = {}
    for key, n, name in (("va", 5001, f"{MARK_A}甲"), ("vb", 5002, f"{PRIV_B}甲"), ("vb2", 5003, f"{PRIV_B}乙")):
        ids[key], numbers[key] = new_volunteer(app, n, name=name)
    ids["numbers"] = numbers
    for team, mark in (("A", MARK_A), ("B", PRIV_B)):
        fields = {"title": f"{mark}活动", "description": f"{mark}简介", "address": f"{mark}路1号",
                  "contact_name": f"{mark}联系人"}
        ids[f"act_{team}"] = new_activity(app, ids[team], shifts=[slot(soon(5), capacity=5)], **fields)
        ids[f"done_{team}"] = new_activity(app, ids[team], shifts=[slot(soon(6), capacity=5)],
                                           **{**fields, "title": f"{mark}已结束"})
        ids[f"sub_{team}"] = new_activity(app, ids[team], status="submitted", **{**fields, "title": f"{mark}待审"})
    with app.app_context():
        def su(vkey, akey):
            return s.sign_up(Volunteer.get_by_id(ids[vkey]), Shift.get(Shift.activity == ids[akey])).id
        ids["su_A"], ids["su_A_done"] = su("va", "act_A"), su("va", "done_A")
        ids["su_B"], ids["su_B2"], ids["su_B_done"] = su("vb", "act_B"), su("vb2", "act_B"), su("vb", "done_B")
        for team in ("A", "B"):
            a = Activity.get_by_id(ids[f"done_{team}"])
            s.finish_due(a.ends_at)
            a = Activity.get_by_id(a.id)
            ids[f"rec_{team}"] = s.confirm_hours(a, {ids[f"su_{team}_done"]: 60})[0].id
            buf = io.BytesIO()
            Image.new("RGB", (8, 8)).save(buf, format="PNG")
            buf.seek(0)
            ids[f"photo_{team}"] = photos.store(a, buf).id
            buf.seek(0)   # R-PRIV-3: a photo marked as showing service recipients, with its blurred copy
            ids[f"rphoto_{team}"] = photos.store_all(a, [photos.prepare(buf, shows_recipients=True)])[0].id
        ids["shift_A"], ids["shift_B"] = (Shift.get(Shift.activity == ids[f"act_{t}"]).id for t in "AB")
        User.create(username="admin", password_hash=hash_password(PASSWORD))
        grant_role(User.get(User.username == "admin"), "platform_admin")
        assert SignUp.select().count() == 5
    return ids


def rows(ids) -> dict:
    acts = lambda t: [ids[f"act_{t}"], ids[f"done_{t}"], ids[f"sub_{t}"]]  # noqa: E731
    return {"activities_activity": (acts("A"), acts("B")),
            "activities_shift": ([s for a in acts("A") for s in _shifts[a]], [s for a in acts("B") for s in _shifts[a]]),
            "activities_signup": ([ids["su_A"], ids["su_A_done"]], [ids["su_B"], ids["su_B2"], ids["su_B_done"]]),
            "activities_service_record": ([ids["rec_A"]], [ids["rec_B"]]),
            "activities_category": ([], [1, 2])}


_shifts: dict = {}


def markers(ids) -> list[str]:
    return [PRIV_B, PUB_B, ids["numbers"]["vb"], ids["numbers"]["vb2"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("activities_isolation")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    cfg = site_config(listener=False)
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp), "TESTING": True,
                      "TASKS_IMMEDIATE": True, **cfg})
    ids = seed(app)
    for key in ("act_A", "done_A", "sub_A", "act_B", "done_B", "sub_B"):
        _shifts[ids[key]] = shift_ids(app, ids[key])
    with app.app_context():
        from plugins.volunteers.models import Volunteer
        vol = Volunteer.get_by_id(ids["va"]).user.username
    clients = {"team_admin_a": logged_in(app, "ta"), "volunteer": logged_in(app, vol),
               "platform_admin": logged_in(app, "admin"), "team_admin_b": logged_in(app, "tb")}
    yield {"app": app, "ids": ids, "clients": clients, "markers": markers(ids), "rows": rows(ids)}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def leaks(w, resp) -> list[str]:
    text = body_text(resp)
    return [m for m in w["markers"] if m in text]


def _picker_posts(c, e, own, other, w):
    """Relation pickers pointed at B's world: a slot for B's activity, a sign-up paired with B's."""
    i = w["ids"]
    if e == "activities_shift":
        data = {"activity": i["act_B"], "volunteer_type": "HACKED", "starts_at": "2030-01-01 09:00:00",
                "ends_at": "2030-01-01 10:00:00", "capacity": "5", "csrf_token": c.csrf}
        out = [c.post(f"/admin/{e}/new/", data=data)]
        out += [c.post(f"/admin/{e}/edit/?id={x}", data=data) for x in own[:1]]
        return out
    if e == "activities_signup":
        return [c.post(f"/admin/{e}/edit/?id={x}", data={"mentor": i["su_B"], "post": "HACKED", "csrf_token": c.csrf})
                for x in own[:1]]
    if e == "activities_activity":
        data = {**activity_data(w["app"]), "team": i["B"], "kind": "service", "title": "HACKED",
                "slot_start": "2030-01-01T09:00", "slot_end": "2030-01-01T10:00", "slot_capacity": "3",
                "csrf_token": c.csrf}
        return [c.post(f"/admin/{e}/new/", data=data)]
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
def test_ac6_team_b_activities_are_unreachable(world, view, role, attack):
    """AC6: <view> × <role> × <attack> with team B's ids: 403/404 or no B data; the DB is unchanged."""
    app, client = world["app"], world["clients"][role]
    own, other = world["rows"][view]
    fn, allowed = ATTACKS[attack]
    if role != "team_admin_a" or view not in TEAM_ADMIN_OPENS:
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


def test_every_view_of_activities_is_in_the_matrix(world):
    views = [v for v in world["app"].extensions["timebank"].admin._views if v.endpoint.startswith("activities_")]
    assert {v.endpoint for v in views} == set(VIEWS)


def _custom_requests(c, ids):
    """Every custom page of activities, aimed at B's records."""
    b, done, sub = ids["act_B"], ids["done_B"], ids["sub_B"]
    su = f"{ids['su_B']},{ids['su_B2']}"
    base = "/admin/activities_activity"
    return [
        c.get(f"{base}/review/?id={sub}"),
        c.post(f"{base}/review/", data={"id": sub, "approve": "1", "csrf_token": c.csrf}),
        c.post(f"{base}/review/", data={"id": sub, "approve": "0", "reason": "HACKED", "csrf_token": c.csrf}),
        c.get(f"{base}/outcome/?id={done}"),
        c.post(f"{base}/outcome/", data={"id": done, "served_count": "999", "summary": "HACKED",
                                         "csrf_token": c.csrf}),
        c.get(f"{base}/hours/?id={done}"),
        c.post(f"{base}/hours/", data={"id": done, f"m{ids['su_B_done']}": "0.5", f"r{ids['su_B_done']}": "HACKED",
                                       "csrf_token": c.csrf}),
        c.get(f"{base}/photo/{ids['photo_B']}"),
        c.get(f"{base}/photo/{ids['rphoto_B']}"), c.get(f"{base}/photo/{ids['rphoto_B']}/blurred"),
        c.get(f"/admin/activities_signup/decline/?ids={su}"),
        c.post("/admin/activities_signup/decline/", data={"ids": su, "reason": "HACKED", "csrf_token": c.csrf}),
        c.get(f"/activities/{b}/code/in"), c.get(f"/activities/{b}/code/out"),
        c.get(f"/activities/{done}/code/in"),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_ac6_custom_pages_refuse_team_b(world, role):
    """review, outcome, hours, photo, decline and the code screens with B's ids: 403/404 or a page
    without B's data; nothing changes (the decline page with B's ids declines nobody)."""
    app, c, ids = world["app"], world["clients"][role], world["ids"]
    before = snapshot(app)
    for r in _custom_requests(Eager(c), ids):
        path = r.request.full_path
        if role == "team_admin_a" and "/decline/" in path:
            assert r.status_code in GONE | {200, 302}, path
        else:
            assert r.status_code in GONE, (path, r.status_code)
        assert leaks(world, r) == [], (path, leaks(world, r))
    assert snapshot(app) == before


def test_ac6_the_same_pages_work_for_own_records_and_the_platform(world):
    """Control: the pages answer team A's admin for A's records, and the platform admin for B's."""
    c, ids = world["clients"]["team_admin_a"], world["ids"]
    base = "/admin/activities_activity"
    for url in (f"{base}/outcome/?id={ids['done_A']}", f"{base}/hours/?id={ids['done_A']}",
                f"{base}/photo/{ids['photo_A']}", f"{base}/photo/{ids['rphoto_A']}/blurred",
                f"{base}/photo/{ids['rphoto_A']}", f"/activities/{ids['act_A']}/code/in",
                f"/admin/activities_signup/decline/?ids={ids['su_A']}",
                f"{base}/details/?id={ids['act_A']}", f"/admin/activities_signup/details/?id={ids['su_A']}"):
        assert c.get(url).status_code == 200, url
    assert MARK_A in body_text(c.get("/admin/activities_signup/"))
    p = world["clients"]["platform_admin"]
    for url in (f"{base}/review/?id={ids['sub_B']}", f"{base}/hours/?id={ids['done_B']}",
                f"{base}/photo/{ids['photo_B']}", f"{base}/photo/{ids['rphoto_B']}/blurred",
                f"/admin/activities_service_record/details/?id={ids['rec_B']}"):
        assert p.get(url).status_code == 200, url
    assert PRIV_B in body_text(p.get("/admin/activities_activity/")) + body_text(p.get("/admin/activities_signup/"))
    tb = world["clients"]["team_admin_b"]
    assert MARK_A not in body_text(tb.get("/admin/activities_activity/")) + body_text(tb.get("/admin/activities_signup/"))


# ----------------------------------------------------------------- IV7
def test_iv7_script_in_title_and_description_shows_escaped(make_app, monkeypatch):
    from fixtures.activities_plugins.actsupport import make_site, quick_hashing
    quick_hashing(monkeypatch)
    app = make_site(make_app, listener=False)
    tid = new_team(app, "阳光志愿服务队", admin="ta")
    aid = new_activity(app, tid, title=f"探访{XSS}", description=f"说明{XSS}", address=f"地址{XSS}",
                       shifts=[slot(soon(4))])
    esc = "&lt;img src=x onerror=alert(1)&gt;"
    ta = logged_in(app, "ta")
    pages = [app.test_client().get("/activities/"), app.test_client().get(f"/activities/{aid}"),
             app.test_client().get("/activities/?q=探访"),
             ta.get("/admin/activities_activity/"), ta.get(f"/admin/activities_activity/details/?id={aid}"),
             ta.get(f"/admin/activities_activity/edit/?id={aid}"), ta.get("/admin/activities_shift/"),
             ta.get(f"/activities/{aid}/code/in")]
    for r in pages:
        html = r.get_data(True)
        assert r.status_code == 200, r.request.full_path
        assert XSS not in html, r.request.full_path
        assert esc in html or "&lt;img" in html, r.request.full_path
