"""The plugin's settings (manifest defaults, site overrides on /admin/settings/incentives)."""
from core.settings import PluginSettings

SETTINGS = PluginSettings(__file__)
STAR_KEYS = tuple(f"star_{n}_hours" for n in range(1, 6))


def star_thresholds(values: dict | None = None) -> list[int]:
    """Hours for 1★…5★, ascending (validate_settings refuses any other order)."""
    values = values if values is not None else SETTINGS.all()
    return [int(values[k]) for k in STAR_KEYS]
