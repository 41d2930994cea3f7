"""Concurrency and integrity of the database layer: CC1 SQLite connection settings, CC2 read-then-write
transactions under contention (no "database is locked", no lost update), CC5 an exception
mid-transaction leaves nothing behind. Foreign keys are enforced on both databases."""
from __future__ import annotations

import os
import threading
import time

import peewee as pw
import pytest

from core.db import BaseModel

PG = bool(os.environ.get("TIMEBANK_TEST_DATABASE_URL"))


class Counter(BaseModel):
    name = pw.CharField(max_length=20, unique=True)
    value = pw.IntegerField(default=0)

    class Meta:
        table_name = "sectest_counter"


class Tick(BaseModel):
    """One row per increment; ``seen`` is the counter value read before writing: a lost update
    would read the same value twice and break the unique index."""
    seen = pw.IntegerField(unique=True)
    worker = pw.IntegerField()

    class Meta:
        table_name = "sectest_tick"


@pytest.fixture
def app(make_app):
    from core.db import db
    app = make_app(plugins=[])
    with app.app_context():
        db.create_tables([Counter, Tick])
    return app


def _in_threads(n, fn):
    from core.db import db
    errors, results = [], [None] * n

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - collected and asserted on
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            if not db.obj.is_closed():
                db.obj.close()  # this thread's connection
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


# ------------------------------------------------------------------ CC1
@pytest.mark.skipif(PG, reason="SQLite connection settings")
def test_cc1_every_sqlite_connection_has_wal_foreign_keys_and_busy_timeout(app):
    from core.db import db

    def settings(_i=0):
        db.connect(reuse_if_open=True)
        return (db.execute_sql("PRAGMA journal_mode").fetchone()[0].lower(),
                db.execute_sql("PRAGMA foreign_keys").fetchone()[0],
                db.execute_sql("PRAGMA busy_timeout").fetchone()[0])

    seen = [settings()]
    results, errors = _in_threads(4, settings)  # new threads open new connections
    assert errors == []
    seen += results
    # a request served by the app (its per-request connection hook included)
    with app.test_request_context():
        app.preprocess_request()
        seen.append(settings())
    for journal, fks, timeout in seen:
        assert journal == "wal" and fks == 1 and timeout > 0, (journal, fks, timeout)


def test_cc1_foreign_keys_are_enforced(make_app):
    """CC1: a row pointing at a missing parent is refused by the database (both databases)."""
    from core.db import transaction
    from fixtures.security_plugins.secsupport import PLUGINS, site_config
    app = make_app(plugins=PLUGINS, **site_config())
    from teamdemo.models import Record
    with app.app_context():
        with pytest.raises(pw.IntegrityError):
            with transaction():
                Record.create(team=987654, title="orphan")
        assert Record.select().count() == 0


# ------------------------------------------------------------------ CC2
def test_cc2_concurrent_read_then_write_transactions(app):
    """CC2: 8 threads read a counter and write it back (plus a row) in core.db.transaction() for a
    few seconds: no "database is locked", no lost update. SQLite serialises through BEGIN IMMEDIATE;
    PostgreSQL through core.db.for_update (CC3)."""
    from core.db import for_update, transaction
    with app.app_context():
        Counter.create(name="c", value=0)
    seconds = 3.0
    deadline = time.monotonic() + seconds

    def worker(i):
        done = 0
        while time.monotonic() < deadline:
            with transaction():
                c = for_update(Counter.select().where(Counter.name == "c")).get()  # read ...
                time.sleep(0.001)  # ... widen the window between the read and the write
                Tick.create(seen=c.value, worker=i)                                # ... then write
                Counter.update(value=c.value + 1).where(
                    Counter.id == c.id).execute()
            done += 1
        return done

    results, errors = _in_threads(8, worker)
    assert errors == [], errors[:3]
    total = sum(results)
    with app.app_context():
        assert Counter.get(Counter.name == "c").value == total == Tick.select().count()
    assert total >= 40, f"only {total} transactions in {seconds} s"
    assert all(n > 0 for n in results), results  # nobody starved


@pytest.mark.skipif(PG, reason="demonstrates the SQLite trap that BEGIN IMMEDIATE avoids")
def test_cc2_the_trap_is_real_without_begin_immediate(app):
    """CC2 (control): the same workload with a plain deferred BEGIN does hit 'database is locked'
    (busy_timeout cannot help a read lock that must upgrade), which is why transaction() uses
    BEGIN IMMEDIATE."""
    from core.db import db
    with app.app_context():
        Counter.create(name="c", value=0)
        db.obj.execute_sql("PRAGMA busy_timeout")  # connection opened
    deadline = time.monotonic() + 2.0
    barrier = threading.Barrier(4)

    def worker(i):
        db.connect(reuse_if_open=True)
        db.execute_sql("PRAGMA busy_timeout = 200")  # keep the control fast
        barrier.wait()
        while time.monotonic() < deadline:
            with db.atomic("DEFERRED"):
                v = Counter.get(Counter.name == "c").value
                time.sleep(0.005)
                Counter.update(value=v + 1).where(Counter.name == "c").execute()
    _results, errors = _in_threads(4, worker)
    assert any("locked" in e for e in errors), errors


# ------------------------------------------------------------------ CC5
def test_cc5_an_exception_mid_transaction_leaves_nothing_behind(app):
    from core.db import after_commit, transaction
    fired = []
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                Counter.create(name="a", value=1)
                Tick.create(seen=1, worker=0)
                after_commit(lambda: fired.append("outer"))
                raise RuntimeError("half-way")
        assert Counter.select().count() == 0 and Tick.select().count() == 0
        assert fired == []  # follow-ups (domain events) of a rolled-back transaction never run


def test_cc5_a_failing_nested_step_rolls_back_alone(app):
    from core.db import after_commit, transaction
    fired = []
    with app.app_context():
        with transaction():
            Counter.create(name="kept", value=1)
            after_commit(lambda: fired.append("kept"))
            with pytest.raises(pw.IntegrityError):
                with transaction():
                    Counter.create(name="dropped", value=2)
                    after_commit(lambda: fired.append("dropped"))
                    Counter.create(name="kept", value=3)  # unique violation inside the savepoint
            Tick.create(seen=5, worker=0)  # the outer transaction goes on
        assert sorted(c.name for c in Counter.select()) == ["kept"]
        assert Tick.select().count() == 1
        assert fired == ["kept"]


def test_cc5_a_database_error_mid_transaction_rolls_back_the_earlier_writes(app):
    from core.db import transaction
    with app.app_context():
        Counter.create(name="x", value=0)
        with pytest.raises(pw.IntegrityError):
            with transaction():
                Counter.update(value=99).where(Counter.name == "x").execute()
                Tick.create(seen=1, worker=0)
                Counter.create(name="x", value=1)  # duplicate: the whole step fails
        assert Counter.get(Counter.name == "x").value == 0 and Tick.select().count() == 0
        Counter.update(value=1).where(Counter.name == "x").execute()  # the connection is usable
        assert Counter.get(Counter.name == "x").value == 1
