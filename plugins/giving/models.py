"""捐赠与票据 (R-DON-1..3): donors, donations of money or goods, and numbered receipts.

Every row belongs to a team (the receiving organisation, AC6). Money is an int of fen (core.money).
Goods wait for the receiving staff's check (安全、卫生、环保, R-DON-1) before they are accepted; refused
goods keep their reason. A receipt is never edited: it is voided with a reason and its number stays used
(core.numbering, LG7); a donation whose receipt was voided gets a new receipt with the next number.
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from core.crypto import EncryptedField
from core.db import BaseModel, DateTimeTZField, now
from core.money import MoneyField
from plugins.teams.models import Team

DONOR_KINDS = {"person": _l("Individual donor"), "organisation": _l("Organisation"), "anonymous": _l("Anonymous")}
DONATION_KINDS = {"money": _l("Money"), "goods": _l("Goods")}
CHANNELS = {"bank": _l("Bank transfer"), "cash": _l("Cash"), "online": _l("Online platform"),
            "other": _l("Other channel")}
STATUSES = {"pending_check": _l("Waiting for the safety check"), "accepted": _l("Accepted"),
            "refused": _l("Refused")}
RECEIPT_STATES = {"none": _l("Not issued"), "issued": _l("Issued"), "waived": _l("Waived by the donor")}


class Donor(BaseModel):
    """A person, an organisation or an anonymous giver. Phone and ID number are encrypted (PR1) and shown
    masked; ``disclose_name`` is the donor's consent to be named on the public page (R-DON-4)."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    kind = pw.CharField(max_length=16, constraints=[pw.Check("kind IN ('person', 'organisation', 'anonymous')")])
    name = pw.CharField(max_length=200, default="")
    phone = EncryptedField(context="giving.donor.phone", default="")
    id_number = EncryptedField(context="giving.donor.id_number", default="")   # ID or 统一社会信用代码
    address = pw.CharField(max_length=300, default="")
    disclose_name = pw.BooleanField(default=False)
    created_at = DateTimeTZField(default=now)

    PERSONAL_FIELDS = ("name", "address")

    class Meta:
        table_name = "giving_donor"

    def __str__(self):
        return self.name if self.kind != "anonymous" else str(_l("Anonymous donor"))


class Donation(BaseModel):
    """One gift. Money: ``amount`` (fen), ``channel``, ``donated_on``. Goods: property type, description,
    quantity and unit, condition, expiry, delivery time; accepted only after the safety check."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    donor = pw.ForeignKeyField(Donor, backref="donations", on_delete="RESTRICT", index=True)
    kind = pw.CharField(max_length=8, constraints=[pw.Check("kind IN ('money', 'goods')")])
    amount = MoneyField(null=True)
    channel = pw.CharField(max_length=16, default="")
    donated_on = pw.DateField()
    property_type = pw.CharField(max_length=100, default="")
    description = pw.TextField(default="")
    quantity = pw.IntegerField(null=True, constraints=[pw.Check("quantity IS NULL OR quantity > 0")])
    unit = pw.CharField(max_length=20, default="")
    condition = pw.CharField(max_length=200, default="")
    expiry_on = pw.DateField(null=True)
    delivery_on = pw.DateField(null=True)
    purpose = pw.CharField(max_length=300, default="")
    beneficiary = pw.CharField(max_length=200, default="")     # a designated beneficiary, if any
    wants_agreement = pw.BooleanField(default=False)
    status = pw.CharField(max_length=16, default="pending_check", index=True,
                          constraints=[pw.Check("status IN ('pending_check', 'accepted', 'refused')")])
    checked_at = DateTimeTZField(null=True)
    checked_by = pw.IntegerField(null=True)
    check_note = pw.TextField(default="")          # what the staff checked (安全、卫生、环保)
    refuse_reason = pw.TextField(default="")
    receipt_state = pw.CharField(max_length=8, default="none",
                                 constraints=[pw.Check("receipt_state IN ('none', 'issued', 'waived')")])
    waive_reason = pw.CharField(max_length=300, default="")
    created_at = DateTimeTZField(default=now, index=True)
    created_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "giving_donation"
        constraints = [pw.SQL("CHECK ((kind = 'money' AND amount > 0) OR "
                              "(kind = 'goods' AND quantity > 0 AND amount IS NULL))")]

    def __str__(self):
        return f"#{self.id}"


class Receipt(BaseModel):
    """捐赠票据 (R-DON-3): what it states is copied when issued and never edited; a voided receipt keeps
    its number and reason."""
    number = pw.CharField(max_length=40)         # unique per team: each organisation numbers its own
    donation = pw.ForeignKeyField(Donation, backref="receipts", on_delete="RESTRICT", index=True)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)
    donor_name = pw.CharField(max_length=200)       # "匿名" for an anonymous donor
    anonymous = pw.BooleanField(default=False)
    property_type = pw.CharField(max_length=100)
    quantity_text = pw.CharField(max_length=100)    # "¥1,000.00" or "20 箱"
    organisation = pw.CharField(max_length=200)
    handler = pw.CharField(max_length=100)
    issued_on = pw.DateField()
    issued_at = DateTimeTZField(default=now)
    issued_by = pw.IntegerField(null=True)
    status = pw.CharField(max_length=8, default="issued", index=True,
                          constraints=[pw.Check("status IN ('issued', 'voided')")])
    void_reason = pw.CharField(max_length=500, default="")
    voided_at = DateTimeTZField(null=True)
    voided_by = pw.IntegerField(null=True)
    official_number = pw.CharField(max_length=64, default="")   # 财政票据 number, when one is issued

    PERSONAL_FIELDS = ("donor_name",)

    class Meta:
        table_name = "giving_receipt"
        indexes = ((("team", "number"), True),)

    def __str__(self):
        return self.number


MODELS = [Donor, Donation, Receipt]
