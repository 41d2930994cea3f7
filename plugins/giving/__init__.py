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
    from .stock import MODELS as STOCK_MODELS
    return MODELS + STOCK_MODELS


@hookimpl
def load_reference_data():
    """Once per site: stock movements and allocations are append-only (LG1; migration 0002 on upgrades)."""
    from core.db import append_only
    from .stock import APPEND_ONLY
    for table in APPEND_ONLY:
        append_only(table)


@hookimpl
def register_permissions():
    from .stock import STOCK_PERMS
    return [Permission(name, label) for name, label in PERMS + STOCK_PERMS]


@hookimpl
def register_roles():
    from .stock import STOCK_PERMS
    return [Role("team_admin", permissions=[name for name, _ in PERMS + STOCK_PERMS])]


def _scoped_models():
    from .models import Donation, Donor, Receipt
    from .stock import Allocation, Restriction, StockItem, StockMovement
    return {Donor: "team", Donation: "team", Receipt: "team", StockItem: "team", StockMovement: "team",
            Allocation: "team", Restriction: "team"}


# a team admin reaches the donors, donations and receipts of its own team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="giving")


@hookimpl
def register_admin_views(admin):
    from .admin import DonationView, DonorView, ReceiptView
    from .models import Donation, Donor, Receipt
    cat = _l("Donations and receipts")
    return [DonorView(Donor, name=_l("Donors"), endpoint="giving_donor", category=cat),
            DonationView(Donation, name=_l("Donations received"), endpoint="giving_donation", category=cat),
            ReceiptView(Receipt, name=_l("Donation receipts"), endpoint="giving_receipt", category=cat),
            *stock_admin_views(cat)]


def stock_admin_views(cat):
    from .stock import Allocation, StockItem, StockMovement
    from .stock_admin import AllocationView, MovementView, StockItemView
    return [StockItemView(StockItem, name=_l("Donated goods in stock"), endpoint="giving_stock", category=cat),
            MovementView(StockMovement, name=_l("Stock movements"), endpoint="giving_movement", category=cat),
            AllocationView(Allocation, name=_l("Allocations of donated money"), endpoint="giving_allocation",
                           category=cat)]


@hookimpl
def register_blueprints(app):
    from .stock_views import bp as stock_bp
    from .views import bp
    return [bp, stock_bp]


@hookimpl
def site_checks():
    """``timebank check``: receipts agree with the numbering register and their donations."""
    from .services import verify
    problems = verify()
    if not problems:
        out = [("giving.receipts", True, "donation receipts match the number register")]
    else:
        out = [("giving.receipts", False, f"{len(problems)} problem(s), first: {problems[0]}")]
    from .stock import verify as verify_stock      # issue 15 point 4: stock, allocations, receipts reconcile
    ok = {"giving.stock": "stock on hand = in - out >= 0 for every item",
          "giving.allocations": "allocations <= money received, within each restriction",
          "giving.receipts_due": "every accepted donation has a valid or waived receipt (or is anonymous)"}
    for name, found in verify_stock().items():
        out.append((name, True, ok[name]) if not found
                   else (name, False, f"{len(found)} problem(s), first: {found[0]}"))
    return out


# ------------------------------------------------------------------ the privacy plugin's contract
@hookimpl(optionalhook=True)
def personal_data_declarations():
    from .privacy import declarations, stock_declarations
    return declarations() + stock_declarations()
