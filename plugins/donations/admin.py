"""Admin screens: a team admin's own campaigns and people in need (AC6: another team's are 404 and
refused by the services too), the platform's all of them. Every change goes through services.py
(audited); donations are read-only, refunded only by the platform with a reason."""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from core import audit, security
from core.admin import AdminForm, ReadOnlyModelView, SecureModelView
from plugins.teams.models import Team
from plugins.teams.services import admin_team_ids

from . import services
from .models import BENEFICIARY_CATEGORIES, CAMPAIGN_STATUS, Beneficiary, Campaign, Refund

LABELS = {"title": _l("Title"), "team": _l("Team"), "purpose": _l("Purpose"), "goal": _l("Goal (points)"),
          "deadline": _l("Deadline"), "status": _l("Status"), "created_at": _l("Created"),
          "opened_at": _l("Raising since"), "closed_at": _l("Closed at"), "close_reason": _l("Reason of closing"),
          "account_code": _l("Points account"), "raised": _l("Raised"), "name": _l("Name"),
          "category": _l("Category"), "description": _l("About the person"), "active": _l("Receives donations"),
          "held": _l("Points held"), "volunteer": _l("Volunteer"), "campaign": _l("Campaign"),
          "beneficiary": _l("Person in need"), "amount": _l("Points"), "message": _l("Message"),
          "anonymous": _l("Anonymous"), "transfer_id": _l("Ledger transfer"), "refunded": _l("Refunded"),
          "created_by": _l("Created by"), "operator_id": _l("Operator"), "idempotency_key": _l("Idempotency key")}


def _when(view, context, model, name):
    value = getattr(model, name)
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


TIMES = {"created_at": _when, "opened_at": _when, "closed_at": _when}


def _team_choices():
    ids = admin_team_ids(current_user)
    q = Team.select().where(Team.status == "approved")
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    return [(t.id, t.name) for t in q.order_by(Team.name)]


def _flash_error(e):
    flash("；".join(e.messages()), "error")


def _user():
    return current_user._get_current_object()


class CampaignForm(AdminForm):
    team = SelectField(_l("Team"), coerce=int)
    title = StringField(_l("Title"))
    purpose = TextAreaField(_l("Purpose (the resources the points will be applied for)"))
    goal = StringField(_l("Goal (points)"))
    deadline = DateField(_l("Deadline (inclusive)"), validators=[Optional()])


class TeamChosenOnCreate:
    """Campaigns and beneficiaries belong to the team chosen when they are created (among the user's
    own teams); the team is not changed afterwards."""

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.team.choices = _team_choices()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.team
        return form


class CampaignView(TeamChosenOnCreate, SecureModelView):
    permission = "donations.campaign"
    column_list = ["title", "team", "status", "goal", "raised", "deadline", "created_at"]
    column_details_list = ["title", "team", "purpose", "status", "goal", "deadline", "account_code",
                           "created_at", "opened_at", "closed_at", "close_reason"]
    column_searchable_list = ["title"]
    column_filters = ["status", "deadline"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {**TIMES, "status": lambda v, c, m, n: CAMPAIGN_STATUS.get(m.status, m.status),
                         "raised": lambda v, c, m, n: services.raised(m)}
    column_export_list = ["title", "team", "status", "goal", "raised", "deadline", "created_at"]
    details_template = "donations/admin_campaign.html"
    allow_delete = False

    def scaffold_form(self):
        return CampaignForm

    def create_model(self, form):
        team = Team.get_or_none(Team.id == form.team.data)
        if team is None or not security.can(self.perm("create"), Campaign(team=team)):
            flash(_("You may not save this record."), "error")
            return False
        return services.create_campaign(team, title=form.title.data, purpose=form.purpose.data,
                                        goal=form.goal.data, deadline=form.deadline.data, actor=_user())

    def update_model(self, form, model):
        services.update_campaign(model, title=form.title.data, purpose=form.purpose.data, goal=form.goal.data,
                                 deadline=form.deadline.data, actor=_user())
        return True

    def _each(self, ids, fn):
        for c in self.get_query().where(Campaign.id.in_(ids)):
            try:
                fn(c)
            except services.DonationError as e:
                flash(f"{c.title}: " + "；".join(e.messages()), "error")

    @action("open", _l("Open for donations"))
    def action_open(self, ids):
        security.require(self.perm("edit"))
        self._each(ids, lambda c: services.open_campaign(c, actor=_user()))

    @action("close", _l("Close the campaign"))
    def action_close(self, ids):
        security.require(self.perm("edit"))
        self._each(ids, lambda c: services.close_campaign(c, actor=_user()))

    def _campaign(self):
        c = self.get_one(request.values.get("id", ""))
        if c is None:
            abort(404)
        return c

    @expose("/details/")
    def details_view(self):
        tid = request.args.get("id", "")
        c = self.get_one(tid) if tid else None
        if c is not None:
            self._template_args.update(
                fig=services.progress([c])[c.id], rows=services.donations_of(campaign=c),
                spends=services.spends_of(campaign=c), entries=services.statement(c, limit=500),
                may_use=security.can("donations.campaign.use", c), may_edit=security.can(self.perm("edit"), c),
                may_export=security.can(self.perm("export"), c),
                may_refund=security.can("donations.donation.refund"), token=uuid.uuid4().hex)
        return super().details_view()

    @expose("/status/", methods=["POST"])
    def status_view(self):
        c = self._campaign()
        security.require(self.perm("edit"), c)
        op = request.form.get("op", "")
        try:
            if op == "open":
                services.open_campaign(c, actor=_user())
            elif op == "close":
                services.close_campaign(c, actor=_user(), reason=request.form.get("reason", ""))
            elif op == "cancel":
                services.cancel_campaign(c, reason=request.form.get("reason", ""), actor=_user())
            else:
                abort(400)
        except services.DonationError as e:
            _flash_error(e)
        else:
            flash(_("Campaign updated."), "success")
        return redirect(url_for(".details_view", id=c.id))

    @expose("/use/", methods=["POST"])
    def use_view(self):
        """Apply raised points for resources: points, purpose, the form's token as idempotency key."""
        c = self._campaign()
        security.require("donations.campaign.use", c)
        try:
            t = services.use_campaign_points(c, request.form.get("points", ""), purpose=request.form.get("purpose", ""),
                                             actor=_user(), key=request.form.get("token") or None)
        except services.DonationError as e:
            _flash_error(e)
        else:
            flash(_("%(n)s points used (ledger transfer #%(t)s).", n=t.amount, t=t.id), "success")
        return redirect(url_for(".details_view", id=c.id))

    @expose("/export.<fmt>")
    def export_donations(self, fmt):
        """Every donation of one campaign (XLSX through plugins/documents, or CSV), audited."""
        c = self._campaign()
        security.require(self.perm("export"), c)
        if fmt not in ("xlsx", "csv"):
            abort(404)
        from plugins.documents.services import table_download
        rows = services.donations_of(campaign=c)
        fig = services.progress([c])[c.id]
        headers = [_("Time"), _("Volunteer"), _("Volunteer number"), _("Points"), _("Anonymous"), _("Message"),
                   _("Ledger transfer"), _("Refunded")]
        data = [[d.created_at.strftime("%Y-%m-%d %H:%M"), d.volunteer.name, d.volunteer.number, d.amount,
                 _("Yes") if d.anonymous else "", d.message, d.transfer_id, _("Yes") if d.refunded else ""]
                for d in rows]
        audit.log("donations.campaign.exported", c, {"format": fmt, "rows": len(data)})
        return table_download(_("Donations to %(title)s", title=c.title), headers, data, f"campaign-{c.id}-donations",
                            fmt, fields=[(_("Team"), c.team.name), (_("Goal (points)"), c.goal),
                                         (_("Raised"), fig["raised"]), (_("Deadline"), str(c.deadline))])


class BeneficiaryForm(AdminForm):
    team = SelectField(_l("Vouched for by (team)"), coerce=int)
    name = StringField(_l("Display name (no ID number or phone)"))
    category = SelectField(_l("Category"), choices=list(BENEFICIARY_CATEGORIES.items()))
    description = TextAreaField(_l("About (what help is needed; no sensitive personal data)"))
    active = BooleanField(_l("Receives donations"), default=True)


class BeneficiaryView(TeamChosenOnCreate, SecureModelView):
    permission = "donations.beneficiary"
    column_list = ["name", "category", "team", "active", "held", "created_at"]
    column_details_list = ["name", "category", "description", "team", "active", "created_at"]
    column_searchable_list = ["name"]
    column_filters = ["category", "active"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {**TIMES, "category": lambda v, c, m, n: BENEFICIARY_CATEGORIES.get(m.category, m.category),
                         "held": lambda v, c, m, n: services.held(m)}
    column_export_list = ["name", "category", "team", "active", "created_at"]
    details_template = "donations/admin_beneficiary.html"
    allow_delete = False

    def scaffold_form(self):
        return BeneficiaryForm

    def create_model(self, form):
        team = Team.get_or_none(Team.id == form.team.data)
        if team is None or not security.can(self.perm("create"), Beneficiary(team=team)):
            flash(_("You may not save this record."), "error")
            return False
        b = services.create_beneficiary(team, name=form.name.data, category=form.category.data,
                                        description=form.description.data or "", actor=_user())
        if not form.active.data:
            services.update_beneficiary(b, active=False, actor=_user())
        return b

    def update_model(self, form, model):
        services.update_beneficiary(model, name=form.name.data, category=form.category.data,
                                    description=form.description.data or "", active=form.active.data,
                                    actor=_user())
        return True

    @expose("/details/")
    def details_view(self):
        bid = request.args.get("id", "")
        b = self.get_one(bid) if bid else None
        if b is not None:
            self._template_args.update(
                held=services.held(b), rows=services.donations_of(beneficiary=b), spends=services.spends_of(beneficiary=b),
                entries=services.statement(b, limit=500), may_use=security.can("donations.beneficiary.use", b),
                token=uuid.uuid4().hex)
        return super().details_view()

    @expose("/use/", methods=["POST"])
    def use_view(self):
        b = self.get_one(request.values.get("id", ""))
        if b is None:
            abort(404)
        security.require("donations.beneficiary.use", b)
        try:
            t = services.use_beneficiary_points(b, request.form.get("points", ""),
                                                purpose=request.form.get("purpose", ""), actor=_user(),
                                                key=request.form.get("token") or None)
        except services.DonationError as e:
            _flash_error(e)
        else:
            flash(_("%(n)s points used (ledger transfer #%(t)s).", n=t.amount, t=t.id), "success")
        return redirect(url_for(".details_view", id=b.id))


class DonationView(ReadOnlyModelView):
    permission = "donations.donation"
    column_list = ["created_at", "volunteer", "campaign", "beneficiary", "amount", "anonymous", "message",
                   "transfer_id", "refunded"]
    column_details_list = column_list + ["idempotency_key"]
    column_filters = ["created_at", "amount", "anonymous"]
    column_searchable_list = ["message"]
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {**TIMES, "refunded": lambda v, c, m, n: _("Yes") if Refund.select().where(
        Refund.donation == m.id).exists() else "",
        "volunteer": lambda v, c, m, n: f"{m.volunteer.name}（{m.volunteer.number}）"}
    column_export_list = ["created_at", "volunteer", "campaign", "beneficiary", "amount", "anonymous", "message",
                          "transfer_id"]
    column_formatters_export = {"volunteer": lambda v, c, m, n: f"{m.volunteer.name}（{m.volunteer.number}）"}
    details_template = "donations/admin_donation.html"
    simple_list_pager = True

    @expose("/details/")
    def details_view(self):
        did = request.args.get("id", "")
        d = self.get_one(did) if did else None
        if d is not None:
            self._template_args.update(refund=Refund.get_or_none(Refund.donation == d.id),
                                       may_refund=security.can("donations.donation.refund", d))
        return super().details_view()

    @expose("/refund/", methods=["POST"])
    def refund_view(self):
        """Give a donation back (platform admins; a reason is required): a ledger reversal."""
        if not security.can("donations.donation.refund"):
            audit.log("access.denied", None, {"permission": "donations.donation.refund", "path": request.path})
            abort(403)
        d = self.get_one(request.form.get("id", ""))
        if d is None:
            abort(404)
        try:
            r = services.refund_donation(d, reason=request.form.get("reason", ""), actor=_user())
        except services.DonationError as e:
            _flash_error(e)
        else:
            flash(_("Donation refunded (ledger transfer #%(t)s).", t=r.id), "success")
        return redirect(url_for(".details_view", id=d.id))

