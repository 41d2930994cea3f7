"""The exchange plugin's answers to the privacy plugin's contract (issue 13 point 1): a volunteer's
redemptions (receipts DH…), and the contact of a partner."""
from flask_babel import lazy_gettext as _l

from .models import Partner, Redemption


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Redemption, {"volunteer": "personal", "cancel_reason": "personal"}, "volunteer",
                    _l("Points a volunteer exchanged for services or goods"), _l("Contract (PIPL 13(2))"),
                    _l("Kept with their receipt numbers (LG7); reasons removed on erasure"),
                    _l("Platform admins; the partner's team admins; the volunteer"),
                    shared_with=_l("The partner business that serves the exchange")),
        Declaration(Partner, {"contact": "personal"}, "contact", _l("Reaching a partner"),
                    _l("Contract (PIPL 13(2))"), _l("While the partner is listed"), _l("Platform admins")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    rs = list(Redemption.select().where(Redemption.volunteer == subject.volunteer_id).order_by(Redemption.id))
    return ExportPart(
        _l("Exchanges"), [_l("Receipt"), _l("Item"), _l("Quantity"), _l("Points"), _l("Status"), _l("Time")],
        [[r.number, r.item_name, r.quantity, r.points, r.status, r.created_at] for r in rs],
        [{"number": r.number, "item": r.item_name, "quantity": r.quantity, "points": r.points,
          "status": r.status, "created_at": r.created_at, "cancel_reason": r.cancel_reason} for r in rs])


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.volunteer_id:
        return None
    Redemption.update(cancel_reason="").where(Redemption.volunteer == subject.volunteer_id).execute()
    return ErasePart(_l("Exchanges"), removed=[_l("Reasons given on cancelled exchanges")],
                     kept=[_l("Receipts with their numbers and points (LG7), under the volunteer number")])
