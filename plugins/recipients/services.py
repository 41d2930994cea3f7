"""The service recipients register (R-REC-1, R-PRIV-6; issue 13 point 4). All rules live here; the admin
screens and the privacy contract call these functions. Every refusal is a ``RecipientError`` (a
``core.errors.FieldErrors``) in the user's language and writes nothing; every change that matters is audited.

Public API for other plugins (docs/plugins.md):

- ``for_team(team) -> list[Recipient]``: the active recipients of a team and its sub-teams;
- ``label(recipient) -> str``: a masked display label (``张*（长者）``), never the full name;
- ``get_scoped(recipient_id, user) -> Recipient | None``: the recipient if ``user`` may see it, else None.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, security
from core.crypto import blind_index
from core.db import now, today, transaction
from core.errors import FieldErrors
from core.inputs import InputError, parse_date, parse_id
from core.pii import PIIError, mask_id, mask_name, mask_phone, validate_contact_phone, validate_id
from core.settings import PluginSettings

from .models import CATEGORIES, FILE_KINDS, SENSITIVITY, SHORT_CATEGORIES, FollowUp, Recipient, Referral, Wish

SETTINGS = PluginSettings(__file__)
VIEW, EDIT, SENSITIVE = "recipients.recipient.view", "recipients.recipient.edit", "recipients.recipient.sensitive"
REGISTRATION, REFERRAL = "recipient_registration", "recipient_referral"   # privacy purposes (subject recipient)
SENSITIVE_FIELDS = ("id_number", "phone", "guardian_name", "guardian_phone")
MASKS = {"id_number": mask_id, "phone": mask_phone, "guardian_phone": mask_phone, "guardian_name": mask_name}


class RecipientError(FieldErrors):
    """A refused step on a recipient's file; messages in the user's language; nothing is written."""


def setting(key):
    return SETTINGS.get(key)


def _loaded(name: str) -> bool:
    return name in current_app.extensions["timebank"].loaded


def _flat(data, key, maxlen, errors, required=None):
    v = " ".join(str(data.get(key) or "").split())
    if not v and required is not None:
        errors[key] = required
    elif len(v) > maxlen:
        errors[key] = _l("At most %(n)s characters.", n=maxlen)
    return v


def _long(data, key, maxlen, errors, required=None):
    v = str(data.get(key) or "").strip()
    if not v and required is not None:
        errors[key] = required
    elif len(v) > maxlen:
        errors[key] = _l("At most %(n)s characters.", n=maxlen)
    return v


def id_hash(number: str) -> str:
    return blind_index(f"cn_id:{number}", "recipient.id") if number else ""


def phone_hash(phone: str) -> str:
    return blind_index(phone, "recipient.phone") if phone else ""


# ------------------------------------------------------------------------------ public API
def for_team(team) -> list[Recipient]:
    """The active recipients of ``team`` (a Team or an id) and its sub-teams, by id."""
    from plugins.teams.services import tree_ids
    ids = tree_ids(team)
    return list(Recipient.select().where(Recipient.team.in_(ids or [-1]) & (Recipient.status == "active"))
                .order_by(Recipient.id))


def label(recipient) -> str:
    """A masked label for lists and pickers: the family name and the category (``张*（长者）``)."""
    return f"{mask_name(recipient.name)}（{SHORT_CATEGORIES.get(recipient.category, _l('recipient'))}）"


def get_scoped(recipient_id, user) -> Recipient | None:
    """The recipient ``recipient_id`` if ``user`` may view it (platform roles: any; a team admin: their
    team tree); None otherwise (an existing row outside the scope is audited ``access.denied``)."""
    rid = parse_id(recipient_id)
    if rid is None or user is None:
        return None
    q = Recipient.select().where((Recipient.id == rid) & (Recipient.status != "erased"))
    r = security.scoped(Recipient, q, VIEW, user=user).first() if security.can(VIEW, user=user) else None
    if r is None and Recipient.select().where(Recipient.id == rid).exists():
        audit.log("access.denied", ("recipients_recipient", rid), {"permission": VIEW}, user=user)
    return r


# ------------------------------------------------------------------------------ the file
def clean(data: dict, actor, *, existing: Recipient | None = None) -> dict:
    """Check a recipient's file (RecipientError with every message at once). Minimal fields only."""
    errors, out = {}, {}
    team_id = parse_id(data.get("team") if data.get("team") is not None else data.get("team_id"))
    if existing is not None and team_id is None:
        team_id = existing.team_id
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_allowed
    if team_id is None or not Team.select().where(Team.id == team_id).exists():
        errors["team"] = _l("Choose the team that looks after this person.")
    elif not team_allowed(actor, team_id):
        errors["team"] = _l("Choose one of your own teams.")
    out["team"] = team_id
    kind = str(data.get("file_kind") or "")
    if kind not in FILE_KINDS:
        errors["file_kind"] = _l("Choose a long-term or a short-term file.")
    out["file_kind"] = kind
    cat = str(data.get("category") or "")
    if cat not in CATEGORIES:
        errors["category"] = _l("Choose a category.")
    out["category"] = cat
    out["name"] = _flat(data, "name", 50, errors, _l("Enter the name."))
    for key, check in (("id_number", lambda v: validate_id("cn_id", v)), ("phone", validate_contact_phone),
                       ("guardian_phone", validate_contact_phone)):
        raw = str(data.get(key) or "").strip()
        if existing is not None and key in data and raw == MASKS[key](getattr(existing, key) or ""):
            raw = getattr(existing, key)            # the masked value left as shown: unchanged
        try:
            out[key] = check(raw) if raw else ""
        except PIIError as e:
            errors[key] = str(e)
    out["guardian_name"] = _flat(data, "guardian_name", 50, errors)
    if existing is not None and out["guardian_name"] == mask_name(existing.guardian_name or "") and out["guardian_name"]:
        out["guardian_name"] = existing.guardian_name
    out["guardian_relation"] = _flat(data, "guardian_relation", 20, errors)
    out["community"] = _flat(data, "community", 100, errors)
    out["address"] = _flat(data, "address", 255, errors)
    out["needs"] = _long(data, "needs", 2000, errors)
    out["notes"] = _long(data, "notes", 2000, errors)
    by = str(data.get("consent_by") or "self")
    if by not in ("self", "guardian"):
        errors["consent_by"] = _l("Say who gave the consent.")
    if cat == "child" or by == "guardian":      # a minor, or a person without capacity: the guardian
        if not out["guardian_name"]:
            errors["guardian_name"] = _l("A child or a person without capacity needs a guardian: enter the name.")
        if not out["guardian_relation"]:
            errors["guardian_relation"] = _l("Enter the guardian's relation to the person.")
        if cat == "child" and by != "guardian":
            errors["consent_by"] = _l("For a child the guardian gives the consent.")
    if existing is None and str(data.get("consent") or "").lower() not in ("1", "y", "yes", "true", "on"):
        errors["consent"] = _l("The person (or the guardian) must be told why the data is collected and consent "
                               "before the file is saved.")
    out["consent_by"] = by
    if errors:
        raise RecipientError(errors)
    out["id_hash"], out["phone_hash"] = id_hash(out["id_number"]), phone_hash(out["phone"])
    return out


def register(data: dict, *, actor) -> Recipient:
    """Open a recipient's file with the consent (the notice version shown; the person or the guardian);
    the consent goes into the privacy plugin's register as well when it is loaded. Audited."""
    if not security.can("recipients.recipient.create", user=actor):
        audit.log("access.denied", None, {"permission": "recipients.recipient.create"}, user=actor)
        raise RecipientError(_l("You may not take this step."))
    values = clean(data, actor)
    version = setting("notice_version")
    with transaction():
        giver = values["guardian_name"] if values["consent_by"] == "guardian" else values["name"]
        r = Recipient.create(**values, notice_version=version, consent_giver=mask_name(giver), consent_at=now(),
                             created_by=actor.id)
        audit.log("recipients.registered", r, {"team": r.team_id, "file_kind": r.file_kind,
                                               "category": r.category, "consent_by": r.consent_by,
                                               "notice_version": version}, user=actor)
        if _loaded("privacy"):
            from plugins.privacy.consents import give
            give(("recipient", r.id), REGISTRATION, actor=actor)
    return r


def update(r: Recipient, data: dict, *, actor) -> Recipient:
    if not security.can(EDIT, r, user=actor):
        audit.log("access.denied", r, {"permission": EDIT}, user=actor)
        raise RecipientError(_l("You may not take this step."))
    values = clean({**data, "consent": "1"}, actor, existing=r)
    changed = sorted(k for k, v in values.items() if k != "team" and getattr(r, k) != v
                     or k == "team" and r.team_id != v)
    with transaction():
        Recipient.update(**values).where(Recipient.id == r.id).execute()
        audit.log("recipients.updated", r, {"fields": [c for c in changed if not c.endswith("_hash")]}, user=actor)
    return Recipient.get_by_id(r.id)


def reveal(r: Recipient, field: str, *, viewer) -> str:
    """The full value of one sensitive field; the caller checked the scope and ``.sensitive``. Audited."""
    if SENSITIVITY.get(field) != "sensitive" or field.endswith("_hash"):
        raise ValueError(field)
    audit.log("pii.viewed", r, {"field": field}, user=viewer)
    return getattr(r, field)


def _require(r, perm, actor):
    if r is None or not security.can(perm, r, user=actor):
        audit.log("access.denied", r if r is not None else None, {"permission": perm}, user=actor)
        raise RecipientError(_l("Unknown recipient."))


# ------------------------------------------------------------------------------ consent, referral, disclosure
def referral_consented(r: Recipient) -> bool:
    if _loaded("privacy"):
        from plugins.privacy.consents import consented
        return consented(("recipient", r.id), REFERRAL)
    return r.referral_consent_at is not None


def give_referral_consent(r: Recipient, *, actor) -> None:
    """The recipient's (or guardian's) prior consent to refer their file to another body (第十二条)."""
    _require(r, EDIT, actor)
    with transaction():
        if _loaded("privacy"):
            from plugins.privacy.consents import give
            give(("recipient", r.id), REFERRAL, actor=actor)
        else:
            Recipient.update(referral_consent_at=now()).where(Recipient.id == r.id).execute()
            audit.log("consent.given", r, {"consent": REFERRAL}, user=actor)


def refer(r: Recipient, data: dict, *, actor) -> Referral:
    """Give the file to another body (e.g. a 社工站) — only with a recorded prior consent (第十二条).
    Refused otherwise (nothing written, the refusal audited)."""
    _require(r, EDIT, actor)
    errors = {}
    to_body = _flat(data, "to_body", 200, errors, _l("Say to which body the file goes."))
    reason = _long(data, "reason", 2000, errors, _l("Give the reason for the referral."))
    if not referral_consented(r):
        audit.log("recipients.referral_refused", r, {"reason": "no consent"}, user=actor)
        errors["__all__"] = _l("The file may go to another body only with the person's prior consent; record "
                               "the consent first.")
    if errors:
        raise RecipientError(errors)
    with transaction():
        ref = Referral.create(recipient=r.id, to_body=to_body, reason=reason, referred_on=today(),
                              referred_by=actor.id)
        audit.log("recipients.referred", r, {"referral": ref.id}, user=actor)
    return ref


def emergency_disclosure(r: Recipient, data: dict, *, actor):
    """An emergency disclosure of health and contact data to the police or medical services after a risk
    assessment (第八条), through the privacy plugin's disclosure register; the recipient is then listed as
    "to be told" until staff record telling them (第十三条)."""
    _require(r, EDIT, actor)
    if not _loaded("privacy"):
        raise RecipientError(_l("An emergency disclosure is recorded in the privacy plugin's register; enable it."))
    from plugins.privacy.disclosures import request_disclosure
    return request_disclosure({**data, "subject_kind": "recipient", "subject_id": r.id, "emergency": "1",
                               "team_id": r.team_id}, actor=actor)


def to_be_told(user) -> list[tuple]:
    """(recipient, disclosure) pairs: approved disclosures about recipients in the user's scope that the
    person has not yet been told of (第十三条)."""
    if not _loaded("privacy"):
        return []
    from plugins.privacy.disclosures import Disclosure
    ds = list(Disclosure.select().where((Disclosure.subject_kind == "recipient") & (Disclosure.status == "approved")
                                        & Disclosure.subject_told_at.is_null()).order_by(Disclosure.id))
    out = []
    for d in ds:
        r = get_scoped(d.subject_id, user)
        if r is not None:
            out.append((r, d))
    return out


def in_team_tree(recipient_id: int, team_id: int) -> bool:
    """Is the recipient looked after by ``team_id`` or one of its sub-teams? (privacy's disclosure check)"""
    from plugins.teams.services import tree_ids
    return Recipient.select().where((Recipient.id == recipient_id) & (Recipient.status != "erased")
                                    & Recipient.team.in_(tree_ids(team_id) or [-1])).exists()


def exists(recipient_id: int) -> bool:
    return Recipient.select().where((Recipient.id == recipient_id) & (Recipient.status != "erased")).exists()


def record_confidentiality(r: Recipient, data: dict, *, actor) -> Recipient:
    """The confidentiality agreement for one-to-one service (第七条): date and the current version."""
    _require(r, EDIT, actor)
    try:
        on = parse_date(data.get("confidentiality_on"), max=today(), field="confidentiality_on")
    except InputError as e:
        raise RecipientError(e.errors if hasattr(e, "errors") else {"confidentiality_on": str(e)})
    version = setting("confidentiality_version")
    with transaction():
        Recipient.update(confidentiality_on=on, confidentiality_version=version).where(Recipient.id == r.id).execute()
        audit.log("recipients.confidentiality", r, {"on": on.isoformat(), "version": version}, user=actor)
    return Recipient.get_by_id(r.id)


# ------------------------------------------------------------------------------ follow-up and filing
def add_follow_up(r: Recipient, data: dict, *, actor) -> FollowUp:
    _require(r, EDIT, actor)
    errors = {}
    try:
        on = parse_date(data.get("visited_on"), max=today(), field="visited_on")
    except InputError:
        errors["visited_on"] = _l("Enter a date as YYYY-MM-DD, not in the future.")
    by = _flat(data, "visited_by", 50, errors, _l("Say who visited."))
    notes = _long(data, "notes", 2000, errors)
    if errors:
        raise RecipientError(errors)
    with transaction():
        f = FollowUp.create(recipient=r.id, visited_on=on, visited_by=by, notes=notes, created_by=actor.id)
        audit.log("recipients.followed_up", r, {"on": on.isoformat()}, user=actor)
    return f


def not_followed_up(user, day: _dt.date | None = None) -> list[tuple]:
    """(recipient, last visit or None, working days since) of the active recipients in scope not visited
    for the setting's number of working days (core.workdays, the Chinese holiday calendar; counted from the
    file's opening when never visited), longest first."""
    from peewee import fn
    from core.workdays import workdays_between
    day = day or today()
    limit = int(setting("follow_up_days"))
    q = security.scoped(Recipient, Recipient.select().where(Recipient.status == "active"), VIEW, user=user)
    last = dict(FollowUp.select(FollowUp.recipient, fn.MAX(FollowUp.visited_on)).group_by(FollowUp.recipient).tuples())
    out = []
    for r in q:
        seen = last.get(r.id)
        if isinstance(seen, str):
            seen = _dt.date.fromisoformat(seen)
        since = seen or (r.created_at.date() if r.created_at else day)
        n = workdays_between(since, day)
        if n >= limit:
            out.append((r, seen, n))
    return sorted(out, key=lambda t: -t[2])


def quarter_bounds(year: int, quarter: int) -> tuple[_dt.date, _dt.date]:
    start = _dt.date(year, 3 * (quarter - 1) + 1, 1)
    end = _dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return start, end


def quarter_files(user, year: int, quarter: int) -> list[Recipient]:
    """The files of the year up to the end of the quarter, sorted for filing (R-REC-1, 附录十一 第十五条):
    by file kind (long-term first), team, category and opening date."""
    start, end = _dt.date(year, 1, 1), quarter_bounds(year, quarter)[1]
    from core.db import TZ as tz   # the site's one timezone (issue 11 point 13)
    lo = _dt.datetime.combine(start, _dt.time(), tz)
    hi = _dt.datetime.combine(end, _dt.time(), tz)
    q = Recipient.select().where((Recipient.status != "erased") & (Recipient.created_at >= lo)
                                 & (Recipient.created_at < hi))
    rows = list(security.scoped(Recipient, q, VIEW, user=user))
    order = list(FILE_KINDS)
    return sorted(rows, key=lambda r: (order.index(r.file_kind) if r.file_kind in order else 9, r.team_id,
                                       r.category, r.created_at, r.id))


def quarter_rows(files) -> tuple[list, list]:
    headers = [_("No."), _("File"), _("Team"), _("Category"), _("Name"), _("Community"), _("Opened"),
               _("Consent"), _("Last follow-up"), _("Wishes fulfilled")]
    rows = []
    for i, r in enumerate(files, 1):
        last = (FollowUp.select().where(FollowUp.recipient == r.id).order_by(FollowUp.visited_on.desc()).first())
        wishes = Wish.select().where((Wish.recipient == r.id) & Wish.fulfilled_on.is_null(False)).count()
        rows.append([i, str(FILE_KINDS.get(r.file_kind, r.file_kind)), r.team.name,
                     str(CATEGORIES.get(r.category, r.category)), mask_name(r.name), r.community,
                     r.created_at.date().isoformat(), str(r.consent_at.date()) if r.consent_at else "",
                     last.visited_on.isoformat() if last else "", wishes])
    return headers, rows


# ------------------------------------------------------------------------------ privacy contract
def export_of(r: Recipient) -> dict:
    data = {f: getattr(r, f) for f in SENSITIVITY if not f.endswith("_hash")}
    data.update(team=r.team.name, file_kind=r.file_kind, category=r.category, notice_version=r.notice_version,
                consent_by=r.consent_by, consent_at=r.consent_at, referral_consent_at=r.referral_consent_at,
                confidentiality_on=r.confidentiality_on, confidentiality_version=r.confidentiality_version,
                status=r.status, created_at=r.created_at)
    data["follow_ups"] = [{"visited_on": f.visited_on, "visited_by": f.visited_by, "notes": f.notes}
                          for f in r.follow_ups.order_by(FollowUp.id)]
    data["wishes"] = [{"wish": w.wish, "collected_on": w.collected_on, "fulfilled_by": w.fulfilled_by,
                       "fulfilled_on": w.fulfilled_on} for w in r.wishes.order_by(Wish.id)]
    data["service_requests"] = [{"service": s.service, "applied_on": s.applied_on, "status": s.status,
                                 "outcome": s.outcome} for s in r.service_requests]
    data["referrals"] = [{"to_body": x.to_body, "reason": x.reason, "referred_on": x.referred_on}
                         for x in r.referrals.order_by(Referral.id)]
    audit.log("pii.exported", r)
    return data


def erase(r: Recipient, *, actor) -> None:
    """Remove the personal data of a recipient's file (PIPL 47): the row stays, anonymised, for the
    quarter's counts; visits, wishes, requests and referrals lose their personal text."""
    from .models import ServiceRequest
    with transaction():
        Recipient.update(name="已删除", id_number="", id_hash="", phone="", phone_hash="", guardian_name="",
                         guardian_relation="", guardian_phone="", community="", address="", needs="", notes="",
                         consent_giver="", status="erased").where(Recipient.id == r.id).execute()
        FollowUp.update(notes="", visited_by="").where(FollowUp.recipient == r.id).execute()
        Wish.update(wish="", fulfilled_by="").where(Wish.recipient == r.id).execute()
        ServiceRequest.update(service="", outcome="").where(ServiceRequest.recipient == r.id).execute()
        Referral.update(to_body="", reason="").where(Referral.recipient == r.id).execute()
        audit.log("recipients.erased", r, user=actor)


def visible(user) -> list[Recipient]:
    """The recipients (not erased) ``user`` may view, masked labels for pickers (privacy's requests)."""
    if not security.can(VIEW, user=user):
        return []
    q = Recipient.select().where(Recipient.status != "erased").order_by(Recipient.id)
    return list(security.scoped(Recipient, q, VIEW, user=user))


# ------------------------------------------------------------------------------ confidentiality agreement
AGREEMENT_CLAUSES = [
    _l("Before one-to-one service the organisation tells the recipient of the confidentiality principle "
       "(附录十一 第七条)."),
    _l("The recipient's personal data is collected only to arrange and record the services they receive; the "
       "purpose was explained to them (第十条)."),
    _l("Paper files are kept in opaque covers in a locked cabinet; electronic files are encrypted (第七条)."),
    _l("The file is not given to any other person or body without the recipient's prior consent (第十二条)."),
    _l("In an emergency, after a risk assessment, health and contact data may be given to the police or "
       "medical services; the recipient is told of any such limited disclosure (第八条、第十三条)."),
]


def agreement_pdf(r: Recipient, *, actor) -> tuple[bytes, str]:
    """The confidentiality agreement (保密协议, 附录十一 第七条) for one recipient, an A4 PDF with the CJK font
    embedded (the documents plugin's ``form_pdf``), to print and sign. Audited: it carries the full name."""
    _require(r, VIEW, actor)
    from plugins.documents.services import Cell, form_pdf
    version = r.confidentiality_version or setting("confidentiality_version")
    grid = [[Cell(_("Recipient"), label=True), Cell(r.name), Cell(_("Team"), label=True), Cell(r.team.name)],
            [Cell(_("Category"), label=True), Cell(str(CATEGORIES.get(r.category, r.category))),
             Cell(_("Guardian"), label=True), Cell(r.guardian_name or "—")]]
    grid += [[Cell(f"{i}. {c}", span=4)] for i, c in enumerate(AGREEMENT_CLAUSES, 1)]
    data = form_pdf(_("Confidentiality agreement"), grid, columns=[1, 2, 1, 2],
                    subtitle=_("Version %(v)s", v=version),
                    signatures=[(_("Recipient or guardian (signature)"), ""), (_("For the team (signature)"), ""),
                                (_("Date"), r.confidentiality_on.isoformat() if r.confidentiality_on else "")])
    audit.log("recipients.agreement_printed", r, {"version": version}, user=actor)
    return data, f"保密协议-{r.id}.pdf"
