"""The person's own consents on /me/privacy (issue 13 point 3; PIPL 15): see each purpose with the notice
version and the time given, give or withdraw one; a withdrawal takes effect at once and is audited. Routes
on the privacy blueprint; the panel is ``privacy/consents_panel.html``, included by ``mine.html``."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import consents
from .services import subject_for_user
from .views import bp


def my_consents():
    """The logged-in person's consents (for the panel), or [] for an account without a register subject."""
    if not current_user.is_authenticated:
        return []
    try:
        return consents.consents_of(subject_for_user(current_user._get_current_object()))
    except consents.ConsentError:
        return []


@bp.record_once
def _jinja_global(state):
    state.app.jinja_env.globals["privacy_my_consents"] = my_consents


@bp.route("/me/privacy/consents", methods=["POST"])
@login_required
def consent_change():
    user = current_user._get_current_object()
    subject = subject_for_user(user)
    code, action = request.form.get("purpose", ""), request.form.get("action", "")
    try:
        if action == "withdraw":
            if consents.withdraw(subject, code, actor=user):
                flash(_("Your consent was withdrawn. It takes effect at once."), "success")
        elif action == "give":
            consents.give(subject, code, actor=user)
            flash(_("Your consent was recorded."), "success")
        else:
            flash(_("Unknown purpose."), "error")
    except consents.ConsentError as e:
        flash("; ".join(e.messages()), "error")
    return redirect(url_for(".mine") + "#privacy-consents")
