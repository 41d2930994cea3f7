"""Backup and restore for both databases (SECURITY.md BR1).

SQLite: the online backup API, so a running site is copied consistently. PostgreSQL: pg_dump in the
custom format, restored with pg_restore --clean. After a restore the integrity checks run: the kernel's
(SQLite integrity_check, schema present) and every plugin's ``site_checks`` (e.g. the ledger).
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from .db import db, is_sqlite, now


def _pg_args(url: str) -> tuple[list[str], dict]:
    import os
    u = urlparse(url)
    args = []
    if u.hostname:
        args += ["-h", u.hostname]
    if u.port:
        args += ["-p", str(u.port)]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args + ["-d", u.path.lstrip("/")], env


def backup(app, target: str | None = None) -> Path:
    inst = Path(app.config["INSTANCE_PATH"])
    stamp = now().strftime("%Y%m%d-%H%M%S")
    url = app.config["DATABASE_URL"]
    if is_sqlite():
        dest = Path(target) if target else inst / "backups" / f"timebank-{stamp}.sqlite"
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(db.obj.database)
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
        return dest
    if not shutil.which("pg_dump"):
        raise RuntimeError("pg_dump is not installed (apt-get install postgresql-client)")
    dest = Path(target) if target else inst / "backups" / f"timebank-{stamp}.pgdump"
    dest.parent.mkdir(parents=True, exist_ok=True)
    args, env = _pg_args(url)
    r = subprocess.run(["pg_dump", "-Fc", "-f", str(dest), *args], env=env, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"pg_dump failed: {r.stderr.strip()}")
    return dest


def restore(app, source: str) -> list[tuple[str, bool, str]]:
    src = Path(source)
    url = app.config["DATABASE_URL"]
    if is_sqlite():
        with open(src, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise RuntimeError(f"{src} is not a SQLite backup")
        path = db.obj.database
        db.obj.close()
        incoming = sqlite3.connect(str(src))
        target = sqlite3.connect(path)
        try:
            incoming.backup(target)
        finally:
            target.close()
            incoming.close()
        db.obj.connect(reuse_if_open=True)
    else:
        args, env = _pg_args(url)
        db.obj.close()
        r = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(src)],
                           env=env, capture_output=True, text=True)
        db.obj.connect(reuse_if_open=True)
        if r.returncode:
            raise RuntimeError(f"pg_restore failed: {r.stderr.strip()[-500:]}")
    with app.app_context():
        return run_checks(app)


def run_checks(app) -> list[tuple[str, bool, str]]:
    results = []
    if is_sqlite():
        row = db.execute_sql("PRAGMA integrity_check").fetchone()
        results.append(("sqlite.integrity_check", row[0] == "ok", row[0]))
        fk = db.execute_sql("PRAGMA foreign_key_check").fetchall()
        results.append(("sqlite.foreign_keys", not fk, f"{len(fk)} dangling references"))
    from .models import CORE_MODELS
    missing = [m._meta.table_name for m in CORE_MODELS if not db.table_exists(m._meta.table_name)]
    results.append(("core.schema", not missing, "missing: " + ", ".join(missing) if missing else "ok"))
    for group in app.extensions["timebank"].pm.hook.site_checks():
        results.extend(group or [])
    return results
