"""Outcome and hours overdue (R-ACT-8, R-NAT-3; issue 11 point 17).

After an activity the organiser records its outcome (附录五) and confirms every volunteer's hours within
``outcome_workdays`` working days (the handbook's 5); the national rule's ``outcome_hard_limit_workdays``
(10) is the hard limit. Both count working days on the Chinese calendar (core/workdays.py) from the day
the activity ended, with the settings in force now, so changing a setting moves every due date.

An activity is overdue while it lacks its outcome or a confirmed participant still has no service
record, once its due date has passed. ``overdue`` lists them (the dashboards' widget); ``remind`` tells
the organiser (the activity's creator and the team's admins) through the message service, exactly once
per activity and threshold (``due``, then ``hard``), and audits that it did.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import peewee as pw
from flask_babel import gettext as _

from core import audit, messages
from core.db import TZ, for_update, transaction
from core.workdays import deadline

from . import services
from .models import Activity, ServiceRecord, SignUp

THRESHOLDS = ("due", "hard")
AUDIT_ACTION = {"due": "activity.outcome_overdue", "hard": "activity.outcome_hard_limit"}


@dataclass
class Overdue:
    activity: Activity
    due: _dt.datetime            # end of the outcome_workdays-th working day after the activity
    hard_due: _dt.datetime       # the national rule's hard limit
    outcome_missing: bool
    hours_missing: int           # confirmed participants without a service record
    hard: bool                   # past the hard limit

    @property
    def threshold(self) -> str:
        return "hard" if self.hard else "due"


def due_dates(activity: Activity) -> tuple[_dt.datetime, _dt.datetime] | None:
    """(due, hard limit) of the activity's outcome and hours with the settings in force; None before it
    has an end."""
    if activity.ends_at is None:
        return None
    end = activity.ends_at.astimezone(TZ)
    n_due = services.setting("outcome_workdays")
    n_hard = max(services.setting("outcome_hard_limit_workdays"), n_due)
    return deadline(end, n_due), deadline(end, n_hard)


def _hours_missing(activity_ids: list[int]) -> dict[int, int]:
    if not activity_ids:
        return {}
    rows = (SignUp.select(SignUp.activity, pw.fn.COUNT(SignUp.id).alias("n"))
            .join(ServiceRecord, pw.JOIN.LEFT_OUTER, on=(ServiceRecord.signup == SignUp.id))
            .where(SignUp.activity.in_(activity_ids) & (SignUp.status == "confirmed") & ServiceRecord.id.is_null())
            .group_by(SignUp.activity).tuples())
    return {aid: n for aid, n in rows}


def overdue(team_ids: list[int] | None = None, at: _dt.datetime | None = None) -> list[Overdue]:
    """Activities whose outcome or hours are late at ``at`` (default: now), oldest due first; only
    those of ``team_ids`` unless None (every team)."""
    t = at or services.now()
    q = Activity.select().where(Activity.status.in_(["finished", "closed"]) & Activity.ends_at.is_null(False)
                                & (Activity.ends_at < t)
                                & ((Activity.status == "finished") | Activity.outcome_submitted_at.is_null()))
    if team_ids is not None:
        q = q.where(Activity.team.in_(team_ids or [-1]))
    rows = list(q)
    missing = _hours_missing([a.id for a in rows])
    out = []
    for a in rows:
        due, hard_due = due_dates(a)
        o = Overdue(a, due, hard_due, a.outcome_submitted_at is None, missing.get(a.id, 0), hard_due < t)
        if t > due and (o.outcome_missing or o.hours_missing):
            out.append(o)
    out.sort(key=lambda o: (o.due, o.activity.id))
    return out


def organisers(activity: Activity) -> list:
    """Who answers for the activity's outcome: its creator and the admins of its team (active accounts)."""
    from core.models import User, UserRole
    users = {u.id: u for u in User.select().join(UserRole).where(
        (UserRole.role == "team_admin") & (UserRole.scope == f"team:{activity.team_id}") & User.is_active)}
    if activity.created_by:
        creator = User.get_or_none((User.id == activity.created_by) & User.is_active)
        if creator is not None:
            users.setdefault(creator.id, creator)
    return [users[k] for k in sorted(users)]


def _message(o: Overdue, threshold: str) -> tuple[str, str]:
    a = o.activity
    what = []
    if o.outcome_missing:
        what.append(_("record the outcome and photos"))
    if o.hours_missing:
        what.append(_("confirm the hours of %(n)s volunteers", n=o.hours_missing))
    todo = _("; ").join(what)
    ended = f"{a.ends_at.astimezone(TZ):%Y-%m-%d}"
    if threshold == "hard":
        return (_("Hard limit passed — outcome and hours: %(title)s", title=a.title),
                _("The activity ended on %(end)s. The national rule's limit of %(n)s working days passed on "
                  "%(due)s. Please %(todo)s now.", end=ended, n=services.setting("outcome_hard_limit_workdays"),
                  due=f"{o.hard_due:%Y-%m-%d}", todo=todo))
    return (_("Outcome and hours overdue: %(title)s", title=a.title),
            _("The activity ended on %(end)s; the outcome and the hours were due within %(n)s working days, "
              "by %(due)s. Please %(todo)s.", end=ended, n=services.setting("outcome_workdays"),
              due=f"{o.due:%Y-%m-%d}", todo=todo))


def remind(o: Overdue, threshold: str) -> int:
    """Tell the organisers that ``o`` passed ``threshold``, once: the audit row ``AUDIT_ACTION[threshold]``
    of the activity is the mark (taken under the activity's row lock), and each message carries a
    dedupe key as well. Returns the number of messages sent (0 when it was done before)."""
    from core.models import AuditLog
    a = o.activity
    action = AUDIT_ACTION[threshold]
    with transaction():
        for_update(Activity.select(Activity.id).where(Activity.id == a.id)).first()
        done = AuditLog.select().where((AuditLog.action == action) & (AuditLog.object_type == "activities_activity")
                                       & (AuditLog.object_id == str(a.id))).exists()
        if done:
            return 0
        subject, body = _message(o, threshold)
        users = organisers(a)
        for u in users:
            messages.send(u, subject, body, category="activities.outcome_overdue",
                          dedupe_key=f"activities.outcome_overdue:{a.id}:{threshold}")
        audit.log(action, a, {"threshold": threshold, "due": f"{(o.hard_due if threshold == 'hard' else o.due):%Y-%m-%d}",
                              "outcome_missing": o.outcome_missing, "hours_missing": o.hours_missing,
                              "recipients": [u.id for u in users]})
    return len(users)


def remind_all(at: _dt.datetime | None = None) -> int:
    """The periodic task's body: every overdue activity's organisers told once per threshold reached.
    An activity found already past the hard limit gets only the hard-limit reminder."""
    n = 0
    for o in overdue(at=at):
        n += remind(o, o.threshold)
    return n
