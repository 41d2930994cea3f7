"""Reviewed workflows: one small declarative helper for every model with a state column (DESIGN.md "What
the handbook's management plugins share"): a privacy request, a funding application's 6 steps, a
receipt's voiding, an archive destruction's 5 steps — not a state machine per plugin.

    from core.workflow import Step, Workflow

    REVIEW = Workflow(
        "resources.application", Application,            # audit actions "resources.application.<step>"
        states={"draft": _l("Draft"), "submitted": _l("Submitted"),
                "approved": _l("Approved"), "rejected": _l("Rejected")},
        steps=[Step("submit", "draft", "submitted", "resources.application.edit", _l("Submit")),
               Step("approve", "submitted", "approved", "resources.application.review", _l("Approve")),
               Step("reject", "submitted", "rejected", "resources.application.review", _l("Reject"),
                    reason=True),
               Step("reopen", ("rejected",), "draft", "resources.application.edit", _l("Reopen"))],
        due={"submitted": lambda: SETTINGS.get("review_workdays")},   # working days, a plugin setting
    )

    app = REVIEW.move(app, "reject", actor=user, reason="预算超标")   # one business step
    REVIEW.steps_for(app, user)          # the steps this user may take now (buttons to show)
    REVIEW.overdue()                     # a query: items past their due time in a state that has one

``move`` checks, in this order, and raises ``WorkflowError`` (a ``core.errors.FieldErrors``, message in
the user's language) writing nothing: the step exists; the actor holds its permission on the object
(``core.security.can``; a refusal is audited ``access.denied`` and has ``code`` 403); a reason is given
where the step needs one; the item is (still, under a row lock) in a state the step leaves from. Then, in
one transaction: the state column, the due-time column (``due_field``, default ``due_at`` when the model
has it: the end of the N-th working day from now by ``core.workdays``, or NULL in a state without a
due time), any ``values`` the caller adds (``decided_by=…``), one audit row ``<name>.<step>`` with
``{"from", "to", "reason"}``, and an event after commit (``StateChanged``, ``core.state_changed``, or
the ``event`` factory's own).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l

from .errors import FieldErrors

__all__ = ["Step", "Workflow", "WorkflowError"]


class WorkflowError(FieldErrors):
    """A refused step: ``errors`` {field: message}; ``code`` 403 when the actor may not take it."""

    def __init__(self, errors, code: int = 400):
        super().__init__(errors)
        self.code = code


@dataclass(frozen=True)
class Step:
    """One allowed transition: ``name`` (``reject``), from ``source`` (a state or a tuple of states) to
    ``target``, allowed to holders of ``permission`` on the object; ``reason=True`` makes a reason
    required (a rejection, a voiding)."""
    name: str
    source: str | tuple
    target: str
    permission: str
    label: object = ""
    reason: bool = False

    @property
    def sources(self) -> tuple:
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


class Workflow:
    """States, steps and due times of one model's state column; see the module's documentation."""

    def __init__(self, name: str, model, *, states: dict, steps: list[Step], state_field: str = "status",
                 due: dict[str, Callable[[], int]] | None = None, due_field: str | None = "due_at",
                 event: Callable | None = None, max_reason: int = 500):
        self.name, self.model, self.states, self.state_field = name, model, dict(states), state_field
        self.steps = {s.name: s for s in steps}
        self.due = dict(due or {})
        fields = model._meta.fields
        self.due_field = due_field if due_field in fields else None
        if self.due and self.due_field is None:
            raise ValueError(f"workflow {name}: due times need a column {due_field!r} on {model.__name__}")
        if state_field not in fields:
            raise ValueError(f"workflow {name}: {model.__name__} has no column {state_field!r}")
        for s in steps:
            unknown = [x for x in (*s.sources, s.target) if x not in self.states]
            if unknown:
                raise ValueError(f"workflow {name}: step {s.name} names unknown states {unknown}")
        self.event, self.max_reason = event, max_reason

    # ------------------------------------------------------------------------------------ reading
    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def label(self, state: str) -> str:
        """The state's translated label (for lists and pages)."""
        return str(self.states.get(state, state))

    def choices(self) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in self.states.items()]

    def steps_for(self, obj, user) -> list[Step]:
        """The steps ``user`` may take on ``obj`` in its current state (the buttons to show)."""
        from .security import can
        state = self.state_of(obj)
        return [s for s in self.steps.values() if state in s.sources and can(s.permission, obj, user=user)]

    def due_at(self, state: str, start=None):
        """When an item entering ``state`` now (or at ``start``) is due, or None: the end of the N-th
        working day, N from the state's setting."""
        days = self.due.get(state)
        if days is None:
            return None
        from .db import now
        from .workdays import deadline
        return deadline(start or now(), int(days()))

    def overdue(self, query=None, *, at=None):
        """Items past their due time in a state that has one (``query`` narrows it: a team's scope)."""
        from .db import now
        m = self.model
        q = query if query is not None else m.select()
        due_col, state_col = getattr(m, self.due_field or self.state_field), getattr(m, self.state_field)
        if not self.due:
            return q.where(False)
        return q.where(state_col.in_(list(self.due)) & due_col.is_null(False) & (due_col < (at or now())))

    def is_overdue(self, obj, *, at=None) -> bool:
        from .db import now
        if self.due_field is None or self.state_of(obj) not in self.due:
            return False
        due = getattr(obj, self.due_field)
        return due is not None and due < (at or now())

    # ------------------------------------------------------------------------------------ moving
    def move(self, obj, step: str, *, actor=None, reason: str = "", values: dict | None = None):
        """Take ``step`` on ``obj`` (see the module's documentation); returns the object re-read."""
        from . import audit, events
        from .db import for_update, now, transaction
        from .security import can
        s = self.steps.get(step)
        if s is None:
            raise WorkflowError(_l("This step does not exist."))
        if actor is not None and not can(s.permission, obj, user=actor):
            audit.log("access.denied", obj, {"permission": s.permission, "step": f"{self.name}.{step}"},
                      user=actor)
            raise WorkflowError(_l("You may not take this step."), code=403)
        reason = " ".join(str(reason or "").split())
        if s.reason and not reason:
            raise WorkflowError({"reason": _l("Give a reason.")})
        if len(reason) > self.max_reason:
            raise WorkflowError({"reason": _l("The reason may have at most %(n)s characters.", n=self.max_reason)})
        m = self.model
        pk = m._meta.primary_key
        with transaction():
            row = for_update(m.select().where(pk == getattr(obj, pk.name))).first()
            if row is None:
                raise WorkflowError(_l("This item no longer exists."))
            before = self.state_of(row)
            if before not in s.sources:
                raise WorkflowError(_l("This cannot be done while the item is %(state)s.",
                                       state=self.label(before)))
            t = now()
            changes = {getattr(m, self.state_field): s.target}
            if self.due_field is not None:
                changes[getattr(m, self.due_field)] = self.due_at(s.target, t)
            for k, v in (values or {}).items():
                changes[getattr(m, k)] = v
            m.update(changes).where(pk == row._pk).execute()
            audit.log(f"{self.name}.{step}", row, {"from": before, "to": s.target, "reason": reason},
                      user=actor)
            ev = (self.event or _state_changed)(self, row, s, before, reason, actor)
            if ev is not None:
                events.emit(ev)
        return m.get_by_id(row._pk)


def _state_changed(wf: Workflow, row, step: Step, before: str, reason: str, actor):
    from .audit import object_ref
    from .events import StateChanged
    otype, oid = object_ref(row)
    return StateChanged(workflow=wf.name, object_type=otype, object_id=oid, step=step.name,
                        from_state=before, to_state=step.target, reason=reason,
                        actor_id=getattr(actor, "id", None))
