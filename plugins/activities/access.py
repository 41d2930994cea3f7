"""Team isolation for activities (SECURITY.md AC6): organisers reach only their own team tree's
activities, slots, sign-ups, records, feedback and photos."""
from plugins.teams.services import admin_team_ids

from .models import Activity, Feedback, Photo, ServiceRecord, Shift, SignUp

SCOPED = (Activity, Shift, SignUp, ServiceRecord, Feedback, Photo)


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None
    ids = ids or [-1]
    if model is Activity:
        return Activity.team.in_(ids)
    if model is ServiceRecord:
        return ServiceRecord.team.in_(ids)
    if model in (Shift, SignUp, Feedback, Photo):
        return model.activity.in_(Activity.select(Activity.id).where(Activity.team.in_(ids)))
    return None


def object_allowed(user, obj):
    model = type(obj)
    if model not in SCOPED:
        return None
    ids = admin_team_ids(user)
    if ids is None:
        return None
    if model is Activity:
        team_id = obj.team_id
    elif model is ServiceRecord:
        team_id = obj.team_id
    else:
        act = getattr(obj, "activity_id", None)
        team_id = Activity.get_by_id(act).team_id if act else None
    return team_id in ids if team_id is not None else None
