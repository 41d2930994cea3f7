"""激励与维系 (incentives and retention, issue 16): hook implementations only. The business steps are in
stars.py (R-INC-1), evaluation.py (R-INC-6), greetings.py (R-INC-4) and insurance.py (R-INC-5)."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped

from . import hookspecs

HOOKSPECS = hookspecs   # incentive_indicators (R-INC-3): other plugins contribute evaluation indicators

PERMS = [*crud_permissions("incentives.evaluation", _l("performance evaluations"), ("view", "edit", "export")),
         *crud_permissions("incentives.greeting_template", _l("greeting templates"), ("view", "edit")),
         Permission("incentives.insurance.view", _l("View activity insurance")),
         Permission("incentives.insurance.edit", _l("Record activity insurance")),
         Permission("incentives.insurance.export", _l("Export insured lists")),
         Permission("incentives.contact.view", _l("View volunteers to contact")),
         Permission("incentives.contact.create", _l("Record contacts with volunteers")),
         *crud_permissions("incentives.scheme", _l("award schemes"), ("view", "create", "edit")),
         Permission("incentives.commendation.view", _l("View nominations and awards")),
         Permission("incentives.commendation.create", _l("Nominate for awards")),
         Permission("incentives.commendation.review", _l("Review nominations")),
         Permission("incentives.commendation.decide", _l("Decide and publish awards")),
         Permission("incentives.indicator.view", _l("View the evaluation indicators")),
         Permission("incentives.indicator.edit", _l("Enter indicator values")),
         Permission("incentives.indicator.export", _l("Export the evaluation indicators"))]
TEAM_ADMIN_PERMS = ["incentives.evaluation.*", "incentives.insurance.*", "incentives.contact.*",
                    "incentives.commendation.view", "incentives.commendation.create", "incentives.indicator.*"]


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def register_permissions():
    return PERMS


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=TEAM_ADMIN_PERMS)]


def _scoped_models():
    from plugins.teams.services import member_ids
    from .models import Contact, Evaluation, InsuranceCheck, Nomination
    return {InsuranceCheck: "activity.team",
            Evaluation: lambda ids: Evaluation.volunteer.in_(member_ids(ids)),
            Contact: lambda ids: Contact.volunteer.in_(member_ids(ids)),
            # a team's nomination, or a person's who is a member of the tree; a partner's: platform admins
            Nomination: lambda ids: (Nomination.team.in_(ids) | Nomination.volunteer.in_(member_ids(ids)))}


# a team admin reaches the insurance of its own activities and the evaluations and contacts of the members
# of its team tree (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="incentives")


@hookimpl
def load_reference_data():
    from .commendations import load_schemes
    from .greetings import load_templates
    load_templates()
    load_schemes()


@hookimpl
def register_admin_views(admin):
    from .admin import (ContactsView, EvaluationView, GreetingTemplateView, IndicatorsView, InsuranceView,
                        NominationsView, SchemeView)
    from .models import Evaluation, GreetingTemplate, Scheme
    cat = _l("Incentives and retention")
    return [EvaluationView(Evaluation, name=_l("Performance evaluations"), endpoint="incentives_evaluation",
                           category=cat),
            GreetingTemplateView(GreetingTemplate, name=_l("Greeting templates"),
                                 endpoint="incentives_greeting_template", category=cat),
            ContactsView(name=_l("Volunteers to contact"), endpoint="incentives_contacts", category=cat),
            InsuranceView(name=_l("Activity insurance"), endpoint="incentives_insurance", category=cat),
            SchemeView(Scheme, name=_l("Award schemes"), endpoint="incentives_scheme", category=cat),
            NominationsView(name=_l("Commendations"), endpoint="incentives_nominations", category=cat),
            IndicatorsView(name=_l("Evaluation indicators"), endpoint="incentives_indicators", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_commands(cli):
    from .cli import register_cli
    register_cli(cli)


@hookimpl
def register_tasks(queue):
    from core.tasks import Task, crontab
    from .greetings import daily_task
    return [Task("incentives.greetings", daily_task, schedule=crontab(hour="9", minute="0"))]


@hookimpl
def track_event(event):
    if event.name == "activities.hours_confirmed":
        from .stars import on_hours_confirmed
        on_hours_confirmed(event)


@hookimpl
def validate_settings(plugin, values):
    if plugin != "incentives":
        return None
    from .settings import STAR_KEYS
    errors = {}
    for lower, higher in zip(STAR_KEYS, STAR_KEYS[1:]):
        if values[higher] <= values[lower]:
            errors[higher] = _l("Each star needs more hours than the one below it (%(hours)s).",
                                hours=values[lower])
    if values["evaluation_good_hours"] > values["evaluation_excellent_hours"]:
        errors["evaluation_good_hours"] = _l("Not more than the hours for the grade excellent.")
    return errors or None


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from flask import render_template
    from core.web import Widget
    from . import commendations, evaluation, stars
    html = Markup(render_template("incentives/panel.html", stars=stars.of(volunteer.id),
                                  awards=commendations.awards_of(volunteer.id),
                                  own=bool(user is not None and volunteer.user_id
                                           and volunteer.user_id == getattr(user, "id", None)),
                                  history=stars.history(volunteer.id)[:10],
                                  evaluations=evaluation.published_of(volunteer.id)[:4],
                                  grades=evaluation.GRADES, attendance=evaluation.attendance_percent,
                                  label=stars.label))
    return [Widget(_l("My star rating"), html, order=7)]


@hookimpl
def incentive_indicators(team_ids, start, end):
    from .indicators import incentive_indicators as own
    return own(team_ids, start, end)


@hookimpl(optionalhook=True)
def activity_admin_links(activity, user):
    """On the activity's admin page: the insurance it needs and whether it is insured (R-INC-5)."""
    from core import security
    from . import insurance
    from .models import InsuranceCheck
    if not security.can("incentives.insurance.view", InsuranceCheck(activity=activity.id), user=user):
        return []
    check = insurance.check_of(activity)
    state = _l("insured") if check and check.insured else _l("not insured")
    return [(f"{_l('Insurance')}：{insurance.required_label(activity)}（{state}）",
             url_for("incentives_insurance.index", activity=activity.id))]


@hookimpl(optionalhook=True)
def certificate_verification_lines(certificate):
    from . import stars
    n = stars.of(certificate.volunteer_id)
    return [(_l("Star rating"), stars.label(n))] if n else []


@hookimpl(optionalhook=True)
def roster_volunteer_remarks(volunteer_ids):
    from . import stars
    return {vid: stars.label(n) for vid, n in stars.of_many(volunteer_ids).items()}


# ------------------------------------------------------------------ the privacy plugin's contract
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(__name__ + ".privacy")
