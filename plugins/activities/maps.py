"""The service map (服务地图, R-MAP-1) of the activity listing: the tile server setting, checked, and the
origin the page's Content-Security-Policy must allow for its images (``core.web.csp_allow``)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from core.db import compiled
from core.web import is_csp_origin

# a scheme, a host (with an optional port), a path; nothing that could end the CSP source or the
# attribute it travels in (space, quote, angle bracket, backslash, ";" or ",")
_TILE_URL = re.compile(r"^(https?)://([^/?#\s\"'<>\\;,]+)(/[^\s\"'<>\\;,]*)$")


def tile_origin(url: str) -> str | None:
    """The CSP source for the tile URL template ``url`` (``https://tile.openstreetmap.org``; a host whose
    first label carries Leaflet's ``{s}`` gives ``https://*.rest.of.host``), or None when ``url`` is not an
    http(s) template with ``{z}``, ``{x}`` and ``{y}`` in its path."""
    m = _TILE_URL.match(url or "")
    if not m or not all(p in m.group(3) for p in ("{z}", "{x}", "{y}")):
        return None
    scheme, host = m.group(1), m.group(2).lower()
    if "{s}" in host:
        first, _, rest = host.partition(".")
        if "{s}" in rest or not rest:
            return None
        host = "*." + rest
    origin = f"{scheme}://{host}"
    return origin if is_csp_origin(origin) else None


def validate(values: dict) -> dict | None:
    """The activities plugin's rule for its map settings (``validate_settings``)."""
    if tile_origin(values.get("map_tile_url", "")) is None:
        return {"map_tile_url": _l("Enter an http:// or https:// address with {z}, {x} and {y}, e.g. "
                                   "https://tile.openstreetmap.org/{z}/{x}/{y}.png.")}
    return None


@compiled
def _stored(tiles_key, credit_key):
    from core.models import Setting
    return (Setting.select(Setting.key, Setting.value)
            .where((Setting.key == tiles_key) | (Setting.key == credit_key)).tuples())


def map_settings() -> tuple[str, str]:
    """The tile URL template and attribution in force: one compiled query (the listing is a hot page,
    bench/profile_activities.py), the site's values over the manifest's defaults."""
    from .services import SETTINGS
    conf = {"map_tile_url": SETTINGS.defaults["map_tile_url"],
            "map_attribution": SETTINGS.defaults["map_attribution"]}
    for key, value in _stored(tiles_key="activities.map_tile_url", credit_key="activities.map_attribution"):
        name = key.partition(".")[2]
        conf[name] = SETTINGS.convert(name, value)
    return conf["map_tile_url"], conf["map_attribution"]
