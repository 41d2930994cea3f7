"""Accounts, roles, permissions and object-level checks: one mechanism every plugin reuses.

- Permissions are names like ``core.plugins.manage``; roles bundle permissions (``*`` = all).
  Plugins add both through ``register_permissions`` / ``register_roles``.
- ``can(perm, obj)`` asks the roles, then every ``permission_allowed`` hook (any False denies).
- ``scoped(model, query, perm)`` ANDs every ``scope_query`` hook's expression: lists, details, edits,
  deletes, actions, exports, ajax lookups and relation pickers in the admin all go through it.
- Passwords: argon2id; common passwords refused; failed logins slowed down (exponential backoff, HTTP
  429, never a hard lock) per account and address, per address and per account, shared by all workers
  through the database; unknown accounts cost the same argon2 work as known ones; sessions are
  server-side rows so logout really ends them.
- ``limit_reveals(scope)``: public forms that must say "already registered" give each address a few
  such answers per window.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
import secrets
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path

import peewee as pw
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.exceptions import TooManyRequests
from flask_babel import lazy_gettext as _l

from .db import now, transaction
from .errors import FieldErrors

_ph = PasswordHasher()  # argon2id with the library's current recommended parameters

PLATFORM_ADMIN = "platform_admin"
TEAM_ADMIN = "team_admin"
VOLUNTEER = "volunteer"


@dataclass(frozen=True)
class Permission:
    name: str
    title: object = ""
    description: object = ""


@dataclass
class Role:
    name: str
    title: object = ""
    permissions: list = field(default_factory=list)
    scoped: bool = False  # held per scope (e.g. per team) rather than site-wide


CRUD_ACTIONS = ("view", "create", "edit", "delete", "export")


def crud_permissions(name: str, noun, actions=CRUD_ACTIONS) -> list[Permission]:
    """The standard permissions of one model in one line (issue 12 point 3):
    ``crud_permissions("funding.application", _l("funding applications"))`` gives
    ``funding.application.view|create|edit|delete|export`` titled 查看/新建/编辑/删除/导出 + the noun (in the
    reader's language: the titles are lazy Babel strings). ``actions`` picks a subset, in that order;
    these are the names ``SecureModelView`` asks for (``<permission>.<action>``)."""
    titles = {"view": lambda: _l("View %(noun)s", noun=noun),
              "create": lambda: _l("Create %(noun)s", noun=noun),
              "edit": lambda: _l("Edit %(noun)s", noun=noun),
              "delete": lambda: _l("Delete %(noun)s", noun=noun),
              "export": lambda: _l("Export %(noun)s", noun=noun)}
    unknown = [a for a in actions if a not in titles]
    if unknown:
        raise ValueError(f"crud_permissions: unknown action(s) {unknown}; use {list(CRUD_ACTIONS)}")
    return [Permission(f"{name}.{a}", titles[a]()) for a in actions]


CORE_PERMISSIONS = [
    Permission("core.admin.access", _l("Open the admin")),
    Permission("core.plugins.manage", _l("Manage plugins")),
    Permission("core.settings.manage", _l("Change settings")),
    Permission("core.users.manage", _l("Manage user accounts")),
    Permission("core.audit.view", _l("View the audit log")),
    Permission("core.messages.send", _l("Send messages to users")),
    Permission("core.calendar.manage", _l("Manage the working-day calendar")),
]

CORE_ROLES = [
    Role(PLATFORM_ADMIN, _l("Platform admin"), ["*"]),
    Role(TEAM_ADMIN, _l("Team admin"), ["core.admin.access"], scoped=True),
    Role(VOLUNTEER, _l("Volunteer"), []),
]


class AccessRegistry:
    """Permissions and roles of this app, merged from the kernel and the enabled plugins."""

    def __init__(self):
        self.permissions: dict[str, Permission] = {}
        self.roles: dict[str, Role] = {}

    def add_permissions(self, perms):
        for p in perms or []:
            self.permissions[p.name] = p

    def add_roles(self, roles):
        for r in roles or []:
            if r.name in self.roles:
                have = self.roles[r.name]
                have.permissions = list(dict.fromkeys(have.permissions + list(r.permissions)))
                # role-merge: plugins answer before the kernel, so a plugin's Role("team_admin", …)
                # may arrive first; the kernel's scoped=True and title must still win (else every
                # team admin would count as site-wide)
                have.scoped = have.scoped or r.scoped
                have.title = have.title or r.title
            else:
                self.roles[r.name] = Role(r.name, r.title, list(r.permissions), r.scoped)

    def role_grants(self, role: str, perm: str) -> bool:
        r = self.roles.get(role)
        if not r:
            return False
        if "*" in r.permissions or perm in r.permissions:
            return True
        # "plugin.thing.*" style wildcards
        return any(p.endswith(".*") and perm.startswith(p[:-1]) for p in r.permissions)


def registry() -> AccessRegistry:
    return current_app.extensions["timebank"].access


# ---------------------------------------------------------------- passwords
_COMMON: set[str] | None = None


def _common_passwords() -> set[str]:
    global _COMMON
    if _COMMON is None:
        f = Path(__file__).with_name("common_passwords.txt")
        _COMMON = {line.strip().lower() for line in f.read_text().splitlines() if line.strip()}
    return _COMMON


def password_problem(password: str, username: str = "") -> str | None:
    """Return a translated reason the password is unacceptable, or None (AC1: length, not common)."""
    from flask_babel import gettext as _
    if len(password) < 8:
        return _("The password must have at least 8 characters.")
    if len(password) > 128:
        return _("The password must have at most 128 characters.")
    low = password.lower()
    if low in _common_passwords() or (username and low == username.lower()) or len(set(password)) < 3:
        return _("This password is too common or too easy to guess; choose another.")
    return None


def hash_password(password: str) -> str:
    return _ph.hash(password)


def verify_password(user, password: str) -> bool:
    try:
        ok = _ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _ph.check_needs_rehash(user.password_hash):
        user.password_hash = _ph.hash(password)
        user.save(only=[type(user).password_hash])
    return ok


def set_password(user, password: str, *, force_change: bool = False):
    """Set a new password and revoke every open session of the user (AC4)."""
    from .models import LoginSession
    with transaction():
        user.password_hash = hash_password(password)
        user.must_change_password = force_change
        user.password_changed_at = now()
        user.save()
        LoginSession.update(revoked_at=now()).where(
            (LoginSession.user == user) & LoginSession.revoked_at.is_null()).execute()


# ---------------------------------------------------------------- usernames
class UsernameError(FieldErrors):
    """``{"username": translated reason}``; no account was created or renamed."""


USERNAME_TAKEN = _l("This username is taken.")


def clean_username(username) -> str:
    """A username a person chose, normalised (NFKC, ASCII digits, trimmed) and checked: 1–64
    characters, no spaces or control characters, and not of a shape a plugin reserves for the
    identifiers the system hands out or resolves at login (``username_reserved`` hook; SECURITY.md
    NS1). Returns the name to store, or raises ``UsernameError``."""
    import unicodedata
    from .inputs import normalize
    name = normalize(username)
    if not name:
        raise UsernameError({"username": _l("This field is required.")})
    if len(name) > 64:
        raise UsernameError({"username": _l("At most %(n)s characters.", n=64)})
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name):
        raise UsernameError({"username": _l("A username cannot contain spaces or control characters.")})
    reasons = [r for r in current_app.extensions["timebank"].pm.hook.username_reserved(username=name) if r]
    if reasons:
        raise UsernameError({"username": reasons[0]})
    return name


def username_problem(username) -> str | None:
    """The translated reason ``username`` cannot be chosen (shape only, not whether it is taken), or None."""
    try:
        clean_username(username)
    except UsernameError as e:
        return str(e.errors["username"])
    return None


def create_user(username, *, password: str | None = None, system: bool = False, **fields):
    """The one way an account is created (team registration, the admin's form, the CLI, volunteer
    registration). A chosen name goes through ``clean_username``; ``system=True`` is for an identifier
    the calling plugin hands out itself (a volunteer number), which is exactly what the reserved shapes
    keep for it. A taken name, also one taken by a concurrent request (the unique index, in a savepoint
    so PostgreSQL can go on), raises ``UsernameError``; nothing is written then. Without a password the
    account gets an unusable random one."""
    from .inputs import normalize
    from .models import User
    name = normalize(username) if system else clean_username(username)
    if not name:
        raise UsernameError({"username": _l("This field is required.")})
    with transaction():
        if User.select().where(User.username == name).exists():
            raise UsernameError({"username": USERNAME_TAKEN})
        try:
            with transaction():
                return User.create(username=name,
                                   password_hash=hash_password(password or secrets.token_urlsafe(24)),
                                   **fields)
        except pw.IntegrityError:
            raise UsernameError({"username": USERNAME_TAKEN}) from None


# ---------------------------------------------------------------- roles of a user
def user_roles(user) -> list[tuple[str, str]]:
    """[(role, scope)] of a user, cached on ``g`` for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cache = g.setdefault("_tb_roles", {})
    if user.id not in cache:
        from .models import UserRole
        cache[user.id] = [(r.role, r.scope) for r in UserRole.select().where(UserRole.user == user.id)]
    return cache[user.id]


def role_scopes(user, role: str) -> list[str]:
    """Scopes in which ``user`` holds ``role`` (``""`` for a site-wide role)."""
    return [s for r, s in user_roles(user) if r == role]


def has_role(user, role: str) -> bool:
    return any(r == role for r, _ in user_roles(user))


def grant_role(user, role: str, scope: str = ""):
    from .models import UserRole
    UserRole.get_or_create(user=user, role=role, scope=scope)
    g.pop("_tb_roles", None) if _has_g() else None


def _has_g():
    try:
        g._get_current_object()
        return True
    except RuntimeError:
        return False


def current_user_obj():
    from flask_login import current_user
    u = current_user._get_current_object() if current_user else None
    return u if u is not None and u.is_authenticated else None


def role_allows(user, perm: str) -> bool:
    reg = registry()
    return any(reg.role_grants(r, perm) for r, _ in user_roles(user))


def can(perm: str, obj=None, user=None) -> bool:
    """May ``user`` (default: the current user) do ``perm`` (on ``obj``)? Roles, then object hooks."""
    user = user if user is not None else current_user_obj()
    if user is None or not user.is_active:
        return False
    if not role_allows(user, perm):
        return False
    pm = current_app.extensions["timebank"].pm
    if obj is None:  # a page-level check: only the implementations that judge without an object
        args = {"user": user, "permission": perm, "obj": None}
        return all(fn(*[args[a] for a in names]) is not False for fn, names in _page_permission_impls(pm))
    answers = pm.hook.permission_allowed(user=user, permission=perm, obj=obj)
    return False not in answers


def _page_permission_impls(pm) -> list:
    """The ``permission_allowed`` implementations that may answer a page-level check (``obj`` None), as
    (function, argument names), kept on the plugin manager (a changed plugin set builds a new one). An
    implementation marked ``object_only = True`` (``team_scoped``'s: they abstain without an object) is
    left out, so each page's menu and link checks do not call one hook per team-scoped plugin (the kernel
    page's cost per request stays flat as plugins are added; bench/README.md, session 6)."""
    hooks = pm.hook.permission_allowed.get_hookimpls()
    kept = getattr(pm, "_tb_page_permission_impls", None)
    if kept is not None and kept[0] == [id(h) for h in hooks]:
        return kept[1]
    # (re)built when a plugin registers or unregisters an implementation
    if any(h.hookwrapper or getattr(h, "wrapper", False) for h in hooks):
        impls = [(lambda user, permission, obj: False if False in pm.hook.permission_allowed(
            user=user, permission=permission, obj=obj) else None, ("user", "permission", "obj"))]
    else:
        impls = [(h.function, tuple(h.argnames)) for h in reversed(hooks)
                 if not getattr(h.function, "object_only", False)]
    pm._tb_page_permission_impls = ([id(h) for h in hooks], impls)
    return impls


def require(perm: str, obj=None):
    """Abort with 403 (and audit the refusal) unless the current user may ``perm`` on ``obj``."""
    if not can(perm, obj):
        from . import audit
        audit.log("access.denied", obj, {"permission": perm, "path": request.path})
        abort(403)


def permission_required(perm: str):
    def deco(fn):
        @wraps(fn)
        def inner(*a, **kw):
            from flask_login import current_user
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            require(perm)
            return fn(*a, **kw)
        return inner
    return deco


def scoped(model, query, perm: str, user=None):
    """Limit ``query`` on ``model`` to the rows ``user`` may reach under ``perm`` (row-level scoping)."""
    user = user if user is not None else current_user_obj()
    if user is None:
        return query.where(False)
    exprs = current_app.extensions["timebank"].pm.hook.scope_query(
        model=model, query=query, user=user, permission=perm)
    for e in exprs:
        if e is not None:
            query = query.where(e)
    return query


# ---------------------------------------------------------------- throttling (AC2, NS4)
# Policy (README "Login limits"). Failures are rows of ``core_login_failure`` shared by every
# worker through the database. Nothing is ever hard-locked: once a counter reaches its limit within
# LOGIN_WINDOW_MINUTES, each further attempt must wait LOGIN_BACKOFF_SECONDS · 2^(failures − limit)
# seconds (at most LOGIN_BACKOFF_MAX_SECONDS) after the last failure, and is answered with HTTP 429 and
# "try again in N seconds" until then. The counters of a login attempt:
#
# - ``pair:<account>|<address>`` — one account from one address (LOGIN_MAX_FAILURES): slows a guesser
#   without touching the owner on another address;
# - ``ip:<address>`` — every failure from one address (LOGIN_MAX_FAILURES_PER_IP): slows spraying;
# - ``user:<account>`` — one account from every address (LOGIN_MAX_FAILURES_PER_ACCOUNT, looser):
#   slows a guesser spread over many addresses.
#
# The address and all-address limits do not apply from an address the account has logged in from
# before (the owner's usual path). ``<account>`` is the user's id whatever the person typed (username,
# volunteer number, mobile number all count as one account); an identifier that names no account is
# counted under its normalised, redacted form (the same number in any spelling counts together).
# Behind a reverse proxy the address is the client's, read by ProxyFix (TRUSTED_PROXIES).
# Unknown and known accounts cost the same: a password is always checked against an argon2 hash, a
# dummy one when there is no account (``check_login``).
def _window():
    return _dt.timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def client_ip() -> str:
    """The client's address: ``request.remote_addr``, which ProxyFix has already taken from
    X-Forwarded-For when TRUSTED_PROXIES is set (and only then: the header is not trusted otherwise)."""
    return (request.remote_addr or "")[:64]


class Throttled(TooManyRequests):
    """HTTP 429 with the wait in the user's language and a ``Retry-After`` header."""

    def __init__(self, seconds: int):
        self.seconds = max(1, int(seconds))
        super().__init__(description=throttled_message(self.seconds),
                         retry_after=self.seconds)


def throttled_message(seconds: int) -> str:
    from flask_babel import gettext as _
    return _("Too many attempts. Try again in %(seconds)s seconds.", seconds=max(1, int(seconds)))


def _stats(keys, since) -> dict:
    """{key: (count, last)} of the failures of ``keys`` since ``since`` (one query)."""
    from .models import LoginFailure
    if not keys:
        return {}
    q = (LoginFailure.select(LoginFailure.key, pw.fn.COUNT(LoginFailure.id), pw.fn.MAX(LoginFailure.at))
         .where(LoginFailure.key.in_(list(keys)) & (LoginFailure.at >= since))
         .group_by(LoginFailure.key).tuples())
    # MAX(at) is not typed by peewee: convert it like the column (text on SQLite)
    return {key: (n, LoginFailure.at.python_value(last)) for key, n, last in q}


def backoff_wait(key: str, limit: int, stats: dict | None = None, t=None) -> int:
    """Seconds an attempt on ``key`` must still wait (0: go ahead) under the backoff policy above."""
    cfg = current_app.config
    t = t or now()
    if stats is None:
        stats = _stats([key], t - _window())
    n, last = stats.get(key, (0, None))
    if n < limit or last is None:
        return 0
    delay = min(cfg["LOGIN_BACKOFF_MAX_SECONDS"], cfg["LOGIN_BACKOFF_SECONDS"] * 2 ** min(n - limit, 30))
    left = (last + _dt.timedelta(seconds=delay) - t).total_seconds()
    return max(0, math.ceil(left))


def _record(keys):
    from .models import LoginFailure
    t = now()
    with transaction():
        LoginFailure.insert_many([{"key": k[:200], "at": t} for k in keys]).execute()
        keep = max(current_app.config["LOGIN_WINDOW_MINUTES"], current_app.config["REVEAL_WINDOW_MINUTES"])
        LoginFailure.delete().where(LoginFailure.at < t - _dt.timedelta(minutes=4 * keep)).execute()


@dataclass
class LoginAttempt:
    """The counters of one login attempt (see the policy above)."""
    account: str              # "<user id>" or "n:<normalised, redacted identifier>"
    address: str
    usual_path: bool = False  # the account has logged in from this address before

    @property
    def keys(self):
        pair = f"pair:{self.account}|{self.address}"
        return pair, f"ip:{self.address}", f"user:{self.account}"

    def wait(self) -> int:
        cfg = current_app.config
        t = now()
        pair, ip, user = self.keys
        stats = _stats(self.keys, t - _window())
        waits = [backoff_wait(pair, cfg["LOGIN_MAX_FAILURES"], stats, t)]
        if not self.usual_path:
            waits += [backoff_wait(ip, cfg["LOGIN_MAX_FAILURES_PER_IP"], stats, t),
                      backoff_wait(user, cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"], stats, t)]
        return max(waits)

    def failed(self):
        _record(self.keys)

    def succeeded(self):
        """The owner is in: their own path starts afresh (the other counters keep slowing a guesser)."""
        from .models import LoginFailure
        LoginFailure.delete().where(LoginFailure.key == self.keys[0]).execute()


def login_attempt(identifier: str, user=None) -> LoginAttempt:
    """The counters for a login as ``identifier`` resolved to ``user`` (None: no such account)."""
    from .inputs import normalize
    from .models import LoginSession
    from .pii import redact_identifier
    addr = client_ip()
    # the same query for an unknown name (user id 0: no row), so that it costs what a known one costs
    usual = LoginSession.select().where((LoginSession.user == (user.id if user is not None else 0)) &
                                        (LoginSession.ip == addr)).exists()
    if user is not None:
        return LoginAttempt(str(user.id), addr, usual)
    return LoginAttempt("n:" + redact_identifier(normalize(identifier).lower())[:120], addr)


_DUMMY_HASH: dict = {}


def dummy_hash() -> str:
    """An argon2 hash of a random password, made with the current parameters (``_ph``): what a login
    for an unknown account is checked against, so that it costs what a known one costs (NS4)."""
    key = (_ph.time_cost, _ph.memory_cost, _ph.parallelism)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = _ph.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


def check_login(user, password: str) -> bool:
    """The password check of a login: the same argon2 work whether ``user`` exists, is inactive or is
    None (a dummy hash is verified then). True only for an active user with the right password."""
    if user is None:
        try:
            _ph.verify(dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    return verify_password(user, password) and bool(user.is_active)


# -------- kept for the volunteers plugin's account claim (``services.claim_account``): the same backoff
def login_blocked(username: str) -> bool:
    cfg = current_app.config
    user, ip = "user:" + username.lower()[:190], "ip:" + client_ip()
    t = now()
    stats = _stats([user, ip], t - _window())
    return bool(backoff_wait(user, cfg["LOGIN_MAX_FAILURES"], stats, t) or
                backoff_wait(ip, cfg["LOGIN_MAX_FAILURES_PER_IP"], stats, t))


def record_failure(username: str):
    _record(["user:" + username.lower()[:190], "ip:" + client_ip()])


def clear_failures(username: str):
    from .models import LoginFailure
    LoginFailure.delete().where(LoginFailure.key == "user:" + username.lower()[:190]).execute()


# -------- limits on answers that must reveal something ("this ID number is already registered")
def limit_reveals(scope: str, *, revealed: bool = False):
    """A public form that must tell a visitor that something exists (an ID number already registered,
    a username taken) gives one client address at most REVEAL_MAX_PER_IP such answers per
    REVEAL_WINDOW_MINUTES, shared by all workers (NS4).

    Call it before the form is processed (``revealed=False``): raises ``Throttled`` (HTTP 429, "try
    again in N seconds") once the address has had its share, whatever it submits, so the refusal
    itself reveals nothing. Call it again with ``revealed=True`` when the answer revealed something."""
    from .models import LoginFailure
    cfg = current_app.config
    key = f"reveal:{scope}:{client_ip()}"
    if revealed:
        _record([key])
        return
    limit = cfg["REVEAL_MAX_PER_IP"]
    window = _dt.timedelta(minutes=cfg["REVEAL_WINDOW_MINUTES"])
    t = now()
    oldest = (LoginFailure.select(LoginFailure.at)
              .where((LoginFailure.key == key) & (LoginFailure.at >= t - window))
              .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1).scalar())
    if oldest is not None:  # the limit-th newest answer is inside the window
        oldest = LoginFailure.at.python_value(oldest)
        raise Throttled(math.ceil((oldest + window - t).total_seconds()))


# ---------------------------------------------------------------- sessions
def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user):
    """A fresh server-side session at login (AC4): the old cookie content is dropped."""
    from .models import LoginSession
    session.clear()
    token = secrets.token_urlsafe(32)
    LoginSession.create(token_hash=_hash_token(token), user=user, ip=client_ip(),
                        user_agent=(request.user_agent.string or "")[:255])
    session["sid"] = token
    session.permanent = True
    user.last_login_at = now()
    user.save(only=[type(user).last_login_at])


def log_in(user, *, action: str = "login.success"):
    """Log ``user`` in for this request with a fresh server-side session (AC4), audited as ``action``: for
    a plugin that has just verified who the person is — a volunteer who registered with the password they
    chose is logged in at once instead of being sent to the login page (issue 18 point 4)."""
    from flask_login import login_user
    from . import audit
    start_session(user)
    login_user(user)
    audit.log(action, user, user=user)


def end_session():
    from .models import LoginSession
    token = session.get("sid")
    if token:
        LoginSession.update(revoked_at=now()).where(
            LoginSession.token_hash == _hash_token(token)).execute()
    session.clear()


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the contents of cookies already verified kept per app.

    A logged-in user's browser sends the same cookie on every request; checking its signature and
    decoding its compressed, tagged JSON cost ~10% of a page (bench/README.md). The cache is keyed by
    the whole cookie string, holds only cookies whose values are all immutable scalars (so a request
    cannot change the cached copy: flash messages, which are lists, are never cached), and honours
    the cookie's own expiry. Whether the login is still valid is not cached: ``load_session_user``
    checks the server-side session row on every request, so logout, password change and deactivation
    end a session in every worker at once."""

    CACHE_SIZE = 4096
    _SCALARS = (str, int, float, bool, type(None))

    def __init__(self):
        self._cache: dict = {}

    def open_session(self, app, request):
        import time as _time
        val = request.cookies.get(self.get_cookie_name(app))
        if not val or not app.secret_key:
            return super().open_session(app, request)
        hit = self._cache.get(val)
        if hit is not None:
            data, not_before, expires = hit
            if not_before <= _time.time() <= expires:
                return self.session_class(data)
            self._cache.pop(val, None)
        s = self.get_signing_serializer(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, self._SCALARS) for v in data.values()):
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.clear()
            t = signed_at.timestamp()
            self._cache[val] = (dict(data), t, t + max_age)
        return self.session_class(data)


_SESSION_SQL: dict = {}


def _session_query():
    """One statement for a logged-in request: the session row, its user and the user's roles.

    Built with peewee once per database kind and kept as SQL text: building a join with peewee's
    query builder costs ~0.3 ms, far more than running it, and this runs on every request of a
    logged-in user (bench/kernel_page.py). Returns (sql, session fields, user fields)."""
    from .db import db
    from .models import LoginSession, User, UserRole
    key = (type(db.obj), db.obj.param)
    if key not in _SESSION_SQL:
        s_fields = [LoginSession.id, LoginSession.created_at, LoginSession.last_seen_at,
                    LoginSession.revoked_at]
        u_fields = list(User._meta.sorted_fields)
        marker = "\x00token"
        q = (LoginSession.select(*s_fields, *u_fields, UserRole.role, UserRole.scope)
             .join(User)
             .join(UserRole, pw.JOIN.LEFT_OUTER, on=(UserRole.user == User.id))
             .where(LoginSession.token_hash == marker))
        sql, params = q.sql()
        assert params == [marker], params
        _SESSION_SQL[key] = (sql, s_fields, u_fields)
    return _SESSION_SQL[key]


def _fetch_session(token_hash: str):
    """(session values, user, roles) of a token, or None. The roles seed ``user_roles``' cache."""
    from .db import db
    from .models import User
    sql, s_fields, u_fields = _session_query()
    rows = db.execute_sql(sql, (token_hash,)).fetchall()
    if not rows:
        return None
    first = rows[0]
    ns = len(s_fields)
    sess = {f.name: f.python_value(v) for f, v in zip(s_fields, first[:ns])}
    user = User(__no_default__=1, **{f.name: f.python_value(v)
                                     for f, v in zip(u_fields, first[ns:ns + len(u_fields)])})
    user._dirty.clear()
    roles = [(r[-2], r[-1]) for r in rows if r[-2] is not None]
    return sess, user, roles


def load_session_user():
    """Return the user of a live session, or None (revoked, timed out, deactivated, unknown)."""
    from types import SimpleNamespace
    from .models import LoginSession
    token = session.get("sid")
    if not token:
        return None
    found = _fetch_session(_hash_token(token))
    if found is None or found[0]["revoked_at"] is not None or not found[1].is_active:
        session.clear()
        return None
    row = SimpleNamespace(**found[0], user=found[1])
    g.setdefault("_tb_roles", {})[row.user.id] = found[2]
    t = now()
    cfg = current_app.config
    if (t - row.last_seen_at > _dt.timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]) or
            t - row.created_at > _dt.timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])):
        LoginSession.update(revoked_at=t).where(LoginSession.id == row.id).execute()
        session.clear()
        return None
    if t - row.last_seen_at > _dt.timedelta(minutes=1):
        LoginSession.update(last_seen_at=t).where(LoginSession.id == row.id).execute()
    return row.user
