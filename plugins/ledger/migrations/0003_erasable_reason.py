"""A transfer's ``reason`` (free text: a donor's message is copied into it) may be blanked by a data
subject's erasure (issue 13 Done means, PIPL 47); every other change stays refused (LG1). The append-only
triggers of ``ledger_transfer`` are re-installed with that one exception."""


def up(migrator, db):
    from core.db import append_only
    from plugins.ledger.models import ERASABLE
    for table, cols in ERASABLE.items():
        if table in set(db.get_tables()):
            append_only(table, cols)
