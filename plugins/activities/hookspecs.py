"""Hooks declared by the activities plugin (``HOOKSPECS`` in ``__init__.py``: the kernel adds them to the
site's plugin manager while activities is enabled). A module of functions, as docs/plugins.md says:
pluggy reads a class's functions as methods and warns (an error in a later pluggy) when they lack ``self``.

Implement them in another plugin with ``@hookimpl(optionalhook=True)``.
"""
from core.hookspecs import hookspec


@hookspec
def activity_admin_links(activity, user):
    """Buttons on an activity's admin page (e.g. its printable forms): a list of (title, url) the
    ``user`` may follow for ``activity``. Implement with ``@hookimpl(optionalhook=True)``."""
