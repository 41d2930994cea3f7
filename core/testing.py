"""Test fixtures for timebank and its plugins: a pytest plugin shipped with the package.

Registered with the ``pytest11`` entry point ``timebank`` (pyproject.toml), so ``pytest`` finds these
fixtures in any project of an environment where timebank is installed: this repository's suite and a
third-party plugin's ``tests/`` alike, without copying a conftest.py (issue 12 point 1).

Fixtures (docs/plugins.md, Tests):

- ``make_app(plugins=None, **config)``: a fresh site in the test's temporary folder. ``plugins=None``
  means the ``timebank_plugins`` fixture, which reads the ini option ``timebank_plugins``
  (``[tool.pytest.ini_options] timebank_plugins = ["notes"]``); ``app``, ``client``, ``runner`` in the
  style of Flask's tutorial. CSRF stays on, as on a real site.
- ``make_user(username, *roles, scope="", password=PASSWORD, **fields)``, ``admin_client`` (a client
  logged in as the platform admin ``admin``).
- ``server``: a site served by ``timebank init`` + ``timebank serve`` for browser tests, configured by
  the ``site_env`` fixture (``TIMEBANK_*`` variables); ``site``: that site's database opened in the test
  process; ``browser_page``: headless Chromium (zh-CN) with the page's failed requests in ``.problems``.

Helpers to import: ``PASSWORD``, ``login(client, username)``, ``csrf_from(html)``, ``pdf_text(data)``,
``flat(text)``, ``database_url(tmp_path)``, ``reset_postgres(url)``, ``test_database_url()``.

Databases: SQLite in the temporary folder, or PostgreSQL when ``TIMEBANK_TEST_DATABASE_URL`` is set;
then every test starts from an empty ``public`` schema, and under pytest-xdist each worker gets its own
database ``<name>_<worker>`` next to the one named (created on first use), so workers never reset each
other's schema. Tests marked ``once`` (no database behaviour) are skipped in the PostgreSQL pass.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

__all__ = ["PASSWORD", "login", "csrf_from", "pdf_text", "flat", "database_url", "reset_postgres",
           "test_database_url", "timebank_command", "free_port", "CHROMIUM", "CHROMIUM_ARGS"]

PASSWORD = "correct horse battery staple"
ENV_URL = "TIMEBANK_TEST_DATABASE_URL"
CHROMIUM = os.environ.get("TIMEBANK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_URL: list = []  # memo of test_database_url(): one answer per process


# ------------------------------------------------------------------ databases
def _worker_database(url: str) -> str:
    """Under xdist, a database of this worker's own beside the configured one (created if missing)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from urllib.parse import urlparse, urlunparse
    import psycopg2
    u = urlparse(url)
    if u.path.lstrip("/").endswith(f"_{worker}"):
        return url  # already this worker's (a subprocess inherits the rewritten variable)
    name = f"{u.path.lstrip('/') or 'postgres'}_{worker}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(u._replace(path="/" + name))


def test_database_url() -> str:
    """The PostgreSQL URL tests use ("" for SQLite): ``TIMEBANK_TEST_DATABASE_URL``, made this xdist
    worker's own. The variable is rewritten to it, because tests and the servers they start read it."""
    if not _URL:
        url = _worker_database(os.environ.get(ENV_URL, ""))
        if url:
            os.environ[ENV_URL] = url
        _URL.append(url)
    return _URL[0]


test_database_url.__test__ = False  # a helper, not a test (pytest collects test_* names it imports)


def reset_postgres(url: str):
    """Drop and recreate the ``public`` schema of ``url`` (closing the kernel's connection first)."""
    import psycopg2
    from core.db import db
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


def database_url(tmp_path) -> str:
    """A database for one test: the emptied PostgreSQL one, or a new SQLite file in ``tmp_path``."""
    url = test_database_url()
    if url:
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'test.db'}"


# ------------------------------------------------------------------ pytest hooks
def pytest_addoption(parser):
    parser.addini("timebank_plugins", type="args", default=[],
                  help="plugins of the site make_app/app build by default (timebank)")


def pytest_configure(config):
    config.addinivalue_line("markers", "once: does not depend on the database; skipped in the "
                                       "PostgreSQL pass (timebank)")
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (timebank)")
    test_database_url()


def pytest_collection_modifyitems(config, items):
    if not test_database_url():
        return
    skip = pytest.mark.skip(reason="does not depend on the database; runs in the SQLite pass")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)


# ------------------------------------------------------------------ sites and users
@pytest.fixture
def timebank_plugins(pytestconfig) -> list:
    """The plugins ``make_app()`` enables when not told: the ini option ``timebank_plugins``."""
    return list(pytestconfig.getini("timebank_plugins"))


@pytest.fixture
def make_app(tmp_path, monkeypatch, timebank_plugins):
    """Factory: ``make_app(plugins=[...], **config)`` builds a fresh site in ``tmp_path``."""
    from core import create_app
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    url = database_url(tmp_path)

    def factory(plugins=None, **config):
        cfg = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url, "TESTING": True,
               "TASKS_IMMEDIATE": True, "PLUGINS": timebank_plugins if plugins is None else plugins}
        cfg.update(config)
        return create_app(cfg)
    yield factory
    from core.db import db
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """``make_user("name", "platform_admin", scope="")`` creates an active user with roles."""
    from core.models import User
    from core.security import grant_role, hash_password

    def factory(username, *roles, scope="", password=PASSWORD, **fields):
        with app.app_context():
            u = User.create(username=username, password_hash=hash_password(password), **fields)
            for r in roles:
                grant_role(u, r, scope)
            return u
    return factory


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in ``html`` (fails the test when there is none)."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def login(client, username, password=PASSWORD):
    """Log ``client`` in through the login form (with its CSRF token); returns the response (302)."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page)})


def pdf_text(data: bytes) -> str:
    """The text of a PDF as pypdf reads it (what a copy-paste from a viewer gives)."""
    import io
    from pypdf import PdfReader
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text without the line breaks a wrapped paragraph gets."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def admin_client(app, client, make_user):
    """``client`` logged in as ``admin``, a platform admin."""
    make_user("admin", "platform_admin")
    r = login(client, "admin")
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


# ------------------------------------------------------------------ a served site (browser tests)
def _missing(reason: str):
    """Without a browser a browser test cannot run: a skip on a developer's machine, a failure on CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — on CI the browser must be installed")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timebank_command(*args) -> list:
    """The ``timebank`` command of this interpreter's installation."""
    return [sys.executable, "-m", "core.cli", *args]


@pytest.fixture
def site_env() -> dict:
    """Extra ``TIMEBANK_*`` environment of the site ``server`` serves; override it in a test module or
    conftest, e.g. ``{"TIMEBANK_PLUGINS": "teams,notes"}`` for exactly those plugins."""
    return {}


@pytest.fixture
def server(tmp_path, site_env):
    """A site served by ``timebank serve`` (gunicorn, 1 worker, 4 threads); always terminated. Yields
    ``base`` (the URL), the admin ``password`` (user ``admin``), the server ``log``, ``tmp``, the
    ``instance`` folder and the server's ``env``."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the Python package playwright is not installed (pip install playwright)")

    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    env["TIMEBANK_INSTANCE_PATH"] = str(instance)
    if test_database_url():
        reset_postgres(test_database_url())
        env["TIMEBANK_DATABASE_URL"] = test_database_url()
    env.update(site_env)
    r = subprocess.run(timebank_command("init"), env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"timebank init failed:\n{r.stdout}\n{r.stderr}"
    password = (instance / "initial_admin_password").read_text().strip()
    assert password and password in r.stdout  # init prints the admin login it created

    port = free_port()
    # the served address is the site's configured public address (QR codes print it, SECURITY.md NS3)
    env.setdefault("TIMEBANK_PUBLIC_URL", f"http://127.0.0.1:{port}")
    log_path = tmp_path / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(timebank_command("serve", "--port", str(port), "--workers", "1", "--threads", "4"),
                            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        import urllib.error
        import urllib.request
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"timebank serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(base + "/login", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"timebank serve did not answer within 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield {"base": base, "password": password, "log": log_path, "tmp": tmp_path, "instance": instance,
               "env": env}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(name="site")
def served_app(server):
    """``site``: the served site's database, opened in this process, for a test's setup through the
    services and for the scheduler's steps (tasks run at once here)."""
    from core import create_app
    from core.db import db
    cfg = {"INSTANCE_PATH": str(server["instance"]), "TASKS_IMMEDIATE": True,
           "PUBLIC_URL": server["env"]["TIMEBANK_PUBLIC_URL"]}
    if server["env"].get("TIMEBANK_DATABASE_URL"):
        cfg["DATABASE_URL"] = server["env"]["TIMEBANK_DATABASE_URL"]
    app = create_app(cfg)
    try:
        yield app
    finally:
        if db.obj is not None and not db.obj.is_closed():
            db.obj.close()


@pytest.fixture
def browser_page(server):
    """A headless Chromium page (zh-CN, 1280×800) for ``server``; ``.problems`` lists failed requests
    and script errors, so a test can assert the page loaded whole."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
            pg = context.new_page()
            pg.set_default_timeout(20_000)
            pg.problems = []
            pg.on("response", lambda r: r.status >= 400 and pg.problems.append(f"{r.status} {r.url}"))
            pg.on("requestfailed", lambda r: pg.problems.append(f"failed {r.url} {r.failure}"))
            pg.on("pageerror", lambda e: pg.problems.append(f"script error {e}"))
            # a script or handler the Content-Security-Policy refused is a broken page too (AC10)
            pg.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
                  and pg.problems.append(f"CSP: {m.text}"))
            yield pg
        finally:
            browser.close()
