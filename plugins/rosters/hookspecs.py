"""Hooks declared by the rosters plugin (``HOOKSPECS`` in ``__init__.py``). A module of functions, as
docs/plugins.md says. Implement them in another plugin with ``@hookimpl(optionalhook=True)``."""
from core.hookspecs import hookspec


@hookspec
def roster_volunteer_remarks(volunteer_ids):
    """Remarks for the 备注 column of the volunteer roster (附录三), after the volunteer number: a dict
    volunteer id → short text (e.g. the star rating ★★) for any of ``volunteer_ids``. One call per roster."""
