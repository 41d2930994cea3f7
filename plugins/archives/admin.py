"""档案管理 admin pages: the catalogue (search by number/title prefix, XLSX export, cover sheet and contents
PDFs, upload, close), the documents (download), the chronicle and the kinds. Every object is reached
through the view's scoped query (a team admin: their team tree only; another team's id is a 404, AC6)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import audit, inputs, security
from core.admin import SecureModelView
from core.errors import FieldErrors

from . import catalogue
from .models import ArchiveFile, Document

LABELS = {"team": _l("Team"), "kind": _l("Archive kind"), "number": _l("File number"), "title": _l("Title"),
          "date_from": _l("First date"), "date_to": _l("Last date"), "responsible": _l("Responsible"),
          "retention": _l("Retention period"), "disposal_date": _l("Disposal date"), "status": _l("Status"),
          "due_at": _l("Due"), "note": _l("Note"), "fonds_no": _l("Fonds number"),
          "catalogue_no": _l("Catalogue number"), "seq": _l("File sequence")}


def _user():
    return current_user._get_current_object()


class FileView(SecureModelView):
    permission = "archives.file"
    allow_delete = False                       # destruction is its own procedure (R-ARC-5)
    column_list = ["number", "title", "kind", "team", "date_from", "date_to", "retention", "disposal_date",
                   "status", "due_at"]
    column_export_list = ["fonds_no", "catalogue_no", "seq", "number", "title", "kind", "team", "date_from",
                          "date_to", "responsible", "retention", "disposal_date", "status"]
    form_columns = ["team", "kind", "title", "date_from", "date_to", "responsible", "retention", "note"]
    column_filters = ["status", "retention", "disposal_date"]
    column_default_sort = "number"
    column_labels = LABELS
    list_template = "archives/file_list.html"
    details_template = "archives/file_details.html"
    can_view_details = True
    export_types = ["xlsx", "csv"]

    def get_query(self):
        from flask import has_request_context
        prefix = request.args.get("prefix", "") if has_request_context() else ""
        return catalogue.prefix_filter(super().get_query(), prefix)

    def get_count_query(self):
        from peewee import fn
        return self.get_query().select(fn.COUNT(ArchiveFile.id))

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        catalogue.check_file(model)
        if is_created:
            catalogue.number_file(model)
        else:
            model.disposal_date = catalogue.disposal_date(model.retention, model.date_to or model.date_from)

    def after_model_change(self, form, model, is_created):
        audit.log("archives.file_created" if is_created else "archives.file_changed", model, {"number": model.number})

    # ------------------------------------------------------------------ one file
    def _file(self, file_id, action="view"):
        f = self.get_one(file_id)
        if f is None or not security.can(self.perm(action), f):
            audit.log("access.denied", ("archives_file", str(file_id)), {"path": request.path})
            abort(404)
        return f

    @expose("/<int:file_id>/cover.pdf")
    def cover(self, file_id):
        from plugins.documents.services import send
        f = self._file(file_id)
        audit.log("export", f, {"document": "archives.cover"})
        return send(catalogue.cover_pdf(f), f"案卷封面_{f.number}.pdf", fallback=f"cover-{f.number}.pdf", inline=True)

    @expose("/<int:file_id>/contents.pdf")
    def contents(self, file_id):
        from plugins.documents.services import send
        f = self._file(file_id)
        audit.log("export", f, {"document": "archives.contents"})
        return send(catalogue.contents_pdf(f), f"卷内目录_{f.number}.pdf", fallback=f"contents-{f.number}.pdf",
                    inline=True)

    @expose("/<int:file_id>/upload", methods=["POST"])
    def upload(self, file_id):
        f = self._file(file_id, "edit")
        up = request.files.get("document")
        back = redirect(url_for(".details_view", id=f.id))
        if up is None or not up.filename:
            flash(_("Choose a file to upload."), "error")
            return back
        try:
            catalogue.add_document(f, request.form.get("title", "").strip() or up.filename, up.filename,
                                   up.read(), content_type=up.mimetype or "", source="upload", actor=_user())
        except FieldErrors as e:
            flash("；".join(str(v) for v in e.errors.values()), "error")
            return back
        flash(_("The document was filed."), "success")
        return back

    @expose("/<int:file_id>/close", methods=["POST"])
    def close(self, file_id):
        f = self._file(file_id, "close")
        try:
            catalogue.close_file(f, actor=_user())
            flash(_("The file is closed."), "success")
        except FieldErrors as e:
            flash("；".join(str(v) for v in e.errors.values()), "error")
        return redirect(url_for(".details_view", id=f.id))

    @expose("/<int:file_id>/collect", methods=["POST"])
    def collect(self, file_id):
        f = self._file(file_id, "edit")
        if f.activity_id and f.status == "draft":
            from .filing import file_activity
            from plugins.activities.models import Activity
            a = Activity.get_or_none(Activity.id == f.activity_id)
            if a is not None:
                file_activity(a, actor=_user())
                flash(_("The activity's documents were collected again."), "success")
        return redirect(url_for(".details_view", id=f.id))

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            from core.db import now
            kwargs["documents"] = list(Document.select().where(Document.file == kwargs["model"])
                                       .order_by(Document.page))
            kwargs["now"] = now()
            from .loans import current
            kwargs["loans"] = list(current(kwargs["model"]))      # R-ARC-4: who has it
        return super().render(template, **kwargs)


class DocumentView(SecureModelView):
    permission = "archives.file"              # a file's documents go with the file
    allow_create = allow_edit = allow_delete = False
    column_list = ["file", "page", "title", "filename", "size", "sha256", "created_at"]
    column_labels = {"file": _l("File"), "page": _l("Page"), "title": _l("Title"), "filename": _l("File name"),
                     "size": _l("Size (bytes)"), "sha256": "SHA-256", "created_at": _l("Filed at")}
    column_default_sort = ("id", True)

    @expose("/<int:doc_id>/download")
    def download(self, doc_id):
        from plugins.documents.services import send
        d = self.get_one(doc_id)
        if d is None or not security.can("archives.file.view", d.file):
            audit.log("access.denied", ("archives_document", str(doc_id)), {"path": request.path})
            abort(404)
        data = catalogue.read(d)
        if data is None or catalogue.storage.sha256(data) != d.sha256:
            audit.log("archives.integrity_failed", d, {"sha256": d.sha256})
            flash(_("This document no longer matches its SHA-256: it is not served."), "error")
            return redirect(url_for("archives_file.details_view", id=d.file_id))
        audit.log("export", d, {"document": "archives.document", "file": d.file.number, "page": d.page})
        return send(data, d.filename, fallback=f"document-{d.id}", inline=False)


class ChronicleView(SecureModelView):
    permission = "archives.chronicle"
    column_list = form_columns = ["team", "day", "text"]
    column_labels = {"team": _l("Team"), "day": _l("Date"), "text": _l("Event")}
    column_default_sort = ("day", True)


class KindView(SecureModelView):
    permission = "archives.kind"
    allow_delete = False
    column_list = form_columns = ["code", "name", "catalogue_no", "retention", "description"]
    column_labels = {"code": _l("Code"), "name": _l("Name"), "catalogue_no": _l("Catalogue number"),
                     "retention": _l("Retention period"), "description": _l("Description")}
