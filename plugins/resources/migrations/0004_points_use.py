"""Issue 14 point 5 (R-TB-4): campaign points applied to an application. A frozen copy of the model;
only created when missing."""
import peewee as pw

from core.db import DateTimeTZField, now


def up(migrator, db):
    class _Application(pw.Model):
        class Meta:
            database = db
            table_name = "resources_application"

    class PointsUse(pw.Model):
        application = pw.ForeignKeyField(_Application, on_delete="CASCADE", index=True)
        campaign_id = pw.IntegerField(index=True)
        transfer_id = pw.BigIntegerField(unique=True)
        points = pw.IntegerField()
        created_by = pw.IntegerField(null=True)
        created_at = DateTimeTZField(default=now)

        class Meta:
            database = db
            table_name = "resources_points_use"

    if not db.table_exists("resources_points_use"):
        db.create_tables([PointsUse])
