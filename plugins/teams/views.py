"""Public team pages: team registration (团队注册, R-REG-5), the list of approved teams, joining."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import security
from plugins.volunteers import services as volunteers
from plugins.volunteers.models import DISTRICTS

from . import services
from .models import Team

bp = Blueprint("teams", __name__, url_prefix="/teams", template_folder="templates")

FIELDS = ["name", "leader_name", "leader_phone", "declared_size", "service_direction", "organisation",
          "district", "address", "intro"]


@bp.route("/")
def index():
    teams = Team.select().where(Team.status == "approved").order_by(Team.name).limit(500)
    mine = {}
    if current_user.is_authenticated:
        v = volunteers.for_user(current_user, brief=True)
        if v is not None:
            mine = services.membership_states(v)
    return render_template("teams/index.html", teams=list(teams), mine=mine)


@bp.route("/register", methods=["GET", "POST"])
def register():
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in FIELDS}
        security.limit_reveals("teams.register")  # 429 once this address had its "taken"s (NS4)
        try:
            team = services.register_team(data, username=request.form.get("username", "").strip(),
                                          password=request.form.get("password", ""))
        except services.TeamError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
            security.limit_reveals("teams.register", revealed=(
                errors.get("username") == _("This username is taken.") or
                errors.get("name") == _("A team with this name is already registered.")))
        else:
            return render_template("teams/registered.html", team=team), 201
        data["username"] = request.form.get("username", "")
    return render_template("teams/register.html", data=data, errors=errors, districts=DISTRICTS), \
        (400 if errors else 200)


@bp.route("/<int:team_id>/join", methods=["POST"])
@login_required
def join(team_id):
    team = Team.get_or_none((Team.id == team_id) & (Team.status == "approved"))
    if team is None:
        abort(404)
    v = volunteers.for_user(current_user)
    if v is None:
        flash(_("Only registered volunteers can join a team."), "error")
        return redirect(url_for(".index"))
    try:
        services.apply_to_join(v, team)
    except services.TeamError as e:
        flash("; ".join(str(m) for m in e.errors.values()), "error")
    else:
        flash(_("Your application was sent to %(team)s.", team=team.name), "success")
    return redirect(url_for(".index"))
