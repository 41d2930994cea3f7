"""Site pages of the kernel: login, logout, password change, language switch, inbox, error pages,
and the security headers every response carries (SECURITY.md AC4, AC10, AU3)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from jinja2 import pass_context
from markupsafe import Markup, escape
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from . import audit, security
from .db import compiled, transaction


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


@dataclass
class HomeAction:
    """A button in the home page's opening (``home_sections``)."""
    label: object
    url: str
    order: int = 100
    primary: bool = False


@dataclass
class HomeStat:
    """A site total on the home page (``home_sections``): registered volunteers, hours given, …"""
    label: object
    value: int | float | str
    order: int = 100


bp = Blueprint("site", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


# the generated password of the ``admin`` account that ``timebank init`` writes into the instance folder;
# deleted once that password is changed (SECURITY.md AC3, issue 11 point 10)
INITIAL_ADMIN_PASSWORD_FILE = "initial_admin_password"
INITIAL_ADMIN = "admin"

# what an account that must change its password may still reach: the change itself, logging out,
# the language menu, and static files (any blueprint's ``….static``)
PASSWORD_CHANGE_ALLOWED = frozenset({"site.change_password", "site.logout", "site.set_language", "static"})


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))])


@bp.before_app_request
def refuse_nul_bytes():
    """No text parameter may hold a NUL character: PostgreSQL refuses it in any query, so it would
    surface as a 500 deep inside a view (or in the audit log of the refusal). Say 400 up front."""
    sources = []
    env = request.environ
    if env.get("QUERY_STRING"):
        sources.append(request.args)
    if env.get("CONTENT_LENGTH", "0") not in ("", "0") or env.get("HTTP_TRANSFER_ENCODING"):
        sources.append(request.form)  # no body, no form: skip parsing an empty one on every GET
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    return None


NEXT_MAX_LENGTH = 2048
_NEXT_SPACE_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs", "Cn")


def _next_text_ok(text: str) -> bool:
    """A same-site path as a browser would read it: one leading slash, no second one or backslash
    after it, no control, format or space character anywhere (browsers drop tabs and newlines and
    read ``\\`` as ``/``, so ``/\t/evil.example`` and ``/\\evil.example`` become ``//evil.example``;
    a CR/LF would end the Location header), no scheme and no host."""
    import unicodedata
    from urllib.parse import urlsplit
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(c.isspace() or unicodedata.category(c) in _NEXT_SPACE_CATEGORIES for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def is_safe_next(target) -> bool:
    """Is ``target`` (a ``next``/``url`` value taken from a request) a path on this site? The value
    is checked as given and after each round of percent-decoding (a proxy or an old browser may
    decode ``%2F``, ``%5C``, ``%09``, ``%0D%0A`` once more): every form must pass (SECURITY.md NS3)."""
    from urllib.parse import unquote
    if not isinstance(target, str) or not target or len(target) > NEXT_MAX_LENGTH:
        return False
    text = target
    for _round in range(4):
        if not _next_text_ok(text):
            return False
        try:
            decoded = unquote(text, errors="strict") if "%" in text else text
        except UnicodeDecodeError:
            return False
        if decoded == text:
            return True
        text = decoded
    return False  # still encoded after four rounds: refuse rather than guess


def safe_next(target, default: str | None = "") -> str | None:
    """The one safe-redirect check of the site: ``target`` (a ``next`` or return ``url`` taken from
    the request) when it is a path on this site (``is_safe_next``), else ``default`` — the home page
    when not given; ``None`` may be asked for to let the caller choose. Every redirect to an address
    taken from a request goes through here: login, language switch, Flask-Admin's return ``url``
    (``admin_redirect_target``), the documents plugin's back link (SECURITY.md NS3, issue 11 point 3)."""
    if is_safe_next(target):
        return target
    if default == "":
        return url_for("site.index")
    return default


def admin_redirect_target(param_name: str = "url") -> str | None:
    """Flask-Admin's ``get_redirect_target`` through ``safe_next``: Flask-Admin's own check accepts
    an absolute URL on the request's Host and lets a CR/LF through to the Location header (a 500);
    installed over it by ``core.admin.build_admin``."""
    return safe_next(request.values.get(param_name), default=None)


class PublicURLMissing(RuntimeError):
    """Something that prints an absolute address of the site (a QR code, a link in an email or a
    message) was asked for on a site without a configured PUBLIC_URL. Absolute addresses come from
    the configuration only, never from the request's Host header (SECURITY.md NS3): a forged Host
    would otherwise put another site's address into an official document. The kernel answers it with
    a 503 page saying what to configure; services turn it into their own error before writing."""

    message = _l("The site's public address (PUBLIC_URL) is not configured, so nothing that prints a "
                 "link to the site (certificates, QR codes) can be produced. Ask the system administrator "
                 "to set public_url in instance/config.toml or TIMEBANK_PUBLIC_URL.")

    def __str__(self):
        return str(self.message)


def public_url(path: str = "") -> str:
    """The absolute address of ``path`` (a path of the site, without the script root) under the
    configured PUBLIC_URL; raises ``PublicURLMissing`` when there is none. Public API for plugins
    (docs/plugins.md): the only way to print an absolute URL (issue 11 point 8)."""
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        raise PublicURLMissing()
    if path and not path.startswith("/"):
        path = "/" + path
    return base + path


def public_url_for(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute address under PUBLIC_URL (never the Host header;
    ``_external`` is not used). Raises ``PublicURLMissing`` when PUBLIC_URL is not configured."""
    from flask import has_request_context
    values.pop("_external", None)
    path = url_for(endpoint, **values)
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root):
        path = path[len(root):]
    return public_url(path)


def public_url_missing_page(e):
    return render_template("core/error.html", code=503, title=_l("Not configured"), message=str(e)), 503


@bp.route("/")
def index():
    if current_user.is_authenticated and security.can("core.admin.access"):
        return redirect(url_for("admin.index"))
    return render_template("core/index.html", **home_parts(current_user.is_authenticated))


def home_parts(authenticated: bool) -> dict:
    """The home page's actions, totals and sections from every plugin's ``home_sections``, kept per
    (language, logged in or not, time bucket of ``HOME_CACHE_SECONDS``): the totals count whole tables."""
    import time
    from flask_babel import get_locale
    seconds = max(1, current_app.config["HOME_CACHE_SECONDS"])

    def make():
        pm = current_app.extensions["timebank"].pm
        items = [i for group in pm.hook.home_sections(authenticated=authenticated) for i in (group or [])]
        by = lambda kind: sorted((i for i in items if isinstance(i, kind)), key=lambda i: i.order)  # noqa: E731
        return {"actions": by(HomeAction), "stats": by(HomeStat), "sections": by(Widget)}
    return kept("home", (str(get_locale()), bool(authenticated), int(time.time() // seconds)), make, size=64)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by username, volunteer number or mobile number (``find_login_user``). Throttled per
    account and address, per address and per account (``security.login_attempt``: waits, HTTP 429,
    no hard lock); an unknown name costs the same argon2 work as a known one (SECURITY.md AC2, NS4)."""
    from .inputs import normalize
    from .models import User
    from .pii import redact_identifier
    form = LoginForm()
    error, status, wait = None, 200, 0
    if form.validate_on_submit():
        name = form.username.data.strip()
        # the same lookups whatever was typed: the username (as typed and normalised), then the hook
        user = User.select().where(User.username.in_(list(dict.fromkeys([name, normalize(name)])))).first()
        other = current_app.extensions["timebank"].pm.hook.find_login_user(identifier=normalize(name))
        user = user or other
        # what is stored about the attempt (audit): a mobile or ID number typed as the login name
        # becomes a keyed hash, so no plain identifier is written (SECURITY.md PR2, AU1)
        logged = user.username if user is not None else redact_identifier(name)
        attempt = security.login_attempt(name, user)
        wait = attempt.wait()
        if wait:
            audit.log("login.throttled", ("core_user", logged[:64]), {"seconds": wait})
            error, status = security.throttled_message(wait), 429
        elif security.check_login(user, form.password.data):
            from flask_login import login_user
            security.start_session(user)
            login_user(user)
            attempt.succeeded()
            audit.log("login.success", user, user=user)
            if user.must_change_password:
                flash(_("Please choose a new password."), "warning")
                return redirect(url_for("site.change_password"))
            return redirect(safe_next(request.args.get("next")))
        else:
            attempt.failed()
            audit.log("login.failure", ("core_user", logged[:64]))
            error, status = _("Wrong username or password."), 401
    resp = current_app.make_response((render_template("core/login.html", form=form, error=error), status))
    if wait:
        resp.headers["Retry-After"] = str(wait)
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    from flask_login import logout_user
    if current_user.is_authenticated:
        audit.log("logout", current_user._get_current_object())
    security.end_session()
    logout_user()
    return redirect(url_for("site.login"))


def require_password_change():
    """An account flagged ``must_change_password`` (the ``admin`` that ``timebank init`` created with a
    generated password, an account an admin created) reaches nothing but the password change page,
    logging out and the language menu until it has chosen its own password (SECURITY.md AC3, issue 11
    point 10). Registered after the connection check in ``create_app``."""
    endpoint = request.endpoint or ""
    if endpoint in PASSWORD_CHANGE_ALLOWED or endpoint.endswith(".static"):
        return None
    user = current_user._get_current_object()
    if getattr(user, "must_change_password", False) and getattr(user, "is_authenticated", False):
        return redirect(url_for("site.change_password"))
    return None


def forget_initial_password(user) -> bool:
    """Delete ``instance/initial_admin_password`` once the ``admin`` it was generated for has chosen
    another password: the generated one stays on disk no longer than it is valid. True if deleted."""
    from pathlib import Path
    if user.username != INITIAL_ADMIN:
        return False
    f = Path(current_app.instance_path) / INITIAL_ADMIN_PASSWORD_FILE
    if not f.exists():
        return False
    f.unlink()
    return True


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    user = current_user._get_current_object()
    status, wait = 200, 0
    forced = bool(user.must_change_password)
    if form.validate_on_submit():
        # guessing the current password (a session left open) counts like failed logins (AC2, NS4)
        attempt = security.login_attempt(user.username, user)
        wait = attempt.wait()
        if wait:
            form.current.errors.append(security.throttled_message(wait))
            status = 429
        elif not security.verify_password(user, form.current.data):
            attempt.failed()
            audit.log("password.change_failed", user)
            form.current.errors.append(_("The current password is wrong."))
        elif forced and form.new.data == form.current.data:
            form.new.errors.append(_("Choose a new password, not the one you were given."))
        else:
            problem = security.password_problem(form.new.data, user.username)
            if problem:
                form.new.errors.append(problem)
            else:
                security.set_password(user, form.new.data)  # clears must_change_password
                deleted = forget_initial_password(user)
                audit.log("password.changed", user,
                          {"forced": True, "initial_password_file_deleted": deleted} if forced else None)
                from flask_login import login_user
                security.start_session(user)  # every other session is revoked; keep this one
                login_user(user)
                flash(_("Your password was changed."), "success")
                return redirect(url_for("site.index"))
    resp = current_app.make_response((render_template("core/password.html", form=form, forced=forced), status))
    if wait:
        resp.headers["Retry-After"] = str(wait)
    return resp


@bp.route("/account/language", methods=["POST"])
def set_language():
    # exempt from the site-wide CSRF check (core/__init__.py) so that a visitor who is not logged in
    # gets no session cookie just for the token of this form; a logged-in user's choice is stored on
    # the account, so the token is checked here for them (SECURITY.md AC5)
    if current_user.is_authenticated:
        from flask_wtf.csrf import CSRFError, validate_csrf
        from wtforms import ValidationError
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as e:
            raise CSRFError(e.args[0]) from None
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
    # plain rows, not Message objects; link and date written here rather than by calls in the template
    link = url_maker("site.message", "msg_id")
    rows = [(m, link(m.id), f"{m.created_at:%Y-%m-%d %H:%M}") for m in _inbox_rows(user_id=current_user.id)]
    return render_template("core/inbox.html", messages=rows)


@compiled
def _inbox_rows(user_id):
    from .models import Message
    # only what the list shows: bodies and delivery logs stay in the database
    return (Message.select(Message.id, Message.subject, Message.created_at, Message.read_at)
            .where(Message.recipient == user_id).order_by(Message.created_at.desc()).limit(200)
            .namedtuples())


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


MENU_CACHE_SIZE = 512


def kept(name: str, key, make, size: int = 1024):
    """``make()``'s value, computed once per ``key`` and kept on the running app for the next request
    with the same key (a page fragment, say). ``key`` must hold **every** input ``make`` reads (the
    language, the values shown, the rows listed), so that different inputs never share a value; read
    those inputs per request as before. At most ``size`` values per ``name``: when full, it starts
    again. A changed plugin set builds a new app, which starts empty. Public API for plugins
    (docs/plugins.md "Hot queries")."""
    caches = current_app.extensions["timebank"].kept
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, {})
    value = cache.get(key)
    if value is None:
        value = make()
        if len(cache) >= size:
            cache.clear()
        cache[key] = value
    return value


def kept_html(name: str, key, render, holes: dict, size: int = 1024) -> Markup:
    """A kept HTML fragment (see ``kept``) with holes for what changes on every request and so does
    not belong in the key (the current path, what the visitor typed). ``render(markers)`` renders the
    fragment with ``markers[hole]`` where each hole's value goes; every request gets the kept HTML with
    each hole filled by its value in ``holes``, escaped, in one pass (a value that holds a marker is
    never filled again)."""
    markers = {h: f"\x00{h}\x00" for h in holes}
    html = kept(name, key, lambda: render(markers), size)
    pattern = re.compile("\x00(" + "|".join(map(re.escape, holes)) + ")\x00")
    return Markup(pattern.sub(lambda m: str(escape(holes[m.group(1)])), html))


def menu_items(user, locale: str | None = None):
    """The site navigation of ``user``: every plugin's ``register_menu`` items the user may see, by order.

    The hooks' answers are kept per (logged in or not, the user's roles with their scopes, language,
    script root) for the life of the app (a new plugin set builds a new app, so a new cache): calling
    every plugin's hook, its ``url_for`` and Babel for each title was ~30% of a page's kernel cost
    (bench/README.md). ``register_menu`` answers must therefore depend on nothing else (hookspecs).
    The ``permission`` of each item is still checked per request and per user."""
    kernel = current_app.extensions["timebank"]
    authed = bool(user is not None and getattr(user, "is_authenticated", False))
    roles = tuple(sorted(security.user_roles(user))) if authed else ()
    if locale is None:
        from flask_babel import get_locale
        locale = str(get_locale())
    key = (authed, roles, locale, request.script_root)

    def build():
        items = []
        for group in kernel.pm.hook.register_menu(user=user):
            for it in group or []:
                # titles resolved once in this language (the key holds it); Markup stays Markup
                title = it.title if isinstance(it.title, Markup) else str(it.title)
                items.append(MenuItem(title, it.url, it.permission, it.order))
        items.sort(key=lambda i: i.order)
        return items
    items = kept("core.menu", key, build, MENU_CACHE_SIZE)
    return [it for it in items if it.permission is None or security.can(it.permission, user=user)]


HEADER_CACHE_SIZE = 2048


@pass_context
def page_header(ctx) -> Markup:
    """The layout's ``<header>`` (core/_header.html): brand, the user's menu, log-out and language forms.

    Rendered once per (script root, language, the menu items the user may see, user name, CSRF token)
    and kept; only the current path (the language form's ``next``) is put in per request. The inputs
    are computed per request as before — the menu's permissions checked for this user — so a changed
    menu, role, language or session renders afresh; the layout was ~30 % of a small page's kernel cost
    (bench/profile_page.py)."""
    user = current_user._get_current_object()
    locale = ctx.get("current_locale") or ""
    items = menu_items(user, locale)
    authed = bool(getattr(user, "is_authenticated", False))
    name = user.username if authed else ""
    token = csrf_token() if authed else ""
    key = (request.script_root, locale, tuple((it.url, it.title) for it in items), name, token)

    def render(markers):
        tmpl = current_app.jinja_env.get_template("core/_header.html")
        return tmpl.render(items=items, user_name=name, token=token, next_marker=markers["next"],
                           languages=ctx.get("languages"), current_locale=locale,
                           gettext=ctx.get("gettext"), ngettext=ctx.get("ngettext"))
    return kept_html("core.header", key, render, {"next": request.full_path}, HEADER_CACHE_SIZE)


CSRF_CACHE_SIZE = 4096


def csrf_token() -> str:
    """Flask-WTF's ``generate_csrf`` with the signed token kept per session token.

    Signing (HMAC, zlib, base64) ran on every page for the same session token; with
    ``WTF_CSRF_TIME_LIMIT=None`` the signed form is valid as long as the session token is, so it is
    reused. Validation is Flask-WTF's own, unchanged."""
    from flask import g
    from flask_wtf.csrf import generate_csrf
    if "csrf_token" in g:
        return g.csrf_token
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()  # tokens that expire must be signed afresh
    raw = session.get("csrf_token")
    cache = current_app.extensions["timebank"].csrf_cache
    signed = cache.get(raw) if isinstance(raw, str) else None
    if signed is None:
        signed = generate_csrf()
        raw = session.get("csrf_token")
        if isinstance(raw, str):
            if len(cache) >= CSRF_CACHE_SIZE:
                cache.clear()
            cache[raw] = signed
    g.csrf_token = signed
    return signed


def url_maker(endpoint: str, arg: str, **values):
    """``url_for(endpoint, **{arg: n}, **values)`` for many integers ``n`` at the cost of one
    ``url_for``: for links in a loop (``url_for`` costs ~20 µs; 200 of them are 4 ms)."""
    sentinel = 918273645
    url = url_for(endpoint, **{arg: sentinel}, **values)
    head, sep, tail = url.partition(str(sentinel))
    assert sep and str(sentinel) not in tail, url
    return lambda n: f"{head}{int(n)}{tail}"


def error_page(e):
    code = getattr(e, "code", 500) or 500
    titles = {400: _l("Bad request"), 403: _l("Access denied"), 404: _l("Page not found"),
              405: _l("Method not allowed"), 413: _l("The upload is too large"),
              429: _l("Too many requests"), 500: _l("Something went wrong")}
    if code == 500:
        current_app.logger.exception("unhandled error")
    # a throttled request says how long to wait, in the user's language (security.Throttled)
    message = e.description if isinstance(e, security.Throttled) else None
    resp = current_app.make_response(
        (render_template("core/error.html", code=code, title=titles.get(code, _l("Error")), message=message),
         code))
    if isinstance(e, security.Throttled):
        resp.headers["Retry-After"] = str(e.seconds)
    return resp


def integrity_error(e):
    """A database constraint conflict that no service turned into a field error (a race or a rule the
    service did not foresee) never reaches a person as a 500 with table names (issue 11 point 1): what
    the request began is rolled back, the details go to the log, and the answer is 409 with a clear
    message in the user's language."""
    from .db import db
    current_app.logger.warning("integrity error escaped %s %s: %s", request.method, request.path, e)
    d = db.obj
    try:
        if d is not None and not d.is_closed():
            # every transaction() block rolled back on its way out; this ends a statement's failure
            # outside one too (PostgreSQL would refuse every later statement of the connection)
            d.rollback()
    except Exception:  # noqa: BLE001 - a broken connection is reopened by the next request
        current_app.logger.exception("rollback after an integrity error failed")
    return render_template("core/error.html", code=409, title=_l("Conflict with existing data"),
                           message=_l("This could not be saved because it conflicts with data that already "
                                      "exists (for example a name or number already in use). Nothing was "
                                      "saved; go back, check the form and try again.")), 409


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "same-origin"),
)
# scripts: the site's own files and the inline <script> elements that carry this response's nonce;
# never 'unsafe-inline' (no inline event handlers, no javascript: URLs) (SECURITY.md AC10)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'{nonce}; frame-ancestors 'self'; form-action 'self'; "
       "base-uri 'self'; object-src 'none'")
CSP_PLAIN = CSP.format(nonce="")


def csp_nonce() -> str:
    """This response's script nonce: templates write ``<script nonce="{{ csp_nonce() }}">`` (Flask-Admin's
    templates get it through ``csp_nonce_generator``); the Content-Security-Policy header names it. A
    new random value per request, made on first use; never put it in a kept fragment
    (``kept``/``kept_html``), which would carry a stale one. Public API for plugins' templates."""
    from flask import g
    nonce = g.get("csp_nonce")
    if nonce is None:
        import secrets
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


# what a page may add to the policy for itself (csp_allow): where images, fetches, fonts or media come
# from; never scripts, styles, frames or forms
CSP_EXTENDABLE = ("img-src", "connect-src", "font-src", "media-src")
# a scheme and a host (a leading "*." allowed), an optional port: no path, no quote, no space, no ";"
_CSP_SOURCE = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
                         r"(:[0-9]{1,5})?$")


def is_csp_origin(source) -> bool:
    """Whether ``source`` is an origin ``csp_allow`` accepts. Public API for plugins."""
    return isinstance(source, str) and bool(_CSP_SOURCE.match(source))


def csp_allow(directive: str, *sources: str) -> None:
    """Let this response load from ``sources`` for ``directive`` (one of ``CSP_EXTENDABLE``), e.g. a map
    page's tile server: ``csp_allow("img-src", "https://tile.openstreetmap.org")``. Only the response
    of the request that calls it carries them; every other page keeps the site's policy. Each source is
    an origin, ``http(s)://host[:port]`` (``https://*.example.org`` for its subdomains); anything else
    (a path, a keyword such as ``'unsafe-inline'``, a ``;``) raises ValueError. Public API for plugins."""
    from flask import g
    if directive not in CSP_EXTENDABLE:
        raise ValueError(f"csp_allow: {directive!r} cannot be extended (only {', '.join(CSP_EXTENDABLE)})")
    for source in sources:
        if not is_csp_origin(source):
            raise ValueError(f"csp_allow: {source!r} is not an origin such as https://tiles.example.org")
    extra = g.get("csp_extra")
    if extra is None:
        extra = g.csp_extra = {}
    extra.setdefault(directive, {}).update(dict.fromkeys(sources))


def _policy(nonce, extra) -> str:
    policy = CSP.format(nonce=f" 'nonce-{nonce}'") if nonce else CSP_PLAIN
    if not extra:
        return policy
    parts = policy.split("; ")
    names = [p.split(" ", 1)[0] for p in parts]
    for directive, sources in extra.items():
        if not sources:
            continue
        if directive in names:
            i = names.index(directive)
            parts[i] = " ".join([parts[i], *(s for s in sources if s not in parts[i].split(" "))])
        else:  # not in the policy: default-src 'self' applied to it, and still does
            parts.insert(1, " ".join([directive, "'self'", *sources]))
            names.insert(1, directive)
    return "; ".join(parts)


def security_headers(resp):
    from flask import g
    h = resp.headers
    present = {k.lower() for k, _ in h.items()}  # one pass instead of one header scan per name
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:  # a view may set its own
            h.add(name, value)
    if "content-security-policy" not in present:  # a view may set its own (e.g. a stricter CSP)
        h.add("Content-Security-Policy", _policy(g.get("csp_nonce"), g.get("csp_extra")))
    user = current_user._get_current_object() if current_user else None
    if user is not None and getattr(user, "is_authenticated", False):
        h["Cache-Control"] = "no-store"
    return resp


URL_CACHE_SIZE = 1024


def url_for_cached(endpoint: str, **values) -> str:
    """Templates' ``url_for``: the links every page carries (layout, static files) are built once per
    script root. Only calls without arguments (or ``static`` with a file name) on an app without
    ``url_defaults`` are kept; anything else is Flask's ``url_for`` unchanged."""
    app = current_app._get_current_object()
    if (values and (endpoint != "static" or set(values) != {"filename"})) or endpoint[:1] == "." \
            or any(app.url_default_functions.values()):
        return app.url_for(endpoint, **values)
    key = (endpoint, values.get("filename"), request.script_root)
    return kept("core.url", key, lambda: app.url_for(endpoint, **values), URL_CACHE_SIZE)


def due_date(value, fmt: str = "%Y-%m-%d") -> str:
    """A due date as a person reads it; one in a year the working-day calendar does not know yet is
    marked provisional (issue 18 point 8), since entering that year's holidays may move it."""
    if not value:
        return ""
    from . import workdays
    text = value.strftime(fmt)
    return f"{text} {_('(provisional)')}" if workdays.provisional(value) else text
