"""Hooks the incentives plugin declares (docs/plugins.md "Hooks a plugin declares")."""
from core.hookspecs import hookspec


@hookspec
def incentive_indicators(team_ids, start, end):
    """Evaluation indicators (R-INC-3, 篇5 一(二)4) computed from the data this plugin holds, for the
    activities, gifts, funds… of the teams ``team_ids`` (a list of team ids: a team tree, the teams of a
    district; None = the whole site) in the period ``start``–``end`` (dates, inclusive). Return a list of
    dicts: ``code`` (unique, ``<plugin>.<name>``), ``label`` (translated), ``unit`` (``"%"``, ``"人次"``,
    ``"元"``…), ``value`` (int or Decimal; None when there is nothing to measure), optionally ``target``
    (a number; the incentives plugin's own setting wins for the codes it sets targets for), ``better``
    (``"higher"`` — the default — or ``"lower"``: a rate to keep under its target) and ``how`` (one
    sentence: how it is computed). Mark the implementation ``@hookimpl(optionalhook=True)``."""
