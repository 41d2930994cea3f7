"""THE public contract between the kernel and every plugin.

Each hook below is implemented in a plugin's ``__init__.py`` with ``@hookimpl`` (``from core import hookimpl``).
``register_*`` hooks return lists (or None) that the kernel concatenates. Hooks are called in dependency
order: a plugin's dependencies answer before it does. Every hook is documented in docs/plugins.md; a test
fails when one is missing there.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("timebank")
hookimpl = pluggy.HookimplMarker("timebank")


@hookspec
def register_models():
    """Called at start-up. Return a list of peewee model classes (subclasses of ``core.db.BaseModel``)
    that this plugin owns; their tables are created when the plugin is first enabled."""


@hookspec
def register_admin_views(admin):
    """Called while the admin is built. Return a list of Flask-Admin view instances (normally
    ``core.admin.SecureModelView`` subclasses) to add; ``admin`` is the ``flask_admin.Admin``."""


@hookspec
def register_blueprints(app):
    """Called at start-up. Return a list of Flask blueprints to register on ``app``."""


@hookspec
def register_commands(cli):
    """Called when the CLI is built. Add click commands or groups to ``cli`` (the ``timebank`` group)."""


@hookspec
def register_permissions():
    """Called at start-up. Return a list of ``core.security.Permission`` this plugin checks."""


@hookspec
def register_roles():
    """Called at start-up. Return a list of ``core.security.Role``; a role named like an existing one
    adds its permissions to that role (so plugins can grant their permissions to the core roles)."""


@hookspec
def register_menu(user):
    """Builds the site navigation. Return a list of ``core.web.MenuItem`` for ``user`` (which may be
    anonymous). The answer is cached per (logged in or not, the user's roles with their scopes,
    language) for the life of the app, so it must depend on nothing else about the user or the
    request; per-user visibility goes in ``MenuItem.permission``, which is checked on every page."""


@hookspec
def register_translations():
    """Called at start-up. Return a list of folders holding ``<locale>/LC_MESSAGES/messages.po``
    catalogs for this plugin (third-party plugins ship their own)."""


@hookspec
def register_tasks(queue):
    """Called when the task queue is built. Return a list of ``core.tasks.Task`` (deferred or periodic;
    a periodic task's ``crontab`` is in the site's timezone, Asia/Shanghai)."""


@hookspec
def register_events():
    """Called at start-up. Return a list of ``core.events.Event`` subclasses this plugin emits, so others
    can find them in the event catalogue."""


@hookspec
def register_message_channels(app):
    """Called at start-up. Return a list of ``core.messages.Channel`` instances (email, SMS, …)."""


@hookspec
def track_event(event):
    """Called after the transaction that emitted ``event`` (a ``core.events.Event``) commits. React to the
    domain events you care about; ignore the rest. Return value ignored."""


@hookspec
def dashboard_widgets(user):
    """Template slot on the admin dashboard. Return a list of ``core.web.Widget`` for ``user``."""


@hookspec
def home_sections(authenticated):
    """Template slot on the public home page (``/``). Return a list of ``core.web.HomeAction`` (a button
    in the page's opening: register, verify a certificate), ``core.web.HomeStat`` (a site total: a label
    and a number) or ``core.web.Widget`` (a block: upcoming activities, notices). ``authenticated`` says
    whether the visitor is logged in (offer registration only to those who are not). The page keeps the
    answers per (language, ``authenticated``) for ``HOME_CACHE_SECONDS``, so they must depend on nothing
    else: no per-user data here (that belongs in ``volunteer_panels``)."""


@hookspec
def validate_settings(plugin, values):
    """The plugin's own rules between its settings (``core.settings.change``): ``values`` are every
    setting of ``plugin`` as they would be after the change (typed). Return {key: message in the user's
    language} for what is wrong, or None. Implementations answer only for their own plugin name."""


@hookspec
def volunteer_panels(volunteer, user):
    """Template slot on a volunteer's page. Return a list of ``core.web.Widget`` describing
    ``volunteer`` as seen by ``user``."""


@hookspec
def permission_allowed(user, permission, obj):
    """Object-level decision. Return True to allow, False to deny, None to abstain. Any False denies;
    otherwise the user's roles decide. ``obj`` may be None (page-level check)."""


@hookspec
def scope_query(model, query, user, permission):
    """Row-level scoping. Return a peewee expression that limits ``query`` on ``model`` to the rows
    ``user`` may reach under ``permission``, or None to leave it. All returned expressions are ANDed.
    This one mechanism filters admin lists, details, edits, deletes, actions, exports, ajax lookups
    and relation pickers."""


@hookspec(firstresult=True)
def mask_value(model, field, value, user):
    """Return a masked string for a sensitive ``field`` value on ``model`` when ``user`` may not see it in
    full, or None to fall back to the default mask. The first non-None answer wins."""


@hookspec(firstresult=True)
def find_login_user(identifier):
    """Called at login when no account has ``identifier`` as its username (e.g. a volunteer logging in
    with a phone number). Return the ``core.models.User`` it names, or None. The first answer wins."""


@hookspec
def username_reserved(username):
    """Called whenever a person chooses a username (team registration, the admin's user form,
    ``timebank create-user``). Return a translated reason when ``username`` (already normalised) has
    the shape of an identifier this plugin hands out or resolves at login (a volunteer number, a mobile
    number), so that no chosen name can take or block one (SECURITY.md NS1); otherwise None. Any answer
    refuses the name."""


@hookspec
def load_reference_data():
    """Called once per plugin, right after its tables are first created: load reference data
    (categories, calendars…). Not called again on later enables or restarts."""


@hookspec
def load_demo_data(app):
    """Called by ``timebank init --demo`` / ``timebank demo`` once per site: add obviously fake demo rows."""


@hookspec
def site_checks():
    """Called by ``timebank restore`` and ``timebank check``. Return a list of (name, ok, message)
    tuples from integrity checks (e.g. the ledger balances)."""


@hookspec
def app_started(app):
    """Called at the end of ``create_app`` with the finished app. Return value ignored."""
