"""AC3 (issue 11 point 10a): the ``admin`` that ``timebank init`` creates with a generated password must
choose its own at the first login before it reaches anything else; ``instance/initial_admin_password``
is deleted once the password is changed.

Before the fix, init created the admin without ``must_change_password``: the generated password opened
the admin directly and stayed on disk (readable in the instance folder and its backups) for good.
"""
from __future__ import annotations

import os

from click.testing import CliRunner

from conftest import csrf_from, database_url

NEW = "a long phrase of my own 2026"


def _init(monkeypatch, tmp_path):
    from core.cli import main
    inst = tmp_path / "site"
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(inst))
    url = database_url(tmp_path) if os.environ.get("TIMEBANK_TEST_DATABASE_URL") \
        else f"sqlite:///{inst / 'timebank.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.delenv("TIMEBANK_PLUGINS", raising=False)
    r = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return inst, r.output


def _post_login(c, username, password):
    page = c.get("/login").get_data(as_text=True)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page)})


def test_ac3_the_generated_admin_password_must_be_changed_at_the_first_login(tmp_path, monkeypatch):
    """issue 11 point 10: log in with the generated password → only the change page (in Chinese), the
    logout and the language menu answer; a weak or unchanged new password is refused on the page and
    changes nothing; a good one clears the flag, deletes the password file and opens the admin."""
    from core import create_app
    from core.models import AuditLog, User
    inst, out = _init(monkeypatch, tmp_path)
    pw_file = inst / "initial_admin_password"
    generated = pw_file.read_text().strip()
    assert "首次登录时必须修改" in out
    app = create_app({"TESTING": True, "DEFAULT_LOCALE": "zh_Hans_CN"})
    with app.app_context():
        assert User.get(User.username == "admin").must_change_password is True

    c = app.test_client()
    r = _post_login(c, "admin", generated)
    assert r.status_code == 302 and r.headers["Location"] == "/account/password"
    for path in ("/admin/", "/admin/core_user/", "/inbox", "/", "/admin/plugins/"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/account/password", path
    page = c.get("/account/password")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "修改密码" in html and "请先设置您自己的密码" in html
    token = csrf_from(html)
    # a POST elsewhere is not carried out either
    r = c.post("/admin/plugins/notices/disable", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/account/password"

    for new, message in ((generated, "不能沿用"), ("12345678", "过于常见"), ("short", "至少")):
        r = c.post("/account/password", data={"current": generated, "new": new, "confirm": new,
                                              "csrf_token": token})
        assert r.status_code == 200 and message in r.get_data(as_text=True), new
        with app.app_context():
            assert User.get(User.username == "admin").must_change_password is True
        assert pw_file.exists()

    r = c.post("/account/password", data={"current": generated, "new": NEW, "confirm": NEW,
                                          "csrf_token": token})
    assert r.status_code == 302
    assert not pw_file.exists()
    with app.app_context():
        admin = User.get(User.username == "admin")
        assert admin.must_change_password is False
        row = AuditLog.select().where(AuditLog.action == "password.changed").order_by(AuditLog.id.desc()).first()
        assert row is not None and "initial_password_file_deleted" in (row.details or "")
    assert c.get("/admin/").status_code == 200
    # the generated password no longer opens anything; the chosen one does, straight to the admin
    c2 = app.test_client()
    assert _post_login(c2, "admin", generated).status_code == 401
    r = _post_login(app.test_client(), "admin", NEW)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_ac3_init_again_keeps_the_changed_password_and_prints_no_password(tmp_path, monkeypatch):
    """issue 11 point 10: once changed, ``timebank init`` neither recreates the file nor re-flags."""
    from core import create_app
    from core.models import User
    inst, _ = _init(monkeypatch, tmp_path)
    generated = (inst / "initial_admin_password").read_text().strip()
    app = create_app({"TESTING": True})
    c = app.test_client()
    assert _post_login(c, "admin", generated).status_code == 302
    token = csrf_from(c.get("/account/password").get_data(as_text=True))
    assert c.post("/account/password", data={"current": generated, "new": NEW, "confirm": NEW,
                                             "csrf_token": token}).status_code == 302
    from core.cli import main
    r = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert r.exit_code == 0 and generated not in r.output and "password already changed" in r.output
    assert not (inst / "initial_admin_password").exists()
    with app.app_context():
        assert User.get(User.username == "admin").must_change_password is False


def test_ac3_a_site_set_up_before_the_flag_gets_it_at_the_next_init(tmp_path, monkeypatch):
    """issue 11 point 10: an existing site whose admin still has the generated password (the file
    still verifies) is flagged by ``timebank init`` (the upgrade path)."""
    from core import create_app
    from core.models import User
    inst, _ = _init(monkeypatch, tmp_path)
    app = create_app({"TESTING": True})
    with app.app_context():
        User.update(must_change_password=False).where(User.username == "admin").execute()
    from core.cli import main
    assert CliRunner().invoke(main, ["init"], catch_exceptions=False).exit_code == 0
    with app.app_context():
        assert User.get(User.username == "admin").must_change_password is True
