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
    return [Role("team_admin", permissions=perms)]


def _scoped_models():
    from .models import Application, BudgetLine, Member
    return {Application: "team", Member: "application.team", BudgetLine: "application.team"}


# a team admin reaches only the applications of their own team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="resources")


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
