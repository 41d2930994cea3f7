"""Admin 人员 → 个人信息权利请求 (issue 13 point 2): requests with due dates and overdue flags, staff filing
for a service recipient, grant / refuse through core.workflow; and the volunteers plugin's own open
requests with the same due dates (decided on its page). Bad input: a clear message, nothing written."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from core.admin import PermissionView
from core.errors import FieldErrors

from . import requests as R


class RequestsView(PermissionView):
    permission = R.HANDLE

    @expose("/")
    def index(self):
        status = request.args.get("status", "open")
        if status not in R.WORKFLOW.states:
            status = "open"
        rows = list(R.SubjectRequest.select().where(R.SubjectRequest.status == status)
                    .order_by(R.SubjectRequest.due_at, R.SubjectRequest.id).limit(500))
        late = {r.id for r in rows if R.WORKFLOW.is_overdue(r)}
        users = {u.id: u for u in R.User.select().where(R.User.id.in_([r.user_id for r in rows if r.user_id]))}
        vol = R.volunteer_requests()
        vol_url = None
        if vol:
            try:
                vol_url = url_for("volunteers_data_request.index_view")
            except Exception:  # noqa: BLE001 - the volunteers' view may be named otherwise or absent
                vol_url = None
        return self.render("privacy/requests_admin.html", rows=rows, late=late, users=users, status=status,
                           states=[c for c in R.WORKFLOW.choices() if c[0] != "new"], kinds=R.KINDS,
                           label=R.WORKFLOW.label, vol=vol, vol_url=vol_url, recipients=self._recipients())

    def _recipients(self):
        """The recipients the handler may name (the recipients plugin loaded), else None: free text."""
        if not R.recipients_loaded():
            return None
        from plugins.recipients.services import label, visible
        return [(r.id, label(r)) for r in visible(current_user._get_current_object())]

    def _row(self, req_id):
        row = R.SubjectRequest.get_or_none(R.SubjectRequest.id == req_id)
        if row is None:
            abort(404)
        return row

    @expose("/file", methods=["POST"])
    def file(self):
        try:
            R.file_for_recipient(current_user._get_current_object(), request.form.get("subject_ref", ""),
                                 request.form.get("kind", ""), request.form.get("details", ""),
                                 recipient_id=request.form.get("recipient_id"))
            flash(_("The request is filed."), "success")
        except FieldErrors as e:
            flash(" ".join(e.messages()), "error")
        return redirect(url_for(".index"))

    @expose("/<int:req_id>/recipient.zip")
    def recipient_zip(self, req_id):
        from flask import Response
        try:
            body = R.recipient_zip(self._row(req_id), current_user._get_current_object())
        except FieldErrors:
            abort(404)
        return Response(body, mimetype="application/zip", headers={
            "Content-Disposition": f"attachment; filename=recipient-{req_id}.zip", "Cache-Control": "no-store"})

    @expose("/<int:req_id>/decide", methods=["POST"])
    def decide(self, req_id):
        try:
            R.decide(self._row(req_id), current_user._get_current_object(),
                     grant=request.form.get("decision") == "grant", outcome=request.form.get("outcome", ""))
            flash(_("Decided; the requester is told in their inbox."), "success")
        except FieldErrors as e:
            if getattr(e, "code", 400) == 403:
                abort(403)
            flash(" ".join(e.messages()), "error")
        return redirect(url_for(".index"))
