"""Time bank points ledger (时间银行积分账本; R-TB-1, R-TB-5, LG1–LG7): hook implementations only; the
public API is services.py (post, reverse, credit_hours, verify, statement, …)."""
from flask import url_for
from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role
from plugins.teams.scoping import team_scoped

OBJECTS = {"account": _l("points accounts"), "transfer": _l("points transfers"),
           "hours_credit": _l("hours credited as points")}


@hookimpl
def register_models():
    from .models import MODELS
    return MODELS


@hookimpl
def load_reference_data():
    """Once per site: the append-only triggers (LG1) and the two system accounts."""
    from core.db import append_only
    from .models import APPEND_ONLY, ERASABLE
    from .services import system_account
    for table in APPEND_ONLY:
        append_only(table, ERASABLE.get(table, ()))
    system_account("issuance")
    system_account("redemption")


@hookimpl
def register_permissions():
    perms = [Permission(f"ledger.{o}.{a}", t) for o, t in OBJECTS.items() for a in ("view", "export")]
    perms += [Permission("ledger.transfer.reverse", _l("Reverse points transfers (platform)")),
              Permission("ledger.totals.view", _l("View team points totals")),
              Permission("ledger.totals.export", _l("Export team points totals"))]
    return perms


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=[f"ledger.{o}.{a}" for o in OBJECTS for a in ("view", "export")]
                 + ["ledger.totals.view", "ledger.totals.export"])]


def _account_ids(ids):
    """The accounts of the teams ``ids`` (team and campaign accounts) and of their approved members."""
    from plugins.teams.models import Membership
    from .models import Account
    members = Membership.select(Membership.volunteer).where(
        Membership.team.in_(ids) & (Membership.status == "approved"))
    return Account.select(Account.id).where(
        Account.team_id.in_(ids) | ((Account.kind == "volunteer") & Account.owner_id.in_(members)))


def _scoped_models():
    from .models import Account, Entry, HoursCredit, Transfer
    return {Account: lambda ids: Account.id.in_(_account_ids(ids)),
            Transfer: lambda ids: Transfer.debit.in_(_account_ids(ids)) | Transfer.credit.in_(_account_ids(ids)),
            Entry: lambda ids: Entry.account.in_(_account_ids(ids)),
            HoursCredit: "team_id"}


# a team admin sees the accounts of its own team tree and of its members, and the transfers and hours
# credits that touch them; the platform everything (AC6)
scope_query, permission_allowed = team_scoped(_scoped_models, prefix="ledger")


@hookimpl
def register_admin_views(admin):
    from .admin import AccountView, HoursCreditView, TeamTotalsView, TransferView
    from .models import Account, HoursCredit, Transfer
    cat = _l("Time bank")
    return [AccountView(Account, name=_l("Points accounts"), endpoint="ledger_account", category=cat),
            TransferView(Transfer, name=_l("Points transfers"), endpoint="ledger_transfer", category=cat),
            HoursCreditView(HoursCredit, name=_l("Hours credited"), endpoint="ledger_hours", category=cat),
            TeamTotalsView(name=_l("Team totals"), endpoint="ledger_totals", category=cat)]


@hookimpl
def register_blueprints(app):
    from .views import bp
    return [bp]


@hookimpl
def register_commands(cli):
    from .cli import register_cli
    register_cli(cli)


@hookimpl
def register_events():
    from .services import EVENTS
    return EVENTS


@hookimpl
def track_event(event):
    if event.name == "activities.hours_confirmed":
        from .services import on_hours_confirmed
        on_hours_confirmed(event)
    elif event.name == "volunteers.erased":  # the account keeps its history, not the name (PR6)
        from .services import anonymise_volunteer
        anonymise_volunteer(event.volunteer_id)


@hookimpl
def register_tasks(queue):
    """Hourly catch-up: a confirmation whose event was lost (a crash between commit and delivery) is
    credited within the hour, never twice (the idempotency key of each record version)."""
    from core.tasks import Task, crontab
    from . import tasks
    return [Task("ledger.sync_hours", tasks.sync_hours, schedule=crontab(minute="35"))]


@hookimpl
def register_menu(user):
    from core.web import MenuItem
    if user is not None and getattr(user, "is_authenticated", False):
        return [MenuItem(_l("My points"), url_for("ledger.mine"), None, order=32)]
    return []


@hookimpl
def volunteer_panels(volunteer, user):
    from markupsafe import Markup
    from core.web import Widget
    from .services import find_account, hours_summary
    acct = find_account("volunteer", volunteer.id)
    if acct is None:
        return [Widget(_l("My time points"), Markup("<p>{}</p>").format(_l("No points yet.")), order=6)]
    s = hours_summary(acct)
    body = Markup('<p>{}: <strong>{}</strong> · {}: <strong>{:.1f}</strong></p><p><a href="{}">{}</a></p>').format(
        _l("Time points"), s["points"], _l("Service hours credited"), s["service_hours"],
        url_for("ledger.mine"), _l("Statement"))
    return [Widget(_l("My time points"), body, order=6)]


@hookimpl
def dashboard_widgets(user):
    from markupsafe import Markup
    from core import security
    from core.web import Widget
    if not security.can("ledger.transfer.reverse", user=user):
        return []
    from .models import Account
    issued = -(Account.select(Account.balance).where(Account.code == "system:issuance").scalar() or 0)
    redeemed = Account.select(Account.balance).where(Account.code == "system:redemption").scalar() or 0
    return [Widget(_l("Time points"), Markup(
        "<p>{}: <strong>{}</strong></p><p>{}: <strong>{}</strong></p><p>{}: <strong>{}</strong></p>").format(
            _l("Issued"), issued, _l("Redeemed"), redeemed, _l("Held"), issued - redeemed), order=40, width=4)]


@hookimpl
def site_checks():
    """``timebank check``: the ledger's integrity (LG6)."""
    from .services import verify
    problems = verify()
    if not problems:
        return [("ledger.integrity", True, "ledger OK")]
    return [("ledger.integrity", False, f"{len(problems)} problem(s), first: {problems[0].check} "
             f"{problems[0].ref}: {problems[0].detail} (see `timebank ledger verify`)")]


@hookimpl
def app_started(app):
    """``ledger_setting(key)`` in templates: texts that state a rule of the ledger follow its setting
    (issue 11 point 16), e.g. how many points an hour is worth."""
    def ledger_setting(key):
        from .services import setting
        return setting(key)
    app.jinja_env.globals["ledger_setting"] = ledger_setting


# ------------------------------------------------------------------ the privacy plugin's contract
# what personal data this plugin stores, one subject's export and erasure (issue 13 point 1): .privacy
from plugins.privacy.contract import contract_hooks  # noqa: E402
personal_data_declarations, personal_data_export, personal_data_erase = contract_hooks(
    __name__ + ".privacy")
