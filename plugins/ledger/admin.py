"""The ledger in the admin: read-only (SECURITY.md LG1 — nobody edits or deletes a transfer), scoped
to the viewer's team tree (AC6). A platform admin may reverse a transfer with a reason; team totals
by period with CSV/XLSX export."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import audit, inputs, security
from core.admin import ReadOnlyModelView
from plugins.teams.services import admin_team_ids

from . import services
from .models import Transfer

LABELS = {"code": _l("Account"), "kind": _l("Kind"), "name": _l("Holder"), "balance": _l("Balance"),
          "entry_count": _l("Entries"), "service_minutes": _l("Service minutes"),
          "training_minutes": _l("Training minutes"), "minted": _l("Points minted"),
          "created_at": _l("Time"), "debit": _l("From"), "credit": _l("To"), "amount": _l("Points"),
          "idempotency_key": _l("Idempotency key"), "reverses": _l("Reverses"), "operator_id": _l("Operator"),
          "reason": _l("Reason"), "reference": _l("Reference"), "record_id": _l("Service record"),
          "version": _l("Version"), "account": _l("Account"), "team_id": _l("Team"),
          "service_date": _l("Service date"), "minutes": _l("Minutes"), "delta_minutes": _l("Change (minutes)"),
          "points": _l("Points"), "transfer": _l("Transfer"), "allow_negative": _l("May go below zero"),
          "owner_id": _l("Owner")}
ACCOUNT_KINDS = {"volunteer": _l("Volunteer"), "team": _l("Team"), "campaign": _l("Campaign"),
                 "beneficiary": _l("Beneficiary"), "system": _l("System")}


def _kind(view, context, model, name):
    return services.KIND_LABELS.get(model.kind, model.kind)


class AccountView(ReadOnlyModelView):
    permission = "ledger.account"
    column_list = ["code", "kind", "name", "balance", "service_minutes", "training_minutes", "minted", "entry_count"]
    column_searchable_list = ["code", "name"]
    column_filters = ["kind", "balance"]
    column_default_sort = ("id", False)
    column_labels = LABELS
    column_formatters = {"kind": lambda v, c, m, n: ACCOUNT_KINDS.get(m.kind, m.kind)}


class TransferView(ReadOnlyModelView):
    permission = "ledger.transfer"
    column_list = ["id", "created_at", "kind", "debit", "credit", "amount", "reason", "reference", "reverses"]
    column_details_list = column_list + ["idempotency_key", "operator_id"]
    column_searchable_list = ["reference", "idempotency_key"]
    column_filters = ["kind", "created_at", "amount"]
    column_default_sort = ("id", True)
    column_labels = dict(LABELS, id="#")
    column_formatters = {"kind": _kind}
    details_template = "ledger/transfer_details.html"
    simple_list_pager = True

    @expose("/reverse/", methods=["POST"])
    def reverse(self):
        """Reverse one transfer (platform admins; a reason is required). The new transfer points to
        the original (LG1); the audit log records who did it."""
        if not security.can("ledger.transfer.reverse"):
            audit.log("access.denied", None, {"permission": "ledger.transfer.reverse", "path": request.path})
            abort(403)
        t = self.get_one(request.form.get("id", ""))
        if t is None:
            abort(404)
        try:
            r = services.reverse(t, reason=request.form.get("reason", ""),
                                 operator=current_user._get_current_object())
        except services.LedgerError as e:
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Transfer #%(id)s reversed by transfer #%(r)s.", id=t.id, r=r.id), "success")
        return redirect(url_for(".details_view", id=t.id))

    @expose("/details/")
    def details_view(self):
        self._template_args["may_reverse"] = security.can("ledger.transfer.reverse")
        tid = request.args.get("id", "")
        t = self.get_one(tid) if tid else None
        self._template_args["reversal"] = (Transfer.get_or_none(Transfer.reverses == t.id) if t is not None else None)
        return super().details_view()


class HoursCreditView(ReadOnlyModelView):
    permission = "ledger.hours_credit"
    column_list = ["created_at", "account", "record_id", "version", "kind", "service_date", "minutes",
                   "delta_minutes", "points", "transfer"]
    column_filters = ["kind", "service_date", "record_id"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_choices = {"kind": [("service", _l("Volunteer service")), ("training", _l("Training"))]}
    simple_list_pager = True


class TeamTotalsView(BaseView):
    """Per team of the viewer's tree and per month / quarter / year: hours and points (point 6)."""

    def is_accessible(self):
        return current_user.is_authenticated and security.can("ledger.totals.view")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": "ledger.totals.view", "path": request.path})
        abort(403)

    def _rows(self):
        period = request.args.get("period", "month")
        if period not in services.PERIODS:
            period = "month"
        year = inputs.arg_int("year", None, min=inputs.MIN_YEAR, max=inputs.MAX_YEAR)  # NS2
        user = current_user._get_current_object()
        return period, year, services.team_totals(admin_team_ids(user), period=period, year=year)

    @expose("/")
    def index(self):
        period, year, rows = self._rows()
        return self.render("ledger/team_totals.html", rows=rows, period=period, year=year or "",
                           periods=services.PERIODS)

    @expose("/export.<fmt>")
    def export(self, fmt):
        if not security.can("ledger.totals.export"):
            abort(403)
        period, year, rows = self._rows()
        headers = [_("Team"), _("Period"), _("Service hours"), _("Training hours"), _("Points")]
        data = [[r["team"], r["period"], r["service_hours"], r["training_hours"], r["points"]] for r in rows]
        audit.log("ledger.totals.exported", None, {"format": fmt, "period": period, "year": year, "rows": len(rows)})
        return export_table(_("Team points totals"), headers, data, f"team-points-{period}", fmt)


def export_table(title, headers, data, stem, fmt, *, fields=()):
    """CSV or XLSX of a simple table (plugins/documents ``table_download``); 404 for another format."""
    from plugins.documents.services import DocumentError, table_download
    try:
        return table_download(title, headers, data, stem, fmt, fields=fields)
    except DocumentError:
        abort(404)
