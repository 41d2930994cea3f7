"""Hooks declared by the sms plugin (``HOOKSPECS`` in ``__init__.py``: the kernel adds them to the site's
plugin manager while the sms plugin is enabled).

Implement them in another plugin with ``@hookimpl(optionalhook=True)``: the specification exists only
while sms is enabled, and ``optionalhook`` keeps your plugin loading when it is not.
"""
from core.hookspecs import hookspec


@hookspec(firstresult=True)
def sms_phone_for(user):
    """Called when a message to ``user`` (a ``core.models.User``) goes out by SMS. Return the user's
    mobile number as stored (``+86 138-0013-8000`` is fine; the sms plugin normalises and validates it),
    or None when you do not know it. The first non-None answer wins."""
