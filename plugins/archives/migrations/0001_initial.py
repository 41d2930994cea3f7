"""Baseline: the tables are created from the models when the plugin is first enabled."""


def up(migrator, db):
    pass
