"""Printable forms of one activity (R-ACT-10, R-ACT-11; 附录四 五 七): hook implementations only; the
documents are built in services.py, served by admin.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl


@hookimpl
def register_admin_views(admin):
    from .admin import ActivityFormsView
    return [ActivityFormsView(name=_l("Activity forms"), endpoint="activity_forms", category=_l("Activities"))]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl(optionalhook=True)
def activity_admin_links(activity, user):
    """The buttons on the activity's admin page: the forms this user may print for this activity."""
    from flask import url_for
    from .services import available
    docs = available(user, activity)
    if not docs:
        return []
    links = [(d.button, url_for("activity_forms.download", activity_id=activity.id, doc=d.key,
                                fmt=d.formats[0])) for d in docs]
    links.append((_l("All forms"), url_for("activity_forms.forms", activity_id=activity.id)))
    return links


@hookimpl(optionalhook=True)
def archive_documents(activity):
    """The archives plugin's declared hook (R-ARC-2): this activity's forms, outcome, hours and photos."""
    from .archive import documents
    return documents(activity)
