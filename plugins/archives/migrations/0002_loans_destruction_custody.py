"""Borrowing (R-ARC-4), destruction (R-ARC-5) and custody (R-ARC-6): four new tables on a site that
already had the archives. The models are frozen here as they were when this migration was written."""
import peewee as pw

from core.db import DateTimeTZField, now


def up(migrator, db):
    class _User(pw.Model):
        class Meta:
            table_name = "core_user"

    class _Team(pw.Model):
        class Meta:
            table_name = "teams_team"

    class _File(pw.Model):
        class Meta:
            table_name = "archives_file"

    class _Doc(pw.Model):
        class Meta:
            table_name = "archives_document"

    def user():
        return pw.ForeignKeyField(_User, null=True, backref="+", on_delete="SET NULL")

    class Loan(pw.Model):
        number = pw.CharField(max_length=40, unique=True)
        team = pw.ForeignKeyField(_Team, backref="+", on_delete="RESTRICT")
        file = pw.ForeignKeyField(_File, backref="+", on_delete="RESTRICT")
        document = pw.ForeignKeyField(_Doc, null=True, backref="+", on_delete="SET NULL")
        content = pw.CharField(max_length=200)
        borrower = pw.CharField(max_length=50)
        borrower_user = user()
        borrower_team = pw.ForeignKeyField(_Team, null=True, backref="+", on_delete="SET NULL")
        contact = pw.CharField(max_length=30)
        copying = pw.BooleanField(default=False)
        recorder = user()
        status = pw.CharField(max_length=10, default="requested", index=True)
        approved_by = user()
        borrowed_at = DateTimeTZField(null=True)
        due_at = DateTimeTZField(null=True, index=True)
        returned_at = DateTimeTZField(null=True)
        created_at = DateTimeTZField(default=now)

        class Meta:
            table_name = "archives_loan"

    class Destruction(pw.Model):
        team = pw.ForeignKeyField(_Team, backref="+", on_delete="RESTRICT")
        file = pw.ForeignKeyField(_File, backref="+", on_delete="RESTRICT")
        file_number = pw.CharField(max_length=60)
        file_title = pw.CharField(max_length=200)
        reason = pw.TextField(default="")
        status = pw.CharField(max_length=10, default="applied", index=True)
        applicant = user()
        reviewed_by = user()
        appraised_by = user()
        approved_by = user()
        destroyed_by = user()
        witnesses = pw.TextField(default="")
        signature_key = pw.CharField(max_length=255, default="")
        signature_storage = pw.CharField(max_length=10, default="")
        signature_sha256 = pw.CharField(max_length=64, default="")
        contents = pw.TextField(default="")
        document_count = pw.IntegerField(default=0)
        destroyed_at = DateTimeTZField(null=True)
        due_at = DateTimeTZField(null=True)
        created_at = DateTimeTZField(default=now)

        class Meta:
            table_name = "archives_destruction"

    class LossReport(pw.Model):
        team = pw.ForeignKeyField(_Team, backref="+", on_delete="RESTRICT")
        file = pw.ForeignKeyField(_File, null=True, backref="+", on_delete="SET NULL")
        what = pw.CharField(max_length=200)
        lost_on = pw.DateField()
        remedy = pw.TextField()
        reporter = user()
        reported_at = DateTimeTZField(default=now)

        class Meta:
            table_name = "archives_loss"

    class Handover(pw.Model):
        team = pw.ForeignKeyField(_Team, backref="+", on_delete="RESTRICT")
        from_user = user()
        to_user = user()
        day = pw.DateField()
        files = pw.TextField(default="")
        note = pw.TextField(default="")
        recorded_by = user()
        created_at = DateTimeTZField(default=now)

        class Meta:
            table_name = "archives_handover"

    models = [Loan, Destruction, LossReport, Handover]
    for m in models:
        m._meta.set_database(db)
    db.create_tables(models, safe=True)
