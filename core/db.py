"""Database: one proxy every model binds to, SQLite and PostgreSQL behind the same code.

- SQLite runs with WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE write transactions
  (SECURITY.md CC1, CC2): a read-then-write transaction never dies with "database is locked".
- Connections are kept per worker thread and reused across requests, never opened per request.
- ``transaction()`` is the one way services open a write transaction; ``after_commit(fn)`` runs
  ``fn`` only once the outermost transaction has committed (domain events use it).
- ``compiled`` keeps a hot query's SQL text, built by peewee once per database kind: building the
  SQL of even a primary-key lookup costs several times more than running it.
"""
from __future__ import annotations

import contextlib
import re
import datetime as _dt
import functools
import inspect
import logging
import threading
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import peewee as pw

from .config import TIMEZONE

db = pw.DatabaseProxy()

TZ = ZoneInfo(TIMEZONE)   # the site's one timezone (issue 11 point 13)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -32000,
}


class DatabaseError(Exception):
    """The database cannot be reached or used; the message says which one and why."""


def now() -> _dt.datetime:
    """Timezone-aware current time in the site's timezone (``core.config.TIMEZONE``, Asia/Shanghai)."""
    return _dt.datetime.now(TZ)


def today() -> _dt.date:
    """Today's date in the site's timezone, whatever the server's clock zone."""
    return now().date()


class DateTimeTZField(pw.DateTimeField):
    """Stores the site timezone's wall time (Asia/Shanghai; same column type on both databases), returns
    aware datetimes."""

    def db_value(self, value):
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(TZ).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, _dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=TZ)
        return value


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


def make_database(url: str) -> pw.Database:
    """Build (not connect) a database object from a URL."""
    if url.startswith("sqlite:///"):
        path = unquote(url[len("sqlite:///"):]) or ":memory:"
        if not path.startswith("/") and path != ":memory:":
            path = "/" + path if url.startswith("sqlite:////") else path
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                                 check_same_thread=False, autoconnect=True)
    u = urlparse(url)
    if u.scheme in ("postgresql", "postgres"):
        kw = {}
        if u.hostname:
            kw["host"] = u.hostname
        if u.port:
            kw["port"] = u.port
        if u.username:
            kw["user"] = unquote(u.username)
        if u.password:
            kw["password"] = unquote(u.password)
        return pw.PostgresqlDatabase(u.path.lstrip("/") or "postgres", **kw)
    raise DatabaseError(f"unsupported database URL {url!r}")


class Param(pw.Node):
    """A named placeholder in a ``compiled`` query. Compared with a field (``Model.f == p``) the
    field's ``db_value`` converts the value at run time, as peewee would; elsewhere (an insert's or
    an update's values) say which field it is for with ``p.to(Model.f)``."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.converter = None
        self._explicit = False

    def to(self, field):
        self.converter, self._explicit = field.db_value, True
        return self

    def __sql__(self, ctx):
        # each place the parameter appears keeps the converter of its own field
        conv = self.converter if self._explicit else ctx.state.converter
        return ctx.value(_Slot(self.name, conv), converter=False)


class _Slot:
    __slots__ = ("name", "converter")

    def __init__(self, name, converter):
        self.name, self.converter = name, converter


class compiled:  # noqa: N801 - used as a decorator, like functools' lower-case classes
    """A query built once per database kind and kept as SQL text; each call runs it with new values.

    ``build`` takes the query's parameters by name and returns a peewee query, receiving a ``Param``
    for each; it runs once per kind of database (SQLite, PostgreSQL), never per call. So the query's
    *shape* must not depend on the values: no ``in_()`` lists of varying length, no optional filters
    (keep one ``compiled`` per shape instead). Rows come back as the query would return them (model
    instances, with joined models; ``.tuples()``, ``.dicts()``)::

        @compiled
        def public_notice(notice_id):
            return Notice.select().where((Notice.id == notice_id) & (Notice.published == True))

        n = public_notice.first(notice_id=5)           # or list(public_notice(notice_id=5))
        new_id = insert_row.execute(title="…")         # INSERT → the new id; UPDATE/DELETE → rows

    A query whose shape varies (optional filters) keeps one ``compiled(build, names=[…])`` per shape,
    ``build`` taking the names as keyword arguments (plugins/activities/services.py ``listing``).
    """

    def __init__(self, build, names=None):
        self.build = build
        self.names = list(names) if names is not None else list(inspect.signature(build).parameters)
        self._by_kind: dict = {}
        self._row_setup: dict = {}
        functools.update_wrapper(self, build)

    def _compiled(self):
        d = db.obj
        key = (type(d), d.param)
        c = self._by_kind.get(key)
        if c is None:
            q = self.build(**{n: Param(n) for n in self.names})
            if isinstance(q, pw.ModelInsert):
                _check_insert_defaults(q, self.build.__qualname__)
            sql, values = q.sql()
            slots = [(i, v.name, v.converter) for i, v in enumerate(values) if isinstance(v, _Slot)]
            if {n for _i, n, _c in slots} != set(self.names):
                missing = set(self.names) - {n for _i, n, _c in slots}
                raise TypeError(f"{self.build.__qualname__}: parameters {sorted(missing)} are not used "
                                "in the query")
            c = self._by_kind[key] = (q, sql, values, slots)
        return c

    def sql(self, **values) -> tuple[str, list]:
        """The SQL text and the parameter list for these values (what a call executes)."""
        _q, sql, fixed, slots = self._compiled()
        params = list(fixed)
        for i, name, conv in slots:
            v = values[name]
            params[i] = conv(v) if conv is not None and v is not None else v
        return sql, params

    def _run(self, values):
        if set(values) != set(self.names):
            raise TypeError(f"{self.build.__qualname__} takes {self.names}, got {sorted(values)}")
        q = self._compiled()[0]
        return q, db.obj.execute_sql(*self.sql(**values))

    # what a cursor wrapper keeps per cursor; the rest of what its initialize() sets (columns,
    # converters, a namedtuple class, a join's constructors) is the same for every run of one SQL text
    _PER_CURSOR = frozenset(("cursor", "count", "index", "initialized", "populated", "row_cache"))

    def __call__(self, **values):
        """Run a SELECT: an iterator over its rows, in the query's row type."""
        q, cursor = self._run(values)
        wrapper = q._get_cursor_wrapper(cursor)
        key = (type(db.obj), db.obj.param)
        state = self._row_setup.get(key)
        if state is None:
            # peewee sets the row handling up again for every cursor (for .namedtuples() it creates a
            # new namedtuple class each time: ~0.2 ms); set up once from the first run, then reused
            wrapper.initialize()
            self._row_setup[key] = {k: v for k, v in wrapper.__dict__.items() if k not in self._PER_CURSOR}
        else:
            wrapper.__dict__.update(state)
        wrapper.initialized = True
        return wrapper

    def first(self, **values):
        """The first row, or None."""
        return next(iter(self(**values)), None)

    def execute(self, **values):
        """Run an INSERT (returns the new row's id), UPDATE or DELETE (returns the rows affected)."""
        q, cursor = self._run(values)
        if isinstance(q, pw.Insert):
            if q._returning:  # PostgreSQL: INSERT … RETURNING "id"
                row = cursor.fetchone()
                return row[0] if row else None
            return cursor.lastrowid
        return db.obj.rows_affected(cursor)


def _check_insert_defaults(q, name):
    """peewee fills a column left out of an INSERT with its default when it builds the SQL: in a
    compiled INSERT that would be computed once (``created_at=now`` frozen at the first call)."""
    given = {getattr(k, "name", k) for k in (q._insert or {})}
    frozen = [f.name for f, d in q.model._meta.defaults.items() if callable(d) and f.name not in given]
    if frozen:
        raise TypeError(f"{name}: give {sorted(frozen)} as parameters; their defaults are computed per row "
                        "and a compiled INSERT is built once")


def safe_url(url: str) -> str:
    u = urlparse(url)
    if u.password:
        return url.replace(":" + u.password + "@", ":***@")
    return url


_bound: dict = {"url": None, "pid": None}


def init_database(url: str) -> pw.Database:
    """Initialise the proxy and prove the database answers; raise DatabaseError otherwise.

    Called again with the same URL in the same process (a ``SiteApp`` reload after a plugin change),
    the database object is kept: every worker thread keeps its connection, and a request that is
    inside a transaction while another thread rebuilds the app keeps using the same connection."""
    import os
    old = db.obj
    pid = os.getpid()
    reuse = old is not None and _bound["url"] == url and _bound["pid"] == pid
    database = old if reuse else make_database(url)
    if is_sqlite(database):
        parent = os.path.dirname(database.database)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
    try:
        try:
            database.connect(reuse_if_open=True)
            database.execute_sql("SELECT 1")
        except Exception:  # noqa: BLE001 - a kept connection may have gone stale: retry on a fresh one
            if not reuse:
                raise
            if not database.is_closed():
                try:
                    database.close()
                except Exception:  # noqa: BLE001
                    pass
            database.connect(reuse_if_open=True)
            database.execute_sql("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any driver error means "cannot use it"
        raise DatabaseError(f"cannot connect to database {safe_url(url)}: {e}".strip()) from e
    # close the previous site's connection, but never one inherited from a parent process (a forked
    # server worker): closing it would end the parent's session
    if old is not None and old is not database and _bound["pid"] == pid and not old.is_closed():
        try:
            old.close()
        except Exception:  # noqa: BLE001
            pass
    db.initialize(database)
    _bound.update(url=url, pid=pid)
    return database


def is_sqlite(database=None) -> bool:
    d = database if database is not None else db.obj
    return isinstance(d, pw.SqliteDatabase)


def is_postgres(database=None) -> bool:
    d = database if database is not None else db.obj
    return isinstance(d, pw.PostgresqlDatabase)


_tx_local = threading.local()


def _pending_levels() -> list:
    levels = getattr(_tx_local, "levels", None)
    if levels is None:
        levels = _tx_local.levels = []
    return levels


class _Transaction(contextlib.ContextDecorator):
    """``db.atomic()`` that also remembers which after-commit callbacks each level registered, so the
    callbacks of a nested transaction (savepoint) that rolls back never run, even when the outer
    transaction commits. (peewee alone keeps them and runs them at the outer commit.)"""

    def __init__(self):
        self._atomic = None

    def _recreate_cm(self):  # used as a decorator: a fresh context per call
        return type(self)()

    def __enter__(self):
        levels = _pending_levels()
        self._atomic = db.atomic()
        result = self._atomic.__enter__()
        levels.append([])
        return result

    def __exit__(self, exc_type, exc, tb):
        levels = _pending_levels()
        mine = levels.pop() if levels else []
        if exc_type is not None:
            for pending in mine:
                pending.cancelled = True
        elif levels:
            levels[-1].extend(mine)
        return self._atomic.__exit__(exc_type, exc, tb)


def transaction():
    """A write transaction: BEGIN IMMEDIATE on SQLite, a normal one (nestable) on PostgreSQL.
    Nested calls are savepoints; a nested one that rolls back drops its ``after_commit`` callbacks."""
    return _Transaction()


class _AfterCommit:
    __slots__ = ("fn", "cancelled")

    def __init__(self, fn):
        self.fn = fn
        self.cancelled = False

    def __call__(self):
        if self.cancelled:
            return
        try:
            self.fn()
        except Exception:  # noqa: BLE001 - the data is committed; a failing follow-up must not undo that
            logging.getLogger("timebank.db").exception("after-commit callback %r failed", self.fn)


def after_commit(fn):
    """Run ``fn()`` after the current outermost transaction commits (at once when none is open); never
    when it, or the nested ``transaction()`` that registered ``fn``, rolls back. The data is committed
    by then, so an exception from ``fn`` is logged, not raised into the code that committed."""
    pending = _AfterCommit(fn)
    levels = _pending_levels()
    if levels and db.obj.transaction_depth() > 0:
        levels[-1].append(pending)
    db.obj.after_commit(pending)
    return fn


def for_update(query):
    """Lock the selected rows for the rest of the transaction where the database can (CC3)."""
    if is_postgres():
        return query.for_update()
    return query  # SQLite: BEGIN IMMEDIATE already holds the write lock


def ensure_connection():
    """Reuse this thread's connection; open one if it was closed, or if PostgreSQL dropped it (server
    restart, idle timeout): a kept connection that died would otherwise fail every later request."""
    d = db.obj
    if d is None:
        return
    if is_postgres(d) and not d.is_closed() and d.transaction_depth() == 0:
        if getattr(d.connection(), "closed", 0):  # psycopg2 marks a connection it lost as closed
            try:
                d.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may complain; start afresh
                d._state.reset()
    if d.is_closed():
        d.connect(reuse_if_open=True)


SCHEMA_LOCK_ID = 0x74696D65  # any constant shared by every process of the site


def schema_lock():
    """Call first inside a transaction that changes the schema: waits until no other process of the
    site is changing it (several server workers start, or reload, at the same moment). PostgreSQL: an
    advisory lock released at commit; concurrent DDL there deadlocks or fails on the catalogues.
    SQLite: BEGIN IMMEDIATE already serialises writers."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))


@contextlib.contextmanager
def schema_session_lock():
    """Like ``schema_lock`` but held across several transactions (migrations that each commit on
    their own); use it outside any transaction."""
    if not is_postgres():
        yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_ID,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_ID,))


def append_only(table: str, erasable: tuple[str, ...] = ()):
    """Install triggers that refuse UPDATE and DELETE on ``table`` (audit log, ledger entries).

    ``erasable``: text columns holding personal free text (a donor's message, a transfer's reason) that a
    subject's erasure may blank (PIPL 47): an UPDATE that blanks at least one of them ('' from a value) and
    changes nothing else is let through; every other UPDATE, any DELETE and TRUNCATE are still refused. Amounts, keys and
    links never change, so the books add up after an erasure as before."""
    for col in erasable:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", col):
            raise ValueError(f"bad column name {col!r}")
    cols = [r.name for r in db.get_columns(table)] if erasable else []
    if is_postgres():
        want = f"{table}_append_only" + ("_erasable" if erasable else "")
        have = {r[0] for r in db.execute_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal",
            (f'"{table}"',)).fetchall()}
        other = f"{table}_append_only_erasable" if not erasable else f"{table}_append_only"
        if {want, f"{table}_no_truncate"} <= have and other not in have:
            return  # in place: no DDL, whose exclusive lock would stall writers at every start-up
    if is_sqlite():
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{table}_no_delete" BEFORE DELETE ON "{table}" '
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        if not erasable:
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_update_but_erase"')
            db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" '
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
            return
        same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in cols if c not in erasable)
        blank = " AND ".join(f"""(NEW."{c}" IS OLD."{c}" OR NEW."{c}" = '')""" for c in erasable)
        blank += " AND (" + " OR ".join(f"""(NEW."{c}" = '' AND OLD."{c}" <> '')""" for c in erasable) + ")"
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_update"')
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_update_but_erase"')
        db.execute_sql(
            f'CREATE TRIGGER "{table}_no_update_but_erase" BEFORE UPDATE ON "{table}" '
            f"WHEN NOT ({same} AND {blank}) BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    else:
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION timebank_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_append_only_erasable" ON "{table}"')
        if erasable:
            # TG_ARGV: the erasable columns; any other change, or a non-blank value, is refused
            db.execute_sql(
                "CREATE OR REPLACE FUNCTION timebank_append_only_erasable() RETURNS trigger AS $$ "
                "DECLARE c text; o jsonb := to_jsonb(OLD); n jsonb := to_jsonb(NEW); blanked bool := false; "
                "BEGIN "
                "IF TG_OP <> 'UPDATE' THEN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END IF; "
                "FOREACH c IN ARRAY TG_ARGV LOOP "
                "  IF (n ->> c) IS DISTINCT FROM (o ->> c) THEN "
                "    IF (n ->> c) <> '' THEN RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END IF; "
                "    blanked := true; END IF; "
                "  o := o - c; n := n - c; END LOOP; "
                "IF o IS DISTINCT FROM n OR NOT blanked THEN "
                "  RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME; END IF; "
                "RETURN NEW; END; $$ LANGUAGE plpgsql")
            args = ", ".join(f"'{c}'" for c in erasable)
            db.execute_sql(
                f'CREATE TRIGGER "{table}_append_only_erasable" BEFORE UPDATE OR DELETE ON "{table}" '
                f"FOR EACH ROW EXECUTE FUNCTION timebank_append_only_erasable({args})")
        else:
            db.execute_sql(
                f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION timebank_append_only()"
            )
        # TRUNCATE fires no row triggers: it needs its own (statement) trigger
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON "{table}"')
        db.execute_sql(
            f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION timebank_append_only()"
        )


# ---------------------------------------------------------------- bulk writes
# The raw fast path for imports and ledger batches: one ``executemany`` (SQLite) or ``execute_values``
# (PostgreSQL) instead of a statement per row through the ORM (DESIGN.md "Measured here": 15× faster).
_PLAIN = (pw.CharField, pw.TextField)


def insert_columns(model):
    """(fields, SQL column list) of ``model`` without its auto primary key."""
    fields = [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]
    return fields, ", ".join(f'"{f.column_name}"' for f in fields)


def row_tuples(model, records: list[dict]) -> list[tuple]:
    """Database values of ``records`` in column order, through each field's ``db_value`` (so encrypted
    fields are encrypted and times converted exactly as peewee would); defaults filled in."""
    fields, _cols = insert_columns(model)
    specs = []
    for f in fields:
        d = f.default
        const = f.db_value(d() if callable(d) else d) if d is not None else None
        plain = type(f) in _PLAIN
        # a sealed field (core.crypto.SealedField) encrypts its default and None anew in every row
        sealed = getattr(f, "seals_empty", False)
        specs.append((f.name, None if plain else f.db_value, const, callable(d) or sealed, f))
    out = []
    last: dict = {}  # the same object in every row (a batch's timestamp) is converted once
    for r in records:
        tup = []
        for name, conv, const, dynamic, f in specs:
            if name in r:
                v = r[name]
                if conv is None or (v is None and not getattr(f, "seals_empty", False)):
                    tup.append(v)
                else:
                    prev = last.get(name)
                    if prev is not None and prev[0] is v:
                        tup.append(prev[1])
                    else:
                        c = conv(v)
                        if not getattr(f, "fresh_each_row", False):  # ciphertext must never be reused
                            last[name] = (v, c)
                        tup.append(c)
            elif dynamic:
                tup.append(f.db_value(f.default() if callable(f.default) else f.default))
            else:
                tup.append(const)
        out.append(tuple(tup))
    return out


def bulk_insert(model, records: list[dict], key: str | None = None) -> dict:
    """Insert ``records`` with one ``executemany`` (SQLite) or ``execute_values`` (PostgreSQL) in the
    current transaction. With ``key`` (a unique column among the records), return {key value: id}."""
    if not records:
        return {}
    fields, cols = insert_columns(model)
    table = model._meta.table_name
    tuples = row_tuples(model, records)
    # driver errors (a constraint, a trigger) become peewee's, as with every other query
    with pw.__exception_wrapper__:
        return _bulk_insert(model, fields, cols, table, tuples, key)


def _bulk_insert(model, fields, cols, table, tuples, key):
    cur = db.obj.cursor()
    pk = model._meta.primary_key.column_name
    if is_postgres():
        from psycopg2.extras import execute_values
        sql = f'INSERT INTO "{table}" ({cols}) VALUES %s'
        if key is None:
            execute_values(cur, sql, tuples, page_size=1000)
            return {}
        kcol = model._meta.fields[key].column_name
        got = execute_values(cur, sql + f' RETURNING "{pk}", "{kcol}"', tuples, page_size=len(tuples),
                             fetch=True)
        return {k: i for i, k in got}
    marks = ", ".join("?" for _ in fields)
    cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', tuples)
    if key is None:
        return {}
    f = model._meta.fields[key]
    kidx = [x.name for x in fields].index(key)
    keys = [t[kidx] for t in tuples]
    out = {}
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        q = cur.execute(f'SELECT "{pk}", "{f.column_name}" FROM "{table}" WHERE "{f.column_name}" IN '
                        f'({", ".join("?" for _ in part)})', part)
        out.update({k: i_ for i_, k in q.fetchall()})
    return out
