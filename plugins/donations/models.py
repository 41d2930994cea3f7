"""Donations of time points (积分捐赠, R-TB-3) and campaigns (积分募集, R-TB-4).

Points never live here: every point moves through the ledger plugin (``plugins.ledger.services``).
These tables hold what the ledger does not: who a beneficiary is, a campaign's terms, and for each
donation the donor's message and anonymity, linked to its ledger transfer. Donations and refunds are
append-only (database triggers, like the ledger's own tables): a refund is a new row pointing to the
donation and to the reversing ledger transfer, never an edit.
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from core.db import BaseModel, DateTimeTZField, now
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

BENEFICIARY_CATEGORIES = {
    "elderly": _l("Elderly person living alone or in difficulty"),
    "disabled": _l("Person with a disability"),
    "child": _l("Child or student in difficulty"),
    "family": _l("Family in difficulty"),
    "group": _l("Group or community facility"),
    "other": _l("Other person in need"),
}
CAMPAIGN_STATUS = {"draft": _l("Draft"), "open": _l("Raising points"), "closed": _l("Closed"),
                   "cancelled": _l("Cancelled")}


class Beneficiary(BaseModel):
    """A person in need or a group that receives donated points, vouched for by a team (which later
    applies the points for services or goods for them). Personal data is kept minimal on purpose:
    a display name (a nickname or 张阿姨 is enough), a category and a short description; no phone,
    no ID number, no address (PR1: nothing sensitive to encrypt or leak)."""
    name = pw.CharField(max_length=50)                        # display name, e.g. 西湖社区张阿姨
    category = pw.CharField(max_length=12, default="other", index=True)
    description = pw.TextField(default="")
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)  # who vouches
    active = pw.BooleanField(default=True, index=True)
    created_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    PERSONAL_FIELDS = ("name", "description")   # a service recipient (privacy plugin's tag)

    class Meta:
        table_name = "donations_beneficiary"

    def __str__(self):
        return self.name

    @property
    def account_code(self):
        return f"beneficiary:{self.id}"


class Campaign(BaseModel):
    """积分募集: a team raises points for a purpose until a deadline (a calendar date, Asia/Shanghai,
    inclusive). draft → open → closed (by hand or when the deadline passes), or cancelled before any
    point is held. The ledger account ``campaign:<id>`` is opened with the title when it opens; the
    terms cannot change after that (the donors gave to them)."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    title = pw.CharField(max_length=100)
    purpose = pw.TextField()
    goal = pw.BigIntegerField(constraints=[pw.Check("goal > 0")])
    deadline = pw.DateField(index=True)
    status = pw.CharField(max_length=10, default="draft", index=True)
    created_by = pw.IntegerField(null=True)
    account_code = pw.CharField(max_length=64, default="")
    created_at = DateTimeTZField(default=now)
    opened_at = DateTimeTZField(null=True)
    closed_at = DateTimeTZField(null=True)
    close_reason = pw.CharField(max_length=200, default="")

    class Meta:
        table_name = "donations_campaign"
        constraints = [pw.SQL("CHECK (status IN ('draft', 'open', 'closed', 'cancelled'))")]

    def __str__(self):
        return self.title


class Donation(BaseModel):
    """One donation: the ledger transfer (kind ``donation``) plus what the ledger does not keep.
    Exactly one of ``campaign`` / ``beneficiary`` is set. Append-only."""
    transfer_id = pw.BigIntegerField(unique=True)             # plugins.ledger Transfer id
    idempotency_key = pw.CharField(max_length=200, unique=True)  # the ledger key of the transfer
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="RESTRICT", index=True)
    campaign = pw.ForeignKeyField(Campaign, null=True, backref="donations", on_delete="RESTRICT", index=True)
    beneficiary = pw.ForeignKeyField(Beneficiary, null=True, backref="donations", on_delete="RESTRICT",
                                     index=True)
    amount = pw.BigIntegerField(constraints=[pw.Check("amount > 0")])
    message = pw.CharField(max_length=200, default="")
    anonymous = pw.BooleanField(default=False)
    operator_id = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now, index=True)

    class Meta:
        table_name = "donations_donation"
        constraints = [pw.SQL("CHECK ((campaign_id IS NULL) <> (beneficiary_id IS NULL))")]

    def __str__(self):
        return f"#{self.id}"

    @property
    def target(self):
        return self.campaign if self.campaign_id else self.beneficiary


class Refund(BaseModel):
    """A donation given back to the donor (platform admins, with a reason): the reversing ledger
    transfer. At most one per donation. Append-only."""
    donation = pw.ForeignKeyField(Donation, unique=True, backref="+", on_delete="RESTRICT")
    transfer_id = pw.BigIntegerField(unique=True)             # the reversal in the ledger
    reason = pw.TextField()
    operator_id = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "donations_refund"


class Spend(BaseModel):
    """Raised (or donated) points applied for resources: the ledger transfer from the campaign's or
    beneficiary's account to ``system:redemption``, with the purpose. Append-only."""
    transfer_id = pw.BigIntegerField(unique=True)
    idempotency_key = pw.CharField(max_length=200, unique=True)
    campaign = pw.ForeignKeyField(Campaign, null=True, backref="+", on_delete="RESTRICT", index=True)
    beneficiary = pw.ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="RESTRICT", index=True)
    amount = pw.BigIntegerField(constraints=[pw.Check("amount > 0")])
    purpose = pw.TextField()
    operator_id = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "donations_spend"
        constraints = [pw.SQL("CHECK ((campaign_id IS NULL) <> (beneficiary_id IS NULL))")]


MODELS = [Beneficiary, Campaign, Donation, Refund, Spend]
APPEND_ONLY = ("donations_donation", "donations_refund", "donations_spend")
# personal free text in append-only rows that a subject's erasure blanks (core.db.append_only erasable;
# issue 13 Done means): a donor's message, a refund's reason
ERASABLE = {"donations_donation": ("message",), "donations_refund": ("reason",)}

