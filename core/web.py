"""Site pages of the kernel: login, logout, password change, language switch, inbox, error pages,
and the security headers every response carries (SECURITY.md AC4, AC10, AU3)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import audit, security
from .db import transaction


@dataclass
class MenuItem:
    title: object
    url: str
    permission: str | None = None
    order: int = 100


@dataclass
class Widget:
    title: object
    html: Markup | str
    order: int = 100
    width: int = 6  # of 12 grid columns


bp = Blueprint("site", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))])


@bp.before_app_request
def refuse_nul_bytes():
    """No text parameter may hold a NUL character: PostgreSQL refuses it in any query, so it would
    surface as a 500 deep inside a view (or in the audit log of the refusal). Say 400 up front."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    return None


def safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("site.index")


@bp.route("/")
def index():
    if current_user.is_authenticated and security.can("core.admin.access"):
        return redirect(url_for("admin.index"))
    return render_template("core/index.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    from .models import User
    from .pii import redact_identifier
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        name = form.username.data.strip()
        # what is stored about the attempt (throttle rows, audit): a mobile or ID number typed as the
        # login name becomes a keyed hash, so no plain identifier is written (SECURITY.md PR2, AU1)
        logged = name if User.select().where(User.username == name).exists() else redact_identifier(name)
        if security.login_blocked(logged):
            audit.log("login.blocked", ("core_user", logged[:64]))
            error = _("Too many failed attempts. Try again in %(minutes)s minutes.",
                      minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
        else:
            user = User.get_or_none(User.username == name)
            if user is None:
                user = current_app.extensions["timebank"].pm.hook.find_login_user(identifier=name)
            if user and user.is_active and security.verify_password(user, form.password.data):
                from flask_login import login_user
                security.start_session(user)
                login_user(user)
                security.clear_failures(logged)
                audit.log("login.success", user, user=user)
                if user.must_change_password:
                    flash(_("Please choose a new password."), "warning")
                    return redirect(url_for("site.change_password"))
                return redirect(safe_next(request.args.get("next")))
            security.record_failure(logged)
            audit.log("login.failure", ("core_user", logged[:64]))
            error = _("Wrong username or password.")
    return render_template("core/login.html", form=form, error=error), (200 if not error else 401)


@bp.route("/logout", methods=["POST"])
def logout():
    from flask_login import logout_user
    if current_user.is_authenticated:
        audit.log("logout", current_user._get_current_object())
    security.end_session()
    logout_user()
    return redirect(url_for("site.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not security.verify_password(user, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            problem = security.password_problem(form.new.data, user.username)
            if problem:
                form.new.errors.append(problem)
            else:
                security.set_password(user, form.new.data)
                audit.log("password.changed", user)
                from flask_login import login_user
                security.start_session(user)  # every other session is revoked; keep this one
                login_user(user)
                flash(_("Your password was changed."), "success")
                return redirect(url_for("site.index"))
    return render_template("core/password.html", form=form)


@bp.route("/account/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        from .models import User
        User.update(locale=lang).where(User.id == current_user.id).execute()
    return redirect(safe_next(request.form.get("next")))


@bp.route("/inbox")
@login_required
def inbox():
    from .models import Message
    msgs = (Message.select().where(Message.recipient == current_user.id)
            .order_by(Message.created_at.desc()).limit(200))
    return render_template("core/inbox.html", messages=list(msgs))


@bp.route("/inbox/<int:msg_id>", methods=["GET"])
@login_required
def message(msg_id):
    from . import messages
    from .models import Message
    msg = Message.get_or_none((Message.id == msg_id) & (Message.recipient == current_user.id))
    if msg is None:
        abort(404)
    with transaction():
        messages.mark_read(msg)
    return render_template("core/message.html", message=msg)


def menu_items(user):
    items = []
    for group in current_app.extensions["timebank"].pm.hook.register_menu(user=user):
        for it in group or []:
            if it.permission is None or security.can(it.permission, user=user):
                items.append(it)
    return sorted(items, key=lambda i: i.order)


def error_page(e):
    code = getattr(e, "code", 500) or 500
    titles = {400: _l("Bad request"), 403: _l("Access denied"), 404: _l("Page not found"),
              405: _l("Method not allowed"), 413: _l("The upload is too large"),
              429: _l("Too many requests"), 500: _l("Something went wrong")}
    if code == 500:
        current_app.logger.exception("unhandled error")
    return render_template("core/error.html", code=code, title=titles.get(code, _l("Error"))), code


def security_headers(resp):
    h = resp.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "SAMEORIGIN")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                 "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'; form-action 'self'; "
                 "base-uri 'self'; object-src 'none'")
    if current_user and getattr(current_user, "is_authenticated", False):
        h["Cache-Control"] = "no-store"
    return resp
