"""The kernel's own answers to its hooks (registered as the plugin named ``core``)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .hookspecs import hookimpl


@hookimpl
def register_permissions():
    from .security import CORE_PERMISSIONS
    return CORE_PERMISSIONS


@hookimpl
def register_roles():
    from .security import CORE_ROLES
    return CORE_ROLES


@hookimpl
def register_events():
    from .events import CORE_EVENTS
    return CORE_EVENTS


@hookimpl
def register_message_channels(app):
    from .messages import EmailChannel
    return [EmailChannel()]


@hookimpl
def register_menu(user):
    from .web import MenuItem
    items = []
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem(_l("Admin"), url_for("admin.index"), "core.admin.access", order=10))
        items.append(MenuItem(_l("Inbox"), url_for("site.inbox"), None, order=90))
        items.append(MenuItem(_l("Change password"), url_for("site.change_password"), None, order=95))
    return items


@hookimpl
def dashboard_widgets(user):
    from . import messages
    from .admin import audit_actor
    from .models import AuditLog, User
    from .security import can
    from .web import Widget
    out = [Widget(_l("My inbox"), Markup(
        '<p class="display-4">{n}</p><p><a href="{url}">{label}</a></p>').format(
            n=messages.unread_count(user), url=url_for("site.inbox"), label=_("unread messages")),
        order=90, width=4)]
    if can("core.users.manage", user=user):
        out.append(Widget(_l("Accounts"), Markup('<p class="display-4">{n}</p><p>{label}</p>').format(
            n=User.select().where(User.is_active == True).count(), label=_("active users")),  # noqa: E712
            order=91, width=4))
    if can("core.calendar.manage", user=user):
        from flask import current_app
        from . import workdays
        from .db import today
        days = current_app.config["CALENDAR_WARN_DAYS"]
        gaps = workdays.coverage_gaps(today(), days)
        if gaps:
            out.append(Widget(_l("Working-day calendar"), Markup(
                '<p class="text-danger">{msg}</p><p><a href="{url}">{label}</a></p>').format(
                    msg=_("The calendar does not know the holidays of %(years)s, which begins within %(days)d "
                          "days: due dates there are provisional.", years=", ".join(map(str, gaps)), days=days),
                    url=url_for("core_calendar_day.index_view"), label=_("Enter the holidays and 调休 workdays")),
                order=5, width=6))
    if can("core.audit.view", user=user):
        rows = AuditLog.select().order_by(AuditLog.id.desc()).limit(5)
        items = Markup("").join(Markup("<li><small>{t}</small> {u} · <code>{a}</code></li>").format(
            t=r.at.strftime("%m-%d %H:%M"), u=audit_actor(r.username), a=r.action) for r in rows)
        out.append(Widget(_l("Recent activity"), Markup('<ul class="list-unstyled">') + items
                          + Markup("</ul>"), order=92, width=4))
    return out




@hookimpl
def site_checks():
    """``timebank check``: the numbered-documents register is complete (core.numbering, LG7)."""
    from .numbering import check
    ok, message = check()
    return [("core.numbering", ok, message)]
