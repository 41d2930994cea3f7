"""Yearly service targets (R-PARTY-2…4): hook implementations only; the logic is in services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role

PERMISSIONS = {"targets.report.view": _l("See the yearly service targets of the teams one manages"),
               "targets.report.export": _l("Export the yearly service targets (XLSX)")}


@hookimpl
def register_permissions():
    return [Permission(name, title) for name, title in PERMISSIONS.items()]


@hookimpl
def register_roles():
    # team admins follow their own team tree's volunteers (the rows are scoped by the teams plugin)
    return [Role("team_admin", permissions=list(PERMISSIONS))]


@hookimpl
def register_admin_views(admin):
    from .admin import TargetsView
    return [TargetsView(name=_l("Yearly service targets"), endpoint="targets_report", category=_l("Activities"))]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def volunteer_panels(volunteer, user):
    """Each volunteer sees their own progress this year — and only their own."""
    if user is None or not getattr(user, "is_authenticated", False) or volunteer.user_id != user.id:
        return []
    from flask import render_template
    from markupsafe import Markup
    from core.web import Widget
    from . import services
    row = services.own_progress(volunteer)
    if row is None:
        return []
    html = Markup(render_template("targets/panel.html", r=row, year=services.today().year, link=True,
                                  category_labels=services.CATEGORY_LABELS, status_labels=services.STATUS_LABELS))
    return [Widget(_l("My yearly service target"), html, order=6)]


@hookimpl
def dashboard_widgets(user):
    """Admins: how many volunteers of their scope are behind this year, per category."""
    from core import security
    if not security.can("targets.report.view", user=user):
        return []
    from flask import render_template, url_for
    from markupsafe import Markup
    from core.web import Widget
    from . import services
    rep, _cached = services.summary_cached(user)
    html = Markup(render_template("targets/widget.html", rep=rep, categories=services.CATEGORIES,
                                  category_labels=services.CATEGORY_LABELS,
                                  url=url_for("targets_report.index")))
    return [Widget(_l("Yearly targets: volunteers behind"), html, order=27, width=4)]
