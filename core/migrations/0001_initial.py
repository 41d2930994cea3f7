"""Kernel baseline: tables are created from core.models on a fresh site; this file marks the baseline.
Later kernel schema changes go into 0002_….py with up(migrator, db)."""


def up(migrator, db):
    pass
