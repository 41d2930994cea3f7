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


@hookspec(firstresult=True)
def photo_original_public(photo, recipient_ids):
    """May the original of ``photo`` (a Photo marked as showing service recipients) be shown on public
    pages? ``recipient_ids``: the recipients named on it (a list of ints, maybe empty). Return True only
    when every one of them has a standing consent (R-PRIV-3); the first answer counts. With no answer
    (the privacy plugin disabled) public pages serve the copy with the faces blurred. Asked each time the
    public copy is served, so a withdrawn consent counts at once. Implement with
    ``@hookimpl(optionalhook=True)`` (the privacy plugin does)."""
