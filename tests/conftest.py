"""The suite's fixtures come from timebank's own pytest plugin, ``core/testing.py`` (entry point
``pytest11: timebank`` in pyproject.toml), the same one a third-party plugin's tests use (issue 12 point 1):
``app``, ``client``, ``runner``, ``make_app``, ``make_user``, ``admin_client``, ``site_env``, ``server``,
``site``, ``browser_page``, the ``once`` marker skipped in the PostgreSQL pass and a PostgreSQL database
per xdist worker (``TIMEBANK_TEST_DATABASE_URL``). The default plugin list of ``make_app()`` is the ini
option ``timebank_plugins`` (pyproject.toml).

The plugin is registered by the entry point only (importing it here as a plugin would register it twice):
install the project (``pip install -e '.[test]'``) before running the suite. The helpers are re-exported
so that test modules keep writing ``from conftest import csrf_from, login, PASSWORD``.
"""
from __future__ import annotations

import pytest

from core.testing import (PASSWORD, csrf_from, database_url, flat, login, pdf_text,  # noqa: F401 - re-exported
                          reset_postgres, test_database_url)

PG_URL = test_database_url()
DEFAULT_PLUGINS = ["notices"]  # the ini option timebank_plugins


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("timebank"):
        raise pytest.UsageError("timebank's pytest plugin (core/testing.py) is not registered: install "
                                "the project with pip install -e '.[test]' (entry point pytest11)")
