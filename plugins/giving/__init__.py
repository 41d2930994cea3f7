"""捐赠与票据 (R-DON-1..3): hook implementations only; the public API is services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role
from plugins.teams.scoping import team_scoped

PERMS = [("giving.donor.view", _l("View donors")), ("giving.donation.view", _l("View donations")),
         ("giving.donation.record", _l("Record donations and check goods")),
         ("giving.receipt.view", _l("View donation receipts")),
         ("giving.receipt.issue", _l("Issue donation receipts")),
         ("giving.receipt.void", _l("Void donation receipts")),
         ("giving.orginfo.manage", _l("Manage basic information, fundraising and projects")),
         ("giving.donation.import", _l("Import donations from a statement")),
         ("giving.report.view", _l("View and export giving reports"))]
# the team admin records, issues and reports; only the finance role (财务) voids a receipt (issue 15 point 7)
TEAM_ADMIN_PERMS = [name for name, _ in PERMS if name != "giving.receipt.void"]
FINANCE_PERMS = ["giving.donor.view", "giving.donation.view", "giving.receipt.view", "giving.receipt.void",
                 "giving.report.view"]


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


@hookimpl(specname="register_models")
def giving_report_register_models():
    """Basic information, projects and statement lines (issue 15 points 5, 6): separate modules."""
    from .imports import MODELS as IMPORTS
    from .orginfo import MODELS as ORGINFO
    return ORGINFO + IMPORTS


@hookimpl
def register_permissions():
    from .stock import STOCK_PERMS
    return [Permission(name, label) for name, label in PERMS + STOCK_PERMS]


@hookimpl
def register_roles():
    from .stock import STOCK_PERMS
    return [Role("team_admin", permissions=TEAM_ADMIN_PERMS + [name for name, _ in STOCK_PERMS]),
            Role("giving_finance", title=_l("Finance (donations)"), permissions=FINANCE_PERMS, scoped=True)]


def _scoped_models():
    from .imports import StatementLine
    from .models import Donation, Donor, Receipt
    from .orginfo import BasicInfo, Project
    from .stock import Allocation, Restriction, StockItem, StockMovement
    return {Donor: "team", Donation: "team", Receipt: "team", StockItem: "team", StockMovement: "team",
            Allocation: "team", Restriction: "team", BasicInfo: "team", Project: "team", StatementLine: "team"}


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
    from . import report_views  # noqa: F401  (basic information, import, exports, annual report on the same bp)
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


@hookimpl
def dashboard_widgets(user):
    """R-DON-4: changes of basic information not published within the setting's days (calendar days)."""
    from markupsafe import Markup
    from flask import url_for
    from flask_babel import gettext as _
    from core.security import can
    from core.web import Widget
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_ids
    from .orginfo import overdue
    from .services import SETTINGS
    if not can("giving.orginfo.manage", user=user):
        return None
    late = overdue(team_ids(user))
    days = SETTINGS.get("basic_info_publish_days")
    names = {t.id: t.name for t in Team.select(Team.id, Team.name).where(Team.id.in_([c["team_id"] for c in late] or [0]))}
    items = Markup("").join(Markup('<li><a href="{}">{}</a>: {}</li>').format(
        url_for("giving.orginfo_page", team_id=c["team_id"]), names.get(c["team_id"], c["team_id"]),
        _("changed on %(changed)s, due by %(deadline)s, %(n)s day(s) late", changed=c["changed_on"].isoformat(),
          deadline=c["deadline"].isoformat(), n=c["days_late"])) for c in late)
    html = Markup('<p class="display-6" id="giving-basic-info-overdue">{}</p><p class="small">{}</p><ul>{}</ul>'
                  '<a href="{}">{}</a>').format(
        len(late), _("A change of basic information must be published within %(n)s calendar days.", n=days), items,
        url_for("giving.overview"), _("Giving reports and exports"))
    return [Widget(_l("Basic information not published in time"), html, order=60, width=6)]


# ------------------------------------------------------------------ the privacy plugin's contract
@hookimpl(optionalhook=True)
def personal_data_declarations():
    from .privacy import declarations, stock_declarations
    return declarations() + stock_declarations()
