"""Deferred and daily work of the archives plugin."""


def file_activity(activity_id: int):
    from .filing import on_finished
    on_finished(activity_id)


def file_finished():
    from .filing import file_finished as run
    return run()
