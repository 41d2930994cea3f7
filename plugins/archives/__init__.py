"""Archives (档案管理, 附录十; RULES R-ARC-1…3): hook implementations only. The catalogue is catalogue.py,
storage storage.py, the self-filing activity archives filing.py; the public API is services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import crud_permissions, Permission, Role
from plugins.privacy.contract import contract_hooks
from plugins.teams.scoping import team_scoped

from . import hookspecs

HOOKSPECS = hookspecs


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def load_reference_data():
    from .catalogue import load_kinds
    load_kinds()


@hookimpl
def register_permissions():
    perms = crud_permissions("archives.file", _l("archive files"))
    perms += crud_permissions("archives.kind", _l("archive kinds"))
    perms += crud_permissions("archives.chronicle", _l("chronicle entries"))
    perms += [Permission("archives.file.close", _l("Complete and close archive files"))]
    # R-ARC-4…6 (loans.py, destruction.py, custody.py): one permission per step of a procedure
    perms += crud_permissions("archives.loan", _l("archive loans"), ("view", "create", "edit", "export"))
    perms += [Permission("archives.loan.approve", _l("Approve copying and other teams' archive loans")),
              Permission("archives.loan.sensitive", _l("See borrowers' full contact numbers"))]
    perms += crud_permissions("archives.destruction", _l("archive destructions"), ("view", "create", "export"))
    perms += [Permission("archives.destruction.review", _l("Review archive destructions (archivist)")),
              Permission("archives.destruction.appraise", _l("Appraise archive destructions (supervision group)")),
              Permission("archives.destruction.approve", _l("Approve archive destructions (team leader)")),
              Permission("archives.destruction.destroy", _l("Carry out archive destructions before witnesses"))]
    perms += crud_permissions("archives.custody", _l("archive custody records"), ("view", "create", "export"))
    return perms


@hookimpl
def register_roles():
    # team admins keep their own team tree's files and chronicle; the kinds are the site's (read only)
    return [Role("team_admin", permissions=["archives.file.view", "archives.file.create", "archives.file.edit",
                                            "archives.file.export", "archives.file.close", "archives.kind.view",
                                            "archives.chronicle.*",
                                            # the team leader (队长): approves loans and destructions
                                            "archives.loan.view", "archives.loan.create", "archives.loan.edit",
                                            "archives.loan.export", "archives.loan.approve",
                                            "archives.destruction.view", "archives.destruction.create",
                                            "archives.destruction.export", "archives.destruction.approve",
                                            "archives.custody.view", "archives.custody.create",
                                            "archives.custody.export"]),
            # the team's archivist (档案员) and supervision group (监督小组), granted per team (scope team:<id>)
            Role("archives_archivist", _l("Archivist"), scoped=True, permissions=[
                "core.admin.access", "archives.file.view", "archives.file.create", "archives.file.edit",
                "archives.file.close", "archives.kind.view", "archives.loan.view", "archives.loan.create",
                "archives.loan.edit", "archives.loan.export", "archives.destruction.view",
                "archives.destruction.create", "archives.destruction.review", "archives.destruction.destroy",
                "archives.destruction.export", "archives.custody.view", "archives.custody.create"]),
            Role("archives_supervisor", _l("Archives supervision group"), scoped=True, permissions=[
                "core.admin.access", "archives.file.view", "archives.destruction.view",
                "archives.destruction.appraise"])]


def _scoped_models():
    from .models import ArchiveFile, ChronicleEntry, Destruction, Document, Handover, Loan, LossReport
    return {ArchiveFile: "team", Document: "file.team", ChronicleEntry: "team", Loan: "team", Destruction: "team",
            LossReport: "team", Handover: "team"}


# a team admin reaches only the archives of their own team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="archives")

personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(__name__ + ".privacy")


@hookimpl
def register_admin_views(admin):
    from .admin import ChronicleView, DocumentView, FileView, KindView
    from .admin_more import DestructionView, HandoverView, LoanView, LossView
    from .models import ArchiveFile, ChronicleEntry, Destruction, Document, Handover, Kind, Loan, LossReport
    cat = _l("Archives")
    return [FileView(ArchiveFile, name=_l("Archive catalogue"), endpoint="archives_file", category=cat),
            DocumentView(Document, name=_l("Archive documents"), endpoint="archives_document", category=cat),
            LoanView(Loan, name=_l("Borrowing register"), endpoint="archives_loan", category=cat),
            DestructionView(Destruction, name=_l("Destruction register"), endpoint="archives_destruction",
                            category=cat),
            LossView(LossReport, name=_l("Loss reports"), endpoint="archives_loss", category=cat),
            HandoverView(Handover, name=_l("Handovers"), endpoint="archives_handover", category=cat),
            ChronicleView(ChronicleEntry, name=_l("Chronicle"), endpoint="archives_chronicle", category=cat),
            KindView(Kind, name=_l("Archive kinds"), endpoint="archives_kind", category=cat)]


@hookimpl
def track_event(event):
    if event.name == "activities.finished":
        from core.tasks import enqueue
        enqueue("archives.file_activity", event.activity_id)


@hookimpl
def register_tasks(queue):
    from huey import crontab
    from core.tasks import Task
    from . import tasks
    return [Task("archives.file_activity", tasks.file_activity),
            Task("archives.file_finished", tasks.file_finished, schedule=crontab(minute="50", hour="1")),
            Task("archives.chase_loans", tasks.chase_loans, schedule=crontab(minute="0", hour="9"))]


@hookimpl
def site_checks():
    """``timebank check``: every stored document read back against its SHA-256; changed or missing ones named."""
    from .catalogue import verify
    ok, message = verify()
    return [("archives.documents", ok, message)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core.admin import list_url
    from core.security import can, scoped
    from core.web import Widget
    from .catalogue import overdue
    from .models import ArchiveFile
    if not can("archives.file.view", user=user):
        return None
    drafts = scoped(ArchiveFile, ArchiveFile.select().where(ArchiveFile.status == "draft"),
                    "archives.file.view", user)
    late = overdue(drafts).count()
    return [Widget(_l("Archive files to complete"), Markup(
        '<p class="display-4 {}">{}</p><p>{}</p><p><a href="{}">{}</a></p>').format(
        "text-danger" if late else "", drafts.count(), _l("%(n)s overdue", n=late),
        list_url("archives_file", status="draft"), _l("Show the drafts")), width=4)]


@hookimpl
def load_demo_data(app):
    """The demo's finished activities get their 活动档案 (filed without typing)."""
    if "activities" in app.extensions["timebank"].loaded:
        from .filing import file_finished
        file_finished(limit=3)


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]
