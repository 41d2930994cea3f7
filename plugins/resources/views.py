"""The public catalogue of 资源链接 (R-RES-1): programmes open now or opening within the setting's days,
then every programme and account, searchable by resource type, district and name."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from . import services

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
    return render_template(
        "resources/index.html", upcoming=services.upcoming(), days=services.SETTINGS.get("upcoming_days"),
        programmes=services.programmes(rtype, district, q), accounts=services.accounts(rtype, district, q),
        types=services.RESOURCE_TYPES, districts=services.DISTRICTS + ("全市", "广东省"),
        rtype=rtype, district=district, q=q)
