"""Admin screens (人员 → 服务对象): masked by default, a full value one audited click away (PR5); every
create and edit goes through services.py, whose errors show beside the fields and write nothing."""
import datetime as _dt

from flask import Response, flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from core import exports
from core.admin import AdminForm, PermissionView, SecureModelView
from core.db import today
from core.pii import mask_name
from core.errors import FieldErrors

from . import services
from .models import CATEGORIES, CONSENT_BY, FILE_KINDS, Recipient

LABELS = {"team": _l("Team"), "file_kind": _l("File"), "category": _l("Category"), "name": _l("Name"),
          "id_number": _l("ID number"), "phone": _l("Phone"), "guardian_name": _l("Guardian"),
          "guardian_relation": _l("Relation to the person"), "guardian_phone": _l("Guardian's phone"),
          "community": _l("Community"), "address": _l("Address"), "needs": _l("Needs"), "notes": _l("Notes"),
          "notice_version": _l("Notice version"), "consent_by": _l("Consent given by"),
          "consent_giver": _l("Consent signed by"), "consent_at": _l("Consent recorded"),
          "referral_consent_at": _l("Consent to referral"), "confidentiality_on": _l("Confidentiality agreement signed on"),
          "confidentiality_version": _l("Agreement version"), "status": _l("Status"),
          "created_at": _l("Opened"), "consent": _l("The notice was read to the person and they (or the "
                                                    "guardian) consented"),
          "recipient": _l("Recipient"), "visited_on": _l("Visited on"), "visited_by": _l("Visited by"),
          "wish": _l("Wish"), "collected_on": _l("Collected on"), "fulfilled_by": _l("Fulfilled by"),
          "fulfilled_on": _l("Fulfilled on"), "service": _l("Service applied for"),
          "applied_on": _l("Applied on"), "outcome": _l("Outcome"), "to_body": _l("Referred to"),
          "reason": _l("Reason"), "referred_on": _l("Referred on")}


def _put_errors(form, errors):
    for field, msg in errors.items():
        if hasattr(form, field):
            getattr(form, field).errors.append(str(msg))
        else:
            flash(str(msg), "error")


def _text(name, area=False):
    return (TextAreaField if area else StringField)(LABELS[name], render_kw={"autocomplete": "off"})


class RecipientForm(AdminForm):
    team = SelectField(LABELS["team"], choices=[], validate_choice=False, coerce=str)
    file_kind = SelectField(LABELS["file_kind"], choices=[("", "—")] + list(FILE_KINDS.items()), validate_choice=False)
    category = SelectField(LABELS["category"], choices=[("", "—")] + list(CATEGORIES.items()), validate_choice=False)
    name = _text("name")
    id_number = _text("id_number")
    phone = _text("phone")
    community = _text("community")
    address = _text("address")
    needs = _text("needs", area=True)
    notes = _text("notes", area=True)
    guardian_name = _text("guardian_name")
    guardian_relation = _text("guardian_relation")
    guardian_phone = _text("guardian_phone")
    consent_by = SelectField(LABELS["consent_by"], choices=list(CONSENT_BY.items()), validate_choice=False)
    consent = BooleanField(LABELS["consent"])
    confidentiality_on = DateField(LABELS["confidentiality_on"], validators=[Optional()])


def _team_choices():
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_ids
    ids = team_ids(current_user)
    q = Team.select().order_by(Team.name)
    if ids is not None:
        q = q.where(Team.id.in_(ids or [-1]))
    return [("", "—")] + [(str(t.id), t.name) for t in q]


def _agreement_link(view, context, model, name):
    from flask import url_for
    from markupsafe import Markup
    return Markup('{} <a href="{}">{}</a>').format(model.confidentiality_version or "",
                                                   url_for(".agreement", id=model.id), _("Print the agreement"))


class RecipientView(SecureModelView):
    permission = "recipients.recipient"
    column_list = ["name", "category", "file_kind", "team", "community", "phone", "consent_at", "status"]
    column_details_list = ["team", "file_kind", "category", "name", "id_number", "phone", "guardian_name",
                           "guardian_relation", "guardian_phone", "community", "address", "needs", "notes",
                           "notice_version", "consent_by", "consent_giver", "consent_at", "referral_consent_at",
                           "confidentiality_on", "confidentiality_version", "status", "created_at"]
    column_export_list = ["name", "category", "file_kind", "team", "community", "consent_at", "status", "created_at"]
    column_sensitive = list(services.SENSITIVE_FIELDS)
    column_masks = services.MASKS
    column_labels = LABELS
    column_filters = ["file_kind", "category", "status", "created_at"]
    column_default_sort = ("created_at", True)
    column_choices = {"file_kind": list(FILE_KINDS.items()), "category": list(CATEGORIES.items()),
                      "consent_by": list(CONSENT_BY.items()),
                      "status": [("active", _l("Served")), ("closed", _l("Closed")),
                                 ("erased", _l("Erased (personal data removed)"))]}
    column_formatters_export = {"name": lambda v, c, m, n: services.label(m)}
    column_formatters = {"confidentiality_version": _agreement_link,
                         "name": lambda v, c, m, n: mask_name(m.name)}   # lists: masked
    allow_delete = False      # erasure goes through the privacy plugin's requests (PR7)
    audit_changes = False     # services.py writes the audit rows (without personal values)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the details page (audited) shows the full name; the sensitive fields stay masked there too
        self.column_formatters_detail = {k: f for k, f in self.column_formatters.items() if k != "name"}

    def scaffold_form(self):
        return RecipientForm

    @expose("/details/")
    def details_view(self):
        """The full file (the full name, the needs and notes): every opening audited (R-PRIV-6, PR5)."""
        r = self.get_one(request.args.get("id", ""))
        if r is not None:
            from core import audit
            audit.log("pii.viewed", r, {"view": "details"})
        return super().details_view()

    def _list_name(self, view, context, model, name):
        return model.name

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.team.choices = _team_choices()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.team.choices = _team_choices()
        del form.consent
        if obj is not None and not form.is_submitted():
            form.team.data = str(obj.team_id)
            for f in services.SENSITIVE_FIELDS:
                getattr(form, f).data = services.MASKS[f](getattr(obj, f) or "")
        return form

    def _data(self, form):
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "confidentiality_on")}
        data["consent"] = "1" if data.get("consent") else ""
        return data

    def create_model(self, form):
        try:
            r = services.register(self._data(form), actor=current_user._get_current_object())
            if form.confidentiality_on.data:
                services.record_confidentiality(r, {"confidentiality_on": form.confidentiality_on.data},
                                                actor=current_user._get_current_object())
        except FieldErrors as e:
            _put_errors(form, e.errors)
            return False
        return r

    def update_model(self, form, model):
        actor = current_user._get_current_object()
        try:
            model = services.update(model, self._data(form), actor=actor)
            on = form.confidentiality_on.data
            if on and on != model.confidentiality_on:
                services.record_confidentiality(model, {"confidentiality_on": on}, actor=actor)
        except FieldErrors as e:
            _put_errors(form, e.errors)
            return False
        return True

    def reveal_value(self, obj, field):
        return services.reveal(obj, field, viewer=current_user._get_current_object())

    @expose("/agreement/")
    def agreement(self):
        """The confidentiality agreement to print (附录十一 第七条): scope checked, audited."""
        from flask import abort
        from plugins.documents.services import send
        r = self.get_one(request.args.get("id", ""))
        if r is None:
            abort(404)
        data, name = services.agreement_pdf(r, actor=current_user._get_current_object())
        return send(data, name)

    @action("referral_consent", _l("Record the consent to referral"),
            _l("Record that the chosen people (or their guardians) consented to their file being referred?"))
    def action_referral_consent(self, ids):
        actor = current_user._get_current_object()
        n = 0
        for r in self.get_query().where(Recipient.id.in_([int(i) for i in ids if str(i).isdigit()])):
            services.give_referral_consent(r, actor=actor)
            n += 1
        flash(_("Consent recorded for %(n)s people.", n=n), "success")


class _ChildView(SecureModelView):
    """A record about a recipient: the picker lists only the recipients the user may see (scoped)."""
    column_labels = LABELS
    column_formatters = {"recipient": lambda v, c, m, n: services.label(m.recipient)}
    column_formatters_export = {"recipient": lambda v, c, m, n: services.label(m.recipient)}
    form_args = {"recipient": {"label": LABELS["recipient"], "get_label": services.label}}
    allow_delete = False


class FollowUpView(_ChildView):
    permission = "recipients.follow_up"
    column_list = ["recipient", "visited_on", "visited_by", "notes"]
    form_columns = ["recipient", "visited_on", "visited_by", "notes"]
    column_default_sort = ("visited_on", True)
    audit_changes = False

    def create_model(self, form):
        r = form.recipient.data
        try:
            return services.add_follow_up(r, {k: form[k].data for k in ("visited_on", "visited_by", "notes")},
                                          actor=current_user._get_current_object())
        except FieldErrors as e:
            _put_errors(form, e.errors)
            return False


class WishView(_ChildView):
    permission = "recipients.wish"
    column_list = ["recipient", "wish", "collected_on", "fulfilled_by", "fulfilled_on"]
    form_columns = ["recipient", "wish", "collected_on", "fulfilled_by", "fulfilled_on"]
    column_default_sort = ("collected_on", True)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        errors = {}
        if not (model.wish or "").strip():
            errors["wish"] = _l("Write down the wish.")
        if model.fulfilled_on and not (model.fulfilled_by or "").strip():
            errors["fulfilled_by"] = _l("Say which volunteer or team fulfilled the wish.")
        if model.fulfilled_on and model.collected_on and model.fulfilled_on < model.collected_on:
            errors["fulfilled_on"] = _l("A wish is fulfilled after it is collected.")
        if errors:
            raise FieldErrors(errors)


class ServiceRequestView(_ChildView):
    permission = "recipients.service_request"
    column_list = ["recipient", "service", "applied_on", "status", "outcome"]
    form_columns = ["recipient", "service", "applied_on", "status", "outcome"]
    column_choices = form_choices = {"status": [("open", _l("Open")), ("done", _l("Done")),
                                                ("refused", _l("Refused"))]}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not (model.service or "").strip():
            raise FieldErrors({"service": _l("Say which service the person applied for.")})


class ReferralView(_ChildView):
    permission = "recipients.referral"
    column_list = ["recipient", "to_body", "referred_on"]
    form_columns = ["recipient", "to_body", "reason"]
    allow_edit = False
    audit_changes = False

    def create_model(self, form):
        try:
            return services.refer(form.recipient.data, {"to_body": form.to_body.data, "reason": form.reason.data},
                                  actor=current_user._get_current_object())
        except FieldErrors as e:
            _put_errors(form, e.errors)
            return False


class QuarterView(PermissionView):
    """季度归档 (R-REC-1, 附录十一 第十五条): the year's files up to a quarter, sorted, with an XLSX export;
    and the follow-up list."""
    permission = services.VIEW

    def _quarter(self):
        t = today()
        try:
            year = int(request.args.get("year", t.year))
            q = int(request.args.get("quarter", (t.month - 1) // 3 + 1))
        except ValueError:
            year, q = t.year, (t.month - 1) // 3 + 1
        if not (2000 <= year <= 2100) or q not in (1, 2, 3, 4):
            year, q = t.year, (t.month - 1) // 3 + 1
        return year, q

    @expose("/")
    def index(self):
        year, q = self._quarter()
        headers, rows = services.quarter_rows(services.quarter_files(current_user, year, q))
        return self.render("recipients/quarter.html", year=year, quarter=q, headers=headers, rows=rows)

    @expose("/export.xlsx")
    def export(self):
        from flask_babel import gettext
        year, q = self._quarter()
        headers, rows = services.quarter_rows(services.quarter_files(current_user, year, q))
        data = exports.xlsx_bytes(headers, rows, sheet_title=gettext("Quarterly filing"))
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=recipients-{year}-Q{q}.xlsx"})

    @expose("/follow-up")
    def follow_up(self):
        return self.render("recipients/follow_up.html", rows=services.not_followed_up(current_user),
                           days=services.setting("follow_up_days"), told=services.to_be_told(current_user),
                           label=services.label)
