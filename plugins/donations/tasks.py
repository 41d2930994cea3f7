"""Scheduled work of the donations plugin."""


def close_expired():
    from .services import close_expired as run
    return run()
