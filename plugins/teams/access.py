"""Team isolation (SECURITY.md AC6): a team admin reaches only their own team tree, everywhere.

Returned expressions feed ``core.security.scoped`` (lists, details, edits, deletes, actions, exports,
ajax lookups, relation pickers) and the object checks in ``permission_allowed``.
"""
from plugins.volunteers.models import Application, DataRequest, Volunteer

from .models import Membership, Position, SubTeamRequest, Team
from .services import admin_team_ids


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None  # site-wide role: no restriction
    ids = ids or [-1]
    if model is Team:
        return Team.id.in_(ids)
    if model is Membership:
        return Membership.team.in_(ids)
    if model is Position:
        return Position.team.in_(ids)
    if model is SubTeamRequest:
        return SubTeamRequest.child.in_(ids) | SubTeamRequest.parent.in_(ids)
    if model is Volunteer:
        return Volunteer.id.in_(Membership.select(Membership.volunteer).where(
            Membership.team.in_(ids) & Membership.status.in_(["pending", "approved"]))) | \
            Volunteer.id.in_(Application.select(Application.volunteer).where(Application.team_id.in_(ids)))
    if model is Application:   # registration applications of people who chose one of its teams (R-REG-7)
        return Application.team_id.in_(ids)
    if model is DataRequest:
        return DataRequest.volunteer.in_(Membership.select(Membership.volunteer).where(
            Membership.team.in_(ids) & (Membership.status == "approved")))
    return None


SCOPED_MODELS = (Team, Membership, Position, SubTeamRequest, Volunteer, DataRequest, Application)


def object_allowed(user, obj) -> bool | None:
    """None when the object is not ours to judge; otherwise whether it is inside the user's tree."""
    model = type(obj)
    if model not in SCOPED_MODELS:
        return None
    expr = scope_expression(model, user)
    if expr is None:
        return None
    pk = getattr(obj, model._meta.primary_key.name, None)
    if pk is None:  # a record being created: judge by the team it points to
        team_id = getattr(obj, "team_id", None) or getattr(obj, "child_id", None)
        if team_id is None:
            return None
        ids = admin_team_ids(user) or []
        return team_id in ids
    return model.select().where((model._meta.primary_key == pk) & expr).exists()
