"""Rosters and forms (R-TEAM-7; 附录一～三): hook implementations only; the logic is in services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role

PERMISSIONS = {
    "rosters.roster.view": _l("Open the rosters page"),
    "rosters.roster.export": _l("Download the team and volunteer rosters (XLSX, PDF)"),
    "rosters.registration_form.export": _l("Print a volunteer's registration form (PDF)"),
}


@hookimpl
def register_permissions():
    return [Permission(name, title) for name, title in PERMISSIONS.items()]


@hookimpl
def register_roles():
    # team admins print the rosters of their own team tree; rows are scoped by the teams plugin
    return [Role("team_admin", permissions=list(PERMISSIONS))]


@hookimpl
def register_admin_views(admin):
    from .admin import RostersView
    return [RostersView(name=_l("Rosters"), endpoint="rosters_roster", category=_l("Teams"))]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def volunteer_panels(volunteer, user):
    """On the volunteer's own page: their 附录一 form, ready to print and sign."""
    from flask import url_for
    from markupsafe import Markup
    from core.web import Widget
    body = Markup('<p>{}</p><p><a href="{}">{}</a></p>').format(
        _l("Print your registration form (附录一), sign it and hand it to your community."),
        url_for("rosters.my_registration_form"), _l("Registration form (PDF)"))
    return [Widget(_l("My registration form"), body, order=40)]
