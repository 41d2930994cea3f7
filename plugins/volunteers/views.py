"""Public pages of the volunteers plugin: registration (附录一, R-REG-1…4, R-REG-6) and the volunteer's
own record with corrections, data export and requests (R-NAT-4, PR7)."""
import json

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.pii import ID_TYPES, mask_id, mask_phone

from . import services
from .models import DISTRICTS, EDUCATION, POLITICAL_STATUSES

bp = Blueprint("volunteers", __name__, template_folder="templates")

FORM_FIELDS = ["name", "gender", "id_type", "id_number", "birth_date", "phone", "password", "email",
               "nickname", "political_status", "religion", "ethnicity", "native_place", "household_place",
               "district", "address", "postcode", "qq", "wechat", "education", "school_major",
               "professional_title", "job_title", "occupation", "employer", "specialties", "hobbies",
               "service_intention", "resume", "minor_basis", "guardian_name", "guardian_phone",
               "agreement", "sensitive_consent", "pledge", "guardian_consent"]


def _options():
    return {"districts": DISTRICTS, "education": EDUCATION, "political": POLITICAL_STATUSES,
            "id_types": list(ID_TYPES.items())}


@bp.route("/register", methods=["GET", "POST"])
def register():
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in FORM_FIELDS}
        try:
            v = services.register(data)
        except services.RegistrationError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
        else:
            return render_template("volunteers/registered.html", volunteer=v), 201
    data.pop("password", None)
    return render_template("volunteers/register.html", data=data, errors=errors,
                           **_options()), (400 if errors else 200)


def _my_volunteer():
    v = services.for_user(current_user)
    if v is None:
        abort(404)
    return v


@bp.route("/me", methods=["GET", "POST"])
@login_required
def me():
    v = _my_volunteer()
    errors = {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in services.EDITABLE_BY_SELF if k in request.form}
        if "sensitive_consent" in request.form:
            data["sensitive_consent"] = request.form.get("sensitive_consent")
        try:
            changed = services.update_profile(v, data, actor=current_user._get_current_object())
        except services.RegistrationError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".me"))
    from flask import current_app
    panels = [p for group in current_app.extensions["timebank"].pm.hook.volunteer_panels(
        volunteer=v, user=current_user._get_current_object()) for p in (group or [])]
    return render_template("volunteers/me.html", v=v, errors=errors, panels=panels,
                           masked_id=mask_id(v.id_number), masked_phone=mask_phone(v.phone), **_options()), \
        (400 if errors else 200)


@bp.route("/me/export.json")
@login_required
def export_me():
    v = _my_volunteer()
    body = json.dumps(services.export_own(v), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=volunteer-{v.number}.json",
        "Cache-Control": "no-store"})


@bp.route("/me/requests", methods=["POST"])
@login_required
def my_request():
    v = _my_volunteer()
    try:
        services.request_action(v, request.form.get("kind", ""), request.form.get("details", ""))
    except services.RegistrationError as e:
        flash(str(list(e.errors.values())[0]), "error")
    else:
        flash(_("Your request was recorded. You will get an answer in your inbox."), "success")
    return redirect(url_for(".me"))
