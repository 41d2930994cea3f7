"""AU1 the audit log records who did what to which object, when and from where (without plain
personal data); AU2 it is append-only in the database and read-only in the admin; AU3 errors show a
generic page in the user's language, with debug off."""
from __future__ import annotations

import json

import peewee as pw
import pytest

from conftest import PASSWORD, csrf_from, login
from fixtures.security_plugins.secsupport import (ID_A, ID_B, MARK_A, PLUGINS, SECRET_A, create_user,
                                                  logged_in, seed, site_config, token)

ADDR = "10.1.2.3"


@pytest.fixture
def world(make_app):
    app = make_app(plugins=PLUGINS, **site_config())
    ids = seed(app)
    create_user(app, "admin", "platform_admin")
    create_user(app, "ta", "team_admin", scope=f"team:{ids['team_a']}")
    create_user(app, "vol", "volunteer")
    return app, ids


def client_from(app, addr=ADDR):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = addr
    return c


def rows(app, **where):
    from core.models import AuditLog
    with app.app_context():
        q = AuditLog.select().order_by(AuditLog.id)
        for k, v in where.items():
            q = q.where(getattr(AuditLog, k) == v)
        return list(q)


def uid(app, name):
    from core.models import User
    with app.app_context():
        return User.get(User.username == name).id


# ------------------------------------------------------------------ AU1
def test_au1_logins_and_failures_are_audited_with_who_and_where(world):
    app, _ = world
    c = client_from(app)
    assert login(c, "ta", "a wrong password").status_code == 401
    assert login(c, "ta").status_code == 302
    c.post("/logout", data={"csrf_token": token(c)})
    (fail,) = rows(app, action="login.failure")
    assert fail.object_type == "core_user" and fail.object_id == "ta" and fail.ip == ADDR
    assert fail.user_id is None and fail.at is not None
    (ok,) = rows(app, action="login.success")
    assert ok.user_id == uid(app, "ta") and ok.username == "ta" and ok.ip == ADDR
    assert ok.object_type == "core_user" and ok.object_id == str(uid(app, "ta"))
    (out,) = rows(app, action="logout")
    assert out.user_id == uid(app, "ta") and out.ip == ADDR


def test_au1_access_refusals_are_audited(world):
    app, ids = world
    vol = client_from(app)
    login(vol, "vol")
    assert vol.get("/admin/teamdemo_record/").status_code == 403
    ta = client_from(app, "10.4.5.6")
    login(ta, "ta")
    assert ta.get(f"/admin/teamdemo_record/details/?id={ids['rec_b']}").status_code == 404
    denied = rows(app, action="access.denied")
    by_vol = [r for r in denied if r.username == "vol"]
    assert by_vol and by_vol[0].ip == ADDR and by_vol[0].user_id == uid(app, "vol")
    assert json.loads(by_vol[0].details)["path"] == "/admin/teamdemo_record/"
    by_ta = [r for r in denied if r.username == "ta"]
    assert by_ta and by_ta[0].object_type == "teamdemo_record" and by_ta[0].object_id == str(ids["rec_b"])
    assert by_ta[0].ip == "10.4.5.6"


def test_au1_exports_and_record_changes_are_audited_without_personal_data(world):
    app, ids = world
    c = client_from(app)
    login(c, "ta")
    tok = token(c)
    u = "/admin/teamdemo_record"
    assert c.get(u + "/export/csv/").status_code == 200
    assert c.get(u + "/export/xlsx/").status_code == 200
    r = c.post(u + "/new/", data={"team": ids["team_a"], "related": "", "title": f"{MARK_A} audited",
                                  "note": "private note", "id_number": ID_B, "csrf_token": tok})
    assert r.status_code == 302
    from teamdemo.models import Record
    with app.app_context():
        new_id = Record.get(Record.title == f"{MARK_A} audited").id
    r = c.post(u + f"/edit/?id={new_id}", data={"team": ids["team_a"], "related": "",
                                                "title": f"{MARK_A} audited", "note": "changed note",
                                                "id_number": "44052418800101001X", "csrf_token": tok})
    assert r.status_code == 302
    assert c.post(u + "/delete/", data={"id": new_id, "csrf_token": tok}).status_code == 302

    exports = rows(app, action="export")
    assert [json.loads(e.details)["type"] for e in exports] == ["csv", "xlsx"]
    assert all(e.username == "ta" and e.ip == ADDR and e.object_type == "teamdemo_record"
               for e in exports)
    for action in ("record.created", "record.updated", "record.deleted"):
        (row,) = rows(app, action=action)
        assert (row.username, row.ip, row.object_type, row.object_id) == \
            ("ta", ADDR, "teamdemo_record", str(new_id)), action
    updated = json.loads(rows(app, action="record.updated")[0].details)
    assert set(updated["fields"]) == {"note", "id_number"}  # what changed, not the values

    everything = " ".join(f"{r.username} {r.object_id} {r.details}" for r in rows(app))
    for secret in (PASSWORD, ID_A, ID_B, "44052418800101001X", "private note", "changed note",
                   SECRET_A):
        assert secret not in everything, secret


def test_au1_plugin_changes_are_audited(world):
    app, _ = world
    c = client_from(app)
    login(c, "admin")
    assert c.post("/admin/plugins/notices/enable", data={"csrf_token": token(c)}).status_code == 302
    (row,) = rows(app, action="plugin.enabled")
    assert row.username == "admin" and row.object_id == "notices" and row.ip == ADDR


# ------------------------------------------------------------------ AU2
def test_au2_the_database_refuses_update_and_delete_of_audit_rows(world):
    app, _ = world
    from core.db import db, transaction
    from core.models import AuditLog
    c = client_from(app)
    login(c, "ta")
    with app.app_context():
        before = [(r.id, r.action, r.username) for r in AuditLog.select().order_by(AuditLog.id)]
        assert before
        attempts = [
            lambda: db.execute_sql("UPDATE core_audit_log SET username = 'someone else'"),
            lambda: db.execute_sql("DELETE FROM core_audit_log"),
            lambda: AuditLog.update(action="nothing").execute(),
            lambda: AuditLog.delete().where(AuditLog.id == before[0][0]).execute(),
            lambda: AuditLog.get_by_id(before[0][0]).delete_instance(),
        ]
        for attempt in attempts:
            with pytest.raises(pw.DatabaseError):
                with transaction():
                    attempt()
        row = AuditLog.get_by_id(before[0][0])
        row.username = "forged"
        with pytest.raises(pw.DatabaseError):
            with transaction():
                row.save()
        after = [(r.id, r.action, r.username) for r in AuditLog.select().order_by(AuditLog.id)]
        assert after == before


def test_au2_the_database_refuses_truncating_the_audit_log(world):
    """AU2 on PostgreSQL: TRUNCATE skips row triggers, so it needs its own refusal."""
    app, _ = world
    from core.db import db, is_postgres, transaction
    from core.models import AuditLog
    login(client_from(app), "ta")
    with app.app_context():
        if not is_postgres():
            pytest.skip("SQLite has no TRUNCATE; DELETE is covered above")
        n = AuditLog.select().count()
        with pytest.raises(pw.DatabaseError):
            with transaction():
                db.execute_sql("TRUNCATE core_audit_log")
        assert AuditLog.select().count() == n > 0


def test_au2_the_audit_log_is_read_only_in_the_admin(world):
    app, _ = world
    c = client_from(app)
    login(c, "admin")
    tok = token(c)
    from core.models import AuditLog
    with app.app_context():
        first = AuditLog.select().order_by(AuditLog.id).first()
        snapshot = [(r.id, r.action, r.username, r.details) for r in AuditLog.select()]
    u = "/admin/core_audit_log"
    listing = c.get(u + "/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert u + "/new/" not in html and u + "/edit/" not in html and u + "/delete/" not in html
    assert c.get(u + f"/details/?id={first.id}").status_code == 200
    refused = [
        c.get(u + "/new/"),
        c.post(u + "/new/", data={"action": "forged", "username": "x", "csrf_token": tok}),
        c.get(u + f"/edit/?id={first.id}"),
        c.post(u + f"/edit/?id={first.id}", data={"action": "forged", "csrf_token": tok}),
        c.post(u + "/delete/", data={"id": first.id, "csrf_token": tok}),
        c.post(u + "/ajax/update/", data={"list_form_pk": first.id, "action": "x", "csrf_token": tok}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    r = c.post(u + "/action/", data={"action": "delete", "rowid": str(first.id), "csrf_token": tok})
    assert r.status_code in (302, 403)
    with app.app_context():
        kept = {(r.id, r.action, r.username, r.details) for r in AuditLog.select()}
    assert set(snapshot) <= kept  # nothing changed or vanished (the refusals were added)


# ------------------------------------------------------------------ AU3
def test_au3_an_exception_shows_the_generic_page_in_chinese_without_details(make_app):
    from teamdemo import BOOM
    from teamdemo.models import Team
    app = make_app(plugins=PLUGINS, **site_config(TESTING=False))
    assert app.debug is False and app.config["DEBUG"] is False
    c = app.test_client()
    r = c.get("/teamdemo/boom")
    assert r.status_code == 500
    html = r.get_data(as_text=True)
    assert "系统出错了" in html  # "Something went wrong", in the default language
    for leak in ("Traceback", "RuntimeError", BOOM, "teamdemo/__init__.py", "File \""):
        assert leak not in html, leak
    assert "Content-Security-Policy" in r.headers
    with app.app_context():  # CC5: the row written before the exception was rolled back
        assert not Team.select().where(Team.name == "written before the crash").exists()


def test_au3_the_error_page_follows_the_users_language(make_app):
    app = make_app(plugins=PLUGINS, **site_config(TESTING=False))
    c = app.test_client()
    tok = csrf_from(c.get("/login").get_data(as_text=True))
    assert c.post("/account/language", data={"lang": "en", "next": "/", "csrf_token": tok}).status_code == 302
    html = c.get("/teamdemo/boom").get_data(as_text=True)
    assert "Something went wrong" in html and "系统出错了" not in html
    r = c.get("/no/such/page")
    assert r.status_code == 404 and "The requested URL was not found" not in r.get_data(as_text=True)


def test_au3_admin_save_errors_do_not_show_database_details(world):
    """AU3: a database error while saving in the admin gives a generic message, not the SQL error."""
    app, _ = world
    c = client_from(app)
    login(c, "admin")
    r = c.post("/admin/core_user/new/", data={"username": "ta", "display_name": "", "email": "",
                                              "locale": "", "is_active": "y", "csrf_token": token(c)},
               follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for leak in ("UNIQUE", "unique constraint", "core_user.username", "duplicate key", "IntegrityError"):
        assert leak not in html, leak
