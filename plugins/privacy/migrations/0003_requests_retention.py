"""Issue 13 points 2 and 7: the subject requests and the retention review tables. Works with or without
0002 (the consent register's migration): it only creates its own tables when they are missing."""


def up(migrator, db):
    from plugins.privacy.requests import SubjectRequest
    from plugins.privacy.retention import RetentionItem
    missing = [m for m in (SubjectRequest, RetentionItem) if not m.table_exists()]
    if missing:
        db.create_tables(missing)
