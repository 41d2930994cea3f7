"""Service recipients (服务对象登记; R-REC-1, R-PRIV-6, issue 13 point 4): hook implementations only; the
rules are in services.py."""
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped


def _scoped_models():
    from .models import FollowUp, Recipient, Referral, ServiceRequest, Wish
    return {Recipient: "team", FollowUp: "recipient.team", Wish: "recipient.team",
            ServiceRequest: "recipient.team", Referral: "recipient.team"}


# a team admin reaches the recipients of their own team tree only, everywhere (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="recipients")


@hookimpl
def register_models():
    from .models import FollowUp, Recipient, Referral, ServiceRequest, Wish
    return [Recipient, FollowUp, Wish, ServiceRequest, Referral]


@hookimpl
def register_permissions():
    perms = crud_permissions("recipients.recipient", _l("service recipients"))
    perms.append(Permission("recipients.recipient.sensitive",
                            _l("See recipients' full ID numbers and phone numbers (audited)")))
    for name, noun in (("follow_up", _l("follow-up visits")), ("wish", _l("micro-wishes")),
                       ("service_request", _l("service applications")), ("referral", _l("referrals"))):
        perms += crud_permissions(f"recipients.{name}", noun)
    return perms


@hookimpl
def register_roles():
    every = [f"recipients.{m}.{a}" for m in ("recipient", "follow_up", "wish", "service_request", "referral")
             for a in ("view", "create", "edit", "export")]
    return [Role("team_admin", permissions=every)]


@hookimpl
def register_admin_views(admin):
    from .admin import (FollowUpView, QuarterView, RecipientView, ReferralView, ServiceRequestView,
                        WishView)
    from .models import FollowUp, Recipient, Referral, ServiceRequest, Wish
    cat = _l("Service recipients")
    return [RecipientView(Recipient, name=_l("Recipients"), endpoint="recipients_recipient", category=cat),
            FollowUpView(FollowUp, name=_l("Follow-up visits"), endpoint="recipients_followup", category=cat),
            WishView(Wish, name=_l("Micro-wishes"), endpoint="recipients_wish", category=cat),
            ServiceRequestView(ServiceRequest, name=_l("Service applications"),
                               endpoint="recipients_service_request", category=cat),
            ReferralView(Referral, name=_l("Referrals"), endpoint="recipients_referral", category=cat),
            QuarterView(name=_l("Quarterly filing"), endpoint="recipients_quarter", category=cat)]


@hookimpl
def register_blueprints(app):
    """Only the templates (no public route: recipients never appear on public pages)."""
    from flask import Blueprint
    return [Blueprint("recipients", __name__, template_folder="templates")]


@hookimpl
def dashboard_widgets(user):
    """Recipients not followed up for the setting's number of days, and those to be told of a disclosure."""
    from markupsafe import Markup
    from flask import url_for
    from core import security
    from core.web import Widget
    from . import services
    if not security.can(services.VIEW, user=user):
        return []
    late = services.not_followed_up(user)
    told = services.to_be_told(user)
    return [Widget(_l("Recipients to follow up"), Markup(
        '<p class="display-4">{}</p><p>{}</p><p><a href="{}">{}</a></p>').format(
            len(late), _l("To be told of a disclosure: %(n)s", n=len(told)),
            url_for("recipients_quarter.follow_up"), _l("Show the list")), order=40, width=4)]


# ------------------------------------------------------------------ the privacy plugin's contract
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(__name__ + ".privacy")
