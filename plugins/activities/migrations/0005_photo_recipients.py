"""Photos showing service recipients (R-PRIV-3, issue 13 point 5): the uploader's mark, the stored copy
with the faces blurred, and the recipients named on a photo (activities_photo_recipient). Idempotent: a
column or table that is already there is left alone (a history replayed over the newest schema)."""
import peewee as pw


def up(migrator, db):
    from plugins.activities.models import PhotoRecipient
    have = {c.name for c in db.get_columns("activities_photo")}
    ops = [migrator.add_column("activities_photo", name, field) for name, field in (
        ("shows_recipients", pw.BooleanField(default=False)),
        ("blurred_name", pw.CharField(max_length=64, null=True)),
        ("faces_found", pw.IntegerField(null=True))) if name not in have]
    if ops:
        migrator.migrate(*ops)
    PhotoRecipient.create_table(safe=True)
