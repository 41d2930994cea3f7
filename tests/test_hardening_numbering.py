"""Numbered documents (``core.numbering``; SECURITY.md LG7, CC2, CC3) on SQLite and PostgreSQL:
gap-free numbers per (kind, scope, year) under concurrency, none burnt by a rolled-back document, a
voided number kept; and the certificates, exchange and ledger numberings moved onto it without changing
the next number of an existing site (issue 13 shapes: "Numbered documents").
"""
from __future__ import annotations

import threading

import pytest

PLUGINS = ["volunteers", "teams", "documents", "activities", "certificates", "ledger", "exchange"]


@pytest.fixture
def site(make_app):
    return make_app(plugins=PLUGINS)


def test_lg7_numbers_are_consecutive_per_kind_scope_and_year(site):
    """issue 13 shapes point 1: each (kind, scope, year) counts on its own, formatted by the pattern."""
    from core import numbering
    from core.db import today, transaction
    y = today().year
    with site.app_context():
        with transaction():
            a = [numbering.take("giving.receipt", scope="team:1", pattern="SJ{year}{seq:06d}") for _ in range(3)]
            b = numbering.take("giving.receipt", scope="team:2", pattern="SJ{year}{seq:06d}")
            old = numbering.take("giving.receipt", scope="team:1", year=2025, pattern="SJ{year}{seq:06d}")
            plain = [numbering.next_seq("archives.file", yearly=False) for _ in range(2)]
            pre = numbering.take("x.y", pattern="{prefix}-{seq:03d}", prefix="DH")
        assert a == [f"SJ{y}000001", f"SJ{y}000002", f"SJ{y}000003"]
        assert (b, old, plain, pre) == (f"SJ{y}000001", "SJ2025000001", [1, 2], "DH-001")
        assert numbering.peek("giving.receipt", scope="team:1") == 3
        assert numbering.gaps("giving.receipt", scope="team:1", year=y) == []


def test_lg7_a_rolled_back_document_does_not_burn_its_number(site):
    """issue 13 shapes point 1: the number is taken inside the caller's transaction; a document that
    fails after taking it gives the number back, so the sequence has no gap."""
    from core import numbering
    from core.db import transaction
    with site.app_context():
        with transaction():
            assert numbering.take("k.doc") == "1"
        with pytest.raises(RuntimeError):
            with transaction():
                assert numbering.take("k.doc") == "2"
                raise RuntimeError("the document could not be saved")
        with transaction():
            assert numbering.take("k.doc") == "2"
        assert numbering.gaps("k.doc", year=numbering.today().year) == []


def test_lg7_voided_numbers_stay_and_are_never_given_again(site):
    """issue 13 shapes point 1 (LG7): a voided number keeps its row with the reason, is audited, and the
    next number follows it; voiding without a reason, twice, or an unknown number writes nothing."""
    from core import numbering
    from core.errors import FieldErrors
    from core.models import AuditLog
    with site.test_request_context():
        first = numbering.take("giving.receipt", pattern="R{seq:04d}")
        with pytest.raises(FieldErrors) as e:
            numbering.void("giving.receipt", first, reason="  ")
        assert "reason" in e.value.errors and numbering.status("giving.receipt", first) == "issued"
        row = numbering.void("giving.receipt", first, reason="金额写错")
        assert (row.status, row.reason, row.number) == ("voided", "金额写错", "R0001")
        with pytest.raises(FieldErrors):
            numbering.void("giving.receipt", first, reason="again")
        with pytest.raises(FieldErrors):
            numbering.void("giving.receipt", "R9999", reason="no such")
        assert numbering.take("giving.receipt", pattern="R{seq:04d}") == "R0002"
        assert AuditLog.select().where(AuditLog.action == "number.voided").count() == 1


def test_cc3_lg7_concurrent_numbers_are_distinct_and_consecutive_none_lost_on_rollback(site):
    """issue 13 shapes point 1 (CC2/CC3): 8 threads, each on its own connection, take 40 numbers at once
    inside their own transactions; every third transaction rolls back after taking its number. The
    committed numbers are exactly 1..N (none twice, none missing) on both databases."""
    from core import numbering
    from core.db import db, transaction
    got, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(w):
        try:
            with site.app_context():
                barrier.wait()
                for i in range(5):
                    try:
                        with transaction():
                            n = numbering.next_seq("race.doc", scope="team:9")
                            if (w * 5 + i) % 3 == 0:
                                raise LookupError("rolled back")
                        with lock:
                            got.append(n)
                    except LookupError:
                        pass
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(got) == list(range(1, len(got) + 1)) and len(got) == 40 - len(range(0, 40, 3))
    with site.app_context():
        assert numbering.peek("race.doc", scope="team:9") == len(got)
        assert numbering.gaps("race.doc", scope="team:9", year=numbering.today().year) == []


def _run_migration(plugin: str, name: str):
    """Mark ``name`` of ``plugin`` as not applied and apply the plugin's pending migrations (what
    ``timebank migrate`` does on a site upgraded from the previous version)."""
    from core import plugins as P
    from core.db import db
    db.execute_sql(f'DELETE FROM "migrations_{plugin}" WHERE name = %s' if P.db.obj.param == "%s"
                   else f'DELETE FROM "migrations_{plugin}" WHERE name = ?', (name,))
    info = P.discover()[0][plugin]
    assert name in P.migrate_plugin(info)


def test_lg7_an_existing_site_keeps_its_numbers_after_the_move(site):
    """issue 13 shapes point 1: a site of the previous version (certificates_counter at ZM<year>000007,
    ledger_counter with exchange.receipt.<year> at 12 and a named sequence at 41) is migrated: the next
    certificate is ZM<year>000008, the next receipt DH<year>000013, ``ledger.next_number`` gives 42, and
    the old counter tables are gone. Fails before the migrations exist (the numbers restart at 1)."""
    from core import numbering
    from core.db import db, today, transaction
    from plugins.certificates import services as C
    from plugins.exchange import services as X
    from plugins.ledger import services as L
    y = today().year
    with site.test_request_context():
        # the previous version's state: the old counters, nothing in the kernel's sequences
        db.execute_sql("CREATE TABLE certificates_counter (name VARCHAR(40) PRIMARY KEY, value BIGINT)")
        db.execute_sql("CREATE TABLE ledger_counter (name VARCHAR(64) PRIMARY KEY, value BIGINT)")
        p = "%s" if db.obj.param == "%s" else "?"
        db.execute_sql(f"INSERT INTO certificates_counter VALUES ({p}, {p})", (f"certificate:{y}", 7))
        db.execute_sql(f"INSERT INTO ledger_counter VALUES ({p}, {p})", (f"exchange.receipt.{y}", 12))
        db.execute_sql(f"INSERT INTO ledger_counter VALUES ({p}, {p})", ("receipt", 41))
        numbering.NumberSequence.delete().execute()
        for plugin in ("certificates", "ledger", "exchange"):   # dependency order, as at start-up
            _run_migration(plugin, "0002_core_numbering")
        with transaction():
            assert C.next_number() == f"ZM{y}000008"
            assert X._receipt_number() == f"DH{y}000013"
        assert L.next_number("receipt") == 42
        tables = set(db.get_tables())
        assert "certificates_counter" not in tables and "ledger_counter" not in tables
        # migrating again changes nothing: seeding never lowers a sequence
        numbering.seed(C.NUMBER_KIND, 3, year=y)
        assert numbering.peek(C.NUMBER_KIND) == 8
        # the numbers given before the move are not expected in the register; those after it are
        assert numbering.gaps(C.NUMBER_KIND, year=y) == [] and numbering.check()[0]


def test_lg7_timebank_check_names_a_sequence_whose_register_lost_a_number(site):
    """issue 13 shapes point 1: ``timebank check`` (core.backup.run_checks, the kernel's site_checks)
    runs ``core.numbering``: passing on a whole register, failing and naming the sequence when a
    register row is missing."""
    from core import numbering
    from core.backup import run_checks
    with site.app_context():
        for _ in range(3):
            numbering.take("giving.receipt", scope="team:3")
        checks = {name: (ok, msg) for name, ok, msg in run_checks(site)}
        assert checks["core.numbering"][0], checks["core.numbering"]
        numbering.IssuedNumber.delete().where(numbering.IssuedNumber.seq == 2).execute()
        assert numbering.gaps("giving.receipt", scope="team:3", year=numbering.today().year) == [2]
        checks = {name: (ok, msg) for name, ok, msg in run_checks(site)}
        assert not checks["core.numbering"][0] and "giving.receipt/team:3" in checks["core.numbering"][1]


def test_lg7_ledger_next_number_is_the_kernel_sequence(site):
    """issue 13 shapes point 1: ``ledger.next_number(name)`` (public API) keeps its behaviour, now a
    yearless ``core.numbering`` sequence with every value in the register."""
    from core import numbering
    from plugins.ledger import services as L
    with site.app_context():
        assert [L.next_number("receipt") for _ in range(3)] == [1, 2, 3]
        assert numbering.peek("receipt", yearly=False) == 3 and numbering.gaps("receipt") == []
