"""The audit log: who did what to which object, when and from where (SECURITY.md AU1–AU3).

Plugins call ``audit.log(action, obj, details)``. The table is append-only (database triggers refuse
UPDATE and DELETE) and read-only in the admin. Never put plain personal data in ``details``.
"""
from __future__ import annotations

import json

from flask import has_request_context, request

from .db import compiled, now


def _actor():
    if not has_request_context() or request.remote_addr is None:
        return None, "system", ""
    from flask_login import current_user
    ip = (request.remote_addr or "")[:64]
    try:
        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.username, ip
    except Exception:  # noqa: BLE001 - no login manager yet
        pass
    return None, "anonymous", ip


def object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, tuple):
        return str(obj[0]), str(obj[1])
    meta = getattr(obj, "_meta", None)
    if meta is not None:
        return meta.table_name, str(getattr(obj, meta.primary_key.name, ""))
    return type(obj).__name__, ""


@compiled
def _append(at, user_id, username, action, object_type, object_id, ip, details):
    from .models import AuditLog
    return AuditLog.insert(at=at.to(AuditLog.at), user_id=user_id, username=username, action=action,
                           object_type=object_type, object_id=object_id, ip=ip, details=details)


def log(action: str, obj=None, details: dict | None = None, *, user=None) -> int:
    """Append one audit row; returns its id. ``obj`` is a model instance, a (type, id) tuple or None."""
    uid, uname, ip = _actor()
    if user is not None:
        uid, uname = user.id, user.username
    otype, oid = object_ref(obj)

    def clean(s: str, n: int) -> str:  # values may come from a request: no NUL (PostgreSQL refuses it)
        return str(s).replace("\x00", "")[:n]
    return _append.execute(at=now(), user_id=uid, username=clean(uname, 64), action=clean(action, 64),
                           object_type=clean(otype, 64), object_id=clean(oid, 64), ip=clean(ip, 64),
                           details=json.dumps(details or {}, ensure_ascii=False, default=str))
