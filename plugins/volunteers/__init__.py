"""Volunteers (志愿者): hook implementations only; the logic is in services.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role

ACTIONS = {"view": _l("View volunteers"), "create": _l("Register volunteers"),
           "edit": _l("Edit volunteers"), "delete": _l("Delete volunteers"),
           "export": _l("Export volunteers"),
           "import": _l("Import volunteers into the teams one manages"),
           "sensitive": _l("See full ID numbers and phone numbers (audited)")}


@hookimpl
def register_models():
    from .models import Application, DataRequest, Sequence, Volunteer
    return [Volunteer, Sequence, DataRequest, Application]


@hookimpl
def register_permissions():
    perms = [Permission(f"volunteers.volunteer.{a}", t) for a, t in ACTIONS.items()]
    perms += [Permission(f"volunteers.data_request.{a}", _l("Handle personal-data requests"))
              for a in ("view", "edit", "export")]
    perms += [Permission(f"volunteers.application.{a}", _l("Review registration applications"))
              for a in ("view", "edit", "export")]
    return perms


@hookimpl
def register_roles():
    # team admins review the applications of people who chose their team (R-REG-7; scoped by teams)
    return [Role("team_admin", permissions=["volunteers.volunteer.view", "volunteers.volunteer.export",
                                            "volunteers.volunteer.import", "volunteers.application.view",
                                            "volunteers.application.edit", "volunteers.application.export"])]


@hookimpl
def register_admin_views(admin):
    from .admin import ApplicationView, DataRequestView, VolunteerView
    from .import_ import make_admin_view
    from .models import Application, DataRequest, Volunteer
    return [VolunteerView(Volunteer, name=_l("Volunteers"), endpoint="volunteers_volunteer",
                          category=_l("People")),
            ApplicationView(Application, name=_l("Registration applications"),
                            endpoint="volunteers_application", category=_l("People")),
            DataRequestView(DataRequest, name=_l("Personal-data requests"),
                            endpoint="volunteers_data_request", category=_l("People")),
            make_admin_view()(name=_l("Import volunteers"), endpoint="volunteers_import",
                              category=_l("People"))]


@hookimpl
def register_commands(cli):
    from .import_ import register_cli
    register_cli(cli)


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_events():
    from .services import VolunteerChanged, VolunteerErased, VolunteerRegistered
    return [VolunteerRegistered, VolunteerChanged, VolunteerErased]


@hookimpl
def register_tasks(queue):
    """The retention job (PR6, R-PRIV-5): every night, anonymise volunteers inactive too long."""
    from core.tasks import Task, crontab
    from .services import apply_retention
    return [Task("volunteers.apply_retention", apply_retention, schedule=crontab(hour="3", minute="17"))]


@hookimpl
def track_event(event):
    """Any other plugin's event about a volunteer (joined a team, served, …) counts as activity and
    restarts the retention clock."""
    vid = getattr(event, "volunteer_id", None)
    if vid and not str(getattr(event, "name", "")).startswith("volunteers."):
        from .services import record_activity
        record_activity(vid)


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    if user is not None and getattr(user, "is_authenticated", False):
        return [MenuItem(_l("My volunteer record"), url_for("volunteers.me"), None, order=30)]
    return [MenuItem(_l("Register as a volunteer"), url_for("volunteers.register"), None, order=30)]


@hookimpl
def find_login_user(identifier):
    """Volunteers may log in with their mobile number as well as their volunteer number (applicants
    under review too: they read the outcome in their inbox)."""
    from core.inputs import normalize
    from .models import Volunteer
    from .services import REVIEW_STATUSES, find_by_phone
    usable = ("active", *REVIEW_STATUSES)
    number = normalize(identifier).upper()
    if number != identifier:   # the volunteer number typed in full-width digits or lower case (NS2)
        v = Volunteer.get_or_none(Volunteer.number == number)
        if v is not None and v.user_id and v.status in usable:
            return v.user
    found = [v for v in find_by_phone(identifier) if v.user_id and v.status in usable]
    return found[0].user if len(found) == 1 else None


@hookimpl
def username_reserved(username):
    """Volunteer numbers are login names the system hands out, and mobile numbers log volunteers in:
    no one may choose a name of either shape (SECURITY.md NS1)."""
    from .services import reserved_username_reason
    return reserved_username_reason(username)


@hookimpl(optionalhook=True)
def sms_phone_for(user):
    """The sms plugin asks for the mobile number of a message's recipient (its hook; optional, so this
    plugin loads without sms). Only an active volunteer's own number; the number goes to the gateway,
    never into a page or a log."""
    from .services import application_of, for_user
    v = for_user(user)
    if v is None:  # an applicant under review is told the outcome by SMS too (R-REG-7)
        a = application_of(user)
        v = a.volunteer if a is not None else None
    if v is None or v.status not in ("active", "pending", "rejected") or not v.phone:
        return None
    return v.phone


@hookimpl
def load_demo_data(app):
    from .demo import load
    load()


@hookimpl
def scope_query(model, query, user, permission):
    """Team admins reach volunteers only through the teams plugin's team-tree scoping. Without it
    loaded, a team-scoped role reaches no volunteer at all; site-wide roles are not limited here."""
    from flask import current_app
    from .models import Application, DataRequest, Volunteer
    if model not in (Volunteer, DataRequest, Application) or "teams" in current_app.extensions["timebank"].loaded:
        return None
    from core.security import registry, user_roles
    reg = registry()
    site_wide = any(r in reg.roles and not reg.roles[r].scoped and reg.role_grants(r, permission)
                    for r, _ in user_roles(user))
    return None if site_wide else (model.id == -1)


@hookimpl
def home_sections(authenticated):
    """The home page: registration for visitors, and how many have registered."""
    from core.web import HomeAction, HomeStat
    from .models import Volunteer
    out = [HomeStat(_l("Registered volunteers"), Volunteer.select().where(Volunteer.status == "active").count(),
                    order=10)]
    if not authenticated:
        out.append(HomeAction(_l("Register as a volunteer"), url_for("volunteers.register"), order=10, primary=True))
    return out


@hookimpl
def validate_settings(plugin, values):
    """The volunteers plugin's rules between its settings (issue 11 point 16): a guardian's consent is
    needed below an age that is not above the age to serve alone (R-REG-4, PR4); the number prefix is
    letters only (volunteer numbers are login names and must stay recognisable)."""
    if plugin != "volunteers":
        return None
    errors = {}
    if values["guardian_consent_age"] > values["min_age"]:
        errors["guardian_consent_age"] = _l("The consent age cannot be above the age to serve alone (%(age)s).",
                                            age=values["min_age"])
    prefix = str(values["number_prefix"])
    if not (prefix.isascii() and prefix.isalpha() and prefix.isupper()):
        errors["number_prefix"] = _l("Use capital letters A–Z only.")
    return errors


@hookimpl
def dashboard_widgets(user):
    """Registration applications waiting for review (R-REG-7), when the review is on or some still wait."""
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .models import Application
    from .services import review_on
    if not security.can("volunteers.application.edit", user=user):
        return []
    q = security.scoped(Application, Application.select().where(Application.status == "pending"),
                        "volunteers.application.view", user=user)
    n = q.count()
    if not n and not review_on():
        return []
    return [Widget(_l("Registration applications"), Markup(
        '<p class="display-4">{}</p><p><a href="{}">{}</a></p>').format(
            n, url_for("volunteers_application.index_view"), _l("Decide")), order=24, width=4)]


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy", erase_last=True)
