"""Points exchange (积分兑换; R-TB-2): hook implementations only; the public API is services.py
(redeem, fulfil, cancel, ExchangeError)."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role, crud_permissions
from plugins.teams.scoping import team_scoped

OBJECTS = {"partner": _l("exchange partners"), "item": _l("exchange items")}


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def register_permissions():
    perms = [p for o, noun in OBJECTS.items() for p in crud_permissions(f"exchange.{o}", noun)]
    perms += [Permission("exchange.redemption.view", _l("View exchanges")),
              Permission("exchange.redemption.export", _l("Export exchanges")),
              Permission("exchange.redemption.fulfil", _l("Mark exchanges fulfilled")),
              Permission("exchange.redemption.cancel", _l("Cancel exchanges (refund)"))]
    return perms


@hookimpl
def register_roles():
    perms = [f"exchange.{o}.{a}" for o in OBJECTS for a in ("view", "create", "edit", "export")]
    perms += ["exchange.redemption.view", "exchange.redemption.export", "exchange.redemption.fulfil",
              "exchange.redemption.cancel"]
    return [Role("team_admin", permissions=perms)]


def _scoped_models():
    from .models import Item, Partner, Redemption
    return {Partner: "team", Item: "partner.team", Redemption: "item.partner.team"}


# a team admin manages the partners of its own team tree, their items and the redemptions of those items;
# a partner without a team belongs to the platform (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="exchange")


@hookimpl
def register_admin_views(admin):
    from .admin import ItemView, PartnerView, RedemptionView
    from .models import Item, Partner, Redemption
    cat = _l("Time bank")
    return [PartnerView(Partner, name=_l("Exchange partners"), endpoint="exchange_partner", category=cat),
            ItemView(Item, name=_l("Exchange items"), endpoint="exchange_item", category=cat),
            RedemptionView(Redemption, name=_l("Exchanges"), endpoint="exchange_redemption", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    items = [MenuItem(_l("Points exchange"), url_for("exchange.index"), None, order=33)]
    if user is not None and getattr(user, "is_authenticated", False):
        items.append(MenuItem(_l("My exchanges"), url_for("exchange.mine"), None, order=34))
    return items


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from core.web import Widget
    from .models import Redemption
    from .services import status_of
    s = status_of(volunteer)
    placed = Redemption.select().where((Redemption.volunteer == volunteer.id)
                                       & (Redemption.status == "placed")).count()
    if s["may_redeem"]:
        line = Markup("<p>{}</p>").format(_l("You can exchange points (balance %(n)s).", n=s["balance"]))
    else:
        line = Markup("<p>{}</p>").format(_l("Points can be exchanged from %(h)s service hours on.",
                                             h=s["threshold_hours"]))
    body = line + Markup('<p>{}: <strong>{}</strong></p><p><a href="{}">{}</a> · <a href="{}">{}</a></p>').format(
        _l("Exchanges waiting to be fulfilled"), placed, url_for("exchange.index"), _l("Catalogue"),
        url_for("exchange.mine"), _l("My exchanges"))
    return [Widget(_l("Points exchange"), body, order=7)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    from .models import Redemption
    if not security.can("exchange.redemption.fulfil", user=user):
        return []
    q = security.scoped(Redemption, Redemption.select().where(Redemption.status == "placed"),
                        "exchange.redemption.view", user=user)
    return [Widget(_l("Exchanges to fulfil"), Markup('<p class="display-4">{}</p><p><a href="{}">{}</a></p>').format(
        q.count(), url_for("exchange_redemption.index_view"), _l("Open")), order=41, width=4)]


@hookimpl
def load_demo_data(app):
    from .demo import load
    load(app)


@hookimpl
def site_checks():
    """``timebank check``: every redemption agrees with the ledger (debit, refund by reversal)."""
    from .services import verify
    problems = verify()
    if not problems:
        return [("exchange.ledger", True, "exchanges match the ledger")]
    return [("exchange.ledger", False, f"{len(problems)} problem(s), first: {problems[0]}")]


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
