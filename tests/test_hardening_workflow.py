"""Reviewed workflows (``core.workflow``) on SQLite and PostgreSQL, shown on a small example model
(the documented example of docs/plugins.md "Reviewed workflows"): permissions per step checked on the
object, a reason required for a rejection, due times in working days from a plugin setting, overdue
listing, one audit row per step, an event after commit, and every refusal a Chinese FieldErrors that
writes nothing (issue 13 shapes: "Reviewed workflows"; SECURITY.md AC6, AU1, CC3; RULES R-…-review
steps of issues 13, 14, 15, 17).
"""
from __future__ import annotations

import datetime as _dt
import threading

import peewee as pw
import pytest

from core import hookimpl
from core.db import BaseModel, DateTimeTZField


class Request(BaseModel):
    title = pw.CharField(default="")
    status = pw.CharField(max_length=16, default="draft")
    due_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "test_workflow_request"


def _workflow():
    from flask_babel import lazy_gettext as _l

    from core.settings import PluginSettings
    from core.workflow import Step, Workflow
    settings = PluginSettings(manifest={"name": "demo", "settings": {"review_workdays": 15}})
    return Workflow(
        "demo.request", Request,
        states={"draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"),
                "rejected": _l("Rejected")},
        steps=[Step("submit", "draft", "submitted", "core.admin.access"),
               Step("approve", "submitted", "approved", "demo.request.review"),
               Step("reject", "submitted", "rejected", "demo.request.review", reason=True),
               Step("reopen", ("rejected",), "draft", "core.admin.access")],
        due={"submitted": lambda: settings.get("review_workdays")})


class Listener:
    def __init__(self):
        self.seen = []

    @hookimpl
    def track_event(self, event):
        if event.name == "core.state_changed":
            self.seen.append((event.step, event.from_state, event.to_state, event.reason, event.object_id))


@pytest.fixture
def world(app, make_user):
    from core.db import db
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN
    with app.app_context():
        db.create_tables([Request])
    boss = make_user("boss", PLATFORM_ADMIN)
    clerk = make_user("clerk", TEAM_ADMIN, scope="team:1")
    listener = Listener()
    pm = app.extensions["timebank"].pm
    pm.register(listener, name="test-listener")
    yield {"app": app, "boss": boss, "clerk": clerk, "listener": listener, "wf": _workflow()}
    pm.unregister(name="test-listener")
    with app.app_context():
        db.drop_tables([Request])


def _audit(action=None):
    from core.models import AuditLog
    q = AuditLog.select().order_by(AuditLog.id)
    return list(q.where(AuditLog.action == action) if action else q)


def test_au1_each_step_is_audited_with_from_to_reason_and_sends_an_event_after_commit(world):
    """issue 13 shapes point 2: submit sets the due time (15 working days, the setting), approve clears
    it; each step writes one audit row {from, to, reason} and one core.state_changed event."""
    from core.db import now
    from core.models import Setting
    from core.workdays import deadline
    app, wf, boss, clerk = world["app"], world["wf"], world["boss"], world["clerk"]
    with app.test_request_context():
        r = Request.create(title="申请")
        Setting.create(key="demo.review_workdays", value="3")       # the setting, not a constant
        t0 = now()
        r = wf.move(r, "submit", actor=clerk)
        assert r.status == "submitted" and r.due_at == deadline(t0, 3)
        assert [s.name for s in wf.steps_for(r, boss)] == ["approve", "reject"]
        assert wf.steps_for(r, clerk) == []
        r = wf.move(r, "approve", actor=boss, values={"decided_by": boss.id})
        assert (r.status, r.due_at, r.decided_by) == ("approved", None, boss.id)
        rows = [(a.action, a.username, a.details) for a in _audit() if a.action.startswith("demo.")]
        assert rows == [("demo.request.submit", "clerk", '{"from": "draft", "to": "submitted", "reason": ""}'),
                        ("demo.request.approve", "boss", '{"from": "submitted", "to": "approved", "reason": ""}')]
    assert world["listener"].seen == [("submit", "draft", "submitted", "", str(r.id)),
                                      ("approve", "submitted", "approved", "", str(r.id))]


def test_iv1_bad_steps_get_a_chinese_error_and_write_nothing(world):
    """issue 13 shapes point 2: an unknown step, a step from the wrong state, a rejection without a
    reason: a FieldErrors in Chinese, state and audit log unchanged, no event."""
    from core.errors import FieldErrors
    app, wf, boss = world["app"], world["wf"], world["boss"]
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        r = Request.create(title="申请")
        before = len(_audit())
        for step, kw in (("approve", {}), ("fly", {}), ("reopen", {"reason": "x"})):
            with pytest.raises(FieldErrors) as e:
                wf.move(r, step, actor=boss, **kw)
            assert not e.value.messages()[0].isascii(), e.value.messages()
        r = wf.move(r, "submit", actor=boss)
        with pytest.raises(FieldErrors) as e:
            wf.move(r, "reject", actor=boss, reason="   ")
        assert "reason" in e.value.errors and not str(e.value.errors["reason"]).isascii()
        assert Request.get_by_id(r.id).status == "submitted"
        assert len(_audit()) == before + 1                       # the submit only
        r = wf.move(r, "reject", actor=boss, reason="  预算 超标 ")
        assert r.status == "rejected" and r.due_at is None
        assert '"reason": "预算 超标"' in _audit("demo.request.reject")[0].details
    assert [s[0] for s in world["listener"].seen] == ["submit", "reject"]


def test_ac6_a_step_needs_its_permission_on_the_object(world):
    """issue 13 shapes point 2: a team admin without demo.request.review cannot approve: 403-coded
    WorkflowError, an access.denied audit row, nothing else written."""
    from core.workflow import WorkflowError
    app, wf, boss, clerk = world["app"], world["wf"], world["boss"], world["clerk"]
    with app.test_request_context():
        r = wf.move(Request.create(), "submit", actor=boss)
        with pytest.raises(WorkflowError) as e:
            wf.move(r, "approve", actor=clerk)
        assert e.value.code == 403
        assert Request.get_by_id(r.id).status == "submitted"
        denied = _audit("access.denied")
        assert len(denied) == 1 and "demo.request.review" in denied[0].details
        assert _audit("demo.request.approve") == []


def test_r_due_overdue_items_are_listed_from_their_due_time(world):
    """issue 13 shapes point 2: ``overdue()`` lists items past their due time in a state that has one;
    a decided item is never overdue."""
    from core.db import now
    app, wf, boss = world["app"], world["wf"], world["boss"]
    with app.test_request_context():
        late = wf.move(Request.create(title="late"), "submit", actor=boss)
        fresh = wf.move(Request.create(title="fresh"), "submit", actor=boss)
        done = wf.move(wf.move(Request.create(title="done"), "submit", actor=boss), "approve", actor=boss)
        Request.update(due_at=now() - _dt.timedelta(days=1)).where(Request.id == late.id).execute()
        assert [x.title for x in wf.overdue()] == ["late"]
        assert wf.is_overdue(Request.get_by_id(late.id)) and not wf.is_overdue(fresh)
        assert not wf.is_overdue(done)
        assert [x.title for x in wf.overdue(Request.select().where(Request.title == "fresh"))] == []
        assert wf.overdue(at=now() + _dt.timedelta(days=60)).count() == 2


def test_cc3_two_reviewers_at_once_only_one_step_wins(world):
    """issue 13 shapes point 2: approve and reject of the same item at the same moment, on two
    connections: the row lock lets one through; the other finds the new state and is refused."""
    from core.db import db
    from core.errors import FieldErrors
    app, wf, boss = world["app"], world["wf"], world["boss"]
    with app.test_request_context():
        r = wf.move(Request.create(), "submit", actor=boss)
    ok, refused, errors = [], [], []
    barrier = threading.Barrier(2)

    def worker(step):
        try:
            with app.test_request_context():
                barrier.wait()
                try:
                    wf.move(r, step, actor=boss, reason="不符合条件")
                    ok.append(step)
                except FieldErrors:
                    refused.append(step)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker, args=(s,)) for s in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(ok) == 1 and len(refused) == 1
    with app.app_context():
        assert Request.get_by_id(r.id).status == {"approve": "approved", "reject": "rejected"}[ok[0]]
        assert len(_audit(f"demo.request.{ok[0]}")) == 1 and _audit(f"demo.request.{refused[0]}") == []


def test_au1_a_step_inside_a_rolled_back_transaction_leaves_no_trace(world):
    """issue 13 shapes point 2: the step runs in the caller's transaction; rolled back, neither the
    state, the audit row nor the event survive."""
    from core.db import transaction
    app, wf, boss = world["app"], world["wf"], world["boss"]
    with app.test_request_context():
        r = Request.create()
        with pytest.raises(LookupError):
            with transaction():
                wf.move(r, "submit", actor=boss)
                raise LookupError("the caller's next write failed")
        assert Request.get_by_id(r.id).status == "draft" and _audit("demo.request.submit") == []
    assert world["listener"].seen == []
