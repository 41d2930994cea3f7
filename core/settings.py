"""Plugin settings: the site's values (``core_setting`` rows ``<plugin>.<key>``) over the defaults in the
plugin's ``__manifest__.py`` ``settings``. One implementation for every plugin::

    from core.settings import PluginSettings
    SETTINGS = PluginSettings(__file__)          # the plugin's folder and name come from its manifest
    SETTINGS.get("volunteer_cap")                # typed like the default: bool, int, float or text
    SETTINGS.all()                               # every setting in one query

A stored value is converted to the default's type (``true/1/yes/on`` for booleans; an integer default
also accepts a decimal such as ``37.5``). A value that cannot be converted is logged and the default
used, so a mistyped setting never turns pages into errors.
"""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("timebank.settings")
TRUE = ("1", "true", "yes", "on")


class PluginSettings:
    def __init__(self, module_file: str | Path | None = None, *, manifest: dict | None = None):
        if manifest is None:
            from .plugins import read_manifest
            manifest = read_manifest(Path(module_file).resolve().parent)
        self.plugin = manifest["name"]
        self.defaults: dict = dict(manifest.get("settings") or {})

    def _key(self, key: str) -> str:
        return f"{self.plugin}.{key}"

    def convert(self, key: str, raw):
        default = self.defaults[key]
        try:
            if isinstance(default, bool):
                return str(raw).strip().lower() in TRUE
            if isinstance(default, int):
                number = float(raw)
                return int(number) if number.is_integer() else number
            if isinstance(default, float):
                return float(raw)
            return str(raw)
        except (TypeError, ValueError):
            log.warning("setting %s: %r is not a valid %s; using the default %r", self._key(key), raw,
                        type(default).__name__, default)
            return default

    def get(self, key: str):
        """One setting (KeyError for a key the manifest does not declare)."""
        from .models import Setting
        default = self.defaults[key]
        row = Setting.get_or_none(Setting.key == self._key(key))
        return default if row is None else self.convert(key, row.value)

    def all(self) -> dict:
        """Every setting of the plugin, with one query."""
        from .models import Setting
        out = dict(self.defaults)
        for row in Setting.select().where(Setting.key.in_([self._key(k) for k in self.defaults])):
            k = row.key[len(self.plugin) + 1:]
            out[k] = self.convert(k, row.value)
        return out


# ------------------------------------------------------------------ declared settings, validated changes
# Every number of a rule is a setting an admin can change (RULES.md): on the admin page 系统设置
# (/admin/settings/<plugin>) or with ``timebank settings list|get|set``. Both go through ``change``
# below, so both validate alike and audit every change with its old and new value.
#
# A plugin describes its settings in the manifest beside the defaults (a dict literal, translated by the
# Babel extractor of core/i18n.py)::
#
#     "settings": {"min_age": 16, "rounding": "down"},
#     "settings_meta": {
#         "min_age": {"label": "Minimum age to serve alone", "help": "…", "min": 0, "max": 100},
#         "rounding": {"label": "Rounding", "choices": [["down", "Down"], ["nearest", "Nearest"]]},
#     },
#
# ``min``/``max`` bound numbers, ``choices`` lists the allowed values of a text setting, ``max_length``
# bounds a text (default 100). Rules between settings (the guardian-consent age below the minimum age)
# are the plugin's own: it answers the ``validate_settings(plugin, values)`` hook with {key: message}.
import math
import re
from dataclasses import dataclass, field

_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
_FLOAT_RE = re.compile(r"^[+-]?(\d{1,15}(\.\d{0,9})?|\.\d{1,9})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FALSE = ("0", "false", "no", "off", "")


class SettingError(ValueError):
    """A refused change: ``errors`` maps each setting key to a message in the user's language.
    Nothing was saved."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class SettingSpec:
    plugin: str
    key: str
    default: object
    label: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: list = field(default_factory=list)     # [(value, label)]
    max_length: int = 100

    @property
    def kind(self) -> str:
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, int):
            return "int"
        if isinstance(self.default, float):
            return "float"
        return "choice" if self.choices else "text"

    @property
    def full_key(self) -> str:
        return f"{self.plugin}.{self.key}"


def specs_from_manifest(manifest: dict) -> list[SettingSpec]:
    """The settings a manifest declares, in the manifest's order, with their labels and bounds."""
    meta = manifest.get("settings_meta") or {}
    out = []
    for key, default in (manifest.get("settings") or {}).items():
        m = meta.get(key) or {}
        out.append(SettingSpec(manifest["name"], key, default, m.get("label") or key, m.get("help") or "",
                               m.get("min"), m.get("max"), [tuple(c) for c in m.get("choices") or []],
                               int(m.get("max_length") or 100)))
    return out


def check_manifest_settings(name: str, manifest: dict) -> str | None:
    """A sentence naming what is wrong with the manifest's ``settings``/``settings_meta``, or None."""
    settings = manifest.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        return f"plugin {name}: manifest 'settings' must be a dict of name: default value"
    bad = [k for k, v in settings.items() if not isinstance(v, (bool, int, float, str))]
    if bad:
        return f"plugin {name}: setting {bad[0]} must default to True/False, a number or a text"
    meta = manifest.get("settings_meta", {})
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        return f"plugin {name}: manifest 'settings_meta' must be a dict of name: {{label, help, min, max}}"
    unknown = [k for k in meta if k not in settings]
    if unknown:
        return f"plugin {name}: settings_meta describes {unknown[0]}, which 'settings' does not declare"
    for k, m in meta.items():
        extra = set(m) - {"label", "help", "min", "max", "choices", "max_length"}
        if extra:
            return f"plugin {name}: settings_meta {k} has unknown keys {', '.join(sorted(extra))}"
        choices = m.get("choices") or []
        if choices and settings[k] not in [c[0] for c in choices]:
            return f"plugin {name}: the default of {k} is not one of its choices"
    return None


def _bound_error(spec: SettingSpec, value):
    from flask_babel import lazy_gettext as _l
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None and not lo <= value <= hi:
        return _l("Enter a number from %(min)s to %(max)s.", min=lo, max=hi)
    if lo is not None and value < lo:
        return _l("Enter a number of at least %(min)s.", min=lo)
    if hi is not None and value > hi:
        return _l("Enter a number of at most %(max)s.", max=hi)
    return None


def parse(spec: SettingSpec, raw):
    """The typed value of ``raw`` (text from a form or the shell) for ``spec``; SettingError if it is not
    one. Numbers are normalised first (full-width digits, NS2) and must be finite and within bounds."""
    from flask_babel import lazy_gettext as _l
    from .inputs import normalize
    text = normalize(raw)
    if spec.kind == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise SettingError({spec.key: _l("Choose yes or no.")})
    if spec.kind in ("int", "float"):
        pattern = _INT_RE if spec.kind == "int" else _FLOAT_RE
        if not pattern.match(text):
            raise SettingError({spec.key: _l("Enter a whole number.") if spec.kind == "int"
                                else _l("Enter a number.")})
        value = int(text) if spec.kind == "int" else float(text)
        if not math.isfinite(value):
            raise SettingError({spec.key: _l("Enter a number.")})
        problem = _bound_error(spec, value)
        if problem:
            raise SettingError({spec.key: problem})
        return value
    if spec.kind == "choice":
        if text not in [c[0] for c in spec.choices]:
            raise SettingError({spec.key: _l("Choose one of the listed values.")})
        return text
    if not text:
        raise SettingError({spec.key: _l("This setting cannot be empty.")})
    if _CONTROL.search(text) or len(text) > spec.max_length:
        raise SettingError({spec.key: _l("Enter at most %(n)s characters on one line.", n=spec.max_length)})
    return text


def to_text(value) -> str:
    """How a typed value is stored in ``core_setting``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plugin_specs(plugin: str) -> list[SettingSpec]:
    """The declared settings of an installed plugin (PluginError for an unknown plugin)."""
    from .plugins import PluginError, discover
    available, problems = discover()
    if plugin not in available:
        raise PluginError(problems.get(plugin) or f"unknown plugin {plugin!r}")
    return specs_from_manifest(available[plugin].manifest)


def current_values(specs: list[SettingSpec]) -> dict:
    """The values in force for ``specs`` (stored rows over the defaults), keyed by setting key."""
    from .models import Setting
    if not specs:
        return {}
    plugin = specs[0].plugin
    out = {s.key: s.default for s in specs}
    conv = PluginSettings(manifest={"name": plugin, "settings": {s.key: s.default for s in specs}})
    rows = Setting.select().where(Setting.key.in_([s.full_key for s in specs]))
    for row in rows:
        k = row.key[len(plugin) + 1:]
        out[k] = conv.convert(k, row.value)
    return out


def _plugin_rules(plugin: str, values: dict) -> dict:
    """Errors from the plugins' own rules (the ``validate_settings`` hook), key → message."""
    from .plugins import PluginError, discover, import_plugin
    answers = []
    try:
        from flask import current_app
        kernel = current_app.extensions["timebank"]
        answers = kernel.pm.hook.validate_settings(plugin=plugin, values=dict(values))
        loaded = plugin in kernel.loaded
    except (RuntimeError, KeyError):
        loaded = False
    if not loaded:  # a disabled plugin's settings are still checked by its own rules
        info = discover()[0].get(plugin)
        try:
            fn = getattr(import_plugin(info), "validate_settings", None) if info else None
        except PluginError:
            fn = None
        if fn is not None:
            answers = [*answers, fn(plugin=plugin, values=dict(values))]
    errors: dict = {}
    for answer in answers:
        for k, msg in (answer or {}).items():
            errors.setdefault(k, msg)
    return errors


def change(plugin: str, raw: dict, *, via: str = "admin", user=None) -> list[tuple[str, object, object]]:
    """Validate and save settings of ``plugin`` given as text (key → raw value). Every value is checked
    and the plugin's rules run on the result before anything is written; SettingError (key → message)
    leaves every setting as it was. Each change is audited as ``setting.changed`` with the old and new
    value. Returns the (key, old, new) changed."""
    from flask_babel import lazy_gettext as _l
    from . import audit
    from .db import transaction
    from .models import Setting
    specs = {s.key: s for s in plugin_specs(plugin)}
    errors: dict = {}
    parsed: dict = {}
    for key, value in raw.items():
        if key not in specs:
            errors[key] = _l("There is no such setting.")
            continue
        try:
            parsed[key] = parse(specs[key], value)
        except SettingError as e:
            errors.update(e.errors)
    if errors:
        raise SettingError(errors)
    with transaction():
        old = current_values(list(specs.values()))
        merged = {**old, **parsed}
        errors = _plugin_rules(plugin, merged)
        if errors:
            raise SettingError(errors)
        done = []
        for key, new in parsed.items():
            if old[key] == new and type(old[key]) is type(new):
                continue
            full = specs[key].full_key
            n = Setting.update(value=to_text(new)).where(Setting.key == full).execute()
            if not n:
                Setting.create(key=full, value=to_text(new))
            audit.log("setting.changed", ("core_setting", full),
                      {"plugin": plugin, "key": key, "old": old[key], "new": new, "via": via}, user=user)
            done.append((key, old[key], new))
    return done
