"""Team scoping in one declaration (SECURITY.md AC6, issue 12 point 3): a public API of the teams plugin.

A plugin whose models belong to a team declares, in its ``__init__.py``::

    from plugins.teams.scoping import team_scoped

    scope_query, permission_allowed = team_scoped(
        lambda: {Application: "team",                   # a team column
                 Review: "application.team",            # a team reached through relations
                 Grant: ("sponsor.team", "donor.team"), # several: any of them
                 Ledger: lambda ids: Ledger.id.in_(…)}, # anything else: an expression of the team ids
        prefix="funding")

and gets the two hook implementations (already ``@hookimpl``-marked):

- ``scope_query``: the rows of those models a user reaches are the ones whose team is in the user's team
  tree (``admin_team_ids``: the teams they administer with their sub-teams). Lists, details, edits,
  deletes, bulk actions, exports, ajax lookups and relation pickers all go through it.
- ``permission_allowed``: an object check (``core.security.can(perm, obj)``) on one of those objects is
  answered from the object's team — the team it points to now, also for a row not saved yet.

The rules, the same for every plugin:

- a site-wide role (platform admin) reaches everything (both hooks abstain);
- a team-scoped user reaches the objects of their team tree only;
- an object with no team (an empty team column, a relation that leads nowhere) or with a team outside the
  tree is denied — never "not my business";
- ``prefix`` limits the object check to permissions ``<prefix>.…`` (None: every permission); the row
  scoping applies under every permission, since a row is out of reach whoever asks for it.

The mapping may be given as a function returning it, so that models are imported on first use (plugins
import their models lazily).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import peewee as pw

from core import hookimpl

Path = Any  # "team" | "a.b.team" | (path, …) | callable(ids) -> expression


def team_ids(user) -> list[int] | None:
    """The teams ``user`` administers with their sub-teams; None for a site-wide role (all teams)."""
    from .services import admin_team_ids
    return admin_team_ids(user)


def team_allowed(user, team_id) -> bool:
    """May ``user`` act for the team ``team_id``? (A site-wide role: every team; nobody: no team.)"""
    ids = team_ids(user)
    return ids is None or (team_id is not None and team_id in ids)


def _paths(spec) -> list:
    if callable(spec) or isinstance(spec, str):
        return [spec]
    return list(spec)


def _field(model, name: str):
    field = model._meta.fields.get(name)
    if field is None:  # "team_id" written for a foreign key called "team"
        field = next((f for f in model._meta.fields.values() if getattr(f, "column_name", None) == name), None)
    if field is None:
        raise ValueError(f"team_scoped: {model.__name__} has no field {name!r}")
    return field


def path_expression(model, path: str, ids: list[int]):
    """``model``'s rows whose ``path`` (``"team"``, ``"activity.team"``) ends in one of ``ids``."""
    head, _, rest = path.partition(".")
    field = _field(model, head)
    if not rest:
        return field.in_(ids)
    if not isinstance(field, pw.ForeignKeyField):
        raise ValueError(f"team_scoped: {model.__name__}.{head} is not a relation")
    rel = field.rel_model
    return field.in_(rel.select(rel._meta.primary_key).where(path_expression(rel, rest, ids)))


def path_team(obj, path: str):
    """The team id ``obj`` reaches through ``path``, read from the object itself (so an unsaved or just
    changed object is judged by what it points to now); None when a link is empty or missing."""
    head, _, rest = path.partition(".")
    field = _field(type(obj), head)
    value = obj.__data__.get(field.name)
    if not rest or value is None:
        return value
    rel = field.rel_model
    nxt = rel.get_or_none(rel._meta.primary_key == value)
    return None if nxt is None else path_team(nxt, rest)


class TeamScope:
    """The models of one plugin that belong to teams, and how each reaches its team."""

    def __init__(self, models: dict | Callable[[], dict], prefix: str | None = None):
        self._models = models
        self._resolved: dict | None = None
        self.prefix = prefix

    @property
    def models(self) -> dict:
        if self._resolved is None:
            models = self._models() if callable(self._models) else self._models
            self._resolved = {m: _paths(spec) for m, spec in models.items()}
        return self._resolved

    def expression(self, model, ids: list[int]):
        """The rows of ``model`` that belong to one of the teams ``ids``."""
        ids = list(ids) or [-1]
        out = None
        for path in self.models[model]:
            e = path(ids) if callable(path) else path_expression(model, path, ids)
            out = e if out is None else (out | e)
        return out

    def scope_query(self, model, query, user, permission):
        if model not in self.models:
            return None
        ids = team_ids(user)
        return None if ids is None else self.expression(model, ids)

    def permission_allowed(self, user, permission, obj):
        if obj is None or type(obj) not in self.models:
            return None
        if self.prefix and not str(permission).startswith(self.prefix + "."):
            return None
        ids = team_ids(user)
        if ids is None:
            return None  # site-wide role
        model = type(obj)
        for path in self.models[model]:
            if callable(path):  # only a stored row can be judged by an expression
                pk = obj.__data__.get(model._meta.primary_key.name)
                if pk is not None and model.select(pw.Value(1)).where(
                        (model._meta.primary_key == pk) & path(ids or [-1])).exists():
                    return True
            elif path_team(obj, path) in ids:
                return True
        return False  # no team, an unknown team, or a team outside the tree: deny


def team_scoped(models: dict | Callable[[], dict], prefix: str | None = None):
    """``(scope_query, permission_allowed)``: hook implementations scoping ``models`` to the user's team
    tree (see the module's docstring). Assign them to those names in a plugin's ``__init__.py``."""
    scope = TeamScope(models, prefix)

    def scope_query(model, query, user, permission):
        return scope.scope_query(model, query, user, permission)

    def permission_allowed(user, permission, obj):
        return scope.permission_allowed(user, permission, obj)

    scope_query.team_scope = permission_allowed.team_scope = scope
    permission_allowed.object_only = True   # abstains without an object: page-level checks skip it
    return hookimpl(scope_query), hookimpl(permission_allowed)


__all__ = ["team_scoped", "team_allowed", "team_ids", "TeamScope", "path_expression", "path_team"]
