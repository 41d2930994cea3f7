"""Login and registration hardening (issue 11 points 4 and 5; SECURITY.md AC2, NS4).

- Equal work: a login for an unknown account (username, volunteer number or mobile number) verifies a
  password against an argon2 hash, as a known one does (measured as work: argon2 verify calls, never time).
- Throttling instead of hard locks: waits with HTTP 429 in Chinese; a person's volunteer number and
  mobile number count as one account; the client's address comes from X-Forwarded-For only when
  TRUSTED_PROXIES is configured; the owner from another (or their usual) address still gets in.
- Public forms that must reveal ("ID number already registered", "username taken") give one address a
  limited number of such answers per window.

Real database (SQLite, or PostgreSQL with TIMEBANK_TEST_DATABASE_URL); the clock is moved by ageing the
rows of ``core_login_failure``.
"""
from __future__ import annotations

import datetime as _dt

import pytest

from conftest import PASSWORD, csrf_from
from test_teams_workflow import PROFILE, cn_id, phone

PLUGINS = ["volunteers", "teams"]


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Still argon2id, with the cheapest parameters (the work is counted, not timed)."""
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def site(make_app):
    def build(**config):
        return make_app(plugins=PLUGINS, **config)
    return build


def volunteer(app, n: int, **extra) -> str:
    """Register volunteer ``n`` with an account (password PASSWORD); returns the volunteer number."""
    from plugins.volunteers import services as vs
    with app.test_request_context():
        v = vs.register({"name": f"志愿者{n}", "id_type": "cn_id", "id_number": cn_id(n), "phone": phone(n),
                         "password": PASSWORD, "agreement": True, **extra})
        return v.number


def post_login(client, username, password=PASSWORD, addr="127.0.0.1", xff=None):
    env = {"REMOTE_ADDR": addr}
    headers = {"X-Forwarded-For": xff} if xff else {}
    page = client.get("/login", environ_base=env, headers=headers).get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page)}, environ_base=env, headers=headers)


def age_failures(app, seconds: float):
    """Move the clock: every recorded failure happened ``seconds`` earlier."""
    from core.db import now
    from core.models import LoginFailure
    with app.app_context():
        for row in LoginFailure.select():
            LoginFailure.update(at=row.at - _dt.timedelta(seconds=seconds)).where(
                LoginFailure.id == row.id).execute()
        assert all(r.at <= now() for r in LoginFailure.select())


@pytest.fixture
def argon2_calls(monkeypatch):
    """Every argon2 verify call (hash checked), counted on the library, calling through."""
    from argon2 import PasswordHasher
    calls = []
    real = PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(hash)
        return real(self, hash, password)
    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


# ------------------------------------------------------------------ NS4 equal work (point 4)
def test_ns4_unknown_accounts_cost_one_argon2_verify_like_known_ones(site, argon2_calls):
    """Issue 11 point 4: known username, known volunteer number and known mobile with a wrong password,
    and an unknown username, volunteer number or mobile, each cost exactly one argon2 verify; the unknown
    ones verify the dummy hash; every answer is the same 401 with the same message. (Before the fix an
    unknown account cost no verify at all: ~15 ms against ~300 ms.)"""
    from core import security
    from core.models import User
    app = site(LOGIN_MAX_FAILURES=100, LOGIN_MAX_FAILURES_PER_IP=100)
    number = volunteer(app, 11)
    with app.app_context():
        real_hash = User.get(User.username == number).password_hash
        User.create(username="inactive", password_hash=security.hash_password(PASSWORD), is_active=False)
    bodies = set()
    cases = [(number, real_hash), (phone(11), real_hash), ("nosuchuser", "dummy"),
             (number[:-1] + str((int(number[-1]) + 1) % 10), "dummy"), (phone(99), "dummy"),
             ("１３９" + phone(98)[3:], "dummy")]
    for ident, expect in cases:
        del argon2_calls[:]
        r = post_login(app.test_client(), ident, "wrong password 123")
        assert r.status_code == 401, ident
        bodies.add("用户名或密码错误" in r.get_data(as_text=True))
        assert len(argon2_calls) == 1, (ident, argon2_calls)
        with app.app_context():
            want = security.dummy_hash() if expect == "dummy" else expect
        assert argon2_calls[0] == want, ident
    assert bodies == {True}
    del argon2_calls[:]  # an inactive account: its own hash is checked, the answer is the same refusal
    assert post_login(app.test_client(), "inactive").status_code == 401 and len(argon2_calls) == 1


# ------------------------------------------------------------------ AC2 / NS4 throttling (point 5)
def test_ac2_number_and_mobile_count_as_one_account(site):
    """Issue 11 point 5: failures by volunteer number and by mobile number add up for the one person;
    an unknown mobile number counts once however its digits are written (full-width)."""
    app = site(LOGIN_MAX_FAILURES=4, LOGIN_MAX_FAILURES_PER_IP=100)
    number = volunteer(app, 12)
    c = app.test_client()
    for ident in (number, phone(12), number, phone(12)):
        assert post_login(c, ident, "wrong password 123").status_code == 401
    for ident in (number, phone(12)):
        r = post_login(c, ident)   # the right password: this account must wait from this address
        assert r.status_code == 429, ident
    unknown = phone(77)
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in unknown)   # full-width digits
    for ident in (unknown, wide, unknown, wide):
        assert post_login(c, ident, "wrong password 123").status_code == 401
    assert post_login(c, unknown).status_code == 429
    assert post_login(c, wide).status_code == 429


def test_ac2_throttle_is_exponential_backoff_not_a_lock(site):
    """Issue 11 point 5: past the limit the wait is LOGIN_BACKOFF_SECONDS, doubled by each further
    failure, capped by LOGIN_BACKOFF_MAX_SECONDS; after the wait one more try is allowed."""
    app = site(LOGIN_MAX_FAILURES=2, LOGIN_BACKOFF_SECONDS=10, LOGIN_BACKOFF_MAX_SECONDS=35,
               LOGIN_MAX_FAILURES_PER_IP=100)
    number = volunteer(app, 13)
    c = app.test_client()
    for _ in range(2):
        assert post_login(c, number, "wrong password 123").status_code == 401
    waits = []
    for _ in range(4):
        r = post_login(c, number, "wrong password 123")
        assert r.status_code == 429 and "秒后再试" in r.get_data(as_text=True)
        waits.append(int(r.headers["Retry-After"]))
        age_failures(app, waits[-1])          # wait it out ...
        assert post_login(c, number, "wrong password 123").status_code == 401   # ... one more try
    assert [w >= b - 1 for w, b in zip(waits, (10, 20, 35, 35))] == [True] * 4, waits
    assert waits[-1] <= 35
    age_failures(app, 35)
    assert post_login(c, number).status_code == 302   # never locked: the owner gets in after the wait


def test_ns4_client_address_from_x_forwarded_for_only_with_trusted_proxies(site):
    """Issue 11 point 5: behind one trusted proxy (TRUSTED_PROXIES = 1) the address limit counts the
    client from X-Forwarded-For: an attacker does not throttle other people behind the same proxy, and
    the audit log records the client's address."""
    app = site(TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_IP=3, LOGIN_MAX_FAILURES=100)
    number = volunteer(app, 14)
    proxy = "10.0.0.1"
    for n in range(3):
        assert post_login(app.test_client(), f"spray{n}", "wrong password 123", addr=proxy,
                          xff="203.0.113.5").status_code == 401
    assert post_login(app.test_client(), number, addr=proxy, xff="203.0.113.5").status_code == 429
    assert post_login(app.test_client(), number, addr=proxy, xff="198.51.100.7").status_code == 302
    # a client cannot choose its address by prepending its own X-Forwarded-For entries
    assert post_login(app.test_client(), number, addr=proxy,
                      xff="198.51.100.9, 203.0.113.5").status_code == 429
    from core.models import AuditLog
    with app.app_context():
        ips = {a.ip for a in AuditLog.select().where(AuditLog.action.startswith("login."))}
    assert "203.0.113.5" in ips and "198.51.100.7" in ips and proxy not in ips


def test_ns4_x_forwarded_for_is_ignored_without_trusted_proxies(site):
    """Issue 11 point 5: without TRUSTED_PROXIES (default 0) the header is not trusted: a client that
    changes X-Forwarded-For on every try is still counted under its real address."""
    app = site(LOGIN_MAX_FAILURES_PER_IP=3, LOGIN_MAX_FAILURES=100)
    assert app.config["TRUSTED_PROXIES"] == 0
    number = volunteer(app, 15)
    for n in range(3):
        assert post_login(app.test_client(), f"spray{n}", "wrong password 123", addr="10.0.0.1",
                          xff=f"203.0.113.{n}").status_code == 401
    assert post_login(app.test_client(), number, addr="10.0.0.1", xff="198.51.100.7").status_code == 429


def test_ac2_owner_from_another_or_usual_address_is_not_locked_out(site):
    """Issue 11 point 5: a guesser on one address slows only that address for the account; a guesser
    spread over many addresses reaches the looser all-address limit, which still lets the owner in from
    an address they logged in from before (their usual path)."""
    app = site(LOGIN_MAX_FAILURES=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=6, LOGIN_MAX_FAILURES_PER_IP=100)
    number = volunteer(app, 16)
    assert post_login(app.test_client(), number, addr="192.0.2.10").status_code == 302   # the owner's home
    for n in range(3):
        assert post_login(app.test_client(), number, "wrong password 123", addr="10.6.6.6").status_code == 401
    assert post_login(app.test_client(), number, addr="10.6.6.6").status_code == 429
    assert post_login(app.test_client(), number, addr="192.0.2.20").status_code == 302   # another address
    for n in range(3):   # more guessers elsewhere: 6 failures over all addresses
        assert post_login(app.test_client(), number, "wrong password 123",
                          addr=f"10.7.7.{n}").status_code == 401
    assert post_login(app.test_client(), number, addr="10.8.8.8").status_code == 429   # a new address waits
    assert post_login(app.test_client(), number, addr="192.0.2.10").status_code == 302  # the usual one not


def test_ac2_throttled_login_page_is_chinese_429(site):
    """Issue 11 point 5: the refusal is HTTP 429 with Retry-After and "请在 N 秒后再试" (default locale)."""
    app = site(LOGIN_MAX_FAILURES=1)
    c = app.test_client()
    assert post_login(c, "someone", "wrong password 123").status_code == 401
    r = post_login(c, "someone")
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and "尝试次数过多" in html
    assert f"请在 {r.headers['Retry-After']} 秒后再试" in html


def test_ac2_guessing_the_current_password_on_the_change_page_is_throttled(site):
    """Issue 11 point 5, same defect class: an open session could try current passwords on
    /account/password without any limit; now the failures count like failed logins (429, no change)."""
    from conftest import login
    from core.models import User
    app = site(LOGIN_MAX_FAILURES=2)
    number = volunteer(app, 17)
    c = app.test_client()
    assert login(c, number).status_code == 302
    with app.app_context():
        before = User.get(User.username == number).password_hash

    def change(current):
        tok = csrf_from(c.get("/account/password").get_data(as_text=True))
        return c.post("/account/password", data={"current": current, "new": "tbq9vxkw-new",
                                                 "confirm": "tbq9vxkw-new", "csrf_token": tok})
    for _ in range(2):
        assert change("wrong password 123").status_code == 200
    r = change(PASSWORD)   # the right one, but this account must wait now
    assert r.status_code == 429 and "秒后再试" in r.get_data(as_text=True)
    with app.app_context():
        assert User.get(User.username == number).password_hash == before
    age_failures(app, 31)
    assert change(PASSWORD).status_code == 302


# ------------------------------------------------------------------ NS4 limits on revealing answers (point 4)
def _register_volunteer(client, addr, **over):
    env = {"REMOTE_ADDR": addr}
    page = client.get("/register", environ_base=env).get_data(as_text=True)
    data = {"name": "李小红", "gender": "F", "id_type": "cn_id", "id_number": "11010519491231002X",
            "phone": "13800001234", "password": PASSWORD, "agreement": "1", **over}
    return client.post("/register", data={**data, "csrf_token": csrf_from(page)}, environ_base=env)


def _rows(app):
    from core.db import db
    with app.app_context():
        return {t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in ("volunteers_volunteer", "core_user", "teams_team")}


def test_ns4_register_reveals_a_registered_id_only_a_few_times_per_address(site):
    """Issue 11 point 4: "this ID number is already registered" is given REVEAL_MAX_PER_IP times per
    window to one address; then every registration from it gets 429 in Chinese (so the refusal itself
    reveals nothing), nothing is written; other addresses are not affected; the window ends."""
    app = site(REVEAL_MAX_PER_IP=2, REVEAL_WINDOW_MINUTES=60)
    c = app.test_client()
    assert _register_volunteer(c, "10.1.1.1").status_code == 201
    before = _rows(app)
    for _ in range(2):
        r = _register_volunteer(c, "10.2.2.2", phone="13900009999")
        assert r.status_code == 400 and "已注册" in r.get_data(as_text=True)
    for over in ({"phone": "13900009999"}, {"id_number": cn_id(40), "phone": phone(40), "gender": "M"}):
        r = _register_volunteer(c, "10.2.2.2", **over)
        html = r.get_data(as_text=True)
        assert r.status_code == 429 and "尝试次数过多" in html and int(r.headers["Retry-After"]) > 0
    assert _rows(app) == before
    assert _register_volunteer(c, "10.3.3.3", phone="13900009999").status_code == 400
    assert _register_volunteer(app.test_client(), "10.3.3.3", id_number=cn_id(41),
                               phone=phone(41), gender="M").status_code == 201
    age_failures(app, 3601)
    assert _register_volunteer(c, "10.2.2.2", id_number=cn_id(40), phone=phone(40), gender="M").status_code == 201


def test_ns4_register_errors_that_reveal_nothing_are_not_counted(site):
    """Issue 11 point 4: a mistyped form (bad phone) is not an "already registered" answer."""
    app = site(REVEAL_MAX_PER_IP=1)
    c = app.test_client()
    for _ in range(3):
        assert _register_volunteer(c, "10.4.4.4", phone="12345").status_code == 400
    assert _register_volunteer(c, "10.4.4.4").status_code == 201


def _register_team(client, addr, **over):
    env = {"REMOTE_ADDR": addr}
    page = client.get("/teams/register", environ_base=env).get_data(as_text=True)
    data = {**PROFILE, "name": "越秀党员先锋队", "username": "yuexiu", "password": PASSWORD, **over}
    return client.post("/teams/register", data={**data, "csrf_token": csrf_from(page)}, environ_base=env)


def test_ns4_team_register_reveals_a_taken_username_only_a_few_times_per_address(site):
    """Issue 11 point 4: "this username is taken" (and "team name registered") REVEAL_MAX_PER_IP times
    per window per address, then 429 in Chinese for every team registration from it; nothing written."""
    app = site(REVEAL_MAX_PER_IP=2)
    c = app.test_client()
    assert _register_team(c, "10.1.1.1").status_code == 201
    before = _rows(app)
    r = _register_team(c, "10.5.5.5", name="另一个队")
    assert r.status_code == 400 and "用户名已被使用" in r.get_data(as_text=True)
    assert _register_team(c, "10.5.5.5", username="another").status_code == 400  # team name taken
    for over in ({"name": "第三个队", "username": "third"}, {"name": "另一个队"}):
        r = _register_team(c, "10.5.5.5", **over)
        assert r.status_code == 429 and "尝试次数过多" in r.get_data(as_text=True)
    assert _rows(app) == before
    assert _register_team(c, "10.6.6.6", name="第三个队", username="third").status_code == 201
