"""Subject requests (PIPL 44–47; issue 13 point 2, the rest; SECURITY PR7): access/export, correction,
deletion, consent withdrawal and "who has seen my data", each a ``SubjectRequest`` moved by
``core.workflow`` (``open`` → ``done`` | ``refused``; an audit row per step), due the end of the N-th
working day (setting ``request_workdays``, default 15), overdue on the dashboard, the outcome in the
requester's inbox in their language (``core.messages.send_translated``).

Volunteers file through ``/me/privacy/requests`` for themselves only; staff holding
``privacy.request.handle`` file for a service recipient (服务对象) and decide: when the recipients plugin is
loaded they name a recipient of its register (``recipient_id``; a granted export is one ZIP, a granted
deletion erases the recipient through the contract), otherwise a free-text reference. The volunteers plugin's own register (``volunteers_data_request``,
``/me/requests``) stays where it is: privacy lists its open requests with the same due dates and overdue
flags (``volunteer_requests()``) and they are decided on the volunteers plugin's page through its public
``decide_request`` (which erases through the contract on a granted deletion)."""
from __future__ import annotations

import peewee as pw
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import BaseModel, DateTimeTZField, now, transaction
from core.errors import FieldErrors
from core.models import User
from core.settings import PluginSettings
from core.workflow import Step, Workflow

SETTINGS = PluginSettings(__file__)
HANDLE = "privacy.request.handle"
KINDS = {"export": _l("Access and export of my data"), "correction": _l("Correction"),
         "deletion": _l("Deletion"), "withdraw": _l("Withdrawal of consent"),
         "seen": _l("Who has seen my data")}
MAX_DETAILS = 2000


class SubjectRequest(BaseModel):
    """One request of a data subject. ``user``: the requester's account (a volunteer, an account holder);
    ``subject_ref``: staff's reference to a service recipient (no account). ``filed_by``: who typed it."""
    kind = pw.CharField(max_length=12)
    user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    subject_ref = pw.CharField(max_length=200, default="")
    recipient_id = pw.IntegerField(null=True, index=True)     # a recipient of the recipients register
    details = pw.TextField(default="")
    status = pw.CharField(max_length=12, default="open", index=True)
    due_at = DateTimeTZField(null=True, index=True)
    outcome = pw.TextField(default="")
    filed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)

    PERSONAL_FIELDS = ("subject_ref", "recipient_id", "details", "outcome")

    class Meta:
        table_name = "privacy_subject_request"


WORKFLOW = Workflow(
    "privacy.request", SubjectRequest,
    states={"new": _l("New"), "open": _l("Open"), "done": _l("Done"), "refused": _l("Refused")},
    steps=[Step("file", "new", "open", HANDLE, _l("File")),
           Step("grant", "open", "done", HANDLE, _l("Grant")),
           Step("refuse", "open", "refused", HANDLE, _l("Refuse the request"), reason=True)],
    due={"open": lambda: SETTINGS.get("request_workdays")},
)


def _clean(kind, details):
    errors = {}
    if kind not in KINDS:
        errors["kind"] = _l("Unknown request type.")
    details = str(details or "").strip()
    if len(details) > MAX_DETAILS:
        errors["details"] = _l("At most %(n)s characters.", n=MAX_DETAILS)
    if kind == "correction" and not details:
        errors["details"] = _l("Say what should be corrected.")
    if errors:
        raise FieldErrors(errors)
    return details


def _create(kind, details, *, user=None, subject_ref="", filed_by=None, recipient_id=None):
    with transaction():
        req = SubjectRequest.create(kind=kind, user=user, subject_ref=subject_ref, details=details,
                                    status="new", filed_by=filed_by, recipient_id=recipient_id)
        return WORKFLOW.move(req, "file")     # audited privacy.request.file, due date set


def file_own(user, kind: str, details: str = "") -> SubjectRequest:
    """A logged-in person's request about their own data (never another's: there is no subject field).
    A volunteer's consent withdrawal takes effect at once, as on the volunteers plugin's own form: the
    sensitive data is erased through its public ``withdraw_sensitive_consent`` and the request is done."""
    details = _clean(kind, details)
    with transaction():
        req = _create(kind, details, user=user, filed_by=user)
        if kind == "withdraw" and "volunteers" in current_app.extensions["timebank"].loaded:
            from plugins.volunteers.models import Volunteer
            from plugins.volunteers.services import withdraw_sensitive_consent
            v = Volunteer.get_or_none(Volunteer.user == user.id)
            if v is not None:
                withdraw_sensitive_consent(v)
                req = WORKFLOW.move(req, "grant", values={"decided_at": now()})
    if req.status == "done":
        _reply(req)
    return req


def recipients_loaded() -> bool:
    return "recipients" in current_app.extensions["timebank"].loaded


def file_for_recipient(actor, subject_ref: str, kind: str, details: str = "", recipient_id=None) -> SubjectRequest:
    """Staff file a request for a service recipient (服务对象): a recipient of the recipients register
    (``recipient_id``, within the actor's scope) when that plugin is loaded, else a free-text reference."""
    from core import security
    if not security.can(HANDLE, user=actor):
        audit.log("access.denied", None, {"permission": HANDLE}, user=actor)
        raise FieldErrors(_l("You may not take this step."))
    errors, rid = {}, None
    if recipients_loaded():
        from plugins.recipients.services import get_scoped, label
        r = get_scoped(recipient_id, actor)
        if r is None:
            errors["recipient_id"] = _l("Choose the service recipient the request is about.")
        else:
            ref, rid = label(r), r.id
    else:
        ref = " ".join(str(subject_ref or "").split())
        if not ref:
            errors["subject_ref"] = _l("Name the person the request is about.")
        elif len(ref) > 200:
            errors["subject_ref"] = _l("At most %(n)s characters.", n=200)
    try:
        details = _clean(kind, details)
    except FieldErrors as e:
        errors.update(e.errors)
    if errors:
        raise FieldErrors(errors)
    return _create(kind, details, subject_ref=ref, filed_by=actor, recipient_id=rid)


def recipient_zip(req: SubjectRequest, actor) -> bytes:
    """The granted export of a recipient's data: one ZIP of every plugin's answer, as a volunteer's."""
    from .contract import Subject
    from .services import build_zip
    if req.kind != "export" or req.status != "done" or not req.recipient_id or not recipients_loaded():
        raise FieldErrors(_l("Only a granted export request about a recipient can be downloaded."))
    body = build_zip(Subject("recipient", recipient_id=req.recipient_id))
    audit.log("privacy.exported", req, {"kind": "recipient", "bytes": len(body)}, user=actor)
    return body


def decide(req: SubjectRequest, actor, *, grant: bool, outcome: str = "") -> SubjectRequest:
    """Grant or refuse (a refusal needs its reason), one workflow step; a granted deletion of an account
    holder erases them through the contract; the requester is told in their inbox."""
    from . import services
    outcome = " ".join(str(outcome or "").split())
    if grant and not outcome:
        raise FieldErrors({"outcome": _l("Give the outcome or the reason.")})
    with transaction():
        req = WORKFLOW.move(req, "grant" if grant else "refuse", actor=actor, reason=outcome,
                            values={"outcome": outcome[:5000], "decided_by": actor.id, "decided_at": now()})
        if grant and req.kind == "deletion" and req.user_id:
            u = User.get_by_id(req.user_id)
            services.erase_subject(services.subject_for_user(u), actor=actor, reason="request")
        elif grant and req.kind == "deletion" and req.recipient_id and recipients_loaded():
            from .contract import Subject
            services.erase_subject(Subject("recipient", recipient_id=req.recipient_id), actor=actor, reason="request")
        _reply(req)
    return req


def _reply(req: SubjectRequest):
    """The outcome in the requester's inbox, in their own language; "who has seen my data" carries the
    list itself (from the audit log)."""
    from flask_babel import gettext as _
    from core import messages
    if not req.user_id:
        return
    user = User.get_or_none(User.id == req.user_id)
    if user is None or not user.is_active:
        return

    def make():
        kind = str(KINDS.get(req.kind, req.kind))
        subject = (_("Your request (%(kind)s) was granted", kind=kind) if req.status == "done"
                   else _("Your request (%(kind)s) was refused", kind=kind))
        body = req.outcome
        if req.status == "done" and req.kind == "withdraw" and not body:
            body = _("Your consent is withdrawn: your political status and religion are erased.")
        if req.status == "done" and req.kind == "seen":
            from . import services
            rows = services.seen_by_others(services.subject_for_user(user))
            lines = [f"{r['at']:%Y-%m-%d %H:%M} {r['by']}: {r['action']}" for r in rows]
            body += "\n\n" + ("\n".join(lines) if lines else _("Nobody else has seen or changed your record."))
        return subject, body
    messages.send_translated(user, make, category="privacy.request", dedupe_key=f"privacy.request:{req.id}")


def overdue():
    return WORKFLOW.overdue()


def volunteer_requests():
    """The volunteers plugin's open requests (its own register) with a due time computed the same way,
    oldest first: [(DataRequest, due_at, overdue)]."""
    if "volunteers" not in current_app.extensions["timebank"].loaded:
        return []
    from core.workdays import deadline
    from plugins.volunteers.models import DataRequest
    n, t = int(SETTINGS.get("request_workdays")), now()
    out = []
    for r in DataRequest.select().where(DataRequest.status == "open").order_by(DataRequest.id).limit(500):
        due = deadline(r.created_at, n)
        out.append((r, due, due < t))
    return out
