"""Public pages: campaigns with their progress (信息公开), the donate form for volunteers (POST with
CSRF; the form's one-time token is the idempotency key, so a double submit donates once), the
confirmation, and the people in need a logged-in volunteer can donate to."""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from plugins.ledger import services as ledger
from plugins.volunteers.services import for_user

from . import services
from .models import BENEFICIARY_CATEGORIES, CAMPAIGN_STATUS, Beneficiary, Campaign, Donation

bp = Blueprint("donations", __name__, url_prefix="/donations", template_folder="templates")

TOKEN = re.compile(r"^[0-9a-f]{32}$")
NO_STORE = {"Cache-Control": "no-store"}


def _public_campaign(campaign_id) -> Campaign:
    c = Campaign.get_or_none((Campaign.id == campaign_id) & Campaign.status.in_(["open", "closed"]))
    if c is None:
        abort(404)
    return c


@bp.route("/")
def index():
    opened, closed = services.public_campaigns()
    return render_template("donations/index.html", opened=opened, closed=closed,
                           figures=services.progress(opened + closed), status=CAMPAIGN_STATUS)


@bp.route("/campaigns/<int:campaign_id>")
def campaign(campaign_id):
    c = _public_campaign(campaign_id)
    rows = [d for d in services.donations_of(campaign=c, limit=200) if not d.refunded]
    return render_template("donations/campaign.html", c=c, fig=services.progress([c])[c.id], rows=rows,
                           spends=services.spends_of(campaign=c), accepting=services.accepting(c),
                           label=services.donor_label, status=CAMPAIGN_STATUS)


@bp.route("/beneficiaries")
@login_required
def beneficiaries():
    v = for_user(current_user)
    rows = []
    if v is not None:
        rows = list(Beneficiary.select().where(Beneficiary.active).order_by(Beneficiary.id))
    return render_template("donations/beneficiaries.html", rows=rows, v=v, categories=BENEFICIARY_CATEGORIES), \
        (200 if v is not None else 403), NO_STORE


def _donate_page(target, kind):
    v = for_user(current_user)
    if v is None:
        flash(_("Only registered volunteers can donate points."), "error")
        return redirect(url_for(".campaign", campaign_id=target.id) if kind == "campaign" else url_for(".index"))
    errors, status = {}, 200
    form = {"points": "", "message": "", "anonymous": False, "token": secrets.token_hex(16)}
    if request.method == "POST":
        form = {"points": request.form.get("points", ""), "message": request.form.get("message", ""),
                "anonymous": request.form.get("anonymous") == "1", "token": request.form.get("token", "")}
        if not TOKEN.match(form["token"]):
            errors = {"__all__": _("This form has expired; open it again.")}
            form["token"] = secrets.token_hex(16)
        else:
            try:
                if kind == "campaign":
                    t = services.donate_to_campaign(v, target, form["points"], key=form["token"],
                                                    message=form["message"], anonymous=form["anonymous"],
                                                    actor=current_user._get_current_object())
                else:
                    t = services.donate_to_beneficiary(v, target, form["points"], key=form["token"],
                                                       message=form["message"],
                                                       actor=current_user._get_current_object())
            except services.DonationError as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                return redirect(url_for(".donated", donation_id=t.donation.id))
        status = 400
    acct = ledger.find_account("volunteer", v.id)
    return render_template("donations/donate.html", target=target, kind=kind, v=v, form=form, errors=errors,
                           balance=ledger.balance(acct) if acct is not None else 0,
                           accepting=services.accepting(target) if kind == "campaign" else target.active), \
        status, NO_STORE


@bp.route("/campaigns/<int:campaign_id>/donate", methods=["GET", "POST"])
@login_required
def donate_campaign(campaign_id):
    return _donate_page(_public_campaign(campaign_id), "campaign")


@bp.route("/beneficiaries/<int:beneficiary_id>/donate", methods=["GET", "POST"])
@login_required
def donate_beneficiary(beneficiary_id):
    b = Beneficiary.get_or_none(Beneficiary.id == beneficiary_id)
    if b is None or (not b.active and request.method == "GET"):
        abort(404)
    return _donate_page(b, "beneficiary")


@bp.route("/donated/<int:donation_id>")
@login_required
def donated(donation_id):
    """The confirmation, for the donor only."""
    v = for_user(current_user)
    d = Donation.get_or_none((Donation.id == donation_id) & (Donation.volunteer == (v.id if v else -1)))
    if d is None:
        abort(404)
    acct = ledger.find_account("volunteer", v.id)
    return render_template("donations/donated.html", d=d, balance=ledger.balance(acct) if acct else 0), 200, NO_STORE
