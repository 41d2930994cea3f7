"""PDF downloads of 捐赠与票据: the receipt (R-DON-3) and the agreement (R-DON-2), for staff who reach the
donation's team (AC6: another team's id is a 404)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from core import audit, security

from . import services
from .models import RECEIPT_STATES, STATUSES, Donation, Receipt

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
    from . import orginfo
    from .stock import use_summary
    info = dict(services.disclosure(team, year), basic=orginfo.published(team.id), basic_fields=orginfo.BASIC_FIELDS,
                projects=orginfo.projects(team.id, year), project_kinds=orginfo.PROJECT_KINDS)
    return render_template("giving/disclosure.html", info=info, use=use_summary(team, year))


# ----------------------------------------------------------------- staff: one donation and its actions
ACTIONS = {"accept": "giving.donation.record", "refuse": "giving.donation.record",
           "issue": "giving.receipt.issue", "waive": "giving.receipt.issue", "void": "giving.receipt.void"}


@bp.route("/donations/<int:donation_id>", methods=["GET", "POST"])
@login_required
def donation(donation_id):
    """A donation with what staff do next (R-DON-1, R-DON-3): accept or refuse goods after the check,
    issue, waive or void the receipt. Each action is a POST (CSRF) through the services; bad input shows
    the Chinese message beside its field and writes nothing; another team's donation is a 404."""
    from flask import flash, redirect, request, url_for
    from flask_babel import gettext as _
    from flask_login import current_user
    from core.errors import FieldErrors
    d = _get(Donation, "giving.donation.view", donation_id)
    errors = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in ACTIONS or not security.can(ACTIONS[action], d):
            abort(403)
        try:
            if action in ("accept", "refuse"):
                services.check_goods(d, action == "accept", request.form.get("note", ""), current_user)
            elif action == "issue":
                services.issue_receipt(d, current_user, handler=request.form.get("handler", ""))
            elif action == "waive":
                services.waive_receipt(d, request.form.get("reason", ""), current_user)
            else:
                r = Receipt.get_or_none((Receipt.donation == d.id) & (Receipt.status == "issued"))
                if r is None:
                    abort(404)
                services.void_receipt(r, request.form.get("reason", ""), current_user)
        except services.GivingDenied:
            abort(404)
        except FieldErrors as e:
            errors = {k: str(v) for k, v in e.errors.items()}
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".donation", donation_id=d.id))
        d = Donation.get_by_id(d.id)
    receipts = list(Receipt.select().where(Receipt.donation == d.id).order_by(Receipt.id))
    return render_template("giving/donation.html", d=d, receipts=receipts, errors=errors,
                           masked=services.masked(d.donor), quantity=services.quantity_text(d),
                           agreement=services.agreement_required(d), statuses=STATUSES,
                           receipt_states=RECEIPT_STATES), (422 if errors else 200), \
        {"Cache-Control": "no-store"}


@bp.route("/record", methods=["GET", "POST"])
@login_required
def record():
    """Record a donor and a gift of money or goods (R-DON-1) for a team the user administers."""
    from flask import redirect, request, url_for
    from flask_login import current_user
    from core.errors import FieldErrors
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_ids
    from .models import CHANNELS, DONOR_KINDS
    ids = team_ids(current_user)
    teams = Team.select().where(Team.status == "approved").order_by(Team.name)
    if ids is not None:
        teams = teams.where(Team.id.in_(ids or [0]))
    teams = list(teams)
    if not teams or not security.can("giving.donation.record"):
        abort(403)
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            d = services.record_with_donor(request.form.to_dict(), current_user)
        except services.GivingDenied:
            abort(404)
        except FieldErrors as e:
            errors = {k: str(v) for k, v in e.errors.items()}
        else:
            return redirect(url_for(".donation", donation_id=d.id))
    return render_template("giving/record.html", teams=teams, errors=errors, form=form, donor_kinds=DONOR_KINDS,
                           channels=CHANNELS), (422 if errors else 200), {"Cache-Control": "no-store"}
