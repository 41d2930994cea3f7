"""A volunteer's own points page and statement export (point 6, R-NAT-4)."""
import datetime as _dt

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import audit, inputs

from . import services

bp = Blueprint("ledger", __name__, url_prefix="/points", template_folder="templates")


def _volunteer():
    from plugins.volunteers.services import for_user
    return for_user(current_user)


def _dates():
    out, error = [], ""
    for key in ("from", "to"):
        try:  # NS2: full-width digits read, a year past what a date holds refused, in one place
            out.append(inputs.parse_date(request.args.get(key), min=_dt.date(inputs.MIN_YEAR, 1, 1),
                                         max=_dt.date(inputs.MAX_YEAR, 12, 31), default=None))
        except inputs.InputError:
            out.append(None)
            error = _("Enter dates as YYYY-MM-DD.")
    if out[0] and out[1] and out[0] > out[1]:
        error = _("The start date is after the end date.")
        out = [None, None]
    return out[0], out[1], error


@bp.route("/me")
@login_required
def mine():
    v = _volunteer()
    acct = services.find_account("volunteer", v.id) if v is not None else None
    date_from, date_to, error = _dates()
    rows = services.statement(acct, date_from=date_from, date_to=date_to, limit=500) if acct else []
    resp = render_template("ledger/mine.html", acct=acct, s=services.hours_summary(acct) if acct else None,
                           rows=rows, date_from=date_from, date_to=date_to, error=error)
    return resp, (400 if error else 200), {"Cache-Control": "no-store"}


@bp.route("/me/statement.<fmt>")
@login_required
def mine_export(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    v = _volunteer()
    acct = services.find_account("volunteer", v.id) if v is not None else None
    if acct is None:
        abort(404)
    date_from, date_to, error = _dates()
    if error:
        abort(400)
    rows = services.statement(acct, date_from=date_from, date_to=date_to)
    from .admin import export_table
    headers = [_("Time"), _("Kind"), _("From / to"), _("Points"), _("Balance"), _("Note")]
    data = [[r["created_at"].strftime("%Y-%m-%d %H:%M"), r["kind_label"], r["other_name"], r["amount"],
             r["balance_after"], r["note"]] for r in rows]
    s = services.hours_summary(acct)
    audit.log("ledger.statement.exported", acct, {"format": fmt, "rows": len(rows)})
    return export_table(_("Time points statement of %(name)s", name=acct.name), headers, data,
                        f"points-{v.number}", fmt, fields=[
                            (_("Service hours"), f"{s['service_hours']:.1f}"),
                            (_("Training hours"), f"{s['training_hours']:.1f}"), (_("Time points"), s["points"])])
