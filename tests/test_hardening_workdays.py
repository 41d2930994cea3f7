"""Working days inside a caller's transaction (issue 11 point 14; SECURITY.md CC5).

``core.workdays`` caught ``OperationalError`` around its query of ``core_calendar_day``: on PostgreSQL
a failed statement aborts the whole transaction, so the caller's next query failed ("current
transaction is aborted"), and a missing table is a ProgrammingError there, which was not caught at
all. The table's existence is now asked of the catalogue, and real database errors propagate."""
from __future__ import annotations

import datetime as _dt
import os

import peewee as pw
import pytest

FRIDAY = _dt.date(2025, 9, 26)   # the Friday before the 2025 National Day week (a 调休 Saturday follows)


class _Rollback(Exception):
    pass


def test_cc5_working_days_without_the_calendar_table_leave_the_transaction_usable(app):
    """issue 11 point 14: a site whose calendar table is missing (kernel migration not run yet) still
    computes working days from the national calendar, and the same transaction goes on. Failed
    before on PostgreSQL: the failed SELECT raised ProgrammingError (not caught) and aborted it."""
    from core import workdays
    from core.db import db, transaction
    with app.app_context():
        expected = workdays.add_workdays(FRIDAY, 2)
        with pytest.raises(_Rollback):
            with transaction():
                db.execute_sql('ALTER TABLE "core_calendar_day" RENAME TO "core_calendar_day_away"')
                workdays._have_table.clear()
                assert workdays.add_workdays(FRIDAY, 2) == expected
                assert workdays.workdays_between(FRIDAY, expected) == 2
                assert workdays.known_year(2025) is True
                # the caller's transaction is still usable
                assert db.execute_sql("SELECT 1").fetchone()[0] == 1
                raise _Rollback
        workdays._have_table.clear()
        assert workdays.CalendarDay.table_exists()


def test_cc5_a_site_day_in_the_calendar_table_still_wins(app):
    """issue 11 point 14: the existence check does not lose the site's own days (the table exists)."""
    from core import workdays
    from core.db import transaction
    with app.app_context():
        workdays._have_table.clear()
        sunday = FRIDAY + _dt.timedelta(days=2)          # 2025-09-28, a 调休 working Sunday
        assert workdays.add_workdays(FRIDAY, 1) == sunday
        with transaction():
            workdays.CalendarDay.create(day=sunday, is_workday=False, note="测试")
        assert workdays.add_workdays(FRIDAY, 1) > sunday


@pytest.mark.skipif(not os.environ.get("TIMEBANK_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_cc5_a_database_error_in_working_days_is_raised_not_swallowed_on_postgresql(app):
    """issue 11 point 14: a lock timeout on the calendar table (an OperationalError) is raised to the
    caller, whose transaction() rolls back, instead of being swallowed with the transaction left
    aborted and the deadline computed without the site's days. Failed before: add_workdays returned,
    and the next query in the transaction failed with InFailedSqlTransaction."""
    import psycopg2

    from core import workdays
    from core.db import db, transaction
    other = psycopg2.connect(os.environ["TIMEBANK_TEST_DATABASE_URL"])
    try:
        with app.app_context():
            workdays.add_workdays(FRIDAY, 1)   # the table is known to exist
            with other.cursor() as cur:
                cur.execute('LOCK TABLE "core_calendar_day" IN ACCESS EXCLUSIVE MODE')
            with pytest.raises(pw.OperationalError):
                with transaction():
                    db.execute_sql("SET LOCAL lock_timeout = '200ms'")
                    workdays.add_workdays(FRIDAY, 2)
                    db.execute_sql("SELECT 1")   # never reached: the error above ended the transaction
            other.rollback()
            # the connection is usable again after the rollback
            assert db.execute_sql("SELECT 1").fetchone()[0] == 1
            assert workdays.add_workdays(FRIDAY, 2) > FRIDAY
    finally:
        other.close()
