"""Domain events reach ``track_event`` only after the emitting transaction commits, never after a
rollback (kernel issue #2 point 4); a plugin declares its own event classes (fixture_jobs)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from core import events
from core.db import transaction

FIXTURES = str(Path(__file__).parent / "fixtures" / "task_plugins")


@pytest.fixture
def app(make_app):
    return make_app(plugins=["notices", "fixture_jobs"], PLUGIN_PATHS=[FIXTURES])


@pytest.fixture
def received(app):
    mod = app.extensions["timebank"].pm.get_plugin("fixture_jobs")
    from fixture_jobs.services import RECEIVED
    assert mod is not None
    RECEIVED.clear()
    yield RECEIVED
    RECEIVED.clear()


def job_event(job_id=1, label="x"):
    from fixture_jobs.services import JobRecorded
    return JobRecorded(job_id=job_id, label=label)


def test_plugin_declares_its_own_event_class(app):
    from fixture_jobs.services import JobRecorded
    kernel = app.extensions["timebank"]
    assert JobRecorded in kernel.events
    assert issubclass(JobRecorded, events.Event)
    names = {e.name for e in kernel.events}
    assert {"fixture_jobs.recorded", "notices.published", "core.plugin_enabled"} <= names
    ev = JobRecorded(job_id=3, label="a")
    assert ev.as_dict()["name"] == "fixture_jobs.recorded"
    assert ev.occurred_at.utcoffset().total_seconds() == 8 * 3600  # Asia/Shanghai


def test_event_is_delivered_only_after_commit(app, received):
    with app.app_context():
        with transaction():
            events.emit(job_event(1))
            assert received == []  # still inside the transaction
            with transaction():   # a nested transaction that commits is held for the outer one
                events.emit(job_event(2))
            assert received == []
        assert [e.job_id for e in received] == [1, 2]


def test_event_is_never_delivered_after_rollback(app, received):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                events.emit(job_event(1))
                raise RuntimeError("boom")
        assert received == []
        # a later commit on the same connection does not deliver the forgotten event
        with transaction():
            events.emit(job_event(2))
        assert [e.job_id for e in received] == [2]


def test_nested_rollback_drops_its_events_but_outer_commit_delivers_its_own(app, received):
    with app.app_context():
        with transaction():
            events.emit(job_event(1))
            try:
                with transaction():
                    events.emit(job_event(2))
                    raise ValueError("inner step fails")
            except ValueError:
                pass
            events.emit(job_event(3))
        assert [e.job_id for e in received] == [1, 3]


def test_event_outside_a_transaction_is_delivered_at_once(app, received):
    with app.app_context():
        events.emit(job_event(7))
        assert [e.job_id for e in received] == [7]


def test_service_event_sees_committed_row(app, received):
    """notices.publish emits after commit: the receiver finds the row from another connection."""
    from plugins.notices.models import Notice
    from plugins.notices.services import NoticePublished, publish
    seen = {}

    with app.app_context():
        n = publish("停水通知", "明天 9:00-12:00 停水")
        ev = [e for e in received if isinstance(e, NoticePublished)]
        assert len(ev) == 1 and ev[0].notice_id == n.id and ev[0].title == "停水通知"

        def look():  # another thread = another connection: only committed data is visible there
            from core.db import db
            with app.app_context():
                seen["title"] = Notice.get_by_id(ev[0].notice_id).title
            db.close()
        t = threading.Thread(target=look)
        t.start()
        t.join(10)
        assert seen == {"title": "停水通知"}


def test_a_failing_receiver_does_not_undo_the_commit_or_silence_others(app, received, caplog):
    from core import hookimpl
    from fixture_jobs.models import Job

    class Broken:
        @hookimpl
        def track_event(self, event):
            raise RuntimeError("receiver bug")

    app.extensions["timebank"].pm.register(Broken(), name="broken_receiver")
    with app.app_context(), caplog.at_level(logging.ERROR, logger="timebank.events"):
        with transaction():
            job = Job.create(label="kept")
            events.emit(job_event(job.id))
        assert Job.get_by_id(job.id).label == "kept"
        assert [e.job_id for e in received] == [job.id]
    assert "broken_receiver" in caplog.text


def test_events_of_one_thread_are_not_delivered_by_another_threads_commit(app, received):
    with app.app_context():
        gate, done = threading.Event(), threading.Event()

        def other():
            from core.db import db
            with app.app_context():
                with transaction():
                    events.emit(job_event(2))
                    gate.set()
                    done.wait(10)
            db.close()

        with transaction():
            events.emit(job_event(1))
        t = threading.Thread(target=other)
        t.start()
        assert gate.wait(10)
        # the other thread's transaction is still open: its event is not out
        assert [e.job_id for e in received] == [1]
        done.set()
        t.join(10)
        assert [e.job_id for e in received] == [1, 2]
