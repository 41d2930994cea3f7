"""Exchange receipt numbers move onto ``core.numbering`` (issue 13 shapes: numbered documents, LG7).

Before: ``DH<year><6 digits>`` came from ``ledger.next_number("exchange.receipt.<year>")``. After: from
the kernel's yearly sequence ``exchange.receipt``, which continues from the highest value already given
that year — the old named sequence (still in ``ledger_counter``, or already moved by the ledger
plugin's migration 0002 into a yearless kernel sequence of the same name) or, if higher, the highest
number a redemption carries — so the next receipt gets the number it would have got before.
"""
import re

KIND = "exchange.receipt"
OLD = re.compile(r"exchange\.receipt\.(\d{4})")


def up(migrator, db):
    from core import numbering
    highest: dict[int, int] = {}

    def keep(year, value):
        highest[year] = max(highest.get(year, 0), int(value or 0))
    tables = set(db.get_tables())
    if "ledger_counter" in tables:
        rows = db.execute_sql('SELECT name, value FROM "ledger_counter"').fetchall()
    else:
        rows = db.execute_sql("SELECT kind, value FROM core_number_sequence WHERE year = 0 AND scope = ''"
                              ).fetchall()
    for name, value in rows:
        m = OLD.fullmatch(str(name))
        if m:
            keep(int(m[1]), value)
    for (number,) in db.execute_sql("SELECT number FROM exchange_redemption").fetchall():
        m = re.search(r"(\d{4})(\d{6})$", str(number or ""))
        if m:
            keep(int(m[1]), int(m[2]))
    for year, value in sorted(highest.items()):
        numbering.seed(KIND, value, year=year)
