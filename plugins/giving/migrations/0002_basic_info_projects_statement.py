"""Issue 15 points 5 and 6: versioned basic information, public fundraising and projects, imported
statement lines (frozen copies of the models as they are in this version)."""
import peewee as pw

from core.db import DateTimeTZField, now


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db

    class Team(Base):
        class Meta:
            table_name = "teams_team"

    class Donation(Base):
        class Meta:
            table_name = "giving_donation"

    class BasicInfo(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
        version = pw.IntegerField()
        org_name = pw.CharField(max_length=200)
        registration_no = pw.CharField(max_length=40)
        address = pw.CharField(max_length=300)
        principal = pw.CharField(max_length=100)
        contact = pw.CharField(max_length=200)
        purpose_scope = pw.TextField()
        other = pw.TextField(default="")
        changed_at = DateTimeTZField(default=now)
        changed_by = pw.IntegerField(null=True)
        published_at = DateTimeTZField(null=True)
        published_by = pw.IntegerField(null=True)

        class Meta:
            table_name = "giving_basic_info"
            indexes = ((("team", "version"), True),)

    class Project(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
        kind = pw.CharField(max_length=16, constraints=[pw.Check("kind IN ('fundraising', 'project')")])
        title = pw.CharField(max_length=200)
        record_no = pw.CharField(max_length=64, default="")
        starts_on = pw.DateField()
        ends_on = pw.DateField(null=True)
        target = pw.BigIntegerField(null=True)
        raised = pw.BigIntegerField(default=0)
        description = pw.TextField(default="")
        created_at = DateTimeTZField(default=now)
        created_by = pw.IntegerField(null=True)

        class Meta:
            table_name = "giving_project"
            constraints = [pw.SQL("CHECK (raised >= 0)")]

    class StatementLine(Base):
        team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
        reference = pw.CharField(max_length=100)
        donation = pw.ForeignKeyField(Donation, backref="+", on_delete="RESTRICT", index=True)
        imported_at = DateTimeTZField(default=now)
        imported_by = pw.IntegerField(null=True)
        filename = pw.CharField(max_length=200, default="")

        class Meta:
            table_name = "giving_statement_line"
            indexes = ((("team", "reference"), True),)

    db.create_tables([BasicInfo, Project, StatementLine], safe=True)
