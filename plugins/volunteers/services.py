"""Public API of the volunteers plugin. Other plugins call these functions, never the models' internals.

Every function that changes data runs in one transaction and writes the audit log; bad input raises
``RegistrationError`` with one translated message per field and writes nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import json
import secrets
from dataclasses import dataclass

import peewee as pw
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, events
from core.crypto import blind_index
from core.db import for_update, now, today, transaction
from core.pii import PIIError, age_on, id_birth_date, id_gender, validate_id, validate_mobile
from core.security import VOLUNTEER, grant_role, hash_password, password_problem

from .models import (DISTRICTS, EDUCATION, POLITICAL_STATUSES, DataRequest, Sequence, Volunteer)

MANIFEST_DEFAULTS = {"agreement_version": "2024-01", "privacy_notice_version": "2024-01",
                     "min_age": 16, "guardian_consent_age": 14, "number_prefix": "GZ"}


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
    from core.models import Setting
    row = Setting.get_or_none(Setting.key == f"volunteers.{key}")
    value = type(MANIFEST_DEFAULTS[key])(row.value) if row is not None else MANIFEST_DEFAULTS[key]
    if cache is not None:
        cache[key] = value
    return value


class RegistrationError(Exception):
    """Field → translated message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class VolunteerRegistered(events.Event):
    name = "volunteers.registered"
    volunteer_id: int = 0


@dataclass
class VolunteerChanged(events.Event):
    name = "volunteers.changed"
    volunteer_id: int = 0
    fields: tuple = ()


OPTIONAL_TEXT = {  # field: max length
    "nickname": 50, "email": 254, "ethnicity": 20, "native_place": 100, "household_place": 100,
    "address": 255, "postcode": 10, "qq": 20, "wechat": 50, "school_major": 200,
    "professional_title": 50, "job_title": 50, "occupation": 50, "employer": 200, "specialties": 255,
    "hobbies": 255, "service_intention": 255, "resume": 5000, "religion": 50, "remarks": 2000,
}
EDITABLE_BY_SELF = set(OPTIONAL_TEXT) | {"phone", "district", "education", "political_status"}


def id_hash(id_type: str, number: str) -> str:
    return blind_index(f"{id_type}:{number}", "volunteer.id")


def phone_hash(phone: str) -> str:
    return blind_index(phone, "volunteer.phone")


def political_hash(status: str) -> str:
    return blind_index(status, "volunteer.political") if status else ""


def _text(data, key, maxlen, errors, required=False, label=None):
    v = str(data.get(key) or "").strip()
    if required and not v:
        errors[key] = _l("This field is required.")
    elif len(v) > maxlen:
        errors[key] = _l("At most %(n)s characters.", n=maxlen)
    return v


def _truthy(v) -> bool:
    return str(v).lower() in ("1", "true", "on", "yes", "y") if not isinstance(v, bool) else v


def clean_registration(data: dict, *, for_update_of: Volunteer | None = None) -> dict:
    """Validate a registration (附录一 fields). Returns clean values or raises RegistrationError."""
    errors: dict = {}
    out: dict = {}
    creating = for_update_of is None
    if creating:
        out["name"] = _text(data, "name", 50, errors, required=True)
        id_type = str(data.get("id_type") or "cn_id")
        try:
            out["id_number"] = validate_id(id_type, data.get("id_number", ""))
        except PIIError as e:
            errors["id_number"] = e.args[0]
        out["id_type"] = id_type
        gender = str(data.get("gender") or "")
        birth = None
        if "id_number" in out and id_type in ("cn_id", "hmt_permit"):
            birth = id_birth_date(out["id_number"])
            derived = id_gender(out["id_number"])
            if gender and gender != derived:
                errors["gender"] = _l("The gender does not match the ID number.")
            gender = derived
            given = data.get("birth_date")
            if given and str(given) != birth.isoformat():
                errors["birth_date"] = _l("The birth date does not match the ID number.")
        else:
            raw = str(data.get("birth_date") or "")
            try:
                birth = _dt.date.fromisoformat(raw) if raw else None
            except ValueError:
                errors["birth_date"] = _l("Enter the birth date as YYYY-MM-DD.")
            if birth is None and "birth_date" not in errors:
                errors["birth_date"] = _l("This field is required.")
            elif birth and (birth > today() or birth.year < 1880):
                errors["birth_date"] = _l("Enter the birth date as YYYY-MM-DD.")
        if gender not in ("M", "F"):
            errors["gender"] = _l("Choose a gender.")
        out["gender"] = gender
        out["birth_date"] = birth
        if not _truthy(data.get("agreement", False)):
            errors["agreement"] = _l("You must read and accept the service agreement to register.")
    if "phone" in data or creating:
        try:
            out["phone"] = validate_mobile(data.get("phone", ""))
        except PIIError as e:
            errors["phone"] = e.args[0]
    for key, n in OPTIONAL_TEXT.items():
        if key in data or creating:
            out[key] = _text(data, key, n, errors)
    if out.get("email") and "@" not in out["email"]:
        errors["email"] = _l("Enter a valid email address.")
    if "district" in data or creating:
        d = str(data.get("district") or "")
        if d and d not in DISTRICTS:
            errors["district"] = _l("Choose a district from the list.")
        out["district"] = d
    if "education" in data or creating:
        ed = str(data.get("education") or "")
        if ed and ed not in EDUCATION:
            errors["education"] = _l("Choose an education level from the list.")
        out["education"] = ed
    if "political_status" in data or creating:
        ps = str(data.get("political_status") or "")
        if ps and ps not in POLITICAL_STATUSES:
            errors["political_status"] = _l("Choose a political status from the list.")
        out["political_status"] = ps
    sensitive_given = bool(out.get("political_status") or out.get("religion"))
    if creating or sensitive_given:
        consent = _truthy(data.get("sensitive_consent", False))
        already = for_update_of is not None and for_update_of.sensitive_consent_at is not None
        if sensitive_given and not consent and not already:
            errors["sensitive_consent"] = _l(
                "Political status and religion are sensitive personal information: tick the separate "
                "consent to give them, or leave them empty.")
        out["sensitive_consent"] = consent
    if out.get("political_status") in ("中共党员", "中共预备党员") and creating:
        if not _truthy(data.get("pledge", False)):
            errors["pledge"] = _l("Party-member volunteers must agree to the Party-member pledge.")
    out["pledge"] = _truthy(data.get("pledge", False))
    # age rules (R-REG-4, PR4)
    birth = out.get("birth_date")
    if creating and birth:
        age = age_on(birth)
        basis = str(data.get("minor_basis") or "")
        if age < setting("min_age"):
            if basis not in ("guardian", "group"):
                errors["minor_basis"] = _l(
                    "Volunteers under %(age)s may only serve with a guardian or in an organised group; "
                    "choose which.", age=setting("min_age"))
            out["minor_basis"] = basis
        if age < setting("guardian_consent_age") or basis == "guardian":
            gname = _text(data, "guardian_name", 50, errors, required=True)
            try:
                gphone = validate_mobile(data.get("guardian_phone", ""))
            except PIIError as e:
                errors["guardian_phone"] = e.args[0]
                gphone = ""
            if age < setting("guardian_consent_age") and not _truthy(data.get("guardian_consent", False)):
                errors["guardian_consent"] = _l(
                    "Under 14, a guardian must consent to the processing of this personal information.")
            out.update(guardian_name=gname, guardian_phone=gphone,
                       guardian_consent=_truthy(data.get("guardian_consent", False)))
    if creating and "password" in data:
        pw_ = str(data.get("password") or "")
        problem = password_problem(pw_)
        if problem:
            errors["password"] = problem
        out["password"] = pw_
    if errors:
        raise RegistrationError(errors)
    return out


def next_number() -> str:
    """Unique volunteer number (志愿者编号, R-REG-3): prefix + year + 7-digit sequence."""
    year = today().year
    key = f"volunteer_number:{year}"
    with transaction():
        Sequence.insert(name=key, value=0).on_conflict_ignore().execute()
        row = for_update(Sequence.select().where(Sequence.name == key)).get()
        Sequence.update(value=Sequence.value + 1).where(Sequence.name == key).execute()
        return f"{setting('number_prefix')}{year}{row.value + 1:07d}"


def register(data: dict, *, actor=None, create_account: bool = True) -> Volunteer:
    """Register a volunteer (public page, admin, import). Raises RegistrationError; writes nothing then."""
    clean = clean_registration(data)
    h = id_hash(clean["id_type"], clean["id_number"])
    if Volunteer.select().where(Volunteer.id_hash == h).exists():
        raise RegistrationError({"id_number": _l("A volunteer with this ID number is already registered.")})
    t = now()
    with transaction():
        number = next_number()
        user = None
        if create_account:
            from core.models import User
            password = clean.pop("password", None) or secrets.token_urlsafe(16)
            user = User.create(username=number, display_name=clean["name"], email=clean.get("email", ""),
                               password_hash=hash_password(password))
            grant_role(user, VOLUNTEER)
        clean.pop("password", None)
        v = Volunteer(number=number, user=user, id_hash=h, phone_hash=phone_hash(clean["phone"]),
                      political_hash=political_hash(clean.get("political_status", "")),
                      agreement_version=setting("agreement_version"), agreement_accepted_at=t)
        for k in ("name", "gender", "id_type", "id_number", "birth_date", "phone", "district",
                  "education", "political_status", "minor_basis", "guardian_name", "guardian_phone",
                  *OPTIONAL_TEXT):
            if k in clean:
                setattr(v, k, clean[k] if clean[k] is not None else getattr(v, k))
        if clean.get("sensitive_consent"):
            v.sensitive_consent_at = t
            v.sensitive_consent_version = setting("privacy_notice_version")
        if clean.get("pledge"):
            v.pledge_accepted_at = t
        if clean.get("guardian_consent"):
            v.guardian_consent_at = t
        try:
            v.save(force_insert=True)
        except pw.IntegrityError:
            raise RegistrationError(
                {"id_number": _l("A volunteer with this ID number is already registered.")}) from None
        consents = ["agreement"] + [c for c in ("sensitive_consent", "pledge", "guardian_consent")
                                    if clean.get(c)]
        audit.log("volunteer.registered", v, {"by": getattr(actor, "username", "self"),
                                              "consents": consents})
        events.emit(VolunteerRegistered(volunteer_id=v.id))
    return v


def update_profile(volunteer: Volunteer, data: dict, *, actor=None) -> list[str]:
    """Correct a volunteer's own data (R-NAT-4, PR7). Only self-editable fields; returns changed names."""
    data = {k: v for k, v in data.items() if k in EDITABLE_BY_SELF or k == "sensitive_consent"}
    clean = clean_registration(data, for_update_of=volunteer)
    changed = []
    with transaction():
        v = for_update(Volunteer.select().where(Volunteer.id == volunteer.id)).get()
        for k, val in clean.items():
            if k in EDITABLE_BY_SELF and getattr(v, k) != val:
                setattr(v, k, val)
                changed.append(k)
        if "phone" in changed:
            v.phone_hash = phone_hash(v.phone)
        if "political_status" in changed:
            v.political_hash = political_hash(v.political_status)
        if clean.get("sensitive_consent") and v.sensitive_consent_at is None:
            v.sensitive_consent_at = now()
            v.sensitive_consent_version = setting("privacy_notice_version")
            changed.append("sensitive_consent")
        if changed:
            v.updated_at = now()
            v.save()
            audit.log("volunteer.updated", v, {"fields": sorted(changed)},
                      user=actor)
            events.emit(VolunteerChanged(volunteer_id=v.id, fields=tuple(sorted(changed))))
    return changed


def find_by_id_number(id_type: str, number: str) -> Volunteer | None:
    try:
        n = validate_id(id_type, number)
    except PIIError:
        return None
    return Volunteer.get_or_none(Volunteer.id_hash == id_hash(id_type, n))


def find_by_phone(phone: str) -> list[Volunteer]:
    try:
        p = validate_mobile(phone)
    except PIIError:
        return []
    return list(Volunteer.select().where(Volunteer.phone_hash == phone_hash(p)))


def for_user(user) -> Volunteer | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.get_or_none(Volunteer.user == user.id)


def reveal(volunteer: Volunteer, field: str, *, viewer) -> str:
    """Full value of a sensitive field for a viewer allowed to see it; every call is audited (PR5)."""
    from .models import SENSITIVITY
    if SENSITIVITY.get(field) != "sensitive":
        raise ValueError(field)
    audit.log("pii.viewed", volunteer, {"field": field}, user=viewer)
    return getattr(volunteer, field)


def export_own(volunteer: Volunteer) -> dict:
    """Everything held about a volunteer, for their own download (PR7)."""
    from .models import SENSITIVITY
    data = {f: getattr(volunteer, f) for f in SENSITIVITY}
    data.update(registered_at=volunteer.registered_at, agreement_version=volunteer.agreement_version,
                agreement_accepted_at=volunteer.agreement_accepted_at,
                sensitive_consent_at=volunteer.sensitive_consent_at,
                pledge_accepted_at=volunteer.pledge_accepted_at,
                guardian_consent_at=volunteer.guardian_consent_at)
    data["requests"] = [{"kind": r.kind, "status": r.status, "outcome": r.outcome,
                         "created_at": r.created_at} for r in volunteer.data_requests]
    audit.log("pii.exported_by_owner", volunteer)
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def request_action(volunteer: Volunteer, kind: str, details: str = "") -> DataRequest:
    if kind not in ("export", "correction", "deletion", "withdraw"):
        raise RegistrationError({"kind": _l("Unknown request type.")})
    with transaction():
        r = DataRequest.create(volunteer=volunteer, kind=kind, details=details[:5000])
        audit.log("data_request.created", r, {"kind": kind})
        if kind == "withdraw":
            withdraw_sensitive_consent(volunteer)
    return r


def withdraw_sensitive_consent(volunteer: Volunteer):
    """Withdrawn consent stops processing: the sensitive optional data is erased (PR6)."""
    with transaction():
        Volunteer.update(political_status="", political_hash="", religion="", sensitive_consent_at=None,
                         updated_at=now()).where(Volunteer.id == volunteer.id).execute()
        audit.log("consent.withdrawn", volunteer, {"consent": "sensitive"})


def decide_request(req: DataRequest, *, done: bool, outcome: str, actor) -> DataRequest:
    if not outcome.strip():
        raise RegistrationError({"outcome": _l("Give the outcome or the reason.")})
    with transaction():
        req.status = "done" if done else "refused"
        req.outcome = outcome.strip()[:5000]
        req.decided_at = now()
        req.decided_by = getattr(actor, "id", None)
        req.save()
        if done and req.kind == "deletion":
            erase(req.volunteer, actor=actor)
        audit.log("data_request.decided", req, {"status": req.status})
    return req


def erase(volunteer: Volunteer, *, actor=None):
    """Anonymise a volunteer: personal fields emptied, ID and phone replaced, account deactivated.
    Service records elsewhere keep the volunteer number (R-NAT-6) but no personal data."""
    from core.models import User
    with transaction():
        token = secrets.token_hex(8)
        v = Volunteer.get_by_id(volunteer.id)
        v.name = "已注销"
        v.nickname = ""
        v.id_number = f"ERASED-{token}"
        v.id_hash = blind_index(f"erased:{token}", "volunteer.id")
        v.phone = ""
        v.phone_hash = ""
        for f in OPTIONAL_TEXT:
            setattr(v, f, "")
        v.political_status = ""
        v.political_hash = ""
        v.guardian_name = ""
        v.guardian_phone = ""
        v.status = "erased"
        v.updated_at = now()
        v.save()
        if v.user_id:
            User.update(is_active=False, display_name="已注销", email="").where(User.id == v.user_id).execute()
        audit.log("volunteer.erased", v, user=actor)
