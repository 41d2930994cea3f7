"""Seal what tells who is a Party member (SECURITY.md NS5, issue 11 point 7).

Before: ``political_hash`` (a deterministic keyed hash of the political status: 7 possible values) and
``in_service_hash`` (one value for every in-service Party member) were indexed columns, so counting equal
hashes in a dump or backup told who is a Party member; the political status, the in-service reporting
date and the religion were stored as "" when empty and as ciphertexts whose length follows the value's,
and ``pledge_accepted_at`` (signed by Party members only) was a plain timestamp.

After: both hash columns and their indexes are dropped; ``political_status``, ``religion``,
``in_service_reported_on`` and ``pledge_accepted_at`` (now a text column) hold, in every row, a
ciphertext of one fixed length, the empty value included (core.crypto.SealedField). The targets report
decrypts the statuses of the volunteers in its scope instead (services.political_standing).

The rows are re-encrypted in batches in one transaction. On SQLite the freed space is zeroed
(``secure_delete``) and the WAL emptied afterwards, so the old hashes are not left in the file; on
PostgreSQL the old row versions go with (auto)vacuum.
"""
import peewee as pw

TABLE = "volunteers_volunteer"
HASHES = ("political_hash", "in_service_hash")
SEALED = ("political_status", "religion", "in_service_reported_on", "pledge_accepted_at")
BATCH = 1000
atomic = False   # our own transaction, so that SQLite's WAL can be emptied after the commit


def up(migrator, db):
    from core.db import DateTimeTZField, is_sqlite
    from plugins.volunteers.models import Volunteer
    sqlite = is_sqlite()
    if sqlite:
        secure = db.execute_sql("PRAGMA secure_delete").fetchone()[0]
        db.execute_sql("PRAGMA secure_delete=ON")
    try:
        with db.atomic():
            columns = {c.name: c for c in db.get_columns(TABLE)}
            ops = [migrator.drop_index(TABLE, i.name) for i in db.get_indexes(TABLE)
                   if set(i.columns) & set(HASHES)]
            ops += [migrator.drop_column(TABLE, c) for c in HASHES if c in columns]
            pledge_was_time = "pledge_accepted_at" in columns and "text" not in columns[
                "pledge_accepted_at"].data_type.lower()
            if pledge_was_time:
                ops.append(migrator.alter_column_type(TABLE, "pledge_accepted_at", pw.TextField(null=True)))
            if ops:
                migrator.migrate(*ops)
            fields = {name: Volunteer._meta.fields[name] for name in SEALED}
            old_time = DateTimeTZField()
            p = db.param
            cols = ", ".join(f'"{c}"' for c in SEALED)
            assign = ", ".join(f'"{c}" = {p}' for c in SEALED)
            last = 0
            while True:
                rows = db.execute_sql(f'SELECT id, {cols} FROM "{TABLE}" WHERE id > {p} ORDER BY id LIMIT {BATCH}',
                                      (last,)).fetchall()
                if not rows:
                    break
                for vid, *raw in rows:
                    values = []
                    for name, value in zip(SEALED, raw):
                        f = fields[name]
                        if name == "pledge_accepted_at" and value and not str(value).startswith("v1:"):
                            plain = old_time.python_value(value)   # the old timestamp, as text after the cast
                        else:
                            plain = f.python_value(value)
                        values.append(f.db_value(plain))
                    db.execute_sql(f'UPDATE "{TABLE}" SET {assign} WHERE id = {p}', (*values, vid))
                last = rows[-1][0]
    finally:
        if sqlite:
            db.execute_sql(f"PRAGMA secure_delete={int(secure)}")
    if sqlite:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
