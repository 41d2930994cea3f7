"""Activity archives that file themselves (R-ARC-2): when an activity ends (``activities.finished``) a
draft 活动档案 is assembled from what the other plugins return through ``archive_documents(activity)``,
due within N working days (setting ``activity_due_workdays``, core.workdays); the archivist completes and
closes it. Filing is idempotent: one file per activity (``ArchiveFile.activity_id`` is unique)."""
from __future__ import annotations

import logging

from flask import current_app

from core import audit
from core.db import now, transaction
from core.workdays import deadline

from . import catalogue
from .models import ArchiveFile, Document

log = logging.getLogger(__name__)


def _documents(activity) -> list[tuple[str, dict]]:
    """(plugin, item) of every ``archive_documents`` answer. PDFs are built in reportlab's invariant mode
    (no creation time, fixed ids), so the same content gives the same bytes and the same SHA-256: a
    document collected again is filed again only when its content changed."""
    from reportlab import rl_config
    pm = current_app.extensions["timebank"].pm
    out = []
    old = rl_config.invariant
    rl_config.invariant = 1
    try:
        for impl in pm.hook.archive_documents.get_hookimpls():
            for item in impl.function(activity=activity) or []:
                out.append((impl.plugin_name, item))
    finally:
        rl_config.invariant = old
    return out


def collect(f: ArchiveFile, activity, *, actor=None, items=None) -> int:
    """Adds what the plugins hold now: a document not yet in the file, or a new version (a new document
    that ``replaces`` the last one of that title) when its bytes changed. Returns how many were added.
    The documents are built first, then filed in one transaction (one commit per activity)."""
    from .storage import sha256
    n = 0
    items = _documents(activity) if items is None else items
    with transaction():
        for source, item in items:
            title = (item.get("title") or item.get("filename") or "")[:200]
            last = (Document.select().where((Document.file == f) & (Document.title == title)
                                            & (Document.source == source[:50]))
                    .order_by(Document.page.desc()).first())
            if last is not None and last.sha256 == sha256(item["data"]):
                continue
            catalogue.add_document(f, title, item.get("filename", "document"), item["data"],
                                   content_type=item.get("content_type", ""), source=source, replaces=last, actor=actor)
            n += 1
    return n


def file_activity(activity, *, actor=None) -> ArchiveFile:
    """The 活动档案 of ``activity``: created once, numbered, with every document the plugins give."""
    existing = ArchiveFile.get_or_none(ArchiveFile.activity_id == activity.id)
    if existing is not None:
        if existing.status == "draft":
            collect(existing, activity, actor=actor)
        return existing
    ends = activity.ends_at or now()
    start = activity.starts_at.date() if activity.starts_at else ends.date()
    items = _documents(activity)          # built before the transaction (PDFs take a while)
    from core.models import User
    responsible = User.get_or_none(User.id == activity.created_by) if activity.created_by else None
    with transaction():
        f = catalogue.create_file(
            activity.team_id, catalogue.kind("activity"), f"{activity.title}活动档案", date_from=start,
            date_to=ends.date(), responsible=responsible, retention=catalogue.SETTINGS.get("activity_retention"),
            activity_id=activity.id, due_at=deadline(ends, catalogue.SETTINGS.get("activity_due_workdays")),
            actor=actor)
        collect(f, activity, actor=actor, items=items)
        audit.log("archives.activity_filed", f, {"activity": activity.id,
                                                    "documents": Document.select().where(Document.file == f).count()},
                    user=actor)
    return f


def on_finished(activity_id: int):
    from plugins.activities.models import Activity
    a = Activity.get_or_none(Activity.id == activity_id)
    if a is not None:
        file_activity(a)


def file_finished(limit: int = 500) -> int:
    """The daily catch-up: files every finished activity without an archive yet (also those that ended
    before the plugin was enabled) and collects again into the drafts (the outcome and hours come after
    the end). Returns how many activities were visited."""
    from plugins.activities.models import Activity
    drafts = ArchiveFile.select(ArchiveFile.activity_id).where(ArchiveFile.activity_id.is_null(False)
                                                               & (ArchiveFile.status == "closed"))
    n = 0
    for a in list(Activity.select().where((Activity.status.in_(("finished", "closed")))
                                          & Activity.id.not_in(drafts)).order_by(Activity.id).limit(limit)):
        file_activity(a)
        n += 1
    return n
