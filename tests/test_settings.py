"""Plugin settings (core/settings.py): site values over the manifest's defaults, typed like the default,
one implementation for every plugin; a value that cannot be converted falls back to the default."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("raw, expected", [(None, 1500), ("20", 20), ("37.5", 37.5), ("lots", 1500)])
def test_integer_settings(make_app, raw, expected):
    app = make_app(plugins=["volunteers", "teams", "documents", "activities", "ledger"])
    from core.db import transaction
    from core.models import Setting
    from plugins.ledger.services import SETTINGS
    with app.app_context():
        assert SETTINGS.plugin == "ledger" and SETTINGS.defaults["volunteer_cap"] == 1500
        if raw is not None:
            with transaction():
                Setting.create(key="ledger.volunteer_cap", value=raw)
        assert SETTINGS.get("volunteer_cap") == expected
        assert SETTINGS.all()["volunteer_cap"] == expected


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("on", True), ("false", False),
                                           ("0", False), ("", False)])
def test_boolean_settings_are_not_python_truthiness(make_app, raw, expected):
    """bool("false") is True in Python: booleans are read from the words people type."""
    app = make_app(plugins=["volunteers", "teams", "documents", "activities", "ledger"])
    from core.db import transaction
    from core.models import Setting
    from plugins.ledger.services import setting
    with app.app_context():
        with transaction():
            Setting.create(key="ledger.convert_training", value=raw)
        assert setting("convert_training") is expected


def test_text_settings_and_unknown_keys(make_app):
    app = make_app(plugins=["volunteers"])
    from plugins.volunteers.services import SETTINGS
    with app.app_context():
        assert SETTINGS.get("number_prefix") == "GZ"
        with pytest.raises(KeyError):
            SETTINGS.get("no_such_setting")
