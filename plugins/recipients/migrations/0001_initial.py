"""Baseline: the recipients_* tables are created from models.py when the plugin is first enabled."""


def up(migrator, db):
    pass
