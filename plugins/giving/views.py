"""PDF downloads of 捐赠与票据: the receipt (R-DON-3) and the agreement (R-DON-2), for staff who reach the
donation's team (AC6: another team's id is a 404)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from core import audit, security

from . import services
from .models import Donation, Receipt

bp = Blueprint("giving", __name__, url_prefix="/giving", template_folder="templates")


def _get(model, perm, obj_id):
    obj = model.get_or_none(model.id == obj_id)
    if obj is None or not security.can(perm, obj):
        abort(404)
    return obj


@bp.route("/receipts/<int:receipt_id>.pdf")
@login_required
def receipt_pdf(receipt_id):
    from plugins.documents.services import send
    r = _get(Receipt, "giving.receipt.view", receipt_id)
    data = services.receipt_pdf(r)
    audit.log("giving.receipt.printed", r, {"number": r.number})
    return send(data, f"捐赠票据-{r.number}.pdf", fallback=f"receipt-{r.number}.pdf")


@bp.route("/donations/<int:donation_id>/agreement.pdf")
@login_required
def agreement_pdf(donation_id):
    from plugins.documents.services import send
    d = _get(Donation, "giving.donation.view", donation_id)
    data = services.agreement_pdf(d)
    audit.log("giving.agreement.printed", d, {})
    return send(data, f"捐赠协议-{d.id}.pdf", fallback=f"agreement-{d.id}.pdf")


@bp.route("/disclosure/<int:team_id>")
def disclosure(team_id):
    """The public page of a team's donations (R-DON-4): no login; donors named only when they agreed."""
    from core.inputs import arg_int
    from plugins.teams.models import Team
    team = Team.get_or_none((Team.id == team_id) & (Team.status == "approved"))
    if team is None:
        abort(404)
    from core.db import today
    year = arg_int("year", today().year, min=2000, max=today().year)
    return render_template("giving/disclosure.html", info=services.disclosure(team, year))
