"""Serving (kernel issue #2 point 11): ``timebank serve`` runs gunicorn with workers and threads, a plugin
enabled in the admin reaches the running workers without a restart (SiteApp), connections are kept per
worker thread, and ``timebank demo`` really serves a site with demo data."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import PG_URL, csrf_from, database_url
from test_tasks import lines_of, stop, timebank_cmd

FIXTURES = str(Path(__file__).parent / "fixtures" / "task_plugins")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client over urllib (requests is not installed)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None, timeout=10) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def get(self, path):
        return self.request(path)

    def post_form(self, page: str, action: str, fields: dict) -> tuple[int, str]:
        """GET ``page`` for its CSRF token, then POST ``fields`` to ``action`` (redirects followed)."""
        status, html = self.get(page)
        assert status == 200, (page, status)
        return self.request(action, {**fields, "csrf_token": csrf_from(html)})

    def login(self, username: str, password: str):
        status, html = self.post_form("/login", "/login", {"username": username, "password": password})
        assert status == 200 and "/logout" in html, (status, html[:500])
        with self.opener.open(self.base + "/", timeout=10) as r:
            landed = r.geturl()
        if landed.endswith("/account/password"):  # the generated admin password: change it first (AC3)
            new = password + "-changed"
            status, html = self.post_form("/account/password", "/account/password",
                                          {"current": password, "new": new, "confirm": new})
            assert status == 200 and "/account/password" not in self.opener.open(self.base + "/").geturl()


def wait_until_up(browser: Browser, proc, output, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("server exited:\n" + drain(output))
        try:
            if browser.get("/login")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail("server did not answer /login:\n" + drain(output))


def drain(output) -> str:
    lines = []
    while not output.empty():
        lines.append(output.get())
    return "".join(lines)


@pytest.fixture
def site_env(tmp_path):
    """Environment of a site in a fresh instance folder (PostgreSQL when the suite runs on it)."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("TIMEBANK_") and not k.startswith("TIMEBANK_TEST_"))}
    env.update(TIMEBANK_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONUNBUFFERED="1",
               TIMEBANK_PLUGIN_PATHS=FIXTURES, TIMEBANK_PLUGIN_RELOAD_SECONDS="0.3")
    if PG_URL:
        env["TIMEBANK_DATABASE_URL"] = database_url(tmp_path)  # resets the schema
    yield env
    if PG_URL:
        database_url(tmp_path)  # leave no site behind for the next test


def timebank_init(env) -> str:
    r = subprocess.run(timebank_cmd() + ["init"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    m = re.search(r"admin / (\S+)", r.stdout)
    assert m, r.stdout
    password = m.group(1)
    stored = Path(env["TIMEBANK_INSTANCE_PATH"], "initial_admin_password").read_text().strip()
    assert stored == password
    return password


def started(args, env):
    return subprocess.Popen(timebank_cmd() + args, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_serve_reloads_plugins_enabled_in_the_admin_without_restart(site_env):
    password = timebank_init(site_env)
    port = free_port()
    proc = started(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                    "--threads", "2"], site_env)
    output = lines_of(proc)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until_up(browser, proc, output)
        browser.login("admin", password)
        status, html = browser.get("/admin/")
        assert status == 200 and "/admin/plugins/" in html
        assert browser.get("/admin/fixture_jobs_job/")[0] == 404  # fixture_jobs is disabled

        status, html = browser.post_form("/admin/plugins/", "/admin/plugins/fixture_jobs/enable", {})
        assert status == 200
        # every worker rebuilds its app within PLUGIN_RELOAD_SECONDS: wait for the view, then ask
        # several times more so that both workers have answered with it
        deadline, ok = time.monotonic() + 15, 0
        while ok < 8 and time.monotonic() < deadline:
            ok = ok + 1 if browser.get("/admin/fixture_jobs_job/")[0] == 200 else 0
            time.sleep(0.1)
        assert ok >= 8, "the enabled plugin's admin view did not appear:\n" + drain(output)
        assert "/admin/fixture_jobs_job/" in browser.get("/admin/")[1]
        # no restart: the same server and the same two workers
        assert proc.poll() is None
        boots = [line for line in drain(output).splitlines() if "Booting worker" in line]
        assert len(boots) == 2, boots
    finally:
        stop(proc)
        print(drain(output))  # shown by pytest when the test fails
    assert proc.returncode is not None


@pytest.mark.slow
def test_demo_serves_the_demo_site(site_env):
    port = free_port()
    proc = started(["demo", "--host", "127.0.0.1", "--port", str(port)], site_env)
    output = lines_of(proc)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        wait_until_up(browser, proc, output, timeout=180)
        password = Path(site_env["TIMEBANK_INSTANCE_PATH"], "initial_admin_password").read_text().strip()
        printed = drain(output)
        assert f"admin / {password}" in printed
        assert f"http://127.0.0.1:{port}/login" in printed
        browser.login("admin", password)
        status, html = browser.get("/admin/")
        assert status == 200
        status, html = browser.get("/admin/core_user/")
        assert status == 200 and "demo_volunteer" in html and "demo_team_admin" in html
    finally:
        stop(proc)
        print(drain(output))  # shown by pytest when the test fails


def test_connection_is_kept_across_requests(app, client):
    """One connection per worker thread, reused by every request it serves (not opened per request)."""
    from core.db import db
    seen = []

    @app.get("/_probe/connection")
    def probe():
        seen.append(db.obj.connection())
        return "ok"

    for _ in range(3):
        assert client.get("/_probe/connection").status_code == 200
        assert client.get("/login").status_code == 200
    assert len(seen) == 3 and all(c is seen[0] for c in seen)
    assert not db.obj.is_closed() and db.obj.connection() is seen[0]


def test_site_app_reloads_when_the_plugin_set_changes(make_app, tmp_path):
    """In process: SiteApp rebuilds the Flask app after another worker enables a plugin, and keeps the
    thread's database connection through the rebuild."""
    from werkzeug.test import Client

    from core import SiteApp
    from core import plugins as P
    from core.db import db
    first = make_app(plugins=["notices"], PLUGIN_PATHS=[FIXTURES])
    site = SiteApp({"INSTANCE_PATH": first.config["INSTANCE_PATH"],
                    "DATABASE_URL": first.config["DATABASE_URL"], "TESTING": True,
                    "TASKS_IMMEDIATE": True, "PLUGIN_PATHS": [FIXTURES], "PLUGIN_RELOAD_SECONDS": 0})
    web = Client(site)
    assert web.get("/admin/fixture_jobs_job/").status_code == 404
    conn = db.obj.connection()
    old_app = site.app
    with old_app.app_context():
        assert P.enable(["fixture_jobs"]) == ["fixture_jobs"]  # as the admin page does in any worker
    r = web.get("/admin/fixture_jobs_job/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # there now, behind the login
    assert site.app is not old_app
    assert "fixture_jobs" in site.app.extensions["timebank"].loaded
    assert db.obj.connection() is conn
    # nothing changed since: no further rebuild
    app_now = site.app
    assert web.get("/login").status_code == 200 and site.app is app_now


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: the server ends a kept connection")
def test_kept_connection_recovers_after_the_server_drops_it(app, client):
    """A worker keeps its connection; when PostgreSQL ends it (restart, idle timeout), the next
    request of that thread opens a new one instead of failing for ever."""
    import psycopg2

    from core.db import db
    assert client.get("/login").status_code == 200
    pid = db.obj.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    admin = psycopg2.connect(PG_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()
    import peewee
    try:  # the request that meets the dead connection fails (TESTING propagates the error) …
        client.get("/notices/")
    except peewee.OperationalError:
        pass
    # … the following ones of this thread work again
    assert [client.get("/notices/").status_code for _ in range(2)] == [200, 200]
    assert db.obj.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid


def test_workers_starting_together_set_the_schema_up_one_at_a_time(tmp_path):
    """gunicorn starts its workers at the same moment and each builds the app: the kernel's schema
    work must not deadlock (PostgreSQL) or fail on a half-made catalogue. Fresh database, six
    "workers" at once, twice (the second time everything exists already)."""
    import threading

    import peewee

    from core import ensure_core_schema
    from core.db import db, init_database, transaction
    init_database(database_url(tmp_path))
    for _ in range(2):
        barrier, errors = threading.Barrier(6), []

        def start():
            try:
                barrier.wait(10)
                ensure_core_schema()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                db.close()

        threads = [threading.Thread(target=start) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
    from core.models import AuditLog
    assert db.table_exists("core_user")
    with transaction():
        AuditLog.create(action="probe", username="t")
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with transaction():
            AuditLog.update(action="changed").execute()


def test_site_app_retries_a_reload_that_failed(make_app, tmp_path, monkeypatch):
    """A reload that fails keeps the previous app serving and is tried again later (backing off),
    instead of leaving this worker on the old plugin set for good while the others moved on."""
    from werkzeug.test import Client

    from core import SiteApp
    from core import plugins as P
    flag = tmp_path / "flaky-now"
    monkeypatch.setenv("FIXTURE_FLAKY_FLAG", str(flag))
    first = make_app(plugins=["notices"], PLUGIN_PATHS=[FIXTURES])
    site = SiteApp({"INSTANCE_PATH": first.config["INSTANCE_PATH"],
                    "DATABASE_URL": first.config["DATABASE_URL"], "TESTING": True,
                    "TASKS_IMMEDIATE": True, "PLUGIN_PATHS": [FIXTURES], "PLUGIN_RELOAD_SECONDS": 0})
    web = Client(site)
    old_app = site.app
    with old_app.app_context():
        assert P.enable(["fixture_flaky"]) == ["fixture_flaky"]
    flag.write_text("x")
    assert web.get("/notices/").status_code == 200  # the reload failed: the previous app answers
    assert site.app is old_app and web.get("/flaky/").status_code == 404
    flag.unlink()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and web.get("/flaky/").status_code != 200:
        time.sleep(0.05)
    r = web.get("/flaky/")
    assert r.status_code == 200 and b"flaky plugin is loaded" in r.data
    assert "fixture_flaky" in site.app.extensions["timebank"].loaded
