"""Baseline: notices_notice is created from models.py when the plugin is first enabled."""


def up(migrator, db):
    pass
