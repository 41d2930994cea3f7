"""A volunteer's (or any account holder's) download of everything held about them (issue 13 point 2,
PIPL 45, PR7): prepare a single-use, expiring link, then download one ZIP once."""
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import services

bp = Blueprint("privacy", __name__, template_folder="templates")


def _no_store(resp, code=200):
    resp = current_app.make_response((resp, code))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/me/privacy", methods=["GET", "POST"])
@login_required
def mine():
    token = None
    if request.method == "POST":
        token = services.create_export_link(current_user._get_current_object())
    seen = services.seen_by_others(services.subject_for_user(current_user._get_current_object()))
    return _no_store(render_template("privacy/mine.html", token=token, seen=seen,
                                     minutes=services.SETTINGS.get("export_link_minutes")))


@bp.route("/me/privacy/download/<token>")
@login_required
def download(token):
    try:
        body = services.use_export_link(token, current_user._get_current_object())
    except services.PrivacyError as e:
        flash(str(list(e.errors.values())[0]), "error")
        return redirect(url_for(".mine"))
    return Response(body, mimetype="application/zip", headers={
        "Content-Disposition": "attachment; filename=personal-data.zip", "Cache-Control": "no-store"})
