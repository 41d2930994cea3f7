"""AC7: every admin view checks access. The test walks EVERY ``/admin/...`` rule of ``app.url_map``
(all built-in plugins enabled, plus the ``teamdemo`` fixture plugin), filling the URL arguments and
sending every method the rule accepts, with a valid CSRF token so the access check itself is what
answers:

- anonymous: a redirect to /login, or 403/404 — never 200, never 500;
- a volunteer (a logged-in user without admin rights): 403/404;
- and neither walk changes anything in the database.

A platform admin then GETs every rule: no page may crash (500), which also keeps the walk honest
(the rules it fills really exist and render).
"""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from conftest import database_url
from core import create_app
from fixtures.security_plugins.secsupport import (PLUGINS, create_user, logged_in, seed, site_config,
                                                  snapshot, token)

SKIP_ENDPOINTS = {"admin.static"}  # Flask-Admin's CSS/JS: public by design, carries no data


def builtin_plugins() -> list[str]:
    from core import plugins as P
    available, _problems = P.discover()
    return sorted(n for n, i in available.items()
                  if i.source == "builtin" and i.manifest.get("installable", True))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("walk")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app(site_config(INSTANCE_PATH=str(tmp / "instance"), DATABASE_URL=database_url(tmp),
                                 TESTING=True, TASKS_IMMEDIATE=True, PUBLIC_URL="http://localhost",
                                 PLUGINS=builtin_plugins() + PLUGINS))  # a demo site has one (NS3)
    ids = seed(app)
    from core.cli import load_demo
    with app.app_context():
        load_demo(app)  # rows in every plugin's tables, so details/edit pages have something to show
    create_user(app, "admin", "platform_admin")
    create_user(app, "vol", "volunteer")
    yield {"app": app, "ids": ids}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def first_ids(app) -> dict[str, str]:
    """endpoint of each model view -> the id of one of its rows ("1" when the table is empty)."""
    out = {}
    with app.app_context():
        for v in app.extensions["timebank"].admin._views:
            model = getattr(v, "model", None)
            if model is None:
                continue
            row = model.select().order_by(model._meta.primary_key).first()
            out[v.endpoint] = str(row._pk) if row is not None else "1"
    return out


def admin_requests(app):
    """(method, url, form data) for every /admin rule and every method it accepts."""
    ids = first_ids(app)
    fill = {"export_type": "csv", "plugin": "teamdemo", "name": "teamdemo", "op": "enable"}
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in SKIP_ENDPOINTS:
            continue
        view = rule.endpoint.split(".")[0]
        pk = ids.get(view, "1")
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", fill.get(arg, pk))
            for conv in ("int", "string", "path", "any"):
                path = path.replace(f"<{conv}:{arg}>", fill.get(arg, pk))
        assert "<" not in path, f"cannot fill {rule.rule}"
        query = f"?id={pk}&name=x&query=" if rule.endpoint.endswith(
            ("details_view", "edit_view", "ajax_lookup")) else ""
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"id": pk, "rowid": pk, "action": "delete", "list_form_pk": pk} \
                if method == "POST" else None
            out.append((method, path + query, data))
    return out


def test_ac7_the_walk_covers_every_admin_view(site):
    """AC7: the walk reaches every registered admin view, kernel and plugins alike."""
    app = site["app"]
    walked = {urlparse(u).path.split("/")[2] for _m, u, _d in admin_requests(app) if u.count("/") > 2}
    views = {v.endpoint for v in app.extensions["timebank"].admin._views if v.endpoint != "admin"}
    assert views <= walked | {""}, views - walked
    assert {"teamdemo_team", "teamdemo_record", "core_user", "core_audit_log", "plugins"} <= walked


def _send(client, method, url, data, csrf):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={**(data or {}), "csrf_token": csrf})


def test_ac7_anonymous_walk_redirects_to_login_or_refuses(site):
    """AC7: every /admin rule as anonymous: 302 to /login or 403/404; never 200, never 500."""
    app = site["app"]
    c = app.test_client()
    csrf = token(c)  # the anonymous session's token: the access check, not CSRF, must refuse
    before = snapshot(app)
    bad = []
    for method, url, data in admin_requests(app):
        r = _send(c, method, url, data, csrf)
        ok = r.status_code in (403, 404) or (
            r.status_code == 302 and urlparse(r.headers["Location"]).path == "/login")
        if not ok:
            bad.append((method, url, r.status_code, r.headers.get("Location")))
    assert bad == []
    assert snapshot(app) == before


def test_ac7_volunteer_walk_is_refused(site):
    """AC7: every /admin rule as a volunteer (a low role): 403/404 and nothing changes."""
    app = site["app"]
    c = logged_in(app, "vol")
    before = snapshot(app)
    bad = []
    for method, url, data in admin_requests(app):
        r = _send(c, method, url, data, c.csrf)
        if r.status_code not in (403, 404):
            bad.append((method, url, r.status_code))
    assert bad == []
    assert snapshot(app) == before


def test_ac7_platform_admin_pages_never_crash(site):
    """AC7 (control): every GET rule renders for the platform admin without a 500."""
    app = site["app"]
    c = logged_in(app, "admin")
    bad = []
    seen = 0
    for method, url, _data in admin_requests(app):
        if method != "GET":
            continue
        r = c.get(url)
        seen += 1
        if r.status_code >= 500:
            bad.append((url, r.status_code))
    assert seen > 20 and bad == []


def test_ac7_site_pages_need_a_login(site):
    """AC7: the kernel's own account pages send an anonymous visitor to the login page."""
    c = site["app"].test_client()
    for url in ("/inbox", "/inbox/1", "/account/password"):
        r = c.get(url)
        assert r.status_code == 302 and urlparse(r.headers["Location"]).path == "/login", url


def test_ac7_garbage_ids_never_crash(site):
    """AC7: malformed ids in every id-taking view give 4xx or a redirect, not a 500."""
    app = site["app"]
    c = logged_in(app, "admin")
    for view in ("teamdemo_record", "core_user", "core_audit_log"):
        for bad in ("abc", "-1", "1e9", "%00", "1 OR 1=1"):
            for r in (c.get(f"/admin/{view}/details/?id={bad}"), c.get(f"/admin/{view}/edit/?id={bad}"),
                      c.post(f"/admin/{view}/delete/", data={"id": bad, "csrf_token": c.csrf}),
                      c.post(f"/admin/{view}/action/", data={"action": "delete", "rowid": bad,
                                                             "csrf_token": c.csrf})):
                assert r.status_code < 500, (view, bad, r.request.path, r.status_code)


def test_ac7_garbage_in_relation_pickers_and_ajax_fields_is_a_form_error(site):
    """AC7: a non-numeric id in a relation picker or an ajax field is refused by the form, not a 500."""
    app, ids = site["app"], site["ids"]
    c = logged_in(app, "admin")
    for field in ("team", "related"):
        data = {"team": str(ids["team_a"]), "related": "", "title": "garbage", "note": "",
                "id_number": "", "csrf_token": c.csrf, field: "abc"}
        r = c.post("/admin/teamdemo_record/new/", data=data)
        assert r.status_code in (200, 302), (field, r.status_code)
        r = c.post(f"/admin/teamdemo_record/edit/?id={ids['rec_a']}", data=data)
        assert r.status_code in (200, 302), (field, r.status_code)
    r = c.post("/admin/teamdemo_record/ajax/update/", data={"list_form_pk": ids["rec_a"], "team": "abc",
                                                             "csrf_token": c.csrf})
    assert r.status_code == 400
    r = c.get("/admin/teamdemo_record/ajax/lookup/?name=related&query=abc&offset=x&limit=y")
    assert r.status_code == 200


KERNEL_VIEWS = ("plugins", "core_user", "core_user_role", "core_audit_log", "core_message")


def test_ac7_team_admin_is_refused_every_kernel_admin_view(site):
    """AC7: a team admin (who may open the admin) reaches none of the kernel's own views - users,
    role assignments, audit log, messages, plugins - by any rule or method; in particular it cannot
    grant itself the platform admin role."""
    app, ids = site["app"], site["ids"]
    from core.models import UserRole
    uid = create_user(app, "ta_walk", "team_admin", scope=f"team:{ids['team_a']}")
    c = logged_in(app, "ta_walk")
    assert c.get("/admin/").status_code == 200  # the dashboard is theirs
    before = snapshot(app)
    bad = []
    for method, url, data in admin_requests(app):
        if urlparse(url).path.split("/")[2] not in KERNEL_VIEWS:
            continue
        r = _send(c, method, url, data, c.csrf)
        if r.status_code not in (403, 404):
            bad.append((method, url, r.status_code))
    r = c.post("/admin/core_user_role/new/", data={"user": uid, "role": "platform_admin", "scope": "",
                                                   "csrf_token": c.csrf})
    assert r.status_code == 403
    assert bad == []
    assert snapshot(app) == before
    with app.app_context():
        assert [x.role for x in UserRole.select().where(UserRole.user == uid)] == ["team_admin"]
