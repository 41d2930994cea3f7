"""Accounts and access: AC1 password hashing and rules, AC2 login throttling, AC3 no default admin
password, AC4 sessions and cookies, AC5 CSRF on every POST, AC8 forms are allow-lists.

CSRF is never disabled here: every request that should pass carries a real token.
"""
from __future__ import annotations

import datetime as _dt
import os
import stat

import pytest
from click.testing import CliRunner

from conftest import PASSWORD, csrf_from, database_url
from fixtures.security_plugins.secsupport import (ID_A, MARK_A, PLUGINS, create_user, logged_in, seed,
                                                  site_config, snapshot, token)

COOKIE = "timebank_session"


@pytest.fixture
def site(make_app):
    """A site with the teamdemo fixture plugin, two teams of rows and admin / ta / vol users."""
    def build(**config):
        app = make_app(plugins=PLUGINS, **site_config(**config))
        return app
    return build


@pytest.fixture
def world(site):
    app = site()
    ids = seed(app)
    create_user(app, "admin", "platform_admin")
    create_user(app, "ta", "team_admin", scope=f"team:{ids['team_a']}")
    create_user(app, "vol", "volunteer")
    return app, ids


def post_login(client, username, password=PASSWORD, addr="127.0.0.1"):
    env = {"REMOTE_ADDR": addr}
    page = client.get("/login", environ_base=env).get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page)}, environ_base=env)


def is_logged_in(client) -> bool:
    r = client.get("/account/password")
    return r.status_code == 200


def user(app, name):
    from core.models import User
    with app.app_context():
        return User.get(User.username == name)


# ------------------------------------------------------------------ AC1
def test_ac1_passwords_are_stored_as_argon2id(world):
    app, _ = world
    h = user(app, "vol").password_hash
    assert h.startswith("$argon2id$") and PASSWORD not in h
    c = logged_in(app, "vol")
    r = c.post("/account/password", data={"current": PASSWORD, "new": "plain lower case words",
                                          "confirm": "plain lower case words", "csrf_token": c.csrf})
    assert r.status_code == 302
    h2 = user(app, "vol").password_hash
    assert h2.startswith("$argon2id$") and h2 != h


BAD_PASSWORDS = ["short7!", "1234567", "password", "Password123", "12345678", "qwertyuiop",
                 "aaaaaaaaaaaa", "vol"]
GOOD_PASSWORDS = ["tbq9vxkw", "correct horse battery staple again", "长城长江黄河泰山华山" * 2,
                  "x" * 40 + "y" * 40 + "z"]


def test_ac1_short_and_common_passwords_are_refused(world):
    """AC1: fewer than 8 characters, a common password, the user name, one repeated character."""
    app, _ = world
    c = logged_in(app, "vol")
    before = user(app, "vol").password_hash
    for bad in BAD_PASSWORDS:
        r = c.post("/account/password", data={"current": PASSWORD, "new": bad, "confirm": bad,
                                              "csrf_token": c.csrf})
        assert r.status_code == 200, bad  # the form again, with the reason
        html = r.get_data(as_text=True)
        assert ("8" in html or "常见" in html or "common" in html.lower()), bad
        assert user(app, "vol").password_hash == before, bad
    assert post_login(app.test_client(), "vol", BAD_PASSWORDS[-1]).status_code == 401


def test_ac1_any_long_enough_uncommon_password_is_accepted(world):
    """AC1: 8 to 64+ characters, no composition rules (all lower case, Chinese, 81 characters)."""
    app, _ = world
    current = PASSWORD
    for good in GOOD_PASSWORDS:
        c = logged_in(app, "vol", current)
        r = c.post("/account/password", data={"current": current, "new": good, "confirm": good,
                                              "csrf_token": c.csrf})
        assert r.status_code == 302, (good, r.get_data(as_text=True)[:500])
        current = good
    assert post_login(app.test_client(), "vol", current).status_code == 302


def test_ac1_password_change_needs_the_current_password(world):
    app, _ = world
    c = logged_in(app, "vol")
    before = user(app, "vol").password_hash
    r = c.post("/account/password", data={"current": "not my password", "new": "tbq9vxkw",
                                          "confirm": "tbq9vxkw", "csrf_token": c.csrf})
    assert r.status_code == 200 and user(app, "vol").password_hash == before


# ------------------------------------------------------------------ AC2
# No hard lock any more (issue 11 point 5, SECURITY.md NS4): past a limit further attempts wait, with
# HTTP 429; more in tests/test_hardening_login.py.
def test_ac2_account_is_throttled_after_n_failures(site):
    """AC2: past LOGIN_MAX_FAILURES from one address the account waits there (429), the owner elsewhere
    does not (issue 11 point 5)."""
    app = site(LOGIN_MAX_FAILURES=3, LOGIN_MAX_FAILURES_PER_IP=100)
    create_user(app, "alice", "volunteer")
    create_user(app, "bob", "volunteer")
    c = app.test_client()
    for _ in range(3):
        assert post_login(c, "alice", "wrong password!").status_code == 401
    r = post_login(c, "alice")  # the right password, but this address must wait
    assert r.status_code == 429 and not is_logged_in(c)
    assert "秒后再试" in r.get_data(as_text=True) and int(r.headers["Retry-After"]) > 0
    assert post_login(app.test_client(), "alice", addr="10.9.9.9").status_code == 302  # owner elsewhere
    assert post_login(app.test_client(), "bob").status_code == 302  # others are not affected
    from core.models import AuditLog
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "login.throttled").count() >= 1


def test_ac2_address_is_throttled_after_n_failures_across_accounts(site):
    app = site(LOGIN_MAX_FAILURES=100, LOGIN_MAX_FAILURES_PER_IP=4)
    create_user(app, "alice", "volunteer")
    c = app.test_client()
    for n in range(4):  # password spraying: one try per account name
        assert post_login(c, f"user{n}", "wrong password!", addr="10.0.0.1").status_code == 401
    assert post_login(app.test_client(), "alice", addr="10.0.0.1").status_code == 429
    assert post_login(app.test_client(), "alice", addr="10.0.0.2").status_code == 302


def test_ac2_the_throttle_is_shared_by_two_app_instances_on_one_database(site):
    """AC2: two workers (two app instances, one database): failures on one count on the other."""
    first = site(LOGIN_MAX_FAILURES=3)
    create_user(first, "alice", "volunteer")
    second = site(LOGIN_MAX_FAILURES=3)
    assert first is not second
    c1, c2 = first.test_client(), second.test_client()
    assert post_login(c1, "alice", "wrong password!").status_code == 401
    assert post_login(c2, "alice", "wrong password!").status_code == 401
    assert post_login(c1, "alice", "wrong password!").status_code == 401
    assert post_login(c2, "alice").status_code == 429  # the second worker makes it wait as well
    assert post_login(c1, "alice").status_code == 429


def test_ac2_the_wait_ends(site):
    """AC2: the wait is LOGIN_BACKOFF_SECONDS after the last failure, then the owner gets in."""
    app = site(LOGIN_MAX_FAILURES=2, LOGIN_WINDOW_MINUTES=15, LOGIN_BACKOFF_SECONDS=30)
    create_user(app, "alice", "volunteer")
    c = app.test_client()
    for _ in range(2):
        post_login(c, "alice", "wrong password!")
    r = post_login(c, "alice")
    assert r.status_code == 429 and 25 <= int(r.headers["Retry-After"]) <= 30
    from core.db import now
    from core.models import LoginFailure
    with app.app_context():  # move the clock: the failures are 31 seconds old
        LoginFailure.update(at=now() - _dt.timedelta(seconds=31)).execute()
    assert post_login(c, "alice").status_code == 302


def test_ac2_hostile_user_names_are_refused_cleanly(site):
    """AC2/IV5: a NUL byte or an absurdly long name is a plain refusal, never a 500."""
    app = site()
    c = app.test_client()
    assert post_login(c, "ali\x00ce", "whatever pass").status_code == 400
    assert post_login(c, "a" * 5000, "whatever pass").status_code in (200, 401)
    assert post_login(c, "' OR 1=1 --", "' OR 1=1 --").status_code == 401


# ------------------------------------------------------------------ AC3
def _init(monkeypatch, tmp_path, name, fresh=True):
    """Run `timebank init` for the site in tmp_path/name (``fresh``: on an empty database)."""
    from core.cli import main
    inst = tmp_path / name
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(inst))
    if os.environ.get("TIMEBANK_TEST_DATABASE_URL"):
        url = database_url(tmp_path) if fresh else os.environ["TIMEBANK_TEST_DATABASE_URL"]
    else:
        url = f"sqlite:///{inst / 'timebank.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.delenv("TIMEBANK_PLUGINS", raising=False)
    r = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return inst, r.output


def test_ac3_init_generates_the_admin_password(tmp_path, monkeypatch):
    """AC3: no default admin password: `timebank init` generates a strong one and shows it once."""
    from core import create_app
    from core.security import password_problem
    inst, out = _init(monkeypatch, tmp_path, "site1")
    pw_file = inst / "initial_admin_password"
    password = pw_file.read_text().strip()
    assert password in out
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    assert len(password) >= 12
    app = create_app({"TESTING": True})
    with app.test_request_context():
        assert password_problem(password, "admin") is None
    for guess in ("admin", "admin123", "password", "123456", "12345678", "timebank", "changeme"):
        assert post_login(app.test_client(), "admin", guess).status_code in (401, 429), guess
    from core.models import LoginFailure
    with app.app_context():
        LoginFailure.delete().execute()
    assert post_login(app.test_client(), "admin", password).status_code == 302

    _inst, out2 = _init(monkeypatch, tmp_path, "site1", fresh=False)  # again: the site is kept
    assert password in out2
    assert post_login(app.test_client(), "admin", password).status_code == 302


def test_ac3_every_site_gets_its_own_admin_password(tmp_path, monkeypatch):
    if os.environ.get("TIMEBANK_TEST_DATABASE_URL"):
        pytest.skip("two sites need two databases; the PostgreSQL run has one")
    a, _ = _init(monkeypatch, tmp_path, "site_a")
    b, _ = _init(monkeypatch, tmp_path, "site_b")
    assert (a / "initial_admin_password").read_text() != (b / "initial_admin_password").read_text()


# ------------------------------------------------------------------ AC4
def cookie(client):
    c = client.get_cookie(COOKIE)
    return c.value if c else None


def replay(app, value):
    c = app.test_client()
    c.set_cookie(COOKIE, value)
    return c


def test_ac4_login_starts_a_new_session(world):
    app, _ = world
    c = app.test_client()
    c.get("/login")
    pre = cookie(c)
    assert pre is not None  # the anonymous session (CSRF token) exists before login
    assert post_login(c, "vol").status_code == 302
    post = cookie(c)
    assert post != pre
    assert not is_logged_in(replay(app, pre))  # the pre-login cookie does not become a login
    c2 = logged_in(app, "vol")
    from core.models import LoginSession
    with app.app_context():
        rows = list(LoginSession.select().where(LoginSession.revoked_at.is_null()))
        assert len(rows) == 2 and rows[0].token_hash != rows[1].token_hash
    assert is_logged_in(c) and is_logged_in(c2)


def test_ac4_cookie_replayed_after_logout_is_refused(world):
    app, _ = world
    c = logged_in(app, "admin")
    saved = cookie(c)
    assert replay(app, saved).get("/admin/").status_code == 200
    assert c.post("/logout", data={"csrf_token": c.csrf}).status_code == 302
    r = replay(app, saved).get("/admin/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_ac4_cookie_replayed_after_password_change_is_refused(world):
    app, _ = world
    me = logged_in(app, "vol")
    other_device = logged_in(app, "vol")
    saved = cookie(me)
    r = me.post("/account/password", data={"current": PASSWORD, "new": "tbq9vxkw-new",
                                           "confirm": "tbq9vxkw-new", "csrf_token": me.csrf})
    assert r.status_code == 302
    assert is_logged_in(me)  # the device that changed it stays logged in, with a new session
    assert cookie(me) != saved
    assert not is_logged_in(other_device)
    assert not is_logged_in(replay(app, saved))


def test_ac4_cookie_of_a_deactivated_user_is_refused(world):
    app, _ = world
    victim = logged_in(app, "vol")
    saved = cookie(victim)
    admin = logged_in(app, "admin")
    uid = user(app, "vol").id
    r = admin.post(f"/admin/core_user/edit/?id={uid}",
                   data={"username": "vol", "display_name": "", "email": "", "locale": "",
                         "csrf_token": admin.csrf})  # is_active unticked
    assert r.status_code == 302
    assert user(app, "vol").is_active is False
    assert not is_logged_in(victim)
    assert not is_logged_in(replay(app, saved))
    assert post_login(app.test_client(), "vol").status_code == 401


TIMEOUT_CASES = [
    ("last_seen_at", _dt.timedelta(minutes=5), True),
    ("last_seen_at", _dt.timedelta(minutes=121), False),       # SESSION_IDLE_MINUTES = 120
    ("created_at", _dt.timedelta(hours=11), True),
    ("created_at", _dt.timedelta(hours=12, minutes=1), False),  # SESSION_ABSOLUTE_HOURS = 12
]


def test_ac4_idle_and_absolute_timeouts(world):
    """AC4: move the clock by ageing each session row in the database."""
    app, _ = world
    from core.db import now
    from core.models import LoginSession
    for column, age, alive in TIMEOUT_CASES:
        c = logged_in(app, "vol")
        with app.app_context():
            row = LoginSession.select().order_by(LoginSession.id.desc()).first()
            LoginSession.update({getattr(LoginSession, column): now() - age}).where(
                LoginSession.id == row.id).execute()
        assert is_logged_in(c) is alive, (column, age)
        with app.app_context():
            assert (LoginSession.get_by_id(row.id).revoked_at is None) is alive


def _set_cookie_header(resp):
    return [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]


def test_ac4_cookie_flags(world):
    app, _ = world
    r = post_login(app.test_client(), "vol")
    (h,) = _set_cookie_header(r)
    assert "HttpOnly" in h and "SameSite=Lax" in h
    assert "Secure" not in h  # development default; production turns SESSION_COOKIE_SECURE on


def test_ac4_cookie_is_secure_when_configured(site):
    app = site(SESSION_COOKIE_SECURE=True)
    create_user(app, "vol", "volunteer")
    c = app.test_client()
    https = {"base_url": "https://localhost"}
    page = c.get("/login", **https).get_data(as_text=True)
    r = c.post("/login", data={"username": "vol", "password": PASSWORD,
                               "csrf_token": csrf_from(page)},
               headers={"Referer": "https://localhost/login"}, **https)  # Flask-WTF's HTTPS check
    assert r.status_code == 302
    (h,) = _set_cookie_header(r)
    assert "Secure" in h and "HttpOnly" in h and "SameSite=Lax" in h


# ------------------------------------------------------------------ AC5
def _csrf_posts(ids, uid):
    """Every kind of state-changing POST of the kernel and of a plugin's admin view."""
    u = "/admin/teamdemo_record"
    rec = {"team": str(ids["team_a"]), "related": "", "title": f"{MARK_A} csrf", "note": "",
           "id_number": ID_A}
    return [
        ("create", u + "/new/", rec),
        ("edit", u + f"/edit/?id={ids['rec_a']}", rec),
        ("inline edit", u + "/ajax/update/", {"list_form_pk": ids["rec_a"], "title": "csrf inline"}),
        ("bulk action", u + "/action/", {"action": "delete", "rowid": str(ids["rec_a2"])}),
        ("delete", u + "/delete/", {"id": ids["rec_a"]}),
        ("user edit", f"/admin/core_user/edit/?id={uid}", {"username": "admin2", "is_active": "y"}),
        ("plugin enable", "/admin/plugins/notices/enable", {}),
        ("language switch", "/account/language", {"lang": "en", "next": "/admin/"}),
        ("password change", "/account/password", {"current": PASSWORD, "new": "tbq9vxkw-csrf",
                                                  "confirm": "tbq9vxkw-csrf"}),
        ("logout", "/logout", {}),
    ]


def test_ac5_every_post_without_a_valid_csrf_token_is_400(world):
    app, ids = world
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    c = logged_in(app, "admin")
    uid = user(app, "admin").id
    other = logged_in(app, "ta").csrf  # a real token, but of another session
    before = snapshot(app)
    for name, url, data in _csrf_posts(ids, uid):
        for tok in (None, "", "garbage-token", other):
            body = dict(data) if tok is None else {**data, "csrf_token": tok}
            r = c.post(url, data=body)
            assert r.status_code == 400, (name, tok, r.status_code)
    assert snapshot(app) == before
    assert is_logged_in(c)  # the logout without token did not log out
    assert user(app, "admin").locale == ""


def test_ac5_the_same_posts_with_the_token_pass(world):
    """Control for AC5: with the session's token none of those requests is refused with 400."""
    app, ids = world
    c = logged_in(app, "admin")
    uid = user(app, "admin").id
    for name, url, data in _csrf_posts(ids, uid):
        if name == "user edit":
            data = {**data, "username": "admin"}
        r = c.post(url, data={**data, "csrf_token": token(c)})
        assert r.status_code != 400, (name, r.get_data(as_text=True)[:300])
    assert not is_logged_in(c)


def test_ac5_login_form_needs_the_token_too(world):
    app, _ = world
    c = app.test_client()
    c.get("/login")
    r = c.post("/login", data={"username": "vol", "password": PASSWORD})
    assert r.status_code == 400 and not is_logged_in(c)


# ------------------------------------------------------------------ AC8
def test_ac8_extra_fields_in_admin_forms_are_ignored(world):
    app, ids = world
    from core.models import User, UserRole
    from teamdemo.models import Record
    admin = logged_in(app, "admin")
    vol = user(app, "vol")
    r = admin.post(f"/admin/core_user/edit/?id={vol.id}", data={
        "username": "vol", "display_name": "Renamed", "email": "", "locale": "", "is_active": "y",
        "password_hash": "x", "must_change_password": "y", "id": "999", "created_at": "2000-01-01",
        "is_admin": "1", "role": "platform_admin", "csrf_token": admin.csrf})
    assert r.status_code == 302
    after = user(app, "vol")
    assert after.display_name == "Renamed"  # the allowed field changed ...
    assert after.password_hash == vol.password_hash and after.id == vol.id  # ... nothing else
    assert after.must_change_password is False and after.created_at == vol.created_at
    with app.app_context():
        assert [r.role for r in UserRole.select().where(UserRole.user == vol.id)] == ["volunteer"]

    ta = logged_in(app, "ta")
    r = ta.post("/admin/teamdemo_record/new/", data={
        "team": str(ids["team_a"]), "related": "", "title": f"{MARK_A} extra", "note": "",
        "id_number": "", "team_id": str(ids["team_b"]), "id": "4242", "balance": "1000000",
        "csrf_token": ta.csrf})
    assert r.status_code == 302
    r = ta.post("/admin/teamdemo_record/ajax/update/", data={
        "list_form_pk": ids["rec_a"], "title": f"{MARK_A} inline", "team_id": str(ids["team_b"]),
        "note": "smuggled", "id_number": "smuggled", "csrf_token": ta.csrf})
    assert r.status_code == 200
    with app.app_context():
        created = Record.get(Record.title == f"{MARK_A} extra")
        assert created.team_id == ids["team_a"] and created.id != 4242
        rec = Record.get_by_id(ids["rec_a"])
        assert rec.title == f"{MARK_A} inline" and rec.team_id == ids["team_a"]
        assert rec.note == f"{MARK_A} note" and rec.id_number == ID_A


def test_ac8_extra_fields_on_account_pages_are_ignored(world):
    app, _ = world
    from core.models import UserRole
    c = logged_in(app, "vol")
    before = user(app, "vol")
    r = c.post("/account/password", data={
        "current": PASSWORD, "new": "tbq9vxkw-extra", "confirm": "tbq9vxkw-extra",
        "username": "root", "is_active": "0", "role": "platform_admin", "user_id": "1",
        "csrf_token": c.csrf})
    assert r.status_code == 302
    after = user(app, "vol")
    assert after.username == "vol" and after.is_active and after.id == before.id
    with app.app_context():
        assert UserRole.select().where((UserRole.user == before.id) &
                                       (UserRole.role == "platform_admin")).count() == 0


def test_ac4_login_and_language_switch_do_not_redirect_off_site(world):
    """AC4 (open redirect): ?next= and the language switch's next stay on this site."""
    app, _ = world
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        c2 = app.test_client()
        tok = csrf_from(c2.get("/login").get_data(as_text=True))
        r = c2.post("/login?next=" + target, data={"username": "vol", "password": PASSWORD,
                                                   "csrf_token": tok})
        assert r.status_code == 302
        loc = r.headers["Location"]
        assert "evil" not in loc and not loc.startswith("javascript"), (target, loc)
        r = c.post("/account/language", data={"lang": "en", "next": target,
                                              "csrf_token": csrf_from(page)})
        assert r.status_code == 302 and "evil" not in r.headers["Location"], target
