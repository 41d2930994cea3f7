"""The task queue (kernel issue #2 point 8): plugins register deferred and periodic tasks; a real huey
consumer runs them, embedded on SQLite by default and on Redis when REDIS_URL is set, inside an app
context that sees the site's database; ``timebank worker`` runs the consumer."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from core.tasks import enqueue

FIXTURES = str(Path(__file__).parent / "fixtures" / "task_plugins")
REDIS_URL = os.environ.get("TIMEBANK_TEST_REDIS_URL", "")


@contextlib.contextmanager
def running_consumer(huey, workers=2):
    """A real huey consumer (worker threads + scheduler) in this process, stopped on exit. The
    consumer installs signal handlers; pytest's are put back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                    initial_delay=0.05, backoff=1.1, max_delay=0.2,
                                    check_worker_health=False)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for s, h in saved.items():
            signal.signal(s, h)


def queued_app(make_app, **config):
    """A site with the fixture plugin whose tasks go to the queue (not run at once as in other tests)."""
    return make_app(plugins=["notices", "fixture_jobs"], PLUGIN_PATHS=[FIXTURES],
                    TASKS_IMMEDIATE=False, **config)


def add_user(app, username):
    from core.models import User
    with app.app_context():
        return User.create(username=username, password_hash="x")


def jobs(app):
    from fixture_jobs.models import Job
    with app.app_context():
        return [j.label for j in Job.select().order_by(Job.id)]


def test_tasks_of_plugins_are_registered_with_the_kernels(make_app):
    app = queued_app(make_app)
    q = app.extensions["timebank"].tasks
    assert {"core.deliver_message", "fixture_jobs.record", "fixture_jobs.tick"} <= set(q.tasks)
    with app.app_context(), pytest.raises(KeyError, match="no_such.task"):
        enqueue("no_such.task")


def test_periodic_task_is_scheduled_and_runs_in_the_site(make_app):
    app = queued_app(make_app)
    huey = app.extensions["timebank"].tasks.huey
    # crontab(minute="*/5"): due at 10:05, not at 10:03 (the scheduler asks this every minute)
    due = [t.name for t in huey.read_periodic(dt.datetime(2026, 3, 2, 10, 5))]
    assert "fixture_jobs.tick" in due
    assert "fixture_jobs.tick" not in [t.name for t in huey.read_periodic(dt.datetime(2026, 3, 2, 10, 3))]
    assert "fixture_jobs.tick" in {t.name for t in huey._registry.periodic_tasks}
    # enqueue what the scheduler would and let a consumer run it
    task = next(t for t in huey.read_periodic(dt.datetime(2026, 3, 2, 10, 5)) if t.name == "fixture_jobs.tick")
    huey.enqueue(task)  # huey keeps no results of periodic tasks: watch the database instead
    with running_consumer(huey):
        deadline = time.monotonic() + 15
        while not jobs(app) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert jobs(app) == ["tick"]


def test_task_runs_on_embedded_sqlite_queue_in_a_consumer_thread(make_app):
    from fixture_jobs.services import RECEIVED
    RECEIVED.clear()
    app = queued_app(make_app)
    q = app.extensions["timebank"].tasks
    assert q.backend == "sqlite"
    assert Path(q.huey.storage.filename) == Path(app.config["INSTANCE_PATH"]) / "tasks.db"
    add_user(app, "alice")
    with app.app_context():
        result = enqueue("fixture_jobs.record", "deferred")
    assert q.huey.pending_count() == 1
    assert jobs(app) == []  # deferred: nothing ran yet
    with running_consumer(q.huey):
        out = result.get(blocking=True, timeout=15)
    # ran inside this site's app context, against this site's database
    assert out["label"] == "deferred"
    assert out["instance"] == app.config["INSTANCE_PATH"]
    assert "alice" in out["users"]
    assert [j for j in jobs(app) if j != "tick"] == ["deferred"]
    assert q.huey.pending_count() == 0
    # the event the task emitted inside its transaction was delivered after the commit
    assert [(e.name, e.job_id) for e in RECEIVED] == [("fixture_jobs.recorded", out["job_id"])]


@pytest.mark.skipif(not REDIS_URL, reason="TIMEBANK_TEST_REDIS_URL is not set")
def test_task_runs_on_redis_when_configured(make_app):
    name = f"timebank-test-{uuid.uuid4().hex[:8]}"  # own queue: other runs may share the Redis db
    app = queued_app(make_app, REDIS_URL=REDIS_URL, TASKS_QUEUE_NAME=name)
    q = app.extensions["timebank"].tasks
    assert q.backend == "redis"
    assert not (Path(app.config["INSTANCE_PATH"]) / "tasks.db").exists()
    add_user(app, "bob")
    try:
        with app.app_context():
            result = enqueue("fixture_jobs.record", "via-redis")
        import redis
        r = redis.Redis.from_url(REDIS_URL)
        assert r.llen(q.huey.storage.queue_key) == 1, "the task is not waiting in Redis"
        with running_consumer(q.huey):
            out = result.get(blocking=True, timeout=15)
        assert out["label"] == "via-redis" and "bob" in out["users"]
        assert [j for j in jobs(app) if j != "tick"] == ["via-redis"]
    finally:
        q.huey.flush()


def test_failing_task_is_recorded_not_lost(make_app):
    """A task that raises is reported by its result (huey keeps the error) and the consumer goes on."""
    from huey.exceptions import TaskException
    app = queued_app(make_app)
    q = app.extensions["timebank"].tasks
    with app.app_context():
        bad = enqueue("fixture_jobs.record", "x" * 500)  # longer than the column allows on PostgreSQL
        good = enqueue("fixture_jobs.record", "after")
    with running_consumer(q.huey, workers=1):
        assert good.get(blocking=True, timeout=15)["label"] == "after"
        if app.config["DATABASE_URL"].startswith("postgresql"):
            with pytest.raises(TaskException):
                bad.get(blocking=True, timeout=15)
        else:  # SQLite does not enforce VARCHAR lengths
            assert bad.get(blocking=True, timeout=15)["label"] == "x" * 500


def timebank_cmd() -> list[str]:
    exe = shutil.which("timebank")
    return [exe] if exe else [sys.executable, "-m", "core.cli"]


def lines_of(proc) -> "queue.Queue[str]":
    out: queue.Queue[str] = queue.Queue()

    def pump():
        for line in proc.stdout:
            out.put(line)
    threading.Thread(target=pump, daemon=True).start()
    return out


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.slow
def test_timebank_worker_runs_the_queue(make_app):
    app = queued_app(make_app)
    env = dict(os.environ, TIMEBANK_INSTANCE_PATH=app.config["INSTANCE_PATH"],
               TIMEBANK_DATABASE_URL=app.config["DATABASE_URL"], TIMEBANK_PLUGIN_PATHS=FIXTURES,
               PYTHONUNBUFFERED="1")
    env.pop("TIMEBANK_REDIS_URL", None)
    proc = subprocess.Popen(timebank_cmd() + ["worker", "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = lines_of(proc)
        seen, banner = [], None
        deadline = time.monotonic() + 60
        while banner is None and time.monotonic() < deadline:
            try:
                line = out.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "worker exited:\n" + "".join(seen)
                continue
            seen.append(line)
            if line.startswith("task queue:"):
                banner = line
        assert banner, "no task list printed:\n" + "".join(seen)
        assert "sqlite" in banner
        for name in ("core.deliver_message", "fixture_jobs.record", "fixture_jobs.tick"):
            assert name in banner
        # the worker, not this process, runs what the site queues
        with app.app_context():
            result = enqueue("fixture_jobs.record", "by-worker")
        assert result.get(blocking=True, timeout=30)["label"] == "by-worker"
        # the fixture's periodic "tick" may also fire if the test crosses a minute boundary
        assert [j for j in jobs(app) if j != "tick"] == ["by-worker"]
    finally:
        stop(proc)


def wait_for_line(out, proc, prefix, seen, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = out.get(timeout=1)
        except queue.Empty:
            assert proc.poll() is None, "worker exited:\n" + "".join(seen)
            continue
        seen.append(line)
        if line.startswith(prefix):
            return line
    pytest.fail(f"no line starting with {prefix!r}:\n" + "".join(seen))


@pytest.mark.slow
def test_timebank_worker_picks_up_a_plugin_enabled_while_it_runs(make_app):
    """Enabling a plugin (admin page, CLI) reaches the worker too: it reloads the site and runs the new
    plugin's tasks instead of dropping them as unknown."""
    first = make_app(plugins=["notices"], PLUGIN_PATHS=[FIXTURES], TASKS_IMMEDIATE=False)
    env = dict(os.environ, TIMEBANK_INSTANCE_PATH=first.config["INSTANCE_PATH"],
               TIMEBANK_DATABASE_URL=first.config["DATABASE_URL"], TIMEBANK_PLUGIN_PATHS=FIXTURES,
               TIMEBANK_PLUGIN_RELOAD_SECONDS="0.3", PYTHONUNBUFFERED="1")
    env.pop("TIMEBANK_REDIS_URL", None)
    proc = subprocess.Popen(timebank_cmd() + ["worker", "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, seen = lines_of(proc), []
        banner = wait_for_line(out, proc, "task queue:", seen)
        assert "core.deliver_message" in banner and "fixture_jobs" not in banner
        app = queued_app(make_app)  # enables fixture_jobs in the stored plugin set
        banner = wait_for_line(out, proc, "task queue:", seen, timeout=30)
        assert "fixture_jobs.record" in banner and "fixture_jobs.tick" in banner
        with app.app_context():
            result = enqueue("fixture_jobs.record", "after-reload")
        assert result.get(blocking=True, timeout=30)["label"] == "after-reload"
        assert proc.poll() is None
    finally:
        stop(proc)


def test_periodic_schedules_are_in_beijing_time(make_app):
    """crontab(hour="3") means 03:00 in Asia/Shanghai (the site's TIMEZONE), not 03:00 UTC; huey's own
    clock stays UTC (ETAs, retries), only the schedule is judged in site time."""
    from zoneinfo import ZoneInfo
    from core.tasks import Task, crontab
    app = queued_app(make_app)
    q = app.extensions["timebank"].tasks
    assert q.huey.utc is True
    q.add(Task("fixture_jobs.nightly", lambda: None, schedule=crontab(hour="3", minute="0")))
    huey = q.huey

    def due(ts):
        return "fixture_jobs.nightly" in [t.name for t in huey.read_periodic(ts)]
    # huey's scheduler passes naive UTC: 19:00 UTC on 1 March is 03:00 on 2 March in Beijing
    assert due(dt.datetime(2026, 3, 1, 19, 0))
    assert not due(dt.datetime(2026, 3, 2, 3, 0))  # 11:00 in Beijing
    assert not due(dt.datetime(2026, 3, 1, 19, 1))
    # an aware time is judged by its instant
    assert due(dt.datetime(2026, 3, 2, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert not due(dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.timezone.utc))
    # day of week and day of month too: Monday 2 March 2026 03:00 Beijing is Sunday 19:00 UTC
    q.add(Task("fixture_jobs.monday", lambda: None, schedule=crontab(day_of_week="1", hour="3", minute="0")))
    assert "fixture_jobs.monday" in [t.name for t in huey.read_periodic(dt.datetime(2026, 3, 1, 19, 0))]
    assert "fixture_jobs.monday" not in [t.name for t in huey.read_periodic(dt.datetime(2026, 3, 2, 19, 0))]
    # and what the running scheduler asks now is Beijing wall-clock time
    for _ in range(3):
        beijing = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
        ts = huey._get_timestamp()
        if dt.datetime.now(ZoneInfo("Asia/Shanghai")).minute == beijing.minute:
            break
    q.add(Task("fixture_jobs.now", lambda: None,
               schedule=crontab(hour=str(beijing.hour), minute=str(beijing.minute))))
    assert "fixture_jobs.now" in [t.name for t in huey.read_periodic(ts)]
