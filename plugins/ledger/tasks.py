"""Scheduled work of the ledger."""


def sync_hours():
    from .services import sync_hours as run
    return run()
