"""Points donations and campaigns (积分捐赠与积分募集; R-TB-3, R-TB-4): hook implementations only; the
public API is services.py (donate_to_campaign, donate_to_beneficiary, create_campaign, …)."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped

OBJECTS = {"campaign": _l("points campaigns"), "beneficiary": _l("people in need (donations)"),
           "donation": _l("points donations")}


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def load_reference_data():
    """Once per site: donations, refunds and uses of points are append-only, like the ledger (LG1)."""
    from core.db import append_only
    from .models import APPEND_ONLY, ERASABLE
    for table in APPEND_ONLY:
        append_only(table, ERASABLE.get(table, ()))


@hookimpl
def register_permissions():
    perms = [p for o, noun in OBJECTS.items()
             for p in crud_permissions(f"donations.{o}", noun, ("view", "create", "edit", "export"))]
    perms += [Permission("donations.campaign.use", _l("Use the points a campaign raised")),
              Permission("donations.beneficiary.use", _l("Use the points donated to a person in need")),
              Permission("donations.donation.refund", _l("Refund points donations (platform)"))]
    return perms


@hookimpl
def register_roles():
    team = [f"donations.{o}.{a}" for o in ("campaign", "beneficiary") for a in ("view", "create", "edit", "export")]
    team += ["donations.campaign.use", "donations.beneficiary.use", "donations.donation.view",
             "donations.donation.export"]
    return [Role("team_admin", permissions=team)]


def _scoped_models():
    from .models import Beneficiary, Campaign, Donation, Refund, Spend
    return {Campaign: "team", Beneficiary: "team",
            Donation: ("campaign.team", "beneficiary.team"), Spend: ("campaign.team", "beneficiary.team"),
            Refund: ("donation.campaign.team", "donation.beneficiary.team")}


# a team admin reaches the campaigns and people in need of its own team tree and the donations, refunds and
# uses of points that belong to them; the platform reaches everything (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="donations")


@hookimpl
def register_admin_views(admin):
    from .admin import BeneficiaryView, CampaignView, DonationView
    from .models import Beneficiary, Campaign, Donation
    cat = _l("Time bank")
    return [CampaignView(Campaign, name=_l("Points campaigns"), endpoint="donations_campaign", category=cat),
            BeneficiaryView(Beneficiary, name=_l("People in need"), endpoint="donations_beneficiary", category=cat),
            DonationView(Donation, name=_l("Points donations"), endpoint="donations_donation", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_events():
    from .services import EVENTS
    return EVENTS


@hookimpl
def register_tasks(queue):
    """Campaigns whose deadline has passed are closed a little after midnight Beijing time (and
    donations are refused from the day after the deadline anyway)."""
    from core.tasks import Task, crontab
    from . import tasks
    return [Task("donations.close_expired", tasks.close_expired, schedule=crontab(hour="0", minute="5"))]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    items = [MenuItem(_l("Points campaigns"), url_for("donations.index"), None, order=33)]
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem(_l("Donate points"), url_for("donations.beneficiaries"), None, order=34))
    return items


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from core.web import Widget
    from .services import donated_by
    total = donated_by(volunteer)
    body = Markup('<p>{}: <strong>{}</strong></p><p><a href="{}">{}</a></p>').format(
        _l("Points I donated"), total, url_for("donations.index"), _l("Points campaigns"))
    return [Widget(_l("My donations"), body, order=7)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    if not security.can("donations.campaign.view", user=user):
        return []
    from .models import Campaign
    from .services import progress
    q = security.scoped(Campaign, Campaign.select().where(Campaign.status == "open").order_by(Campaign.deadline),
                        "donations.campaign.view", user=user)
    rows = list(q.limit(5))
    figures = progress(rows)
    items = Markup("").join(Markup('<li><a href="{}">{}</a> {} / {} · {}</li>').format(
        url_for("donations_campaign.details_view", id=c.id), c.title, figures[c.id]["raised"], c.goal, c.deadline)
        for c in rows)
    body = Markup('<p class="display-4">{}</p><ul>{}</ul><p><a href="{}">{}</a></p>').format(
        q.count(), items, url_for("donations_campaign.index_view"), _l("All campaigns"))
    return [Widget(_l("Open points campaigns"), body, order=41, width=4)]


@hookimpl
def site_checks():
    """``timebank check``: donations, refunds and uses of points agree with the ledger."""
    from .services import verify
    problems = verify()
    if not problems:
        return [("donations.integrity", True, "donations match the ledger")]
    check, ref, detail = problems[0]
    return [("donations.integrity", False, f"{len(problems)} problem(s), first: {check} {ref}: {detail}")]


@hookimpl
def load_demo_data(app):
    from .demo import load
    load()


@hookimpl
def home_sections(authenticated):
    from core.web import HomeStat
    from .services import total_donated
    return [HomeStat(_l("Time points donated"), total_donated(), order=40)]


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
