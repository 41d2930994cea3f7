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


def _default_target(inst: Path, prefix: str, suffix: str) -> Path:
    stamp = now().strftime("%Y%m%d-%H%M%S")
    dest = inst / "backups" / f"{prefix}-{stamp}{suffix}"
    n = 1
    while dest.exists():  # two backups in the same second keep both
        dest = inst / "backups" / f"{prefix}-{stamp}-{n}{suffix}"
        n += 1
    return dest


def backup(app, target: str | None = None, prefix: str = "timebank") -> Path:
    """Copy the database while the site keeps running. The copy is written beside the target and
    renamed into place once complete, so a cut-off run never leaves a half backup under the real name."""
    inst = Path(app.config["INSTANCE_PATH"])
    url = app.config["DATABASE_URL"]
    if is_sqlite():
        dest = Path(target) if target else _default_target(inst, prefix, ".sqlite")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(db.obj.database, timeout=30)
        out = sqlite3.connect(str(tmp))
        try:
            src.backup(out)  # one consistent snapshot; WAL readers and writers go on meanwhile
            # a self-contained single file: no -wal/-shm beside it when it is opened later
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
            src.close()
        tmp.replace(dest)
        return dest
    if not shutil.which("pg_dump"):
        raise RuntimeError("pg_dump is not installed (apt-get install postgresql-client)")
    dest = Path(target) if target else _default_target(inst, prefix, ".pgdump")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    args, env = _pg_args(url)
    r = subprocess.run(["pg_dump", "-Fc", "-f", str(tmp), *args], env=env, capture_output=True, text=True)
    if r.returncode:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"pg_dump failed: {r.stderr.strip()}")
    tmp.replace(dest)
    return dest


# tables every site has: a backup without them is not a backup of this system
REQUIRED_TABLES = ("core_user", "core_plugin_state")


def _check_sqlite_backup(src: Path, staged: Path):
    """Prove ``staged`` (a private copy of ``src``) is a healthy SQLite backup of a site, or raise.
    The operator's file itself is never opened for writing."""
    with open(src, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise RuntimeError(f"{src} is not a SQLite backup (no SQLite header); nothing was changed")
    shutil.copyfile(src, staged)
    try:
        con = sqlite3.connect(str(staged))
        try:
            res = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
            if res != ["ok"]:
                raise RuntimeError(f"{src} is damaged ({'; '.join(res[:3])}); nothing was changed")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise RuntimeError(f"{src} is not a usable SQLite backup ({e}); nothing was changed") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise RuntimeError(f"{src} is not a backup of this system: table {', '.join(missing)} is missing; "
                           "nothing was changed")


def _check_pg_backup(src: Path, args: list[str], env: dict):
    with open(src, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise RuntimeError(f"{src} is not a PostgreSQL backup (a `pg_dump -Fc` archive); "
                               "nothing was changed")
    r = subprocess.run(["pg_restore", "-l", str(src)], env=env, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{src} is not a usable PostgreSQL backup ({r.stderr.strip()[-300:]}); "
                           "nothing was changed")
    import re
    missing = [t for t in REQUIRED_TABLES if not re.search(rf"^\d+; \d+ \d+ TABLE \S+ {t} ", r.stdout, re.M)]
    if missing:
        raise RuntimeError(f"{src} is not a backup of this system: table {', '.join(missing)} is missing; "
                           "nothing was changed")


def restore(app, source: str) -> list[tuple[str, bool, str]]:
    """Replace the database with the backup ``source``, then run the integrity checks.

    The file is checked first (right kind, readable, holds this system's tables): a file that is not a
    backup raises RuntimeError and changes nothing. The current database is saved to
    ``backups/pre-restore-*`` before it is replaced. SQLite is restored through the backup API into the
    live file, so workers of a running site keep their connections and read the restored data next.
    PostgreSQL is restored in one transaction (all or nothing), with a lock timeout instead of a hang
    when a site connection holds a table lock."""
    src = Path(source)
    url = app.config["DATABASE_URL"]
    inst = Path(app.config["INSTANCE_PATH"])
    results = []
    if is_sqlite():
        (inst / "backups").mkdir(parents=True, exist_ok=True)
        staged = inst / "backups" / f".restore-{now().strftime('%Y%m%d-%H%M%S-%f')}.sqlite"
        try:
            _check_sqlite_backup(src, staged)
            results.append(_save_previous(app))
            path = db.obj.database
            db.obj.close()  # this thread's connection; other connections stay open and see the result
            incoming = sqlite3.connect(str(staged))
            target = sqlite3.connect(path, timeout=60)
            try:
                incoming.backup(target)  # page by page into the live file, WAL mode kept
            finally:
                target.close()
                incoming.close()
        finally:
            staged.unlink(missing_ok=True)
        db.obj.connect(reuse_if_open=True)
    else:
        if not shutil.which("pg_restore"):
            raise RuntimeError("pg_restore is not installed (apt-get install postgresql-client)")
        args, env = _pg_args(url)
        _check_pg_backup(src, args, env)
        results.append(_save_previous(app))
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=60s").strip()
        db.obj.close()
        r = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                            "--single-transaction", *args, str(src)],
                           env=env, capture_output=True, text=True)
        db.obj.connect(reuse_if_open=True)
        if r.returncode:
            raise RuntimeError(f"pg_restore failed, the database was left as it was: "
                               f"{r.stderr.strip()[-500:]}")
    with app.app_context():
        return results + run_checks(app)


def _save_previous(app) -> tuple[str, bool, str]:
    """Best effort: keep the database being replaced, so a restore of the wrong file can be undone."""
    try:
        path = backup(app, prefix="pre-restore")
    except Exception as e:  # noqa: BLE001 - a broken current database must not block its restore
        return ("restore.previous", True, f"the replaced database could not be saved: {e}")
    return ("restore.previous", True, f"the replaced database was saved to {path}")


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
