"""Rosters and forms (R-TEAM-7; 附录一～三): hook implementations only; the logic is in services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role

from . import hookspecs

HOOKSPECS = hookspecs

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
    """附录一 for the volunteer shown: on their own page, the link to their own form; for an admin who
    may print it (and see this volunteer), the admin link with an id."""
    from flask import url_for
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if volunteer.user_id == user.id:
        body = Markup('<p>{}</p><p><a href="{}">{}</a></p>').format(
            _l("Print your registration form (附录一), sign it and hand it to your community."),
            url_for("rosters.my_registration_form"), _l("Registration form (PDF)"))
        return [Widget(_l("My registration form"), body, order=40)]
    if security.can("rosters.registration_form.export", user=user) and \
            security.can("volunteers.volunteer.view", volunteer, user=user):
        body = Markup('<p><a href="{}">附录一 PDF</a></p>').format(
            url_for("rosters_roster.registration", volunteer_id=volunteer.id))
        return [Widget(_l("Registration form"), body, order=40)]
    return []
