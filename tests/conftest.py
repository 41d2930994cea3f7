"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner`` plus helpers.

The database is SQLite in a temporary instance folder, or PostgreSQL when TIMEBANK_TEST_DATABASE_URL is
set (CI runs the suite both ways). On PostgreSQL every test starts from an empty ``public`` schema.

The suite runs in parallel (pytest-xdist, one process a core). On PostgreSQL each worker gets its own
database ``<name>_<worker>`` next to the one named, created on first use, so workers never reset each
other's schema. Tests marked ``once`` do not depend on the database; they run in the SQLite pass only.
"""
from __future__ import annotations

import os
import re

import pytest

from core import create_app

def _worker_database(url: str) -> str:
    """Under xdist, a database of this worker's own beside the configured one (created if missing)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from urllib.parse import urlparse, urlunparse
    import psycopg2
    u = urlparse(url)
    name = f"{u.path.lstrip('/') or 'postgres'}_{worker}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(u._replace(path="/" + name))


PG_URL = _worker_database(os.environ.get("TIMEBANK_TEST_DATABASE_URL", ""))
if PG_URL:  # tests and the servers they start read the variable: point it at this worker's database
    os.environ["TIMEBANK_TEST_DATABASE_URL"] = PG_URL


def pytest_collection_modifyitems(config, items):
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="does not depend on the database; runs in the SQLite pass")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)
DEFAULT_PLUGINS = ["notices"]


def reset_postgres(url: str):
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
    if PG_URL:
        reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Factory: ``make_app(plugins=[...], **config)`` builds a fresh site in ``tmp_path``."""
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    url = database_url(tmp_path)

    def factory(plugins=None, **config):
        cfg = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url, "TESTING": True,
               "TASKS_IMMEDIATE": True, "PLUGINS": DEFAULT_PLUGINS if plugins is None else plugins}
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
def site_env() -> dict:
    """Extra ``TIMEBANK_*`` environment for the site the browser tests serve (``server`` in
    tests/test_browser.py); a test module overrides this fixture, e.g. with a local SMTP server
    (tests/test_activities_e2e_browser.py)."""
    return {}


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app):
    """``make_user("name", "platform_admin", scope="")`` creates an active user with a role."""
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
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def pdf_text(data: bytes) -> str:
    """The text of a PDF as pypdf reads it (what a copy-paste from a viewer gives)."""
    import io
    from pypdf import PdfReader
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text without the line breaks a wrapped paragraph gets."""
    return re.sub(r"\s+", "", text)


def login(client, username, password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": csrf_from(page)})
    return r


@pytest.fixture
def admin_client(app, client, make_user):
    make_user("admin", "platform_admin")
    r = login(client, "admin")
    assert r.status_code == 302, r.get_data(as_text=True)
    return client
