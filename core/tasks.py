"""Deferred and scheduled work on huey: embedded (a SQLite file in the instance folder) by default,
Redis when ``REDIS_URL`` is set. ``timebank worker`` runs the consumer.

Plugins return ``Task`` objects from ``register_tasks``; the kernel binds them to the site's queue and
runs each inside an application context. ``enqueue("plugin.task", *args)`` defers a call.

Periodic schedules (``crontab``) are evaluated in the site's timezone (``core.db.TZ``, Asia/Shanghai), not
in huey's UTC: ``crontab(hour="3")`` runs at 03:00 Beijing time whatever the server's clock zone. huey
itself keeps UTC for its internal times (ETAs, retries); only the schedule sees local time.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from huey import RedisHuey, SqliteHuey, crontab  # noqa: F401 - crontab re-exported for plugins
from huey.api import Huey


@dataclass
class Task:
    name: str
    fn: Callable
    schedule: object = None   # a huey.crontab(...) (site time) for periodic tasks, None for deferred ones
    retries: int = 2
    retry_delay: int = 30


def in_timezone(schedule: Callable[[_dt.datetime], bool], tz) -> Callable[[_dt.datetime], bool]:
    """A huey schedule that judges huey's time (naive UTC, huey's ``utc=True``) as wall-clock time in
    ``tz``. Not huey's ``utc=False``: that uses the server process's local zone, which is usually UTC
    on servers and containers, so the schedule would still depend on how the machine is set up."""
    def validate(timestamp: _dt.datetime) -> bool:
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=_dt.timezone.utc)
        return schedule(timestamp.astimezone(tz).replace(tzinfo=None))
    validate.__wrapped__ = schedule
    return validate


class TaskQueue:
    def __init__(self, app):
        from .db import TZ
        self.app = app
        cfg = app.config
        self.timezone = TZ   # the site's one timezone (core.config.TIMEZONE)
        name = cfg.get("TASKS_QUEUE_NAME") or "timebank"  # sites sharing one Redis need their own
        if cfg.get("REDIS_URL"):
            self.huey: Huey = RedisHuey(name, url=cfg["REDIS_URL"], immediate=cfg["TASKS_IMMEDIATE"])
            self.backend = "redis"
        else:
            path = Path(cfg["INSTANCE_PATH"]) / "tasks.db"
            self.huey = SqliteHuey(name, filename=str(path), immediate=cfg["TASKS_IMMEDIATE"])
            self.backend = "sqlite"
        self.tasks: dict[str, object] = {}

    def add(self, task: Task):
        app = self.app

        def run(*args, **kwargs):
            with app.app_context():
                from .db import ensure_connection
                ensure_connection()
                return task.fn(*args, **kwargs)

        run.__name__ = task.name.replace(".", "_")
        opts = dict(retries=task.retries, retry_delay=task.retry_delay, name=task.name)
        if task.schedule is not None:
            wrapped = self.huey.periodic_task(in_timezone(task.schedule, self.timezone), **opts)(run)
        else:
            wrapped = self.huey.task(**opts)(run)
        self.tasks[task.name] = wrapped
        return wrapped

    def enqueue(self, name: str, *args, **kwargs):
        if name not in self.tasks:
            raise KeyError(f"no task named {name!r}")
        return self.tasks[name](*args, **kwargs)


def queue():
    from flask import current_app
    return current_app.extensions["timebank"].tasks


def enqueue(name: str, *args, **kwargs):
    return queue().enqueue(name, *args, **kwargs)
