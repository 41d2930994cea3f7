"""Public pages of the volunteers plugin: registration (附录一, R-REG-1…4, R-REG-6) and the volunteer's
own record with corrections, data export and requests (R-NAT-4, PR7)."""
import json

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import security
from core.errors import FieldErrors
from core.pii import ID_TYPES, mask_id, mask_phone

from . import services
from .labels import LABELS
from .models import DISTRICTS, EDUCATION, PARTY_MEMBER_STATUSES, POLITICAL_STATUSES

bp = Blueprint("volunteers", __name__, template_folder="templates", static_folder="static",
               static_url_path="/volunteers/static")

FORM_FIELDS = ["name", "gender", "id_type", "id_number", "birth_date", "phone", "password", "email",
               "nickname", "political_status", "in_service_reported_on", "religion", "ethnicity", "native_place", "household_place",
               "district", "address", "postcode", "qq", "wechat", "education", "school_major",
               "professional_title", "job_title", "occupation", "employer", "specialties", "hobbies",
               "service_intention", "resume", "minor_basis", "guardian_name", "guardian_phone",
               "agreement", "sensitive_consent", "pledge", "guardian_consent"]
OPTIONAL_SECTION = ["nickname", "email", "district", "address", "postcode", "ethnicity", "native_place",
                    "household_place", "education", "school_major", "professional_title", "job_title",
                    "occupation", "employer", "qq", "wechat", "specialties", "hobbies", "service_intention",
                    "resume"]
MINOR_SECTION = ["minor_basis", "guardian_name", "guardian_phone", "guardian_consent"]
# the fields a volunteer corrects on /me, in the order of 附录一
ME_FIELDS = ["phone", "email", "nickname", "ethnicity", "native_place", "household_place", "district",
             "address", "postcode", "education", "school_major", "professional_title", "job_title",
             "occupation", "employer", "qq", "wechat", "specialties", "hobbies", "service_intention",
             "resume"]


def _options():
    return {"districts": DISTRICTS, "education": EDUCATION, "political": POLITICAL_STATUSES,
            "party_member_statuses": PARTY_MEMBER_STATUSES, "id_types": list(ID_TYPES.items()),
            "labels": LABELS, "min_age": services.setting("min_age"),
            "guardian_consent_age": services.setting("guardian_consent_age")}


def _no_store(resp, code=200):
    """Pages that echo personal data are never cached (SECURITY.md AC10)."""
    resp = current_app.make_response((resp, code))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/register", methods=["GET", "POST"])
def register():
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in FORM_FIELDS + ["team"]}
        security.limit_reveals("volunteers.register")  # 429 once this address had its "already registered"s
        try:
            v = services.register(data)
        except services.RegistrationError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
            security.limit_reveals("volunteers.register",
                                   revealed=errors.get("id_number") == str(services.DUPLICATE_ID))
        else:
            if v.user_id is not None and v.user.is_active:  # logged in at once: no detour via /login
                security.log_in(v.user, action="login.registered")
            return _no_store(render_template("volunteers/registered.html", volunteer=v,
                                             pending=v.status == "pending",
                                             has_activities="activities" in current_app.blueprints), 201)
    else:
        data = {"id_type": "cn_id"}
    data.pop("password", None)
    open_optional = any(data.get(k) or k in errors for k in OPTIONAL_SECTION)
    open_minor = any(data.get(k) or k in errors for k in MINOR_SECTION)
    return _no_store(render_template(
        "volunteers/register.html", data=data, errors=errors, open_optional=open_optional,
        open_minor=open_minor, privacy_version=services.setting("privacy_notice_version"),
        review=services.review_on(), teams=[(str(i), n) for i, n in services.registration_teams()],
        **_options()),
        400 if errors else 200)


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """A volunteer registered by their team sets up their own login (``services.claim_account``)."""
    errors, data = {}, {"id_type": "cn_id"}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in ("name", "id_type", "id_number", "phone", "password",
                                                      "password2")}
        try:
            v = services.claim_account(data)
        except services.RegistrationError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
        else:
            return _no_store(render_template("volunteers/registered.html", volunteer=v), 201)
    data.pop("password", None)
    data.pop("password2", None)
    return _no_store(render_template("volunteers/activate.html", data=data, errors=errors, **_options()),
                     400 if errors else 200)


def _my_volunteer():
    v = services.for_user(current_user)
    if v is None:
        abort(404)
    return v


@bp.route("/me", methods=["GET", "POST"])
@login_required
def me():
    if services.for_user(current_user) is None:
        a = services.application_of(current_user)
        if a is not None:   # under review, or not approved: the state and the reason (R-REG-7)
            return _no_store(render_template("volunteers/application.html", application=a,
                                             volunteer=a.volunteer))
    v = _my_volunteer()
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in services.EDITABLE_BY_SELF if k in request.form}
        if data.get("phone", "").strip() in ("", mask_phone(v.phone)):
            data.pop("phone", None)  # left empty (the field shows the masked number): unchanged
        for box in ("sensitive_consent", "pledge"):
            if box in request.form:
                data[box] = request.form.get(box)
        try:
            changed = services.update_profile(v, data, actor=current_user._get_current_object())
        except services.RegistrationError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".me"))
    panels = [p for group in current_app.extensions["timebank"].pm.hook.volunteer_panels(
        volunteer=v, user=current_user._get_current_object()) for p in (group or [])]
    requests_ = _my_requests(v)
    current = {k: getattr(v, k) or "" for k in ME_FIELDS + ["political_status", "in_service_reported_on", "religion"] if k != "phone"}
    current.update({k: val for k, val in data.items() if k in current})
    return _no_store(render_template(
        "volunteers/me.html", v=v, errors=errors, data=data, current=current, panels=panels,
        me_fields=ME_FIELDS,
        requests=requests_, masked_id=mask_id(v.id_number), masked_phone=mask_phone(v.phone),
        masked_guardian_phone=mask_phone(v.guardian_phone), **_options()), 400 if errors else 200)


@bp.route("/me/export.json")
@login_required
def export_me():
    v = _my_volunteer()
    body = json.dumps(services.export_own(v), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=volunteer-{v.number}.json",
        "Cache-Control": "no-store"})


def _privacy_on() -> bool:
    return "privacy" in current_app.extensions["timebank"].loaded


def _my_requests(v):
    """The volunteer's requests, newest first: with privacy enabled its register (privacy's
    ``SubjectRequest`` of this account, with due dates in working days) and this plugin's older rows, so
    none filed before privacy was enabled is lost; without privacy this plugin's own register."""
    own = list(v.data_requests.order_by(services.DataRequest.id.desc()))
    if not _privacy_on() or not v.user_id:
        return own
    from plugins.privacy.requests import SubjectRequest
    theirs = list(SubjectRequest.select().where(SubjectRequest.user == v.user_id)
                  .order_by(SubjectRequest.id.desc()).limit(100))
    return sorted(theirs + own, key=lambda r: r.created_at, reverse=True)


@bp.route("/me/requests", methods=["POST"])
@login_required
def my_request():
    """File a request about one's own data (PR7). With privacy enabled it is a privacy request
    (``privacy.requests.file_own``: one register with due dates in working days, the answer in the inbox);
    without it, this plugin's own register."""
    v = _my_volunteer()
    kind = request.form.get("kind", "")
    try:
        if _privacy_on() and v.user_id:
            from plugins.privacy.requests import file_own
            file_own(current_user._get_current_object(), kind, request.form.get("details", ""))
        else:
            services.request_action(v, kind, request.form.get("details", ""))
    except FieldErrors as e:   # services.RegistrationError is one
        flash(str(list(e.errors.values())[0]), "error")
    else:
        if kind == "withdraw":
            flash(_("Your consent is withdrawn: your political status and religion were erased."), "success")
        else:
            flash(_("Your request was recorded. You will get an answer in your inbox."), "success")
    return redirect(url_for(".me"))
