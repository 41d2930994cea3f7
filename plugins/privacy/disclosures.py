"""Disclosure without consent (issue 13 point 6; RULES R-PRIV-4, R-PRIV-6; 附录十一 第八、十三条; PIPL 13).

Only the six cases of R-PRIV-4 (``CASES``, a fixed list, not a setting) allow personal data to be given to
someone without the person's consent. Each disclosure is a row of ``privacy_disclosure``: the case, the legal
basis, what was disclosed, to whom, whether it was an emergency disclosure to the police or medical services
after a risk assessment (R-PRIV-6, 第八条) with that assessment, and when the person was told of the limited
disclosure (第十三条). It moves through ``core.workflow``: requested → approved | refused, the approver a
platform admin (permission ``privacy.disclosure.approve``, held by no team role), a reason required.

A request outside the six cases, without a legal basis, without what or to whom, or for a person outside the
requester's team is refused with a message in the user's language and writes nothing. Every step is audited
(``privacy.disclosure.requested``, ``privacy.disclosure.approve`` / ``.refuse``, ``privacy.disclosure.told``).
Team admins (permission ``privacy.disclosure.request``/``.view``) reach only their own teams' disclosures
(``visible_to``, ``get_for``).
"""
from __future__ import annotations

import peewee as pw
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, security
from core.db import BaseModel, DateTimeTZField, now, transaction
from core.errors import FieldErrors
from core.workflow import Step, Workflow

# R-PRIV-4: the only cases in which personal data may be disclosed without consent. Fixed by the rule.
CASES = {
    "life_danger": _l("The person's life is in danger"),
    "criminal_case": _l("A criminal case"),
    "victim_under_16": _l("A victim under 16"),
    "crime_intent": _l("Intent to commit a crime"),
    "mental_disorder": _l("A mental disorder"),
    "suicide_risk": _l("Suicide risk"),
}
RECIPIENT_KINDS = {"police": _l("Police"), "medical": _l("Medical services"), "court": _l("Court or procuratorate"),
                   "guardian": _l("Guardian"), "other": _l("Other")}
EMERGENCY_RECIPIENTS = ("police", "medical")   # R-PRIV-6 第八条

REQUEST, VIEW, APPROVE = "privacy.disclosure.request", "privacy.disclosure.view", "privacy.disclosure.approve"


class DisclosureError(FieldErrors):
    """A refused disclosure; messages in the user's language; nothing is written."""


class Disclosure(BaseModel):
    PERSONAL_FIELDS = ("subject_id", "disclosed", "recipient", "risk_assessment")
    team_id = pw.IntegerField(null=True, index=True)       # the team whose admin asked (None: platform)
    subject_kind = pw.CharField(max_length=10, default="volunteer")
    subject_id = pw.IntegerField(index=True)
    case = pw.CharField(max_length=20)
    legal_basis = pw.TextField()
    disclosed = pw.TextField()                              # what was disclosed
    recipient_kind = pw.CharField(max_length=10, default="other")
    recipient = pw.CharField(max_length=200)                # to whom
    emergency = pw.BooleanField(default=False)              # R-PRIV-6 第八条
    risk_assessment = pw.TextField(default="")
    status = pw.CharField(max_length=10, default="requested", index=True)
    requested_by = pw.IntegerField(null=True)
    requested_at = DateTimeTZField(default=now)
    decided_by = pw.IntegerField(null=True)
    decided_at = DateTimeTZField(null=True)
    decision_reason = pw.TextField(default="")
    subject_told_at = DateTimeTZField(null=True)            # R-PRIV-6 第十三条
    subject_told_how = pw.CharField(max_length=200, default="")

    class Meta:
        table_name = "privacy_disclosure"


STATES = {"requested": _l("Requested"), "approved": _l("Approved"), "refused": _l("Refused")}
FLOW = Workflow("privacy.disclosure", Disclosure, states=STATES, due_field=None, steps=[
    Step("approve", "requested", "approved", APPROVE, _l("Approve"), reason=True),
    Step("refuse", "requested", "refused", APPROVE, _l("Refuse"), reason=True),
])


def _loaded(name: str) -> bool:
    return name in current_app.extensions["timebank"].loaded


def admin_teams(user) -> list[int] | None:
    """Teams the user administers; None for a site-wide role (or when the teams plugin is off)."""
    if not _loaded("teams"):
        return None
    from plugins.teams.services import admin_team_ids
    return admin_team_ids(user)


def _text(data, key, maxlen, errors, message):
    v = " ".join(str(data.get(key) or "").split()) if key != "disclosed" else str(data.get(key) or "").strip()
    if not v:
        errors[key] = message
    elif len(v) > maxlen:
        errors[key] = _l("At most %(n)s characters.", n=maxlen)
    return v


def _subject_in_team(volunteer_id: int, team_id: int) -> bool:
    from plugins.teams.models import Membership
    return Membership.select().where((Membership.team == team_id) & (Membership.volunteer == volunteer_id)
                                     & (Membership.status == "approved")).exists()


def clean(data: dict, actor) -> dict:
    """Check a disclosure request; DisclosureError (all messages at once) when anything is wrong."""
    from core.inputs import parse_id
    errors, out = {}, {}
    case = str(data.get("case") or "")
    if case not in CASES:
        errors["case"] = _l("Personal data may be disclosed without consent only in the six cases of the "
                            "rules (life in danger, criminal case, victim under 16, intent to commit a crime, "
                            "mental disorder, suicide risk).")
    out["legal_basis"] = _text(data, "legal_basis", 1000, errors, _l("Give the legal basis."))
    out["disclosed"] = _text(data, "disclosed", 2000, errors, _l("Say what is disclosed."))
    out["recipient"] = _text(data, "recipient", 200, errors, _l("Say to whom it is disclosed."))
    rk = str(data.get("recipient_kind") or "other")
    if rk not in RECIPIENT_KINDS:
        errors["recipient_kind"] = _l("Unknown kind of recipient.")
    emergency = str(data.get("emergency") or "").lower() in ("1", "true", "on", "yes", "y")
    risk = str(data.get("risk_assessment") or "").strip()
    if emergency:
        if rk not in EMERGENCY_RECIPIENTS:
            errors["recipient_kind"] = _l("An emergency disclosure goes only to the police or medical services.")
        if not risk:
            errors["risk_assessment"] = _l("An emergency disclosure needs the risk assessment made first.")
    if len(risk) > 4000:
        errors["risk_assessment"] = _l("At most %(n)s characters.", n=4000)
    kind = str(data.get("subject_kind") or "volunteer")
    sid = parse_id(data.get("subject_id"))
    if kind == "recipient" and _loaded("recipients"):    # a service recipient (R-PRIV-6 第八条)
        from plugins.recipients.services import exists as recipient_exists
        if sid is None or not recipient_exists(sid):
            errors["subject_id"] = _l("Unknown data subject.")
    elif kind != "volunteer" or not _loaded("volunteers"):
        errors["subject_id"] = _l("Unknown data subject.")
    elif sid is None:
        errors["subject_id"] = _l("Unknown data subject.")
    else:
        from plugins.volunteers.models import Volunteer
        if not Volunteer.select().where((Volunteer.id == sid) & (Volunteer.status != "erased")).exists():
            errors["subject_id"] = _l("Unknown data subject.")
    teams = admin_teams(actor)
    tid = parse_id(data.get("team_id"))
    if teams is not None:            # a team admin: their own team, and a member of it
        if tid is None and len(teams) == 1:
            tid = teams[0]
        if tid is None or tid not in teams:
            errors["team_id"] = _l("Choose one of your own teams.")
        elif "subject_id" not in errors and kind == "recipient":
            from plugins.recipients.services import in_team_tree
            if not in_team_tree(sid, tid):
                errors["subject_id"] = _l("This person is not served by your team.")
        elif "subject_id" not in errors and not _subject_in_team(sid, tid):
            errors["subject_id"] = _l("This person is not a member of your team.")
    if errors:
        raise DisclosureError(errors)
    out.update(case=case, recipient_kind=rk, emergency=emergency, risk_assessment=risk, subject_kind=kind,
               subject_id=sid, team_id=tid)
    return out


def request_disclosure(data: dict, *, actor) -> Disclosure:
    """Record a disclosure request (state ``requested``); audited. Refused (nothing written) when the
    actor may not request, or the request is outside the rules."""
    if not security.can(REQUEST, user=actor):
        audit.log("access.denied", None, {"permission": REQUEST}, user=actor)
        raise DisclosureError(_l("You may not request a disclosure."))
    values = clean(data, actor)
    with transaction():
        d = Disclosure.create(**values, status="requested", requested_by=actor.id, requested_at=now())
        audit.log("privacy.disclosure.requested", d, {"case": d.case, "recipient_kind": d.recipient_kind,
                                                      "emergency": d.emergency, "subject_id": d.subject_id,
                                                      "team_id": d.team_id}, user=actor)
    return d


def visible_to(user, query=None):
    """The disclosures ``user`` may see: every one for a site-wide role, their teams' for a team admin."""
    q = query if query is not None else Disclosure.select()
    if not security.can(VIEW, user=user):
        return q.where(False)
    teams = admin_teams(user)
    if teams is None:
        return q
    return q.where(Disclosure.team_id.in_(teams or [-1]))


def get_for(user, disclosure_id) -> Disclosure | None:
    """One disclosure if ``user`` may see it; None (and an audited refusal) otherwise."""
    from core.inputs import parse_id
    did = parse_id(disclosure_id)
    d = visible_to(user).where(Disclosure.id == did).first() if did else None
    if d is None and did and Disclosure.select().where(Disclosure.id == did).exists():
        audit.log("access.denied", ("privacy_disclosure", did), {"permission": VIEW}, user=user)
    return d


def decide(d: Disclosure, *, approve: bool, reason: str, actor) -> Disclosure:
    """A platform admin approves or refuses, with a reason (core.workflow; audited)."""
    return FLOW.move(d, "approve" if approve else "refuse", actor=actor, reason=reason,
                     values={"decided_by": actor.id, "decided_at": now(), "decision_reason":
                             " ".join(str(reason or "").split())})


def record_subject_told(d: Disclosure, how: str, *, actor) -> Disclosure:
    """R-PRIV-6 第十三条: the person was told of the limited disclosure (when, how); audited."""
    how = " ".join(str(how or "").split())
    if d.status != "approved":
        raise DisclosureError(_l("Only an approved disclosure can be told to the person."))
    if not how or len(how) > 200:
        raise DisclosureError({"how": _l("Say how the person was told (at most 200 characters).")})
    if get_for(actor, d.id) is None:
        raise DisclosureError(_l("You may not change this disclosure."))
    with transaction():
        Disclosure.update(subject_told_at=now(), subject_told_how=how).where(Disclosure.id == d.id).execute()
        audit.log("privacy.disclosure.told", d, {"how": how}, user=actor)
    return Disclosure.get_by_id(d.id)


def case_label(code: str) -> str:
    return str(CASES.get(code, code))
