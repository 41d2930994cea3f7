"""捐赠与票据 (R-DON-1..3): hook implementations only; the public API is services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role
from plugins.teams.scoping import team_scoped

PERMS = [("giving.donor.view", _l("View donors")), ("giving.donation.view", _l("View donations")),
         ("giving.donation.record", _l("Record donations and check goods")),
         ("giving.receipt.view", _l("View donation receipts")),
         ("giving.receipt.issue", _l("Issue donation receipts")),
         ("giving.receipt.void", _l("Void donation receipts"))]


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def register_permissions():
    return [Permission(name, label) for name, label in PERMS]


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=[name for name, _ in PERMS])]


def _scoped_models():
    from .models import Donation, Donor, Receipt
    return {Donor: "team", Donation: "team", Receipt: "team"}


# a team admin reaches the donors, donations and receipts of its own team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="giving")


@hookimpl
def register_admin_views(admin):
    from .admin import DonationView, DonorView, ReceiptView
    from .models import Donation, Donor, Receipt
    cat = _l("Donations and receipts")
    return [DonorView(Donor, name=_l("Donors"), endpoint="giving_donor", category=cat),
            DonationView(Donation, name=_l("Donations received"), endpoint="giving_donation", category=cat),
            ReceiptView(Receipt, name=_l("Donation receipts"), endpoint="giving_receipt", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def site_checks():
    """``timebank check``: receipts agree with the numbering register and their donations."""
    from .services import verify
    problems = verify()
    if not problems:
        return [("giving.receipts", True, "donation receipts match the number register")]
    return [("giving.receipts", False, f"{len(problems)} problem(s), first: {problems[0]}")]


# ------------------------------------------------------------------ the privacy plugin's contract
@hookimpl(optionalhook=True)
def personal_data_declarations():
    from .privacy import declarations
    return declarations()


@hookimpl(optionalhook=True)
def incentive_indicators(team_ids, start, end):
    """Evaluation indicators for the incentives plugin's dashboard (R-INC-3)."""
    from .indicators import indicators
    return indicators(team_ids, start, end)
