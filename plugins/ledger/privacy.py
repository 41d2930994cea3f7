"""The ledger's answers to the privacy plugin's contract (issue 13 point 1): a volunteer's points account
and its history. Erasure removes the name from the account and keeps every transfer: the books must
still add up (LG1–LG3, ``timebank ledger verify``)."""
from flask_babel import lazy_gettext as _l

from .models import Account, Entry, Transfer


def declarations():
    from plugins.privacy.contract import Declaration
    return [Declaration(Account, {"name": "personal", "owner_id": "personal"}, "volunteer",
                        _l("The volunteer's time points (R-TB)"),
                        _l("Contract; bookkeeping that must stay complete (LG1)"),
                        _l("Kept with its history; the name is removed on erasure"),
                        _l("The volunteer; platform admins"))]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    acct = Account.get_or_none(Account.code == f"volunteer:{subject.volunteer_id}")
    if acct is None:
        return None
    rows = list(Entry.select(Entry, Transfer).join(Transfer).where(Entry.account == acct.id).order_by(Entry.id))
    return ExportPart(
        _l("Time points"), [_l("Time"), _l("Kind"), _l("Points"), _l("Balance"), _l("Reason")],
        [[e.created_at, e.transfer.kind, e.amount, e.balance_after, e.transfer.reason] for e in rows],
        {"account": acct.name, "balance": acct.balance, "service_minutes": acct.service_minutes,
         "training_minutes": acct.training_minutes,
         "entries": [{"created_at": e.created_at, "kind": e.transfer.kind, "amount": e.amount,
                      "balance_after": e.balance_after, "reason": e.transfer.reason} for e in rows]})


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    from .services import anonymise_volunteer
    if not subject.volunteer_id:
        return None
    anonymise_volunteer(subject.volunteer_id)
    return ErasePart(_l("Time points"), removed=[_l("The name on the points account"),
                                                 _l("The free-text reasons of their transfers")],
                     kept=[_l("The balance and every transfer, under the volunteer number: the books must "
                              "add up (LG1)")])
