"""BR1: ``timebank backup`` and ``timebank restore`` on SQLite and PostgreSQL, through the real CLI.

Each test builds a site with ``timebank init``, writes data, backs it up, changes and deletes data,
restores, and proves the data is back and ``timebank check`` passes. A file that is not a backup of
this site is refused with a clear message and the database keeps its current state.
"""
from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from conftest import PG_URL, reset_postgres
from core import create_app
from core.cli import main
from core.db import db


class Site:
    """A site in a temporary instance folder, driven through ``core.cli.main`` like an operator would."""

    def __init__(self, tmp_path, monkeypatch, url: str):
        self.instance = tmp_path / "instance"
        self.url = url
        monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(self.instance))
        monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
        monkeypatch.delenv("TIMEBANK_PLUGINS", raising=False)
        self.runner = CliRunner()

    def cli(self, *args, ok=True):
        r = self.runner.invoke(main, list(args), catch_exceptions=False)
        out = r.output + (r.stderr if r.stderr_bytes is not None else "")
        if ok:
            assert r.exit_code == 0, f"timebank {' '.join(args)} exited {r.exit_code}:\n{out}"
        return r.exit_code, out

    def app(self):
        return create_app({"TESTING": True, "TASKS_IMMEDIATE": True})

    def snapshot(self) -> dict:
        """What a person would compare: users (with roles), notices and the audit trail length."""
        from core.models import AuditLog, User, UserRole
        from plugins.notices.models import Notice
        app = self.app()
        with app.app_context():
            return {
                "users": sorted((u.username, u.display_name, u.email) for u in User.select()),
                "roles": sorted((r.user.username, r.role, r.scope) for r in UserRole.select()),
                "notices": sorted((n.title, n.body, n.published) for n in Notice.select()),
                "audit": AuditLog.select().count(),
            }

    def add_data(self):
        from core.models import User
        from core.security import TEAM_ADMIN, VOLUNTEER, grant_role, hash_password
        from plugins.notices.services import publish
        app = self.app()
        pw_hash = hash_password("x" * 12)
        with app.test_request_context():
            for i in range(20):
                u = User.create(username=f"vol{i:02d}", display_name=f"志愿者{i:02d}",
                                email=f"vol{i:02d}@example.org", password_hash=pw_hash)
                grant_role(u, VOLUNTEER)
            lead = User.create(username="lead", display_name="团队负责人", password_hash=hash_password("y" * 12))
            grant_role(lead, TEAM_ADMIN, "team:1")
            for i in range(5):
                publish(f"公告 {i}", f"第 {i} 条公告的正文")

    def damage(self):
        """The kinds of change a restore must undo: deletes, edits and new rows."""
        from core.models import User
        from core.security import hash_password
        from plugins.notices.models import Notice
        from plugins.notices.services import publish
        app = self.app()
        with app.test_request_context():
            User.delete().where(User.username.startswith("vol1")).execute()  # cascades to roles
            User.update(display_name="改过的名字", email="").where(User.username == "lead").execute()
            Notice.delete().where(Notice.title == "公告 0").execute()
            Notice.update(body="被改写").execute()
            User.create(username="intruder", password_hash=hash_password("z" * 12))
            publish("备份之后的公告")


@pytest.fixture
def sqlite_site(tmp_path, monkeypatch):
    site = Site(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'instance' / 'site.db'}")
    site.cli("init")
    yield site
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


@pytest.fixture
def pg_site(tmp_path, monkeypatch):
    if not PG_URL:
        pytest.skip("PostgreSQL backup/restore runs when TIMEBANK_TEST_DATABASE_URL is set (CI sets it)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump/pg_restore missing on CI: .ci/run must install postgresql-client")
        pytest.skip("pg_dump/pg_restore not installed (apt-get install postgresql-client)")
    reset_postgres(PG_URL)
    site = Site(tmp_path, monkeypatch, PG_URL)
    site.cli("init")
    yield site
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


def assert_restored(site, before, source):
    code, out = site.cli("restore", "--yes", str(source))
    assert "BAD" not in out, out
    assert "OK  core.schema" in out, out
    assert site.snapshot() == before
    code, out = site.cli("check")
    assert "BAD" not in out and "core.schema" in out, out


# ------------------------------------------------------------------ SQLite
def test_sqlite_backup_while_a_reader_is_open_and_restore(sqlite_site, tmp_path):
    site = sqlite_site
    site.add_data()
    before = site.snapshot()
    assert len(before["users"]) == 22 and len(before["notices"]) == 5

    # another connection (a serving worker) holds an open read transaction during the online backup
    reader = sqlite3.connect(site.url[len("sqlite:///"):])
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM core_user").fetchone()[0] == 22
    target = tmp_path / "backups" / "site.sqlite"
    _, out = site.cli("backup", str(target))
    assert str(target) in out
    reader.rollback()

    # the backup is a complete, healthy SQLite database on its own
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM core_user").fetchone()[0] == 22

    site.damage()
    after = site.snapshot()
    assert after != before and ("intruder", "", "") in after["users"]

    # the reader stays connected through the restore, as a running site's worker would, and then sees
    # the restored rows without reconnecting
    assert reader.execute("SELECT count(*) FROM core_user WHERE username='intruder'").fetchone()[0] == 1
    assert_restored(site, before, target)
    assert reader.execute("SELECT count(*) FROM core_user WHERE username='intruder'").fetchone()[0] == 0
    assert reader.execute("SELECT count(*) FROM core_user").fetchone()[0] == 22
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # the live file keeps WAL
    reader.close()
    # the replaced database was kept, so restoring the wrong file can be undone
    saved = list((site.instance / "backups").glob("pre-restore-*.sqlite"))
    assert len(saved) == 1
    with sqlite3.connect(saved[0]) as prev:
        assert prev.execute("SELECT count(*) FROM core_user WHERE username='intruder'").fetchone()[0] == 1


def test_sqlite_backup_default_location(sqlite_site):
    site = sqlite_site
    _, out = site.cli("backup")
    path = out.strip().splitlines()[-1]
    assert path.startswith(str(site.instance / "backups")) and os.path.getsize(path) > 0


def test_sqlite_restore_refuses_a_file_that_is_not_a_backup(sqlite_site, tmp_path):
    site = sqlite_site
    site.add_data()
    before = site.snapshot()
    db_file = site.url[len("sqlite:///"):]
    size = os.path.getsize(db_file)

    junk = tmp_path / "notes.txt"
    junk.write_text("这不是备份 / this is not a backup\n" * 50)
    code, out = site.cli("restore", "--yes", str(junk), ok=False)
    assert code == 1 and "not a SQLite backup" in out and str(junk) in out, out

    # a real SQLite database, but not one of this system
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        c.execute("INSERT INTO recipes (name) VALUES ('饺子')")
    code, out = site.cli("restore", "--yes", str(other), ok=False)
    assert code == 1 and "core_user" in out and str(other) in out, out

    # a truncated backup (a copy that was cut off) is refused before anything is overwritten
    good = tmp_path / "good" / "good.sqlite"
    site.cli("backup", str(good))
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(good.read_bytes()[: os.path.getsize(good) // 2])
    code, out = site.cli("restore", "--yes", str(cut), ok=False)
    assert code == 1 and str(cut) in out, out

    # a PostgreSQL dump handed to a SQLite site
    fake_dump = tmp_path / "site.pgdump"
    fake_dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 200)
    code, out = site.cli("restore", "--yes", str(fake_dump), ok=False)
    assert code == 1 and "not a SQLite backup" in out, out

    assert site.snapshot() == before
    assert os.path.getsize(db_file) >= size
    left = sorted(p.name for p in (site.instance / "backups").iterdir())
    assert left == [], f"a refused restore left files behind: {left}"
    site.cli("check")


def test_restore_asks_for_confirmation(sqlite_site, tmp_path):
    site = sqlite_site
    site.add_data()
    target = tmp_path / "b.sqlite"
    site.cli("backup", str(target))
    site.damage()
    after = site.snapshot()
    r = site.runner.invoke(main, ["restore", str(target)], input="n\n")
    assert r.exit_code != 0 and "Aborted" in r.output
    assert site.snapshot() == after


# ------------------------------------------------------------------ PostgreSQL
def test_postgres_backup_and_restore(pg_site, tmp_path):
    site = pg_site
    site.add_data()
    before = site.snapshot()
    target = tmp_path / "site.pgdump"

    # a second connection has an open read transaction while pg_dump runs
    import psycopg2
    reader = psycopg2.connect(PG_URL)
    with reader.cursor() as cur:
        cur.execute("SELECT count(*) FROM core_user")
        assert cur.fetchone()[0] == 22
    _, out = site.cli("backup", str(target))
    assert str(target) in out and target.read_bytes()[:5] == b"PGDMP"
    reader.rollback()
    reader.close()

    site.damage()
    assert site.snapshot() != before
    assert_restored(site, before, target)

    # the restored site keeps working: sequences continue past restored ids, append-only still holds
    from core.models import AuditLog, User
    from core.security import hash_password
    app = site.app()
    with app.app_context():
        u = User.create(username="after_restore", password_hash=hash_password("w" * 12))
        assert u.id > max(x.id for x in User.select().where(User.username != "after_restore"))
        first = AuditLog.select().order_by(AuditLog.id).first()
        with pytest.raises(Exception, match="append-only"):
            with db.atomic():
                AuditLog.delete().where(AuditLog.id == first.id).execute()
    db.obj.close()


def test_postgres_restore_refuses_a_file_that_is_not_a_backup(pg_site, tmp_path):
    site = pg_site
    site.add_data()
    before = site.snapshot()

    junk = tmp_path / "junk.pgdump"
    junk.write_text("DROP TABLE core_user;\n")
    code, out = site.cli("restore", "--yes", str(junk), ok=False)
    assert code == 1 and "not a PostgreSQL backup" in out and str(junk) in out, out

    # a SQLite backup handed to a PostgreSQL site
    lite = tmp_path / "site.sqlite"
    with sqlite3.connect(lite) as c:
        c.execute("CREATE TABLE core_user (id INTEGER PRIMARY KEY)")
    code, out = site.cli("restore", "--yes", str(lite), ok=False)
    assert code == 1 and "not a PostgreSQL backup" in out, out

    # a valid pg_dump archive of some other database
    import psycopg2
    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS other_app CASCADE; CREATE SCHEMA other_app")
        cur.execute("CREATE TABLE other_app.recipes (id serial PRIMARY KEY, name text)")
    other = tmp_path / "other.pgdump"
    from core.backup import _pg_args
    import subprocess
    args, env = _pg_args(PG_URL)
    try:
        subprocess.run(["pg_dump", "-Fc", "-n", "other_app", "-f", str(other), *args], env=env, check=True)
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA other_app CASCADE")
        conn.close()
    code, out = site.cli("restore", "--yes", str(other), ok=False)
    assert code == 1 and "core_user" in out, out

    assert site.snapshot() == before
    site.cli("check")
