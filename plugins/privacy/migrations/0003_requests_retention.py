"""Issue 13 point 7 (R-PRIV-5): the retention review table. Works with or without 0002 (the consent
register's migration): it only creates its own table when missing."""


def up(migrator, db):
    from plugins.privacy.retention import RetentionItem
    if not RetentionItem.table_exists():
        db.create_tables([RetentionItem])
