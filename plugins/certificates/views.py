"""Public pages: a volunteer's certificates (apply, status, download; R-CERT-1, R-CERT-2) and the
verification page a certificate's QR code points to (R-NAT-5, R-NAT-6: masked data only)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.pii import mask_name
from plugins.documents.services import send
from plugins.volunteers import services as volunteers

from . import services
from .models import Certificate, CertificateLine

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates")


def _no_store(body, code=200):
    resp = current_app.make_response((body, code))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _page(v, errors=None, form=None, code=200):
    records = services.activities.confirmed_service_records(v) if v is not None else []
    certs = services.of_volunteer(v) if v is not None else []
    on = {}
    if certs:
        for ln in CertificateLine.select(CertificateLine.record, Certificate.status).join(Certificate).where(
                Certificate.volunteer == v.id).tuples():
            on.setdefault(ln[0], set()).add(ln[1])
    return _no_store(render_template("certificates/mine.html", v=v, records=records, certs=certs, on=on,
                                     purposes=services.purposes(), errors=errors or {}, form=form or {}), code)


@bp.route("/mine")
@login_required
def mine():
    return _page(volunteers.for_user(current_user))


@bp.route("/apply", methods=["POST"])
@login_required
def apply():
    v = volunteers.for_user(current_user)
    if v is None:
        abort(404)
    form = {"purpose": request.form.get("purpose", ""), "purpose_other": request.form.get("purpose_other", ""),
            "has_attachments": request.form.get("has_attachments") == "1",
            "records": request.form.getlist("records")}
    try:
        services.apply(v, form["records"], purpose=form["purpose"], purpose_other=form["purpose_other"],
                       has_attachments=form["has_attachments"], actor=current_user._get_current_object())
    except services.CertificateError as e:
        return _page(v, {k: str(m) for k, m in e.errors.items()}, form, 400)
    flash(_("Your application was sent. The team that keeps the records reviews it."), "success")
    return redirect(url_for(".mine"))


@bp.route("/<int:cert_id>.pdf")
@login_required
def download(cert_id):
    """The volunteer's own issued certificate (with their full ID number)."""
    v = volunteers.for_user(current_user)
    c = Certificate.get_or_none((Certificate.id == cert_id) & (Certificate.volunteer == (v.id if v else -1)))
    if c is None or c.status != "approved":
        abort(404)
    try:
        doc = services.pdf_for(c, current_user._get_current_object())
    except services.CertificateError as e:  # e.g. no configured public address (503)
        return render_template("core/error.html", code=e.code, title=_("Not available"),
                               message="; ".join(e.messages())), e.code
    return send(doc.data, doc.filename, fallback=doc.fallback, inline=True)


@bp.route("/verify/<token>")
def verify(token):
    """Public, no login: is this certificate genuine? Masked name, volunteer number, hours, issuing unit
    and date only — never the ID number (R-NAT-6)."""
    c = services.find_by_token(token)
    if c is None:
        resp = _no_store(render_template("certificates/verify.html", c=None), 404)
    else:
        groups = current_app.extensions["timebank"].pm.hook.certificate_verification_lines(certificate=c)
        lines = [line for group in groups for line in (group or [])]
        resp = _no_store(render_template("certificates/verify.html", c=c, name=mask_name(c.volunteer.name),
                                         lines=lines))
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp
