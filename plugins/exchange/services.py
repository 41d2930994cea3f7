"""积分兑换 (R-TB-2) — the public API. Points move only through ``plugins.ledger.services``.

    from plugins.exchange import services as exchange
    r = exchange.redeem(volunteer, item, 2, key=form_token, actor=user)   # placed, points debited
    exchange.fulfil(r, actor=user)                                        # handed over
    exchange.cancel(r, reason="…", actor=user)                            # refund by reversal, stock back

``redeem`` is one transaction: the guarded stock decrement (``UPDATE … SET stock = stock - q WHERE
id = ? AND stock >= q AND active``), the receipt number (``core.numbering``, LG7), the
redemption row and the ledger transfer volunteer → system:redemption — all of them or none (CC5).
The stock guard makes overselling impossible; the ledger refuses a debit below zero under its
account lock (LG3); the item row lock taken by the decrement serialises the per-volunteer limit
check of one item (CC3). Every refusal is an ``ExchangeError`` with a translated message and
nothing written.

Lock order, the same in every write (no deadlock on PostgreSQL): redemption row → item row →
receipt counter → ledger accounts.
"""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, inputs, numbering
from core.db import now, transaction
from core.errors import FieldErrors
from plugins.ledger import services as ledger

from .models import KINDS, Item, Partner, Redemption


class ExchangeError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written."""


class _Replay(Exception):
    def __init__(self, redemption):
        super().__init__("replay")
        self.redemption = redemption


SETTINGS = PluginSettings(__file__)


def setting(key):
    """A site setting ``exchange.<key>`` over the manifest's default (core.settings)."""
    return SETTINGS.get(key)


def _user_id(actor):
    return getattr(actor, "id", actor) if actor is not None else None


def _audit_user(actor):
    return actor if hasattr(actor, "username") else None


# ---------------------------------------------------------------- catalogue
def catalogue():
    """Active items of active partners, cheapest first within each partner (the public list)."""
    return (Item.select(Item, Partner).join(Partner)
            .where((Item.active == True) & (Partner.active == True))  # noqa: E712
            .order_by(Partner.name, Item.price, Item.id))


def redeemed_quantity(volunteer, item) -> int:
    """How many of ``item`` the volunteer holds in placed or fulfilled redemptions."""
    vid = getattr(volunteer, "id", volunteer)
    iid = getattr(item, "id", item)
    return int(Redemption.select(pw.fn.COALESCE(pw.fn.SUM(Redemption.quantity), 0)).where(
        (Redemption.volunteer == vid) & (Redemption.item == iid)
        & (Redemption.status != "cancelled")).scalar() or 0)


def status_of(volunteer) -> dict:
    """What a volunteer's exchange page shows: balance, whether they may redeem, the threshold."""
    acct = ledger.find_account("volunteer", getattr(volunteer, "id", volunteer))
    threshold = ledger.setting("redemption_threshold_hours")
    hours = (acct.service_minutes / 60) if acct else 0.0
    return {"balance": acct.balance if acct else 0, "may_redeem": bool(acct and ledger.may_redeem(acct)),
            "threshold_hours": threshold, "service_hours": hours,
            "missing_hours": max(0.0, threshold - hours)}


# ---------------------------------------------------------------- redeem
def _quantity(quantity) -> int:
    if isinstance(quantity, bool):
        quantity = None
    if isinstance(quantity, str):
        try:  # NS2: "²", "inf", "1e308", a number past 2**63 are refused in one place
            quantity = inputs.parse_int(quantity, min=1, max=inputs.INT64[1])
        except inputs.InputError:
            quantity = None
    elif isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)
    if not isinstance(quantity, int) or quantity <= 0:
        raise ExchangeError({"quantity": _l("The quantity must be a whole number greater than zero.")})
    if quantity > setting("max_quantity"):
        raise ExchangeError({"quantity": _l("At most %(n)s at a time.", n=setting("max_quantity"))})
    return quantity


def _threshold_error(acct) -> ExchangeError:
    threshold = ledger.setting("redemption_threshold_hours")
    have = (acct.service_minutes if acct else 0) / 60
    have_s, missing_s = "%g" % have, "%g" % max(threshold - have, 0)
    return ExchangeError({"__all__": _l(
        "Points can be exchanged from %(threshold)s confirmed service hours on; you have %(have)s, "
        "%(missing)s more hours are needed.", threshold=threshold, have=have_s, missing=missing_s)})


def _item_error(item: Item, quantity: int) -> ExchangeError | None:
    if not item.active or not item.partner.active:
        return ExchangeError({"__all__": _l("This item is not offered any more.")})
    if item.stock < quantity:
        if item.stock <= 0:
            return ExchangeError({"quantity": _l("Out of stock.")})
        return ExchangeError({"quantity": _l("Only %(n)s left in stock.", n=item.stock)})
    return None


def _limit_error(item: Item, volunteer_id: int, quantity: int) -> ExchangeError | None:
    if item.per_volunteer_limit is None:
        return None
    have = redeemed_quantity(volunteer_id, item.id)
    if have + quantity > item.per_volunteer_limit:
        return ExchangeError({"quantity": _l(
            "Each volunteer may exchange at most %(limit)s of this item; you have %(have)s already.",
            limit=item.per_volunteer_limit, have=have)})
    return None


def _replayed(key: str, volunteer_id: int, item_id: int, quantity: int) -> Redemption | None:
    r = Redemption.get_or_none(Redemption.idempotency_key == key)
    if r is None:
        return None
    if (r.volunteer_id, r.item_id, r.quantity) != (volunteer_id, item_id, quantity):
        raise ExchangeError({"__all__": _l("This request was already used for a different exchange.")})
    r.replayed = True
    return r


RECEIPT_KIND = "exchange.receipt"   # its core.numbering sequence, one a year


def _receipt_number() -> str:
    """DH + year + 6 digits, the next of the year's sequence (``core.numbering``, LG7)."""
    return numbering.take(RECEIPT_KIND, pattern="{prefix}{year}{seq:06d}", prefix=setting("receipt_prefix"))


def redeem(volunteer, item, quantity=1, *, key: str | None = None, actor=None) -> Redemption:
    """Exchange ``quantity`` of ``item`` for ``item.price × quantity`` of the volunteer's points.
    One transaction: stock decremented under a guard, receipt number taken, redemption written,
    points debited to system:redemption — or nothing at all. ``key`` (a form token, a client's
    request id) makes it replay-safe: the same key returns the first redemption (LG4), with other
    parameters it is refused. Refusals: ``ExchangeError``."""
    from plugins.volunteers.models import Volunteer
    q = _quantity(quantity)
    vid = getattr(volunteer, "id", volunteer)
    iid = getattr(item, "id", item)
    if Volunteer.get_or_none(Volunteer.id == vid) is None:
        raise ExchangeError({"__all__": _l("Only registered volunteers can exchange points.")})
    fresh = Item.select(Item, Partner).join(Partner).where(Item.id == iid).first()
    if fresh is None:
        raise ExchangeError({"__all__": _l("This item is not offered any more.")})
    key = (key or "").strip() or None
    if key is not None:
        if len(key) > 200:
            raise ExchangeError({"__all__": _l("The request key is too long.")})
        done = _replayed(key, vid, iid, q)
        if done is not None:
            return done
    # friendly refusals first (stock, limit and balance are checked again under the locks below)
    acct = ledger.find_account("volunteer", vid)
    if not (acct is not None and ledger.may_redeem(acct)) and ledger.setting("redemption_threshold_hours") > 0:
        raise _threshold_error(acct)
    err = _item_error(fresh, q) or _limit_error(fresh, vid, q)
    if err is not None:
        raise err
    points = fresh.price * q
    have = acct.balance if acct is not None else 0
    if have < points:
        raise ExchangeError({"__all__": _l("Not enough points: this needs %(need)s, your balance is %(balance)s.",
                                           need=points, balance=have)})
    sink = ledger.system_account("redemption")
    try:
        with transaction():
            active_partner = Partner.select(Partner.id).where(
                (Partner.id == fresh.partner_id) & (Partner.active == True))  # noqa: E712
            n = (Item.update(stock=Item.stock - q, updated_at=now())
                 .where((Item.id == iid) & (Item.stock >= q) & (Item.active == True)  # noqa: E712
                        & Item.partner.in_(active_partner)).execute())
            if n == 0:  # sold out (or withdrawn) meanwhile: say which
                current = Item.select(Item, Partner).join(Partner).where(Item.id == iid).first()
                if current is None:
                    raise ExchangeError({"__all__": _l("This item is not offered any more.")})
                raise _item_error(current, q) or ExchangeError({"quantity": _l("Out of stock.")})
            # the item row is locked now: same-item redemptions queue here (limit check, replay check)
            if key is not None:
                done = _replayed(key, vid, iid, q)
                if done is not None:
                    raise _Replay(done)
            current = Item.get_by_id(iid)
            err = _limit_error(current, vid, q)
            if err is not None:
                raise err
            points = current.price * q
            r = Redemption.create(number=_receipt_number(), idempotency_key=key, volunteer=vid, item=iid,
                                  item_name=current.name, unit_price=current.price, quantity=q, points=points,
                                  status="placed", created_by=_user_id(actor))
            t = ledger.post("redemption", ledger.volunteer_account(vid), sink, points,
                            key=f"redemption:{r.id}", reason=f"{current.name} × {q}",
                            operator=_user_id(actor), reference=r.number)
            Redemption.update(transfer_id=t.id).where(Redemption.id == r.id).execute()
            r.transfer_id = t.id
            audit.log("exchange.redeemed", r, {"number": r.number, "item": iid, "quantity": q, "points": points,
                                               "transfer": t.id}, user=_audit_user(actor))
    except _Replay as rp:
        return rp.redemption
    except ledger.LedgerError as e:   # the balance fell meanwhile: the ledger refused under its lock
        raise ExchangeError({"__all__": "；".join(e.messages())}) from e
    except pw.IntegrityError:
        if key is not None:   # the same key committed by a concurrent request a moment ago
            done = _replayed(key, vid, iid, q)
            if done is not None:
                return done
        raise
    r.replayed = False
    _release_held_back(vid, actor)
    return r


def _release_held_back(volunteer_id, actor):
    """Spending made room under the cap: release points the cap held back (ledger.settle). Best
    effort after the commit; the ledger's hourly sync does it otherwise."""
    try:
        ledger.settle(volunteer_id, operator=_user_id(actor))
    except Exception:  # noqa: BLE001 - the redemption is committed; the hourly sync catches up
        import logging
        logging.getLogger("timebank.exchange").exception("settle after redemption failed")


# ---------------------------------------------------------------- fulfil / cancel
def _get(redemption) -> Redemption:
    rid = getattr(redemption, "id", redemption)
    r = Redemption.get_or_none(Redemption.id == rid)
    if r is None:
        raise ExchangeError({"__all__": _l("No such exchange.")})
    return r


def _sync(given, fresh: Redemption) -> Redemption:
    """The caller's instance reflects the new state too (``r = …; cancel(r, …); r.status``)."""
    if isinstance(given, Redemption) and given is not fresh:
        given.__data__.update(fresh.__data__)
    return fresh


def fulfil(redemption, *, actor=None) -> Redemption:
    """placed → fulfilled (the partner handed the goods over or gave the service). Fulfilling a
    fulfilled redemption again changes nothing; a cancelled one cannot be fulfilled."""
    r = _get(redemption)
    with transaction():
        n = (Redemption.update(status="fulfilled", fulfilled_at=now(), fulfilled_by=_user_id(actor))
             .where((Redemption.id == r.id) & (Redemption.status == "placed")).execute())
        r = Redemption.get_by_id(r.id)
        if n == 0:
            if r.status == "fulfilled":
                return _sync(redemption, r)
            raise ExchangeError({"__all__": _l("A cancelled exchange cannot be fulfilled.")})
        audit.log("exchange.fulfilled", r, {"number": r.number}, user=_audit_user(actor))
    return _sync(redemption, r)


def cancel(redemption, *, reason: str, actor=None) -> Redemption:
    """placed → cancelled: the ledger transfer is reversed (the refund) and the stock returned, in
    one transaction. A reason is required. A fulfilled redemption cannot be cancelled; cancelling a
    cancelled one again returns it unchanged (idempotent). The refund may take the balance above
    the volunteer cap: the cap limits points minted from hours, not points given back. When the
    transfer was reversed in the ledger already, that reversal counts as the refund."""
    reason = (reason or "").strip()
    if not reason:
        raise ExchangeError({"reason": _l("Give the reason of the cancellation.")})
    if len(reason) > 500:
        raise ExchangeError({"reason": _l("The reason is too long (500 characters at most).")})
    r = _get(redemption)
    from plugins.ledger.models import Transfer   # read only: the transfer to reverse
    try:
        with transaction():
            n = (Redemption.update(status="cancelled", cancelled_at=now(), cancelled_by=_user_id(actor),
                                   cancel_reason=reason)
                 .where((Redemption.id == r.id) & (Redemption.status == "placed")).execute())
            r = Redemption.get_by_id(r.id)
            if n == 0:
                if r.status == "cancelled":
                    r.replayed = True
                    return _sync(redemption, r)
                raise ExchangeError({"__all__": _l("A fulfilled exchange cannot be cancelled.")})
            Item.update(stock=Item.stock + r.quantity, updated_at=now()).where(Item.id == r.item_id).execute()
            # the transfer may have been reversed in the ledger admin already: that reversal is the
            # refund (never a second one); the exchange is then only brought in line with the ledger
            refund = Transfer.get_or_none(Transfer.reverses == r.transfer_id) or ledger.reverse(
                Transfer.get_by_id(r.transfer_id), reason=reason, operator=_user_id(actor), key=f"refund:{r.id}")
            Redemption.update(refund_transfer_id=refund.id).where(Redemption.id == r.id).execute()
            r.refund_transfer_id = refund.id
            audit.log("exchange.cancelled", r, {"number": r.number, "refund": refund.id, "points": r.points,
                                                "quantity": r.quantity, "reason": reason}, user=_audit_user(actor))
            # the receipt number stays used, voided in the numbering register too (LG7); numbers given
            # before the register existed (migration 0002) are not in it
            if numbering.status(RECEIPT_KIND, r.number) == numbering.ISSUED:
                numbering.void(RECEIPT_KIND, r.number, reason=reason, actor=_audit_user(actor))
    except ledger.LedgerError as e:
        raise ExchangeError({"__all__": _l("The refund could not be posted: %(error)s",
                                           error="；".join(e.messages()))}) from e
    r.replayed = False
    return _sync(redemption, r)


# ---------------------------------------------------------------- integrity
def verify() -> list[str]:
    """Each redemption agrees with the ledger: its debit exists as a ``redemption`` transfer of the
    same points; a cancelled one was refunded by the reversal of that transfer; a placed or fulfilled
    one was not reversed. Returns the problems (``timebank check`` shows the first)."""
    from plugins.ledger.models import Transfer   # read only
    debit, refund = Transfer.alias(), Transfer.alias()
    q = (Redemption.select(Redemption.number, Redemption.points, Redemption.status, Redemption.refund_transfer_id,
                           debit.id, debit.kind, debit.amount, refund.id)
         .join(debit, pw.JOIN.LEFT_OUTER, on=(debit.id == Redemption.transfer_id))
         .join(refund, pw.JOIN.LEFT_OUTER, on=(refund.reverses == debit.id), src=Redemption)
         .order_by(Redemption.id))
    out = []
    for number, points, status, refund_id, t_id, t_kind, t_amount, r_id in q.tuples():
        if t_id is None:
            out.append(f"{number}: no ledger transfer")
        elif t_kind != "redemption" or t_amount != points:
            out.append(f"{number}: transfer {t_id} is {t_kind} of {t_amount}, not redemption of {points}")
        elif status == "cancelled" and (r_id is None or r_id != refund_id):
            out.append(f"{number}: cancelled but not refunded by the reversal of transfer {t_id}")
        elif status != "cancelled" and r_id is not None:
            out.append(f"{number}: {status} but transfer {t_id} was reversed by {r_id}")
    return out


# ---------------------------------------------------------------- partners and items (admin)
def _text(data, field, *, required=False, max_len=200):
    v = (data.get(field) or "")
    v = v.strip() if isinstance(v, str) else str(v)
    if required and not v:
        return None, _l("This field is required.")
    if len(v) > max_len:
        return None, _l("At most %(n)s characters.", n=max_len)
    return v, None


def _int(value, *, minimum, optional=False):
    if value in (None, "") and optional:
        return None, None
    if isinstance(value, bool):
        return None, _l("Enter a whole number.")
    try:
        v = inputs.parse_int(value)
    except inputs.InputError:
        return None, _l("Enter a whole number.")
    if v < minimum:
        return None, _l("Enter a whole number of at least %(n)s.", n=minimum)
    if v > 10 ** 9:
        return None, _l("The number is too large.")
    return v, None


def save_partner(data: dict, partner: Partner | None = None, *, actor=None) -> Partner:
    """Create or update a partner (name, contact, team_id or None, description, active)."""
    errors = {}
    name, e = _text(data, "name", required=True)
    if e:
        errors["name"] = e
    contact, e = _text(data, "contact")
    if e:
        errors["contact"] = e
    description, e = _text(data, "description", max_len=5000)
    if e:
        errors["description"] = e
    team_id = data.get("team_id") or None
    if team_id is not None:
        from plugins.teams.models import Team
        if Team.get_or_none(Team.id == team_id) is None:
            errors["team"] = _l("No such team.")
    if errors:
        raise ExchangeError(errors)
    fields = {"name": name, "contact": contact, "description": description, "team": team_id,
              "active": bool(data.get("active", True))}
    with transaction():
        if partner is None:
            partner = Partner.create(**fields)
            audit.log("exchange.partner.created", partner, {"team": team_id}, user=_audit_user(actor))
        else:
            changed = sorted(k for k, v in fields.items()
                             if (getattr(partner, "team_id") if k == "team" else getattr(partner, k)) != v)
            Partner.update(**fields).where(Partner.id == partner.id).execute()
            partner = Partner.get_by_id(partner.id)
            audit.log("exchange.partner.updated", partner, {"fields": changed}, user=_audit_user(actor))
    return partner


def save_item(data: dict, item: Item | None = None, *, actor=None) -> Item:
    """Create or update an item. On an update the stock moves by the difference between the value
    the editor saw (``stock_seen``, default the stored one) and the value entered, in one guarded
    statement: redemptions made while the form was open are not overwritten. Price and stock
    changes are audited with their old and new values."""
    errors = {}
    name, e = _text(data, "name", required=True)
    if e:
        errors["name"] = e
    description, e = _text(data, "description", max_len=5000)
    if e:
        errors["description"] = e
    kind = data.get("kind") or "goods"
    if kind not in KINDS:
        errors["kind"] = _l("Choose service or goods.")
    price, e = _int(data.get("price"), minimum=1)
    if e:
        errors["price"] = e
    stock, e = _int(data.get("stock"), minimum=0)
    if e:
        errors["stock"] = e
    limit, e = _int(data.get("per_volunteer_limit"), minimum=1, optional=True)
    if e:
        errors["per_volunteer_limit"] = e
    partner_id = data.get("partner_id")
    if item is None and (partner_id is None or Partner.get_or_none(Partner.id == partner_id) is None):
        errors["partner"] = _l("Choose the partner.")
    if errors:
        raise ExchangeError(errors)
    active = bool(data.get("active", True))
    with transaction():
        if item is None:
            item = Item.create(partner=partner_id, name=name, kind=kind, description=description, price=price,
                               stock=stock, active=active, per_volunteer_limit=limit)
            audit.log("exchange.item.created", item, {"partner": partner_id, "price": price, "stock": stock},
                      user=_audit_user(actor))
            return item
        old = Item.get_by_id(item.id)
        seen = data.get("stock_seen")
        try:  # the stock the form showed: bounded like the stock itself
            seen = inputs.parse_int(seen, min=0, max=10 ** 9, default=old.stock)
        except inputs.InputError:
            seen = old.stock
        delta = stock - seen
        if delta:
            n = Item.update(stock=Item.stock + delta).where((Item.id == item.id) & (Item.stock + delta >= 0)).execute()
            if n == 0:
                raise ExchangeError({"stock": _l("The stock changed meanwhile; there are %(n)s left.",
                                                 n=Item.get_by_id(item.id).stock)})
        Item.update(name=name, kind=kind, description=description, price=price, active=active,
                    per_volunteer_limit=limit, updated_at=now()).where(Item.id == item.id).execute()
        new = Item.get_by_id(item.id)
        changes = {}
        for f in ("name", "kind", "price", "stock", "active", "per_volunteer_limit"):
            if getattr(old, f) != getattr(new, f):
                changes[f] = [getattr(old, f), getattr(new, f)]
        if old.description != new.description:
            changes["description"] = ["…", "…"]
        audit.log("exchange.item.updated", new, {"changes": changes}, user=_audit_user(actor))
        return new


# ---------------------------------------------------------------- receipts
def receipt_pdf(r: Redemption) -> bytes:
    """The printable receipt (兑换凭证) with its number, through plugins/documents."""
    from flask_babel import gettext as _
    from plugins.documents.services import Cell, form_pdf
    item = Item.select(Item, Partner).join(Partner).where(Item.id == r.item_id).first()
    v = r.volunteer
    status = {"placed": _("Placed"), "fulfilled": _("Fulfilled"), "cancelled": _("Cancelled")}[r.status]
    grid = [
        [Cell(_("Receipt number"), label=True), Cell(r.number, span=3)],
        [Cell(_("Volunteer"), label=True), Cell(f"{v.name}（{v.number}）", span=3)],
        [Cell(_("Partner"), label=True), Cell(item.partner.name if item else "", span=3)],
        [Cell(_("Item"), label=True), Cell(r.item_name, span=3)],
        [Cell(_("Quantity"), label=True), Cell(str(r.quantity)), Cell(_("Points per unit"), label=True),
         Cell(str(r.unit_price))],
        [Cell(_("Points spent"), label=True), Cell(str(r.points)), Cell(_("Status"), label=True), Cell(status)],
        [Cell(_("Exchanged at"), label=True), Cell(r.created_at.strftime("%Y-%m-%d %H:%M"), span=3)],
    ]
    if r.fulfilled_at:
        grid.append([Cell(_("Fulfilled at"), label=True), Cell(r.fulfilled_at.strftime("%Y-%m-%d %H:%M"), span=3)])
    if r.cancelled_at:
        grid.append([Cell(_("Cancelled at"), label=True),
                     Cell(f"{r.cancelled_at.strftime('%Y-%m-%d %H:%M')}　{r.cancel_reason}", span=3)])
    return form_pdf(_("Points exchange receipt"), grid, columns=[1, 1.6, 1, 1.6],
                    signatures=[(_("Volunteer (signature)"), ""), (_("Partner (signature / seal)"), "")])
