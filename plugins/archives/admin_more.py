"""Admin pages of borrowing (R-ARC-4), destruction (R-ARC-5) and custody (R-ARC-6). Every object is reached
through the view's scoped query (a team admin, archivist or supervision group: their team tree only; another
team's id is a 404, AC6); each step is one POST that calls the service (loans.py, destruction.py,
custody.py)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField

from core import audit, security
from core.admin import SecureModelView
from core.errors import FieldErrors
from core.pii import mask_phone

from . import custody, destruction, loans
from .models import ArchiveFile


def _user():
    return current_user._get_current_object()


def _flash_errors(e: FieldErrors):
    flash("；".join(str(v) for v in e.errors.values()), "error")


class _Steps(SecureModelView):
    """One object reached through the scoped query, or a 404 (audited)."""
    can_view_details = True
    allow_delete = False

    def _obj(self, obj_id, action="view"):
        o = self.get_one(obj_id)
        if o is None or not security.can(self.perm(action), o):
            audit.log("access.denied", (self.model._meta.table_name, str(obj_id)), {"path": request.path})
            abort(404)
        return o

    def _back(self, o):
        return redirect(url_for(".details_view", id=o.id))


class LoanView(_Steps):
    permission = "archives.loan"
    allow_edit = False
    column_list = ["number", "file", "content", "borrower", "contact", "borrower_team", "copying", "status",
                   "borrowed_at", "due_at", "returned_at", "recorder"]
    column_export_list = column_list
    form_columns = ["file", "document", "content", "borrower", "borrower_user", "borrower_team", "contact",
                    "copying"]
    column_sensitive = ["contact"]
    column_masks = {"contact": mask_phone}
    column_labels = {"number": _l("Loan number"), "file": _l("File"), "document": _l("Document"),
                     "content": _l("Content borrowed"), "borrower": _l("Borrower"),
                     "borrower_user": _l("Borrower's account"), "borrower_team": _l("Borrowing team"),
                     "contact": _l("Contact"), "copying": _l("Copying allowed"), "status": _l("Status"),
                     "borrowed_at": _l("Borrowed at"), "due_at": _l("Due"), "returned_at": _l("Returned at"),
                     "recorder": _l("Recorder"), "approved_by": _l("Approved by"), "team": _l("Team"),
                     "created_at": _l("Registered at")}
    column_filters = ["status"]
    column_default_sort = ("id", True)
    details_template = "archives/steps_details.html"
    export_types = ["xlsx", "csv"]
    column_formatters = {"status": lambda v, c, m, n: loans.LOANS.label(m.status)}
    column_formatters_export = column_formatters

    def create_model(self, form):
        f = form.file.data
        if f is None or not security.can("archives.loan.create", f):
            raise FieldErrors({"file": _l("Choose a file.")})
        return loans.lend(f, borrower=form.borrower.data, contact=form.contact.data, content=form.content.data,
                          document=form.document.data, borrower_user=form.borrower_user.data,
                          borrower_team=form.borrower_team.data, copying=form.copying.data, actor=_user())

    @expose("/<int:obj_id>/step", methods=["POST"])
    def step(self, obj_id):
        o = self._obj(obj_id)
        name = request.form.get("step", "")
        try:
            if name == "approve":
                loans.approve(o, actor=_user())
            elif name == "reject":
                loans.reject(o, reason=request.form.get("reason", ""), actor=_user())
            elif name == "return":
                loans.give_back(o, actor=_user())
            else:
                abort(400)
            flash(_("Done."), "success")
        except FieldErrors as e:
            _flash_errors(e)
        return self._back(o)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["steps"] = loans.LOANS.steps_for(kwargs["model"], _user())
            kwargs["state_label"] = loans.LOANS.label(kwargs["model"].status)
        return super().render(template, **kwargs)


class DestructionView(_Steps):
    permission = "archives.destruction"
    allow_create = allow_edit = False
    column_list = ["file_number", "file_title", "status", "applicant", "reviewed_by", "appraised_by",
                   "approved_by", "destroyed_by", "witnesses", "document_count", "destroyed_at"]
    column_export_list = column_list + ["contents", "signature_sha256"]
    column_labels = {"file_number": _l("File number"), "file_title": _l("Title"), "status": _l("Status"),
                     "applicant": _l("Applicant"), "reviewed_by": _l("Reviewed by (archivist)"),
                     "appraised_by": _l("Appraised by (supervision group)"),
                     "approved_by": _l("Approved by (team leader)"), "destroyed_by": _l("Destroyed by"),
                     "witnesses": _l("Witnesses"), "document_count": _l("Documents destroyed"),
                     "destroyed_at": _l("Destroyed at"), "contents": _l("What was destroyed"),
                     "reason": _l("Reason"), "signature_sha256": _l("Signatures (SHA-256)"), "file": _l("File"),
                     "team": _l("Team"), "created_at": _l("Applied at")}
    column_filters = ["status"]
    column_default_sort = ("id", True)
    details_template = "archives/steps_details.html"
    list_template = "archives/destruction_list.html"
    column_details_exclude_list = ["signature_key", "signature_storage", "due_at"]
    column_formatters = {"status": lambda v, c, m, n: destruction.DESTRUCTION.label(m.status)}
    column_formatters_export = column_formatters
    export_types = ["xlsx", "csv"]

    @expose("/due")
    def due(self):
        q = security.scoped(ArchiveFile, ArchiveFile.select(), "archives.file.view")
        from .catalogue import RETENTION_LABELS
        return self.render("archives/destruction_due.html", files=list(destruction.due_files(q)),
                           labels=RETENTION_LABELS)

    @expose("/apply/<int:file_id>", methods=["POST"])
    def apply(self, file_id):
        f = security.scoped(ArchiveFile, ArchiveFile.select(), "archives.file.view") \
            .where(ArchiveFile.id == file_id).first()
        if f is None or not security.can("archives.destruction.create", f):
            audit.log("access.denied", ("archives_file", str(file_id)), {"path": request.path})
            abort(404)
        try:
            d = destruction.apply(f, reason=request.form.get("reason", ""), actor=_user())
        except FieldErrors as e:
            _flash_errors(e)
            return redirect(url_for(".due"))
        flash(_("The destruction was applied for."), "success")
        return self._back(d)

    @expose("/<int:obj_id>/step", methods=["POST"])
    def step(self, obj_id):
        o = self._obj(obj_id)
        name = request.form.get("step", "")
        try:
            if name == "destroy":
                up = request.files.get("signature")
                destruction.destroy(o, witnesses=request.form.get("witnesses", ""),
                                    signature=up.read() if up is not None and up.filename else b"",
                                    signature_name=up.filename if up is not None else "", actor=_user())
            else:
                destruction.step(o, name, actor=_user(), reason=request.form.get("reason", ""))
            flash(_("Done."), "success")
        except FieldErrors as e:
            _flash_errors(e)
        return self._back(o)

    @expose("/<int:obj_id>/signature")
    def signature(self, obj_id):
        from plugins.documents.services import send
        o = self._obj(obj_id)
        data = destruction.signature(o)
        if data is None:
            abort(404)
        audit.log("export", o, {"document": "archives.destruction_signatures"})
        return send(data, f"销毁监销签字_{o.file_number}.pdf", fallback=f"signatures-{o.id}.pdf", inline=False)

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["steps"] = destruction.DESTRUCTION.steps_for(kwargs["model"], _user())
            kwargs["state_label"] = destruction.DESTRUCTION.label(kwargs["model"].status)
        return super().render(template, **kwargs)


class LossView(_Steps):
    permission = "archives.custody"
    allow_edit = False
    column_list = ["team", "file", "what", "lost_on", "remedy", "reporter", "reported_at"]
    column_export_list = column_list
    form_columns = ["team", "file", "what", "lost_on", "remedy"]
    column_labels = {"team": _l("Team"), "file": _l("File"), "what": _l("What was lost"),
                     "lost_on": _l("Lost on"), "remedy": _l("Remedy taken"), "reporter": _l("Reported by"),
                     "reported_at": _l("Reported at")}
    column_default_sort = ("id", True)
    export_types = ["xlsx", "csv"]

    def create_model(self, form):
        return custody.report_loss(form.team.data, what=form.what.data, lost_on=form.lost_on.data,
                                   remedy=form.remedy.data, file=form.file.data, actor=_user())


class HandoverView(_Steps):
    permission = "archives.custody"
    allow_edit = False
    column_list = ["team", "day", "from_user", "to_user", "files", "recorded_by"]
    column_export_list = column_list
    form_columns = ["team", "from_user", "to_user", "day", "note"]
    form_extra_fields = {"file_numbers": TextAreaField(_l("File numbers handed over (one a line)"))}
    column_labels = {"team": _l("Team"), "day": _l("Date"), "from_user": _l("Handed over by"),
                     "to_user": _l("Taken over by (new archivist)"), "files": _l("Files"), "note": _l("Note"),
                     "recorded_by": _l("Recorder"), "created_at": _l("Registered at")}
    column_default_sort = ("id", True)
    export_types = ["xlsx", "csv"]
    field_error_map = {"files": "file_numbers"}

    def create_model(self, form):
        numbers = [n.strip() for n in (form.file_numbers.data or "").split() if n.strip()]
        files = list(security.scoped(ArchiveFile, ArchiveFile.select(), "archives.file.view")
                     .where(ArchiveFile.number.in_(numbers))) if numbers else []
        if len(files) != len(set(numbers)):
            raise FieldErrors({"files": _l("Some of these file numbers are unknown: %(n)s",
                                           n=" ".join(sorted(set(numbers) - {f.number for f in files})))})
        return custody.hand_over(form.team.data, from_user=form.from_user.data, to_user=form.to_user.data,
                                 files=files, day=form.day.data, note=form.note.data, actor=_user())
