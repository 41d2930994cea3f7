"""Team isolation for assessments: a team admin reaches only assessments of teams in their tree."""
from plugins.teams.services import admin_team_ids

from .models import Assessment, Result


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None  # site-wide role
    ids = ids or [-1]
    if model is Assessment:
        return Assessment.team.in_(ids)
    if model is Result:
        return Result.assessment.in_(Assessment.select(Assessment.id).where(Assessment.team.in_(ids)))
    return None


SCOPED_MODELS = (Assessment, Result)


def team_allowed(user, team_id) -> bool:
    ids = admin_team_ids(user)
    return ids is None or team_id in ids
