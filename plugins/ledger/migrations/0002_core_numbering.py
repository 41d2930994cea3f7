"""``ledger.next_number(name)`` moves onto ``core.numbering`` (issue 13 shapes: numbered documents, LG7).

Before: the plugin's table ``ledger_counter`` held the last value of each named sequence. After: each
becomes the kernel's sequence of that name without a year (``core_number_sequence``, year 0), continuing
from the same value, so ``next_number(name)`` goes on where it was. The old table is dropped. (The
exchange plugin's receipts, which used names ``exchange.receipt.<year>``, are re-seeded into their own
yearly sequence by the exchange plugin's migration 0002 from these rows and its receipts.)
"""
LEGACY = "ledger_counter"


def up(migrator, db):
    from core import numbering
    if LEGACY not in set(db.get_tables()):
        return
    for name, value in db.execute_sql(f'SELECT name, value FROM "{LEGACY}"').fetchall():
        numbering.seed(str(name), int(value or 0))
    db.execute_sql(f'DROP TABLE "{LEGACY}"')
