"""Hooks declared by the certificates plugin (``HOOKSPECS`` in ``__init__.py``). A module of functions, as
docs/plugins.md says. Implement them in another plugin with ``@hookimpl(optionalhook=True)``."""
from core.hookspecs import hookspec


@hookspec
def certificate_verification_lines(certificate):
    """Extra lines on the public verification page of ``certificate`` (e.g. the holder's star rating):
    a list of (label, text). Public, no login: nothing personal beyond what the page already shows."""
