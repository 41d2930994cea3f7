"""Teams (志愿服务团队/队伍): hook implementations only; the logic is in services.py and access.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions

from .scoping import team_scoped

OBJECTS = {"team": _l("teams"), "membership": _l("membership applications"),
           "subteam_request": _l("sub-team applications"), "position": _l("team positions")}


@hookimpl
def register_models():
    from .models import Membership, Position, SubTeamRequest, Team
    return [Team, Membership, SubTeamRequest, Position]


@hookimpl
def register_permissions():
    perms = [p for obj, noun in OBJECTS.items() for p in crud_permissions(f"teams.{obj}", noun)]
    perms.append(Permission("teams.team.review", _l("Review team registrations (platform)")))
    perms.append(Permission("teams.team.sensitive", _l("See team leaders' full phone numbers (audited)")))
    return perms


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=[
        "teams.team.view", "teams.team.edit", "teams.team.export",
        "teams.membership.view", "teams.membership.edit", "teams.membership.export",
        "teams.subteam_request.view", "teams.subteam_request.create", "teams.subteam_request.edit",
        "teams.subteam_request.export",
        "teams.position.view", "teams.position.create", "teams.position.edit", "teams.position.delete",
        "teams.position.export",
        "teams.team.sensitive"])]


def _scoped_models():
    from plugins.volunteers.models import Application, DataRequest, Volunteer
    from .models import Membership, Position, SubTeamRequest, Team

    def members(ids, statuses):
        return Membership.select(Membership.volunteer).where(
            Membership.team.in_(ids) & Membership.status.in_(statuses))
    return {Team: "id", Membership: "team", Position: "team", SubTeamRequest: ("child", "parent"),
            # members and applicants of the tree, and people whose registration application chose one of
            # its teams (R-REG-7)
            Volunteer: lambda ids: Volunteer.id.in_(members(ids, ["pending", "approved"]))
            | Volunteer.id.in_(Application.select(Application.volunteer).where(Application.team_id.in_(ids))),
            Application: "team_id",
            DataRequest: lambda ids: DataRequest.volunteer.in_(members(ids, ["approved"]))}


# a team admin reaches only their own team tree, everywhere (AC6): its teams, applications, positions,
# sub-team requests, and the volunteers who applied to or joined it (with their data requests)
scope_query, permission_allowed = team_scoped(_scoped_models)


@hookimpl
def register_admin_views(admin):
    from .admin import (MembershipView, MemberView, ParentTeamsView, PositionView, SubTeamRequestView,
                        SubTeamView, TeamView)
    from .models import Membership, Position, SubTeamRequest, Team
    cat = _l("Teams")
    return [TeamView(Team, name=_l("Teams"), endpoint="teams_team", category=cat),
            MembershipView(Membership, name=_l("Join applications"), endpoint="teams_membership",
                           category=cat),
            MemberView(Membership, name=_l("Members"), endpoint="teams_member", category=cat),
            SubTeamView(Team, name=_l("Sub-teams"), endpoint="teams_subteam", category=cat),
            ParentTeamsView(name=_l("Teams my team belongs to"), endpoint="teams_parent", category=cat),
            SubTeamRequestView(SubTeamRequest, name=_l("Team join applications"),
                               endpoint="teams_subteam_request", category=cat),
            PositionView(Position, name=_l("Positions"), endpoint="teams_position", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_events():
    from .services import MembershipDecided, SubTeamDecided, TeamReviewed
    return [TeamReviewed, MembershipDecided, SubTeamDecided]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    return [MenuItem(_l("Teams"), url_for("teams.index"), None, order=25)]


@hookimpl
def load_demo_data(app):
    from .demo import load
    load(app)


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from core.web import Widget
    from .services import teams_of
    teams = list(teams_of(volunteer))
    if not teams:
        body = Markup("<p>{}</p>").format(_l("You have not joined a team yet."))
    else:
        body = Markup("<ul>") + Markup("").join(Markup("<li>{}</li>").format(t.name) for t in teams) \
            + Markup("</ul>")
    return [Widget(_l("My teams"), body, order=10)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.admin import list_url
    from core.web import Widget
    from .models import Membership, Team
    out = []
    if security.can("teams.team.review", user=user):
        n = Team.select().where(Team.status == "pending").count()
        out.append(Widget(_l("Teams waiting for review"), Markup(
            '<p class="display-4">{}</p><p><a href="{}">{}</a></p>').format(
                n, list_url("teams_team", status="pending"), _l("Review")), order=30, width=4))
    if security.can("teams.membership.edit", user=user):
        q = security.scoped(Membership, Membership.select().where(Membership.status == "pending"),
                            "teams.membership.view", user=user)
        out.append(Widget(_l("Join applications"), Markup(
            '<p class="display-4">{}</p><p><a href="{}">{}</a></p>').format(
                q.count(), url_for("teams_membership.index_view"), _l("Decide")), order=31, width=4))
    return out


@hookimpl
def track_event(event):
    """An erased volunteer (deletion request, retention) leaves every team and every post (PR6)."""
    if event.name == "volunteers.erased":
        from .services import release_volunteer
        release_volunteer(event.volunteer_id)


@hookimpl
def home_sections(authenticated):
    from core.web import HomeAction, HomeStat
    from .models import Team
    out = [HomeStat(_l("Volunteer teams"), Team.select().where(Team.status == "approved").count(), order=20),
           HomeAction(_l("Find a team"), url_for("teams.index"), order=30)]
    if not authenticated:
        out.append(HomeAction(_l("Register a team"), url_for("teams.register"), order=20))
    return out


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
