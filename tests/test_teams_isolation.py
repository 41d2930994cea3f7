"""AC6 team isolation over the REAL plugins: every admin view of ``volunteers`` and ``teams`` × every
role below the platform admin × every way a row can be reached (list, search, filters, sorting,
details, edit GET/POST, delete, every bulk action including approve / reject / submit / remove and
the decision pages, inline ajax update, CSV/XLSX export, ajax lookups, relation picker choices and
posts, the reveal endpoints, direct URLs). Generated as a matrix, in the way of
tests/test_security_isolation.py (which proves the kernel mechanism on a fixture plugin).

The world: team A (admin ``ta``) with its sub-team A1; team B with its sub-team B1, a team applying
to join B and a team waiting for the platform review. Every private value of B's world carries the
marker ``B9PRIV`` (leader, address, introduction, volunteers' names, reasons, positions, requests);
B's phone and ID numbers and volunteer numbers are markers too. B's approved team names
(``BRAVO9Z…``) are public (the /teams/ page lists them), so they may show in exactly one place: the
"parent team" picker of a team's application to join another team. Attacks use B's ids and must get
403/404 or a page without B's data, and change nothing in the database.

Positive controls prove the same requests work where they should (so a refusal in the matrix is the
scoping at work): team A's admin DOES reach A1's members (the tree), A1's admin does not reach A
(the scope goes down, never up), and the platform admin sees everything.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import PASSWORD, database_url
from core import create_app
from fixtures.security_plugins.secsupport import body_text, snapshot
from test_teams_workflow import add_member, cn_id, new_team, new_volunteer, phone

PLUGINS = ["volunteers", "teams"]
MARK_A = "ALPHA7Q"
PUB_B = "BRAVO9Z"     # B's approved team names: public
PRIV_B = "B9PRIV"     # every private value of B's world
B_LEADER_PHONE = "13900009999"
PRIVATE_B = {"leader_name": f"{PRIV_B}队长", "address": f"{PRIV_B}路1号", "intro": f"{PRIV_B}简介",
             "organisation": f"{PRIV_B}社区", "leader_phone": B_LEADER_PHONE, "service_direction": "敬老"}

# the model views of the two plugins (test_every_view_of_the_plugins_is_in_the_matrix keeps this honest)
VIEWS = ["volunteers_volunteer", "volunteers_data_request", "volunteers_application", "teams_team",
         "teams_membership", "teams_member", "teams_subteam", "teams_subteam_request", "teams_position"]
PAGE_VIEWS = ["teams_parent", "volunteers_import"]  # the plugins' other admin pages
ROLES = ["team_admin_a", "volunteer"]
# views a team admin opens at all (the rest answer 403 to the list itself)
TEAM_ADMIN_OPENS = set(VIEWS) - {"volunteers_data_request"}


@pytest.fixture(scope="module", autouse=True)
def quick_password_hashing():
    from argon2 import PasswordHasher
    from core import security
    mp = pytest.MonkeyPatch()
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    mp.undo()


def seed(app) -> dict:
    """Both worlds, built through the real services. Returns ids by name."""
    from core.models import User
    from core.security import grant_role, hash_password
    from plugins.teams import services as ts
    from plugins.teams.models import Membership, SubTeamRequest, Team
    from plugins.volunteers import services as vs
    from plugins.volunteers.models import Volunteer
    ids = {}
    ids["A"] = new_team(app, f"{MARK_A}总队", admin="ta", leader_name=f"{MARK_A}队长",
                        address=f"{MARK_A}路", leader_phone="13800001111")
    ids["A1"] = new_team(app, f"{MARK_A}一队", admin="ta1", parent=ids["A"], leader_name=f"{MARK_A}一队长")
    ids["B"] = new_team(app, f"{PUB_B}总队", admin="tb", **PRIVATE_B)
    ids["B1"] = new_team(app, f"{PUB_B}一队", parent=ids["B"], **PRIVATE_B)
    ids["BX"] = new_team(app, f"{PUB_B}申请队", **PRIVATE_B)
    ids["BP"] = new_team(app, f"{PRIV_B}待审队", approved=False, **PRIVATE_B)
    with app.app_context():
        ts.submit_for_review(Team.get_by_id(ids["BP"]))
        ids["req_BX"] = ts.apply_subteam(Team.get_by_id(ids["BX"]), Team.get_by_id(ids["B"])).id
        ids["req_A1"] = SubTeamRequest.get(SubTeamRequest.child == ids["A1"]).id
        ids["req_B1"] = SubTeamRequest.get(SubTeamRequest.child == ids["B1"]).id
    people = {"va": (1001, f"{MARK_A}甲", "A", "approved"), "va1": (1002, f"{MARK_A}乙", "A1", "approved"),
              "vap": (1003, f"{MARK_A}丙", "A", "pending"),
              "vb": (2001, f"{PRIV_B}甲", "B", "approved"), "vb1": (2002, f"{PRIV_B}乙", "B1", "approved"),
              "vbp": (2003, f"{PRIV_B}丙", "B", "pending"), "vbr": (2004, f"{PRIV_B}丁", "B", "rejected")}
    numbers = {}
    for key, (n, name, team_key, status) in people.items():
        ids[key], numbers[key] = new_volunteer(app, n, name=name, address=f"{name}住址")
        ids["m_" + key] = add_member(app, ids[key], ids[team_key], status="pending")
    with app.app_context():
        for key, (_n, _name, _t, status) in people.items():
            m = Membership.get_by_id(ids["m_" + key])
            if status != "pending":
                ts.decide_memberships([m], approve=status == "approved",
                                      reason="" if status == "approved" else f"{PRIV_B}理由")
        ids["pos_A"] = ts.set_position(Team.get_by_id(ids["A"]), "admin", title=f"{MARK_A}岗位",
                                       holder=Volunteer.get_by_id(ids["va"])).id
        ids["pos_B"] = ts.set_position(Team.get_by_id(ids["B"]), "publicity", title=f"{PRIV_B}岗位",
                                       duties=f"{PRIV_B}职责", holder=Volunteer.get_by_id(ids["vb"])).id
        ids["dr_A"] = vs.request_action(Volunteer.get_by_id(ids["va"]), "correction", f"{MARK_A}请求").id
        ids["dr_B"] = vs.request_action(Volunteer.get_by_id(ids["vb"]), "correction", f"{PRIV_B}请求").id
        User.create(username="admin", password_hash=hash_password(PASSWORD))
        grant_role(User.get(User.username == "admin"), "platform_admin")
    # registration applications (R-REG-7, issue 11 point 18) that chose a team of each world
    from core.models import Setting
    with app.test_request_context():
        Setting.create(key="volunteers.review_registrations", value="true")
        for key, n, name, team_key in (("app_A", 1004, f"{MARK_A}丁", "A"), ("app_B", 2005, f"{PRIV_B}戊", "B")):
            v = vs.register({"name": name, "id_type": "cn_id", "id_number": cn_id(n), "phone": phone(n),
                             "agreement": True, "password": PASSWORD, "team": str(ids[team_key])},
                            application=True)
            ids["v_" + key], numbers[key] = v.id, v.number
            ids[key] = v.applications.get().id
        Setting.delete().where(Setting.key == "volunteers.review_registrations").execute()
    ids["numbers"] = numbers
    return ids


def b_markers(ids) -> list[str]:
    """Strings that must never reach team A's admin or a volunteer: B's private values, its phone and
    ID numbers (full), its volunteers' numbers."""
    out = [PRIV_B, B_LEADER_PHONE]
    for key, n in (("vb", 2001), ("vb1", 2002), ("vbp", 2003), ("vbr", 2004), ("app_B", 2005)):
        out += [cn_id(n), phone(n), ids["numbers"][key]]
    return out


def own_and_other_rows(ids) -> dict:
    """model table -> (A's world ids, B's world ids)."""
    return {"teams_team": ([ids["A"], ids["A1"]], [ids["B"], ids["B1"], ids["BX"], ids["BP"]]),
            "teams_membership": ([ids[f"m_{k}"] for k in ("va", "va1", "vap")],
                                 [ids[f"m_{k}"] for k in ("vb", "vb1", "vbp", "vbr")]),
            "teams_subteam_request": ([ids["req_A1"]], [ids["req_B1"], ids["req_BX"]]),
            "teams_position": ([ids["pos_A"]], [ids["pos_B"]]),
            "volunteers_volunteer": ([ids[k] for k in ("va", "va1", "vap", "v_app_A")],
                                     [ids[k] for k in ("vb", "vb1", "vbp", "vbr", "v_app_B")]),
            "volunteers_data_request": ([ids["dr_A"]], [ids["dr_B"]]),
            "volunteers_application": ([ids["app_A"]], [ids["app_B"]])}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One site for the whole matrix (the attacks change nothing, so they can share it)."""
    from fixtures.security_plugins.secsupport import logged_in
    tmp = tmp_path_factory.mktemp("teams_isolation")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS,
                      "DEFAULT_LOCALE": "en"})
    ids = seed(app)
    with app.app_context():
        from plugins.volunteers.models import Volunteer
        vol_user = Volunteer.get_by_id(ids["va"]).user.username  # a volunteer (member of team A)
    clients = {"team_admin_a": logged_in(app, "ta"), "volunteer": logged_in(app, vol_user),
               "platform_admin": logged_in(app, "admin"), "team_admin_a1": logged_in(app, "ta1"),
               "team_admin_b": logged_in(app, "tb")}
    yield {"app": app, "ids": ids, "clients": clients, "markers": b_markers(ids),
           "rows": own_and_other_rows(ids)}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def view_of(app, endpoint):
    for v in app.extensions["timebank"].admin._views:
        if v.endpoint == endpoint:
            return v
    raise LookupError(endpoint)


def targets(w, endpoint) -> tuple[list, list]:
    """(own ids, B's ids) among the rows the view shows at all (as the platform admin sees it)."""
    app = w["app"]
    view = view_of(app, endpoint)
    own, other = w["rows"][view.model._meta.table_name]
    from flask_login import login_user
    from core.models import User
    with app.test_request_context():
        login_user(User.get(User.username == "admin"))
        shown = {r.id for r in view.get_query()}
    own, other = [i for i in own if i in shown], [i for i in other if i in shown]
    assert other, f"{endpoint}: the world has no B rows for this view, the matrix would prove nothing"
    return own, other


SUBTEAM_PARENT_SELECT = re.compile(r'<select[^>]*name="parent".*?</select>', re.S)


def leaks(w, resp, endpoint=None) -> list[str]:
    text = body_text(resp)
    found = [m for m in w["markers"] if m in text]
    if endpoint == "teams_subteam_request":  # approved teams may be chosen as a parent: public names
        text = SUBTEAM_PARENT_SELECT.sub("", text)
    if PUB_B in text:
        found.append(PUB_B)
    return found


# ----------------------------------------------------------------- the attacks
class Eager:
    """The client, reading each body at once: a streamed CSV export keeps its request context
    pushed until the body is consumed, and two open ones get in each other's way."""

    def __init__(self, client):
        self.c, self.csrf = client, client.csrf

    def get(self, *a, **kw):
        r = self.c.get(*a, **kw)
        r.get_data()
        return r

    def post(self, *a, **kw):
        r = self.c.post(*a, **kw)
        r.get_data()
        return r


# each: (client, endpoint, own ids, other ids, world) -> list of responses
def _list(c, e, own, other, w):
    return [c.get(f"/admin/{e}/")]


# search terms are substrings of the markers (the page echoes the term; the echo is no leak)
PRIV_Q, PUB_Q = PRIV_B[1:], PUB_B[1:]


def _search(c, e, own, other, w):
    return [c.get(f"/admin/{e}/?search={PRIV_Q}"), c.get(f"/admin/{e}/?search={PUB_Q}"),
            c.get(f"/admin/{e}/?search={w['ids']['numbers']['vb'][1:]}")]


def _filters(c, e, own, other, w):
    view = view_of(w["app"], e)
    out = []
    for arg in (view._filter_args or {}):
        for value in (PRIV_Q, str(w["ids"]["B"]), str(other[0]), "approved", "pending", "2020-01-01"):
            out.append(c.get(f"/admin/{e}/?flt0_{arg}={value}"))
    return out or [c.get(f"/admin/{e}/")]


def _sort(c, e, own, other, w):
    view = view_of(w["app"], e)
    n = len(view.column_list or []) or 8
    return [c.get(f"/admin/{e}/?sort={i}&desc=1") for i in range(n)]


def _details(c, e, own, other, w):
    return [c.get(f"/admin/{e}/details/?id={i}") for i in other]


def _edit_get(c, e, own, other, w):
    return [c.get(f"/admin/{e}/edit/?id={i}") for i in other]


def _edit_post(c, e, own, other, w):
    data = {"name": "HACKED", "title": "HACKED", "outcome": "HACKED", "status": "done", "intro": "HACKED",
            "leader_name": "HACKED", "address": "HACKED", "csrf_token": c.csrf}
    return [c.post(f"/admin/{e}/edit/?id={i}", data=data) for i in other]


def _delete(c, e, own, other, w):
    return [c.post(f"/admin/{e}/delete/", data={"id": i, "csrf_token": c.csrf}) for i in other]


def _actions(c, e, own, other, w):
    """Every bulk action the view has (delete, submit, approve, reject, remove …) on B's ids."""
    view = view_of(w["app"], e)
    names = sorted(set(view._actions_data) | {"delete"})
    return [c.post(f"/admin/{e}/action/", data={"action": n, "rowid": [str(i) for i in other],
                                               "csrf_token": c.csrf}) for n in names]


def _decide(c, e, own, other, w):
    ids = ",".join(map(str, other))
    out = [c.get(f"/admin/{e}/decide/?ids={ids}&approve=1"), c.get(f"/admin/{e}/decide/?ids={ids}&approve=0")]
    for approve, reason in (("1", ""), ("0", "HACKED")):
        out.append(c.post(f"/admin/{e}/decide/", data={"ids": ids, "approve": approve, "reason": reason,
                                                       "csrf_token": c.csrf}))
    return out


def _ajax_update(c, e, own, other, w):
    return [c.post(f"/admin/{e}/ajax/update/", data={"list_form_pk": i, "name": "HACKED", "status": "approved",
                                                     "csrf_token": c.csrf}) for i in other]


def _export_csv(c, e, own, other, w):
    return [c.get(f"/admin/{e}/export/csv/"), c.get(f"/admin/{e}/export/csv/?search={PRIV_Q}")]


def _export_xlsx(c, e, own, other, w):
    return [c.get(f"/admin/{e}/export/xlsx/")]


def _ajax_lookup(c, e, own, other, w):
    view = view_of(w["app"], e)
    names = list(getattr(view, "_form_ajax_refs", None) or {}) + ["team", "volunteer", "holder", "parent"]
    return [c.get(f"/admin/{e}/ajax/lookup/?name={n}&query={q}") for n in names for q in (PRIV_Q, "", PUB_Q)]


def _picker_forms(c, e, own, other, w):
    out = [c.get(f"/admin/{e}/new/")]
    out += [c.get(f"/admin/{e}/edit/?id={i}") for i in own[:1]]
    return out


def picker_posts(w, e) -> tuple[list, list]:
    """(create posts, edit posts of an own row) that point a relation at B's world."""
    i = w["ids"]
    if e == "teams_position":
        base = {"team": i["A"], "kind": "logistics", "title": f"{MARK_A}新岗位", "important": "y",
                "holder": i["va"]}
        bad = [{"team": i["B"]}, {"team": i["B1"]}, {"holder": i["vb"]}, {"holder": i["vb1"]},
               {"holder": i["vap"]}]  # a pending applicant is not a member either
        return [{**base, **b} for b in bad], [{**base, **b} for b in bad]
    if e == "teams_subteam_request":
        bad = [{"child": i["B1"], "parent": i["A"]}, {"child": i["BX"], "parent": i["A1"]},
               {"child": i["BP"], "parent": i["A"]}, {"child": i["A1"], "parent": i["BP"]}]
        return bad, []
    return [{"name": "HACKED", "team": i["B"], "volunteer": i["vb"]}], []


def _picker_create_post(c, e, own, other, w):
    creates, _edits = picker_posts(w, e)
    return [c.post(f"/admin/{e}/new/", data={**d, "csrf_token": c.csrf}) for d in creates]


def _picker_edit_post(c, e, own, other, w):
    _creates, edits = picker_posts(w, e)
    return [c.post(f"/admin/{e}/edit/?id={own[0]}", data={**d, "csrf_token": c.csrf})
            for d in edits for _ in own[:1]]


def _reveal(c, e, own, other, w):
    view = view_of(w["app"], e)
    if not hasattr(view, "reveal"):
        return [c.post(f"/admin/{e}/reveal/?id={other[0]}&field=phone", data={"csrf_token": c.csrf})]
    fields = list(view.column_sensitive or ["phone"])
    return [c.post(f"/admin/{e}/reveal/?id={i}&field={f}", headers={"X-CSRFToken": c.csrf})
            for i in other for f in fields]


PAGE = {200}
GONE = {403, 404}
ATTACKS = {
    "list": (_list, PAGE),
    "search": (_search, PAGE),
    "filters": (_filters, PAGE),
    "sort": (_sort, PAGE),
    "details": (_details, GONE),
    "edit_get": (_edit_get, GONE),
    "edit_post": (_edit_post, GONE),
    "delete": (_delete, GONE),
    "bulk_actions": (_actions, GONE | {302}),
    "decision_page": (_decide, GONE),
    "inline_ajax_update": (_ajax_update, GONE | {400}),
    "export_csv": (_export_csv, PAGE),
    "export_xlsx": (_export_xlsx, PAGE),
    "ajax_lookup": (_ajax_lookup, PAGE | GONE | {400}),
    "relation_picker_choices": (_picker_forms, PAGE | GONE),
    "relation_picker_create_post": (_picker_create_post, PAGE | GONE),
    "relation_picker_edit_post": (_picker_edit_post, PAGE | GONE | {302}),
    "reveal": (_reveal, GONE),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", VIEWS)
def test_ac6_team_b_is_unreachable(world, view, role, attack):
    """AC6: <view> × <role> × <attack> with team B's ids: 403/404 or no B data; the DB is unchanged."""
    app = world["app"]
    client = world["clients"][role]
    own, other = targets(world, view)
    fn, allowed = ATTACKS[attack]
    if role != "team_admin_a" or view not in TEAM_ADMIN_OPENS:
        allowed = GONE
    before = snapshot(app)
    responses = fn(Eager(client), view, own, other, world)
    after = snapshot(app)
    for r in responses:
        assert r.status_code in allowed, (r.request.full_path, r.status_code, body_text(r)[:300])
        assert leaks(world, r, view) == [], (r.request.full_path, leaks(world, r, view))
        if r.status_code == 302:
            follow = client.get(r.headers["Location"])
            assert follow.status_code < 500 and leaks(world, follow, view) == [], r.headers["Location"]
    assert after == before, "the attack changed the database"


def test_every_view_of_the_plugins_is_in_the_matrix(world):
    """The matrix is generated from the views the two plugins register: a new view must join it."""
    views = [v for v in world["app"].extensions["timebank"].admin._views
             if v.endpoint.startswith(("volunteers_", "teams_"))]
    assert {v.endpoint for v in views if getattr(v, "model", None) is not None} == set(VIEWS)
    assert {v.endpoint for v in views if getattr(v, "model", None) is None} == set(PAGE_VIEWS)


def test_the_matrix_covers_every_create_form_a_team_admin_can_post(world):
    """Each view whose create form opens for team A's admin has relation attacks in ``picker_posts``."""
    c = world["clients"]["team_admin_a"]
    for view in VIEWS:
        if c.get(f"/admin/{view}/new/").status_code == 200:
            assert view in ("teams_position", "teams_subteam_request"), view


# ----------------------------------------------------------------- the other admin pages and direct URLs
def test_ac6_parent_teams_page_refuses_other_trees(world):
    """归属队伍 with another team's id: 404, for B's team, B's sub-team and the pending team."""
    c, ids = world["clients"]["team_admin_a"], world["ids"]
    for key in ("B", "B1", "BX", "BP"):
        r = c.get(f"/admin/teams_parent/?team={ids[key]}")
        assert r.status_code == 404 and leaks(world, r) == []
    for bad in ("x", "-1", "99999999999999999999", "1%00"):
        assert c.get(f"/admin/teams_parent/?team={bad}").status_code in (400, 404)
    r = c.get(f"/admin/teams_parent/?team={ids['A1']}")
    assert r.status_code == 200 and f"{MARK_A}总队" in r.get_data(True)
    assert world["clients"]["volunteer"].get("/admin/teams_parent/").status_code == 403


def test_ac6_import_page_offers_and_accepts_only_own_teams(world):
    """The volunteers import page (a team admin imports into their own teams only): B's teams are
    neither offered nor accepted; nothing is written."""
    app, c = world["app"], world["clients"]["team_admin_a"]
    page = c.get("/admin/volunteers_import/")
    assert page.status_code == 200 and leaks(world, page) == []
    before = snapshot(app)
    data = "姓名,性别,证件类型,证件号码,手机号码\n攻击者,男,身份证,%s,%s\n" % (cn_id(3001), phone(3001))
    for team_name in (f"{PUB_B}总队", f"{PUB_B}一队", f"{PRIV_B}待审队"):
        r = c.post("/admin/volunteers_import/", data={"team": team_name, "csrf_token": c.csrf,
                                                       "file": (io.BytesIO(data.encode()), "v.csv")},
                   content_type="multipart/form-data")
        assert r.status_code in (400, 403) and PRIV_B not in r.get_data(True)
    assert c.get("/admin/volunteers_import/report/" + "A" * 24 + ".csv").status_code == 404
    assert snapshot(app) == before
    assert world["clients"]["volunteer"].get("/admin/volunteers_import/").status_code == 403


def test_ac6_public_join_url_changes_no_other_team(world):
    """A team admin without a volunteer record cannot join B by URL; a pending team takes nobody."""
    app, ids = world["app"], world["ids"]
    before = snapshot(app)
    c = world["clients"]["team_admin_a"]
    r = c.post(f"/teams/{ids['B']}/join", data={"csrf_token": c.csrf})
    assert r.status_code == 302
    v = world["clients"]["volunteer"]
    assert v.post(f"/teams/{ids['BP']}/join", data={"csrf_token": v.csrf}).status_code == 404
    assert snapshot(app) == before


def test_ac6_dashboard_counts_only_own_applications(world):
    html = world["clients"]["team_admin_a"].get("/admin/").get_data(True)
    assert '<p class="display-4">1</p>' in html  # vap only; B's pending applicant is not counted


# ----------------------------------------------------------------- positive controls
def _names(resp) -> str:
    return body_text(resp)


def test_team_a_admin_reaches_the_whole_tree(world):
    """AC6 / R-TEAM-4: team A's admin DOES see A1's members, in every view and export."""
    c, ids = world["clients"]["team_admin_a"], world["ids"]
    for view, must in (("teams_member", [f"{MARK_A}甲", f"{MARK_A}乙"]),
                       ("teams_membership", [f"{MARK_A}甲", f"{MARK_A}乙", f"{MARK_A}丙"]),
                       ("volunteers_volunteer", [f"{MARK_A}甲", f"{MARK_A}乙", f"{MARK_A}丙"]),
                       ("teams_team", [f"{MARK_A}总队", f"{MARK_A}一队"]),
                       ("teams_subteam", [f"{MARK_A}一队"]), ("teams_position", [f"{MARK_A}岗位"])):
        for url in (f"/admin/{view}/", f"/admin/{view}/export/csv/", f"/admin/{view}/export/xlsx/"):
            text = _names(c.get(url))
            assert all(m in text for m in must), (url, must)
    assert f"{MARK_A}乙" in c.get(f"/admin/volunteers_volunteer/details/?id={ids['va1']}").get_data(True)
    assert c.get(f"/admin/teams_team/edit/?id={ids['A1']}").status_code == 200
    assert c.get(f"/admin/teams_member/details/?id={ids['m_va1']}").status_code == 200


def test_a_sub_team_admin_does_not_reach_the_team_above(world):
    """The scope goes down the tree, never up: A1's admin sees A1 only."""
    c, ids = world["clients"]["team_admin_a1"], world["ids"]
    html = c.get("/admin/teams_member/").get_data(True)
    assert f"{MARK_A}乙" in html and f"{MARK_A}甲" not in html
    assert c.get(f"/admin/teams_team/details/?id={ids['A']}").status_code == 404
    assert c.get(f"/admin/volunteers_volunteer/details/?id={ids['va']}").status_code == 404
    assert c.get(f"/admin/teams_position/details/?id={ids['pos_A']}").status_code == 404


def test_team_b_admin_sees_b_and_nothing_of_a(world):
    c = world["clients"]["team_admin_b"]
    for view in TEAM_ADMIN_OPENS:
        text = body_text(c.get(f"/admin/{view}/")) + body_text(c.get(f"/admin/{view}/export/csv/"))
        assert MARK_A not in text, view
    assert PRIV_B in body_text(c.get("/admin/teams_member/"))


def test_platform_admin_sees_everything(world):
    """Control: the markers do reach the platform admin, so the matrix's checks can fail."""
    c, ids = world["clients"]["platform_admin"], world["ids"]
    for view in VIEWS:
        own, other = targets(world, view)
        text = body_text(c.get(f"/admin/{view}/")) + body_text(c.get(f"/admin/{view}/export/xlsx/"))
        assert MARK_A in text and (PRIV_B in text or PUB_B in text), view
        assert c.get(f"/admin/{view}/details/?id={other[0]}").status_code == 200, view
    r = c.post(f"/admin/volunteers_volunteer/reveal/?id={ids['vb']}&field=id_number",
               headers={"X-CSRFToken": c.csrf})
    assert r.status_code == 200 and json.loads(r.data)["value"] == cn_id(2001)
    r = c.get(f"/admin/teams_parent/?team={ids['B1']}")
    assert r.status_code == 200 and f"{PUB_B}总队" in r.get_data(True)


def test_the_matrix_requests_work_on_own_rows(make_app):
    """Control on a fresh site: the very requests of the matrix succeed on team A's own rows (so the
    refusals above are the scoping, not a broken request), and change what they should."""
    from fixtures.security_plugins.secsupport import logged_in
    from plugins.teams.models import Membership, Position, SubTeamRequest
    app = make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")
    ids = seed(app)
    c = logged_in(app, "ta")
    w = {"app": app, "ids": ids, "rows": own_and_other_rows(ids), "markers": b_markers(ids)}
    for view in TEAM_ADMIN_OPENS:
        own, _other = targets(w, view)
        assert own, view
        assert c.get(f"/admin/{view}/details/?id={own[0]}").status_code == 200, view
    # decision pages: the applicant of A is approved, a member of A1 removed with a reason
    r = c.post("/admin/teams_membership/action/", data={"action": "approve", "rowid": [str(ids["m_vap"])],
                                                       "csrf_token": c.csrf})
    assert r.status_code == 302
    r = c.post("/admin/teams_member/decide/", data={"ids": ids["m_va1"], "approve": "0", "reason": "搬走",
                                                   "csrf_token": c.csrf})
    assert r.status_code == 302
    # relation pickers: own team and own member accepted
    create, _ = picker_posts(w, "teams_position")
    good = {**create[0], "team": ids["A1"], "holder": ids["va1"]}
    with app.app_context():
        Membership.update(status="approved").where(Membership.id == ids["m_va1"]).execute()
    assert c.post("/admin/teams_position/new/", data={**good, "csrf_token": c.csrf}).status_code == 302
    r = c.post("/admin/teams_subteam_request/new/", data={"child": ids["A1"], "parent": ids["B"],
                                                         "csrf_token": c.csrf})
    assert r.status_code == 302
    with app.app_context():
        assert Membership.get_by_id(ids["m_vap"]).status == "approved"
        assert Position.get((Position.team == ids["A1"]) & (Position.holder == ids["va1"])).rating == "B"
        assert SubTeamRequest.get((SubTeamRequest.child == ids["A1"]) & (SubTeamRequest.parent == ids["B"])
                                  ).status == "pending"
    r = c.post(f"/admin/teams_team/reveal/?id={ids['A1']}&field=leader_phone", headers={"X-CSRFToken": c.csrf})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(body_text(c.get("/admin/teams_subteam/export/csv/")))))
    assert [r[0] for r in rows[1:]] == [f"{MARK_A}一队"]
