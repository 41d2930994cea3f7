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
    def __init__(self, module_file: str | Path):
        from .plugins import read_manifest
        folder = Path(module_file).resolve().parent
        manifest = read_manifest(folder)
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
