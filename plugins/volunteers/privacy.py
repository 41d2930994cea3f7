"""The volunteers plugin's answers to the privacy plugin's contract (issue 13 point 1). They reuse this
plugin's own export (``services.export_own``) and erasure (``services.erase``); the tags are the
plugin's sensitivity tags (``models.SENSITIVITY``, PR1)."""
from flask_babel import lazy_gettext as _l

from .models import SENSITIVITY, Application, DataRequest, Volunteer


def declarations():
    from plugins.privacy.contract import Declaration
    from .labels import LABELS
    fields = {f: tag for f, tag in SENSITIVITY.items() if tag != "public"}
    fields.update(user="personal", id_hash="sensitive", phone_hash="sensitive", pledge_accepted_at="sensitive",
                  remarks="personal")
    return [
        Declaration(Volunteer, fields, "volunteer", _l("Registering and managing volunteers (附录一, R-REG)"),
                    _l("Contract (PIPL 13(2)); separate consent for sensitive data (PIPL 29)"),
                    _l("Until erased on request, or after the inactivity set in the volunteers settings"),
                    _l("Platform admins; team admins of the volunteer's teams (masked)"), labels=LABELS),
        Declaration(DataRequest, {"volunteer": "personal", "details": "personal", "outcome": "personal"},
                    "volunteer", _l("The volunteer's requests about their data (PIPL 44–47)"),
                    _l("Legal obligation (PIPL 50)"), _l("Kept as the record of the request; details removed on erasure"),
                    _l("Platform admins")),
        Declaration(Application, {"volunteer": "personal", "reason": "personal"}, "volunteer",
                    _l("Reviewing registration applications (R-REG-7)"), _l("Contract (PIPL 13(2))"),
                    _l("While the volunteer record exists"), _l("Platform admins; the chosen team's admins")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    from .labels import LABELS
    from .services import export_own
    if not subject.volunteer_id:
        return None
    v = Volunteer.get_or_none(Volunteer.id == subject.volunteer_id)
    if v is None:
        return None
    data = export_own(v)
    rows = [[LABELS.get(k, k), val] for k, val in data.items() if k != "requests" and val not in ("", None)]
    return [ExportPart(_l("Volunteer record"), [_l("Item"), _l("Value")], rows, data),
            ExportPart(_l("Personal-data requests"), [_l("Kind"), _l("Status"), _l("Created"), _l("Outcome")],
                       [[r["kind"], r["status"], r["created_at"], r["outcome"]] for r in data["requests"]],
                       data["requests"])]


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    from .services import erase as erase_volunteer
    if not subject.volunteer_id:
        return None
    v = Volunteer.get_or_none(Volunteer.id == subject.volunteer_id)
    if v is None:
        return None
    # failed account claims are counted for the lockout window under the name typed: the number or the mobile
    from core.models import LoginFailure
    typed = [f"user:{x.lower()}"[:195] for x in (v.number, v.phone) if x]
    LoginFailure.delete().where(LoginFailure.key.in_(typed)).execute()
    erase_volunteer(v, actor=actor, reason="request")
    Application.update(reason="").where(Application.volunteer == v.id).execute()
    return ErasePart(_l("Volunteer record"),
                     removed=[_l("Name, ID number, phone and every optional field; the login is closed")],
                     kept=[_l("The volunteer number, gender and district, for statistics and the records that "
                              "rest on the number (R-NAT-6)")])
