"""Resource links (资源链接; RULES R-RES-1): hook implementations only; the public API is services.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Role, crud_permissions

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
    return [p for o, noun in OBJECTS.items() for p in crud_permissions(f"resources.{o}", noun)]


@hookimpl
def register_roles():
    # the catalogue is the platform's: team admins read and export it, platform admins manage it
    return [Role("team_admin", permissions=[f"resources.{o}.{a}" for o in OBJECTS for a in ("view", "export")])]


@hookimpl
def register_admin_views(admin):
    from .admin import AccountView, ProgrammeView
    from .models import Account, Programme
    cat = _l("Resources")
    return [ProgrammeView(Programme, name=_l("Funding programmes"), endpoint="resources_programme", category=cat),
            AccountView(Account, name=_l("Resource accounts"), endpoint="resources_account", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    return [MenuItem(_l("Resource links"), url_for("resources.index"), None, order=60)]
