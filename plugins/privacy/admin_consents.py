"""Admin pages of the consent register and the disclosures without consent (issue 13 points 3 and 6;
R-PRIV-4, R-PRIV-6). Purposes are reference data the platform admin extends; the register is read-only
(consents change only through the person or ``consents.give``/``withdraw``); disclosures have their own
page: a request form limited to the six cases, the list (team-scoped) and the approver's decision."""
from flask import abort, flash, redirect, request, url_for
from markupsafe import Markup
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from core import audit, security
from core.admin import PermissionView, SecureModelView
from core.workflow import WorkflowError

from . import consents, disclosures as D


class PurposeView(SecureModelView):
    permission = "privacy.purpose"
    allow_delete = False
    allow_export = False
    column_list = ["code", "name", "notice_version", "subject_kind", "source", "withdrawable", "active", "sort"]
    form_columns = ["code", "name", "description", "notice_version", "subject_kind", "withdrawable", "active",
                    "sort"]
    column_labels = {"code": _l("Code"), "name": _l("Name"), "description": _l("Description"),
                     "notice_version": _l("Notice version"), "subject_kind": _l("Whose data"),
                     "source": _l("Recorded by"), "withdrawable": _l("Can be withdrawn"), "active": _l("Active"),
                     "sort": _l("Order")}
    # a shipped purpose reads in the reader's language; code and source are names the site's code uses
    column_choices = {"subject_kind": [("volunteer", _l("Volunteers")), ("recipient", _l("Service recipients")),
                                       ("user", _l("Account holders"))]}
    form_choices = column_choices
    column_formatters = {"name": lambda v, c, m, n: consents.purpose_label(m),
                         "description": lambda v, c, m, n: consents.purpose_description(m),
                         "code": lambda v, c, m, n: Markup("<code>{}</code>").format(m.code),
                         "source": lambda v, c, m, n: Markup("<code>{}</code>").format(m.source)}

    def edit_form(self, obj=None):
        """A shipped purpose not yet renamed opens with its name and description in the reader's language:
        what the admin saves is then the site's own text."""
        form = super().edit_form(obj)
        if obj is not None and not form.is_submitted():
            form.name.data = consents.purpose_label(obj)
            form.description.data = consents.purpose_description(obj)
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        try:
            if is_created:
                consents.clean_purpose({"code": model.code, "name": model.name,
                                        "subject_kind": model.subject_kind, "notice_version": model.notice_version})
                model.source = "register"
            elif getattr(form, "code", None) is not None and form.code.object_data not in (None, model.code):
                raise consents.ConsentError({"code": _l("The code of a purpose cannot be changed: other "
                                                        "parts of the site ask for it by its code.")})
            elif model.subject_kind not in consents.SUBJECT_KINDS:
                raise consents.ConsentError({"subject_kind": _l("Unknown data subject.")})
        except consents.ConsentError as e:
            raise ValidationError("; ".join(e.messages())) from None


class ConsentView(SecureModelView):
    permission = "privacy.consent"
    allow_create = allow_edit = allow_delete = False
    column_list = ["purpose", "subject_kind", "subject_id", "notice_version", "given_at", "withdrawn_at"]
    column_filters = ["subject_kind", "subject_id", "given_at", "withdrawn_at"]
    column_default_sort = ("id", True)
    column_labels = {"purpose": _l("Purpose"), "subject_kind": _l("Whose data"), "subject_id": _l("Person"),
                     "notice_version": _l("Notice version"), "given_at": _l("Given"),
                     "withdrawn_at": _l("Withdrawn")}


class DisclosureView(PermissionView):
    permission = D.VIEW

    def _user(self):
        return current_user._get_current_object()

    @expose("/", methods=["GET", "POST"])
    def index(self):
        user, errors, form = self._user(), {}, {}
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                D.request_disclosure(form, actor=user)
                flash(_("The disclosure was recorded and waits for a platform admin's decision."), "success")
                return redirect(url_for(".index"))
            except D.DisclosureError as e:
                errors = {k: str(v) for k, v in e.errors.items()}
        rows = list(D.visible_to(user).order_by(D.Disclosure.id.desc()).limit(200))
        teams = D.admin_teams(user)
        return self.render("privacy/disclosures.html", rows=rows, errors=errors, form=form, cases=D.CASES,
                           recipient_kinds=D.RECIPIENT_KINDS, states=D.STATES, teams=teams,
                           can_request=security.can(D.REQUEST), case_label=D.case_label), 400 if errors else 200

    @expose("/<did>", methods=["GET", "POST"])
    def detail(self, did):
        user = self._user()
        d = D.get_for(user, did)
        if d is None:
            abort(404)
        if request.method == "POST":
            action = request.form.get("action")
            try:
                if action in ("approve", "refuse"):
                    D.decide(d, approve=action == "approve", reason=request.form.get("reason", ""), actor=user)
                elif action == "told":
                    D.record_subject_told(d, request.form.get("how", ""), actor=user)
                else:
                    abort(400)
                flash(_("Saved."), "success")
            except WorkflowError as e:
                if e.code == 403:
                    abort(403)
                flash("; ".join(e.messages()), "error")
            except D.DisclosureError as e:
                flash("; ".join(e.messages()), "error")
            return redirect(url_for(".detail", did=d.id))
        audit.log("privacy.disclosure.viewed", d, {}, user=user)
        return self.render("privacy/disclosure.html", d=d, states=D.STATES, case_label=D.case_label,
                           recipient_kinds=D.RECIPIENT_KINDS, steps=D.FLOW.steps_for(d, user))
