"""Stock and use of donations (issue 15 point 4): goods go into stock when accepted and leave it when used
for an activity or handed to a beneficiary; money is allocated to purposes; a restricted gift (purpose,
campaign, activity, designated beneficiary) is used for its restriction only. Every movement and every
allocation is an append-only row (database triggers refuse UPDATE and DELETE, SECURITY.md LG1); a mistake
is undone by a reversal row that points to the row it reverses (reversed at most once: a unique index).

Public API (besides the models):

- ``receive(donation, user)``                  called when goods pass the safety check: a stock item and its
                                                ``in`` movement (``services.check_goods`` calls it)
- ``restrict(donation, data, user)``           a campaign, an activity or a named recipient, before any use
- ``use_goods(item, data, user)``              an ``activity`` or ``beneficiary`` movement out of stock
- ``allocate(donation, data, user)``           money (fen) allocated to a purpose / campaign / activity
- ``reverse_movement(m, reason, user)`` / ``reverse_allocation(a, reason, user)``
- ``verify()``                                 ``timebank check``: stock, allocations and receipts reconcile
- ``use_summary(team, year)``                  the public page's "how they were used": totals, no names

Quantities never go below zero, also under concurrent requests: the item row is locked (``FOR UPDATE`` on
PostgreSQL; SQLite's write transactions are ``BEGIN IMMEDIATE``) and the stock is taken by a conditional
``UPDATE … SET on_hand = on_hand - n WHERE on_hand >= n`` backed by a CHECK constraint. Money: the donation
row is locked the same way before its allocations are summed (fen, never a float).
"""
from __future__ import annotations

import datetime as _dt

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, inputs, money
from core.db import BaseModel, DateTimeTZField, for_update, now, today, transaction
from core.errors import FieldErrors
from core.money import MoneyField
from core.settings import PluginSettings
from plugins.teams.models import Team

from .models import Donation

SETTINGS = PluginSettings(__file__)
USES = {"activity": _l("Used for an activity"), "beneficiary": _l("Handed to a beneficiary")}
MOVEMENT_KINDS = {"in": _l("Into stock (accepted)"), **USES, "reversal": _l("Reversal")}
STOCK_PERMS = [("giving.stock.view", _l("View donated goods in stock and their movements")),
               ("giving.stock.use", _l("Use donated goods and reverse stock movements")),
               ("giving.allocation.view", _l("View allocations of donated money")),
               ("giving.allocation.record", _l("Allocate donated money and reverse allocations"))]
APPEND_ONLY = ("giving_stock_movement", "giving_allocation")


# ------------------------------------------------------------------------------------------ models
class Restriction(BaseModel):
    """What a restricted gift may be used for besides its ``purpose`` and ``beneficiary`` (on the donation):
    a campaign, an activity (id in the activities plugin) or a recipient (id in the recipients plugin).
    Set once, before the gift is used."""
    donation = pw.ForeignKeyField(Donation, backref="+", on_delete="RESTRICT", unique=True)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    campaign = pw.CharField(max_length=200, default="")
    activity_id = pw.BigIntegerField(null=True)
    recipient_id = pw.BigIntegerField(null=True)
    created_at = DateTimeTZField(default=now)
    created_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "giving_restriction"


class StockItem(BaseModel):
    """One accepted goods donation line in stock. ``on_hand`` is the sum of its movements (checked by
    ``timebank check``), kept on the row so that taking stock is one guarded UPDATE."""
    donation = pw.ForeignKeyField(Donation, backref="+", on_delete="RESTRICT", unique=True)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    property_type = pw.CharField(max_length=100)
    description = pw.TextField(default="")
    unit = pw.CharField(max_length=20)
    expiry_on = pw.DateField(null=True)
    received = pw.BigIntegerField(constraints=[pw.Check("received > 0")])
    on_hand = pw.BigIntegerField(constraints=[pw.Check("on_hand >= 0")])
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "giving_stock_item"

    def __str__(self):
        return f"{self.property_type} #{self.donation_id}"


class StockMovement(BaseModel):
    """Append-only: ``in`` (+received), ``activity`` / ``beneficiary`` (−used), ``reversal`` (the opposite
    of the row it ``reverses``). ``beneficiary`` is free text when no recipient id is given."""
    item = pw.ForeignKeyField(StockItem, backref="movements", on_delete="RESTRICT", index=True)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    kind = pw.CharField(max_length=12, constraints=[
        pw.Check("kind IN ('in', 'activity', 'beneficiary', 'reversal')")])
    change = pw.BigIntegerField(constraints=[pw.Check("change <> 0")])
    purpose = pw.CharField(max_length=300, default="")
    campaign = pw.CharField(max_length=200, default="")
    activity_id = pw.BigIntegerField(null=True)
    recipient_id = pw.BigIntegerField(null=True)
    beneficiary = pw.CharField(max_length=200, default="")
    note = pw.CharField(max_length=500, default="")
    reverses = pw.ForeignKeyField("self", null=True, unique=True, on_delete="RESTRICT", backref="+")
    created_at = DateTimeTZField(default=now, index=True)
    created_by = pw.IntegerField(null=True)

    PERSONAL_FIELDS = ("beneficiary",)

    class Meta:
        table_name = "giving_stock_movement"

    def __str__(self):
        return f"#{self.id}"


class Allocation(BaseModel):
    """Append-only: money of one donation allocated to a purpose (fen > 0), or a reversal (the negative
    of the row it ``reverses``)."""
    donation = pw.ForeignKeyField(Donation, backref="+", on_delete="RESTRICT", index=True)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    amount = MoneyField(negative=True)
    purpose = pw.CharField(max_length=300, default="")
    campaign = pw.CharField(max_length=200, default="")
    activity_id = pw.BigIntegerField(null=True)
    recipient_id = pw.BigIntegerField(null=True)
    beneficiary = pw.CharField(max_length=200, default="")
    note = pw.CharField(max_length=500, default="")
    reverses = pw.ForeignKeyField("self", null=True, unique=True, on_delete="RESTRICT", backref="+")
    created_at = DateTimeTZField(default=now, index=True)
    created_by = pw.IntegerField(null=True)

    PERSONAL_FIELDS = ("beneficiary",)

    class Meta:
        table_name = "giving_allocation"
        constraints = [pw.SQL("CHECK (amount <> 0)")]

    def __str__(self):
        return f"#{self.id}"


MODELS = [Restriction, StockItem, StockMovement, Allocation]


# ----------------------------------------------------------------------------------------- helpers
def _user(user):
    return user if hasattr(user, "username") else None


def _uid(user):
    return getattr(_user(user), "id", None)


def _require_team(user, team_id):
    from .services import _require_team as require
    require(user, team_id)


def _loaded(name: str) -> bool:
    from flask import current_app
    try:
        return name in current_app.extensions["timebank"].loaded
    except (RuntimeError, KeyError, AttributeError):
        return False


def _text(data, name, max_length=200) -> str:
    return inputs.normalize(data.get(name) or "").strip()[:max_length]


def activity_title(activity_id) -> str:
    """The title of an activity (public information), or ``#id`` when the activities plugin is not loaded."""
    if activity_id is None:
        return ""
    if _loaded("activities"):
        from plugins.activities import services as activities
        a = activities.Activity.get_or_none(activities.Activity.id == activity_id)
        if a is not None:
            return a.title
    return f"#{activity_id}"


def _activity(data, errors, team_id, *, required=False):
    """An activity id of the donation's team when the activities plugin is loaded (else refused: name the
    activity in the purpose instead)."""
    raw = inputs.normalize(data.get("activity_id") or "")
    if not raw:
        if required and _loaded("activities"):
            errors["activity_id"] = _l("Choose the activity the goods are used for.")
        return None
    aid = inputs.parse_id(raw)
    if aid is None or not _loaded("activities"):
        errors["activity_id"] = _l("No such activity of this team.")
        return None
    from plugins.activities import services as activities
    a = activities.Activity.get_or_none(activities.Activity.id == aid)
    if a is None or a.team_id != team_id:
        errors["activity_id"] = _l("No such activity of this team.")
        return None
    return aid


def _recipient(data, errors, user):
    """A recipient id through the recipients plugin's public API (``get_scoped(id, user)``), when loaded."""
    raw = inputs.normalize(data.get("recipient_id") or "")
    if not raw:
        return None
    rid = inputs.parse_id(raw)
    found = None
    if rid is not None and _loaded("recipients"):
        try:
            from plugins.recipients.services import get_scoped
            found = get_scoped(rid, user)
        except ImportError:  # pragma: no cover - a site with an older recipients plugin
            found = None
    if found is None:
        errors["recipient_id"] = _l("No such service recipient.")
        return None
    return rid


def restriction_of(d: Donation) -> dict:
    """What a gift is restricted to: purpose, campaign, activity, designated beneficiary (name or recipient
    id). Empty values are no restriction."""
    r = Restriction.get_or_none(Restriction.donation == d.id)
    return {"purpose": d.purpose or "", "beneficiary": d.beneficiary or "",
            "campaign": r.campaign if r else "", "activity_id": r.activity_id if r else None,
            "recipient_id": r.recipient_id if r else None}


def is_restricted(d: Donation) -> bool:
    return any(restriction_of(d).values())


def _check_restriction(d: Donation, use: dict, errors: dict, *, goods: bool):
    """R-DON-1 / 慈善法: a restricted gift is used for its restriction only (clear message per field)."""
    r = restriction_of(d)
    if r["purpose"] and use["purpose"] != r["purpose"]:
        errors["purpose"] = _l("This gift is restricted to the purpose “%(p)s”: it cannot be used for "
                               "another purpose.", p=r["purpose"])
    if r["campaign"] and use["campaign"] != r["campaign"]:
        errors["campaign"] = _l("This gift is restricted to the campaign “%(c)s”.", c=r["campaign"])
    if r["activity_id"] is not None and use["activity_id"] != r["activity_id"]:
        errors["activity_id"] = _l("This gift is restricted to the activity “%(a)s”.",
                                   a=activity_title(r["activity_id"]))
    designated = r["recipient_id"] is not None or r["beneficiary"]
    if designated:
        if goods and use.get("kind") != "beneficiary":
            errors["use"] = _l("This gift is for a designated beneficiary: hand it to them.")
        elif r["recipient_id"] is not None:
            if use["recipient_id"] != r["recipient_id"]:
                errors["recipient_id"] = _l("This gift is for a designated beneficiary only.")
        elif use["beneficiary"] != r["beneficiary"]:
            errors["beneficiary"] = _l("This gift is for the designated beneficiary “%(b)s” only.",
                                       b=r["beneficiary"])


def _use_fields(data, errors, team_id, user) -> dict:
    use = {"purpose": _text(data, "purpose", 300), "campaign": _text(data, "campaign"),
           "beneficiary": _text(data, "beneficiary"), "note": _text(data, "note", 500)}
    use["activity_id"] = _activity(data, errors, team_id)
    use["recipient_id"] = _recipient(data, errors, user)
    return use


# ------------------------------------------------------------------------------------------ stock
def receive(donation: Donation, user=None) -> StockItem:
    """Goods accepted after the safety check go into stock: one item per donation line (property type,
    unit, quantity, expiry) and its ``in`` movement. Idempotent: a second call returns the item."""
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if d.kind != "goods" or d.status != "accepted":
            raise FieldErrors(_l("Only accepted goods go into stock."))
        item = StockItem.get_or_none(StockItem.donation == d.id)
        if item is not None:
            return item
        item = StockItem.create(donation=d, team=d.team_id, property_type=d.property_type,
                                description=d.description, unit=d.unit, expiry_on=d.expiry_on,
                                received=d.quantity, on_hand=d.quantity)
        StockMovement.create(item=item, team=d.team_id, kind="in", change=d.quantity, purpose=d.purpose,
                             created_by=_uid(user))
        audit.log("giving.stock.received", item, {"donation_id": d.id, "quantity": d.quantity},
                  user=_user(user))
    return item


def restrict(donation: Donation, data: dict, user=None) -> Restriction:
    """Record a campaign, an activity or a recipient the donor restricted the gift to. Only before the gift
    is used (a restriction added later would not bind what was already used)."""
    _require_team(user, donation.team_id)
    errors: dict = {}
    campaign = _text(data, "campaign")
    activity_id = _activity(data, errors, donation.team_id)
    recipient_id = _recipient(data, errors, user)
    if not errors and not (campaign or activity_id or recipient_id):
        errors["campaign"] = _l("Give the campaign, the activity or the recipient the gift is restricted to.")
    if errors:
        raise FieldErrors(errors)
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if Restriction.get_or_none(Restriction.donation == d.id) is not None:
            raise FieldErrors(_l("The restriction of this gift is recorded already."))
        used = (StockMovement.select().join(StockItem).where((StockItem.donation == d.id)
                                                            & (StockMovement.kind != "in")).exists()
                or Allocation.select().where(Allocation.donation == d.id).exists())
        if used:
            raise FieldErrors(_l("This gift has been used already: its restriction can no longer be added."))
        r = Restriction.create(donation=d, team=d.team_id, campaign=campaign, activity_id=activity_id,
                               recipient_id=recipient_id, created_by=_uid(user))
        audit.log("giving.restriction.recorded", d, {"campaign": campaign, "activity_id": activity_id,
                                                     "recipient_id": recipient_id}, user=_user(user))
    return r


def use_goods(item: StockItem, data: dict, user=None) -> StockMovement:
    """Goods leave stock: ``use`` is ``activity`` (for an activity: its id when the activities plugin is
    loaded) or ``beneficiary`` (a recipient id when the recipients plugin is loaded, else a name);
    ``quantity`` at most what is on hand, checked under the item's lock. Nothing is written on an error."""
    _require_team(user, item.team_id)
    errors: dict = {}
    kind = data.get("use") or ""
    if kind not in USES:
        errors["use"] = _l("Choose whether the goods are used for an activity or handed to a beneficiary.")
    try:
        quantity = inputs.parse_int(data.get("quantity"), min=1, max=SETTINGS.get("max_goods_quantity"),
                                    field="quantity")
    except inputs.InputError as e:
        errors.update(e.errors)
        quantity = None
    use = _use_fields(data, errors, item.team_id, user)
    use["kind"] = kind
    if kind == "activity":
        if use["activity_id"] is None and "activity_id" not in errors:
            if _loaded("activities"):
                errors["activity_id"] = _l("Choose the activity the goods are used for.")
            elif not use["purpose"]:
                errors["purpose"] = _l("Name the activity the goods are used for.")
        use["beneficiary"], use["recipient_id"] = "", None
    elif kind == "beneficiary" and not use["beneficiary"] and use["recipient_id"] is None \
            and "recipient_id" not in errors:
        errors["beneficiary"] = _l("Name the person or body the goods are handed to.")
    d = Donation.get_by_id(item.donation_id)
    _check_restriction(d, use, errors, goods=True)
    if errors:
        raise FieldErrors(errors)
    with transaction():
        it = for_update(StockItem.select().where(StockItem.id == item.id)).get()
        taken = (StockItem.update(on_hand=StockItem.on_hand - quantity)
                 .where((StockItem.id == it.id) & (StockItem.on_hand >= quantity)).execute())
        if not taken:
            raise FieldErrors({"quantity": _l("Only %(n)s %(unit)s in stock.", n=it.on_hand, unit=it.unit)})
        m = StockMovement.create(item=it, team=it.team_id, kind=kind, change=-quantity, purpose=use["purpose"],
                                 campaign=use["campaign"], activity_id=use["activity_id"],
                                 recipient_id=use["recipient_id"], beneficiary=use["beneficiary"],
                                 note=use["note"], created_by=_uid(user))
        audit.log("giving.stock.used", m, {"item_id": it.id, "kind": kind, "quantity": quantity,
                                           "activity_id": use["activity_id"], "recipient_id": use["recipient_id"]},
                  user=_user(user))
    return m


def reverse_movement(movement: StockMovement, reason: str, user=None) -> StockMovement:
    """Undo a movement with a reversal that points to it (LG1). Reversed at most once; a reversal is not
    reversed; stock never goes below zero (undoing an ``in`` needs the goods still on hand)."""
    _require_team(user, movement.team_id)
    reason = inputs.normalize(reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Give the reason for the reversal.")})
    if movement.kind == "reversal":
        raise FieldErrors(_l("A reversal cannot be reversed; record a new movement instead."))
    with transaction():
        it = for_update(StockItem.select().where(StockItem.id == movement.item_id)).get()
        if StockMovement.select().where(StockMovement.reverses == movement.id).exists():
            raise FieldErrors(_l("This entry was reversed already."))
        change = -movement.change
        done = (StockItem.update(on_hand=StockItem.on_hand + change)
                .where((StockItem.id == it.id) & (StockItem.on_hand + change >= 0)).execute())
        if not done:
            raise FieldErrors(_l("Only %(n)s %(unit)s in stock.", n=it.on_hand, unit=it.unit))
        r = StockMovement.create(item=it, team=it.team_id, kind="reversal", change=change,
                                 purpose=movement.purpose, campaign=movement.campaign,
                                 activity_id=movement.activity_id, reverses=movement.id, note=reason[:500],
                                 created_by=_uid(user))
        audit.log("giving.stock.reversed", movement, {"reversal_id": r.id, "change": change,
                                                      "reason": reason[:500]}, user=_user(user))
    return r


# ------------------------------------------------------------------------------------------ money
def allocated(donation_id: int) -> int:
    """Fen allocated from a money donation so far (reversals included)."""
    return Allocation.select(money.total(Allocation.amount)).where(Allocation.donation == donation_id).scalar() or 0


def allocate(donation: Donation, data: dict, user=None) -> Allocation:
    """Allocate money of an accepted money donation to a purpose (``amount`` as typed → fen), a campaign, an
    activity or a beneficiary; at most what is left of the gift (checked under the donation's lock);
    a restricted gift only for its restriction."""
    _require_team(user, donation.team_id)
    errors: dict = {}
    try:
        amount = money.parse(data.get("amount"), min=1, field="amount")
    except inputs.InputError as e:
        errors.update(e.errors)
        amount = None
    use = _use_fields(data, errors, donation.team_id, user)
    if not (use["purpose"] or use["campaign"] or use["activity_id"] or use["beneficiary"]
            or use["recipient_id"]) and not errors:
        errors["purpose"] = _l("Say what the money is used for.")
    _check_restriction(donation, use, errors, goods=False)
    if errors:
        raise FieldErrors(errors)
    with transaction():
        d = for_update(Donation.select().where(Donation.id == donation.id)).get()
        if d.kind != "money" or d.status != "accepted":
            raise FieldErrors(_l("Only accepted money is allocated."))
        left = d.amount - allocated(d.id)
        if amount > left:
            raise FieldErrors({"amount": _l("Only %(left)s of this gift is not allocated yet.",
                                            left=money.fmt(left, grouping=True))})
        a = Allocation.create(donation=d, team=d.team_id, amount=amount, purpose=use["purpose"],
                              campaign=use["campaign"], activity_id=use["activity_id"],
                              recipient_id=use["recipient_id"], beneficiary=use["beneficiary"],
                              note=use["note"], created_by=_uid(user))
        audit.log("giving.allocation.recorded", a, {"donation_id": d.id, "amount_fen": amount,
                                                    "purpose": use["purpose"]}, user=_user(user))
    return a


def reverse_allocation(allocation: Allocation, reason: str, user=None) -> Allocation:
    """Undo an allocation with a negative one that points to it; at most once; a reversal is not reversed."""
    _require_team(user, allocation.team_id)
    reason = inputs.normalize(reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Give the reason for the reversal.")})
    if allocation.reverses_id is not None:
        raise FieldErrors(_l("A reversal cannot be reversed; record a new movement instead."))
    with transaction():
        for_update(Donation.select().where(Donation.id == allocation.donation_id)).get()
        if Allocation.select().where(Allocation.reverses == allocation.id).exists():
            raise FieldErrors(_l("This entry was reversed already."))
        r = Allocation.create(donation=allocation.donation_id, team=allocation.team_id,
                              amount=-allocation.amount, purpose=allocation.purpose,
                              campaign=allocation.campaign, activity_id=allocation.activity_id,
                              recipient_id=allocation.recipient_id, beneficiary=allocation.beneficiary,
                              note=reason[:500], reverses=allocation.id, created_by=_uid(user))
        audit.log("giving.allocation.reversed", allocation, {"reversal_id": r.id, "reason": reason[:500]},
                  user=_user(user))
    return r


# ------------------------------------------------------------------------------------------ check
def verify() -> dict[str, list[str]]:
    """``timebank check`` (issue 15 point 4): per stock item, on hand = in − out ≥ 0 and the item matches its
    accepted donation; every accepted goods donation is in stock; a reversal mirrors the row it reverses;
    per money donation, allocations ≤ money received and ≥ 0, for its restricted purpose only; every
    accepted donation has a valid or waived receipt (or an anonymous donor) once ``receipt_due_workdays``
    working days have passed since it was recorded."""
    stock, alloc, receipts = [], [], []
    sums = dict(StockMovement.select(StockMovement.item, pw.fn.SUM(StockMovement.change))
                .group_by(StockMovement.item).tuples())
    for it in StockItem.select(StockItem, Donation).join(Donation):
        total = int(sums.get(it.id) or 0)
        if total != it.on_hand or total < 0:
            stock.append(f"stock item {it.id}: movements sum to {total}, on hand {it.on_hand}")
        d = it.donation
        if d.kind != "goods" or d.status != "accepted" or d.quantity != it.received:
            stock.append(f"stock item {it.id}: donation {d.id} is not {it.received} accepted goods")
        if it.team_id != d.team_id:
            stock.append(f"stock item {it.id}: team differs from donation {d.id}")
    missing = (Donation.select(Donation.id).join(StockItem, pw.JOIN.LEFT_OUTER, on=(StockItem.donation == Donation.id))
               .where((Donation.kind == "goods") & (Donation.status == "accepted") & StockItem.id.is_null()))
    stock += [f"donation {d.id}: accepted goods not in stock" for d in missing]
    for table, label in ((StockMovement, "movement"), (Allocation, "allocation")):
        orig = table.alias()
        amount = table.change if table is StockMovement else table.amount
        oamount = orig.change if table is StockMovement else orig.amount
        owner = table.item if table is StockMovement else table.donation
        oowner = orig.item if table is StockMovement else orig.donation
        q = (table.select(table.id, amount.alias("v"), oamount.alias("ov"), owner.alias("o"), oowner.alias("oo"))
             .join(orig, on=(table.reverses == orig.id)).tuples())
        out = stock if table is StockMovement else alloc
        for rid, v, ov, o, oo in q:
            if v != -ov or o != oo:
                out.append(f"{label} {rid}: does not mirror the entry it reverses")
        if table is StockMovement:
            bad = table.select(table.id).where(((table.kind == "reversal") & table.reverses.is_null())
                                               | ((table.kind != "reversal") & table.reverses.is_null(False)))
            out += [f"movement {m.id}: reversal kind and link disagree" for m in bad]
    given = dict(Allocation.select(Allocation.donation, pw.fn.SUM(Allocation.amount))
                 .group_by(Allocation.donation).tuples())
    for d in Donation.select().where(Donation.id.in_(list(given) or [0])):
        s = int(given[d.id] or 0)
        if d.kind != "money" or d.status != "accepted":
            alloc.append(f"donation {d.id}: allocations from what is not accepted money")
        elif s > d.amount or s < 0:
            alloc.append(f"donation {d.id}: allocated {s} fen of {d.amount} received")
    by_purpose = (Allocation.select(Allocation.id, Allocation.purpose, Donation.purpose.alias("restricted"))
                  .join(Donation).where((Donation.purpose != "") & (Allocation.purpose != Donation.purpose)
                                        & Allocation.reverses.is_null()).tuples())
    alloc += [f"allocation {a}: purpose “{p}” outside the restriction “{r}”" for a, p, r in by_purpose]
    from core.db import TZ
    from core.workdays import workdays_between
    from .models import Donor
    due = SETTINGS.get("receipt_due_workdays")
    for d in (Donation.select(Donation.id, Donation.created_at, Donation.receipt_state, Donor.kind)
              .join(Donor).where((Donation.status == "accepted") & (Donation.receipt_state == "none"))):
        if d.donor.kind == "anonymous":
            continue
        if workdays_between(d.created_at.astimezone(TZ).date(), today()) > due:
            receipts.append(f"donation {d.id}: accepted without a receipt for more than {due} working days")
    return {"giving.stock": stock, "giving.allocations": alloc, "giving.receipts_due": receipts}


# ------------------------------------------------------------------------------------- disclosure
def use_summary(team: Team, year: int) -> dict:
    """"How they were used" for the public page (R-DON-4): goods used (net of reversals) by purpose or
    activity, property type and unit; money allocated (net) by purpose or activity, in fen. No beneficiary
    names, no recipient ids."""
    from core.db import TZ
    start = _dt.datetime(year, 1, 1, tzinfo=TZ)
    end = _dt.datetime(year + 1, 1, 1, tzinfo=TZ)
    goods: dict = {}
    q = (StockMovement.select(StockMovement, StockItem).join(StockItem)
         .where((StockMovement.team == team.id) & (StockMovement.kind != "in")
                & (StockMovement.created_at >= start) & (StockMovement.created_at < end)))
    for m in q:
        if m.kind == "reversal":
            orig = StockMovement.get_by_id(m.reverses_id)
            if orig.kind == "in":
                continue
        key = (_what(m), m.item.property_type, m.item.unit)
        goods[key] = goods.get(key, 0) - m.change
    cash: dict = {}
    for a in Allocation.select().where((Allocation.team == team.id) & (Allocation.created_at >= start)
                                       & (Allocation.created_at < end)):
        key = _what(a)
        cash[key] = cash.get(key, 0) + a.amount
    return {"goods": sorted((k + (n,) for k, n in goods.items() if n), key=lambda r: r[:3]),
            "money": sorted(((k, v) for k, v in cash.items() if v), key=lambda r: r[0]),
            "money_total": sum(cash.values())}


def _what(row) -> str:
    """The public label of a use: the activity's title, the campaign, or the purpose; never a name."""
    if row.activity_id is not None:
        return _("Activity: %(t)s", t=activity_title(row.activity_id))
    if row.campaign:
        return _("Campaign: %(c)s", c=row.campaign)
    return row.purpose or _("Help to beneficiaries")


# ------------------------------------------------------------------------------------- annual report
def report_use_rows(team: Team, year: int) -> list[tuple]:
    """The annual report's "use of donations" section (R-DON-4), from ``use_summary``: goods used as
    "quantity unit" and money allocated as Decimal yuan, by purpose, campaign or activity."""
    from core import money
    s = use_summary(team, year)
    rows = [(f"{what} · {ptype}", None, f"{n} {unit}") for what, ptype, unit, n in s["goods"]]
    rows += [(what, None, money.to_decimal(fen)) for what, fen in s["money"]]
    if s["money"]:
        rows.append((_("Money allocated in total"), None, money.to_decimal(s["money_total"])))
    return rows or [(_("None"), None, "")]


def _register_report_section():
    from .report import register_section
    register_section("use_of_donations", _l("Use of donations"), report_use_rows, order=35)


_register_report_section()
