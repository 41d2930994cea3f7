"""Who manages what (SECURITY.md AC6): a platform admin every partner, item and redemption; a team
admin the partners of its own team tree, their items and the redemptions of those items. A partner
without a team belongs to the platform. One expression per model serves lists, details, edits,
actions, exports, ajax lookups and relation pickers (``scope_query``) and object checks
(``permission_allowed``)."""
import peewee as pw

from plugins.teams.services import admin_team_ids

from .models import Item, Partner, Redemption

SCOPED = (Partner, Item, Redemption)


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None
    ids = ids or [-1]
    partners = Partner.select(Partner.id).where(Partner.team.in_(ids))
    if model is Partner:
        return Partner.team.in_(ids)
    if model is Item:
        return Item.partner.in_(partners)
    if model is Redemption:
        return Redemption.item.in_(Item.select(Item.id).where(Item.partner.in_(partners)))
    return None


def object_allowed(user, obj):
    model = type(obj)
    if model not in SCOPED:
        return None
    ids = admin_team_ids(user)
    if ids is None:
        return None
    if model is Partner:
        return obj.team_id is not None and obj.team_id in ids
    if model is Item:
        partner = Partner.get_or_none(Partner.id == obj.partner_id) if obj.partner_id else None
        return partner is not None and partner.team_id in ids
    if obj.id is None:
        return False
    expr = scope_expression(model, user)
    return model.select(pw.Value(1)).where(expr & (model.id == obj.id)).exists()
