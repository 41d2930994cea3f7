"""Custody (R-ARC-6, 附录十一 第十六条): a loss of confidential material is reported at once with the remedy
taken (an inbox message to the team leader, audited); archives are handed over when the archivist changes (a
handover record listing the files, both parties and the date; the new archivist becomes responsible)."""
from __future__ import annotations

import datetime as _dt

from flask_babel import lazy_gettext as _l

from core import audit, messages
from core.db import today, transaction
from core.errors import FieldErrors

from .models import ArchiveFile, Handover, LossReport


def report_loss(team, *, what: str, lost_on: _dt.date | None, remedy: str, file: ArchiveFile | None = None,
                actor=None) -> LossReport:
    """Records the loss and tells the team's leader (every team admin of that team) at once."""
    tid = getattr(team, "id", team)
    errors = {}
    what = " ".join((what or "").split())[:200]
    remedy = (remedy or "").strip()
    if not what:
        errors["what"] = _l("Say what was lost.")
    if lost_on is None:
        errors["lost_on"] = _l("Give the date of the loss.")
    elif lost_on > today():
        errors["lost_on"] = _l("The date of the loss is not in the future.")
    if not remedy:
        errors["remedy"] = _l("Say what was done about it (the remedy taken).")
    if file is not None and file.team_id != tid:
        errors["file"] = _l("The file belongs to another team.")
    if errors:
        raise FieldErrors(errors)
    with transaction():
        r = LossReport.create(team=tid, file=file, what=what, lost_on=lost_on, remedy=remedy,
                              reporter=getattr(actor, "id", actor))
        audit.log("archives.loss_reported", r, {"what": what, "lost_on": lost_on.isoformat(),
                                                "file": file.number if file is not None else ""}, user=actor)
    notify_loss(r)
    return r


def notify_loss(r: LossReport) -> int:
    from plugins.teams.services import team_admin_users
    n = 0
    for u in team_admin_users(r.team_id):
        messages.send(u, str(_l("Confidential material lost: %(w)s", w=r.what)),
                      str(_l("Lost on %(d)s. Remedy taken: %(r)s", d=r.lost_on.isoformat(), r=r.remedy)),
                      category="archives", dedupe_key=f"archives.loss:{r.id}")
        n += 1
    return n


def hand_over(team, *, from_user, to_user, files, day: _dt.date | None = None, note: str = "",
              actor=None) -> Handover:
    """The outgoing archivist hands the listed files (of ``team``) to the new one, who becomes responsible."""
    tid = getattr(team, "id", team)
    files = list(files or [])
    errors = {}
    if from_user is None:
        errors["from_user"] = _l("Name the archivist handing over.")
    if to_user is None:
        errors["to_user"] = _l("Name the new archivist.")
    elif from_user is not None and getattr(from_user, "id", from_user) == getattr(to_user, "id", to_user):
        errors["to_user"] = _l("The new archivist is another person.")
    if not files:
        errors["files"] = _l("List the files handed over.")
    elif any(f.team_id != tid for f in files):
        errors["files"] = _l("Only the team's own files are handed over.")
    if errors:
        raise FieldErrors(errors)
    to_id = getattr(to_user, "id", to_user)
    with transaction():
        h = Handover.create(team=tid, from_user=getattr(from_user, "id", from_user), to_user=to_id,
                            day=day or today(), files="\n".join(f"{f.number} {f.title}" for f in files),
                            note=(note or "").strip(), recorded_by=getattr(actor, "id", actor))
        ArchiveFile.update(responsible=to_id).where(ArchiveFile.id.in_([f.id for f in files])).execute()
        audit.log("archives.handed_over", h, {"files": [f.number for f in files], "to": to_id}, user=actor)
    return h
