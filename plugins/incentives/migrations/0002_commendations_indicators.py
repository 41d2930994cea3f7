"""Issue 16: commendations (R-INC-2: schemes, nominations) and entered indicator values (R-INC-3).
Creates the three tables when missing."""


def up(migrator, db):
    from plugins.incentives.models import IndicatorValue, Nomination, Scheme
    missing = [m for m in (Scheme, Nomination, IndicatorValue) if not m.table_exists()]
    if missing:
        db.create_tables(missing)
