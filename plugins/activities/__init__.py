"""Activities and trainings (活动与培训): hook implementations only; logic in services.py."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped

from . import hookspecs

HOOKSPECS = hookspecs  # hooks this plugin declares for others (activity_admin_links, photo_original_public)

OBJECTS = {"activity": _l("activities"), "shift": _l("time slots"), "signup": _l("sign-ups"),
           "service_record": _l("service records"), "feedback": _l("feedback"), "photo": _l("photos")}


@hookimpl
def register_models():
    from .models import (Activity, Category, Feedback, Photo, PhotoRecipient, SearchTerm, ServiceRecord, Shift,
                         SignUp, UsedToken)
    return [Category, Activity, Shift, SignUp, ServiceRecord, UsedToken, Feedback, Photo, PhotoRecipient,
            SearchTerm]


@hookimpl
def load_reference_data():
    from .services import load_categories
    load_categories()


@hookimpl
def register_permissions():
    perms = [p for o, noun in OBJECTS.items() for p in crud_permissions(f"activities.{o}", noun)]
    perms += [Permission("activities.activity.review", _l("Review activities (platform)")),
              Permission("activities.category.view", _l("View service categories")),
              Permission("activities.category.edit", _l("Edit service categories"))]
    return perms


@hookimpl
def register_roles():
    organiser = [f"activities.{o}.{a}" for o in ("activity", "shift", "signup", "photo")
                 for a in ("view", "create", "edit", "export")]
    organiser += ["activities.service_record.view", "activities.service_record.create",
                  "activities.service_record.edit", "activities.service_record.export",
                  "activities.feedback.view", "activities.feedback.export", "activities.shift.delete"]
    return [Role("team_admin", permissions=organiser)]


def _scoped_models():
    from .models import Activity, Feedback, Photo, ServiceRecord, Shift, SignUp
    return {Activity: "team", ServiceRecord: "team", Shift: "activity.team", SignUp: "activity.team",
            Feedback: "activity.team", Photo: "activity.team"}


# organisers reach only their own team tree's activities, slots, sign-ups, records, feedback and photos
# (SECURITY.md AC6); an object with no team is denied to them
scope_query, permission_allowed = team_scoped(_scoped_models)


@hookimpl
def register_admin_views(admin):
    from .admin import ActivityView, CategoryView, ServiceRecordView, ShiftView, SignUpView
    from .models import Activity, Category, ServiceRecord, Shift, SignUp
    cat = _l("Activities")
    return [ActivityView(Activity, name=_l("Activities and trainings"), endpoint="activities_activity", category=cat),
            ShiftView(Shift, name=_l("Time slots"), endpoint="activities_shift", category=cat),
            SignUpView(SignUp, name=_l("Sign-ups"), endpoint="activities_signup", category=cat),
            ServiceRecordView(ServiceRecord, name=_l("Service records"), endpoint="activities_service_record",
                              category=cat),
            CategoryView(Category, name=_l("Service categories"), endpoint="activities_category", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    items = [MenuItem(_l("Activities"), url_for("activities.index"), None, order=15),
             MenuItem(_l("Trainings"), url_for("activities.index", kind="training"), None, order=16)]
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem(_l("My sign-ups"), url_for("activities.mine"), None, order=31))
    return items


@hookimpl
def load_demo_data(app):
    from .demo import load
    load(app)


@hookimpl
def volunteer_panels(volunteer, user):
    import peewee as pw
    from markupsafe import Markup
    from core.web import Widget
    from .models import ServiceRecord
    rows = (ServiceRecord.select(ServiceRecord.kind, pw.fn.SUM(ServiceRecord.minutes))
            .where(ServiceRecord.volunteer == volunteer).group_by(ServiceRecord.kind).tuples())
    mins = dict(rows)
    body = Markup("<p>{}: <strong>{:.1f}</strong> · {}: <strong>{:.1f}</strong></p>").format(
        _l("Service hours"), (mins.get("service") or 0) / 60, _l("Training hours"), (mins.get("training") or 0) / 60)
    return [Widget(_l("My hours"), body, order=5)]


@hookimpl
def register_events():
    from .services import EVENTS
    return EVENTS


@hookimpl
def register_tasks(queue):
    from huey import crontab
    from core.tasks import Task
    from . import tasks
    return [Task("activities.send_reminders", tasks.send_reminders, schedule=crontab(minute="*/10")),
            Task("activities.finish_due", tasks.finish_due, schedule=crontab(minute="*/15")),
            Task("activities.flag_overdue_reviews", tasks.flag_overdue_reviews, schedule=crontab(minute="5")),
            Task("activities.flag_overdue_confirmations", tasks.flag_overdue_confirmations,
                 schedule=crontab(minute="20")),
            Task("activities.flag_overdue_outcomes", tasks.flag_overdue_outcomes, schedule=crontab(minute="35"))]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .services import overdue_reviews, setting
    out = []
    if security.can("activities.signup.edit", user=user):
        from plugins.teams.services import admin_team_ids
        from .services import pending_confirmations
        waiting = pending_confirmations(admin_team_ids(user), overdue_only=False)
        late = pending_confirmations(admin_team_ids(user))
        out.append(Widget(_l("Sign-ups waiting for you"), Markup(
            '<p class="display-4 {}">{}</p><p>{}</p><p><a href="{}">{}</a></p>').format(
                "text-danger" if late else "", len(waiting),
                _l("%(n)s past the confirmation deadline", n=len(late)),
                url_for("activities_signup.index_view"), _l("Decide")), order=26, width=4))
    if security.can("activities.activity.edit", user=user):
        out.append(_overdue_outcomes_widget(user))
    if security.can("activities.activity.review", user=user):
        out.append(_waiting_reviews_widget())
    return out


def _waiting_reviews_widget():
    """Every activity waiting for the platform's review (R-ACT-1), not only the late ones: how many, how
    many are past their due date (red), and the first ones with a link to review each (issue 18 point 5)."""
    from markupsafe import Markup
    from core.admin import list_url
    from core.db import now
    from core.web import Widget, due_date
    from .models import Activity
    from .services import setting
    q = Activity.select(Activity.id, Activity.title, Activity.review_due).where(Activity.status == "submitted")
    waiting = list(q.order_by(Activity.review_due, Activity.id).limit(6))
    total = q.count() if len(waiting) == 6 else len(waiting)
    t = now()
    late = sum(1 for a in waiting if a.review_due and a.review_due < t) if total <= 6 else \
        q.where(Activity.review_due < t).count()
    items = Markup("").join(Markup('<li><a href="{}">{}</a> <small class="{}">{} {}</small></li>').format(
        url_for("activities_activity.review_view", id=a.id), a.title,
        "text-danger" if a.review_due and a.review_due < t else "text-muted", _l("due"),
        due_date(a.review_due)) for a in waiting[:5])
    return Widget(_l("Activities waiting for review"), Markup(
        '<p class="display-4 {}">{}</p><p>{}</p><ul class="list-unstyled">{}</ul><p><a href="{}">{}</a></p>').format(
            "text-danger" if late else "", total,
            _l("%(late)s past the %(n)s working days", late=late, n=setting("review_workdays")), items,
            list_url("activities_activity", status="submitted"), _l("All waiting")), order=25, width=4)


def _overdue_outcomes_widget(user):
    """The activities whose outcome and hours are late (R-ACT-8; past the R-NAT-3 hard limit in red),
    of the teams ``user`` administers (every team for a platform admin), with links to do what is
    missing (issue 11 point 17)."""
    from markupsafe import Markup
    from core.web import Widget
    from plugins.teams.services import admin_team_ids
    from .overdue import overdue
    late = overdue(admin_team_ids(user))
    items = []
    for o in late[:10]:
        a = o.activity
        links = []
        if o.outcome_missing:
            links.append(Markup('<a href="{}">{}</a>').format(
                url_for("activities_activity.outcome_view", id=a.id), _l("Record the outcome")))
        if o.hours_missing:
            links.append(Markup('<a href="{}">{}</a>').format(
                url_for("activities_activity.hours_view", id=a.id), _l("Confirm hours")))
        items.append(Markup('<li class="{}"><a href="{}">{}</a> <small>{}</small> {}</li>').format(
            "text-danger" if o.hard else "", url_for("activities_activity.details_view", id=a.id), a.title,
            (_l("hard limit passed on %(d)s", d=f"{o.hard_due:%Y-%m-%d}") if o.hard
             else _l("due %(d)s", d=f"{o.due:%Y-%m-%d}")), Markup(" · ").join(links)))
    more = Markup("<p><small>{}</small></p>").format(_l("and %(n)s more", n=len(late) - 10)) if len(late) > 10 else ""
    body = Markup('<p class="display-4 {}">{}</p><ul class="list-unstyled tb-overdue-outcomes">{}</ul>{}').format(
        "text-danger" if late else "", len(late), Markup("").join(items), more)
    return Widget(_l("Outcomes and hours overdue"), body, order=27, width=4)


@hookimpl
def app_started(app):
    """``activity_admin_links(activity)`` in templates: the buttons other plugins add to the admin page."""
    def activity_admin_links(activity):
        from flask_login import current_user
        user = current_user._get_current_object()
        groups = app.extensions["timebank"].pm.hook.activity_admin_links(activity=activity, user=user)
        return [link for group in groups for link in (group or [])]
    app.jinja_env.globals["activity_admin_links"] = activity_admin_links

    def activities_setting(key):
        """A setting of this plugin in templates, so texts follow it (issue 11 point 16)."""
        from .services import setting
        return setting(key)
    app.jinja_env.globals["activities_setting"] = activities_setting

    def activities_outcome_due(activity):
        """(due, hard limit) of an activity's outcome and hours with the settings in force (R-ACT-8)."""
        from .overdue import due_dates
        return due_dates(activity)
    app.jinja_env.globals["activities_outcome_due"] = activities_outcome_due


@hookimpl
def validate_settings(plugin, values):
    """The activities plugin's rules on its settings: the hard limit for confirming hours (R-NAT-3)
    is not before the due date of the outcome (R-ACT-8); the map's tile server is an http(s) URL
    template (R-MAP-1, maps.validate)."""
    if plugin != "activities":
        return None
    from .maps import validate
    errors = validate(values) or {}
    if values["outcome_hard_limit_workdays"] < values["outcome_workdays"]:
        errors["outcome_hard_limit_workdays"] = _l(
            "The hard limit cannot come before the due date of the outcome (%(n)s working days).",
            n=values["outcome_workdays"])
    return errors or None


@hookimpl
def home_sections(authenticated):
    """Upcoming activities from the public listing, the hours given, and the way to find more."""
    from markupsafe import Markup
    from core.db import TZ
    from core.web import HomeAction, HomeStat, Widget
    from .services import listing, total_service_hours
    rows = listing(kind="service", sort="soonest", per_page=5)
    items = Markup("").join(Markup(
        '<li><a href="{url}">{title}</a><br><small>{when} · {district} · {team} · {left}</small></li>').format(
            url=url_for("activities.detail", activity_id=a.id), title=a.title,
            when=f"{a.starts_at.astimezone(TZ):%m-%d %H:%M}", district=a.district or "", team=a.team_name,
            left=_l("%(left)s of %(cap)s places left", left=a.capacity - a.confirmed, cap=a.capacity)) for a in rows)
    body = (Markup('<ul class="plain">{}</ul>').format(items) if rows else
            Markup("<p>{}</p>").format(_l("No upcoming activities yet.")))
    body += Markup('<p><a href="{all}">{all_label}</a> · <a href="{train}">{train_label}</a></p>').format(
        all=url_for("activities.index"), all_label=_l("All activities"),
        train=url_for("activities.index", kind="training"), train_label=_l("Trainings"))
    return [HomeAction(_l("Find an activity"), url_for("activities.index"), order=5, primary=authenticated),
            HomeStat(_l("Service hours given"), total_service_hours(), order=30),
            Widget(_l("Upcoming activities"), body, order=10)]


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
