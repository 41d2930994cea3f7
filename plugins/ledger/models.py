"""The points ledger (R-TB-1…5, SECURITY.md LG1–LG7).

Double entry: every change of points is one ``Transfer`` from a debit account to a credit account,
written with its two ``Entry`` rows (−amount, +amount) and both accounts' new balances in one
transaction. Transfers, entries and hours credits are append-only (database triggers refuse UPDATE,
DELETE and TRUNCATE); a mistake is corrected by a reversing transfer that points to the original.
Each account keeps its balance with its entries, so reading one never sums history.
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from core.db import BaseModel, DateTimeTZField, now

KINDS = ("volunteer", "team", "campaign", "beneficiary", "system")
SYSTEM = {"issuance": _l("Points issued (system)"), "redemption": _l("Points redeemed (system)")}


class Account(BaseModel):
    """One holder of points. ``code`` is unique and readable: ``volunteer:12``, ``team:3``,
    ``campaign:5``, ``beneficiary:2``, ``system:issuance``, ``system:redemption``."""
    code = pw.CharField(max_length=64, unique=True)
    kind = pw.CharField(max_length=16, index=True)
    owner_id = pw.IntegerField(null=True, index=True)     # volunteer / team / campaign … id
    team_id = pw.IntegerField(null=True, index=True)      # the team an account belongs to (team, campaign)
    name = pw.CharField(max_length=200, default="")
    balance = pw.BigIntegerField(default=0)
    entry_count = pw.BigIntegerField(default=0)
    allow_negative = pw.BooleanField(default=False)       # only the system accounts
    # volunteers: confirmed minutes credited so far and the points minted from them (net)
    service_minutes = pw.BigIntegerField(default=0)
    training_minutes = pw.BigIntegerField(default=0)
    minted = pw.BigIntegerField(default=0)
    created_at = DateTimeTZField(default=now)

    PERSONAL_FIELDS = ("name",)   # a volunteer's name (privacy plugin's tag, issue 13 point 1)

    class Meta:
        table_name = "ledger_account"
        constraints = [pw.SQL("CHECK (allow_negative OR balance >= 0)")]  # LG3, in the database too

    def __str__(self):
        if self.kind == "system":
            return str(SYSTEM.get(self.code.partition(":")[2], self.code))
        return self.name or self.code


class Transfer(BaseModel):
    """Points moving from ``debit`` to ``credit``. ``idempotency_key`` makes every write replay-safe
    (LG4); ``reverses`` links a reversal to its original, at most once (unique)."""
    kind = pw.CharField(max_length=24, index=True)
    debit = pw.ForeignKeyField(Account, backref="+", on_delete="RESTRICT")
    credit = pw.ForeignKeyField(Account, backref="+", on_delete="RESTRICT")
    amount = pw.BigIntegerField(constraints=[pw.Check("amount > 0")])
    idempotency_key = pw.CharField(max_length=200, unique=True)
    payload_hash = pw.CharField(max_length=64)
    reverses = pw.ForeignKeyField("self", null=True, unique=True, backref="+", on_delete="RESTRICT")
    operator_id = pw.IntegerField(null=True)
    reason = pw.TextField(default="")
    reference = pw.CharField(max_length=100, default="", index=True)
    created_at = DateTimeTZField(default=now, index=True)

    class Meta:
        table_name = "ledger_transfer"
        constraints = [pw.SQL("CHECK (debit_id <> credit_id)")]

    def __str__(self):
        return f"#{self.id}"


class Entry(BaseModel):
    """One side of a transfer on one account, with the account's balance after it."""
    transfer = pw.ForeignKeyField(Transfer, backref="entries", on_delete="RESTRICT")
    account = pw.ForeignKeyField(Account, backref="entries", on_delete="RESTRICT")
    amount = pw.BigIntegerField()
    balance_after = pw.BigIntegerField()
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "ledger_entry"
        indexes = ((("account", "id"), False),)


class HoursCredit(BaseModel):
    """One version of one confirmed service record, as the ledger took it in (R-TB-1): the record's
    minutes at that version, the change against the version before, and the points it moved (0 when
    the minutes did not complete an hour, or the cap held them back). Append-only."""
    idempotency_key = pw.CharField(max_length=200, unique=True)   # service_record:<id>:v<version>
    record_id = pw.IntegerField(index=True)
    version = pw.IntegerField()
    account = pw.ForeignKeyField(Account, backref="+", on_delete="RESTRICT")
    team_id = pw.IntegerField(null=True, index=True)
    kind = pw.CharField(max_length=10)                            # service | training
    service_date = pw.DateField(null=True, index=True)
    minutes = pw.IntegerField()
    delta_minutes = pw.IntegerField()
    points = pw.BigIntegerField(default=0)
    transfer = pw.ForeignKeyField(Transfer, null=True, backref="+", on_delete="RESTRICT")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "ledger_hours_credit"
        indexes = ((("record_id", "version"), True),)


MODELS = [Account, Transfer, Entry, HoursCredit]
APPEND_ONLY = ("ledger_transfer", "ledger_entry", "ledger_hours_credit")
# personal free text in append-only rows that a subject's erasure blanks (core.db.append_only erasable;
# issue 13 Done means): a transfer's reason may carry a donor's message or a person's name
ERASABLE = {"ledger_transfer": ("reason",)}

