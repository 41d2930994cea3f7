"""Typed domain events, delivered to ``track_event`` hooks after the emitting transaction commits.

    @dataclass
    class HoursConfirmed(Event):
        name = "activities.hours_confirmed"
        record_id: int = 0
        hours: float = 0

    events.emit(HoursConfirmed(record_id=7, hours=3))

If the transaction rolls back, the event is never delivered. Handlers must be idempotent: a
confirmation repeated by a user may emit again, and the receiver decides it has already acted.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from flask import current_app

from .db import after_commit, now

log = logging.getLogger("timebank.events")


@dataclass
class Event:
    name = "event"
    occurred_at: object = field(default_factory=now, kw_only=True)
    actor_id: int | None = field(default=None, kw_only=True)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["name"] = self.name
        return d


@dataclass
class PluginEnabled(Event):
    name = "core.plugin_enabled"
    plugin: str = ""


@dataclass
class PluginDisabled(Event):
    name = "core.plugin_disabled"
    plugin: str = ""


@dataclass
class UserLoggedIn(Event):
    name = "core.user_logged_in"
    user_id: int = 0


@dataclass
class StateChanged(Event):
    """An item of a reviewed workflow (``core.workflow``) took a step; sent after the commit."""
    name = "core.state_changed"
    workflow: str = ""          # "resources.application"
    object_type: str = ""       # its table
    object_id: str = ""
    step: str = ""
    from_state: str = ""
    to_state: str = ""
    reason: str = ""


CORE_EVENTS = [PluginEnabled, PluginDisabled, UserLoggedIn, StateChanged]


def _type_name(t) -> str:
    return t if isinstance(t, str) else getattr(t, "__name__", None) or repr(t)


def catalogue(app) -> list[dict]:
    """Every event class the site's plugins register (``register_events``), in dependency order, the
    kernel's first: ``name``, ``plugin``, ``module`` and ``class`` (where to import it from) and
    ``fields`` (``[(field, type)]``, without ``occurred_at`` and ``actor_id``, which every event has).
    ``timebank events`` prints it."""
    from dataclasses import fields
    common = {f.name for f in fields(Event)}
    out = []
    for impl in reversed(app.extensions["timebank"].pm.hook.register_events.get_hookimpls()):
        for cls in impl.function() or []:
            out.append({"name": cls.name, "plugin": impl.plugin_name, "module": cls.__module__,
                        "class": cls.__qualname__,
                        "fields": [(f.name, _type_name(f.type)) for f in fields(cls) if f.name not in common]})
    out.sort(key=lambda e: e["plugin"] != "core")
    return out


def emit(event: Event):
    """Deliver ``event`` to every ``track_event`` hook once the current transaction commits."""
    emit_many([event])


def emit_many(batch: list[Event]):
    """Deliver each event of ``batch``, in order, to every ``track_event`` hook once the current
    transaction commits — as ``emit`` one by one would, with one after-commit callback for the batch
    (a bulk write emitting an event per row: the ledger's batches of 1,000 transfers)."""
    batch = list(batch)
    if not batch:
        return
    app = current_app._get_current_object()
    if any(e.actor_id is None for e in batch):
        try:
            from flask_login import current_user
            actor = current_user.id if current_user and current_user.is_authenticated else None
        except Exception:  # noqa: BLE001 - no request (CLI, tasks): no current user
            actor = None
        if actor is not None:
            for e in batch:
                if e.actor_id is None:
                    e.actor_id = actor

    def deliver():
        with app.app_context():
            hook = app.extensions["timebank"].pm.hook.track_event
            # one receiver per call, in pluggy's order, so a receiver that raises is logged and the
            # others still hear of the event (the emitting transaction has committed already)
            impls = [i for i in reversed(hook.get_hookimpls()) if not (i.hookwrapper or i.wrapper)]
            for event in batch:
                args = {"event": event}
                for impl in impls:
                    try:
                        impl.function(*[args[a] for a in impl.argnames])
                    except Exception:  # noqa: BLE001
                        log.exception("track_event of plugin %s failed on %s", impl.plugin_name, event.name)

    after_commit(deliver)
