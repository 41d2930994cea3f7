"""A donation's ``message`` and a refund's ``reason`` (free text) may be blanked by a data subject's
erasure (issue 13 Done means, PIPL 47); every other change stays refused (append-only like the ledger,
LG1). The triggers of those tables are re-installed with that one exception."""


def up(migrator, db):
    from core.db import append_only
    from plugins.donations.models import ERASABLE
    for table, cols in ERASABLE.items():
        if table in set(db.get_tables()):
            append_only(table, cols)
