"""Deferred and scheduled work on huey: embedded (a SQLite file in the instance folder) by default,
Redis when ``REDIS_URL`` is set. ``timebank worker`` runs the consumer.

Plugins return ``Task`` objects from ``register_tasks``; the kernel binds them to the site's queue and
runs each inside an application context. ``enqueue("plugin.task", *args)`` defers a call.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from huey import RedisHuey, SqliteHuey, crontab  # noqa: F401 - crontab re-exported for plugins
from huey.api import Huey


@dataclass
class Task:
    name: str
    fn: Callable
    schedule: object = None   # a huey.crontab(...) for periodic tasks, None for deferred ones
    retries: int = 2
    retry_delay: int = 30


class TaskQueue:
    def __init__(self, app):
        self.app = app
        cfg = app.config
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
            wrapped = self.huey.periodic_task(task.schedule, **opts)(run)
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
