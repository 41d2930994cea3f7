"""积分兑换 in the admin: partners and items (team admins manage those of their own team tree only,
AC6; platform admins all), and the exchanges — read-only, with fulfil and cancel (refund) as audited
actions, the printable receipt (PDF) and the list export (CSV/XLSX)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from core import audit, security
from core.admin import AdminForm, ReadOnlyModelView, SecureModelView
from plugins.teams.models import Team
from plugins.teams.services import admin_team_ids

from . import services
from .models import KINDS, STATUSES, Item, Partner

LABELS = {"name": _l("Name"), "contact": _l("Contact"), "team": _l("Managed by team"),
          "description": _l("Introduction"), "active": _l("Offered"), "created_at": _l("Created"),
          "partner": _l("Partner"), "kind": _l("Kind"), "price": _l("Points per unit"), "stock": _l("Stock"),
          "per_volunteer_limit": _l("Limit per volunteer"), "updated_at": _l("Updated"),
          "number": _l("Receipt number"), "volunteer": _l("Volunteer"), "item": _l("Item"),
          "item_name": _l("Item"), "unit_price": _l("Points per unit"), "quantity": _l("Quantity"),
          "points": _l("Points spent"), "status": _l("Status"), "transfer_id": _l("Ledger transfer"),
          "refund_transfer_id": _l("Refund transfer"), "fulfilled_at": _l("Fulfilled at"),
          "cancelled_at": _l("Cancelled at"), "cancel_reason": _l("Reason of cancellation"),
          "created_by": _l("Placed by (user)"), "fulfilled_by": _l("Fulfilled by (user)"),
          "cancelled_by": _l("Cancelled by (user)"), "idempotency_key": _l("Idempotency key")}


def _user():
    return current_user._get_current_object()


# ---------------------------------------------------------------- partners
class PartnerForm(AdminForm):
    name = StringField(_l("Name"))
    contact = StringField(_l("Contact"))
    team = SelectField(_l("Managed by team"), coerce=int)
    description = TextAreaField(_l("Introduction"))
    active = BooleanField(_l("Offered"), default=True)


def _team_choices(user, *, with_platform: bool):
    ids = admin_team_ids(user)
    q = Team.select(Team.id, Team.name).where(Team.status == "approved")
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    choices = [(t.id, t.name) for t in q.order_by(Team.name)]
    if ids is None and with_platform:
        choices.insert(0, (0, _("— the platform —")))
    return choices


class PartnerView(SecureModelView):
    permission = "exchange.partner"
    allow_delete = False       # partners are deactivated, never deleted: redemptions point to them
    column_list = ["name", "contact", "team", "active", "created_at"]
    column_searchable_list = ["name"]
    column_filters = ["active"]
    column_default_sort = ("name", False)
    column_labels = LABELS
    simple_list_pager = True

    def scaffold_form(self):
        return PartnerForm

    def _fill(self, form, obj=None):
        form.team.choices = _team_choices(_user(), with_platform=True)
        if obj is not None and not form.is_submitted():
            form.team.data = obj.team_id or 0
        return form

    def create_form(self, obj=None):
        return self._fill(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fill(super().edit_form(obj), obj)

    def _save(self, form, model):
        team_id = form.team.data or None
        if team_id not in {c[0] or None for c in form.team.choices} or not security.can(
                self.perm("edit" if model else "create"), Partner(team=team_id)):
            flash(_("You may not save this record."), "error")
            return False
        data = {"name": form.name.data, "contact": form.contact.data, "description": form.description.data,
                "active": form.active.data, "team_id": team_id}
        return services.save_partner(data, model, actor=_user())

    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return bool(self._save(form, model))


# ---------------------------------------------------------------- items
class ItemForm(AdminForm):
    partner = SelectField(_l("Partner"), coerce=int)
    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), choices=list(KINDS.items()))
    description = TextAreaField(_l("Introduction"))
    price = StringField(_l("Points per unit"))
    stock = StringField(_l("Stock"))
    stock_seen = HiddenField()
    per_volunteer_limit = StringField(_l("Limit per volunteer (empty: no limit)"))
    active = BooleanField(_l("Offered"), default=True)


class ItemView(SecureModelView):
    permission = "exchange.item"
    allow_delete = False       # items are withdrawn (not offered), never deleted: receipts point to them
    column_list = ["name", "partner", "kind", "price", "stock", "per_volunteer_limit", "active", "updated_at"]
    column_searchable_list = ["name"]
    column_filters = ["kind", "active", "price", "stock"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"kind": lambda v, c, m, n: KINDS.get(m.kind, m.kind)}
    simple_list_pager = True

    def scaffold_form(self):
        return ItemForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        partners = security.scoped(Partner, Partner.select(), self.perm("create"))
        form.partner.choices = [(p.id, p.name) for p in partners.order_by(Partner.name)]
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.partner               # an item stays with its partner
        if obj is not None and not form.is_submitted():
            form.price.data = str(obj.price)
            form.stock.data = str(obj.stock)
            form.stock_seen.data = str(obj.stock)
            form.per_volunteer_limit.data = "" if obj.per_volunteer_limit is None else str(obj.per_volunteer_limit)
        return form

    def _data(self, form):
        return {k: v for k, v in form.data.items() if k not in ("csrf_token", "partner")}

    def create_model(self, form):
        partner = security.scoped(Partner, Partner.select(), self.perm("create")).where(
            Partner.id == form.partner.data).first()
        if partner is None or not security.can(self.perm("create"), partner):
            flash(_("You may not save this record."), "error")
            return False
        return services.save_item({**self._data(form), "partner_id": partner.id}, actor=_user())

    def update_model(self, form, model):
        if not security.can(self.perm("edit"), model):
            flash(_("You may not save this record."), "error")
            return False
        data = self._data(form)
        try:
            if data.get("stock_seen") not in (None, ""):
                int(data["stock_seen"])
        except ValueError:
            data["stock_seen"] = None
        services.save_item(data, model, actor=_user())
        return True


# ---------------------------------------------------------------- redemptions
def _status(view, context, model, name):
    return STATUSES.get(model.status, model.status)


def _volunteer(view, context, model, name):
    v = model.volunteer
    return f"{v.name}（{v.number}）"


class RedemptionView(ReadOnlyModelView):
    """Exchanges: read-only (the ledger is the book of record); fulfil and cancel are the only
    changes, each through the services (audited), each checked on the row (AC6)."""
    permission = "exchange.redemption"
    column_list = ["number", "created_at", "volunteer", "item_name", "quantity", "points", "status",
                   "fulfilled_at", "cancelled_at"]
    column_details_list = column_list + ["unit_price", "cancel_reason", "transfer_id", "refund_transfer_id",
                                         "created_by", "fulfilled_by", "cancelled_by"]
    column_export_list = ["number", "created_at", "volunteer", "item_name", "unit_price", "quantity", "points",
                          "status", "fulfilled_at", "cancelled_at", "cancel_reason"]
    column_searchable_list = ["number", "item_name"]
    column_filters = ["status", "created_at", "item_name"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {"status": _status, "volunteer": _volunteer}
    column_formatters_export = {"status": _status, "volunteer": _volunteer}
    details_template = "exchange/admin_details.html"
    simple_list_pager = True

    def is_action_allowed(self, name):
        if name == "fulfil":
            return security.can("exchange.redemption.fulfil")
        return super().is_action_allowed(name)

    def _fulfil(self, r):
        if not security.can("exchange.redemption.fulfil", r):
            audit.log("access.denied", r, {"permission": "exchange.redemption.fulfil", "path": request.path})
            abort(403)
        services.fulfil(r, actor=_user())

    @action("fulfil", _l("Mark fulfilled"))
    def action_fulfil(self, ids):
        done = 0
        for r in self.get_query().where(self.model.id.in_(ids)):
            try:
                self._fulfil(r)
                done += 1
            except services.ExchangeError as e:
                flash(f"{r.number}: " + "；".join(e.messages()), "error")
        if done:
            flash(_("%(n)s exchange(s) marked fulfilled.", n=done), "success")

    def _row(self):
        r = self.get_one(request.values.get("id", ""))
        if r is None:
            audit.log("access.denied", ("exchange_redemption", request.values.get("id", "")[:64]),
                      {"path": request.path})
            abort(404)
        return r

    @expose("/fulfil/", methods=["POST"])
    def fulfil_view(self):
        r = self._row()
        try:
            self._fulfil(r)
        except services.ExchangeError as e:
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Exchange %(number)s marked fulfilled.", number=r.number), "success")
        return redirect(url_for(".details_view", id=r.id))

    @expose("/cancel/", methods=["POST"])
    def cancel_view(self):
        """Cancel with a reason: the points are refunded by a reversal and the stock returned."""
        r = self._row()
        if not security.can("exchange.redemption.cancel", r):
            audit.log("access.denied", r, {"permission": "exchange.redemption.cancel", "path": request.path})
            abort(403)
        try:
            services.cancel(r, reason=request.form.get("reason", ""), actor=_user())
        except services.ExchangeError as e:
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Exchange %(number)s cancelled; %(points)s points refunded.", number=r.number,
                    points=r.points), "success")
        return redirect(url_for(".details_view", id=r.id))

    @expose("/receipt/")
    def receipt(self):
        """The printable receipt (PDF) of one exchange."""
        from plugins.documents.services import DocumentError, send
        r = self._row()
        try:
            data = services.receipt_pdf(r)
        except DocumentError as e:
            flash(str(e), "error")
            return redirect(url_for(".details_view", id=r.id))
        audit.log("exchange.receipt.printed", r, {"number": r.number})
        return send(data, f"兑换凭证-{r.number}.pdf", fallback=f"receipt-{r.number}.pdf", inline=True)

    @expose("/details/")
    def details_view(self):
        self._template_args["may_fulfil"] = security.can("exchange.redemption.fulfil")
        self._template_args["may_cancel"] = security.can("exchange.redemption.cancel")
        return super().details_view()
