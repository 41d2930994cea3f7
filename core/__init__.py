"""The kernel: ``create_app(config)`` builds a site from its configuration and its enabled plugins.

config → database → kernel schema → plugins (dependency order) → babel → security → admin.
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from pathlib import Path

import pluggy
from flask import Flask

from . import hookspecs
from .config import ConfigError, ensure_secret, load_config
from .db import DatabaseError, db, init_database, transaction
from .hookspecs import hookimpl  # noqa: F401 - re-exported for plugins: ``from core import hookimpl``
from .plugins import PluginError

__all__ = ["create_app", "hookimpl", "ConfigError", "DatabaseError", "PluginError", "SiteApp"]

log = logging.getLogger("timebank")


class Kernel:
    """What the kernel keeps per app: ``app.extensions["timebank"]``."""

    def __init__(self):
        self.pm: pluggy.PluginManager | None = None
        self.loaded: list[str] = []
        self.plugins: dict = {}
        self.access = None
        self.channels: list = []
        self.tasks = None
        self.events: list = []
        self.generation = 0
        self.models: list = []
        self.csrf_cache: dict = {}   # core.web.csrf_token
        # core.web.kept: name -> {key: value} (core.menu, core.header, core.url, plugins' fragments)
        self.kept: dict = {}


def ensure_core_schema():
    """Create the kernel's tables if missing; append-only triggers on the audit log."""
    from .models import CORE_MODELS
    from playhouse.migrations import Runner
    mig = Path(__file__).resolve().parent / "migrations"
    runner = Runner(db.obj, str(mig), table_name="migrations_core")
    from .db import schema_lock
    with transaction():
        schema_lock()  # server workers start together: one at a time
        fresh = not db.table_exists("core_user")
        db.create_tables(CORE_MODELS, safe=True)
        from .db import append_only
        append_only("core_audit_log")
        if fresh:
            runner.fake()
        else:
            runner.up()


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("timebank")
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(app, kernel: Kernel, names: list[str] | None):
    """Import enabled plugins in dependency order and register their hooks (dependencies answer first)."""
    from . import plugins as P
    available, problems = P.discover()
    if names is None:
        names = P.enabled_names()
    else:
        # an explicit list (tests, config): make the stored state match it
        P.enable(list(names))
        names = P.resolve_order(list(names), available)  # with the dependencies it pulled in
        current = P.enabled_names()
        extra = [n for n in current if n not in names]
        if extra:
            P.set_enabled(extra, False)
    for n in names:
        if n in problems:
            raise PluginError(problems[n])
        if n not in available:
            raise PluginError(f"enabled plugin {n!r} is not installed (pip install it, or "
                              f"`timebank plugins disable {n}`)")
    order = P.resolve_order(names, available)
    missing = [n for n in order if n not in names]
    if missing:
        raise PluginError(f"enabled plugins need {', '.join(missing)}, which are not enabled; "
                          f"run `timebank plugins enable {' '.join(missing)}`")
    modules = {n: P.import_plugin(available[n]) for n in order}
    # dependencies answer first; a misspelled hook name fails loudly, naming the plugin
    P.register_hooks(kernel.pm, modules, order)
    kernel.loaded = order
    kernel.plugins = {n: available[n] for n in order}
    # pending migrations of enabled plugins (e.g. after upgrading a plugin) are applied at start-up
    for n in order:
        P.migrate_plugin(available[n])


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app of one site. Raises ConfigError, DatabaseError or PluginError with a
    message naming the culprit; nothing is changed on the site when start-up fails."""
    cfg = load_config(config)
    inst = Path(cfg["INSTANCE_PATH"])
    inst.mkdir(parents=True, exist_ok=True)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = ensure_secret(inst, "secret_key")

    app = Flask(__name__, instance_path=str(inst), instance_relative_config=True)
    from .inputs import IdConverter
    app.url_map.converters["int"] = IdConverter  # NS2: /x/99999999999999999999 is a 404, not an overflow
    app.config.update(cfg)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="timebank_session",
        PERMANENT_SESSION_LIFETIME=_dt.timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]),
        # the cookie lives for the absolute lifetime set at login; idle time is enforced on the
        # server-side session row. Re-signing and re-sending it on every response cost ~9% of a page.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,
        FLASK_ADMIN_SWATCH="default",
        FLASK_ADMIN_FLUID_LAYOUT=True,
    )
    # a site served over HTTPS never sends its cookies over plain HTTP: Secure whenever the public
    # address is https, whatever SESSION_COOKIE_SECURE says (SECURITY.md AC4, issue 11 point 10)
    https = str(cfg.get("PUBLIC_URL") or "").lower().startswith("https://")
    secure = bool(cfg.get("SESSION_COOKIE_SECURE")) or https
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure,
                      REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")
    app.debug = cfg["DEBUG"]
    if cfg["TRUSTED_PROXIES"]:
        # behind N reverse proxies: the client's address and scheme from the last N X-Forwarded-For /
        # -Proto entries (login limits count the client, not the proxy: SECURITY.md NS4). Not the Host:
        # absolute links come from PUBLIC_URL only (NS3).
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = cfg["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)
    from .security import CookieSessionInterface
    app.session_interface = CookieSessionInterface()

    init_database(cfg["DATABASE_URL"])
    from .crypto import load_keyring
    load_keyring(inst)
    ensure_core_schema()

    kernel = Kernel()
    app.extensions["timebank"] = kernel
    kernel.pm = make_plugin_manager()
    from . import builtin_hooks
    kernel.pm.register(builtin_hooks, name="core")
    with app.app_context():
        load_plugins(app, kernel, cfg.get("PLUGINS"))
    from .plugins import generation
    kernel.generation = generation()
    pm = kernel.pm

    # models, permissions, roles, events, channels
    kernel.models = [m for group in pm.hook.register_models() for m in (group or [])]
    from .security import AccessRegistry
    kernel.access = AccessRegistry()
    for group in pm.hook.register_permissions():
        kernel.access.add_permissions(group)
    for group in pm.hook.register_roles():
        kernel.access.add_roles(group)
    kernel.events = [e for group in pm.hook.register_events() for e in (group or [])]
    kernel.channels = [c for group in pm.hook.register_message_channels(app=app) for c in (group or [])]

    # translations
    from .i18n import init_babel
    extra = [d for group in pm.hook.register_translations() for d in (group or [])]
    init_babel(app, extra)

    # security: CSRF everywhere (one mechanism), login manager over server-side sessions
    from flask_wtf.csrf import CSRFProtect
    csrf = CSRFProtect(app)
    from flask_login import LoginManager
    lm = LoginManager(app)
    lm.login_view = "site.login"
    lm.session_protection = None  # our server-side session rows do the job
    # Flask-Login hashes address and user agent on every request (and stores it in the cookie at
    # login) for its session protection, even when that is off, as here: skip the unused work.
    lm._session_identifier_generator = lambda: ""
    from flask_babel import lazy_gettext as _l
    lm.login_message = _l("Please log in to see this page.")

    @lm.request_loader
    def _load(_request):
        from .security import load_session_user
        return load_session_user()

    @lm.user_loader
    def _user_loader(_uid):  # sessions are resolved by request_loader; the cookie id is not trusted
        return None

    # pages
    from . import web
    app.register_blueprint(web.bp)
    csrf.exempt(web.set_language)  # checks the token itself for logged-in users
    for group in pm.hook.register_blueprints(app=app):
        for bp in group or []:
            app.register_blueprint(bp)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, web.error_page)
    from flask_wtf.csrf import CSRFError
    app.register_error_handler(CSRFError, web.error_page)
    import peewee
    app.register_error_handler(peewee.IntegrityError, web.integrity_error)  # 409, never a 500
    app.register_error_handler(web.PublicURLMissing, web.public_url_missing_page)
    app.after_request(web.security_headers)

    @app.before_request
    def _conn():
        from .db import ensure_connection
        ensure_connection()

    app.before_request(web.require_password_change)  # after the connection check: it reads the user

    from .i18n import LANGUAGE_NAMES, template_gettext
    languages = [(k, LANGUAGE_NAMES.get(k, k)) for k in app.config["LANGUAGES"]]
    app.jinja_env.globals["csrf_token"] = web.csrf_token  # Flask-WTF's, signed once per session token
    app.jinja_env.globals["csp_nonce"] = web.csp_nonce  # script nonces (SECURITY.md AC10)
    app.jinja_env.globals["page_header"] = web.page_header  # the layout's header, kept per what it shows
    app.jinja_env.filters["due_date"] = web.due_date  # a due date, marked provisional past the calendar
    from . import money
    app.jinja_env.filters["money"] = money.fmt  # fen → "¥12.30"; |money(style="yuan") → "12.30 元"
    if not app.url_map.host_matching and not app.subdomain_matching:
        app.jinja_env.globals["url_for"] = web.url_for_cached  # URLs are paths under the script root

    @app.context_processor
    def _ctx():
        from flask_login import current_user
        from flask_babel import get_locale
        locale = str(get_locale())
        return {"menu_items": lambda: web.menu_items(current_user._get_current_object(), locale),
                "languages": languages,
                "current_locale": locale,
                "csrf_token": web.csrf_token,  # over Flask-WTF's context processor
                **template_gettext()}

    # admin
    from .admin import build_admin
    with app.app_context():
        kernel.admin = build_admin(app, pm)

    # tasks
    from .tasks import Task, TaskQueue
    from . import messages
    kernel.tasks = TaskQueue(app)
    kernel.tasks.add(Task("core.deliver_message", messages.deliver_message))
    for group in pm.hook.register_tasks(queue=kernel.tasks):
        for t in group or []:
            kernel.tasks.add(t)

    # CLI commands from plugins
    pm.hook.register_commands(cli=app.cli)
    pm.hook.app_started(app=app)
    return app


class SiteApp:
    """WSGI entry point that rebuilds the Flask app when the stored plugin set changes, so enabling a
    plugin in the admin reaches every worker without a restart (Flask-Admin cannot add views to a
    running app). The check reads one row at most every PLUGIN_RELOAD_SECONDS."""

    def __init__(self, config: dict | None = None):
        self.config = config
        self.app = create_app(config)
        self._next_check = time.monotonic() + self.app.config["PLUGIN_RELOAD_SECONDS"]
        self._failures = 0
        self._lock = threading.Lock()

    def _maybe_reload(self):
        t = time.monotonic()
        if t < self._next_check:
            return
        with self._lock:
            if t < self._next_check:
                return
            every = self.app.config["PLUGIN_RELOAD_SECONDS"]
            self._next_check = t + every
            from .plugins import generation
            from .db import ensure_connection
            try:
                ensure_connection()
                gen = generation()
            except Exception:  # noqa: BLE001 - keep serving; retry later
                log.exception("plugin generation check failed")
                return
            if gen != self.app.extensions["timebank"].generation:
                try:
                    self.app = create_app(self.config)
                    self._failures = 0
                    log.info("plugins changed; site reloaded")
                except Exception:  # noqa: BLE001 - keep the previous app running
                    # try again later (the cause may pass: a lock, a restarting database), backing
                    # off so that a set that cannot load does not rebuild the app on every check
                    self._failures += 1
                    delay = min(60.0, max(every, 0.05) * 2 ** self._failures)
                    self._next_check = t + delay
                    log.exception("plugin reload failed; keeping the previous set, retrying in %.1f s",
                                  delay)

    def __call__(self, environ, start_response):
        self._maybe_reload()
        return self.app(environ, start_response)
