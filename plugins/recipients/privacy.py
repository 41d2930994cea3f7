"""The recipients plugin's answers to the privacy plugin's contract (issue 13 points 1 and 4): what the
register holds about a service recipient, their export and their erasure."""
from flask_babel import lazy_gettext as _l

from .models import SENSITIVITY, FollowUp, Recipient, Referral, ServiceRequest, Wish


def declarations():
    from plugins.privacy.contract import Declaration
    who = _l("Platform admins; the admins of the recipient's team (masked)")
    return [
        Declaration(Recipient, dict(SENSITIVITY), "recipient",
                    _l("The service recipients register (R-REC-1)"),
                    _l("Consent of the person or the guardian (PIPL 13(1), 31)"),
                    _l("While the person is served; erased on request"), who),
        Declaration(FollowUp, {"notes": "personal"}, "recipient", _l("Follow-up visits to recipients"),
                    _l("Consent (PIPL 13(1))"), _l("With the recipient's file"), who),
        Declaration(Wish, {"wish": "personal"}, "recipient", _l("Micro-wishes of recipients"),
                    _l("Consent (PIPL 13(1))"), _l("With the recipient's file"), who),
        Declaration(ServiceRequest, {"service": "personal", "outcome": "personal"}, "recipient",
                    _l("Services recipients applied for"), _l("Consent (PIPL 13(1))"),
                    _l("With the recipient's file"), who),
        Declaration(Referral, {"to_body": "personal", "reason": "personal"}, "recipient",
                    _l("Referrals of a recipient's file to another body (附录十一 第十二条)"),
                    _l("Separate consent (PIPL 23)"), _l("With the recipient's file"), who),
    ]


def _recipient(subject):
    rid = getattr(subject, "recipient_id", None)
    if subject.kind != "recipient" or not rid:
        return None
    return Recipient.get_or_none((Recipient.id == rid) & (Recipient.status != "erased"))


def export(subject):
    from plugins.privacy.contract import ExportPart
    from .services import export_of
    r = _recipient(subject)
    if r is None:
        return None
    data = export_of(r)
    rows = [[k, v] for k, v in data.items() if not isinstance(v, list) and v not in ("", None)]
    return [ExportPart(_l("Recipient's file"), [_l("Item"), _l("Value")], rows,
                       {k: v for k, v in data.items() if not isinstance(v, list)}),
            ExportPart(_l("Follow-up visits"), [_l("Date"), _l("By"), _l("Notes")],
                       [[f["visited_on"], f["visited_by"], f["notes"]] for f in data["follow_ups"]],
                       data["follow_ups"]),
            ExportPart(_l("Micro-wishes"), [_l("Wish"), _l("Collected"), _l("Fulfilled by"), _l("Fulfilled")],
                       [[w["wish"], w["collected_on"], w["fulfilled_by"], w["fulfilled_on"]] for w in data["wishes"]],
                       data["wishes"]),
            ExportPart(_l("Referrals"), [_l("To"), _l("Reason"), _l("Date")],
                       [[x["to_body"], x["reason"], x["referred_on"]] for x in data["referrals"]],
                       data["referrals"])]


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    from .services import erase as erase_recipient
    r = _recipient(subject)
    if r is None:
        return None
    erase_recipient(r, actor=actor)
    return ErasePart(_l("Recipient's file"),
                     removed=[_l("Name, ID number, phone, guardian, address, needs, notes; the text of visits, "
                                 "wishes, applications and referrals")],
                     kept=[_l("The team, the file kind, the category and the dates, for the quarter's filing "
                              "counts")])
