"""Admin screens for volunteers: masked by default, full values one audited click away (PR5)."""
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from core import security
from core.admin import AdminForm, ReadOnlyModelView, SecureModelView
from core.pii import ID_TYPES, mask_id, mask_phone

from . import services
from .labels import LABELS
from .models import DISTRICTS, EDUCATION, POLITICAL_STATUSES

SENSITIVE = ["id_number", "phone", "political_status", "religion", "guardian_name", "guardian_phone"]
MASKS = {"id_number": mask_id, "phone": mask_phone, "guardian_phone": mask_phone}


def choices(values):
    return [("", "—")] + [(v, v) for v in values]


class VolunteerForm(AdminForm):
    name = StringField(_l("Name"))
    gender = SelectField(_l("Gender"), choices=[("", "—"), ("M", _l("Male")), ("F", _l("Female"))])
    id_type = SelectField(_l("ID type"), choices=list(ID_TYPES.items()), default="cn_id")
    id_number = StringField(_l("ID number"))
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    phone = StringField(_l("Mobile phone"))
    email = StringField(_l("Email"))
    political_status = SelectField(_l("Political status"), choices=choices(POLITICAL_STATUSES))
    district = SelectField(_l("District"), choices=choices(DISTRICTS))
    address = StringField(_l("Address"))
    education = SelectField(_l("Education"), choices=choices(EDUCATION))
    employer = StringField(_l("Employer and address"))
    specialties = StringField(_l("Specialties"))
    service_intention = StringField(_l("Service intention"))
    remarks = TextAreaField(_l("Remarks"))
    agreement = BooleanField(_l("The volunteer signed the service agreement (paper form)"))
    sensitive_consent = BooleanField(_l("The volunteer consented separately to sensitive data"))
    pledge = BooleanField(_l("The Party-member pledge was signed"))


class VolunteerView(SecureModelView):
    permission = "volunteers.volunteer"
    column_list = ["number", "name", "gender", "district", "status", "registered_at"]
    column_details_list = ["number", "name", "nickname", "gender", "id_type", "id_number", "birth_date",
                           "phone", "email", "political_status", "district", "address", "education",
                           "employer", "specialties", "service_intention", "status", "registered_at",
                           "agreement_accepted_at", "sensitive_consent_at", "pledge_accepted_at",
                           "minor_basis", "guardian_name", "guardian_phone", "user"]
    column_export_list = ["number", "name", "gender", "district", "education", "employer", "specialties",
                          "status", "registered_at"]
    column_sensitive = SENSITIVE
    column_searchable_list = ["number", "name"]
    column_filters = ["district", "gender", "status", "registered_at"]
    column_default_sort = ("registered_at", True)
    column_labels = LABELS
    column_choices = {"gender": [("M", "男"), ("F", "女")]}
    details_template = "volunteers/admin_details.html"
    simple_list_pager = True
    allow_delete = False  # erasure goes through a data request (PR7), never a plain delete

    def scaffold_form(self):
        return VolunteerForm

    def create_model(self, form):
        try:
            v = services.register({**form.data, "birth_date": form.birth_date.data.isoformat()
                                   if form.birth_date.data else ""}, actor=current_user)
        except services.RegistrationError as e:
            for field, msg in e.errors.items():
                (getattr(form, field).errors.append(str(msg)) if hasattr(form, field)
                 else flash(str(msg), "error"))
            return False
        return v

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        for f in ("name", "gender", "id_type", "id_number", "birth_date", "agreement", "pledge"):
            delattr(form, f)
        if obj is not None and not form.is_submitted():
            form.phone.data = mask_phone(obj.phone)
        return form

    def update_model(self, form, model):
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token",)}
        if data.get("phone") == mask_phone(model.phone):
            data.pop("phone")
        try:
            services.update_profile(model, data, actor=current_user)
        except services.RegistrationError as e:
            for field, msg in e.errors.items():
                (getattr(form, field).errors.append(str(msg)) if hasattr(form, field)
                 else flash(str(msg), "error"))
            return False
        return True

    def _masked_formatter(self, col, view, context, model, name):
        value = getattr(model, col)
        if value in (None, ""):
            return ""
        masked = MASKS.get(col, lambda v: "*" * min(len(v), 6))(value)
        if security.can(self.perm("sensitive"), model):
            url = url_for(".reveal", id=model.id, field=col)
            return Markup('{} <button type="button" class="btn btn-link btn-sm p-0 tb-reveal" '
                          'data-url="{}">{}</button>').format(masked, url, _("Show full"))
        return masked

    @expose("/reveal/", methods=["POST"])
    def reveal(self):
        """Full value of one sensitive field; permission and scope checked, every view audited."""
        field = request.args.get("field", "")
        obj = self.get_one(request.args.get("id", ""))
        if obj is None or field not in SENSITIVE:
            abort(404)
        if not security.can(self.perm("sensitive"), obj):
            security.require(self.perm("sensitive"), obj)
        value = services.reveal(obj, field, viewer=current_user._get_current_object())
        resp = jsonify({"field": field, "value": value})
        resp.headers["Cache-Control"] = "no-store"
        return resp


class DataRequestView(SecureModelView):
    permission = "volunteers.data_request"
    column_list = ["created_at", "volunteer", "kind", "status", "decided_at"]
    column_filters = ["kind", "status"]
    column_default_sort = ("created_at", True)
    form_columns = ["status", "outcome"]
    allow_create = False
    allow_delete = False
    column_labels = {"created_at": _l("Requested at"), "volunteer": _l("Volunteer"), "kind": _l("Request"),
                     "status": _l("Status"), "decided_at": _l("Decided at"), "outcome": _l("Outcome"),
                     "details": _l("Details")}
    column_choices = {"kind": [("export", _l("Export my data")), ("correction", _l("Correction")),
                               ("deletion", _l("Deletion")), ("withdraw", _l("Withdraw consent"))],
                      "status": [("open", _l("Open")), ("done", _l("Done")), ("refused", _l("Refused"))]}
    form_choices = {"status": [("done", _l("Done")), ("refused", _l("Refused"))]}

    def update_model(self, form, model):
        try:
            services.decide_request(model, done=form.status.data == "done", outcome=form.outcome.data or "",
                                    actor=current_user)
        except services.RegistrationError as e:
            form.outcome.errors.append(str(e.errors.get("outcome", e)))
            return False
        return True


