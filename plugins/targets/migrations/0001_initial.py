"""Baseline: the targets plugin has no tables of its own (it reads volunteers, teams and service records)."""


def up(migrator, db):
    pass
