"""Volunteer pages of 积分兑换 (R-TB-2): the public catalogue, redeem with a confirmation step (POST +
CSRF; the page's one-time form token is the idempotency key, so a double submit exchanges once),
my exchanges with receipt numbers, cancel while placed, and the receipt as a PDF."""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import audit
from plugins.volunteers.services import for_user

from . import services
from .models import Item, Partner, Redemption

bp = Blueprint("exchange", __name__, url_prefix="/exchange", template_folder="templates")

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NO_STORE = {"Cache-Control": "no-store"}


def _me():
    return for_user(current_user) if current_user.is_authenticated else None


def _item(item_id):
    it = (Item.select(Item, Partner).join(Partner)
          .where((Item.id == item_id) & (Item.active == True) & (Partner.active == True)).first())  # noqa: E712
    if it is None:
        abort(404)
    return it


@bp.route("/")
def index():
    v = _me()
    status = services.status_of(v) if v is not None else None
    return render_template("exchange/index.html", items=list(services.catalogue()), v=v, status=status), \
        200, (NO_STORE if v is not None else {})


@bp.route("/items/<int:item_id>/redeem", methods=["GET", "POST"])
@login_required
def redeem(item_id):
    item = _item(item_id)
    v = _me()
    if v is None:
        flash(_("Only registered volunteers can exchange points."), "error")
        return redirect(url_for(".index"))
    errors = {}
    quantity = request.values.get("quantity", "1")
    if request.method == "POST":
        token = request.form.get("token", "")
        if not TOKEN.match(token):
            abort(400)
        try:
            r = services.redeem(v, item, quantity, key=f"form:{v.id}:{token}",
                                actor=current_user._get_current_object())
        except services.ExchangeError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
        else:
            flash(_("Exchanged: receipt %(number)s, %(points)s points.", number=r.number, points=r.points),
                  "success")
            return redirect(url_for(".mine"))
    return render_template("exchange/confirm.html", item=item, v=v, status=services.status_of(v),
                           token=secrets.token_urlsafe(24), quantity=quantity, errors=errors), \
        (400 if errors else 200), NO_STORE


def _mine_or_404(redemption_id, v):
    r = Redemption.get_or_none((Redemption.id == redemption_id) & (Redemption.volunteer == (v.id if v else -1)))
    if r is None:
        abort(404)
    return r


@bp.route("/mine")
@login_required
def mine():
    v = _me()
    rows = []
    if v is not None:
        rows = list(Redemption.select().where(Redemption.volunteer == v.id).order_by(Redemption.id.desc()).limit(500))
    return render_template("exchange/mine.html", rows=rows, v=v,
                           status=services.status_of(v) if v is not None else None), 200, NO_STORE


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@login_required
def cancel(redemption_id):
    v = _me()
    r = _mine_or_404(redemption_id, v)
    try:
        services.cancel(r, reason=request.form.get("reason", ""), actor=current_user._get_current_object())
    except services.ExchangeError as e:
        flash("；".join(e.messages()), "error")
    else:
        flash(_("Exchange %(number)s cancelled; %(points)s points refunded.", number=r.number, points=r.points),
              "success")
    return redirect(url_for(".mine"))


@bp.route("/redemptions/<int:redemption_id>/receipt.pdf")
@login_required
def receipt(redemption_id):
    from plugins.documents.services import send
    r = _mine_or_404(redemption_id, _me())
    data = services.receipt_pdf(r)
    audit.log("exchange.receipt.printed", r, {"number": r.number})
    return send(data, f"兑换凭证-{r.number}.pdf", fallback=f"receipt-{r.number}.pdf", inline=True)
