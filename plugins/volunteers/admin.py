"""Admin screens for volunteers: masked by default, full values one audited click away (PR5)."""
from flask import flash
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from core.admin import AdminForm, SecureModelView
from core.pii import ID_TYPES, mask_id, mask_phone

from . import services
from .labels import LABELS
from .models import DISTRICTS, EDUCATION, POLITICAL_STATUSES

SENSITIVE = ["id_number", "phone", "political_status", "in_service_reported_on", "religion", "guardian_name",
             "guardian_phone"]
MASKS = {"id_number": mask_id, "phone": mask_phone, "guardian_phone": mask_phone,
         **{c: (lambda v: "*" * min(len(v), 6))
            for c in ("political_status", "in_service_reported_on", "religion", "guardian_name")}}


def choices(values):
    return [("", "—")] + [(v, v) for v in values]


def _text(name, area=False):
    return (TextAreaField if area else StringField)(LABELS[name], render_kw={"autocomplete": "off"})


def _select(name, options, **kw):
    # the service checks the value (one place for the rules and their messages); WTForms' own
    # "Not a valid choice" would hide the service's errors on the other fields
    return SelectField(LABELS[name], choices=options, validate_choice=False, default="", **kw)


class VolunteerForm(AdminForm):
    """The 附录一 form as staff enter it from a signed paper form (R-REG-1, R-REG-2, R-REG-6, PR3, PR4).
    All validation is the service's (``services.register``); errors come back beside each field."""
    name = _text("name")
    gender = _select("gender", [("", "—"), ("M", _l("Male")), ("F", _l("Female"))])
    id_type = SelectField(LABELS["id_type"], choices=list(ID_TYPES.items()), default="cn_id", validate_choice=False)
    id_number = _text("id_number")
    birth_date = DateField(LABELS["birth_date"], validators=[Optional()])
    phone = _text("phone")
    email = _text("email")
    nickname = _text("nickname")
    ethnicity = _text("ethnicity")
    native_place = _text("native_place")
    household_place = _text("household_place")
    district = _select("district", choices(DISTRICTS))
    address = _text("address")
    postcode = _text("postcode")
    qq = _text("qq")
    wechat = _text("wechat")
    education = _select("education", choices(EDUCATION))
    school_major = _text("school_major")
    professional_title = _text("professional_title")
    job_title = _text("job_title")
    occupation = _text("occupation")
    employer = _text("employer")
    specialties = _text("specialties")
    hobbies = _text("hobbies")
    service_intention = _text("service_intention")
    resume = _text("resume", area=True)
    remarks = _text("remarks", area=True)
    political_status = _select("political_status", choices(POLITICAL_STATUSES))
    in_service_reported_on = DateField(LABELS["in_service_reported_on"], validators=[Optional()])
    religion = _text("religion")
    sensitive_consent = BooleanField(_l("The volunteer consented separately to sensitive data"))
    pledge = BooleanField(_l("The Party-member pledge was signed"))
    minor_basis = _select("minor_basis", [("", "—"), ("guardian", _l("With a guardian")),
                                          ("group", _l("In an organised group"))])
    guardian_name = _text("guardian_name")
    guardian_phone = _text("guardian_phone")
    guardian_consent = BooleanField(LazyString(lambda: _("The guardian consented (under %(age)s)",
                                                         age=services.setting("guardian_consent_age"))))
    agreement = BooleanField(_l("The volunteer signed the service agreement (paper form)"))


# the edit form: no sensitive values are put into it (they would be unaudited full views, PR5); the ID
# number and the phone show masked and stay unchanged unless a new value is typed
EDIT_DROPPED = ("political_status", "in_service_reported_on", "religion", "sensitive_consent", "pledge", "minor_basis", "guardian_name",
                "guardian_phone", "guardian_consent", "agreement")


def _put_errors(form, errors):
    for field, msg in errors.items():
        if hasattr(form, field):
            getattr(form, field).errors.append(str(msg))
        else:
            flash(str(msg), "error")


class VolunteerView(SecureModelView):
    permission = "volunteers.volunteer"
    column_list = ["number", "name", "gender", "district", "status", "registered_at"]
    column_details_list = ["number", "name", "nickname", "gender", "id_type", "id_number", "birth_date",
                           "phone", "email", "political_status", "in_service_reported_on", "district", "address", "education",
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
    column_choices = {"gender": [("M", "男"), ("F", "女")],
                      "status": [("active", _l("In service")), ("inactive", _l("Not active")),
                                 ("erased", _l("Erased (personal data removed)"))]}
    column_masks = MASKS
    simple_list_pager = True
    allow_delete = False  # erasure goes through a data request (PR7), never a plain delete

    def scaffold_form(self):
        return VolunteerForm

    def create_model(self, form):
        data = {**form.data, "birth_date": form.birth_date.data.isoformat() if form.birth_date.data else "",
                "in_service_reported_on": (form.in_service_reported_on.data.isoformat()
                                           if form.in_service_reported_on.data else "")}
        data.pop("csrf_token", None)
        try:
            v = services.register(data, actor=current_user._get_current_object())
        except services.RegistrationError as e:
            _put_errors(form, e.errors)
            return False
        return v

    def after_model_change(self, form, model, is_created):
        pass  # the service writes the audit rows (without personal values)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        for f in EDIT_DROPPED:
            delattr(form, f)
        if obj is not None and not form.is_submitted():
            form.phone.data = mask_phone(obj.phone)
            form.id_number.data = mask_id(obj.id_number)
        return form

    def update_model(self, form, model):
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if data.get("phone") in (mask_phone(model.phone), ""):
            data.pop("phone")
        if data.get("id_number") in (mask_id(model.id_number), ""):
            data.pop("id_number")
        data["birth_date"] = data["birth_date"].isoformat() if data.get("birth_date") else ""
        try:
            services.update_profile(model, data, actor=current_user._get_current_object(), by_admin=True)
        except services.RegistrationError as e:
            _put_errors(form, e.errors)
            return False
        return True

    def reveal_value(self, obj, field):
        return services.reveal(obj, field, viewer=current_user._get_current_object())


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




def _applicant_link(view, context, model, name):
    from flask import url_for
    from markupsafe import Markup, escape
    v = model.volunteer
    url = url_for("volunteers_volunteer.details_view", id=v.id)
    return Markup(f'<a href="{escape(url)}">{escape(str(v))}</a>')


def _team_name(view, context, model, name):
    if not model.team_id:
        return ""
    from flask import current_app
    if "teams" not in current_app.extensions["timebank"].loaded:
        return str(model.team_id)
    from plugins.teams.models import Team
    t = Team.get_or_none(Team.id == model.team_id)
    return t.name if t else str(model.team_id)


class ApplicationView(SecureModelView):
    """Registration applications waiting for review (R-REG-7, 附录九 第八、九条): open one, check the
    applicant's record against the basic conditions, then approve, or reject with the reason the
    applicant is told. A platform admin sees every application, a team admin those that chose a team
    of their tree."""
    permission = "volunteers.application"
    column_list = ["created_at", "volunteer", "team_id", "status", "decided_at", "reason"]
    column_details_list = ["created_at", "volunteer", "team_id", "status", "decided_at", "reason"]
    column_filters = ["status", "created_at"]
    column_default_sort = ("created_at", True)
    column_formatters = {"volunteer": _applicant_link, "team_id": _team_name}
    column_labels = {"created_at": _l("Applied at"), "volunteer": _l("Applicant"), "team_id": _l("Team"),
                     "status": _l("Status"), "decided_at": _l("Decided at"), "reason": _l("Reason")}
    column_choices = {"status": [("pending", _l("Waiting for review")), ("approved", _l("Approved")),
                                 ("rejected", _l("Not approved"))]}
    form_columns = ["status", "reason"]
    form_choices = {"status": [("approved", _l("Approve")), ("rejected", _l("Reject"))]}
    form_args = {"reason": {"label": _l("Reason (required for a rejection; the applicant is told)")}}
    allow_create = False
    allow_delete = False
    audit_changes = False   # decide_application writes the audit rows

    def update_model(self, form, model):
        try:
            services.decide_application(model, approve=form.status.data == "approved",
                                        reason=form.reason.data or "", actor=current_user._get_current_object())
        except services.RegistrationError as e:
            for k, msg in e.errors.items():
                (form.reason if k == "reason" else form.status).errors.append(str(msg))
            return False
        return True
