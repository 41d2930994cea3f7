"""Donations (积分捐赠, R-TB-3) and campaigns (积分募集, R-TB-4): the public API.

Points move only through the ledger (``plugins.ledger.services``): a donation is one ledger transfer
of kind ``donation`` from the volunteer's account to ``campaign:<id>`` or ``beneficiary:<id>`` (reference
the same code), so it shows on both sides' statements. This plugin adds a ``Donation`` row in the same
transaction (message, anonymity, the transfer id) — both or neither (CC5).

Return values: ``donate_to_campaign`` / ``donate_to_beneficiary`` return the ledger **Transfer** (``.amount``,
``.id``, ``.replayed``) with the ``Donation`` row attached as ``.donation``; ``use_campaign_points`` /
``use_beneficiary_points`` the Transfer with ``.spend``; ``refund_donation`` the reversing Transfer with
``.refund``. Every write takes an idempotency ``key``: replaying it returns the first result, even when
the campaign has closed since (LG4); the same key with another donation is refused.

No redemption threshold: the handbook (篇2 一) encourages donating points (“倡导志愿者将时间积分捐赠给有需要的
人…实现二次公益”) and names the threshold only for exchanging them; a site may still require it with the
setting ``donations.needs_redemption_threshold``.

Services check the object permission when ``actor`` is a user (a team admin cannot create, open,
close or spend another team's campaign even through the API, AC6); ``actor=None`` is the system (tasks,
the command line).
"""
from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass

import peewee as pw
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, events, inputs, security
from core.db import for_update, now, today, transaction
from core.errors import FieldErrors
from plugins.ledger import services as ledger
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

from .models import BENEFICIARY_CATEGORIES, Beneficiary, Campaign, Donation, Refund, Spend

MAX_MESSAGE = 200


class DonationError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written."""


@dataclass
class Donated(events.Event):
    """A volunteer donated points (after the transaction committed)."""
    name = "donations.donated"
    donation_id: int = 0
    transfer_id: int = 0
    volunteer_id: int = 0
    campaign_id: int | None = None
    beneficiary_id: int | None = None
    amount: int = 0


@dataclass
class CampaignChanged(events.Event):
    """A campaign was opened, closed or cancelled."""
    name = "donations.campaign_changed"
    campaign_id: int = 0
    team_id: int = 0
    status: str = ""


EVENTS = [Donated, CampaignChanged]


# ---------------------------------------------------------------- settings
SETTINGS = PluginSettings(__file__)


def setting(key):
    """A site setting ``donations.<key>`` over the manifest's default (core.settings)."""
    return SETTINGS.get(key)


# ---------------------------------------------------------------- helpers
def _user(actor):
    """The actor as an account (for audit rows and permission checks), or None for the system."""
    return actor if actor is not None and hasattr(actor, "username") else None


def _allowed(perm, obj, actor):
    user = _user(actor)
    if user is not None and not security.can(perm, obj, user=user):
        audit.log("access.denied", obj if getattr(obj, "id", None) else None, {"permission": perm}, user=user)
        raise DonationError(_l("You may not do this for another team's campaign or beneficiary."))


def _points(points, field="points") -> int:
    """A positive whole number of points (int, an integral float or decimal, or a string of digits)."""
    value = None
    if isinstance(points, bool):
        value = None
    elif isinstance(points, int):
        value = points
    elif isinstance(points, str):
        try:  # NS2: "１２" is 12; "²x", "inf", "1e308", a number past 2**63 are not points
            value = inputs.parse_int(points, default=None)
        except inputs.InputError:
            value = None
    elif points is not None:
        try:
            value = int(points) if int(points) == points else None
        except (TypeError, ValueError, OverflowError):
            value = None
    if value is None:
        raise DonationError({field: _l("Points are a whole number, such as 5.")})
    if value <= 0:
        raise DonationError({field: _l("Give at least 1 point.")})
    cap = setting("max_points_per_donation")
    if value > cap:
        raise DonationError({field: _l("At most %(n)s points at a time.", n=cap)})
    return value


def _donor(volunteer) -> Volunteer:
    v = None
    if isinstance(volunteer, Volunteer):
        v = Volunteer.get_or_none(Volunteer.id == volunteer.id)
    elif isinstance(volunteer, int) and not isinstance(volunteer, bool):
        v = Volunteer.get_or_none(Volunteer.id == volunteer)
    if v is None or v.status != "active":
        raise DonationError(_l("Only registered volunteers can donate points."))
    return v


def _key(prefix: str, key) -> str:
    """The ledger idempotency key: our namespace, the scope, and the caller's key (a fresh one when
    none is given: then each call is a new write)."""
    key = str(key).strip() if key is not None else ""
    if not key:
        key = uuid.uuid4().hex
    if len(key) > 120 or any(ord(ch) < 32 for ch in key):
        raise DonationError(_l("This form has expired; open it again."))
    return f"donations:{prefix}:{key}"


def _message(text) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > MAX_MESSAGE:
        raise DonationError({"message": _l("Keep the message under %(n)s characters.", n=MAX_MESSAGE)})
    return text


def _text(value, field, maxlen, *, required=True) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise DonationError({field: _l("This field is required.")})
    if len(value) > maxlen:
        raise DonationError({field: _l("At most %(n)s characters.", n=maxlen)})
    return value


def _ledger_errors(e: ledger.LedgerError) -> DonationError:
    return DonationError({("points" if k == "amount" else k): v for k, v in e.errors.items()})


def _locked(model, row):
    got = for_update(model.select().where(model.id == row.id)).first()
    if got is None:
        raise DonationError(_l("This record no longer exists."))
    return got


# ---------------------------------------------------------------- beneficiaries
def _clean_beneficiary(data: dict) -> dict:
    out = {"name": _text(data.get("name"), "name", 50),
           "category": str(data.get("category") or "other"),
           "description": _text(data.get("description"), "description", 1000, required=False)}
    if out["category"] not in BENEFICIARY_CATEGORIES:
        raise DonationError({"category": _l("Choose one of the categories.")})
    return out


def create_beneficiary(team: Team, *, name: str, category: str = "other", description: str = "",
                       actor=None) -> Beneficiary:
    """A person in need or a group the ``team`` vouches for (audited). Keep it minimal: a display name,
    a category, a short description; never a phone or ID number."""
    data = _clean_beneficiary({"name": name, "category": category, "description": description})
    _allowed("donations.beneficiary.create", Beneficiary(team=team), actor)
    if team.status != "approved":
        raise DonationError({"team": _l("Only a team that passed the platform review can do this.")})
    with transaction():
        b = Beneficiary.create(team=team, created_by=getattr(_user(actor), "id", None), **data)
        audit.log("donations.beneficiary.created", b, {"team": team.id, "category": b.category}, user=_user(actor))
    return b


def update_beneficiary(beneficiary: Beneficiary, *, actor=None, **data) -> Beneficiary:
    """Change the description, category or active flag; the name only before the first donation
    (statements show the name the account was opened with)."""
    _allowed("donations.beneficiary.edit", beneficiary, actor)
    merged = {"name": beneficiary.name, "category": beneficiary.category, "description": beneficiary.description}
    merged.update({k: v for k, v in data.items() if k in merged and v is not None})
    clean = _clean_beneficiary(merged)
    if clean["name"] != beneficiary.name and ledger.find_account("beneficiary", beneficiary.id) is not None:
        raise DonationError({"name": _l("The name cannot change after the first donation.")})
    changed = [k for k, v in clean.items() if getattr(beneficiary, k) != v]
    if "active" in data and data["active"] is not None and bool(data["active"]) != beneficiary.active:
        clean["active"] = bool(data["active"])
        changed.append("active")
    if changed:
        with transaction():
            Beneficiary.update(**{k: clean[k] for k in changed}).where(Beneficiary.id == beneficiary.id).execute()
            audit.log("donations.beneficiary.updated", beneficiary, {"fields": sorted(changed)}, user=_user(actor))
        for k in changed:
            setattr(beneficiary, k, clean[k])
    return beneficiary


# ---------------------------------------------------------------- campaigns
def _deadline(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = inputs.parse_date(value, max=_dt.date(inputs.MAX_YEAR, 12, 31))
        except inputs.InputError:
            value = None
    if not isinstance(value, _dt.date):
        raise DonationError({"deadline": _l("Enter the deadline as a date (YYYY-MM-DD).")})
    if value < today():
        raise DonationError({"deadline": _l("The deadline is in the past.")})
    return value


def _clean_campaign(title, purpose, goal, deadline) -> dict:
    errors = {}
    out = {}
    for field, fn in (("title", lambda: _text(title, "title", 100)),
                      ("purpose", lambda: _text(purpose, "purpose", 2000)),
                      ("goal", lambda: _points(goal, "goal")),
                      ("deadline", lambda: _deadline(deadline))):
        try:
            out[field] = fn()
        except DonationError as e:
            errors.update(e.errors)
    if errors:
        raise DonationError(errors)
    return out


def create_campaign(team: Team, *, title: str, purpose: str, goal, deadline, actor=None) -> Campaign:
    """A draft campaign of ``team`` (积分募集): title, purpose (the resources it applies for), a goal in
    points (> 0) and a deadline (a date, inclusive). Audited."""
    data = _clean_campaign(title, purpose, goal, deadline)
    _allowed("donations.campaign.create", Campaign(team=team), actor)
    if team.status != "approved":
        raise DonationError({"team": _l("Only a team that passed the platform review can do this.")})
    with transaction():
        c = Campaign.create(team=team, created_by=getattr(_user(actor), "id", None), status="draft", **data)
        audit.log("donations.campaign.created", c, {"team": team.id, "goal": c.goal, "deadline": c.deadline},
                  user=_user(actor))
    return c


def update_campaign(campaign: Campaign, *, title=None, purpose=None, goal=None, deadline=None,
                    actor=None) -> Campaign:
    """Change a draft's terms; once open they are fixed (the donors gave to them)."""
    _allowed("donations.campaign.edit", campaign, actor)
    if campaign.status != "draft":
        raise DonationError(_l("Only a draft campaign can be changed."))
    data = _clean_campaign(campaign.title if title is None else title, campaign.purpose if purpose is None else purpose,
                           campaign.goal if goal is None else goal,
                           campaign.deadline if deadline is None else deadline)
    changed = [k for k, v in data.items() if getattr(campaign, k) != v]
    if changed:
        with transaction():
            Campaign.update(**{k: data[k] for k in changed}).where(
                (Campaign.id == campaign.id) & (Campaign.status == "draft")).execute()
            audit.log("donations.campaign.updated", campaign, {"fields": sorted(changed)}, user=_user(actor))
        for k in changed:
            setattr(campaign, k, data[k])
    return campaign


def _set_status(campaign: Campaign, status: str, action: str, details: dict, actor, **fields) -> Campaign:
    Campaign.update(status=status, **fields).where(Campaign.id == campaign.id).execute()
    audit.log(action, campaign, dict(details, status=status), user=_user(actor))
    events.emit(CampaignChanged(campaign_id=campaign.id, team_id=campaign.team_id, status=status))
    return Campaign.get_by_id(campaign.id)


def open_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    """Start raising: the ledger account ``campaign:<id>`` is opened with the title (what donors'
    statements show). Opening an open campaign again returns it."""
    _allowed("donations.campaign.edit", campaign, actor)
    with transaction():
        c = _locked(Campaign, campaign)
        if c.status == "open":
            return c
        if c.status != "draft":
            raise DonationError(_l("Only a draft campaign can be opened."))
        if c.deadline < today():
            raise DonationError({"deadline": _l("The deadline is in the past.")})
        acct = ledger.open_account("campaign", c.id, c.title, team_id=c.team_id)
        return _set_status(c, "open", "donations.campaign.opened", {"goal": c.goal, "deadline": c.deadline},
                           actor, opened_at=now(), account_code=acct.code)


def close_campaign(campaign: Campaign, *, actor=None, reason: str = "") -> Campaign:
    """Stop raising (by hand, or the deadline passed). The points raised stay on the campaign's
    account for ``use_campaign_points``. Closing a closed campaign again returns it."""
    _allowed("donations.campaign.edit", campaign, actor)
    reason = (reason or "").strip()[:200]
    with transaction():
        c = _locked(Campaign, campaign)
        if c.status == "closed":
            return c
        if c.status != "open":
            raise DonationError(_l("Only an open campaign can be closed."))
        return _set_status(c, "closed", "donations.campaign.closed", {"reason": reason, "raised": raised(c)},
                           actor, closed_at=now(), close_reason=reason)


def cancel_campaign(campaign: Campaign, *, reason: str, actor=None) -> Campaign:
    """Give a campaign up: a draft, or an open one that holds no donation (refund them first)."""
    _allowed("donations.campaign.edit", campaign, actor)
    reason = _text(reason, "reason", 200)
    with transaction():
        c = _locked(Campaign, campaign)
        if c.status == "cancelled":
            return c
        if c.status not in ("draft", "open"):
            raise DonationError(_l("Only a draft or open campaign can be cancelled."))
        if raised(c) > 0:
            raise DonationError(_l("This campaign holds donations: refund them before cancelling it."))
        return _set_status(c, "cancelled", "donations.campaign.cancelled", {"reason": reason}, actor,
                           closed_at=now(), close_reason=reason)


def close_expired(day: _dt.date | None = None) -> int:
    """Close every open campaign whose deadline has passed (the periodic task). Returns how many."""
    day = day or today()
    n = 0
    for c in Campaign.select().where((Campaign.status == "open") & (Campaign.deadline < day)):
        close_campaign(c, reason="deadline")
        n += 1
    return n


def accepting(campaign: Campaign, day: _dt.date | None = None) -> bool:
    """Whether the campaign takes donations now: open, and today (Asia/Shanghai) is not after the
    deadline."""
    return campaign.status == "open" and campaign.deadline >= (day or today())


# ---------------------------------------------------------------- donations (R-TB-3)
def _replay(existing: Donation, volunteer_id, amount, campaign_id=None, beneficiary_id=None):
    if (existing.volunteer_id, existing.amount, existing.campaign_id, existing.beneficiary_id) != (
            volunteer_id, amount, campaign_id, beneficiary_id):
        raise DonationError(_l("This request was already used for another donation."))


def _donate(v: Volunteer, target, credit_acct, points: int, *, key: str, message: str, anonymous: bool, actor,
            campaign=None, beneficiary=None):
    donor_acct = ledger.volunteer_account(v)
    ref = f"campaign:{campaign.id}" if campaign is not None else f"beneficiary:{beneficiary.id}"
    try:
        t = ledger.post("donation", donor_acct, credit_acct, points, key=key, reason=message,
                        operator=_user(actor) or getattr(v, "user_id", None), reference=ref)
    except ledger.LedgerError as e:
        raise _ledger_errors(e) from None
    d = Donation.get_or_none(Donation.transfer_id == t.id)
    if d is None:
        d = Donation.create(transfer_id=t.id, idempotency_key=key, volunteer=v, campaign=campaign,
                            beneficiary=beneficiary, amount=points, message=message, anonymous=bool(anonymous),
                            operator_id=getattr(_user(actor), "id", None), created_at=t.created_at)
        audit.log("donations.donated", d, {"to": ref, "amount": points, "transfer": t.id}, user=_user(actor))
        events.emit(Donated(donation_id=d.id, transfer_id=t.id, volunteer_id=v.id,
                            campaign_id=getattr(campaign, "id", None), beneficiary_id=getattr(beneficiary, "id", None),
                            amount=points))
    t.donation = d
    return t


def _check_balance(v: Volunteer, points: int):
    acct = ledger.volunteer_account(v)
    if setting("needs_redemption_threshold") and not ledger.may_redeem(acct):
        raise DonationError(_l("Points can be donated from %(h)s service hours on.",
                               h=ledger.setting("redemption_threshold_hours")))
    if ledger.balance(acct) < points:
        raise DonationError({"points": _l("Not enough points: you have %(n)s.", n=ledger.balance(acct))})


def donate_to_campaign(volunteer, campaign: Campaign, points, *, key=None, message: str = "",
                       anonymous: bool = False, actor=None):
    """Donate ``points`` of ``volunteer`` to an open campaign. Returns the ledger Transfer (``.donation``
    is the Donation row). Refused with ``DonationError`` and nothing written when the points are not a
    positive whole number, the volunteer lacks them, the campaign is not open or its deadline has
    passed, or the donor is not an active volunteer."""
    v = _donor(volunteer)
    pts = _points(points)
    message = _message(message)
    lkey = _key(f"v{v.id}", key)
    with transaction():
        c = _locked(Campaign, campaign)
        existing = Donation.get_or_none(Donation.idempotency_key == lkey)
        if existing is not None:     # a replay: the first result, whatever happened since (LG4)
            _replay(existing, v.id, pts, campaign_id=c.id)
            t = ledger.post("donation", ledger.volunteer_account(v), ledger.find_account("campaign", c.id), pts,
                            key=lkey, reason=existing.message, reference=f"campaign:{c.id}")
            t.donation = existing
            return t
        if c.status != "open":
            raise DonationError(_l("This campaign is not raising points."))
        if c.deadline < today():
            raise DonationError(_l("This campaign's deadline has passed."))
        _check_balance(v, pts)
        acct = ledger.open_account("campaign", c.id, c.title, team_id=c.team_id)
        return _donate(v, c, acct, pts, key=lkey, message=message, anonymous=anonymous, actor=actor, campaign=c)


def donate_to_beneficiary(volunteer, beneficiary: Beneficiary, points, *, key=None, message: str = "",
                          actor=None):
    """Donate ``points`` to a person in need (or group) a team vouches for. Returns the ledger Transfer
    with ``.donation``; refused like ``donate_to_campaign`` (and when the beneficiary is inactive)."""
    v = _donor(volunteer)
    pts = _points(points)
    message = _message(message)
    lkey = _key(f"v{v.id}", key)
    with transaction():
        b = _locked(Beneficiary, beneficiary)
        existing = Donation.get_or_none(Donation.idempotency_key == lkey)
        if existing is not None:
            _replay(existing, v.id, pts, beneficiary_id=b.id)
            t = ledger.post("donation", ledger.volunteer_account(v), ledger.find_account("beneficiary", b.id), pts,
                            key=lkey, reason=existing.message, reference=f"beneficiary:{b.id}")
            t.donation = existing
            return t
        if not b.active:
            raise DonationError(_l("This person no longer receives donations."))
        _check_balance(v, pts)
        acct = ledger.open_account("beneficiary", b.id, b.name, team_id=b.team_id)
        return _donate(v, b, acct, pts, key=lkey, message=message, anonymous=False, actor=actor, beneficiary=b)


# ---------------------------------------------------------------- using the points (R-TB-4)
def _spend(kind, target, acct_kind, points, *, purpose, actor, key, perm, **which):
    _allowed(perm, target, actor)
    pts = _points(points)
    purpose = _text(purpose, "purpose", 500)
    lkey = _key(f"spend:{acct_kind}{target.id}", key)
    model = type(target)
    with transaction():
        row = _locked(model, target)
        existing = Spend.get_or_none(Spend.idempotency_key == lkey)
        acct = ledger.find_account(acct_kind, row.id)
        sink = ledger.system_account("redemption")
        if existing is not None:
            if existing.amount != pts:
                raise DonationError(_l("This request was already used for another donation."))
            t = ledger.post(kind, acct, sink, pts, key=lkey, reason=existing.purpose, reference=f"{acct_kind}:{row.id}")
            t.spend = existing
            return t
        if model is Campaign and row.status not in ("open", "closed"):
            raise DonationError(_l("Points can be used only from an open or closed campaign."))
        have = ledger.balance(acct) if acct is not None else 0
        if have < pts:
            raise DonationError({"points": _l("Not enough points: the account holds %(n)s.", n=have)})
        try:
            t = ledger.post(kind, acct, sink, pts, key=lkey, reason=purpose, operator=_user(actor),
                            reference=f"{acct_kind}:{row.id}")
        except ledger.LedgerError as e:
            raise _ledger_errors(e) from None
        s = Spend.create(transfer_id=t.id, idempotency_key=lkey, amount=pts, purpose=purpose,
                         operator_id=getattr(_user(actor), "id", None), **{k: row for k in which})
        audit.log(f"donations.{acct_kind}_points_used", row, {"amount": pts, "purpose": purpose, "transfer": t.id},
                  user=_user(actor))
    t.spend = s
    return t


def use_campaign_points(campaign: Campaign, points, *, purpose: str, actor=None, key=None):
    """Apply raised points for resources (申请使用资源): a ``campaign_spend`` transfer from the campaign's
    account to ``system:redemption``, with the purpose; only that team's admins or the platform; never
    more than the account holds. Audited."""
    return _spend("campaign_spend", campaign, "campaign", points, purpose=purpose, actor=actor, key=key,
                  perm="donations.campaign.use", campaign=True)


def use_beneficiary_points(beneficiary: Beneficiary, points, *, purpose: str, actor=None, key=None):
    """The vouching team exchanges donated points for services or goods for the person (兑换服务和物资):
    a ``redemption`` transfer from ``beneficiary:<id>`` to ``system:redemption``. Audited."""
    return _spend("redemption", beneficiary, "beneficiary", points, purpose=purpose, actor=actor, key=key,
                  perm="donations.beneficiary.use", beneficiary=True)


# ---------------------------------------------------------------- refunds (platform)
def _transfer(ref):
    """The ledger transfer of a donation (read only; points still move only through the ledger API)."""
    tid = getattr(ref, "transfer_id", None) if isinstance(ref, Donation) else getattr(ref, "id", ref)
    t = ledger.get_transfer(tid) if isinstance(tid, int) else None
    d = Donation.get_or_none(Donation.transfer_id == t.id) if t is not None else None
    if t is None or d is None:
        raise DonationError(_l("This is not a donation."))
    return t, d


def refund_donation(transfer, *, reason: str, actor=None):
    """Give a donation back to the donor (platform admins, with a reason): ``ledger.reverse`` of its
    transfer plus a ``Refund`` row, audited. Refused when the campaign or person no longer holds the
    points (they were used already). ``transfer``: the donation's Transfer, its Donation row, or an id.
    Returns the reversing Transfer with ``.refund``."""
    t, d = _transfer(transfer)
    _allowed("donations.donation.refund", d, actor)
    reason = _text(reason, "reason", 500)
    target_model = Campaign if d.campaign_id else Beneficiary
    with transaction():
        _locked(target_model, target_model(id=d.campaign_id or d.beneficiary_id))
        done = Refund.get_or_none(Refund.donation == d.id)
        if done is not None:
            r = ledger.reverse(t, reason=done.reason)
            r.refund = done
            return r
        held = ledger.balance(t.credit_id)
        if held < d.amount:
            raise DonationError(_l("The points of this donation were used already; it cannot be refunded."))
        try:
            r = ledger.reverse(t, reason=reason, operator=_user(actor))
        except ledger.LedgerError as e:
            raise _ledger_errors(e) from None
        f = Refund.create(donation=d, transfer_id=r.id, reason=reason, operator_id=getattr(_user(actor), "id", None))
        audit.log("donations.refunded", d, {"amount": d.amount, "transfer": t.id, "reversal": r.id, "reason": reason},
                  user=_user(actor))
    r.refund = f
    return r


# ---------------------------------------------------------------- figures and lists
def _refunded_ids():
    return Refund.select(Refund.donation)


def raised(campaign: Campaign) -> int:
    """Points donated to the campaign, less refunds."""
    return int(Donation.select(pw.fn.COALESCE(pw.fn.SUM(Donation.amount), 0)).where(
        (Donation.campaign == campaign.id) & Donation.id.not_in(_refunded_ids())).scalar() or 0)


def progress(campaigns) -> dict[int, dict]:
    """Per campaign id: raised, donors (distinct volunteers), donations, spent, held, percent."""
    ids = [c.id for c in campaigns] or [-1]
    live = Donation.select(Donation.campaign, pw.fn.SUM(Donation.amount), pw.fn.COUNT(Donation.id),
                           pw.fn.COUNT(Donation.volunteer.distinct())).where(
        Donation.campaign.in_(ids) & Donation.id.not_in(_refunded_ids())).group_by(Donation.campaign)
    got = {cid: (int(s or 0), n, dn) for cid, s, n, dn in live.tuples()}
    spent = dict(Spend.select(Spend.campaign, pw.fn.SUM(Spend.amount)).where(Spend.campaign.in_(ids))
                 .group_by(Spend.campaign).tuples())
    out = {}
    for c in campaigns:
        r, n, donors = got.get(c.id, (0, 0, 0))
        sp = int(spent.get(c.id) or 0)
        out[c.id] = {"raised": r, "donations": n, "donors": donors, "spent": sp, "held": r - sp,
                     "goal": c.goal, "percent": min(100, int(r * 100 / c.goal)) if c.goal else 0,
                     "days_left": (c.deadline - today()).days if c.status == "open" else None}
    return out


def donated_by(volunteer) -> int:
    """Points a volunteer has donated, less refunds."""
    return int(Donation.select(pw.fn.COALESCE(pw.fn.SUM(Donation.amount), 0)).where(
        (Donation.volunteer == getattr(volunteer, "id", volunteer)) & Donation.id.not_in(_refunded_ids())).scalar() or 0)


def total_donated() -> int:
    """Points donated on the whole site, less refunds (the home page's total)."""
    return int(Donation.select(pw.fn.COALESCE(pw.fn.SUM(Donation.amount), 0)).where(
        Donation.id.not_in(_refunded_ids())).scalar() or 0)


def public_campaigns(limit: int = 100):
    """Open campaigns (soonest deadline first), then closed ones (latest first)."""
    opened = list(Campaign.select(Campaign, Team).join(Team).where(Campaign.status == "open")
                  .order_by(Campaign.deadline, Campaign.id).limit(limit))
    closed = list(Campaign.select(Campaign, Team).join(Team).where(Campaign.status == "closed")
                  .order_by(Campaign.closed_at.desc()).limit(limit))
    return opened, closed


def donor_label(d: Donation, *, full: bool = False, anonymous_label=None) -> str:
    """How a donor is shown: masked (张*丰) unless ``full`` (admins of the campaign's team); an
    anonymous donor is hidden from the public altogether."""
    from core.pii import mask_name
    if d.anonymous and not full:
        return str(anonymous_label or _l("Anonymous"))
    name = d.volunteer.name
    return name if full else mask_name(name)


def donations_of(*, campaign: Campaign | None = None, beneficiary: Beneficiary | None = None,
                 volunteer: Volunteer | None = None, limit: int | None = None):
    """Donations newest first, with the volunteer and whether each was refunded (``.refunded``)."""
    q = (Donation.select(Donation, Volunteer).join(Volunteer, on=(Donation.volunteer == Volunteer.id))
         .order_by(Donation.id.desc()))
    if campaign is not None:
        q = q.where(Donation.campaign == campaign.id)
    if beneficiary is not None:
        q = q.where(Donation.beneficiary == beneficiary.id)
    if volunteer is not None:
        q = q.where(Donation.volunteer == volunteer.id)
    if limit:
        q = q.limit(limit)
    rows = list(q)
    refunded = {r.donation_id: r for r in Refund.select().where(Refund.donation.in_([d.id for d in rows] or [-1]))}
    for d in rows:
        d.refund = refunded.get(d.id)
        d.refunded = d.id in refunded
    return rows


def spends_of(*, campaign: Campaign | None = None, beneficiary: Beneficiary | None = None):
    q = Spend.select().order_by(Spend.id.desc())
    if campaign is not None:
        q = q.where(Spend.campaign == campaign.id)
    if beneficiary is not None:
        q = q.where(Spend.beneficiary == beneficiary.id)
    return list(q)


def statement(target, **kw) -> list[dict]:
    """The ledger statement of a campaign's or beneficiary's account (empty before its first point)."""
    kind = "campaign" if isinstance(target, Campaign) else "beneficiary"
    acct = ledger.find_account(kind, target.id)
    return ledger.statement(acct, **kw) if acct is not None else []


def held(target) -> int:
    kind = "campaign" if isinstance(target, Campaign) else "beneficiary"
    acct = ledger.find_account(kind, target.id)
    return ledger.balance(acct) if acct is not None else 0


# ---------------------------------------------------------------- integrity (``timebank check``)
def verify() -> list[tuple[str, str, str]]:
    """Every donation, refund and use of points matches its ledger transfer (kind, amount, both
    accounts), and every ledger donation to a campaign or beneficiary has its Donation row. Returns
    (check, row, detail) for each problem; empty when the two agree. Reads the ledger, never writes."""
    transfers = {t["id"]: t for t in ledger.transfers(
        kinds=["donation", "campaign_spend", "reversal", "redemption"],
        reference_prefixes=["campaign:", "beneficiary:"])}
    problems = []

    def target(row):
        return f"campaign:{row.campaign_id}" if row.campaign_id else f"beneficiary:{row.beneficiary_id}"

    donations = {}
    for d in Donation.select():
        donations[d.transfer_id] = d
        t = transfers.get(d.transfer_id)
        want = ("donation", d.amount, f"volunteer:{d.volunteer_id}", target(d))
        if t is None or (t["kind"], t["amount"], t["dcode"], t["ccode"]) != want:
            problems.append(("donation_transfer", f"donation {d.id}", f"ledger transfer {d.transfer_id} does not match"))
    for f in Refund.select():
        t = transfers.get(f.transfer_id)
        if t is None or t["kind"] != "reversal" or t["reverses"] != Donation.get_by_id(f.donation_id).transfer_id:
            problems.append(("refund_transfer", f"refund {f.id}", f"ledger transfer {f.transfer_id} does not reverse the donation"))
    for sp in Spend.select():
        t = transfers.get(sp.transfer_id)
        if t is None or (t["amount"], t["dcode"], t["ccode"]) != (sp.amount, target(sp), "system:redemption"):
            problems.append(("spend_transfer", f"spend {sp.id}", f"ledger transfer {sp.transfer_id} does not match"))
    for tid, t in transfers.items():
        if t["kind"] == "donation" and tid not in donations:
            problems.append(("donation_missing", f"transfer {tid}", f"a donation to {t['ccode']} without its record"))
    return problems

