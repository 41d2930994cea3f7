"""Public API of the volunteers plugin. Other plugins call these functions, never the models' internals.

Every function that changes data runs in one transaction and writes the audit log; bad input raises
``RegistrationError`` with one translated message per field and writes nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import json
import re
import secrets
from dataclasses import dataclass
from typing import Iterator

import peewee as pw
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, events
from core.errors import FieldErrors
from core.crypto import blind_index
from core.db import compiled, for_update, now, today, transaction
from core.pii import ID_TYPES, PIIError, age_on, id_birth_date, id_gender, validate_id, validate_mobile
from core.security import VOLUNTEER, UsernameError, create_user, grant_role, password_problem

from .models import (DISTRICTS, EDUCATION, PARTY_MEMBER_STATUSES, POLITICAL_STATUSES, Application,
                     DataRequest, Sequence, Volunteer)

SETTINGS = PluginSettings(__file__)


_settings_cache: contextvars.ContextVar = contextvars.ContextVar("volunteers_settings", default=None)


@contextlib.contextmanager
def settings_cached():
    """Inside the block each setting is read from the database once: bulk paths (imports) validate
    thousands of rows with ``clean_registration``, which reads settings per row (~0.3 ms each)."""
    token = _settings_cache.set({})
    try:
        yield
    finally:
        _settings_cache.reset(token)


def setting(key):
    cache = _settings_cache.get()
    if cache is not None and key in cache:
        return cache[key]
    value = SETTINGS.get(key)
    if cache is not None:
        cache[key] = value
    return value


class RegistrationError(FieldErrors):
    """Field → translated message. Nothing was written."""


@dataclass
class VolunteerRegistered(events.Event):
    name = "volunteers.registered"
    volunteer_id: int = 0


@dataclass
class VolunteerChanged(events.Event):
    name = "volunteers.changed"
    volunteer_id: int = 0
    fields: tuple = ()


@dataclass
class VolunteerErased(events.Event):
    """A volunteer was anonymised (deletion request or retention); plugins drop their own personal data."""
    name = "volunteers.erased"
    volunteer_id: int = 0
    reason: str = ""


OPTIONAL_TEXT = {  # field: max length
    "nickname": 50, "email": 254, "ethnicity": 20, "native_place": 100, "household_place": 100,
    "address": 255, "postcode": 10, "qq": 20, "wechat": 50, "school_major": 200,
    "professional_title": 50, "job_title": 50, "occupation": 50, "employer": 200, "specialties": 255,
    "hobbies": 255, "service_intention": 255, "resume": 5000, "religion": 50, "remarks": 2000,
}
# what a volunteer may correct themselves (R-NAT-4); name, ID and birth date go through a correction
# request, the registering organisation's remarks are not theirs to change
EDITABLE_BY_SELF = (set(OPTIONAL_TEXT) - {"remarks"}) | {"phone", "district", "education", "political_status",
                                                         "in_service_reported_on"}
ID_TYPES_WITH_BIRTH_DATE = ("cn_id", "hmt_permit")


def id_hash(id_type: str, number: str) -> str:
    return blind_index(f"{id_type}:{number}", "volunteer.id")


def phone_hash(phone: str) -> str:
    return blind_index(phone, "volunteer.phone")


# fields whose mere change tells something about a person's political status (only Party members report
# in service or sign the pledge): the audit log names them together as "sensitive" (NS5)
SEALED_AUDIT_FIELDS = ("political_status", "in_service_reported_on", "religion", "pledge")


def audit_fields(changed) -> list[str]:
    """The changed field names for the audit log, the sealed ones folded into one "sensitive"."""
    return sorted({"sensitive" if f in SEALED_AUDIT_FIELDS else f for f in changed})


STANDING_CHUNK = 5000   # ids per query of political_standing (SQLite allows 32,766 parameters)


def political_standing(volunteer_ids) -> Iterator[tuple[int, str, bool]]:
    """(volunteer id, political status, is an in-service Party member) for each of ``volunteer_ids``
    that exists, for reports that count Party members (the targets plugin). The political status and
    the in-service reporting are sealed, with no index (SECURITY.md NS5: a deterministic index of a
    value with seven possible values would tell any dump who is a Party member), so they are decrypted
    here, in bulk: one query per ``STANDING_CHUNK`` ids on the plain cursor, each volunteer's status
    decrypted once and the reporting date only for Party members (a few µs per volunteer). A report
    that reads the volunteers anyway selects ``STANDING_COLUMNS`` itself and calls
    ``decode_standing``."""
    from core.db import db
    ids = sorted({int(i) for i in volunteer_ids})
    status_f, reported_f = Volunteer.political_status, Volunteer.in_service_reported_on
    # the statement by hand: peewee builds an IN list at ~18 µs per id, more than the decryption
    head = (f'SELECT "id", "{status_f.column_name}", "{reported_f.column_name}" '
            f'FROM "{Volunteer._meta.table_name}" WHERE "id" IN (')
    mark = db.obj.param
    for k in range(0, len(ids), STANDING_CHUNK):
        chunk = ids[k:k + STANDING_CHUNK]
        sql = head + ", ".join([mark] * len(chunk)) + ")"
        for vid, raw_status, raw_reported in db.execute_sql(sql, chunk).fetchall():
            yield (vid, *decode_standing(raw_status, raw_reported))


STANDING_COLUMNS = (Volunteer.political_status, Volunteer.in_service_reported_on)


def decode_standing(raw_status, raw_reported) -> tuple[str, bool]:
    """(political status, is an in-service Party member) from the stored (sealed) values of the
    ``STANDING_COLUMNS``, for a report that selects them in its own query, on the plain cursor (so
    there is no second query of the volunteers): the status decrypted, the reporting date only for
    Party members."""
    status = STANDING_COLUMNS[0].python_value(raw_status)
    return status, status in PARTY_MEMBER_STATUSES and bool(STANDING_COLUMNS[1].python_value(raw_reported))


def _text(data, key, maxlen, errors, required=False):
    v = str(data.get(key) or "").strip()
    if required and not v:
        errors[key] = _l("This field is required.")
    elif len(v) > maxlen:
        errors[key] = _l("At most %(n)s characters.", n=maxlen)
    return v


def _truthy(v) -> bool:
    return str(v).lower() in ("1", "true", "on", "yes", "y") if not isinstance(v, bool) else v


def _birth_date(raw, errors) -> _dt.date | None:
    if isinstance(raw, _dt.date):
        birth = raw
    else:
        raw = str(raw or "").strip()
        if not raw:
            errors["birth_date"] = _l("This field is required.")
            return None
        try:
            birth = _dt.date.fromisoformat(raw)
        except ValueError:
            errors["birth_date"] = _l("Enter the birth date as YYYY-MM-DD.")
            return None
    if birth > today() or birth.year < 1880:
        errors["birth_date"] = _l("Enter a real birth date.")
        return None
    return birth


def _identity(data: dict, errors: dict, out: dict):
    """Name, ID type and number, gender and birth date (IV1–IV3)."""
    out["name"] = _text(data, "name", 50, errors, required=True)
    id_type = str(data.get("id_type") or "cn_id")
    if id_type not in ID_TYPES:
        errors["id_type"] = _l("Choose an ID type from the list.")
    elif not str(data.get("id_number") or "").strip():
        errors["id_number"] = _l("This field is required.")
    else:
        try:
            out["id_number"] = validate_id(id_type, data.get("id_number", ""))
        except PIIError as e:
            errors["id_number"] = e.args[0]
    out["id_type"] = id_type
    gender = str(data.get("gender") or "")
    given_birth = data.get("birth_date")
    birth = None
    if id_type in ID_TYPES_WITH_BIRTH_DATE:
        # gender and birth date are read from the number; answers that contradict it are refused (IV3)
        if "id_number" in out:
            birth = id_birth_date(out["id_number"])
            derived = id_gender(out["id_number"])
            if gender and gender != derived:
                errors["gender"] = _l("The gender does not match the ID number.")
            gender = derived
            if given_birth and str(given_birth) != birth.isoformat():
                errors["birth_date"] = _l("The birth date does not match the ID number.")
        elif gender and gender not in ("M", "F"):
            errors["gender"] = _l("Choose a gender.")
    else:
        birth = _birth_date(given_birth, errors)
        if gender not in ("M", "F"):
            errors["gender"] = _l("Choose a gender.")
    out["gender"] = gender
    out["birth_date"] = birth


def _minor(data: dict, errors: dict, out: dict):
    """Age from the birth date: under 16 only with a guardian or an organised group (R-REG-4); under 14
    nothing is saved without the guardian's consent (PR4)."""
    birth = out.get("birth_date")
    if not birth:
        return
    age = age_on(birth)
    basis = str(data.get("minor_basis") or "")
    if age >= setting("min_age"):
        return
    if basis not in ("guardian", "group"):
        errors["minor_basis"] = _l(
            "Volunteers under %(age)s may only serve with a guardian or in an organised group; "
            "choose which.", age=setting("min_age"))
    out["minor_basis"] = basis
    under_consent_age = age < setting("guardian_consent_age")
    if under_consent_age or basis == "guardian":
        out["guardian_name"] = _text(data, "guardian_name", 50, errors, required=True)
        try:
            out["guardian_phone"] = validate_mobile(data.get("guardian_phone", ""))
        except PIIError as e:
            errors["guardian_phone"] = e.args[0]
    if under_consent_age:
        out["guardian_consent"] = _truthy(data.get("guardian_consent", False))
        if not out["guardian_consent"]:
            errors["guardian_consent"] = _l(
                "Under %(age)s, a guardian must consent to the processing of this personal information.",
                age=setting("guardian_consent_age"))


def clean_registration(data: dict, *, for_update_of: Volunteer | None = None) -> dict:
    """Validate a registration (附录一 fields), or the fields of ``data`` for a correction of
    ``for_update_of``. Returns clean values or raises RegistrationError (field → message)."""
    errors: dict = {}
    out: dict = {}
    creating = for_update_of is None
    if creating:
        _identity(data, errors, out)
        if not _truthy(data.get("agreement", False)):
            errors["agreement"] = _l("You must read and accept the service agreement to register.")
    if "phone" in data or creating:
        try:
            out["phone"] = validate_mobile(data.get("phone", ""))
        except PIIError as e:
            errors["phone"] = e.args[0] if str(data.get("phone") or "").strip() else _l(
                "This field is required.")
    for key, n in OPTIONAL_TEXT.items():
        if key in data or creating:
            out[key] = _text(data, key, n, errors)
    if out.get("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", out["email"]):
        errors["email"] = _l("Enter a valid email address.")
    for key, allowed, msg in (
            ("district", DISTRICTS, _l("Choose a district from the list.")),
            ("education", EDUCATION, _l("Choose an education level from the list.")),
            ("political_status", POLITICAL_STATUSES, _l("Choose a political status from the list."))):
        if key in data or creating:
            value = str(data.get(key) or "")
            if value and value not in allowed:
                errors[key] = msg
            out[key] = value
    # 在职党员回社区报到 (R-PARTY-3): a date, not in the future, for Party members only
    if "in_service_reported_on" in data or creating:
        raw = data.get("in_service_reported_on") or ""
        reported = raw if isinstance(raw, _dt.date) else None
        if reported is None and str(raw).strip():
            try:
                reported = _dt.date.fromisoformat(str(raw).strip())
            except ValueError:
                errors["in_service_reported_on"] = _l("Enter the date as YYYY-MM-DD.")
        if reported is not None and reported > today():
            errors["in_service_reported_on"] = _l("The reporting date cannot be in the future.")
        status = out["political_status"] if "political_status" in out else getattr(for_update_of, "political_status", "")
        if reported is not None and status not in PARTY_MEMBER_STATUSES:
            errors["in_service_reported_on"] = _l(
                "Only Party members and probationary Party members report to the community as in-service "
                "Party members.")
        out["in_service_reported_on"] = reported.isoformat() if reported else ""
    # sensitive personal information needs its own consent (PR3)
    sensitive_given = bool(out.get("political_status") or out.get("religion") or out.get("in_service_reported_on"))
    consent = _truthy(data.get("sensitive_consent", False))
    already = for_update_of is not None and for_update_of.sensitive_consent_at is not None
    if sensitive_given and not consent and not already:
        errors["sensitive_consent"] = _l(
            "Political status and religion are sensitive personal information: tick the separate "
            "consent to give them, or leave them empty.")
    out["sensitive_consent"] = consent and sensitive_given
    # the Party-member pledge of 附录一 (R-REG-6)
    out["pledge"] = _truthy(data.get("pledge", False))
    if out.get("political_status") in PARTY_MEMBER_STATUSES and not out["pledge"] and (
            creating or for_update_of.pledge_accepted_at is None):
        errors["pledge"] = _l("Party-member volunteers must agree to the Party-member pledge.")
    if creating:
        _minor(data, errors, out)
        if "password" in data:
            pw_ = str(data.get("password") or "")
            problem = password_problem(pw_)
            if problem:
                errors["password"] = problem
            out["password"] = pw_
    if errors:
        raise RegistrationError(errors)
    return out


def allocate_numbers(n: int) -> list[str]:
    """``n`` unused volunteer numbers (志愿者编号, R-REG-3): prefix + year + 7-digit sequence, in one
    step inside the caller's transaction (a rolled-back one gives its block back). A number that is
    somehow taken already, as a volunteer number or as a login name (an account created before
    usernames of this shape were reserved, or after the prefix setting changed), is skipped, never
    handed out again and again (SECURITY.md NS1, issue 11 point 1)."""
    from core.models import User
    year = today().year
    key = f"volunteer_number:{year}"
    prefix = setting("number_prefix")
    out: list[str] = []
    with transaction():
        Sequence.insert(name=key, value=0).on_conflict_ignore().execute()
        value = for_update(Sequence.select().where(Sequence.name == key)).get().value
        while len(out) < n:
            want = min(n - len(out), 500)   # bound the IN lists
            candidates = [f"{prefix}{year}{v:07d}" for v in range(value + 1, value + want + 1)]
            value += want
            taken = {u for (u,) in User.select(User.username).where(User.username.in_(candidates)).tuples()}
            taken |= {x for (x,) in Volunteer.select(Volunteer.number)
                      .where(Volunteer.number.in_(candidates)).tuples()}
            out += [c for c in candidates if c not in taken]
        Sequence.update(value=value).where(Sequence.name == key).execute()
    return out


def next_number() -> str:
    """One unused volunteer number (see ``allocate_numbers``)."""
    return allocate_numbers(1)[0]


def reserved_username_reason(username: str):
    """Why a chosen login name may not be ``username``, or None (the ``username_reserved`` hook, NS1):
    the shape of a volunteer number (the prefix setting and digits, any letter case), which the system
    hands out as login names, or a mobile number, with which volunteers log in."""
    prefix = str(setting("number_prefix") or "")
    if re.fullmatch(re.escape(prefix) + r"\d+", username, re.IGNORECASE):
        return _l("Usernames such as %(example)s are volunteer numbers, which the system hands out; "
                  "choose another username.", example=f"{prefix}{today().year}0000001")
    try:
        validate_mobile(username)
    except PIIError:
        return None
    return _l("A username cannot be a mobile number (volunteers log in with theirs); choose another username.")


RETRY = _l("The registration could not be saved because of a simultaneous change; please submit it again.")
DUPLICATE_ID = _l("A volunteer with this ID number is already registered.")


REVIEW_STATUSES = ("pending", "rejected")   # an application, not (yet) a volunteer file (R-REG-7)


def check_not_registered(h: str):
    """The early, friendly duplicate check (the unique blind index is the real guard)."""
    if Volunteer.select().where(Volunteer.id_hash == h).exists():
        raise RegistrationError({"id_number": DUPLICATE_ID})


def review_on() -> bool:
    """Whether public registrations wait for the organisation's review (R-REG-7, 附录九 第八、九条)."""
    return bool(setting("review_registrations"))


def registration_teams() -> list[tuple[int, str]]:
    """The approved teams an applicant may choose on the public page while the review is on (their
    admins may then review the application); empty when the ``teams`` plugin is off."""
    from flask import current_app
    if not review_on() or "teams" not in current_app.extensions["timebank"].loaded:
        return []
    from plugins.teams.models import Team   # only when teams is loaded: it builds on this plugin
    return [(t.id, t.name) for t in Team.select(Team.id, Team.name).where(Team.status == "approved")
            .order_by(Team.name).limit(1000)]


def register(data: dict, *, actor=None, create_account: bool = True, application: bool | None = None
             ) -> Volunteer:
    """Register a volunteer (public page, admin, import). Raises RegistrationError; writes nothing then.
    The same person (ID type + number) cannot register twice, even at the same moment: the unique
    blind index ``id_hash`` refuses the second insert and the whole transaction is rolled back.

    ``application`` (default: a public registration, no ``actor``, while ``review_registrations`` is
    on): the record is an application pending review (R-REG-7): status ``pending``, the account can log
    in and read its inbox and the application's state on ``/me``, but holds no volunteer role and is no
    volunteer to any other page until ``decide_application`` approves it. Registrations typed in by
    staff (admin form, import) are the organisation's own entry: no review."""
    if application is None:
        application = actor is None and review_on()
    team_id = None
    if application and str(data.get("team") or "").strip():
        try:
            team_id = int(str(data.get("team")).strip())
        except ValueError:
            team_id = None
        if team_id not in {tid for tid, _ in registration_teams()}:
            raise RegistrationError({"team": _l("Choose a team from the list, or none.")})
    clean = clean_registration(data)
    h = id_hash(clean["id_type"], clean["id_number"])
    check_not_registered(h)
    t = now()
    with transaction():
        number = next_number()
        user = None
        if create_account:
            password = clean.pop("password", None) or secrets.token_urlsafe(16)
            try:
                user = create_user(number, system=True, password=password, display_name=clean["name"],
                                   email=clean.get("email", ""))
            except UsernameError:   # only a concurrent account of this very name; the number was free
                raise RegistrationError({"__all__": RETRY}) from None
            if not application:
                grant_role(user, VOLUNTEER)
        clean.pop("password", None)
        v = Volunteer(number=number, user=user, id_hash=h, status="pending" if application else "active",
                      phone_hash=phone_hash(clean["phone"]),
                      agreement_version=setting("agreement_version"), agreement_accepted_at=t)
        for k in ("name", "gender", "id_type", "id_number", "birth_date", "phone", "district",
                  "education", "political_status", "in_service_reported_on", "minor_basis", "guardian_name",
                  "guardian_phone", *OPTIONAL_TEXT):
            if k in clean:
                setattr(v, k, clean[k] if clean[k] is not None else getattr(v, k))
        if clean.get("sensitive_consent"):
            v.sensitive_consent_at = t
            v.sensitive_consent_version = setting("privacy_notice_version")
        if clean.get("pledge") and clean.get("political_status") in PARTY_MEMBER_STATUSES:
            v.pledge_accepted_at = t
        if clean.get("guardian_consent"):
            v.guardian_consent_at = t
        try:
            with transaction():  # a savepoint, so PostgreSQL can report the conflict cleanly
                v.save(force_insert=True)
        except pw.IntegrityError:
            raise RegistrationError({"id_number": DUPLICATE_ID}) from None
        # the pledge is not named: only Party members sign it, and the audit log is in every dump (NS5);
        # its time is kept, sealed, in the record
        consents = ["agreement"] + [name for name, at in (("sensitive_consent", v.sensitive_consent_at),
                                                          ("guardian_consent", v.guardian_consent_at)) if at]
        if application:
            a = Application.create(volunteer=v, team_id=team_id, created_at=t)
            audit.log("volunteer.applied", v, {"application": a.id, "team": team_id, "consents": consents})
            _notify_reviewers(v, a)
        else:
            audit.log("volunteer.registered", v, {"by": getattr(actor, "username", "self"),
                                                  "consents": consents})
            events.emit(VolunteerRegistered(volunteer_id=v.id))
    return v


APPLICATION_DECIDED = _l("This application has already been decided.")


def decide_application(application: Application, *, approve: bool, reason: str = "", actor=None
                       ) -> Application:
    """A reviewer's decision on a registration application (R-REG-7, 附录九 第九条): approval creates the
    volunteer file (status ``active``, the volunteer role, ``volunteers.registered``; a chosen team gets
    the join application); a rejection needs a reason. A rejected application may be approved later
    (the applicant supplied what was missing), never the other way round. The applicant is told in
    their inbox (and by the message service's other channels); each step is audited. The caller checks
    the permission and the row scope (the admin view does)."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise RegistrationError({"reason": _l("A rejection needs a reason.")})
    if len(reason) > 2000:
        raise RegistrationError({"reason": _l("At most %(n)s characters.", n=2000)})
    with transaction():
        a = for_update(Application.select().where(Application.id == application.id)).get()
        if a.status == "approved" or (a.status == "rejected" and not approve):
            raise RegistrationError({"status": APPLICATION_DECIDED})
        v = for_update(Volunteer.select().where(Volunteer.id == a.volunteer_id)).get()
        if v.status not in ("pending", "rejected"):
            raise RegistrationError({"status": APPLICATION_DECIDED})
        t = now()
        a.status = "approved" if approve else "rejected"
        a.reason, a.decided_at, a.decided_by = reason, t, getattr(actor, "id", None)
        a.save()
        v.status = "active" if approve else "rejected"
        v.updated_at = t
        v.save(only=[Volunteer.status, Volunteer.updated_at])
        user = None
        if v.user_id:
            from core.models import User
            user = User.get_or_none(User.id == v.user_id)
        if approve and user is not None:
            grant_role(user, VOLUNTEER)
        audit.log("volunteer.application_" + a.status, v,
                  {"application": a.id, "team": a.team_id, "reason_given": bool(reason)}, user=actor)
        if approve:
            audit.log("volunteer.registered", v, {"by": getattr(actor, "username", "review"),
                                                  "application": a.id}, user=actor)
            events.emit(VolunteerRegistered(volunteer_id=v.id))
            _join_chosen_team(v, a.team_id)
        if user is not None:
            _tell_application(user, a)
    application.__data__.update(a.__data__)
    return a


def _join_chosen_team(v: Volunteer, team_id):
    """The team the applicant chose gets their join application (the team decides on it as on any)."""
    from flask import current_app
    if not team_id or "teams" not in current_app.extensions["timebank"].loaded:
        return
    from plugins.teams import services as teams
    from plugins.teams.models import Team
    team = Team.get_or_none(Team.id == team_id)
    if team is None:
        return
    try:
        with transaction():
            teams.apply_to_join(v, team)
    except teams.TeamError:   # the team closed meanwhile: the approval stands without it
        pass


def _reviewers(a: Application) -> list:
    """Who reviews an application: the chosen team's admins, else the platform admins."""
    from flask import current_app
    from core.models import User, UserRole
    from core.security import PLATFORM_ADMIN
    if a.team_id and "teams" in current_app.extensions["timebank"].loaded:
        from plugins.teams.services import team_admin_users
        users = team_admin_users(a.team_id)
        if users:
            return users
    return list(User.select().join(UserRole).where((UserRole.role == PLATFORM_ADMIN) & User.is_active)
                .distinct())


def _notify_reviewers(v: Volunteer, a: Application):
    """The reviewers hear of a new application at once, with where to decide it (no personal data but
    the name and number)."""
    from flask import current_app
    from flask_babel import force_locale, gettext as _
    from core import messages
    langs = current_app.config.get("LANGUAGES") or []
    for user in _reviewers(a):
        with force_locale(user.locale if user.locale in langs else current_app.config["DEFAULT_LOCALE"]):
            subject = _("【Registration application】%(name)s (%(number)s) applied to register as a volunteer",
                        name=v.name, number=v.number)
            body = _("Review it against the basic conditions in the admin under People → Registration "
                     "applications.")
        messages.send(user, subject, body, category="volunteers.application",
                      dedupe_key=f"volunteers.application:{a.id}:new")


def _tell_application(user, a: Application):
    """The applicant hears the outcome in their own language (not the reviewer's)."""
    from flask import current_app
    from flask_babel import force_locale, gettext as _
    from core import messages
    langs = current_app.config.get("LANGUAGES") or []
    with force_locale(user.locale if user.locale in langs else current_app.config["DEFAULT_LOCALE"]):
        if a.status == "approved":
            subject = _("Your volunteer registration was approved")
            body = _("Welcome! Your volunteer file has been created; you can now sign up for activities.")
            if a.reason:
                body += "\n" + a.reason
        else:
            subject = _("Your volunteer registration was not approved")
            body = _("Reason: %(reason)s", reason=a.reason)
    messages.send(user, subject, body, category="volunteers.application",
                  dedupe_key=f"volunteers.application:{a.id}:{a.status}")


def application_of(user) -> Application | None:
    """The registration application of a logged-in applicant whose file is not (yet) active."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (Application.select().join(Volunteer)
            .where((Volunteer.user == user.id) & Volunteer.status.in_(REVIEW_STATUSES)).first())


CLAIM_MISMATCH = _l("These details do not match a volunteer record without an account. Check them, or ask "
                    "the team that registered you to check the record.")
CLAIM_BLOCKED = _l("Too many attempts. Try again later.")


def claim_account(data: dict) -> Volunteer:
    """A volunteer whom the organisation registered (bulk import, admin form) sets up their own login:
    name, ID type and number and mobile number must all match a record that has no account yet. The
    login name is the volunteer number. Failed attempts are limited like logins, per ID number and per
    address (AC2), and all get the same answer, so the page does not tell who is registered. Raises
    RegistrationError; nothing is written then."""
    from core import security
    from core.models import User
    errors: dict = {}
    id_type = str(data.get("id_type") or "cn_id")
    name = str(data.get("name") or "").strip()
    password = str(data.get("password") or "")
    try:
        number = validate_id(id_type, data.get("id_number", "")) if id_type in ID_TYPES else None
    except PIIError as e:
        errors["id_number"] = e.args[0]
        number = None
    if id_type not in ID_TYPES:
        errors["id_type"] = _l("Choose an ID type from the list.")
    try:
        mobile = validate_mobile(data.get("phone", ""))
    except PIIError as e:
        errors["phone"] = e.args[0]
        mobile = None
    if not name:
        errors["name"] = _l("This field is required.")
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    elif password != str(data.get("password2") or ""):
        errors["password2"] = _l("The two passwords differ.")
    if errors:
        raise RegistrationError(errors)
    h = id_hash(id_type, number)
    key = "claim:" + h[:64]
    if security.login_blocked(key):
        raise RegistrationError({"__all__": CLAIM_BLOCKED})
    v = Volunteer.get_or_none(Volunteer.id_hash == h)
    if (v is None or v.user_id is not None or v.status != "active" or v.name != name
            or v.phone_hash != phone_hash(mobile)):
        security.record_failure(key)
        raise RegistrationError({"__all__": CLAIM_MISMATCH})
    with transaction():
        fresh = for_update(Volunteer.select().where(Volunteer.id == v.id)).get()
        if fresh.user_id is not None or User.select().where(User.username == v.number).exists():
            raise RegistrationError({"__all__": CLAIM_MISMATCH})
        user = create_user(v.number, system=True, password=password, display_name=v.name,
                           email=v.email or "")
        grant_role(user, VOLUNTEER)
        Volunteer.update(user=user).where(Volunteer.id == v.id).execute()
        audit.log("volunteer.account_claimed", v, {"username": v.number})
    security.clear_failures(key)
    return Volunteer.get_by_id(v.id)


IDENTITY_FIELDS = ("name", "gender", "id_type", "id_number", "birth_date")


def _clean_identity_change(volunteer: Volunteer, data: dict) -> dict:
    """Name, ID and birth date as corrected by the organisation (R-NAT-4), validated like a
    registration: the ID's check digit, gender and birth date (IV1–IV3) and uniqueness."""
    merged = {"name": volunteer.name, "gender": volunteer.gender, "id_type": volunteer.id_type,
              "id_number": volunteer.id_number,
              "birth_date": volunteer.birth_date.isoformat() if volunteer.birth_date else ""}
    changes = {k: data[k] for k in IDENTITY_FIELDS if k in data}
    if isinstance(changes.get("birth_date"), _dt.date):
        changes["birth_date"] = changes["birth_date"].isoformat()
    id_changed = any(k in changes and str(changes[k] or "") != str(merged[k]) for k in ("id_type", "id_number"))
    new_type = changes.get("id_type") or merged["id_type"]
    if id_changed and new_type in ID_TYPES_WITH_BIRTH_DATE:
        # a new number carries its own gender and birth date: the old ones still in the form are
        # read again from it (a value the staff deliberately changed is still checked against it)
        for k in ("gender", "birth_date"):
            if str(changes.get(k) or "") in ("", str(merged[k])):
                changes[k] = ""
    merged.update(changes)
    errors, out = {}, {}
    _identity(merged, errors, out)
    if not errors and (out["id_type"], out["id_number"]) != (volunteer.id_type, volunteer.id_number):
        h = id_hash(out["id_type"], out["id_number"])
        if Volunteer.select().where((Volunteer.id_hash == h) & (Volunteer.id != volunteer.id)).exists():
            errors["id_number"] = DUPLICATE_ID
        out["id_hash"] = h
    if errors:
        raise RegistrationError(errors)
    return out


def update_profile(volunteer: Volunteer, data: dict, *, actor=None, by_admin: bool = False) -> list[str]:
    """Correct a volunteer's data (R-NAT-4, PR7). The volunteer may change the fields in
    ``EDITABLE_BY_SELF`` (plus the sensitive-data consent and the pledge); the organisation
    (``by_admin``) also the name, ID and birth date, and the remarks. Other keys are ignored (AC8).
    Returns the names of the fields that changed; on bad input raises RegistrationError, changing nothing."""
    allowed = set(EDITABLE_BY_SELF) | ({"remarks", *IDENTITY_FIELDS} if by_admin else set())
    data = {k: v for k, v in data.items() if k in allowed or k in ("sensitive_consent", "pledge")}
    errors = {}
    try:
        clean = clean_registration({k: v for k, v in data.items() if k not in IDENTITY_FIELDS},
                                   for_update_of=volunteer)
    except RegistrationError as e:
        errors.update(e.errors)
        clean = {}
    if by_admin and any(k in data for k in IDENTITY_FIELDS):
        try:
            clean.update(_clean_identity_change(volunteer, data))
        except RegistrationError as e:
            errors.update(e.errors)
    if errors:
        raise RegistrationError(errors)
    changed = []
    with transaction():
        v = for_update(Volunteer.select().where(Volunteer.id == volunteer.id)).get()
        if v.status == "erased":
            raise RegistrationError({"__all__": _l("This volunteer record has been erased.")})
        for k, val in clean.items():
            if k in allowed and getattr(v, k) != val:
                setattr(v, k, val)
                changed.append(k)
        if "id_number" in changed or "id_type" in changed:
            v.id_hash = clean["id_hash"]
        if "phone" in changed:
            v.phone_hash = phone_hash(v.phone)
        if "political_status" in changed:
            if v.political_status not in PARTY_MEMBER_STATUSES and v.in_service_reported_on:
                v.in_service_reported_on = ""   # no longer a Party member: no longer an in-service one
                changed.append("in_service_reported_on")
        t = now()
        if clean.get("sensitive_consent") and v.sensitive_consent_at is None:
            v.sensitive_consent_at = t
            v.sensitive_consent_version = setting("privacy_notice_version")
            changed.append("sensitive_consent")
        if clean.get("pledge") and v.political_status in PARTY_MEMBER_STATUSES and v.pledge_accepted_at is None:
            v.pledge_accepted_at = t
            changed.append("pledge")
        if changed:
            v.updated_at = t
            try:
                with transaction():
                    v.save()
            except pw.IntegrityError:   # the same ID registered meanwhile
                raise RegistrationError({"id_number": DUPLICATE_ID}) from None
            audit.log("volunteer.updated", v, {"fields": audit_fields(changed)}, user=actor)
            if "sensitive_consent" in changed:
                audit.log("consent.given", v, {"consent": "sensitive",
                                               "version": v.sensitive_consent_version}, user=actor)
            events.emit(VolunteerChanged(volunteer_id=v.id, fields=tuple(sorted(changed))))
    volunteer.__data__.update(v.__data__)
    return changed


def find_by_id_number(id_type: str, number: str) -> Volunteer | None:
    """Exact lookup through the blind index (the number is never searched in plain)."""
    try:
        n = validate_id(id_type, number)
    except PIIError:
        return None
    return Volunteer.get_or_none(Volunteer.id_hash == id_hash(id_type, n))


def find_by_phone(phone: str) -> list[Volunteer]:
    """Volunteers with this mobile number (any format: +86, separators), through the blind index."""
    try:
        p = validate_mobile(phone)
    except PIIError:
        return []
    return list(Volunteer.select().where(Volunteer.phone_hash == phone_hash(p)))


@compiled
def _of_user(user_id):
    return Volunteer.select().where((Volunteer.user == user_id) & Volunteer.status.not_in(REVIEW_STATUSES))


@compiled
def _brief_of_user(user_id):
    return Volunteer.select(Volunteer.id, Volunteer.user, Volunteer.status, Volunteer.number,
                            Volunteer.name).where((Volunteer.user == user_id) &
                                                  Volunteer.status.not_in(REVIEW_STATUSES))


def for_user(user, *, brief: bool = False) -> Volunteer | None:
    """The volunteer record of a logged-in user, or None. ``brief``: only id, user, status, number
    and name (no personal data decrypted): enough to act as the volunteer on a hot path. An application
    still under review, or rejected, is no volunteer file (R-REG-7): None (see ``application_of``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (_brief_of_user if brief else _of_user).first(user_id=user.id)


def reveal(volunteer: Volunteer, field: str, *, viewer) -> str:
    """Full value of a sensitive field for a viewer allowed to see it; every call is audited (PR5).
    The caller checks the permission (``volunteers.volunteer.sensitive``) and the row scope."""
    from .models import SENSITIVITY
    if SENSITIVITY.get(field) != "sensitive":
        raise ValueError(field)
    audit.log("pii.viewed", volunteer, {"field": field}, user=viewer)
    return getattr(volunteer, field)


def export_own(volunteer: Volunteer) -> dict:
    """Everything held about a volunteer, for their own download (PR7, PIPL 45)."""
    from .models import SENSITIVITY
    data = {f: getattr(volunteer, f) for f in SENSITIVITY}
    data.update(remarks=volunteer.remarks, minor_basis=volunteer.minor_basis, status=volunteer.status,
                registered_at=volunteer.registered_at, updated_at=volunteer.updated_at,
                agreement_version=volunteer.agreement_version,
                agreement_accepted_at=volunteer.agreement_accepted_at,
                sensitive_consent_version=volunteer.sensitive_consent_version,
                sensitive_consent_at=volunteer.sensitive_consent_at,
                pledge_accepted_at=volunteer.pledge_accepted_at,
                guardian_consent_at=volunteer.guardian_consent_at)
    data["requests"] = [{"kind": r.kind, "details": r.details, "status": r.status, "outcome": r.outcome,
                         "created_at": r.created_at, "decided_at": r.decided_at}
                        for r in volunteer.data_requests.order_by(DataRequest.id)]
    audit.log("pii.exported_by_owner", volunteer)
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


REQUEST_KINDS = ("export", "correction", "deletion", "withdraw")


def request_action(volunteer: Volunteer, kind: str, details: str = "") -> DataRequest:
    """Record a volunteer's request about their data (PR7). Withdrawing the sensitive-data consent
    takes effect at once (the request is recorded as done); the others wait for a platform admin."""
    if kind not in REQUEST_KINDS:
        raise RegistrationError({"kind": _l("Unknown request type.")})
    with transaction():
        r = DataRequest.create(volunteer=volunteer, kind=kind, details=str(details or "")[:5000])
        audit.log("data_request.created", r, {"kind": kind})
        if kind == "withdraw":
            withdraw_sensitive_consent(volunteer)
            r.status, r.decided_at = "done", now()
            r.outcome = "Consent withdrawn; political status and religion erased."
            r.save()
    return r


def withdraw_sensitive_consent(volunteer: Volunteer):
    """Withdrawn consent stops processing: the sensitive optional data is erased (PR6), and with the
    political status the Party-member pledge that belonged to it."""
    with transaction():
        Volunteer.update(political_status="", religion="", in_service_reported_on="",
                         sensitive_consent_at=None, pledge_accepted_at=None, updated_at=now()).where(Volunteer.id == volunteer.id).execute()
        audit.log("consent.withdrawn", volunteer, {"consent": "sensitive"})
    volunteer.political_status = volunteer.religion = volunteer.in_service_reported_on = ""
    volunteer.sensitive_consent_at = volunteer.pledge_accepted_at = None


def decide_request(req: DataRequest, *, done: bool, outcome: str, actor) -> DataRequest:
    """A platform admin's decision on a request, with its outcome or reason (PR7). A granted deletion
    erases the volunteer. The volunteer is told the outcome in their inbox."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise RegistrationError({"outcome": _l("Give the outcome or the reason.")})
    with transaction():
        req = for_update(DataRequest.select().where(DataRequest.id == req.id)).get()
        if req.status != "open":
            raise RegistrationError({"status": _l("This request has already been decided.")})
        req.status = "done" if done else "refused"
        req.outcome = outcome[:5000]
        req.decided_at = now()
        req.decided_by = getattr(actor, "id", None)
        req.save()
        audit.log("data_request.decided", req, {"status": req.status, "kind": req.kind}, user=actor)
        _tell_outcome(req)
        if done and req.kind == "deletion":
            erase(req.volunteer, actor=actor, reason="request")
    return req


def _tell_outcome(req: DataRequest):
    from flask_babel import gettext as _
    from core import messages
    from core.models import User
    user = User.get_or_none(User.id == req.volunteer.user_id) if req.volunteer.user_id else None
    if user is None:
        return
    kinds = {"export": _("data export"), "correction": _("correction"), "deletion": _("deletion"),
             "withdraw": _("consent withdrawal")}
    subject = (_("Your %(kind)s request was granted", kind=kinds.get(req.kind, req.kind)) if req.status == "done"
               else _("Your %(kind)s request was refused", kind=kinds.get(req.kind, req.kind)))
    messages.send(user, subject, req.outcome, category="volunteers.data_request",
                  dedupe_key=f"volunteers.data_request:{req.id}")


def erase(volunteer: Volunteer, *, actor=None, reason: str = "request"):
    """Anonymise a volunteer (PR6, PR7): every personal field emptied, ID and phone replaced, the
    account deactivated and its sessions ended, request details dropped. The volunteer number stays, so
    service records elsewhere keep their meaning (R-NAT-6) without personal data. Gender and district
    stay for statistics."""
    from core.models import LoginSession, User
    with transaction():
        _overwrite_freed_space()
        token = secrets.token_hex(8)
        v = for_update(Volunteer.select().where(Volunteer.id == volunteer.id)).get()
        if v.status == "erased":
            return v
        v.name = "已注销"
        v.id_number = f"ERASED-{token}"
        v.id_hash = blind_index(f"erased:{token}", "volunteer.id")
        v.phone = ""
        v.phone_hash = ""
        for f in OPTIONAL_TEXT:
            setattr(v, f, "")
        v.birth_date = None
        v.political_status = ""
        v.in_service_reported_on = ""
        v.guardian_name = ""
        v.guardian_phone = ""
        v.status = "erased"
        v.updated_at = now()
        v.save()
        DataRequest.update(details="").where(DataRequest.volunteer == v.id).execute()
        if v.user_id:
            User.update(is_active=False, display_name="已注销", email="").where(User.id == v.user_id).execute()
            LoginSession.update(revoked_at=now()).where(
                (LoginSession.user == v.user_id) & LoginSession.revoked_at.is_null()).execute()
        audit.log("volunteer.erased", v, {"reason": reason}, user=actor)
        events.emit(VolunteerErased(volunteer_id=v.id, reason=reason))
    volunteer.__data__.update(v.__data__)
    return v


def _overwrite_freed_space():
    """SQLite keeps old row versions in freed page space and in the WAL: zero freed cells on this
    connection, and after the commit copy the WAL into the file and empty it, so an erased volunteer's
    data is not left in the database files (PR6). PostgreSQL's old row versions go with (auto)vacuum."""
    from core.db import after_commit, db, is_sqlite
    if not is_sqlite():
        return
    db.execute_sql("PRAGMA secure_delete=FAST")

    def checkpoint():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    after_commit(checkpoint)


def last_activity_cutoff() -> _dt.datetime | None:
    years = setting("retention_years")
    if years <= 0:
        return None
    return now() - _dt.timedelta(days=round(365.25 * years))


def expired_volunteers():
    """Volunteers with no sign of life (registration, change, login, activity reported by other
    plugins through events) for longer than ``retention_years`` (R-PRIV-5, PR6)."""
    from core.models import User
    cutoff = last_activity_cutoff()
    if cutoff is None:
        return Volunteer.select().where(False)
    return (Volunteer.select(Volunteer.id)
            .join(User, pw.JOIN.LEFT_OUTER, on=(Volunteer.user == User.id))
            .where((Volunteer.status != "erased") & (Volunteer.registered_at < cutoff) &
                   (Volunteer.updated_at < cutoff) &
                   (Volunteer.last_active_at.is_null() | (Volunteer.last_active_at < cutoff)) &
                   (User.last_login_at.is_null() | (User.last_login_at < cutoff)))
            .order_by(Volunteer.id))


def apply_retention(limit: int = 1000) -> int:
    """The periodic retention job (PR6): anonymise expired volunteers, ``limit`` a run. Returns how many."""
    ids = [v.id for v in expired_volunteers().limit(limit)]
    for vid in ids:
        erase(Volunteer(id=vid), reason="retention")
    if ids:
        audit.log("volunteers.retention", ("volunteers_volunteer", ""),
                  {"erased": len(ids), "retention_years": setting("retention_years")})
    return len(ids)


@compiled
def _touch(volunteer_id, at, day_start):
    return Volunteer.update(last_active_at=at.to(Volunteer.last_active_at)).where(
        (Volunteer.id == volunteer_id) & (Volunteer.status != "erased") &
        (Volunteer.last_active_at.is_null() | (Volunteer.last_active_at < day_start)))


def record_activity(volunteer_id: int):
    """Note that a volunteer took part in something (keeps the retention clock, counted in years,
    from running out). Once a day is enough: later events of the same day write nothing."""
    t = now()
    _touch.execute(volunteer_id=volunteer_id, at=t, day_start=t.replace(hour=0, minute=0, second=0, microsecond=0))
