"""Who sees which part of the ledger (SECURITY.md AC6): a platform admin everything; a team admin the
accounts of its own team tree (team and campaign accounts), of the volunteers who are members of it,
and the transfers and hours credits that touch them."""
import peewee as pw

from plugins.teams.models import Membership
from plugins.teams.services import admin_team_ids

from .models import Account, Entry, HoursCredit, Transfer

SCOPED = (Account, Transfer, Entry, HoursCredit)


def account_ids_query(ids):
    members = Membership.select(Membership.volunteer).where(
        Membership.team.in_(ids) & (Membership.status == "approved"))
    return Account.select(Account.id).where(
        Account.team_id.in_(ids) | ((Account.kind == "volunteer") & Account.owner_id.in_(members)))


def scope_expression(model, user):
    ids = admin_team_ids(user)
    if ids is None:
        return None
    ids = ids or [-1]
    accounts = account_ids_query(ids)
    if model is Account:
        return Account.id.in_(accounts)
    if model is Transfer:
        return Transfer.debit.in_(accounts) | Transfer.credit.in_(accounts)
    if model is Entry:
        return Entry.account.in_(accounts)
    if model is HoursCredit:
        return HoursCredit.team_id.in_(ids)
    return None


def object_allowed(user, obj):
    model = type(obj)
    if model not in SCOPED:
        return None
    ids = admin_team_ids(user)
    if ids is None:
        return None
    expr = scope_expression(model, user)
    return model.select(pw.Value(1)).where(expr & (model.id == obj.id)).exists()
