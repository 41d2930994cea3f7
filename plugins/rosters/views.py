"""The volunteer's own 附录一 form (/rosters/me/registration.pdf): only their own record, masked."""
from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from core import audit
from plugins.documents.services import send
from plugins.volunteers.services import for_user

from . import services

bp = Blueprint("rosters", __name__, url_prefix="/rosters", template_folder="templates")


@bp.route("/me/registration.pdf", methods=["GET", "POST"])
@login_required
def my_registration_form():
    """A volunteer gets their own form and no one else's: there is no id to change (R-TEAM-7, AC6).
    Phone and ID number stay masked unless the account holds the sensitive-data permission and asks
    for full values with a POST (CSRF-protected)."""
    user = current_user._get_current_object()
    v = for_user(user)
    if v is None:
        audit.log("access.denied", None, {"document": "registration_form", "path": request.path})
        abort(404)
    full = request.method == "POST" and request.form.get("full") == "1"
    try:
        doc = services.registration_form(user, v, full=full)
    except services.RosterError as e:
        abort(e.code)
    return send(doc.data, doc.filename, fallback=doc.fallback, inline=True)
