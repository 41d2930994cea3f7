"""The giving plugin's answers to the privacy plugin's contract (issue 13 point 1): a donor is a contact
person of the receiving team (not a volunteer account), so it has no export or erasure by volunteer; the
processing record lists what is held and why."""
from flask_babel import lazy_gettext as _l

from .models import Donor, Receipt
from .orginfo import BasicInfo


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Donor, {"name": "personal", "address": "personal", "phone": "sensitive",
                            "id_number": "sensitive"}, "contact",
                    _l("Recording donations, issuing receipts and agreements (Charity Law)"),
                    _l("Legal obligation (PIPL 13(3))"),
                    _l("As long as the donation records must be kept"),
                    _l("Platform admins; the receiving team's admins"),
                    labels={"name": _l("Donor name"), "address": _l("Address"), "phone": _l("Phone"),
                            "id_number": _l("ID number")}),
        Declaration(Receipt, {"donor_name": "personal"}, "contact",
                    _l("Donation receipts stating the donor (R-DON-3)"), _l("Legal obligation (PIPL 13(3))"),
                    _l("Kept with their receipt numbers (LG7)"),
                    _l("Platform admins; the receiving team's admins"),
                    labels={"donor_name": _l("Donor name")}),
        Declaration(BasicInfo, {"principal": "personal", "contact": "personal"}, "contact",
                    _l("Publishing the organisation's basic information (Charity Law, R-DON-4)"),
                    _l("Legal obligation (PIPL 13(3))"),
                    _l("Kept as the history of the organisation's basic information"),
                    _l("The public (published versions); the team's admins"),
                    labels={"principal": _l("Person in charge"), "contact": _l("Contact details")}),
    ]


def stock_declarations():
    """Issue 15 point 4: the name of a beneficiary goods or money were given to (free text when the
    recipients plugin is not loaded; its recipients are declared by that plugin)."""
    from plugins.privacy.contract import Declaration
    from .stock import Allocation, StockMovement
    return [Declaration(model, {"beneficiary": "personal"}, "contact",
                        _l("Recording who received donated goods or money (Charity Law)"),
                        _l("Legal obligation (PIPL 13(3))"), _l("As long as the donation records must be kept"),
                        _l("Platform admins; the receiving team's admins"),
                        labels={"beneficiary": _l("Beneficiary")})
            for model in (StockMovement, Allocation)]
