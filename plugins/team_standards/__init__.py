"""Team standards checklist (日常管理标准化体系, the 七个有; RULES R-TEAM-6): hook implementations only;
logic lives in services.py and access.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role
from plugins.teams.scoping import team_scoped


@hookimpl
def register_models():
    from .models import Assessment, Item, Result
    return [Item, Assessment, Result]


@hookimpl
def load_reference_data():
    from .services import load_items
    load_items()


@hookimpl
def register_permissions():
    return [Permission("team_standards.assessment.view", _l("View team standards assessments")),
            Permission("team_standards.assessment.create", _l("Assess teams against the standards checklist")),
            Permission("team_standards.assessment.export", _l("Export team standards assessments"))]


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=["team_standards.assessment.view",
                                            "team_standards.assessment.create"])]


def _scoped_models():
    from .models import Assessment, Result
    return {Assessment: "team", Result: "assessment.team"}


# a team admin reaches only the assessments of teams in their tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="team_standards")


@hookimpl
def register_admin_views(admin):
    from .admin import AssessmentView
    from .models import Assessment
    return [AssessmentView(Assessment, name=_l("Standards assessments"), endpoint="team_standards_assessment",
                           category=_l("Teams"))]


@hookimpl
def register_blueprints(app):
    from flask import Blueprint
    # no routes: only makes templates/team_standards/ reachable for the admin pages
    return [Blueprint("team_standards", __name__, template_folder="templates")]
