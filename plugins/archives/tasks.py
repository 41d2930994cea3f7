"""Deferred and daily work of the archives plugin."""


def file_activity(activity_id: int):
    from .filing import on_finished
    on_finished(activity_id)


def file_finished():
    from .filing import file_finished as run
    return run()


def chase_loans():
    """R-ARC-4: overdue loans chased, one inbox message per loan per day (dedupe key), until returned."""
    from .loans import chase
    return chase()
