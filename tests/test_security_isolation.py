"""AC6 team isolation, tested as a generated matrix: every model view of the ``teamdemo`` fixture
plugin × every role below the platform admin × every way Flask-Admin reaches a row (the traps of
SECURITY.md: get_one, bulk actions, inline edits, exports, ajax loaders, relation pickers, search).

A team admin of team A attacks team B's ids; a volunteer attacks everything. Each attack must answer
403/404 (or a page without any of team B's data) and leave the database exactly as it was.
Positive controls at the end prove the same requests work on the attacker's own rows, so a refusal
in the matrix is the scoping at work and not a broken request (e.g. a missing CSRF token).
"""
from __future__ import annotations

import json

import pytest

from conftest import database_url
from core import create_app
from fixtures.security_plugins.secsupport import (MARK_A, MARK_B, PLUGINS, admin_view, body_text,
                                                  create_user, filter_arg, leaked, logged_in, seed,
                                                  site_config, snapshot, ID_A, SECRET_A)

VIEWS = ["teamdemo_team", "teamdemo_record"]
ROLES = ["team_admin_a", "volunteer"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One site for the whole matrix (the attacks change nothing, so they can share it)."""
    tmp = tmp_path_factory.mktemp("isolation")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app(site_config(INSTANCE_PATH=str(tmp / "instance"), DATABASE_URL=database_url(tmp),
                                 TESTING=True, TASKS_IMMEDIATE=True, PLUGINS=PLUGINS))
    ids = seed(app)
    create_user(app, "admin", "platform_admin")
    create_user(app, "ta", "team_admin", scope=f"team:{ids['team_a']}")
    create_user(app, "vol", "volunteer")
    w = {"app": app, "ids": ids,
         "clients": {"team_admin_a": logged_in(app, "ta"), "volunteer": logged_in(app, "vol"),
                     "platform_admin": logged_in(app, "admin")}}
    yield w
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def _targets(ids, view):
    """(own id, other team's ids, form data for an own row, text field, picker, ajax field)."""
    if view == "teamdemo_team":
        return {"own": ids["team_a"], "other": [ids["team_b"], ids["team_b2"]],
                "form": {"name": f"{MARK_A} team", "parent": "__None", "partner": "",
                         "secret_code": SECRET_A},
                "text": "name", "picker": "parent", "ajax": "partner",
                "other_parent": ids["team_b"], "other_ajax": ids["team_b"]}
    return {"own": ids["rec_a"], "other": [ids["rec_b"], ids["rec_b2"]],
            "form": {"team": str(ids["team_a"]), "related": "", "title": f"{MARK_A} record",
                     "note": f"{MARK_A} note", "id_number": ID_A},
            "text": "title", "picker": "team", "ajax": "related",
            "other_parent": ids["team_b"], "other_ajax": ids["rec_b"]}


# Each attack: (client, csrf token, url prefix, targets, app) -> list of responses.
def _list(c, t, u, x, app):
    return [c.get(u + "/")]


def _search(c, t, u, x, app):
    return [c.get(u + "/?search=BRAVO9")]


def _filter(c, t, u, x, app):
    return [c.get(u + f"/?{filter_arg(app, u.rsplit('/', 1)[-1], x['text'])}=BRAVO9")]


def _details(c, t, u, x, app):
    return [c.get(u + f"/details/?id={i}") for i in x["other"]]


def _edit_get(c, t, u, x, app):
    return [c.get(u + f"/edit/?id={i}") for i in x["other"]]


def _edit_post(c, t, u, x, app):
    return [c.post(u + f"/edit/?id={i}", data={**x["form"], x["text"]: "HACKED", "csrf_token": t})
            for i in x["other"]]


def _delete(c, t, u, x, app):
    return [c.post(u + "/delete/", data={"id": i, "csrf_token": t}) for i in x["other"]]


def _action_delete(c, t, u, x, app):
    return [c.post(u + "/action/", data={"action": "delete", "rowid": [str(i) for i in x["other"]],
                                         "csrf_token": t})]


def _action_custom(c, t, u, x, app):
    if u.endswith("teamdemo_team"):  # the custom action lives on the record view only
        return [c.post(u + "/action/", data={"action": "delete", "rowid": str(x["other"][0]),
                                             "csrf_token": t})]
    return [c.post(u + "/action/", data={"action": "stamp", "rowid": [str(i) for i in x["other"]],
                                         "csrf_token": t})]


def _ajax_update(c, t, u, x, app):
    return [c.post(u + "/ajax/update/", data={"list_form_pk": i, x["text"]: "HACKED", "csrf_token": t})
            for i in x["other"]]


def _export_csv(c, t, u, x, app):
    return [c.get(u + "/export/csv/")]


def _export_xlsx(c, t, u, x, app):
    return [c.get(u + "/export/xlsx/")]


def _ajax_lookup(c, t, u, x, app):
    return [c.get(u + f"/ajax/lookup/?name={x['ajax']}&query=BRAVO9"),
            c.get(u + f"/ajax/lookup/?name={x['ajax']}&query=")]


def _picker_forms(c, t, u, x, app):
    return [c.get(u + "/new/"), c.get(u + f"/edit/?id={x['own']}")]


def _picker_create_post(c, t, u, x, app):
    data = {**x["form"], x["text"]: f"{MARK_A} new", x["picker"]: x["other_parent"],
            x["ajax"]: x["other_ajax"], "csrf_token": t}
    return [c.post(u + "/new/", data=data)]


def _picker_edit_post(c, t, u, x, app):
    moved = {**x["form"], x["picker"]: x["other_parent"], "csrf_token": t}
    linked = {**x["form"], x["ajax"]: x["other_ajax"], "csrf_token": t}
    return [c.post(u + f"/edit/?id={x['own']}", data=moved),
            c.post(u + f"/edit/?id={x['own']}", data=linked)]


def _picker_inline_post(c, t, u, x, app):
    return [c.post(u + "/ajax/update/", data={"list_form_pk": x["own"], x["picker"]: x["other_parent"],
                                              "csrf_token": t})]


# attack name -> (function, statuses a team admin of A may get)
PAGE = {200}
GONE = {403, 404}
ATTACKS = {
    "list": (_list, PAGE),
    "search": (_search, PAGE),
    "filter": (_filter, PAGE),
    "details": (_details, GONE),
    "edit_get": (_edit_get, GONE),
    "edit_post": (_edit_post, GONE),
    "delete": (_delete, GONE),
    "bulk_action_delete": (_action_delete, GONE | {302}),
    "bulk_action_custom": (_action_custom, GONE | {302}),
    "inline_ajax_update": (_ajax_update, GONE),
    "export_csv": (_export_csv, PAGE),
    "export_xlsx": (_export_xlsx, PAGE),
    "ajax_lookup": (_ajax_lookup, PAGE),
    "relation_picker_choices": (_picker_forms, PAGE),
    "relation_picker_create_post": (_picker_create_post, PAGE | GONE),
    "relation_picker_edit_post": (_picker_edit_post, PAGE | GONE | {302}),
    "relation_picker_inline_post": (_picker_inline_post, GONE | {400}),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", VIEWS)
def test_ac6_other_teams_rows_are_unreachable(world, view, role, attack):
    """AC6: <view> × <role> × <attack> with team B's ids: 403/404 or no team-B data; DB unchanged."""
    app, ids = world["app"], world["ids"]
    client = world["clients"][role]
    fn, allowed = ATTACKS[attack]
    allowed = allowed if role == "team_admin_a" else GONE
    before = snapshot(app)
    responses = fn(client, client.csrf, f"/admin/{view}", _targets(ids, view), app)
    after = snapshot(app)
    for r in responses:
        assert r.status_code in allowed, (r.request.path, r.status_code, body_text(r)[:300])
        assert leaked(r) == [], (r.request.path, leaked(r))
        if r.status_code == 302:
            follow = client.get(r.headers["Location"])
            assert follow.status_code < 500 and leaked(follow) == [], r.headers["Location"]
    assert after == before, "the attack changed the database"


def test_ac6_inline_edit_choices_hold_no_other_team(world):
    """AC6: the x-editable select on the list page (inline edit of a relation) lists own team only."""
    c = world["clients"]["team_admin_a"]
    for view in VIEWS:
        html = c.get(f"/admin/{view}/").get_data(as_text=True)
        assert "data-source" in html, "the fixture should render an inline-editable relation"
        assert MARK_A in html and MARK_B not in html


def test_ac6_ajax_lookup_returns_own_team_only(world):
    c, ids = world["clients"]["team_admin_a"], world["ids"]
    got = json.loads(c.get("/admin/teamdemo_record/ajax/lookup/?name=related&query=").data)
    assert sorted(pk for pk, _ in got) == sorted([ids["rec_a"], ids["rec_a2"]])
    got = json.loads(c.get("/admin/teamdemo_team/ajax/lookup/?name=partner&query=").data)
    assert [pk for pk, _ in got] == [ids["team_a"]]


def test_ac6_the_markers_do_show_for_the_platform_admin(world):
    """Control: the platform admin reaches team B, so the matrix's 'no B data' checks can fail."""
    c, ids = world["clients"]["platform_admin"], world["ids"]
    assert MARK_B in c.get("/admin/teamdemo_record/").get_data(as_text=True)
    assert MARK_B in c.get(f"/admin/teamdemo_record/details/?id={ids['rec_b']}").get_data(as_text=True)
    assert MARK_B in body_text(c.get("/admin/teamdemo_record/export/xlsx/"))
    got = json.loads(c.get("/admin/teamdemo_team/ajax/lookup/?name=partner&query=BRAVO9").data)
    assert {ids["team_b"], ids["team_b2"]} <= {pk for pk, _ in got}


def test_ac6_team_admin_works_on_own_rows(world):
    """Control: the very requests of the matrix succeed on team A's own rows."""
    from teamdemo.models import Record
    app, ids = world["app"], world["ids"]
    c = world["clients"]["team_admin_a"]
    u = "/admin/teamdemo_record"
    x = _targets(ids, "teamdemo_record")
    assert MARK_A in c.get(u + f"/details/?id={ids['rec_a']}").get_data(as_text=True)
    assert c.get(u + f"/edit/?id={ids['rec_a']}").status_code == 200
    assert MARK_A in body_text(c.get(u + "/export/csv/"))
    assert MARK_A in body_text(c.get(u + "/export/xlsx/"))
    assert MARK_A in c.get(u + "/?search=ALPHA7").get_data(as_text=True)

    r = c.post(u + f"/edit/?id={ids['rec_a']}", data={**x["form"], "title": f"{MARK_A} edited",
                                                      "csrf_token": c.csrf})
    assert r.status_code == 302
    r = c.post(u + "/ajax/update/", data={"list_form_pk": ids["rec_a2"], "title": f"{MARK_A} inline",
                                          "csrf_token": c.csrf})
    assert r.status_code == 200, r.get_data(as_text=True)
    r = c.post(u + "/new/", data={**x["form"], "title": f"{MARK_A} created", "csrf_token": c.csrf})
    assert r.status_code == 302
    with app.app_context():
        assert Record.get_by_id(ids["rec_a"]).title == f"{MARK_A} edited"
        assert Record.get_by_id(ids["rec_a2"]).title == f"{MARK_A} inline"
        created = Record.get(Record.title == f"{MARK_A} created")
        assert created.team_id == ids["team_a"]
        doomed = [Record.create(team=ids["team_a"], title=f"{MARK_A} doomed {n}").id for n in range(3)]
    r = c.post(u + "/delete/", data={"id": doomed[0], "csrf_token": c.csrf})
    assert r.status_code == 302
    r = c.post(u + "/action/", data={"action": "stamp", "rowid": [str(doomed[1]), str(ids["rec_b"])],
                                     "csrf_token": c.csrf})
    assert r.status_code == 302
    with app.app_context():
        assert Record.get_by_id(doomed[1]).note == "STAMPED"  # own row: the action ran ...
        assert Record.get_by_id(ids["rec_b"]).note != "STAMPED"  # ... and skipped team B's
    r = c.post(u + "/action/", data={"action": "delete", "rowid": [str(doomed[1]), str(doomed[2]),
                                     str(ids["rec_b"])], "csrf_token": c.csrf})
    assert r.status_code == 302
    with app.app_context():
        assert not Record.select().where(Record.id << doomed).exists()
        assert Record.get_or_none(Record.id == ids["rec_b"]) is not None  # mixed in: left alone
        created.delete_instance()
        Record.update(title=f"{MARK_A} record").where(Record.id == ids["rec_a"]).execute()
        Record.update(title=f"{MARK_A} second").where(Record.id == ids["rec_a2"]).execute()


def test_ac6_a_team_admin_cannot_move_own_row_to_another_team_by_any_route(world):
    """AC6/AC8: moving a row out of scope (picker, ajax field, extra team_id) is refused."""
    from teamdemo.models import Record
    app, ids = world["app"], world["ids"]
    c = world["clients"]["team_admin_a"]
    x = _targets(ids, "teamdemo_record")
    c.post(f"/admin/teamdemo_record/edit/?id={ids['rec_a']}",
           data={**x["form"], "team_id": ids["team_b"], "csrf_token": c.csrf})
    with app.app_context():
        assert Record.get_by_id(ids["rec_a"]).team_id == ids["team_a"]
