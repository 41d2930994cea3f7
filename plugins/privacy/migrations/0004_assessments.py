"""Issue 13 point 8: the impact assessments and the kept copies of the processing record and of each
assessment (PIPL 55–56). Creates the two tables when missing."""


def up(migrator, db):
    from plugins.privacy.assessments import ImpactAssessment, RecordSnapshot
    missing = [m for m in (ImpactAssessment, RecordSnapshot) if not m.table_exists()]
    if missing:
        db.create_tables(missing)
