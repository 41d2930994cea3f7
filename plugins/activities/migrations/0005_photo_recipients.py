"""Photos showing service recipients (R-PRIV-3, issue 13 point 5): the uploader's mark, the stored copy
with the faces blurred, and the recipients named on a photo (activities_photo_recipient)."""
import peewee as pw


def up(migrator, db):
    from plugins.activities.models import PhotoRecipient
    migrator.migrate(
        migrator.add_column("activities_photo", "shows_recipients", pw.BooleanField(default=False)),
        migrator.add_column("activities_photo", "blurred_name", pw.CharField(max_length=64, null=True)),
        migrator.add_column("activities_photo", "faces_found", pw.IntegerField(null=True)),
    )
    PhotoRecipient.create_table(safe=True)
