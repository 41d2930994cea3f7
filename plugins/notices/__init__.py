"""Notice board (公告栏): hook implementations only; logic lives in services.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role


@hookimpl
def register_models():
    from .models import Notice
    return [Notice]


@hookimpl
def register_permissions():
    return [Permission(f"notices.notice.{a}", t) for a, t in [
        ("view", _l("View notices in the admin")), ("create", _l("Write notices")),
        ("edit", _l("Edit notices")), ("delete", _l("Delete notices")), ("export", _l("Export notices"))]]


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=["notices.notice.view"])]


@hookimpl
def register_admin_views(admin):
    from .admin import NoticeView
    from .models import Notice
    return [NoticeView(Notice, name=_l("Notices"), endpoint="notices_notice", category=_l("Communication"))]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_events():
    from .services import NoticePublished
    return [NoticePublished]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    return [MenuItem(_l("Notices"), url_for("notices.index"), None, order=20)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core.web import Widget
    from .services import latest
    rows = latest(5)
    if not rows:
        body = Markup("<p>{}</p>").format(_l("No notices yet."))
    else:
        body = Markup('<ul class="list-unstyled">') + Markup("").join(
            Markup('<li><a href="{}">{}</a> <small class="text-muted">{}</small></li>').format(
                url_for("notices.detail", notice_id=n.id), n.title, n.published_at.strftime("%Y-%m-%d"))
            for n in rows) + Markup("</ul>")
    return [Widget(_l("Latest notices"), body, order=20, width=8)]


@hookimpl
def load_demo_data(app):
    from .services import publish
    publish("欢迎使用社区党员志愿服务平台",
            "本平台用于志愿者注册、团队管理、活动发布与时间银行积分管理。（示例公告）")


@hookimpl
def home_sections(authenticated):
    from markupsafe import Markup
    from core.web import Widget
    from .services import latest
    rows = latest(3)
    items = Markup("").join(Markup('<li><a href="{}">{}</a><br><small>{}</small></li>').format(
        url_for("notices.detail", notice_id=n.id), n.title, f"{n.published_at:%Y-%m-%d}" if n.published_at else "")
        for n in rows)
    body = Markup('<ul class="plain">{}</ul>').format(items) if rows else Markup("<p>{}</p>").format(
        _l("No notices yet."))
    return [Widget(_l("Notices"), body + Markup('<p><a href="{}">{}</a></p>').format(
        url_for("notices.index"), _l("All notices")), order=20)]
