"""The certificates plugin's answers to the privacy plugin's contract (issue 13 point 1): a volunteer's
service certificates (附录五). Issued certificates keep their numbers (LG7) after erasure."""
from flask_babel import lazy_gettext as _l

from .models import Certificate


def declarations():
    from plugins.privacy.contract import Declaration
    return [Declaration(Certificate, {"volunteer": "personal", "purpose_other": "personal", "reason": "personal"},
                        "volunteer", _l("Service certificates the volunteer asked for (附录五)"),
                        _l("Contract (PIPL 13(2))"),
                        _l("Kept with their numbers (LG7); the name goes with the volunteer record"),
                        _l("The volunteer; the issuing team's admins; anyone holding the verification link"))]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    certs = list(Certificate.select().where(Certificate.volunteer == subject.volunteer_id).order_by(Certificate.id))
    return ExportPart(
        _l("Service certificates"), [_l("Number"), _l("Status"), _l("Purpose"), _l("Hours"), _l("Issued")],
        [[c.number or "", c.status, c.purpose_text, round(c.hours, 1), c.issued_on] for c in certs],
        [{"number": c.number, "status": c.status, "purpose": c.purpose, "purpose_other": c.purpose_other,
          "total_minutes": c.total_minutes, "period_start": c.period_start, "period_end": c.period_end,
          "issued_on": c.issued_on, "reason": c.reason} for c in certs])


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.volunteer_id:
        return None
    Certificate.update(purpose_other="").where(Certificate.volunteer == subject.volunteer_id).execute()
    return ErasePart(_l("Service certificates"), removed=[_l("The free-text purpose of each certificate")],
                     kept=[_l("Issued certificates with their numbers and hours (LG7); they show the volunteer "
                              "number, no longer the name")])
