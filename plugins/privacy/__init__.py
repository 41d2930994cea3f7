"""Privacy (隐私保护): the contract every plugin that stores personal data answers (issue 13 point 1),
and the volunteer's one-ZIP download of everything held about them (point 2). It answers itself for the
kernel's records (the login account, the inbox, the subject's own access history) through core's public
models. Logic in services.py; the shapes in contract.py; the hooks in hookspecs.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission

from . import hookspecs

HOOKSPECS = hookspecs  # personal_data_declarations / _export / _erase, for every plugin to answer


@hookimpl
def register_models():
    from .models import ExportLink
    return [ExportLink] + _register_models_consents()


@hookimpl
def register_permissions():
    return [Permission("privacy.record.view", _l("See the processing record of personal data")),
            Permission("privacy.record.export", _l("Export the processing record of personal data (XLSX)"))] \
        + _permissions_consents()


@hookimpl
def register_admin_views(admin):
    from .admin import ProcessingRecordView
    return [ProcessingRecordView(name=_l("Processing record"), endpoint="privacy_record", category=_l("People"))] \
        + _admin_views_consents(admin)


@hookimpl
def register_blueprints(app):
    from .views import bp
    from . import consent_views  # noqa: F401 - the consent routes on bp (issue 13 point 3)
    return [bp]


@hookimpl
def volunteer_panels(volunteer, user):
    """On /me: download everything held about me, from every plugin (PIPL 45)."""
    from markupsafe import Markup
    from core.web import Widget
    if user is None or getattr(user, "id", None) != volunteer.user_id:
        return []
    body = Markup('<p>{}</p><p><a class="button" href="{}">{}</a></p>').format(
        _l("One ZIP file with everything every part of this site holds about you: a readable page and a "
           "JSON file."), url_for("privacy.mine"), _l("Download all my data"))
    return [Widget(_l("All my personal data"), body, order=90)]


@hookimpl
def register_tasks(queue):
    """Every night: download links that were used or have expired are deleted (they name an account)."""
    from core.tasks import Task, crontab
    from .services import purge_export_links
    return [Task("privacy.purge_export_links", purge_export_links, schedule=crontab(hour="3", minute="41"))]


@hookimpl
def track_event(event):
    """A volunteer erased by the volunteers plugin's own paths (deletion request, retention job) is erased
    in every other plugin too, through the contract (PR6, R-PRIV-5)."""
    if event.name == "volunteers.erased":
        from .services import volunteer_erased
        volunteer_erased(event.volunteer_id, getattr(event, "reason", "") or "request")


# ------------------------------------------------------------------ the kernel's part of the contract
@hookimpl
def personal_data_declarations():
    from core.models import LoginFailure, LoginSession, Message, User, UserRole, AuditLog
    from .contract import Declaration
    from .models import ExportLink
    account = _l("Logging in and sending messages to the person")
    return [
        Declaration(User, {"username": "personal", "display_name": "personal", "email": "personal"}, "user",
                    account, _l("Contract (PIPL 13(2))"), _l("While the account exists; emptied on erasure"),
                    _l("Platform admins")),
        Declaration(UserRole, {"user": "personal"}, "user", _l("What the person may do on the site"),
                    _l("Contract (PIPL 13(2))"), _l("While the account exists"), _l("Platform admins")),
        Declaration(LoginSession, {"user": "personal", "ip": "personal", "user_agent": "personal"}, "user",
                    _l("Keeping the person logged in; security"), _l("Contract (PIPL 13(2))"),
                    _l("Until logout or expiry; ended on erasure"), _l("The person; platform admins")),
        Declaration(LoginFailure, {"key": "personal"}, "user", _l("Stopping password guessing"),
                    _l("Legal obligation (Cybersecurity Law 21)"), _l("Until the lockout window has passed"),
                    _l("Nobody (automatic)")),
        Declaration(Message, {"recipient": "personal", "subject": "personal", "body": "personal"}, "user",
                    account, _l("Contract (PIPL 13(2))"), _l("While the account exists; deleted on erasure"),
                    _l("The recipient")),
        Declaration(AuditLog, {"user_id": "personal", "username": "personal", "ip": "personal"}, "user",
                    _l("Accountability: who did what and who saw personal data"),
                    _l("Legal obligation (Cybersecurity Law 21, PIPL 51)"),
                    _l("At least six months; kept on erasure"), _l("Platform admins")),
        Declaration(ExportLink, {"user": "personal"}, "user", _l("The person's download of their own data"),
                    _l("Legal obligation (PIPL 45)"), _l("Until used or expired"), _l("The person")),
    ] + _declarations_consents()


@hookimpl
def personal_data_export(subject):
    from core.models import AuditLog, LoginSession, Message, User
    from .contract import ExportPart
    if not subject.user_id:
        return None
    u = User.get_or_none(User.id == subject.user_id)
    if u is None:
        return None
    parts = [ExportPart(_l("Login account"), [_l("Login name"), _l("Name shown"), _l("Email"), _l("Created"),
                                             _l("Last login")],
                        [[u.username, u.display_name, u.email, u.created_at, u.last_login_at]],
                        {"username": u.username, "display_name": u.display_name, "email": u.email,
                         "created_at": u.created_at, "last_login_at": u.last_login_at})]
    msgs = list(Message.select().where(Message.recipient == u.id).order_by(Message.id))
    parts.append(ExportPart(_l("Inbox"), [_l("Time"), _l("Subject"), _l("Text"), _l("Read")],
                            [[m.created_at, m.subject, m.body, m.read_at] for m in msgs],
                            [{"created_at": m.created_at, "subject": m.subject, "body": m.body,
                              "read_at": m.read_at, "category": m.category} for m in msgs]))
    sessions = list(LoginSession.select().where(LoginSession.user == u.id).order_by(LoginSession.id))
    parts.append(ExportPart(_l("Logins"), [_l("Logged in"), _l("Last seen"), _l("IP address"), _l("Browser")],
                            [[s.created_at, s.last_seen_at, s.ip, s.user_agent] for s in sessions],
                            [{"created_at": s.created_at, "last_seen_at": s.last_seen_at, "ip": s.ip,
                              "user_agent": s.user_agent, "revoked_at": s.revoked_at} for s in sessions]))
    # the subject's own access history: what they did, and what was done with their volunteer record
    cond = AuditLog.user_id == u.id
    if subject.volunteer_id:
        cond |= (AuditLog.object_type == "volunteers_volunteer") & (AuditLog.object_id == str(subject.volunteer_id))
    rows = list(AuditLog.select().where(cond).order_by(AuditLog.id))
    parts.append(ExportPart(_l("Access history"), [_l("Time"), _l("By"), _l("Action"), _l("Record")],
                            [[a.at, a.username, a.action, f"{a.object_type} {a.object_id}".strip()] for a in rows],
                            [{"at": a.at, "by": a.username, "action": a.action, "object_type": a.object_type,
                              "object_id": a.object_id} for a in rows]))
    return parts + _export_consents(subject)


@hookimpl
def personal_data_erase(subject, actor):
    from core.db import now
    from core.models import LoginSession, Message, User
    from .contract import ErasePart
    from .models import ExportLink
    _erase_consents(subject)
    if not subject.user_id:
        return None
    Message.delete().where(Message.recipient == subject.user_id).execute()
    ExportLink.delete().where(ExportLink.user == subject.user_id).execute()
    LoginSession.update(revoked_at=now(), ip="", user_agent="").where(LoginSession.user == subject.user_id).execute()
    User.update(is_active=False, display_name="已注销", email="").where(User.id == subject.user_id).execute()
    return ErasePart(_l("Login account, inbox and logins"),
                     removed=[_l("Inbox messages deleted; name and email removed from the account; "
                                 "logins ended and their addresses removed")],
                     kept=[_l("The audit log, at least six months (Cybersecurity Law 21): it names the "
                              "account, not the person")])


# ------------------------------------------------------------------ consent register and disclosures
# (issue 13 points 3 and 6; R-PRIV-4, R-PRIV-6; consents.py, disclosures.py, admin_consents.py)
def _register_models_consents():
    from .consents import Consent, Purpose
    from .disclosures import Disclosure
    return [Purpose, Consent, Disclosure]


def _permissions_consents():
    return [Permission("privacy.purpose.view", _l("See the purposes people consent to")),
            Permission("privacy.purpose.create", _l("Add a purpose people consent to")),
            Permission("privacy.purpose.edit", _l("Change the purposes people consent to")),
            Permission("privacy.consent.view", _l("See the consent register")),
            Permission("privacy.disclosure.view", _l("See disclosures made without consent")),
            Permission("privacy.disclosure.request", _l("Request a disclosure without consent")),
            Permission("privacy.disclosure.approve", _l("Approve or refuse a disclosure without consent"))]


@hookimpl
def register_roles():
    """Team admins request and see their own teams' disclosures; only a platform admin approves (R-PRIV-4)."""
    from core.security import Role
    return [Role("team_admin", permissions=["privacy.disclosure.view", "privacy.disclosure.request"])]


@hookimpl
def load_reference_data():
    """The shipped consent purposes (the platform admin adds more)."""
    from .consents import load_purposes
    load_purposes()


@hookimpl(optionalhook=True)
def photo_original_public(photo, recipient_ids):
    """The activities plugin asks before serving a photo marked as showing service recipients (R-PRIV-3):
    its original may be public only when recipients are named and every one of them has a standing
    consent to ``recipient_photos``; otherwise the public sees the copy with the faces blurred. Asked at
    each request: a withdrawal counts at once."""
    from .consents import RECIPIENT_PHOTOS, consented
    return bool(recipient_ids) and all(consented(("recipient", rid), RECIPIENT_PHOTOS) for rid in recipient_ids)


def _admin_views_consents(admin):
    from .admin_consents import ConsentView, DisclosureView, PurposeView
    from .consents import Consent, Purpose
    return [PurposeView(Purpose, name=_l("Consent purposes"), endpoint="privacy_purpose", category=_l("People")),
            ConsentView(Consent, name=_l("Consent register"), endpoint="privacy_consent", category=_l("People")),
            DisclosureView(name=_l("Disclosures without consent"), endpoint="privacy_disclosure",
                           category=_l("People"))]


def _declarations_consents():
    from .consents import Consent
    from .contract import Declaration
    from .disclosures import Disclosure
    return [Declaration(Consent, {"subject_id": "personal"}, "volunteer",
                        _l("Proof of what the person consented to and when they withdrew"),
                        _l("Legal obligation (PIPL 14–15)"), _l("While the person's record exists; deleted on erasure"),
                        _l("The person; platform admins")),
            Declaration(Disclosure, {"subject_id": "personal", "disclosed": "sensitive", "recipient": "personal",
                                     "risk_assessment": "sensitive"}, "volunteer",
                        _l("Record of a disclosure without consent in one of the six cases"),
                        _l("Legal obligation (PIPL 13(3)–(4))"), _l("Kept on erasure: the law requires the record"),
                        _l("Platform admins; the requesting team's admins"))]


def _export_consents(subject):
    from .consents import history_of, purpose_label, subject_key
    from .contract import ExportPart
    try:
        subject_key(subject)
    except Exception:  # noqa: BLE001 - a subject the register does not know
        return []
    rows = history_of(subject)
    return [ExportPart(_l("Consents"), [_l("Purpose"), _l("Notice version"), _l("Given"), _l("Withdrawn")],
                       [[purpose_label(c.purpose), c.notice_version, c.given_at, c.withdrawn_at] for c in rows],
                       [{"purpose": c.purpose.code, "notice_version": c.notice_version, "given_at": c.given_at,
                         "withdrawn_at": c.withdrawn_at} for c in rows])]


def _erase_consents(subject):
    from .consents import Consent, subject_key
    try:
        kind, sid = subject_key(subject)
    except Exception:  # noqa: BLE001
        return
    Consent.delete().where((Consent.subject_kind == kind) & (Consent.subject_id == sid)).execute()


# ------------------------------------------------------------------ retention (issue 13 point 7, R-PRIV-5)
# (hook functions named retention_* with specname: the names above stay the foundation's)
@hookimpl(specname="register_models")
def retention_register_models():
    from .retention import RetentionItem
    return [RetentionItem]


@hookimpl(specname="register_permissions")
def retention_register_permissions():
    return [Permission("privacy.retention.review",
                       _l("Review personal data past its retention date: destroy it or keep it with a reason"))]


@hookimpl(specname="register_admin_views")
def retention_register_admin_views(admin):
    from .retention_admin import RetentionView
    return [RetentionView(name=_l("Retention review"), endpoint="privacy_retention", category=_l("People"))]


@hookimpl(specname="register_tasks")
def retention_register_tasks(queue):
    """Every night: personal data past its retention date is listed for review (R-PRIV-5)."""
    from core.tasks import Task, crontab
    from .retention import nightly
    return [Task("privacy.retention_scan", nightly, schedule=crontab(hour="2", minute="53"))]


@hookimpl(specname="dashboard_widgets")
def retention_dashboard_widgets(user):
    """Retention items waiting for review, and how many are overdue, with a link (R-PRIV-5)."""
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .retention import REVIEW, RetentionItem
    if not security.can("privacy.retention.review", user=user):
        return []
    waiting = RetentionItem.select().where(RetentionItem.status == "due").count()
    late = REVIEW.overdue().count()
    if not waiting:
        return []
    body = Markup('<p>{}: <strong>{}</strong> · {}: <strong>{}</strong></p><p><a href="{}">{}</a></p>').format(
        _l("Past their retention date"), waiting, _l("Review overdue"), late,
        url_for("privacy_retention.index"), _l("Review"))
    return [Widget(_l("Retention"), body, order=8)]


@hookimpl(specname="personal_data_declarations")
def retention_personal_data_declarations():
    from .contract import Declaration
    from .retention import RetentionItem
    return [Declaration(RetentionItem, {"decided_by": "personal"}, "user",
                        _l("The destruction record of personal data past its retention date"),
                        _l("Legal obligation (PIPL 19, 47)"), _l("At least three years"),
                        _l("Retention reviewers"))]


# ------------------------------------------------------------------ subject requests (issue 13 point 2, PIPL 44-47)
@hookimpl(specname="register_models")
def requests_register_models():
    from .requests import SubjectRequest
    return [SubjectRequest]


@hookimpl(specname="register_permissions")
def requests_register_permissions():
    return [Permission("privacy.request.handle",
                       _l("Handle requests about personal data: file them for service recipients, decide them"))]


@hookimpl(specname="register_admin_views")
def requests_register_admin_views(admin):
    from .requests_admin import RequestsView
    return [RequestsView(name=_l("Requests about personal data"), endpoint="privacy_requests_admin",
                         category=_l("People"))]


@hookimpl(specname="register_blueprints")
def requests_register_blueprints(app):
    from .requests_views import bp
    return [bp]


@hookimpl(specname="volunteer_panels")
def requests_volunteer_panels(volunteer, user):
    """On /me: a link to file and follow requests about one's own data (PIPL 44-47)."""
    from markupsafe import Markup
    from core.web import Widget
    if user is None or getattr(user, "id", None) != volunteer.user_id:
        return []
    body = Markup('<p>{}</p><p><a class="button" href="{}">{}</a></p>').format(
        _l("Ask to see, correct or delete your data, withdraw your consent, or know who has seen it."),
        url_for("privacy_requests.mine"), _l("My requests about my data"))
    return [Widget(_l("My requests about my data"), body, order=91)]


@hookimpl(specname="dashboard_widgets")
def requests_dashboard_widgets(user):
    """Open requests and overdue ones (privacy's and the volunteers register's), with a link."""
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .requests import SubjectRequest, overdue, volunteer_requests
    if not security.can("privacy.request.handle", user=user):
        return []
    vol = volunteer_requests()
    waiting = SubjectRequest.select().where(SubjectRequest.status == "open").count() + len(vol)
    late = overdue().count() + sum(1 for _r, _d, is_late in vol if is_late)
    if not waiting:
        return []
    body = Markup('<p>{}: <strong>{}</strong> · {}: <strong>{}</strong></p><p><a href="{}">{}</a></p>').format(
        _l("Open requests"), waiting, _l("Overdue"), late, url_for("privacy_requests_admin.index"),
        _l("Requests about personal data"))
    return [Widget(_l("Requests about personal data"), body, order=8)]


@hookimpl(specname="personal_data_declarations")
def requests_personal_data_declarations():
    from .contract import Declaration
    from .requests import SubjectRequest
    return [Declaration(SubjectRequest, {"user": "personal", "subject_ref": "personal", "recipient_id": "personal",
                                         "details": "personal",
                                         "outcome": "personal", "filed_by": "personal", "decided_by": "personal"},
                        "user", _l("Answering a person's requests about their data"),
                        _l("Legal obligation (PIPL 44-47)"), _l("Three years after the decision"),
                        _l("The requester; request handlers"))]


# ------------------------------------------------------------------ impact assessments, kept copies (issue 13 point 8, PIPL 55-56)
@hookimpl(specname="register_models")
def assessments_register_models():
    from .assessments import ImpactAssessment, RecordSnapshot
    return [ImpactAssessment, RecordSnapshot]


@hookimpl(specname="register_permissions")
def assessments_register_permissions():
    return [Permission("privacy.assessment.edit",
                       _l("Complete personal-information impact assessments and see the kept copies"))]


@hookimpl(specname="register_admin_views")
def assessments_register_admin_views(admin):
    from .assessments_admin import AssessmentView
    return [AssessmentView(name=_l("Impact assessments"), endpoint="privacy_assessments", category=_l("People"))]


@hookimpl(specname="register_tasks")
def assessments_register_tasks(queue):
    """Every night: a copy of the processing record when it changed; copies past their date removed."""
    from core.tasks import Task, crontab
    from .assessments import nightly
    return [Task("privacy.record_snapshot", nightly, schedule=crontab(hour="3", minute="17"))]


@hookimpl(specname="personal_data_declarations")
def assessments_personal_data_declarations():
    from .assessments import ImpactAssessment, RecordSnapshot
    from .contract import Declaration
    return [Declaration(ImpactAssessment, {"completed_by": "personal"}, "user",
                        _l("Who completed a personal-information impact assessment"),
                        _l("Legal obligation (PIPL 55-56)"), _l("At least three years"), _l("Privacy staff")),
            Declaration(RecordSnapshot, {"taken_by": "personal"}, "user",
                        _l("Who caused a kept copy of the processing record or an assessment"),
                        _l("Legal obligation (PIPL 55-56)"), _l("At least three years"), _l("Privacy staff"))]
