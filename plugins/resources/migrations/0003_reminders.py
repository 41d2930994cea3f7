"""Issue 14 point 1: the table of reminders sent (one row per programme, team and window, unique). A
frozen copy of the model (the guide's rule for a new table); only created when missing."""
import peewee as pw

from core.db import DateTimeTZField, now


def up(migrator, db):
    class _Programme(pw.Model):
        class Meta:
            database = db
            table_name = "resources_programme"

    class _Team(pw.Model):
        class Meta:
            database = db
            table_name = "teams_team"

    class Reminder(pw.Model):
        programme = pw.ForeignKeyField(_Programme, on_delete="CASCADE", index=True)
        team = pw.ForeignKeyField(_Team, on_delete="CASCADE", index=True)
        window_start = pw.DateField()
        recipients = pw.IntegerField(default=0)
        sent_at = DateTimeTZField(default=now)

        class Meta:
            database = db
            table_name = "resources_reminder"
            indexes = ((("programme", "team", "window_start"), True),)

    if not db.table_exists("resources_reminder"):
        db.create_tables([Reminder])
