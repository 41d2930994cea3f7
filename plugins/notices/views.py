from flask import Blueprint, abort, render_template

from . import services

bp = Blueprint("notices", __name__, url_prefix="/notices", template_folder="templates")


@bp.route("/")
def index():
    return render_template("notices/index.html", notices=services.latest(50))


@bp.route("/<int:notice_id>")
def detail(notice_id):
    n = services.get_public(notice_id)
    if n is None:
        abort(404)
    return render_template("notices/detail.html", notice=n)
