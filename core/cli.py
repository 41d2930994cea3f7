"""The ``timebank`` command. Core commands work even when a plugin is broken; plugins add their own
through ``register_commands``."""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, shell_command

from . import ConfigError, DatabaseError, PluginError, create_app
from .config import instance_path
from .web import INITIAL_ADMIN_PASSWORD_FILE

FAILURES = (ConfigError, DatabaseError, PluginError)


def _cli_app():
    """The app Flask's CLI machinery loads (plugin commands, ``timebank shell``): a start-up failure is
    one red line, not a traceback."""
    try:
        return create_app()
    except FAILURES as e:
        fail(str(e))


def fail(msg: str):
    """Print one red line naming the culprit and exit 1 (driver messages can span lines: join them)."""
    click.secho(f"错误 / Error: {' '.join(str(msg).split())}", fg="red", err=True)
    sys.exit(1)


def kernel_app(**overrides):
    """Build the site's app for a core command; report start-up failures as one clear line."""
    try:
        return create_app(overrides or None)
    except FAILURES as e:
        fail(str(e))


@click.group(cls=FlaskGroup, create_app=_cli_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main():
    """社区党员志愿服务 · 时间银行 — Time Bank community volunteer service."""


main.add_command(shell_command)


# ------------------------------------------------------------------ site set-up
ADMIN_PASSWORD_FILE = INITIAL_ADMIN_PASSWORD_FILE  # deleted by the password change page once used


DEMO_PUBLIC_URL = "http://127.0.0.1:5000"


def served_address(host: str, port: int) -> str:
    """The address a browser on this machine reaches ``timebank demo --host --port`` at."""
    h = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
    if ":" in h and not h.startswith("["):
        h = f"[{h}]"
    return f"http://{h}:{port}"


def ensure_public_url(inst: Path, url: str) -> str:
    """The site's configured PUBLIC_URL; when there is none (neither config.toml nor
    TIMEBANK_PUBLIC_URL), ``url`` is written into ``instance/config.toml`` and returned. Only the demo
    does this: certificates and check-in codes print absolute addresses from the configuration only,
    never from a request's Host header (SECURITY.md NS3, issue 11 point 8)."""
    from .config import load_config
    try:
        configured = load_config({"INSTANCE_PATH": str(inst)}).get("PUBLIC_URL") or ""
    except ConfigError as e:
        fail(str(e))
    if configured:
        return configured
    cfg = inst / "config.toml"
    text = cfg.read_text(encoding="utf-8") if cfg.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += f"# written by `timebank demo` / `timebank init --demo`: the address printed in QR codes\n" \
            f"public_url = {json.dumps(url)}\n"
    cfg.write_text(text, encoding="utf-8")
    return url


def init_site(demo: bool = False, public_url: str | None = None) -> dict:
    """Create or keep the site: schema, default plugins, the platform admin, and demo data once. A demo
    site gets a PUBLIC_URL (``public_url``, by default http://127.0.0.1:5000) unless one is configured."""
    from . import plugins as P
    from .db import transaction
    from .models import PluginState, User
    from .security import PLATFORM_ADMIN, grant_role, hash_password

    inst = instance_path()
    inst.mkdir(parents=True, exist_ok=True)
    info = {"instance": str(inst), "created": False, "password": None, "public_url": None}
    if demo:
        info["public_url"] = ensure_public_url(inst, public_url or DEMO_PUBLIC_URL)
    app = kernel_app()
    with app.app_context():
        first = not P.enabled_names() and not PluginState.select().exists()
        if first:
            available, problems = P.discover()
            defaults = [n for n, i in available.items() if i.default_enabled]
            if defaults:
                try:
                    P.enable(defaults)
                except PluginError as e:
                    fail(str(e))
        admin = User.get_or_none(User.username == "admin")
        pw_file = inst / ADMIN_PASSWORD_FILE
        if admin is None:
            password = secrets.token_urlsafe(12)
            with transaction():
                # the generated password must be replaced at the first login (AC3, issue 11 point 10)
                admin = User.create(username="admin", display_name="平台管理员",
                                    password_hash=hash_password(password), must_change_password=True)
                grant_role(admin, PLATFORM_ADMIN)
            import os
            fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
            info["created"] = True
        if pw_file.exists():
            from .security import verify_password
            pw = pw_file.read_text().strip()
            if verify_password(admin, pw):
                info["password"] = pw
                if not admin.must_change_password:  # a site set up before the flag existed
                    User.update(must_change_password=True).where(User.id == admin.id).execute()
            else:
                pw_file.unlink()
    if demo:
        app = kernel_app()  # with the plugins just enabled
        with app.app_context():
            load_demo(app)
    return info


def load_demo(app):
    from .db import transaction
    from .models import PluginState, User
    from .security import TEAM_ADMIN, VOLUNTEER, grant_role, hash_password
    kernel = app.extensions["timebank"]
    core_state, _ = PluginState.get_or_create(name="core")
    if not core_state.demo_loaded:
        with transaction():
            for name, display, role, scope in [("demo_team_admin", "示例团队管理员", TEAM_ADMIN, ""),
                                               ("demo_volunteer", "示例志愿者", VOLUNTEER, "")]:
                if not User.select().where(User.username == name).exists():
                    u = User.create(username=name, display_name=display,
                                    password_hash=hash_password(secrets.token_urlsafe(16)))
                    grant_role(u, role, scope)
            PluginState.update(demo_loaded=True).where(PluginState.name == "core").execute()
    for name in kernel.loaded:
        st, _ = PluginState.get_or_create(name=name)
        if st.demo_loaded:
            continue
        mod = kernel.pm.get_plugin(name)
        fn = getattr(mod, "load_demo_data", None)
        if fn is not None and hasattr(fn, "timebank_impl"):
            with transaction():
                fn(app=app)
                PluginState.update(demo_loaded=True).where(PluginState.name == name).execute()


def print_login(info, host=None, port=None):
    click.echo(f"实例目录 / instance: {info['instance']}")
    if info.get("public_url"):
        click.echo(f"公网地址 / public URL (public_url): {info['public_url']}")
    if host:
        click.echo(f"地址 / URL: http://{host}:{port}/login")
    if info["password"]:
        click.secho(f"管理员 / admin login: admin / {info['password']}", fg="green")
        click.echo("  首次登录时必须修改此密码 / you must change it at the first login.")
    else:
        click.echo("管理员 / admin login: admin (password already changed; reset with "
                   "`timebank set-password admin`)")


@main.command("init")
@click.option("--demo", is_flag=True, help="Also load demo data.")
def init_cmd(demo):
    """Create the instance folder, database, secret key, default plugins and the admin (keeps an
    existing site)."""
    info = init_site(demo)
    click.echo("站点已创建 / site created" if info["created"] else "站点已存在，保持不变 / site kept")
    print_login(info)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_cmd(host, port):
    """Set up the site with demo data and serve it (its address becomes the site's PUBLIC_URL unless
    one is configured)."""
    info = init_site(demo=True, public_url=served_address(host, port))
    print_login(info, host, port)
    run_server(host, port, workers=1, threads=8)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve_cmd(host, port, workers, threads):
    """Serve the site with gunicorn (production WSGI server)."""
    kernel_app()  # fail fast with a clear message before forking workers
    run_server(host, port, workers, threads)


def run_server(host, port, workers, threads, config=None):
    from gunicorn.app.base import BaseApplication

    from . import SiteApp
    from .db import db

    # the set-up above ran in this (master) process: close its connection before gunicorn forks, so no
    # worker inherits it; each worker opens and keeps its own
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()
    sys.stdout.flush()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)
            if "control_socket" in self.cfg.settings:  # gunicorn ≥ 25.1: one control socket per site,
                ctl = instance_path((config or {}).get("INSTANCE_PATH")) / "gunicorn.ctl"  # not one per
                # user that two servers fight over
                if len(str(ctl)) < 100:  # AF_UNIX path limit
                    self.cfg.set("control_socket", str(ctl))
                else:
                    self.cfg.set("control_socket_disable", True)

        def load(self):
            return SiteApp(config)

    Server().run()


@main.command("migrate", with_appcontext=False)
def migrate_cmd():
    """Apply pending migrations of the kernel and every enabled plugin, dependencies first."""
    from . import plugins as P
    app = _state_app()  # applies the kernel's own migrations; plugins' code is not needed
    with app.app_context():
        available, problems = P.discover()
        enabled = P.enabled_names()
        for name in enabled:
            if name in problems:
                fail(problems[name])
            if name not in available:
                fail(f"enabled plugin {name!r} is not installed (pip install it, or "
                     f"`timebank plugins disable {name}`)")
        try:
            for name in P.resolve_order(enabled, available):
                ran = P.migrate_plugin(available[name])
                click.echo(f"{name}: {'applied ' + ', '.join(ran) if ran else 'up to date'}")
        except PluginError as e:
            fail(str(e))


@main.command("set-password")
@click.argument("username")
@click.password_option()
def set_password_cmd(username, password):
    """Set a user's password (revokes their sessions)."""
    from . import audit
    from .models import User
    from .security import password_problem, set_password
    app = kernel_app()
    with app.test_request_context():
        user = User.get_or_none(User.username == username)
        if user is None:
            fail(f"no user named {username!r}")
        problem = password_problem(password, username)
        if problem:
            fail(problem)
        set_password(user, password)
        audit.log("password.set_by_cli", user)
    pw_file = instance_path() / ADMIN_PASSWORD_FILE
    if username == "admin" and pw_file.exists():
        pw_file.unlink()
    click.echo("ok")


@main.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, default=["volunteer"], show_default=True)
@click.option("--scope", default="", help="scope of the roles, e.g. team:3")
@click.option("--email", default="")
@click.password_option()
def create_user_cmd(username, roles, scope, email, password):
    """Create a user with roles."""
    from . import audit
    from .db import transaction
    from .models import User
    from .security import UsernameError, clean_username, create_user, grant_role, password_problem, registry
    app = kernel_app()
    with app.test_request_context():
        unknown = [r for r in roles if r not in registry().roles]
        if unknown:
            fail(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(registry().roles)}")
        try:  # the same rules as every other place a name is chosen (NS1)
            username = clean_username(username)
        except UsernameError as e:
            fail(str(e.errors["username"]))
        if User.select().where(User.username == username).exists():
            fail(f"user {username!r} exists")
        problem = password_problem(password, username)
        if problem:
            fail(problem)
        with transaction():
            try:
                u = create_user(username, password=password, email=email)
            except UsernameError as e:
                fail(str(e.errors["username"]))
            for r in roles:
                grant_role(u, r, scope)
            audit.log("user.created", u, {"roles": list(roles)})
    click.echo("ok")


@main.command("worker")
@click.option("--workers", default=2, show_default=True, type=int)
def worker_cmd(workers):
    """Run the task queue consumer (deferred and scheduled work). When plugins are enabled or
    disabled, it finishes the tasks at hand and reloads the site, so new plugins' tasks run too."""
    import logging
    import threading
    from huey.consumer import Consumer
    app = kernel_app()
    # the consumer reports through logging (task started, finished, failed): show it on stderr
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    while True:
        kernel = app.extensions["timebank"]
        q = kernel.tasks
        click.echo(f"task queue: {q.backend}; tasks: {', '.join(sorted(q.tasks))}")
        sys.stdout.flush()  # before the consumer blocks, also when stdout is a pipe (systemd, tests)
        consumer = Consumer(q.huey, workers=workers, worker_type="thread", periodic=True)
        changed: list[int] = []
        done = threading.Event()
        watcher = threading.Thread(target=_watch_plugins, args=(app, consumer, changed, done),
                                   name="timebank-plugin-watch", daemon=True)
        watcher.start()
        try:
            consumer.run()  # returns on SIGINT/SIGTERM, or when the watcher stops it
        finally:
            done.set()
        if not changed:
            return
        watcher.join(60)
        try:
            app = create_app()
            click.echo("plugins changed; site reloaded")
        except FAILURES as e:  # keep working with the plugins we have
            click.secho(f"错误 / Error: plugins changed but the site cannot load them: {e}", fg="red", err=True)
            kernel.generation = changed[0]


def _watch_plugins(app, consumer, changed: list, done):
    """Stop ``consumer`` gracefully once the stored plugin set differs from the one ``app`` runs."""
    import logging
    from .db import ensure_connection
    from .plugins import generation
    every = max(float(app.config["PLUGIN_RELOAD_SECONDS"]), 0.2)
    while not done.wait(every):
        try:
            with app.app_context():
                ensure_connection()
                gen = generation()
        except Exception:  # noqa: BLE001 - keep consuming; check again later
            logging.getLogger("timebank").exception("plugin generation check failed")
            continue
        if gen != app.extensions["timebank"].generation:
            changed.append(gen)
            consumer.stop(graceful=True)
            return


@main.command("check")
def check_cmd():
    """Run the integrity checks of the kernel and the plugins; exit 1 when one fails."""
    from .backup import run_checks
    app = kernel_app()
    with app.app_context():
        results = run_checks(app)
    bad = False
    for name, ok, msg in results:
        click.echo(f"{'OK ' if ok else 'BAD'} {name}: {msg}")
        bad |= not ok
    sys.exit(1 if bad else 0)


@main.command("backup")
@click.argument("target", type=click.Path(dir_okay=False), required=False)
def backup_cmd(target):
    """Back up the database while the site runs (SQLite online backup / pg_dump)."""
    from .backup import backup
    app = kernel_app()
    with app.app_context():
        try:
            path = backup(app, target)
        except Exception as e:  # noqa: BLE001
            fail(str(e))
    click.echo(str(path))


@main.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_cmd(source, yes):
    """Replace the database with a backup, then run the integrity checks."""
    from .backup import restore
    if not yes:
        click.confirm("This replaces the current database. Continue?", abort=True)
    app = kernel_app()
    try:
        results = restore(app, source)
    except Exception as e:  # noqa: BLE001
        fail(str(e))
    bad = [r for r in results if not r[1]]
    for name, ok, msg in results:
        click.echo(f"{'OK ' if ok else 'BAD'} {name}: {msg}")
    sys.exit(1 if bad else 0)


@main.command("events")
@click.option("--json", "as_json", is_flag=True)
def events_cmd(as_json):
    """List the event catalogue: every event the enabled plugins emit, with its module and fields."""
    from .events import catalogue
    app = kernel_app()
    with app.app_context():
        rows = catalogue(app)
    if as_json:
        click.echo(json.dumps({"events": rows}, ensure_ascii=False, indent=2))
        return
    for e in rows:
        click.echo(f"{e['name']}  ({e['plugin']})  from {e['module']} import {e['class']}")
        for field, kind in e["fields"]:
            click.echo(f"    {field}: {kind}")
    from .config import TIMEZONE
    click.echo(f"every event also has occurred_at (aware datetime, {TIMEZONE}) and actor_id (int | None)")


# ------------------------------------------------------------------ plugins
@main.group("plugins", cls=click.Group)  # its commands build only what they need: no full app
def plugins_grp():
    """List, inspect, enable, disable and scaffold plugins."""


def _state_app():
    """An app for plugin-state commands; a broken enabled plugin must not block fixing the state."""
    from .config import load_config
    from .db import init_database
    from . import ensure_core_schema
    from flask import Flask
    try:
        cfg = load_config()
        init_database(cfg["DATABASE_URL"])
        ensure_core_schema()
    except FAILURES as e:
        fail(str(e))
    app = Flask("timebank-cli")
    app.config.update(cfg)
    return app


@plugins_grp.command("list")
@click.option("--json", "as_json", is_flag=True)
def plugins_list(as_json):
    """Every installed plugin with its state (reads manifests only)."""
    from . import plugins as P
    app = _state_app()
    with app.app_context():
        available, problems = P.discover()
        enabled = set(P.enabled_names())
    rows = [{"name": n, "version": i.version, "title": i.title, "category": i.manifest.get("category"),
             "enabled": n in enabled, "depends": i.depends, "source": i.source}
            for n, i in sorted(available.items())]
    if as_json:
        click.echo(json.dumps({"plugins": rows, "problems": problems}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{'[x]' if r['enabled'] else '[ ]'} {r['name']:<20} {r['version']:<8} {r['title']:<40} "
                   f"{r['source']}")
    for n, msg in problems.items():
        click.secho(f"[!] {n}: {msg}", fg="yellow")


@plugins_grp.command("info")
@click.argument("name")
def plugins_info(name):
    """Show a plugin's manifest."""
    from flask import Flask
    from . import plugins as P
    from .config import load_config
    try:
        cfg = load_config()  # for PLUGIN_PATHS; the database is not needed
    except ConfigError as e:
        fail(str(e))
    app = Flask("timebank-cli")
    app.config.update(cfg)
    with app.app_context():
        available, problems = P.discover()
    if name in problems:
        fail(problems[name])
    if name not in available:
        fail(f"unknown plugin {name!r}")
    info = available[name]
    click.echo(json.dumps({**info.manifest, "path": str(info.path), "source": info.source},
                          ensure_ascii=False, indent=2))


@plugins_grp.command("enable")
@click.argument("names", nargs=-1, required=True)
def plugins_enable(names):
    """Enable plugins (and their dependencies)."""
    from . import audit, plugins as P
    app = _state_app()
    with app.test_request_context():
        try:
            done = P.enable(list(names))
        except PluginError as e:
            fail(str(e))
        for n in done:
            audit.log("plugin.enabled", ("plugin", n))
    click.echo("enabled: " + (", ".join(done) if done else "nothing new"))


@plugins_grp.command("disable")
@click.argument("name")
def plugins_disable(name):
    """Disable a plugin (refused while another enabled plugin depends on it; data is kept)."""
    from . import audit, plugins as P
    app = _state_app()
    with app.test_request_context():
        try:
            P.disable(name)
        except PluginError as e:
            fail(str(e))
        audit.log("plugin.disabled", ("plugin", name))
    click.echo(f"disabled: {name}")


@plugins_grp.command("new")
@click.argument("name")
@click.option("--path", "path", type=click.Path(file_okay=False), default=None,
              help="folder to create (default ./timebank-NAME)")
@click.option("--title", default=None,
              help="the manifest title: an English msgid, shown translated through the plugin's catalog "
                   "(default: NAME in title case)")
@click.option("--title-zh", "title_zh", default=None,
              help="the title's Chinese translation, written into the plugin's zh_Hans_CN catalog")
def plugins_new(name, path, title, title_zh):
    """Scaffold an installable third-party plugin."""
    from .scaffold import scaffold
    try:
        out = scaffold(name, Path(path) if path else Path(f"timebank-{name.replace('_', '-')}"), title,
                       title_zh)
    except ValueError as e:
        fail(str(e))
    click.echo(f"created {out}\nnext: pip install -e {out} && timebank plugins enable {name}")



@main.group("settings")
def settings_grp():
    """Show and change the plugins' settings (every number of a rule; issue 11 point 16)."""


def _setting_target(name: str):
    plugin, _sep, key = name.partition(".")
    if not plugin or not key:
        fail(f"name a setting as PLUGIN.KEY, e.g. volunteers.min_age (got {name!r})")
    return plugin, key


@settings_grp.command("list")
@click.argument("plugin", required=False)
@click.option("--json", "as_json", is_flag=True)
def settings_list(plugin, as_json):
    """Every setting of the enabled plugins (or of PLUGIN): value in force, handbook default, label."""
    from . import settings as S
    from flask_babel import gettext
    app = kernel_app()
    rows = []
    with app.app_context():
        names = [plugin] if plugin else app.extensions["timebank"].loaded
        for name in names:
            try:
                specs = S.plugin_specs(name)
            except PluginError as e:
                fail(str(e))
            values = S.current_values(specs)
            rows += [{"key": s.full_key, "value": values[s.key], "default": s.default, "type": s.kind,
                      "label": gettext(s.label), "min": s.minimum, "max": s.maximum,
                      "choices": [c[0] for c in s.choices]} for s in specs]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        mark = " " if r["value"] == r["default"] else "*"
        click.echo(f"{mark} {r['key']:<44} {S.to_text(r['value']):<12} "
                   f"(默认 default {S.to_text(r['default'])})  {r['label']}")


@settings_grp.command("get")
@click.argument("name")
def settings_get(name):
    """Print the value in force of PLUGIN.KEY."""
    from . import settings as S
    plugin, key = _setting_target(name)
    app = kernel_app()
    with app.app_context():
        try:
            specs = {s.key: s for s in S.plugin_specs(plugin)}
        except PluginError as e:
            fail(str(e))
        if key not in specs:
            fail(f"plugin {plugin} has no setting {key!r}")
        click.echo(S.to_text(S.current_values(list(specs.values()))[key]))


@settings_grp.command("set")
@click.argument("name")
@click.argument("value")
def settings_set(name, value):
    """Change PLUGIN.KEY to VALUE, checked like the admin page (bounds, the plugin's own rules) and
    audited with the old and new value. A refused value changes nothing (exit 1)."""
    from . import settings as S
    plugin, key = _setting_target(name)
    app = kernel_app()
    with app.app_context():
        try:
            done = S.change(plugin, {key: value}, via="cli")
        except PluginError as e:
            fail(str(e))
        except S.SettingError as e:
            fail("; ".join(f"{plugin}.{k}: {m}" for k, m in e.errors.items()))
    if done:
        k, old, new = done[0]
        click.echo(f"{plugin}.{k}: {S.to_text(old)} -> {S.to_text(new)}")
    else:
        click.echo(f"{plugin}.{key}: unchanged")


@main.group("keys")
def keys_grp():
    """Data-encryption keys of personal data (instance/keys.json)."""


@keys_grp.command("rotate")
def keys_rotate():
    """Add a new primary data key and re-encrypt every encrypted field with it."""
    from . import audit
    from .crypto import EncryptedField, KeyError_, reencrypt, rotate
    app = kernel_app()
    with app.test_request_context():
        try:
            kid = rotate(instance_path())
        except KeyError_ as e:  # keys-from-env: refuse rather than lose data
            fail(str(e))
        total = 0
        for model in app.extensions["timebank"].models:
            fields = [f.name for f in model._meta.sorted_fields if isinstance(f, EncryptedField)]
            if fields:
                total += reencrypt(model, fields)
        audit.log("keys.rotated", ("keyring", kid), {"rows": total})
    click.echo(f"new primary key {kid}; re-encrypted {total} rows")


@main.group("i18n")
def i18n_grp():
    """Maintain the translation catalogs (zh_CN first)."""


@i18n_grp.command("update")
@click.option("--locale", default="zh_Hans_CN", show_default=True)
def i18n_update(locale):
    """Extract strings from core and built-in plugins into locale/<locale>/…/messages.po."""
    from .i18n import update_catalog
    po, missing = update_catalog(locale)
    click.echo(f"{po}: {len(missing)} untranslated")
    for m in missing:
        click.echo(f"  {m}")


if __name__ == "__main__":  # pragma: no cover
    main()
