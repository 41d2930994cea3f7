"""Public API of the activities plugin (R-ACT-1…8, 10; SECURITY.md CC3–CC5).

Every function is one business step in one transaction; bad input raises ActivityError with translated
messages and writes nothing. Domain events are emitted after commit:
- ``HoursConfirmed`` once per service record version (the time bank mints from it, idempotently);
- ``SignUpConfirmed`` when a place is given (the 【报名成功】 message).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import secrets
import time
from dataclasses import dataclass

import peewee as pw
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.settings import PluginSettings
from core import audit, events, inputs, messages
from core.errors import FieldErrors
from core.db import TZ, compiled, db, for_update, is_postgres, now, transaction
from core.workdays import deadline
from plugins.teams import services as teams
from plugins.teams.models import Team
from plugins.volunteers.models import DISTRICTS, Volunteer

from .models import Activity, Category, Feedback, SearchTerm, ServiceRecord, Shift, SignUp, UsedToken

SETTINGS = PluginSettings(__file__)


def setting(key):
    """A site setting ``activities.<key>`` over the manifest's default (core.settings)."""
    return SETTINGS.get(key)


class ActivityError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written."""


# ---------------------------------------------------------------- events
@dataclass
class ActivitySubmitted(events.Event):
    name = "activities.submitted"
    activity_id: int = 0


@dataclass
class ActivityReviewed(events.Event):
    name = "activities.reviewed"
    activity_id: int = 0
    approved: bool = False


@dataclass
class SignUpConfirmed(events.Event):
    name = "activities.signup_confirmed"
    signup_id: int = 0
    volunteer_id: int = 0
    activity_id: int = 0


@dataclass
class HoursConfirmed(events.Event):
    """A service record was confirmed or corrected. ``minutes`` is the new total, ``delta_minutes`` the
    change against the previous version (equal to ``minutes`` on the first confirmation).
    ``idempotency_key`` identifies this version: a receiver acts at most once per key."""
    name = "activities.hours_confirmed"
    record_id: int = 0
    volunteer_id: int = 0
    team_id: int = 0
    activity_id: int = 0
    kind: str = "service"
    minutes: int = 0
    delta_minutes: int = 0
    version: int = 1
    service_date: object = None
    idempotency_key: str = ""


@dataclass
class ActivityFinished(events.Event):
    """A published activity's last slot ended (``finish_due``): its outcome is due, and the archives plugin
    files its 活动档案 (R-ARC-2)."""
    name = "activities.finished"
    activity_id: int = 0
    team_id: int = 0


EVENTS = [ActivitySubmitted, ActivityReviewed, SignUpConfirmed, HoursConfirmed, ActivityFinished]


# ---------------------------------------------------------------- reference data
def load_categories():
    from pathlib import Path
    data = json.loads((Path(__file__).parent / "data" / "categories.json").read_text(encoding="utf-8"))
    rows = []
    for kind, items in data.items():
        for i, (code, name, desc) in enumerate(items):
            rows.append({"code": f"{kind}.{code}", "kind": kind, "name": name, "description": desc,
                         "order": i})
    with transaction():
        Category.insert_many(rows).on_conflict_ignore().execute()


def categories(kind: str):
    return list(Category.select().where(Category.kind == kind).order_by(Category.order))


@compiled
def _categories_of_two(kind_a, kind_b):
    return (Category.select(Category.id, Category.kind, Category.code, Category.name)
            .where((Category.kind == kind_a) | (Category.kind == kind_b))
            .order_by(Category.order, Category.id).namedtuples())


def categories_of(kind_a: str, kind_b: str) -> dict[str, list]:
    """The categories of two kinds with one query, for filter forms: kind -> rows (id, kind, code,
    name) in display order."""
    out: dict[str, list] = {kind_a: [], kind_b: []}
    for c in _categories_of_two(kind_a=kind_a, kind_b=kind_b):
        out[c.kind].append(c)
    return out


# ---------------------------------------------------------------- publishing and review (R-ACT-1)
def _parse_dt(value, field, errors):
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    try:
        d = _dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors[field] = _l("Enter a date and time.")
        return None
    return d if d.tzinfo else d.replace(tzinfo=TZ)


def clean_activity(data: dict, kind: str) -> dict:
    errors, out = {}, {}
    for key, n, req in (("title", 200, True), ("address", 255, True), ("description", 20000, True),
                        ("more_info", 20000, False), ("contact_name", 50, True)):
        v = str(data.get(key) or "").strip()
        if req and not v:
            errors[key] = _l("This field is required.")
        elif len(v) > n:
            errors[key] = _l("At most %(n)s characters.", n=n)
        out[key] = v
    from core.pii import PIIError, validate_contact_phone
    try:  # a mobile, or the community centre's landline (issue 18 point 4)
        out["contact_phone"] = validate_contact_phone(data.get("contact_phone", ""))
    except PIIError as e:
        errors["contact_phone"] = e.args[0]
    d = str(data.get("district") or "")
    if d not in DISTRICTS:
        errors["district"] = _l("Choose a district from the list.")
    out["district"] = d
    cat_kind = "training" if kind == "training" else "category"
    cat = Category.get_or_none((Category.id == _int(data.get("category"))) & (Category.kind == cat_kind))
    if cat is None:
        errors["category"] = _l("Choose a category.")
    out["category"] = cat
    if kind == "service":
        fld = Category.get_or_none((Category.id == _int(data.get("field"))) & (Category.kind == "field"))
        if fld is None:
            errors["field"] = _l("Choose a service field.")
        out["field"] = fld
    for key, lo, hi in (("latitude", -90, 90), ("longitude", -180, 180)):
        raw = data.get(key)
        if raw in (None, ""):
            out[key] = None
            continue
        try:
            out[key] = inputs.parse_float(raw, min=lo, max=hi)
        except inputs.InputError:
            errors[key] = _l("Enter a number between %(lo)s and %(hi)s.", lo=lo, hi=hi)
    out["auto_confirm"] = bool(data.get("auto_confirm", True)) not in (False,) and \
        str(data.get("auto_confirm", "1")).lower() not in ("0", "false", "off", "")
    out["is_party_service"] = str(data.get("is_party_service", "")).lower() in ("1", "true", "on", "yes")
    if errors:
        raise ActivityError(errors)
    return out


def _missing_catalogue(a: Activity) -> dict:
    """R-ACT-2 on a stored activity: one of the 7+1 categories (a training category for a training)
    and, for a volunteer activity, one of the 11 service fields. {field: message} of what is missing."""
    errors = {}
    cat = Category.get_or_none(Category.id == a.category_id) if a.category_id else None
    if cat is None or cat.kind != ("training" if a.kind == "training" else "category"):
        errors["category"] = _l("Choose a category.")
    if a.kind == "service":
        fld = Category.get_or_none(Category.id == a.field_id) if a.field_id else None
        if fld is None or fld.kind != "field":
            errors["field"] = _l("Choose a service field.")
    return errors


def _int(v):
    try:
        return inputs.parse_int(v)  # NS2: a number past 2**63 is no id, not a database overflow
    except (TypeError, ValueError):
        return -1


def clean_shifts(shifts: list[dict]) -> list[dict]:
    if not shifts:
        raise ActivityError({"shifts": _l("Add at least one time slot with a headcount.")})
    errors, out = {}, []
    for i, s in enumerate(shifts):
        e = {}
        start = _parse_dt(s.get("starts_at"), "starts_at", e)
        end = _parse_dt(s.get("ends_at"), "ends_at", e)
        try:
            cap = inputs.parse_int(s.get("capacity"), min=1, max=100000)
        except (TypeError, ValueError):
            e["capacity"] = _l("The headcount is a whole number from 1.")
            cap = None
        if start and end and end <= start:
            e["ends_at"] = _l("The slot must end after it starts.")
        if start and end and (end - start) > _dt.timedelta(hours=setting("max_hours_per_record")):
            e["ends_at"] = _l("A slot may last at most %(h)s hours.", h=setting("max_hours_per_record"))
        vt = str(s.get("volunteer_type") or "").strip()[:50]
        if e:
            errors.update({f"shifts.{i}.{k}": v for k, v in e.items()})
        else:
            out.append({"starts_at": start, "ends_at": end, "capacity": cap, "volunteer_type": vt})
    if errors:
        raise ActivityError(errors)
    return out


def create_activity(team: Team, data: dict, shifts: list[dict], *, kind: str = "service", actor=None
                    ) -> Activity:
    """A team's new activity or training, as a draft (R-ACT-1). Only approved teams may publish."""
    if kind not in ("service", "training"):
        raise ActivityError({"kind": _l("Unknown kind.")})
    if not teams.can_publish(team):
        raise ActivityError(_l("The team must complete its profile and pass platform review first."))
    clean = clean_activity(data, kind)
    slots = clean_shifts(shifts)
    with transaction():
        a = Activity.create(team=team, kind=kind, created_by=getattr(actor, "id", None), **clean)
        _replace_shifts(a, slots)
        audit.log("activity.created", a, user=actor)
    return a


def _replace_shifts(a: Activity, slots):
    Shift.delete().where(Shift.activity == a).execute()
    for s in slots:
        Shift.create(activity=a, **s)
    Activity.update(starts_at=min(s["starts_at"] for s in slots), ends_at=max(s["ends_at"] for s in slots),
                    capacity=sum(s["capacity"] for s in slots), confirmed=0).where(Activity.id == a.id).execute()


def refresh_totals(a: Activity):
    """Recompute the activity's span and totals from its slots (after a slot was edited)."""
    agg = Shift.select(pw.fn.MIN(Shift.starts_at), pw.fn.MAX(Shift.ends_at), pw.fn.SUM(Shift.capacity),
                       pw.fn.SUM(Shift.confirmed)).where(Shift.activity == a).tuples().first()
    start, end, cap, conf = agg or (None, None, 0, 0)
    f = Shift.starts_at
    Activity.update(starts_at=f.python_value(start) if isinstance(start, str) else start,
                    ends_at=f.python_value(end) if isinstance(end, str) else end,
                    capacity=cap or 0, confirmed=conf or 0).where(Activity.id == a.id).execute()


def update_activity(a: Activity, data: dict, shifts: list[dict] | None = None, *, actor=None) -> Activity:
    if a.status not in ("draft", "rejected"):
        raise ActivityError(_l("Only a draft or a rejected activity can be edited."))
    clean = clean_activity(data, a.kind)
    slots = clean_shifts(shifts) if shifts is not None else None
    with transaction():
        Activity.update(**clean).where(Activity.id == a.id).execute()
        if slots is not None:
            _replace_shifts(a, slots)
        audit.log("activity.updated", a, user=actor)
    return Activity.get_by_id(a.id)


def submit(a: Activity, *, actor=None) -> Activity:
    """Send for platform review; due within N working days on the Chinese calendar."""
    if a.status not in ("draft", "rejected"):
        raise ActivityError(_l("Only a draft or a rejected activity can be submitted."))
    if not a.shifts.count():
        raise ActivityError({"shifts": _l("Add at least one time slot with a headcount.")})
    missing = _missing_catalogue(a)
    if missing:   # R-ACT-2: a row from before the rule, or whose category was removed (SET NULL)
        raise ActivityError(missing)
    t = now()
    with transaction():
        Activity.update(status="submitted", submitted_at=t, review_reason="",
                        review_due=deadline(t, setting("review_workdays"))).where(Activity.id == a.id).execute()
        audit.log("activity.submitted", a, user=actor)
        events.emit(ActivitySubmitted(activity_id=a.id))
    return Activity.get_by_id(a.id)


def review(a: Activity, *, approve: bool, reason: str = "", actor=None) -> Activity:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ActivityError({"reason": _l("A rejection needs a reason.")})
    with transaction():
        a = for_update(Activity.select().where(Activity.id == a.id)).get()
        if a.status != "submitted":
            raise ActivityError(_l("This activity is not waiting for review."))
        a.status = "approved" if approve else "rejected"
        a.review_reason, a.reviewed_at, a.reviewed_by = reason, now(), getattr(actor, "id", None)
        a.save()
        audit.log("activity.approved" if approve else "activity.rejected", a, {"reason": reason}, user=actor)
        events.emit(ActivityReviewed(activity_id=a.id, approved=approve))
    _notify_reviewed(a)
    return a


def organisers(a: Activity) -> list:
    """The accounts that run an activity: whoever created it and the admins of its team."""
    from core.models import User
    users = {u.id: u for u in teams.team_admin_users(a.team_id)}
    if a.created_by and a.created_by not in users:
        creator = User.get_or_none((User.id == a.created_by) & User.is_active)
        if creator is not None:
            users[creator.id] = creator
    return list(users.values())


def _notify_reviewed(a: Activity):
    """The organisers hear the review's outcome, with the reason of a rejection (issue 18 point 5)."""
    approved, title, reason = a.status == "approved", a.title, a.review_reason
    key = f"activities.reviewed:{a.id}:{a.status}:{a.reviewed_at:%Y%m%d%H%M%S%f}"
    for user in organisers(a):
        messages.send_translated(user, lambda: (
            (_("【Approved】%(title)s", title=title), _("The activity passed the platform review: publish it "
                                                     "in the admin under Activities so volunteers can sign up."))
            if approved else
            (_("【Not approved】%(title)s", title=title), _("Reason: %(reason)s. Edit the activity and submit it "
                                                          "for review again.", reason=reason))),
            category="activities", dedupe_key=key)


def publish(a: Activity, *, actor=None) -> Activity:
    if a.status != "approved":
        raise ActivityError(_l("Only an approved activity can be published."))
    with transaction():
        Activity.update(status="published", published_at=now()).where(Activity.id == a.id).execute()
        index_search_terms([a.id])
        audit.log("activity.published", a, user=actor)
    return Activity.get_by_id(a.id)


def pending_confirmations(team_ids=None, *, overdue_only=True):
    """Sign-ups still waiting for the organiser. For trainings the organiser must answer within N
    working days (R-ACT-6); with ``overdue_only`` only those past that deadline are returned."""
    from core.workdays import add_workdays
    q = (SignUp.select(SignUp, Activity).join(Activity)
         .where((SignUp.status == "pending") & (Activity.status == "published")))
    if team_ids is not None:
        q = q.where(Activity.team.in_(team_ids or [-1]))
    rows = list(q.order_by(SignUp.created_at))
    if not overdue_only:
        return rows
    today_ = now().astimezone(TZ).date()
    n = setting("training_confirm_workdays")
    return [s for s in rows if add_workdays(s.created_at.astimezone(TZ), n) < today_]


def overdue_reviews():
    return list(Activity.select().where((Activity.status == "submitted") & (Activity.review_due < now()))
                .order_by(Activity.review_due))


def finish_due(at: _dt.datetime | None = None) -> int:
    """Mark published activities whose last slot ended as finished; the outcome is due within N working
    days (R-ACT-8). Returns how many changed."""
    t = at or now()
    n = 0
    # read the rows first: a SELECT still being iterated keeps an old snapshot, and on SQLite (WAL) a
    # write from inside that loop fails at once with "database is locked" when another writer went first
    for a in list(Activity.select().where((Activity.status == "published") & (Activity.ends_at <= t))):
        with transaction():
            changed = Activity.update(status="finished",
                                      outcome_due=deadline(a.ends_at, setting("outcome_workdays"))) \
                .where((Activity.id == a.id) & (Activity.status == "published")).execute()
            if changed:
                events.emit(ActivityFinished(activity_id=a.id, team_id=a.team_id))
            n += changed
    return n


# ---------------------------------------------------------------- sign-up (R-ACT-4, R-ACT-10, CC4)
@compiled
def _take_place(shift_id):
    return Shift.update(confirmed=Shift.confirmed + 1).where((Shift.id == shift_id) &
                                                             (Shift.confirmed < Shift.capacity))


@compiled
def _count_place(activity_id):
    return Activity.update(confirmed=Activity.confirmed + 1).where(Activity.id == activity_id)


def _claim_place(shift_id: int, activity_id: int) -> bool:
    """Take one place in the slot with one guarded statement; False when the slot is full."""
    if _take_place.execute(shift_id=shift_id):
        _count_place.execute(activity_id=activity_id)
        return True
    return False


def _claim(signup: SignUp) -> bool:
    return _claim_place(signup.shift_id, signup.activity_id)


def _release(signup: SignUp):
    Shift.update(confirmed=Shift.confirmed - 1).where(Shift.id == signup.shift_id).execute()
    Activity.update(confirmed=Activity.confirmed - 1).where(Activity.id == signup.activity_id).execute()


@compiled
def _insert_signup(shift_id, activity_id, volunteer_id, status, created_at, decided_at):
    return SignUp.insert(shift=shift_id, activity=activity_id, volunteer=volunteer_id, status=status,
                         created_at=created_at.to(SignUp.created_at), decided_at=decided_at.to(SignUp.decided_at))


def sign_up(volunteer: Volunteer, shift: Shift) -> SignUp:
    """Apply for a slot. With automatic confirmation the place is claimed at once (first come, first
    served) or the applicant joins the waiting list; otherwise the organiser confirms in order."""
    a = shift.activity
    if a.status != "published":
        raise ActivityError(_l("This activity is not open for sign-up."))
    if shift.starts_at <= now():
        raise ActivityError(_l("This time slot has already started."))
    if volunteer.status != "active":
        raise ActivityError(_l("This volunteer record is not active."))
    # the message text before the transaction: on SQLite the write lock is held from BEGIN to COMMIT,
    # and every other writer waits for it
    texts = _confirmed_texts(shift, a) if a.auto_confirm else None
    t = now()
    with transaction():
        # the place first (one guarded UPDATE), then the row with its final status (one INSERT): a
        # repeat sign-up fails on the unique (shift, volunteer) and the whole step, place included,
        # rolls back
        status = "pending"
        if a.auto_confirm:
            status = "confirmed" if _claim_place(shift.id, a.id) else "waitlisted"
        decided = t if status == "confirmed" else None
        try:
            with transaction():
                new_id = _insert_signup.execute(shift_id=shift.id, activity_id=a.id, volunteer_id=volunteer.id,
                                                status=status, created_at=t, decided_at=decided)
        except pw.IntegrityError:
            s = SignUp.get_or_none((SignUp.shift == shift) & (SignUp.volunteer == volunteer))
            if s is None or s.status not in ("cancelled", "declined"):
                raise ActivityError(_l("You have already signed up for this time slot.")) from None
            s.status, s.reason, s.created_at, s.decided_at = status, "", t, decided  # applies again
            s.save()
        else:
            s = SignUp(id=new_id, shift=shift, activity=a, volunteer=volunteer, status=status, created_at=t,
                       decided_at=decided)
            s._dirty.clear()
        audit.log("signup.created", s, {"status": status})
        if status == "confirmed":
            _confirmed(s, texts)
        elif status == "waitlisted":
            _waitlisted(s)
    return s


def _confirmed(s: SignUp, texts: tuple[str, str] | None = None):
    events.emit(SignUpConfirmed(signup_id=s.id, volunteer_id=s.volunteer_id, activity_id=s.activity_id))
    _message_confirmed(s, texts)


def _waitlisted(s: SignUp):
    _message(s, _("【Waiting list】%(title)s", title=s.activity.title),
             _("The slot is full; you are on the waiting list and will be told if a place frees up."),
             f"activities.waitlisted:{s.id}:{s.created_at:%Y%m%d%H%M%S}")


def _confirm_or_wait(s: SignUp):
    """The organiser's decision on a pending application: a place if there is one, else the list."""
    if _claim(s):
        s.status, s.decided_at = "confirmed", now()
        SignUp.update(status=s.status, decided_at=s.decided_at).where(SignUp.id == s.id).execute()
        audit.log("signup.confirmed", s)
        _confirmed(s)
        return True
    s.status = "waitlisted"
    SignUp.update(status=s.status).where(SignUp.id == s.id).execute()
    audit.log("signup.waitlisted", s)
    _waitlisted(s)
    return False


def confirm(signups, *, actor=None) -> list[SignUp]:
    """The organiser confirms pending applications in the order they came (R-ACT-4)."""
    done = []
    with transaction():
        for s in sorted(signups, key=lambda x: (x.created_at, x.id)):
            s = for_update(SignUp.select().where(SignUp.id == s.id)).get()
            if s.status != "pending":
                continue
            if _confirm_or_wait(s):
                done.append(s)
    return done


def decline(signups, *, reason: str, actor=None):
    """Decline with a reason the applicant sees (R-ACT-10)."""
    reason = (reason or "").strip()
    if not reason:
        raise ActivityError({"reason": _l("Tell the applicant why.")})
    with transaction():
        for s in signups:
            s = for_update(SignUp.select().where(SignUp.id == s.id)).get()
            if s.status not in ("pending", "waitlisted", "confirmed"):
                continue
            was_confirmed = s.status == "confirmed"
            SignUp.update(status="declined", reason=reason, decided_at=now()).where(SignUp.id == s.id).execute()
            if was_confirmed:
                _release(s)
                _promote(s.shift_id)
            audit.log("signup.declined", s, {"reason": reason}, user=actor)
            _message(s, _("【Not accepted】%(title)s", title=s.activity.title), _("Reason: %(r)s", r=reason),
                     f"activities.declined:{s.id}:{now():%Y%m%d%H%M%S}")


def cancel(signup: SignUp, *, reason: str = "", actor=None):
    """The volunteer withdraws; a freed place goes to the first on the waiting list."""
    with transaction():
        s = for_update(SignUp.select().where(SignUp.id == signup.id)).get()
        if s.status in ("cancelled", "declined"):
            return s
        was_confirmed = s.status == "confirmed"
        SignUp.update(status="cancelled", reason=reason[:500], decided_at=now()).where(SignUp.id == s.id).execute()
        if was_confirmed:
            _release(s)
            _promote(s.shift_id)
        audit.log("signup.cancelled", s, user=actor)
    return SignUp.get_by_id(signup.id)


def _promote(shift_id: int):
    nxt = (SignUp.select().where((SignUp.shift == shift_id) & (SignUp.status == "waitlisted"))
           .order_by(SignUp.created_at, SignUp.id).first())
    if nxt is not None and _claim(nxt):
        SignUp.update(status="confirmed", decided_at=now()).where(SignUp.id == nxt.id).execute()
        audit.log("signup.promoted", nxt)
        _confirmed(nxt)


def _message(s: SignUp, subject, body, key):
    user_id = s.volunteer.user_id
    if user_id is not None:
        messages.send(user_id, subject, body, category="activities", dedupe_key=key)


def _confirmed_texts(sh: Shift, a: Activity) -> tuple[str, str]:
    """Subject and body of 【报名成功】 (R-ACT-5)."""
    return (_("【Signed up】%(title)s", title=a.title),
            _("Your place is confirmed: %(when)s at %(where)s. Contact: %(contact)s.",
              when=f"{sh.starts_at.astimezone(TZ):%Y-%m-%d %H:%M}–{sh.ends_at.astimezone(TZ):%H:%M}",
              where=a.address, contact=a.contact_name))


def _message_confirmed(s: SignUp, texts: tuple[str, str] | None = None):
    subject, body = texts or _confirmed_texts(s.shift, s.activity)
    _message(s, subject, body, f"activities.confirmed:{s.id}:{s.decided_at or now():%Y%m%d%H%M%S}")


def send_reminders(at: _dt.datetime | None = None) -> int:
    """【温馨提示】 to every confirmed volunteer whose slot starts within the next 24 hours; exactly once
    per sign-up even when the scheduler runs twice (the inbox's dedupe key). Returns messages created."""
    t = at or now()
    horizon = t + _dt.timedelta(hours=setting("reminder_hours"))
    q = (SignUp.select(SignUp, Shift, Activity).join(Shift).switch(SignUp).join(Activity)
         .where((SignUp.status == "confirmed") & (Shift.starts_at > t) & (Shift.starts_at <= horizon)))
    n = 0
    from core.models import Message
    for s in list(q):  # read first, then write (see finish_due)
        user = s.volunteer.user
        if user is None:
            continue
        key = f"activities.reminder:{s.id}"
        if Message.select().where((Message.recipient == user.id) & (Message.dedupe_key == key)).exists():
            continue
        messages.send(user, _("【Reminder】%(title)s", title=s.activity.title),
                      _("Your volunteer service starts at %(when)s, %(where)s. Please arrive on time and "
                        "check in by scanning the code.",
                        when=f"{s.shift.starts_at.astimezone(TZ):%Y-%m-%d %H:%M}", where=s.activity.address),
                      category="activities.reminder", dedupe_key=key)
        n += 1
    return n


# ---------------------------------------------------------------- check-in (R-ACT-7)
def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="activities.checkin")


def site_token(activity: Activity, mode: str) -> str:
    """The code on the organiser's screen: signed, expiring, for check-in or check-out."""
    if mode not in ("in", "out"):
        raise ValueError(mode)
    return _serializer().dumps({"a": activity.id, "m": mode, "n": secrets.token_hex(8)})


def personal_token(volunteer: Volunteer) -> str:
    """The volunteer's own code that the organiser scans; single use."""
    return _serializer().dumps({"v": volunteer.id, "n": secrets.token_hex(12)})


def _load(token: str) -> dict:
    try:
        return _serializer().loads(token, max_age=setting("checkin_token_seconds"))
    except SignatureExpired:
        raise ActivityError(_l("This code has expired; scan the current one.")) from None
    except BadSignature:
        raise ActivityError(_l("This code is not valid.")) from None


def _use_nonce(nonce: str):
    try:
        with transaction():
            UsedToken.create(nonce=nonce)
    except pw.IntegrityError:
        raise ActivityError(_l("This code was already used.")) from None


def _signup_for_now(volunteer_id: int, activity_id: int, t, missing=None) -> SignUp:
    q = (SignUp.select(SignUp, Shift).join(Shift)
         .where((SignUp.volunteer == volunteer_id) & (SignUp.activity == activity_id)
                & (SignUp.status == "confirmed")).order_by(Shift.starts_at))
    rows = list(q)
    if not rows:
        raise ActivityError(missing or _l("You have no confirmed place in this activity."))
    # the slot that contains now, else the nearest one
    return min(rows, key=lambda s: 0 if s.shift.starts_at <= t <= s.shift.ends_at
               else min(abs((s.shift.starts_at - t).total_seconds()), abs((s.shift.ends_at - t).total_seconds())))


def scan_site_code(volunteer: Volunteer, token: str) -> SignUp:
    """A volunteer scanned the organiser's code: check in or out. A code is used once per volunteer."""
    data = _load(token)
    if "a" not in data:
        raise ActivityError(_l("This code is not valid."))
    # one transaction: a scan refused by _stamp (no confirmed place yet) must not use up the code
    with transaction():
        _use_nonce(f"{data['n']}:{volunteer.id}")
        return _stamp(volunteer.id, data["a"], data["m"])


def scan_personal_code(activity: Activity, token: str, mode: str, *, actor=None) -> SignUp:
    """The organiser scanned a volunteer's personal code. A code that is refused (no confirmed place in
    this activity, check-out before check-in) is not used up: the scan is one transaction."""
    data = _load(token)
    if mode not in ("in", "out"):
        raise ActivityError(_l("This code is not valid."))
    if "a" in data:   # an activity's screen code scanned by mistake
        raise ActivityError(_l("This is an activity's check-in code, not a volunteer's personal code."))
    if "v" not in data:
        raise ActivityError(_l("This code is not valid."))
    with transaction():
        _use_nonce(data["n"])
        return _stamp(data["v"], activity.id, mode, actor=actor,
                      missing=_l("This volunteer has no confirmed place in this activity."))


def checkin_window(shift: Shift) -> tuple[_dt.datetime, _dt.datetime, _dt.datetime]:
    """(check-in opens, check-in closes, check-out closes) of a slot: check-in from
    ``checkin_opens_minutes_before`` the start until the end, check-out until
    ``checkout_closes_minutes_after`` the end (R-ACT-7). Outside it a scan is refused with the reason."""
    opens = shift.starts_at - _dt.timedelta(minutes=setting("checkin_opens_minutes_before"))
    closes = shift.ends_at + _dt.timedelta(minutes=setting("checkout_closes_minutes_after"))
    return opens, shift.ends_at, closes


def _check_window(s: SignUp, mode: str, t: _dt.datetime):
    opens, in_closes, out_closes = checkin_window(s.shift)
    hm = lambda d: f"{d.astimezone(TZ):%m-%d %H:%M}"  # noqa: E731
    if mode == "in" and s.check_in_at is None:
        if t < opens:
            raise ActivityError(_l("Check-in opens at %(time)s, %(n)s minutes before the slot starts.",
                                   time=hm(opens), n=setting("checkin_opens_minutes_before")))
        if t > in_closes:
            raise ActivityError(_l("This slot ended at %(time)s, so check-in is closed. Ask the organiser to "
                                   "record your times.", time=hm(in_closes)))
    if mode == "out" and t > out_closes:
        raise ActivityError(_l("Check-out closed at %(time)s. Ask the organiser to record your times.",
                               time=hm(out_closes)))


def _stamp(volunteer_id: int, activity_id: int, mode: str, actor=None, missing=None) -> SignUp:
    t = now()
    with transaction():
        s = _signup_for_now(volunteer_id, activity_id, t, missing)
        _check_window(s, mode, t)
        if mode == "in":
            if s.check_in_at is None:
                SignUp.update(check_in_at=t).where(SignUp.id == s.id).execute()
        else:
            if s.check_in_at is None:
                raise ActivityError(_l("Check in first."))
            SignUp.update(check_out_at=t).where(SignUp.id == s.id).execute()
        audit.log(f"checkin.{mode}", s, user=actor)
    return SignUp.get_by_id(s.id)


def correct_times(signup: SignUp, check_in_at, check_out_at, *, reason: str, actor=None) -> SignUp:
    """The organiser corrects times by hand; a reason is required and audited."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _l("Give the reason for the correction.")
    cin = _parse_dt(check_in_at, "check_in_at", errors) if check_in_at else None
    cout = _parse_dt(check_out_at, "check_out_at", errors) if check_out_at else None
    if cin and cout and cout <= cin:
        errors["check_out_at"] = _l("Check-out must be after check-in.")
    if errors:
        raise ActivityError(errors)
    with transaction():
        SignUp.update(check_in_at=cin, check_out_at=cout, time_note=reason[:1000]).where(
            SignUp.id == signup.id).execute()
        audit.log("checkin.corrected", signup, {"reason": reason, "in": str(cin), "out": str(cout)}, user=actor)
    return SignUp.get_by_id(signup.id)


def zero_hours_reason(signup: SignUp) -> str:
    """Why times that were both recorded still count as 0 hours, in words a volunteer understands ("" when
    they count more than 0, or when a time is missing): hours are never 0.0 without a reason shown."""
    if signup.check_in_at is None or signup.check_out_at is None or minutes_from_times(signup) > 0:
        return ""
    sh = signup.shift
    if signup.check_out_at <= sh.starts_at or signup.check_in_at >= sh.ends_at:
        return str(_l("Only time inside the slot counts, and you were checked out before it started or in "
                      "after it ended."))
    return str(_l("The time inside the slot was shorter than %(n)s minutes, the rounding step.",
                  n=setting("rounding_minutes")))


def minutes_from_times(signup: SignUp) -> int:
    """Hours actually given (R-NAT-2): check-in to check-out, capped by the slot, rounded by the rule."""
    if signup.check_in_at is None or signup.check_out_at is None:
        return 0
    sh = signup.shift
    start = max(signup.check_in_at, sh.starts_at)
    end = min(signup.check_out_at, sh.ends_at)
    mins = max(0, int((end - start).total_seconds() // 60))
    step = setting("rounding_minutes")
    if step > 1:
        how = setting("rounding")
        f = {"down": math.floor, "up": math.ceil, "nearest": round}.get(how, math.floor)
        mins = int(f(mins / step) * step)
        mins = min(mins, int((sh.ends_at - sh.starts_at).total_seconds() // 60))
    return mins


def assign(signup: SignUp, *, post: str = "", mentor: SignUp | None = None, actor=None) -> SignUp:
    """Staffing (R-ACT-10): a post for a confirmed volunteer and, for a newcomer, an experienced partner
    from the same activity."""
    if signup.status != "confirmed":
        raise ActivityError(_l("Only confirmed volunteers get a post."))
    if mentor is not None and (mentor.activity_id != signup.activity_id or mentor.id == signup.id
                               or mentor.status != "confirmed"):
        raise ActivityError({"mentor": _l("The partner must be another confirmed volunteer of this activity.")})
    with transaction():
        SignUp.update(post=(post or "")[:100], mentor=mentor.id if mentor else None).where(
            SignUp.id == signup.id).execute()
        audit.log("signup.assigned", signup, {"post": post, "mentor": mentor.id if mentor else None}, user=actor)
    return SignUp.get_by_id(signup.id)


def experience(volunteer_ids) -> dict[int, int]:
    """Confirmed service records per volunteer: 0 means a newcomer (for pairing, R-ACT-10)."""
    rows = (ServiceRecord.select(ServiceRecord.volunteer, pw.fn.COUNT(ServiceRecord.id))
            .where(ServiceRecord.volunteer.in_(list(volunteer_ids))).group_by(ServiceRecord.volunteer).tuples())
    out = {v: 0 for v in volunteer_ids}
    out.update({v: n for v, n in rows})
    return out


def service_totals(date_from: _dt.date, date_to: _dt.date, *, volunteers=None):
    """Per volunteer, over ``date_from`` ≤ service_date < ``date_to``: confirmed service minutes
    (trainings excluded, R-ACT-6) and the number of distinct Party volunteer services (activities
    marked ``is_party_service`` with minutes > 0; R-PARTY-3). One aggregate query, returned unrun so a
    caller can join it as a subquery; its columns are ``volunteer_id``, ``minutes``, ``party_services``.
    ``volunteers`` (ids or a subquery of ids) limits it. Served by the covering index
    (volunteer, service_date, kind, minutes, activity): no table row is read."""
    party = Activity.select(Activity.id).where(Activity.is_party_service == True)  # noqa: E712
    party_activity = pw.Case(None, [((ServiceRecord.minutes > 0) & ServiceRecord.activity.in_(party),
                                     ServiceRecord.activity)], None)
    q = (ServiceRecord.select(ServiceRecord.volunteer.alias("volunteer_id"),
                              pw.fn.SUM(ServiceRecord.minutes).alias("minutes"),
                              pw.fn.COUNT(pw.NodeList((pw.SQL("DISTINCT"), party_activity))).alias("party_services"))
         .where((ServiceRecord.kind == "service") & (ServiceRecord.service_date >= date_from)
                & (ServiceRecord.service_date < date_to))
         .group_by(ServiceRecord.volunteer))
    if volunteers is not None:
        q = q.where(ServiceRecord.volunteer.in_(volunteers))
    return q


# ---------------------------------------------------------------- after the activity (R-ACT-8)
def submit_outcome(a: Activity, *, served_count, beneficiary_types: str, summary: str, recorder: str = "",
                   actor=None) -> Activity:
    errors = {}
    try:
        served = inputs.parse_int(served_count, min=0, max=inputs.INT32[1], field="served_count")
    except inputs.InputError as e:
        errors["served_count"] = e.message
        served = None
    if not (summary or "").strip():
        errors["summary"] = _l("This field is required.")
    if a.status not in ("finished", "published", "closed"):
        errors["__all__"] = _l("The outcome is recorded after the activity.")
    if errors:
        raise ActivityError(errors)
    with transaction():
        Activity.update(served_count=served, beneficiary_types=(beneficiary_types or "")[:200],
                        summary=summary.strip(), recorder=(recorder or "")[:50],
                        outcome_submitted_at=now()).where(Activity.id == a.id).execute()
        audit.log("activity.outcome", a, user=actor)
    return Activity.get_by_id(a.id)


def confirm_hours(a: Activity, minutes_by_signup: dict[int, int | None], *, reasons: dict[int, str] | None = None,
                  actor=None) -> list[ServiceRecord]:
    """Confirm each volunteer's hours (R-ACT-8). ``None`` takes the minutes from the check-in times. A
    change to an existing record needs a reason and creates a new version; an unchanged repeat does
    nothing and emits nothing (the event goes out once per record version)."""
    reasons = reasons or {}
    cap = setting("max_hours_per_record") * 60
    errors = {}
    plan = []
    signups = {s.id: s for s in SignUp.select().where((SignUp.activity == a) & SignUp.id.in_(list(minutes_by_signup)))}
    for sid, mins in minutes_by_signup.items():
        s = signups.get(int(sid))
        if s is None or s.status != "confirmed":
            errors[f"signup.{sid}"] = _l("Not a confirmed participant of this activity.")
            continue
        if mins is None:
            mins = minutes_from_times(s)
        try:
            mins = inputs.parse_int(mins, min=inputs.INT32[0], max=inputs.INT32[1])
        except inputs.InputError:
            errors[f"signup.{sid}"] = _l("Enter the minutes as a whole number.")
            continue
        slot = int((s.shift.ends_at - s.shift.starts_at).total_seconds() // 60)
        if not 0 <= mins <= min(cap, slot):
            errors[f"signup.{sid}"] = _l("Hours must be between 0 and the length of the slot.")
            continue
        plan.append((s, mins))
    if a.status not in ("finished", "closed", "published"):
        errors["__all__"] = _l("Hours are confirmed after the activity.")
    if a.status == "published" and a.ends_at and a.ends_at > now():
        errors["__all__"] = _l("Hours are confirmed after the activity.")
    if errors:
        raise ActivityError(errors)
    out = []
    with transaction():
        # CC3: confirmations of one activity take turns (PostgreSQL; SQLite's BEGIN IMMEDIATE does it
        # already); without it two tabs confirming at once both create the first record and one fails
        # on the unique signup, or both correct a record from the same old version
        for_update(Activity.select(Activity.id).where(Activity.id == a.id)).first()
        for s, mins in plan:
            rec = for_update(ServiceRecord.select().where(ServiceRecord.signup == s.id)).first()
            if rec is None:
                rec = ServiceRecord.create(signup=s, volunteer=s.volunteer_id, activity=a, team=a.team_id,
                                           kind=a.kind, service_date=s.shift.starts_at.astimezone(TZ).date(),
                                           minutes=mins, confirmed_by=getattr(actor, "id", None))
                delta = mins
            elif rec.minutes == mins:
                out.append(rec)
                continue
            else:
                why = (reasons.get(s.id) or reasons.get(str(s.id)) or "").strip()
                if not why:
                    raise ActivityError({f"signup.{s.id}": _l("A change of confirmed hours needs a reason.")})
                delta = mins - rec.minutes
                rec.minutes, rec.version = mins, rec.version + 1
                rec.change_reason, rec.confirmed_at = why, now()
                rec.confirmed_by = getattr(actor, "id", None)
                rec.save()
            audit.log("hours.confirmed" if rec.version == 1 else "hours.corrected", rec,
                      {"minutes": mins, "delta": delta, "version": rec.version}, user=actor)
            events.emit(HoursConfirmed(record_id=rec.id, volunteer_id=rec.volunteer_id, team_id=rec.team_id,
                                       activity_id=a.id, kind=rec.kind, minutes=mins, delta_minutes=delta,
                                       version=rec.version, service_date=rec.service_date,
                                       idempotency_key=f"service_record:{rec.id}:v{rec.version}"))
            out.append(rec)
        if a.status == "finished" and not SignUp.select().join(ServiceRecord, pw.JOIN.LEFT_OUTER).where(
                (SignUp.activity == a) & (SignUp.status == "confirmed") & ServiceRecord.id.is_null()).exists():
            Activity.update(status="closed").where(Activity.id == a.id).execute()
    return out


def confirmed_records(*, after_id: int = 0, limit: int = 1000, kind: str | None = None) -> list[dict]:
    """Public: confirmed service records in id order after ``after_id``, as dicts (id, volunteer_id,
    team_id, activity_id, kind, minutes, version, service_date). The time bank uses it to catch up
    with confirmations whose event it missed."""
    q = (ServiceRecord.select(ServiceRecord.id, ServiceRecord.volunteer.alias("volunteer_id"),
                              ServiceRecord.team.alias("team_id"), ServiceRecord.activity.alias("activity_id"),
                              ServiceRecord.kind, ServiceRecord.minutes, ServiceRecord.version,
                              ServiceRecord.service_date)
         .where(ServiceRecord.id > after_id).order_by(ServiceRecord.id).limit(limit))
    if kind:
        q = q.where(ServiceRecord.kind == kind)
    return list(q.dicts())


# ---------------------------------------------------------------- finding activities (R-ACT-3)
SORTS = ("soonest", "nearest", "most_needed", "newest")
PARTY_SERVICE = "党员志愿服务"


def _like(word: str) -> str:
    """A LIKE pattern that finds ``word`` anywhere, its own % _ and \\ taken literally."""
    return "%" + word.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"


def _contains(column, pattern, cased: bool):
    # PostgreSQL: ILIKE only for a word with letters that have a case. For Chinese (and digits) LIKE
    # finds the same rows, and ILIKE folds every character of the text first (~2x the listing's query).
    # SQLite's LIKE (peewee's ILIKE) ignores ASCII case and has no such cost; peewee's LIKE there is GLOB.
    op = pw.OP.LIKE if not cased and is_postgres() else pw.OP.ILIKE
    return pw.Expression(column, op, pw.NodeList((pattern, pw.SQL("ESCAPE"), pw.Value("\\", converter=False))))


def _has_case(word: str) -> bool:
    return word.lower() != word or word.upper() != word


# the keyword index (models.SearchTerm): a keyword piece found in at most RARE_TERM activities is looked
# up there; a commoner one is matched while reading in the listing's order, where 20 matches come soon
RARE_TERM = 2000
_TERMS_PER_WORD = 8  # pieces of a long word whose counts are looked at


def search_terms(*texts: str) -> set[str]:
    """The pieces the keyword index keeps of ``texts``: each two neighbouring characters, unless one is
    white space or either has a case (Latin words are matched by reading, case-insensitively)."""
    out = set()
    for t in texts:
        for i in range(len(t) - 1):
            pair = t[i:i + 2]
            if not (pair[0].isspace() or pair[1].isspace() or _has_case(pair)):
                out.add(pair)
    return out


def index_search_terms(activity_ids=None, *, chunk: int = 500) -> int:
    """Write the keyword index rows of these activities (default: every published, finished or closed
    one); rows already there are kept. Public: call it after loading activities in bulk without
    ``publish``. Returns the rows written."""
    q = Activity.select(Activity.id, Activity.title, Activity.description, Activity.address,
                        Activity.is_party_service)
    if activity_ids is None:
        q = q.where(Activity.status.in_(["published", "finished", "closed"]))
        ids = [r.id for r in q.order_by(Activity.id)]
    else:
        ids = list(activity_ids)
    n = 0
    for c0 in range(0, len(ids), chunk):
        rows = []
        for a in q.where(Activity.id.in_(ids[c0:c0 + chunk])).namedtuples():
            texts = (a.title, a.description, a.address) + ((PARTY_SERVICE,) if a.is_party_service else ())
            rows.extend({"term": t, "activity_id": a.id} for t in search_terms(*texts))
        for r0 in range(0, len(rows), 5000):
            SearchTerm.insert_many(rows[r0:r0 + 5000]).on_conflict_ignore().execute()
        n += len(rows)
    return n


@compiled
def _term_count(term, cap):
    inner = SearchTerm.select(SearchTerm.activity_id).where(SearchTerm.term == term).limit(cap)
    return SearchTerm.select(pw.fn.COUNT(pw.SQL("*"))).from_(inner.alias("t")).tuples()


# piece -> (its activities, counted up to RARE_TERM + 1; when to count again). Only the choice between
# looking up and reading depends on it, never which activities are found, so a count may be minutes old.
_TERM_COUNTS: dict = {}
TERM_COUNT_SECONDS = 600


def _term_activities(term: str) -> int:
    key, t = (id(db.obj), term), time.monotonic()
    hit = _TERM_COUNTS.get(key)
    if hit is None or hit[1] < t:
        if len(_TERM_COUNTS) >= 10000:
            _TERM_COUNTS.clear()
        hit = _TERM_COUNTS[key] = (_term_count.first(term=term, cap=RARE_TERM + 1)[0], t + TERM_COUNT_SECONDS)
    return hit[0]


def _rarest_term(words: list[str]):
    """(piece, word) of the keyword piece in the fewest activities, if that is at most RARE_TERM."""
    best = None
    for w in words:
        if _has_case(w):
            continue
        for t in sorted(search_terms(w))[:_TERMS_PER_WORD]:
            n = _term_activities(t)
            if n <= RARE_TERM and (best is None or n < best[0]):
                best = (n, t, w)
    return best[1:] if best else None


# what the public listing shows of each activity: a plain row, not a model (building 20 Activity and
# Team objects of ~50 columns and selecting every column cost more than the query; bench/activities.py)
LISTING_COLUMNS = (Activity.id, Activity.title, Activity.district, Activity.starts_at, Activity.capacity,
                   Activity.confirmed, Activity.latitude, Activity.longitude, Team.name.alias("team_name"))


def _listing_query(shape, p):
    """The listing's query for one shape (which filters, keyword words, sort), values as ``p``."""
    names, party, cased, sort = shape
    q = (Activity.select(*LISTING_COLUMNS).join(Team)
         .where((Activity.status == "published") & (Activity.kind == p["kind"]) & (Activity.ends_at > p["now"])))
    if "district" in names:
        q = q.where(Activity.district == p["district"])
    if "field" in names:
        q = q.where(Activity.field == p["field"])
    if "category" in names:
        q = q.where(Activity.category == p["category"])
    if "term" in names:
        # a rare keyword: only the activities that contain its rarest piece, or whose team's name
        # contains the word; the words are still matched against the text below
        team, other = Team.alias(), Activity.alias()
        by_team = other.select(other.id).where(other.team.in_(
            team.select(team.id).where(_contains(team.name, p["term_word"], False))))
        found = SearchTerm.select(SearchTerm.activity_id).where(SearchTerm.term == p["term"]) | by_team
        if is_postgres():
            # ARRAY(…) is computed first and "id = ANY" reads those rows by primary key. As a semi-join
            # (IN) the planner misjudged the text check and read every activity (bench/activities.py)
            q = q.where(Activity.id == pw.fn.ANY(pw.fn.ARRAY(found)))
        else:
            q = q.where(Activity.id.in_(found))
    for i, marked in enumerate(party):
        w = p[f"w{i}"]
        ci = cased[i]
        match = (_contains(Activity.title, w, ci) | _contains(Activity.description, w, ci)
                 | _contains(Team.name, w, ci) | _contains(Activity.address, w, ci))
        if marked:  # R-ACT-3's example: activities marked as Party-member service match too
            match = match | (Activity.is_party_service == True)  # noqa: E712
        q = q.where(match)
    if "date_from" in names:
        q = q.where(Activity.ends_at >= p["date_from"])
    if "date_to" in names:
        q = q.where(Activity.starts_at <= p["date_to"])
    if sort == "nearest":
        # equirectangular distance: good enough inside a city, and index-free on both databases
        dist = ((Activity.latitude - p["lat"]) * (Activity.latitude - p["lat"])
                + (Activity.longitude - p["lng"]) * (Activity.longitude - p["lng"]) * p["k2"])
        q = q.where(Activity.latitude.is_null(False)).order_by(dist, Activity.starts_at)
    elif sort == "most_needed":
        q = q.order_by((Activity.capacity - Activity.confirmed).desc(), Activity.starts_at)
    elif sort == "newest":
        q = q.order_by(Activity.published_at.desc())
    else:
        q = q.order_by(Activity.starts_at, Activity.id)
    return q.limit(p["limit"]).offset(p["offset"]).namedtuples()


_LISTINGS: dict = {}  # shape -> compiled query; shapes are few (filters present × words × sort)


def total_service_hours() -> int:
    """Confirmed service hours of the whole site, trainings excluded (R-NAT-2), in whole hours."""
    minutes = ServiceRecord.select(pw.fn.COALESCE(pw.fn.SUM(ServiceRecord.minutes), 0)).where(
        ServiceRecord.kind == "service").scalar() or 0
    return int(minutes) // 60


def listing(**filters) -> list:
    """The public listing (R-ACT-3): published, not yet ended activities of ``kind``, filtered, every
    keyword word found in the title, description, team or address (Chinese text included), sorted;
    one page of named tuples of LISTING_COLUMNS. The SQL of each shape is built once (core.db.compiled).

    Filters: district, field, category, kind ("service"), keyword, date_from, date_to, sort
    (soonest | nearest with lat and lng | most_needed | newest), page (1), per_page (20)."""
    query, values = _listing(**filters)
    return list(query(**values))


def listing_sql(**filters) -> tuple[str, list]:
    """The SQL text and parameters ``listing`` runs for these filters (for query plans)."""
    query, values = _listing(**filters)
    return query.sql(**values)


def _listing(*, district=None, field=None, category=None, kind="service", keyword=None, date_from=None,
             date_to=None, sort="soonest", lat=None, lng=None, page=1, per_page=20):
    page = min(max(1, int(page)), inputs.MAX_PAGE)  # NS2: an offset past 2**63 overflows the database
    values = {"kind": kind, "now": now(), "limit": per_page, "offset": (page - 1) * per_page}
    if district:
        values["district"] = district
    if field:
        values["field"] = _int(field)
    if category:
        values["category"] = _int(category)
    words = [w[:50] for w in str(keyword).split()[:5]] if keyword else []
    for i, w in enumerate(words):
        values[f"w{i}"] = _like(w)
    rare = _rarest_term(words) if words else None
    if rare:
        values.update(term=rare[0], term_word=_like(rare[1]))
    if date_from:
        values["date_from"] = date_from
    if date_to:
        values["date_to"] = date_to
    if sort == "nearest" and lat is not None and lng is not None:
        values.update(lat=float(lat), lng=float(lng), k2=math.cos(math.radians(float(lat))) ** 2)
    elif sort not in ("most_needed", "newest"):
        sort = "soonest"
    shape = (frozenset(values), tuple("党员" in w and w in PARTY_SERVICE for w in words),
             tuple(_has_case(w) for w in words), sort)
    query = _LISTINGS.get(shape)
    if query is None:
        if len(_LISTINGS) > 1000:  # a bound, not a cache policy: shapes come from a small set
            _LISTINGS.clear()
        query = _LISTINGS[shape] = compiled(lambda **p: _listing_query(shape, p), names=sorted(values))
    return query, values


def feedback_averages(a: Activity) -> dict:
    rows = list(Feedback.select().where(Feedback.activity == a))
    items: dict[str, list[int]] = {}
    overall = [r.overall for r in rows if r.overall is not None]
    for r in rows:
        for k, v in json.loads(r.items or "{}").items():
            items.setdefault(k, []).append(int(v))
    return {"count": len(rows), "overall": round(sum(overall) / len(overall), 2) if overall else None,
            "items": {k: round(sum(v) / len(v), 2) for k, v in items.items()}}


# ---------------------------------------------------------------- for other plugins (certificates)
def confirmed_service_records(volunteer, ids=None, *, kind: str = "service"):
    """The confirmed records of ``volunteer`` (a Volunteer or its id) with hours, newest first, with
    their activity and team loaded: what a volunteer may have certified (R-CERT-1, R-NAT-5).

    Only records of ``kind`` (default ``"service"``: trainings and anything that is not volunteering are
    never certified, R-NAT-7) and with more than 0 minutes. ``ids`` limits the result to those record
    ids; ids of other volunteers' records, of trainings or unknown ids are simply absent, so a caller
    compares lengths to refuse them."""
    q = (ServiceRecord.select(ServiceRecord, Activity, Team)
         .join(Activity, on=(ServiceRecord.activity == Activity.id))
         .switch(ServiceRecord).join(Team, on=(ServiceRecord.team == Team.id))
         .where((ServiceRecord.volunteer == volunteer) & (ServiceRecord.kind == kind)
                & (ServiceRecord.minutes > 0)))
    if ids is not None:
        q = q.where(ServiceRecord.id.in_(list(ids) or [-1]))
    return list(q.order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc()))


def confirmed_service_volunteers(activity) -> list[int]:
    """Ids of the volunteers with a confirmed service record (hours > 0) in ``activity``, for
    certificates issued to everyone who served in it at once (R-NAT-5)."""
    q = (ServiceRecord.select(ServiceRecord.volunteer).distinct()
         .where((ServiceRecord.activity == activity) & (ServiceRecord.kind == "service")
                & (ServiceRecord.minutes > 0)))
    return sorted(r.volunteer_id for r in q)
