"""The plugin's blueprint: the public honour roll (R-INC-2), the volunteer's own thank-you letters and
certificates, and the templates (incentives/…) of the admin pages and the volunteer panel."""
from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from core import inputs

bp = Blueprint("incentives", __name__, url_prefix="/incentives", template_folder="templates",
               static_folder="static")


@bp.route("/honours")
def honours():
    """光荣榜: the published awards, public (names shown: declared public to the privacy plugin)."""
    from core.db import today
    from . import commendations
    year = inputs.arg_int("year", 0, min=0, max=9999) or None
    return render_template("incentives/honours.html", rows=commendations.honour_roll(year), year=year,
                           years=list(range(today().year, today().year - 5, -1)))


@bp.route("/me/awards/<int:nid>/<kind>.pdf")
@login_required
def my_award_pdf(nid, kind):
    """The volunteer's own thank-you letter or honour certificate; another person's is a 404 (AC6)."""
    from plugins.documents.services import send
    from plugins.volunteers.services import for_user
    from . import commendations
    from .models import Nomination
    v = for_user(current_user)
    n = Nomination.get_or_none((Nomination.id == nid) & (Nomination.volunteer == (v.id if v else -1))
                               & Nomination.status.in_(commendations.AWARDED))
    if n is None or kind not in ("letter", "certificate"):
        abort(404)
    data = (commendations.thank_you_letter_pdf(n) if kind == "letter" else commendations.certificate_pdf(n))
    name = "感谢信" if kind == "letter" else "荣誉证书"
    resp = send(data, f"{name}_{n.id}.pdf", fallback=f"{kind}-{n.id}.pdf")
    resp.headers["Cache-Control"] = "no-store"
    return resp
