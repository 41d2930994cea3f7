"""The donations plugin's answers to the privacy plugin's contract (issue 13 point 1): a volunteer's
donations, and the people in need who receive them (服务对象, data subjects of their own)."""
from flask_babel import lazy_gettext as _l

from .models import Beneficiary, Donation


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Donation, {"volunteer": "personal", "message": "personal"}, "volunteer",
                    _l("Points a volunteer donated, and their message"), _l("Consent (PIPL 13(1))"),
                    _l("Kept: append-only like the ledger (LG1)"), _l("Platform admins; the donor")),
        Declaration(Beneficiary, {"name": "personal", "description": "personal"}, "recipient",
                    _l("People in need who receive donated points (R-REC-1)"), _l("Consent (PIPL 13(1))"),
                    _l("While they receive help"), _l("Platform admins; the vouching team's admins")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    ds = list(Donation.select().where(Donation.volunteer == subject.volunteer_id).order_by(Donation.id))
    return ExportPart(
        _l("Donations"), [_l("Time"), _l("Points"), _l("Given to"), _l("Message"), _l("Anonymous")],
        [[d.created_at, d.amount, str(d.target), d.message, d.anonymous] for d in ds],
        [{"created_at": d.created_at, "amount": d.amount, "to": str(d.target), "message": d.message,
          "anonymous": d.anonymous} for d in ds])


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.volunteer_id:
        return None
    from .models import Refund
    mine = Donation.select(Donation.id).where(Donation.volunteer == subject.volunteer_id)
    Donation.update(message="").where((Donation.volunteer == subject.volunteer_id) & (Donation.message != "")).execute()
    Refund.update(reason="").where(Refund.donation.in_(mine) & (Refund.reason != "")).execute()
    return ErasePart(_l("Donations"), removed=[_l("The donors' messages and the reasons of refunds")],
                     kept=[_l("Donations are append-only, like the ledger (LG1): they stay under the volunteer "
                              "number, no longer with the name")])
