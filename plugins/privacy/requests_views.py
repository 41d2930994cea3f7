"""/me/privacy/requests: a logged-in person files and follows their own requests (issue 13 point 2)."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.errors import FieldErrors

from . import requests as R

bp = Blueprint("privacy_requests", __name__, template_folder="templates")


@bp.route("/me/privacy/requests", methods=["GET", "POST"])
@login_required
def mine():
    user = current_user._get_current_object()
    errors = {}
    if request.method == "POST":
        try:
            R.file_own(user, request.form.get("kind", ""), request.form.get("details", ""))
            flash(_("Your request is filed; you will find the answer in your inbox."), "success")
            return redirect(url_for(".mine"))
        except FieldErrors as e:
            errors = {k: str(v) for k, v in e.errors.items()}
    rows = list(R.SubjectRequest.select().where(R.SubjectRequest.user == user.id)
                .order_by(R.SubjectRequest.id.desc()).limit(100))
    resp = current_app.make_response((render_template(
        "privacy/requests_mine.html", rows=rows, kinds=R.KINDS, errors=errors, label=R.WORKFLOW.label,
        form=request.form), 400 if errors else 200))
    resp.headers["Cache-Control"] = "no-store"
    return resp
