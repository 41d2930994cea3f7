"""Admin screens of 激励与维系: evaluations (R-INC-6), greeting templates and the contact list (R-INC-4), an
activity's insurance checklist and insured list (R-INC-5). Every row goes through the team scoping (AC6)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from core import inputs, security
from core.admin import PermissionView, SecureModelView
from core.errors import FieldErrors
from plugins.activities.models import Activity
from plugins.documents.services import send
from plugins.volunteers.models import Volunteer

from . import evaluation, greetings, insurance


class EvaluationView(SecureModelView):
    permission = "incentives.evaluation"
    can_create = False
    can_delete = False
    column_list = ["volunteer", "period_start", "period_end", "minutes", "signups", "no_shows", "feedback_score",
                   "grade", "comment", "status"]
    column_labels = {"volunteer": _l("Volunteer"), "period_start": _l("Period from"), "period_end": _l("Period to"),
                     "minutes": _l("Service hours"), "signups": _l("Sign-ups"), "no_shows": _l("No-shows"),
                     "feedback_score": _l("Feedback score"), "grade": _l("Grade"), "comment": _l("Staff comment"),
                     "status": _l("Status")}
    column_filters = ["status", "period_start"]
    form_columns = ["grade", "comment"]
    form_overrides = {"grade": SelectField}
    form_args = {"grade": {"choices": list(evaluation.GRADES.items())}}
    column_formatters = {
        "minutes": lambda v, c, m, n: f"{m.minutes / 60:g}",
        "grade": lambda v, c, m, n: evaluation.GRADES.get(m.grade, m.grade),
        "status": lambda v, c, m, n: _("Published") if m.status == "published" else _("Draft"),
        "no_shows": lambda v, c, m, n: f"{m.no_shows} ({evaluation.no_show_percent(m)})"}
    column_formatters_export = {"minutes": lambda v, c, m, n: m.minutes / 60,
                                "grade": lambda v, c, m, n: str(evaluation.GRADES.get(m.grade, m.grade))}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.status == "published":
            raise FieldErrors({"grade": _l("A published evaluation is not changed.")})

    @action("publish", _l("Publish to the volunteer"))
    def action_publish(self, ids):
        for e in self.get_query().where(self.model.id.in_(ids)):
            try:
                evaluation.publish(e, actor=current_user._get_current_object())
            except FieldErrors as err:
                flash("; ".join(err.messages()), "error")
        flash(_("Published."), "success")


class GreetingTemplateView(SecureModelView):
    permission = "incentives.greeting_template"
    can_create = False
    can_delete = False
    column_list = ["occasion", "subject", "active"]
    form_columns = ["subject", "body", "active"]
    column_labels = {"occasion": _l("Occasion"), "subject": _l("Subject"), "body": _l("Text"),
                     "active": _l("Send")}
    column_formatters = {"occasion": lambda v, c, m, n: greetings.occasion_label(m.occasion)}
    column_descriptions = {"body": _l("{name} is replaced by the volunteer's name.")}
    audit_changes = True


class ContactsView(PermissionView):
    """Volunteers not contacted for N months (setting), with a button to record a call or a visit."""
    permission = "incentives.contact.view"

    @expose("/", methods=["GET", "POST"])
    def index(self):
        user = current_user._get_current_object()
        q = security.scoped(Volunteer, Volunteer.select(), "volunteers.volunteer.view", user=user)
        errors = {}
        if request.method == "POST":
            security.require("incentives.contact.create")
            vid = inputs.parse_id(request.form.get("volunteer"))
            v = q.where(Volunteer.id == vid).first() if vid else None
            if v is None:
                abort(404)
            try:
                greetings.record_contact(v, note=request.form.get("note", ""), actor=user)
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Contact recorded."), "success")
                return redirect(url_for(".index"))
        months = greetings.SETTINGS.get("not_contacted_months")
        people = list(greetings.not_contacted(q).limit(500))
        last = greetings.last_contacts(v.id for v in people)
        return self.render("incentives/contacts.html", people=people, last=last, months=months, errors=errors,
                           can_record=security.can("incentives.contact.create"))


class InsuranceView(PermissionView):
    """One activity's insurance: what it needs, the checklist, the insured list (XLSX)."""
    permission = "incentives.insurance.view"

    def _activity(self):
        aid = inputs.parse_id(request.values.get("activity"))
        user = current_user._get_current_object()
        a = security.scoped(Activity, Activity.select(), "activities.activity.view", user=user).where(
            Activity.id == (aid or -1)).first()
        from .models import InsuranceCheck
        if a is None or not security.can("incentives.insurance.view", InsuranceCheck(activity=a.id), user=user):
            abort(404)
        return a, user

    @expose("/", methods=["GET", "POST"])
    def index(self):
        a, user = self._activity()
        errors, form = {}, {}
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                insurance.record_check(a, form, actor=user)
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Insurance checklist saved."), "success")
                return redirect(url_for(".index", activity=a.id))
        return self.render("incentives/insurance.html", a=a, kind=insurance.required_label(a),
                           check=insurance.check_of(a), errors=errors, form=form,
                           people=len(insurance.insured_people(a)),
                           may_full=insurance.may_see_full(user, a),
                           can_edit=security.can("incentives.insurance.edit"))

    @expose("/insured.xlsx", methods=["GET", "POST"])
    def insured_xlsx(self):
        """The insured list; full ID numbers only by the page's POST form (CSRF) for who may see them."""
        a, user = self._activity()
        if request.method == "GET" and request.args.get("full"):
            abort(400)
        full = request.method == "POST" and request.form.get("full") == "1"
        try:
            data = insurance.insured_list(a, user=user, full=full)
        except FieldErrors:
            abort(403)
        return send(data, f"投保名单_{a.id}.xlsx", fallback=f"insured-list-{a.id}.xlsx")
