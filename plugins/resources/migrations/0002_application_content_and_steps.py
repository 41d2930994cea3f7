"""Issue 14 (R-RES-4, R-RES-5, the flow's content): the 申报书's leader phone, evaluation methods, the final
evaluation's results and spent money per budget line; the tables of schedule rows, outputs, reviews,
objections, attendance and linked activities. Only adds what is missing, so it runs on a site whose tables
were created from the newest models too."""
import peewee as pw

from core.crypto import EncryptedField
from core.money import MoneyField


def up(migrator, db):
    from plugins.resources.models import ActivityLink, Attendance, Objection, Output, Review, ScheduleRow
    have = {c.name for c in db.get_columns("resources_application")}
    ops = [migrator.add_column("resources_application", name, field) for name, field in (
        ("leader_phone", EncryptedField(context="resources.application.leader_phone", default="")),
        ("evaluation_methods", pw.CharField(max_length=100, default="")),
        ("evaluation_other", pw.CharField(max_length=200, default="")),
        ("method_results", pw.TextField(default="")),
        ("conclusion", pw.TextField(default=""))) if name not in have]
    if "spent" not in {c.name for c in db.get_columns("resources_budget_line")}:
        ops.append(migrator.add_column("resources_budget_line", "spent", MoneyField(null=True)))
    if ops:
        migrator.migrate(*ops)
    missing = [m for m in (ScheduleRow, Output, Review, Objection, Attendance, ActivityLink)
               if not m.table_exists()]
    if missing:
        db.create_tables(missing)
