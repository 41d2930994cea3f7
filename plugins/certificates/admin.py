"""Admin screens: the certificate list of the issuing teams and the platform (approve, reject or revoke
with a reason, print, issue for a whole activity) and each team's seal and signatories. Scoped by team
through the plugin's hooks (AC6); every transition goes through services.py, which audits it."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, FileField, SelectField, StringField
from wtforms.validators import ValidationError

from core import inputs, security
from core.admin import AdminForm, ReadOnlyModelView, SecureModelView
from plugins.activities.models import Activity, ServiceRecord
from plugins.documents.services import DocumentError, send
from plugins.teams.models import Team
from plugins.teams.services import admin_team_ids

from . import services
from .models import PURPOSE_TEXT, Certificate, Issuer

STATUS = {"pending": _l("Waiting for review"), "approved": _l("Issued"), "rejected": _l("Not approved"),
          "revoked": _l("Revoked")}
LABELS = {"number": _l("Certificate number"), "volunteer": _l("Volunteer"), "team": _l("Issuing unit"),
          "purpose": _l("Purpose"), "status": _l("Status"), "total_minutes": _l("Hours"),
          "created_at": _l("Applied at"), "issued_on": _l("Issued on"), "reason": _l("Reason"),
          "period_start": _l("Service from"), "period_end": _l("Service until"),
          "has_attachments": _l("With attachments"), "handler_name": _l("Handled by"),
          "handler_phone": _l("Contact telephone"), "decided_at": _l("Decided at"),
          "revoked_at": _l("Revoked at"), "contact_phone": _l("Contact telephone"),
          "seal_file": _l("Seal image"), "updated_at": _l("Changed at")}


def _errors(e: services.CertificateError) -> str:
    return "; ".join(e.messages())


class CertificateView(ReadOnlyModelView):
    permission = "certificates.certificate"
    column_list = ["number", "volunteer", "team", "purpose", "status", "total_minutes", "created_at",
                   "issued_on"]
    column_details_list = ["number", "status", "volunteer", "team", "purpose", "has_attachments",
                           "period_start", "period_end", "total_minutes", "reason", "created_at",
                           "decided_at", "issued_on", "handler_name", "handler_phone", "revoked_at"]
    column_filters = ["status", "purpose", "created_at", "issued_on"]
    column_searchable_list = ["number"]
    column_default_sort = ("created_at", True)
    column_labels = LABELS
    column_formatters = {
        "status": lambda v, c, m, n: STATUS.get(m.status, m.status),
        "purpose": lambda v, c, m, n: m.purpose_text,
        "total_minutes": lambda v, c, m, n: f"{m.total_minutes / 60:g}",
    }
    column_formatters_export = {"purpose": lambda v, c, m, n: PURPOSE_TEXT.get(m.purpose, m.purpose),
                                "total_minutes": lambda v, c, m, n: f"{m.total_minutes / 60:g}"}
    details_template = "certificates/admin_details.html"
    simple_list_pager = True

    def _user(self):
        return current_user._get_current_object()

    def _each(self, ids, fn):
        done = 0
        for c in self.get_query().where(Certificate.id.in_(ids)):
            try:
                fn(c)
                done += 1
            except services.CertificateError as e:
                flash(f"{c}: {_errors(e)}", "error")
        return done

    @action("approve", _l("Approve"))
    def action_approve(self, ids):
        n = self._each(ids, lambda c: services.approve(c, actor=self._user()))
        if n:
            flash(_("Certificates issued: %(n)s.", n=n), "success")

    @action("reject", _l("Reject with a reason"))
    def action_reject(self, ids):
        return redirect(url_for(".decide_view", kind="reject", ids=",".join(map(str, ids))))

    @action("revoke", _l("Revoke with a reason"))
    def action_revoke(self, ids):
        return redirect(url_for(".decide_view", kind="revoke", ids=",".join(map(str, ids))))

    def is_action_allowed(self, name):
        perm = {"approve": "review", "reject": "review", "revoke": "revoke"}.get(name)
        if perm and not security.can(self.perm(perm)):
            return False
        return super().is_action_allowed(name)

    @expose("/decide/", methods=["GET", "POST"])
    def decide_view(self):
        """Reject applications or revoke certificates, with the reason the volunteer will see."""
        kind = request.values.get("kind", "")
        if kind not in ("reject", "revoke"):
            abort(404)
        security.require(self.perm("review" if kind == "reject" else "revoke"))
        ids = inputs.parse_ids(request.values.get("ids", ""))[:1000]
        rows = list(self.get_query().where(Certificate.id.in_(ids or [-1])))
        if not rows:
            abort(404)
        if request.method == "POST":
            reason = request.form.get("reason", "")
            fn = services.reject if kind == "reject" else services.revoke
            n = self._each([r.id for r in rows], lambda c: fn(c, reason=reason, actor=self._user()))
            if n:
                flash((_("Rejected: %(n)s.", n=n) if kind == "reject" else _("Revoked: %(n)s.", n=n)), "success")
                return redirect(url_for(".index_view"))
        return self.render("certificates/admin_decide.html", rows=rows, ids=[r.id for r in rows], kind=kind)

    @expose("/pdf/<int:cert_id>", methods=["GET", "POST"])
    def pdf_view(self, cert_id):
        """The 附录六 PDF: ID number masked; full only when asked by POST (CSRF) by a role allowed to see
        it (PR5). Audited in services.pdf_for."""
        if request.method == "GET" and request.args.get("full"):
            abort(400)   # a link cannot make someone's browser fetch an unmasked file
        user = self._user()
        try:
            c = services.find(user, cert_id, "certificates.certificate.export")
            doc = services.pdf_for(c, user, full=request.method == "POST" and request.form.get("full") == "1")
        except services.CertificateError as e:
            if e.code in (403, 404):
                abort(e.code)
            flash(_errors(e), "error")
            return redirect(url_for(".details_view", id=cert_id))
        except DocumentError as e:
            flash(str(e), "error")
            return redirect(url_for(".details_view", id=cert_id))
        return send(doc.data, doc.filename, fallback=doc.fallback, inline=True)

    @expose("/batch/", methods=["GET", "POST"])
    def batch_view(self):
        """Issue certificates to everyone with a confirmed service record in one activity."""
        security.require(self.perm("issue"))
        ids = admin_team_ids(self._user())
        q = (Activity.select().where((Activity.kind == "service") & Activity.id.in_(
            ServiceRecord.select(ServiceRecord.activity).where(ServiceRecord.minutes > 0))))
        if ids is not None:
            q = q.where(Activity.team.in_(ids or [-1]))
        acts = list(q.order_by(Activity.starts_at.desc()).limit(300))
        chosen = request.values.get("activity", "")
        if request.method == "POST":
            a = next((x for x in acts if str(x.id) == chosen), None)
            if a is None:
                flash(_("Choose an activity."), "error")
            else:
                try:
                    res = services.issue_for_activity(a, actor=self._user(),
                                                      purpose=request.form.get("purpose", "practice"))
                except services.CertificateError as e:
                    if e.code in (403, 404):
                        abort(e.code)
                    flash(_errors(e), "error")
                else:
                    flash(_("Certificates issued: %(n)s; already issued before: %(m)s.", n=len(res.issued),
                            m=res.skipped), "success")
                    return redirect(url_for(".index_view"))
        return self.render("certificates/admin_batch.html", acts=acts, chosen=chosen,
                           purposes=[p for p in services.purposes() if p[0] != "other"])

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            m = kwargs["model"]
            u = self._user()
            kwargs.update(lines=services.lines_of(m),
                          may_review=security.can(self.perm("review"), m),
                          may_revoke=security.can(self.perm("revoke"), m),
                          may_print=security.can(self.perm("export"), m),
                          may_full=services.may_see_full(u))
        return super().render(template, **kwargs)


class IssuerForm(AdminForm):
    team = SelectField(_l("Team"), coerce=int)
    handler_name = StringField(_l("Handled by (经办人)"))
    contact_phone = StringField(_l("Contact telephone"))
    seal = FileField(_l("Seal image (PNG or JPEG, optional)"))
    remove_seal = BooleanField(_l("Remove the seal image"))


class IssuerView(SecureModelView):
    """A team's seal image (IV6: type and size checked, re-encoded, random name) and signatories."""
    permission = "certificates.issuer"
    column_list = ["team", "handler_name", "contact_phone", "seal_file", "updated_at"]
    column_labels = LABELS
    column_formatters = {"seal_file": lambda v, c, m, n: _("Yes") if m.seal_file else _("No")}
    column_details_list = ["team", "handler_name", "contact_phone", "seal_file", "updated_at"]
    column_details_exclude_list = None
    allow_delete = False
    audit_changes = False   # services.set_issuer writes certificate.issuer_changed

    def perm(self, action):
        return "certificates.issuer.edit" if action in ("create", "edit", "delete") else f"certificates.issuer.{action}"

    def scaffold_form(self):
        return IssuerForm

    def _teams(self, form, obj=None):
        ids = admin_team_ids(current_user)
        q = Team.select().where(Team.status == "approved")
        if ids is not None:
            q = q.where(Team.id.in_(ids or [-1]))
        if obj is not None:
            q = Team.select().where(Team.id == obj.team_id)
        form.team.choices = [(t.id, t.name) for t in q.order_by(Team.name)]
        if obj is not None and not form.is_submitted():
            form.team.data = obj.team_id
        return form

    def create_form(self, obj=None):
        return self._teams(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._teams(super().edit_form(obj), obj)

    def _save(self, form, team):
        f = request.files.get("seal")
        data = f.read(services.setting("seal_max_bytes") + 1) if f and f.filename else None
        try:
            return services.set_issuer(team, handler_name=form.handler_name.data or "",
                                       contact_phone=form.contact_phone.data or "", seal=data,
                                       remove_seal=bool(form.remove_seal.data), actor=current_user._get_current_object())
        except services.CertificateError as e:
            if e.code == 403:
                abort(403)
            raise  # SecureModelView shows each message beside its field and writes nothing

    def create_model(self, form):
        team = Team.get_or_none(Team.id == form.team.data)
        if team is None or not security.can(self.perm("create"), Issuer(team=team.id)):
            flash(_("You may not save this record."), "error")
            return False
        return self._save(form, team) or False

    def update_model(self, form, model):
        return bool(self._save(form, model.team))

    def on_model_change(self, form, model, is_created):  # pragma: no cover - saving goes through services
        raise ValidationError(_("You may not save this record."))
