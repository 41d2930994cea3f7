"""The volunteer's own yearly progress (/targets/me): only their own record, for this or an earlier
year; there is no id to change (AC6)."""
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from plugins.volunteers.services import for_user

from . import services

bp = Blueprint("targets", __name__, url_prefix="/targets", template_folder="templates")


@bp.route("/me")
@login_required
def me():
    v = for_user(current_user)
    if v is None:
        abort(404)
    try:
        year = services.check_year(request.args.get("year"))
    except services.TargetError:
        abort(404)
    row = services.own_progress(v, year)
    resp = current_app.make_response(render_template(
        "targets/me.html", r=row, year=year, years=list(range(services.today().year, services.today().year - 5, -1)),
        category_labels=services.CATEGORY_LABELS, status_labels=services.STATUS_LABELS))
    resp.headers["Cache-Control"] = "no-store"
    return resp
