"""The public catalogue of 资源链接 (R-RES-1): programmes open now or opening within the setting's days,
then every programme and account, searchable by resource type, district and name."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from . import services

DAYS_MIN, DAYS_MAX = 1, 366
bp = Blueprint("resources", __name__, url_prefix="/resources", template_folder="templates")


def _arg(name: str, allowed=None, max_length: int = 40) -> str:
    value = (request.args.get(name) or "").strip()[:max_length]
    if allowed is not None and value not in allowed:
        return ""
    return value


@bp.route("/")
def index():
    rtype = _arg("type", services.RESOURCE_TYPES)
    district = _arg("district", services.DISTRICTS + ("全市", "广东省"))
    q = _arg("q")
    from core.inputs import arg_int
    # "what can we apply for in the next N days": N from ?days= (1–366), else the setting
    days = arg_int("days", services.SETTINGS.get("upcoming_days"), min=DAYS_MIN, max=DAYS_MAX)
    return render_template(
        "resources/index.html", upcoming=services.upcoming(days), days=days, days_min=DAYS_MIN,
        days_max=DAYS_MAX,
        programmes=services.programmes(rtype, district, q), accounts=services.accounts(rtype, district, q),
        types=services.RESOURCE_TYPES, districts=services.DISTRICTS + ("全市", "广东省"),
        rtype=rtype, district=district, q=q)


# ------------------------------------------------------------------ 公示 (issue 14 point 3, R-RES-2)
@bp.route("/publicity/")
def publicity():
    """The applications in their public announcement: activity, team, place, period, amount, until when;
    never the leader's or members' personal data."""
    from core import money
    from .steps import in_publicity
    return render_template("resources/publicity.html", rows=list(in_publicity()), fmt=money.fmt,
                           days=services.SETTINGS.get("publicity_workdays"))


@bp.route("/publicity/<int:aid>/object", methods=["GET", "POST"])
def object_to(aid):
    """Anyone may object during 公示, with a name and a phone number to be called back."""
    from flask import abort, flash, redirect, url_for
    from core.errors import FieldErrors
    from .models import Application
    from .steps import object_to as record
    a = Application.get_or_none((Application.id == aid) & (Application.status == "publicity"))
    if a is None:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "")[:2000] for k in ("name", "contact", "text")}
        try:
            record(a, form["text"], name=form["name"], contact=form["contact"])
        except FieldErrors as e:
            errors = {k: str(v) for k, v in e.errors.items()}
        else:
            flash(_("Your objection was recorded. Staff will call you back."), "success")
            return redirect(url_for("resources.publicity"))
    return render_template("resources/object.html", a=a, form=form, errors=errors), (400 if errors else 200)


@bp.route("/publicity.pdf")
def publicity_pdf():
    """The 公示 list as a PDF (the public page's columns only)."""
    from plugins.documents.services import send
    from .documents import publicity_pdf as build
    from .steps import in_publicity
    return send(build(list(in_publicity())), "资助项目合作公示.pdf", fallback="publicity.pdf")
