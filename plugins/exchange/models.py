"""积分兑换 (R-TB-2): partners, the services and goods they offer for time points, and redemptions.

Points never live here: a redemption points to the ledger transfer that debited them (and to the
reversal that refunded them); the ledger is the book of record (plugins/ledger). Stock is a plain
integer guarded by a CHECK constraint and decremented in one guarded statement, so it is never
oversold, whatever the concurrency (SECURITY.md CC3–CC5).
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from core.db import BaseModel, DateTimeTZField, now
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

KINDS = {"service": _l("Service offered"), "goods": _l("Goods")}
STATUSES = {"placed": _l("Placed"), "fulfilled": _l("Fulfilled"), "cancelled": _l("Cancelled")}


class Partner(BaseModel):
    """A business, social organisation or service station that offers items for points. A partner
    may be managed by a team (its admins then manage the partner and its items, AC6); a partner
    without a team is managed by the platform."""
    name = pw.CharField(max_length=200)
    contact = pw.CharField(max_length=200, default="")
    team = pw.ForeignKeyField(Team, null=True, backref="+", on_delete="RESTRICT", index=True)
    description = pw.TextField(default="")
    active = pw.BooleanField(default=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "exchange_partner"

    def __str__(self):
        return self.name


class Item(BaseModel):
    """A service or goods a partner offers: a price in whole points and a stock (never below zero)."""
    partner = pw.ForeignKeyField(Partner, backref="items", on_delete="RESTRICT")
    name = pw.CharField(max_length=200)
    kind = pw.CharField(max_length=10, default="goods", constraints=[pw.Check("kind IN ('service', 'goods')")])
    description = pw.TextField(default="")
    price = pw.IntegerField(constraints=[pw.Check("price > 0")])
    stock = pw.IntegerField(default=0, constraints=[pw.Check("stock >= 0")])
    active = pw.BooleanField(default=True, index=True)
    per_volunteer_limit = pw.IntegerField(null=True, constraints=[pw.Check(
        "per_volunteer_limit IS NULL OR per_volunteer_limit > 0")])
    created_at = DateTimeTZField(default=now)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "exchange_item"

    def __str__(self):
        return self.name


class Redemption(BaseModel):
    """One exchange: ``number`` is the receipt number (DH + year + 6 digits, sequential, LG7); the
    points were debited by ledger transfer ``transfer_id`` and, on cancellation, refunded by its
    reversal ``refund_transfer_id``. Cancelled redemptions keep their number (void status)."""
    number = pw.CharField(max_length=32, unique=True)
    idempotency_key = pw.CharField(max_length=200, null=True, unique=True)   # the caller's key (LG4)
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="RESTRICT", index=True)
    item = pw.ForeignKeyField(Item, backref="redemptions", on_delete="RESTRICT", index=True)
    item_name = pw.CharField(max_length=200, default="")       # as it was when redeemed
    unit_price = pw.IntegerField(constraints=[pw.Check("unit_price > 0")])
    quantity = pw.IntegerField(constraints=[pw.Check("quantity > 0")])
    points = pw.BigIntegerField(constraints=[pw.Check("points > 0")])
    status = pw.CharField(max_length=10, default="placed", index=True,
                          constraints=[pw.Check("status IN ('placed', 'fulfilled', 'cancelled')")])
    transfer_id = pw.IntegerField(null=True, unique=True)
    refund_transfer_id = pw.IntegerField(null=True, unique=True)
    created_at = DateTimeTZField(default=now, index=True)
    created_by = pw.IntegerField(null=True)
    fulfilled_at = DateTimeTZField(null=True)
    fulfilled_by = pw.IntegerField(null=True)
    cancelled_at = DateTimeTZField(null=True)
    cancelled_by = pw.IntegerField(null=True)
    cancel_reason = pw.TextField(default="")

    class Meta:
        table_name = "exchange_redemption"

    def __str__(self):
        return self.number


MODELS = [Partner, Item, Redemption]
TABLES = ("exchange_partner", "exchange_item", "exchange_redemption")
