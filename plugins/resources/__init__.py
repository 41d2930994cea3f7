"""Resource links (资源链接; RULES R-RES-1): hook implementations only; the public API is services.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped

OBJECTS = {"programme": _l("funding programmes"), "account": _l("resource accounts")}


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def load_reference_data():
    from .services import load_catalogue
    load_catalogue()


@hookimpl
def register_permissions():
    perms = [p for o, noun in OBJECTS.items() for p in crud_permissions(f"resources.{o}", noun)]
    perms += crud_permissions("resources.application", _l("funding applications"))
    perms += [Permission("resources.application.review", _l("Review funding applications")),
              Permission("resources.application.manage", _l("Move funded applications through their steps"))]
    return perms


@hookimpl
def register_roles():
    # the catalogue is the platform's: team admins read and export it, platform admins manage it
    # team admins draft, submit and report their own team tree's applications; review and the later
    # steps are the platform's
    perms = [f"resources.{o}.{a}" for o in OBJECTS for a in ("view", "export")]
    perms += [f"resources.application.{a}" for a in ("view", "create", "edit", "export")]
    # a reviewer (评审) reaches only the applications assigned to them (see _reviewer_only below)
    return [Role("team_admin", permissions=perms),
            Role("resources_reviewer", _l("Funding application reviewer"),
                 permissions=["core.admin.access", "resources.application.view", "resources.application.review"])]


def _scoped_models():
    from .models import (ActivityLink, Application, Attendance, BudgetLine, Member, Objection, Output, PointsUse,
                         Review, ScheduleRow)
    through = "application.team"
    return {Application: "team", Member: through, BudgetLine: through, ScheduleRow: through, Output: through,
            Review: through, Objection: through, Attendance: through, ActivityLink: through,
            PointsUse: through}


# a team admin reaches only the applications of their own team tree (AC6)
_SCOPE = team_scoped(_scoped_models, prefix="resources")[0].team_scope   # kept in a tuple: no stray hookimpl


def _reviewer_only(user) -> bool:
    """A site-wide user who reviews but does not manage applications: sees only what they review."""
    from core.security import can
    from plugins.teams.scoping import team_ids
    return (user is not None and getattr(user, "is_authenticated", False) and team_ids(user) is None
            and can("resources.application.review", user=user)
            and not can("resources.application.manage", user=user))


@hookimpl
def scope_query(model, query, user, permission):
    e = _SCOPE.scope_query(model, query, user, permission)
    models = _scoped_models()
    if model in models and _reviewer_only(user):
        from .models import Application, Review
        mine = Application.id.in_(Review.select(Review.application).where(Review.reviewer == user.id))
        if model is Application:
            r = mine
        elif model is Review:
            r = Review.reviewer == user.id
        else:
            r = model.application.in_(Application.select(Application.id).where(mine))
        e = r if e is None else (e & r)
    return e


@hookimpl
def permission_allowed(user, permission, obj):
    verdict = _SCOPE.permission_allowed(user, permission, obj)
    if verdict is not False and obj is not None and type(obj) in _scoped_models() \
            and str(permission).startswith("resources.") and _reviewer_only(user):
        from .models import Application, Review
        app_id = obj.id if isinstance(obj, Application) else obj.application_id
        if not Review.select().where((Review.application == app_id) & (Review.reviewer == user.id)).exists():
            return False
        if isinstance(obj, Review) and obj.reviewer != user.id:
            return False
    return verdict


permission_allowed.object_only = True   # like team_scoped's: no answer without an object


@hookimpl
def register_admin_views(admin):
    from .admin import AccountView, ApplicationView, ProgrammeView
    from .models import Account, Application, Programme
    cat = _l("Resources")
    return [ProgrammeView(Programme, name=_l("Funding programmes"), endpoint="resources_programme", category=cat),
            AccountView(Account, name=_l("Resource accounts"), endpoint="resources_account", category=cat),
            ApplicationView(Application, name=_l("Funding applications"), endpoint="resources_application",
                            category=cat)]


@hookimpl
def register_tasks(queue):
    from core.tasks import Task, crontab
    from .services import send_reminders_task
    # every morning, 08:30 Beijing time: the teams hear of windows opening within reminder_days_ahead days
    return [Task("resources.reminders", send_reminders_task, schedule=crontab(hour="8", minute="30"))]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    return [MenuItem(_l("Resource links"), url_for("resources.index"), None, order=60)]


# ------------------------------------------------------------------ the privacy plugin's contract
@hookimpl(optionalhook=True)
def personal_data_declarations():
    from .privacy import declarations
    return declarations()


@hookimpl(optionalhook=True)
def personal_data_export(subject):
    from .privacy import export
    return export(subject)


@hookimpl(optionalhook=True)
def personal_data_erase(subject, actor):
    from .privacy import erase
    return erase(subject, actor)


scope_query.team_scope = permission_allowed.team_scope = _SCOPE


@hookimpl
def dashboard_widgets(user):
    """Funding applications past their due date (working days, core.workflow) in the user's reach: the
    team's own tree, a reviewer's assigned ones, everything for the platform."""
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    if not security.can("resources.application.view", user=user):
        return None
    from .applications import FLOW
    from .models import Application
    q = security.scoped(Application, Application.select(), "resources.application.view", user=user)
    late = list(FLOW.overdue(q).order_by(Application.due_at).limit(5))
    items = Markup("").join(Markup('<li><a href="{}">{}</a> · {} · <span class="text-danger">{}</span></li>')
                            .format(url_for("resources_application.details_view", id=a.id), a.activity_name,
                                    FLOW.label(a.status), a.due_at.date().isoformat()) for a in late)
    return [Widget(_l("Funding applications overdue"), Markup(
        '<p class="display-4 {}" id="resources-overdue">{}</p><ul>{}</ul>').format(
            "text-danger" if late else "", FLOW.overdue(q).count(), items), order=60, width=4)]


@hookimpl(optionalhook=True)
def incentive_indicators(team_ids, start, end):
    """Evaluation indicators for the incentives plugin's dashboard (R-INC-3)."""
    from .indicators import indicators
    return indicators(team_ids, start, end)
