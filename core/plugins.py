"""Plugin discovery, manifests, dependency order, enable/disable and schema installation.

A plugin is a Python package with a ``__manifest__.py`` (a dict literal) beside its ``__init__.py``.
Built-in plugins live in ``plugins/<name>/``; third-party ones are pip-installed packages that
declare an entry point in the group ``timebank.plugins`` (``name = "package"``).
Manifests are read with ``ast.literal_eval``: listing plugins never imports their code.
"""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from .db import db, now, transaction

ENTRY_POINT_GROUP = "timebank.plugins"
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "plugins"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
REQUIRED = ("name", "version", "title", "summary", "category", "depends", "author", "license")
TEXT_KEYS = ("version", "title", "summary", "category", "author", "license")
FLAG_KEYS = ("default_enabled", "installable")


class PluginError(Exception):
    """A plugin cannot be found, read, ordered or loaded; the message names it."""


@dataclass
class PluginInfo:
    name: str
    module: str          # importable module name
    path: Path           # package folder
    source: str          # "builtin" or "entry point <dist>"
    manifest: dict = field(default_factory=dict)

    @property
    def depends(self) -> list[str]:
        return list(self.manifest.get("depends", []))

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    @property
    def title(self) -> str:
        return self.manifest.get("title", self.name)

    @property
    def default_enabled(self) -> bool:
        return bool(self.manifest.get("default_enabled", False))

    @property
    def migrations_dir(self) -> Path:
        return self.path / "migrations"


def read_manifest(path: Path, expected_name: str | None = None) -> dict:
    f = path / "__manifest__.py"
    if not f.exists():
        raise PluginError(f"plugin {expected_name or path.name}: no __manifest__.py in {path}")
    try:
        data = ast.literal_eval(f.read_text(encoding="utf-8"))
    except (ValueError, SyntaxError) as e:
        raise PluginError(f"plugin {expected_name or path.name}: {f} is not a dict literal ({e})") from None
    if not isinstance(data, dict):
        raise PluginError(f"plugin {expected_name or path.name}: {f} must contain one dict literal")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PluginError(f"plugin {expected_name or path.name}: manifest lacks {', '.join(missing)}")
    name = data["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise PluginError(f"plugin {path.name}: manifest name {name!r} must match [a-z][a-z0-9_]*")
    if expected_name and name != expected_name:
        raise PluginError(f"plugin {expected_name}: manifest says its name is {name!r}")
    if not isinstance(data["depends"], (list, tuple)) or not all(isinstance(d, str) for d in data["depends"]):
        raise PluginError(f"plugin {name}: manifest 'depends' must be a list of plugin names")
    wrong = [k for k in TEXT_KEYS if not isinstance(data[k], str)]
    wrong += [k for k in FLAG_KEYS if k in data and not isinstance(data[k], bool)]
    if wrong:
        raise PluginError(f"plugin {name}: manifest {', '.join(wrong)} must be "
                          f"{'text' if wrong[0] in TEXT_KEYS else 'True or False'}")
    from .settings import check_manifest_settings
    problem = check_manifest_settings(name, data)
    if problem:
        raise PluginError(problem)
    return data


def plugin_paths() -> list[Path]:
    """Extra folders of local plugins (each sub-folder a plugin): ``PLUGIN_PATHS`` in the config or
    ``TIMEBANK_PLUGIN_PATHS`` (separated by commas or the OS path separator). For development and tests."""
    import os
    raw = None
    try:
        from flask import current_app
        raw = current_app.config.get("PLUGIN_PATHS")
    except RuntimeError:
        pass
    if raw is None:
        raw = os.environ.get("TIMEBANK_PLUGIN_PATHS", "")
    if isinstance(raw, str):
        raw = [p for p in raw.replace(",", os.pathsep).split(os.pathsep) if p]
    return [Path(p).resolve() for p in raw]


def _scan_folder(folder: Path, found: dict, problems: dict, source: str, package: str | None):
    import sys
    if not folder.is_dir():
        return
    for sub in sorted(folder.iterdir()):
        if not (sub.is_dir() and (sub / "__manifest__.py").exists()):
            continue
        if sub.name in found:
            problems[sub.name] = f"plugin {sub.name}: {sub} clashes with a plugin of the same name"
            continue
        try:
            m = read_manifest(sub, sub.name)
        except PluginError as e:
            problems[sub.name] = str(e)
            continue
        if package is None and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        module = f"{package}.{sub.name}" if package else sub.name
        found[sub.name] = PluginInfo(sub.name, module, sub, source, m)


def discover(include_broken: bool = False) -> tuple[dict[str, PluginInfo], dict[str, str]]:
    """Find every plugin: built-ins, local plugin paths, then entry points.
    Returns (plugins, problems by name)."""
    found: dict[str, PluginInfo] = {}
    problems: dict[str, str] = {}
    _scan_folder(BUILTIN_DIR, found, problems, "builtin", "plugins")
    for folder in plugin_paths():
        _scan_folder(folder, found, problems, f"path {folder}", None)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        name = ep.name
        if name in found:
            problems[name] = f"plugin {name}: entry point {ep.value} clashes with a plugin of the same name"
            continue
        try:
            spec = importlib.util.find_spec(ep.module)
        except (ImportError, ValueError) as e:
            problems[name] = f"plugin {name}: cannot locate module {ep.module} ({e})"
            continue
        if spec is None or not spec.submodule_search_locations:
            problems[name] = f"plugin {name}: entry point {ep.value} is not a package"
            continue
        path = Path(list(spec.submodule_search_locations)[0])
        try:
            m = read_manifest(path, name)
        except PluginError as e:
            problems[name] = str(e)
            continue
        dist = getattr(ep, "dist", None)
        found[name] = PluginInfo(name, ep.module, path, f"entry point ({dist.name if dist else '?'})", m)
    return found, problems


def resolve_order(wanted: list[str], available: dict[str, PluginInfo]) -> list[str]:
    """Return ``wanted`` plus their dependencies, dependencies first. Missing names and cycles raise."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, chain: list[str]):
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cyc = chain[chain.index(name):] + [name]
            raise PluginError("plugin dependency cycle: " + " → ".join(cyc))
        if name not in available:
            if chain:
                raise PluginError(f"plugin {chain[-1]} depends on {name}, which is not installed")
            raise PluginError(f"unknown plugin {name!r}")
        state[name] = 1
        for dep in available[name].depends:
            visit(dep, chain + [name])
        state[name] = 2
        order.append(name)

    for n in wanted:
        visit(n, [])
    return order


def import_plugin(info: PluginInfo):
    try:
        return importlib.import_module(info.module)
    except Exception as e:  # noqa: BLE001 - report any import-time failure with the plugin's name
        raise PluginError(f"plugin {info.name} failed to load: {type(e).__name__}: {e}") from e


def enabled_names() -> list[str]:
    from .models import PluginState
    return [p.name for p in PluginState.select().where(PluginState.enabled == True)]  # noqa: E712


def plugin_models(module) -> list:
    """The models of a plugin module: its ``register_models`` and any other function marked
    ``@hookimpl(specname="register_models")`` (a plugin built by several hands, e.g. privacy)."""
    fns = [fn for name, fn in vars(module).items() if callable(fn) and (
        name == "register_models" or
        (getattr(fn, "timebank_impl", None) or {}).get("specname") == "register_models")]
    return [m for fn in fns for m in (fn() or [])]


def _runner(info: PluginInfo):
    from playhouse.migrations import Runner
    return Runner(db.obj, str(info.migrations_dir), table_name=f"migrations_{info.name}")


def create_schema(info: PluginInfo, module) -> None:
    """Fresh install: create the tables from the models (which describe the newest schema) and record
    every shipped migration as applied. Runs inside the caller's transaction."""
    from .db import schema_lock
    schema_lock()
    models = plugin_models(module)
    if models:
        db.create_tables(models, safe=True)
    if info.migrations_dir.is_dir():
        _runner(info).fake()


def migrate_plugin(info: PluginInfo) -> list[str]:
    """Apply a plugin's pending migrations in order (``playhouse.migrations``, history table
    ``migrations_<plugin>``). Each migration runs in its own transaction, outside any other, so SQLite
    can switch foreign keys off while a table is rebuilt. Returns the names applied; a failing
    migration raises PluginError naming the plugin and the migration (earlier ones stay applied)."""
    from .models import PluginState
    if not info.migrations_dir.is_dir():
        return []
    runner = _runner(info)
    pending = [m.name for m in runner.status() if not m.applied and m.path]
    if not pending:
        return []
    from .db import schema_session_lock
    with schema_session_lock():  # workers starting together: one migrates, the others find it done
        pending = [m.name for m in runner.status() if not m.applied and m.path]
        if not pending:
            return []
        try:
            ran = runner.up()
        except Exception as e:  # noqa: BLE001 - report any failure with the plugin's and migration's name
            done = {m.name for m in _runner(info).status() if m.applied}
            failed = next((n for n in pending if n not in done), pending[0])
            raise PluginError(f"plugin {info.name}: migration {failed} failed: {type(e).__name__}: {e}") from e
    PluginState.update(installed_version=info.version).where(PluginState.name == info.name).execute()
    return ran


def install_schema(info: PluginInfo, module) -> list[str]:
    """Create a plugin's tables the first time (see ``create_schema``); later, apply its pending
    migrations (see ``migrate_plugin``). Returns what ran."""
    from .models import PluginState
    state = PluginState.get_or_none(PluginState.name == info.name)
    if state is None or state.installed_at is None:
        with transaction():
            create_schema(info, module)
        return ["create tables"]
    return migrate_plugin(info)


def register_hooks(pm, modules: dict, order: list[str]) -> None:
    """Register plugin modules on ``pm`` so that dependencies answer first, after adding the hook
    specifications plugins declare themselves (a module attribute ``HOOKSPECS``: a module or class of
    ``@hookspec`` functions; one pluggy warns about, such as a class's spec without ``self``, is
    refused). A hook that matches no specification, or has arguments its specification lacks, raises
    PluginError naming the plugin."""
    import warnings

    import pluggy
    for n in order:
        specs = getattr(modules[n], "HOOKSPECS", None)
        if specs is not None:
            try:
                # what pluggy only warns about today (a class's spec without ``self``) is an error in
                # its next versions: refuse it now, naming the plugin, rather than break on an upgrade
                # (checked here too, since pluggy < 1.7 does not even warn)
                if isinstance(specs, type):
                    import inspect
                    for name, fn in vars(specs).items():
                        if callable(fn) and hasattr(fn, "timebank_spec") and \
                                list(inspect.signature(fn).parameters)[:1] != ["self"]:
                            raise TypeError(f"the hook specification {name} of a class must take self first")
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    pm.add_hookspecs(specs)
            except Exception as e:  # noqa: BLE001
                raise PluginError(f"plugin {n}: its HOOKSPECS cannot be added: {e}") from e
    # pluggy calls the last registered first: register dependents first so dependencies answer first
    for n in reversed(order):
        if pm.get_plugin(n) is not None:
            continue
        try:
            pm.register(modules[n], name=n)
        except (pluggy.PluginValidationError, ValueError) as e:
            raise PluginError(f"plugin {n}: {e}") from e
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        bad = getattr(e, "plugin", None)
        name = pm.get_name(bad) if bad is not None else "?"
        raise PluginError(f"plugin {name}: {e}") from e


def check_hooks(modules: dict, order: list[str]) -> None:
    """Validate hook implementations on a scratch plugin manager, before anything is stored."""
    import pluggy
    from . import hookspecs
    pm = pluggy.PluginManager("timebank")
    pm.add_hookspecs(hookspecs)
    register_hooks(pm, modules, order)


def pending_migrations(info: PluginInfo) -> list[str]:
    from playhouse.migrations import Runner
    if not info.migrations_dir.is_dir():
        return []
    runner = Runner(db.obj, str(info.migrations_dir), table_name=f"migrations_{info.name}")
    return [m.name for m in runner.status() if not m.applied and m.path]


def set_enabled(names: list[str], enabled: bool):
    from .models import PluginState
    with transaction():
        for n in names:
            st, _ = PluginState.get_or_create(name=n)
            st.enabled = enabled
            st.changed_at = now()
            st.save()
        bump_generation()


def bump_generation():
    from .models import Setting
    row, _ = Setting.get_or_create(key="core.plugins.generation", defaults={"value": "0"})
    Setting.update(value=str(int(row.value or 0) + 1)).where(Setting.key == row.key).execute()


def generation() -> int:
    from .models import Setting
    row = Setting.get_or_none(Setting.key == "core.plugins.generation")
    return int(row.value) if row else 0


def dependents(name: str, enabled: list[str], available: dict[str, PluginInfo]) -> list[str]:
    """Enabled plugins that depend on ``name`` directly or through others."""
    out = []
    for n in enabled:
        if n == name or n not in available:
            continue
        try:
            if name in resolve_order([n], available)[:-1]:
                out.append(n)
        except PluginError:
            continue
    return out


def enable(names: list[str], app=None) -> list[str]:
    """Enable plugins and their dependencies, dependencies first. Returns the names newly enabled.

    Everything that can fail is done before anything is recorded: manifests, dependency order,
    ``installable``, imports and hook validation. Then one transaction creates the tables of plugins
    installed for the first time, loads their reference data (once per site, ever) and records the
    new state; an error rolls all of it back and is raised as PluginError naming the plugin. (A plugin
    enabled again after an upgrade first gets its pending migrations, see ``migrate_plugin``.)"""
    from .models import PluginState
    available, problems = discover()
    for n in names:
        if n in problems:
            raise PluginError(problems[n])
    order = resolve_order(names, available)
    current = set(enabled_names())
    todo = [n for n in order if n not in current]
    if not todo:
        return []
    for n in todo:
        if available[n].manifest.get("installable", True) is False:
            raise PluginError(f"plugin {n} cannot be enabled: its manifest says installable: False")
    modules = {n: import_plugin(available[n]) for n in order}
    check_hooks(modules, order)
    states = {s.name: s for s in PluginState.select().where(PluginState.name << todo)}
    for n in todo:
        st = states.get(n)
        if st is not None and st.installed_at is not None:
            migrate_plugin(available[n])
    with transaction():
        for n in todo:
            info = available[n]
            try:
                st, _ = PluginState.get_or_create(name=n)
                if st.installed_at is None:
                    create_schema(info, modules[n])
                    st.installed_at = now()
                if not st.data_loaded:
                    _call_own_hook(modules[n], "load_reference_data")
                    st.data_loaded = True
            except PluginError:
                raise
            except Exception as e:  # noqa: BLE001 - roll back, name the plugin
                raise PluginError(f"plugin {n} failed while being installed: {type(e).__name__}: {e}") from e
            st.installed_version = info.version
            st.enabled = True
            st.changed_at = now()
            st.save()
        bump_generation()
    return todo


def disable(name: str) -> None:
    """Disable a plugin; refused while an enabled plugin depends on it. Its tables and data stay."""
    available, _ = discover()
    current = enabled_names()
    if name not in available and name not in current:
        raise PluginError(f"unknown plugin {name!r}")
    if name not in current:
        raise PluginError(f"plugin {name} is not enabled")
    deps = dependents(name, current, available)
    if deps:
        raise PluginError(f"cannot disable {name}: enabled plugin(s) {', '.join(deps)} depend on it")
    set_enabled([name], False)


def _call_own_hook(module, hook_name: str, **kwargs):
    fn = getattr(module, hook_name, None)
    if fn is not None and hasattr(fn, "timebank_impl"):
        return fn(**kwargs)
    return None
