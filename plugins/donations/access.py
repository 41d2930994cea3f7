"""Team isolation for donations (SECURITY.md AC6): a team admin reaches only the campaigns and
beneficiaries of its own team tree, and the donations, refunds and uses of points that belong to
them; the platform reaches everything. One mechanism (``scope_query`` + ``permission_allowed``) serves
the admin's lists, details, actions, exports and the plugin's own pages and services."""
from plugins.teams.services import admin_team_ids

from .models import Beneficiary, Campaign, Donation, Refund, Spend

SCOPED = (Campaign, Beneficiary, Donation, Refund, Spend)


def _owned(model, ids):
    if model in (Campaign, Beneficiary):
        return model.team.in_(ids)
    campaigns = Campaign.select(Campaign.id).where(Campaign.team.in_(ids))
    people = Beneficiary.select(Beneficiary.id).where(Beneficiary.team.in_(ids))
    if model in (Donation, Spend):
        return model.campaign.in_(campaigns) | model.beneficiary.in_(people)
    if model is Refund:
        return Refund.donation.in_(Donation.select(Donation.id).where(
            Donation.campaign.in_(campaigns) | Donation.beneficiary.in_(people)))
    return None


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None
    return _owned(model, ids or [-1])


def team_of(obj):
    """The team id an object belongs to (None when it cannot be told)."""
    if isinstance(obj, (Campaign, Beneficiary)):
        return obj.team_id
    if isinstance(obj, (Donation, Spend)):
        if obj.campaign_id:
            return Campaign.select(Campaign.team).where(Campaign.id == obj.campaign_id).scalar()
        if obj.beneficiary_id:
            return Beneficiary.select(Beneficiary.team).where(Beneficiary.id == obj.beneficiary_id).scalar()
    if isinstance(obj, Refund):
        return team_of(Donation.get_by_id(obj.donation_id))
    return None


def object_allowed(user, obj):
    if not isinstance(obj, SCOPED):
        return None
    ids = admin_team_ids(user)
    if ids is None:
        return None
    tid = team_of(obj)
    return tid is not None and tid in ids
