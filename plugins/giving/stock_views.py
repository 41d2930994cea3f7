"""Staff pages of stock and use (issue 15 point 4): a donation's use (goods out of stock, money allocated,
the restriction) and the reversal of one entry with its reason. POST + CSRF through stock.py; bad input
shows the Chinese message beside its field (422) and writes nothing; another team's ids are a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import money, security
from core.errors import FieldErrors

from . import stock
from .models import Donation
from .services import GivingDenied, masked, quantity_text

bp = Blueprint("giving_use", __name__, url_prefix="/giving", template_folder="templates")
ACTIONS = {"use": "giving.stock.use", "allocate": "giving.allocation.record", "restrict": "giving.donation.record"}


def _get(model, perm, obj_id):
    obj = model.get_or_none(model.id == obj_id)
    if obj is None or not security.can(perm, obj):
        abort(404)
    return obj


def _errors(e: FieldErrors) -> dict:
    return {k: str(v) for k, v in e.errors.items()}


@bp.route("/donations/<int:donation_id>/use", methods=["GET", "POST"])
@login_required
def use(donation_id):
    """What became of a gift: its stock and movements (goods) or its allocations (money), the restriction,
    and the forms to use goods, allocate money or record the restriction."""
    d = _get(Donation, "giving.donation.view", donation_id)
    if d.status != "accepted":
        abort(404)
    item = stock.StockItem.get_or_none(stock.StockItem.donation == d.id)
    errors, form = {}, request.form
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in ACTIONS or not security.can(ACTIONS[action], d):
            abort(403)
        try:
            if action == "use":
                if item is None:
                    abort(404)
                stock.use_goods(item, request.form.to_dict(), current_user)
            elif action == "allocate":
                stock.allocate(d, request.form.to_dict(), current_user)
            else:
                stock.restrict(d, request.form.to_dict(), current_user)
        except GivingDenied:
            abort(404)
        except FieldErrors as e:
            errors = _errors(e)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".use", donation_id=d.id))
        item = stock.StockItem.get_or_none(stock.StockItem.donation == d.id)
    movements = list(stock.StockMovement.select().where(stock.StockMovement.item == item.id)
                     .order_by(stock.StockMovement.id)) if item else []
    allocations = list(stock.Allocation.select().where(stock.Allocation.donation == d.id)
                       .order_by(stock.Allocation.id))
    reversed_ids = {m.reverses_id for m in movements + allocations if m.reverses_id}
    loaded = current_app_loaded()
    return render_template("giving/use.html", d=d, item=item, movements=movements, allocations=allocations,
                           reversed_ids=reversed_ids, errors=errors, form=form, masked=masked(d.donor),
                           quantity=quantity_text(d), restriction=stock.restriction_of(d),
                           restricted=stock.is_restricted(d), left=d.amount - stock.allocated(d.id)
                           if d.kind == "money" else None, kinds=stock.MOVEMENT_KINDS, uses=stock.USES,
                           activity_title=stock.activity_title, loaded=loaded, money=money,
                           can_use=security.can("giving.stock.use", d),
                           can_allocate=security.can("giving.allocation.record", d),
                           can_restrict=security.can("giving.donation.record", d)), \
        (422 if errors else 200), {"Cache-Control": "no-store"}


def current_app_loaded() -> set:
    from flask import current_app
    return set(current_app.extensions["timebank"].loaded)


def _reverse(model, perm, entry_id, fn, label):
    entry = _get(model, perm, entry_id)
    errors = {}
    if request.method == "POST":
        try:
            fn(entry, request.form.get("reason", ""), current_user)
        except GivingDenied:
            abort(404)
        except FieldErrors as e:
            errors = _errors(e)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".use", donation_id=entry.item.donation_id if model is stock.StockMovement
                                    else entry.donation_id))
    what = (f"{stock.MOVEMENT_KINDS[entry.kind]} {entry.change:+d} {entry.item.unit}"
            if model is stock.StockMovement else money.fmt(entry.amount))
    return render_template("giving/reverse.html", entry=entry, what=what, errors=errors, label=label), \
        (422 if errors else 200), {"Cache-Control": "no-store"}


@bp.route("/movements/<int:entry_id>/reverse", methods=["GET", "POST"])
@login_required
def reverse_movement(entry_id):
    """Reverse a stock movement with a reason (LG1: a reversal entry pointing to it)."""
    return _reverse(stock.StockMovement, "giving.stock.use", entry_id, stock.reverse_movement,
                    _("Reverse a stock movement"))


@bp.route("/allocations/<int:entry_id>/reverse", methods=["GET", "POST"])
@login_required
def reverse_allocation(entry_id):
    """Reverse an allocation of money with a reason."""
    return _reverse(stock.Allocation, "giving.allocation.record", entry_id, stock.reverse_allocation,
                    _("Reverse an allocation of money"))
