"""A staff-filed request names a recipient of the recipients register (issue 13 point 4)."""
import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("privacy_subject_request", "recipient_id", pw.IntegerField(null=True)),
                     migrator.add_index("privacy_subject_request", ("recipient_id",), False))
