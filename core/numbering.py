"""Numbered documents: gap-free numbers per (kind, scope, year), shared by every plugin (SECURITY.md LG7).

Certificates (``ZM2026000001``), exchange receipts (``DH2026000001``), donation receipts and archive
numbers all need the same thing: the next number of a sequence, unique, consecutive, never reused, and
none lost when the document that took it is rolled back. One helper::

    from core import numbering
    from core.db import transaction

    with transaction():                       # the transaction that writes the document
        number = numbering.take("giving.receipt", scope=f"team:{team.id}",
                                pattern="{prefix}{year}{seq:06d}", prefix="SJ")
        Receipt.create(number=number, ...)

- A sequence is one row of ``core_number_sequence`` per (``kind``, ``scope``, ``year``): ``kind`` names
  the document (``<plugin>.<thing>``), ``scope`` the organisation or whatever numbers separately
  (``"team:12"``; ``""`` for the whole site), ``year`` the year the numbering restarts in (today's by
  default; ``yearly=False`` for a sequence that never restarts, stored as year 0).
- The row is locked until the caller's transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` holds the write lock), so concurrent callers get distinct consecutive numbers, and a
  rolled-back document rolls its number back with it: the next caller gets the same number, no gap.
  Call it inside the transaction that writes the document (it opens its own when there is none).
- Every number taken is kept in the register ``core_number`` with its status: ``issued``, or
  ``voided`` with a reason (``void``): a voided number stays used and is never given again.
- ``pattern`` is a ``str.format`` pattern with ``{seq}``, ``{year}``, ``{scope}`` and the keyword fields
  given (``prefix=SETTINGS.get("receipt_prefix")``). Write it in code; pass what people type (a prefix
  setting) as a field, never as part of the pattern.
"""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .db import BaseModel, DateTimeTZField, for_update, now, today, transaction
from .errors import FieldErrors

__all__ = ["take", "next_seq", "void", "status", "peek", "seed", "gaps", "check", "NumberSequence",
           "IssuedNumber"]

ISSUED, VOIDED = "issued", "voided"


class NumberSequence(BaseModel):
    """The last number given in one sequence (kind, scope, year); locked while a number is taken."""
    kind = pw.CharField(max_length=64)
    scope = pw.CharField(max_length=64, default="")
    year = pw.IntegerField(default=0)          # 0: a sequence that never restarts
    value = pw.BigIntegerField(default=0)
    seeded = pw.BigIntegerField(default=0)    # values up to here were given before the register (seed)

    class Meta:
        table_name = "core_number_sequence"
        indexes = ((("kind", "scope", "year"), True),)


class IssuedNumber(BaseModel):
    """Every number given, with its status (LG7): ``issued`` or ``voided`` (with the reason, who, when).
    A voided number stays here; the sequence never gives it again."""
    kind = pw.CharField(max_length=64)
    scope = pw.CharField(max_length=64, default="")
    year = pw.IntegerField(default=0)
    seq = pw.BigIntegerField()
    number = pw.CharField(max_length=100)
    status = pw.CharField(max_length=16, default=ISSUED)
    issued_at = DateTimeTZField(default=now)
    reason = pw.CharField(max_length=500, default="")
    voided_at = DateTimeTZField(null=True)
    voided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "core_number"
        indexes = ((("kind", "scope", "year", "seq"), True), (("kind", "number"), False))


def _year(yearly: bool, year: int | None) -> int:
    if not yearly:
        return 0
    return int(year) if year is not None else today().year


def _take(kind: str, scope: str, y: int, text) -> tuple[int, str]:
    with transaction():
        NumberSequence.insert(kind=kind, scope=scope, year=y, value=0).on_conflict_ignore().execute()
        where = (NumberSequence.kind == kind) & (NumberSequence.scope == scope) & (NumberSequence.year == y)
        row = for_update(NumberSequence.select().where(where)).get()
        seq = row.value + 1
        number = text(seq)
        NumberSequence.update(value=NumberSequence.value + 1).where(NumberSequence.id == row.id).execute()
        IssuedNumber.insert(kind=kind, scope=scope, year=y, seq=seq, number=number, issued_at=now()).execute()
    return seq, number


def next_seq(kind: str, *, scope: str = "", year: int | None = None, yearly: bool = True) -> int:
    """The next value of the sequence (kind, scope, year) as an integer, taken under the row lock and
    registered as issued (``take`` formats it for you)."""
    return _take(kind, scope, _year(yearly, year), str)[0]


def take(kind: str, *, scope: str = "", year: int | None = None, yearly: bool = True,
         pattern: str = "{seq}", **fields) -> str:
    """The next number of the sequence (kind, scope, year), formatted by ``pattern``; registered as
    issued. Inside the caller's transaction: rolled back with it, the number is given again."""
    y = _year(yearly, year)
    return _take(kind, scope, y, lambda seq: pattern.format(seq=seq, year=y, scope=scope, **fields))[1]


def peek(kind: str, *, scope: str = "", year: int | None = None, yearly: bool = True) -> int:
    """The last value given in the sequence (0 when none yet); takes nothing."""
    y = _year(yearly, year)
    row = NumberSequence.get_or_none((NumberSequence.kind == kind) & (NumberSequence.scope == scope)
                                     & (NumberSequence.year == y))
    return row.value if row else 0


def void(kind: str, number: str, *, reason: str, scope: str = "", actor=None) -> IssuedNumber:
    """Mark an issued number voided with a reason (LG7): it stays in the register and is never given
    again. The document keeps its own status too; this is the register's. Audited. A missing reason,
    an unknown number or one voided already is a ``FieldErrors`` and nothing is written."""
    from . import audit
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": _l("Give the reason for voiding this number.")})
    with transaction():
        row = for_update(IssuedNumber.select().where(
            (IssuedNumber.kind == kind) & (IssuedNumber.scope == scope) & (IssuedNumber.number == number))
        ).order_by(IssuedNumber.id.desc()).first()
        if row is None:
            raise FieldErrors(_l("No number %(number)s was issued.", number=number))
        if row.status == VOIDED:
            raise FieldErrors(_l("Number %(number)s is voided already.", number=number))
        t = now()
        IssuedNumber.update(status=VOIDED, reason=reason[:500], voided_at=t,
                            voided_by=getattr(actor, "id", None)).where(IssuedNumber.id == row.id).execute()
        audit.log("number.voided", row, {"kind": kind, "scope": scope, "number": number,
                                         "reason": reason[:500]}, user=actor)
    return IssuedNumber.get_by_id(row.id)


def status(kind: str, number: str, *, scope: str = "") -> str | None:
    """``issued``, ``voided``, or None for a number the register does not hold."""
    row = IssuedNumber.select(IssuedNumber.status).where(
        (IssuedNumber.kind == kind) & (IssuedNumber.scope == scope) & (IssuedNumber.number == number)).first()
    return row.status if row else None


def seed(kind: str, value: int, *, scope: str = "", year: int = 0) -> int:
    """Make the sequence continue after ``value`` (never lowers it): for a migration that moves an
    existing numbering onto this helper, so the next number follows the highest one already given.
    Returns the value in force."""
    with transaction():
        NumberSequence.insert(kind=kind, scope=scope, year=year, value=0).on_conflict_ignore().execute()
        where = (NumberSequence.kind == kind) & (NumberSequence.scope == scope) & (NumberSequence.year == year)
        row = for_update(NumberSequence.select().where(where)).get()
        if value > row.value:
            NumberSequence.update(value=value, seeded=value).where(NumberSequence.id == row.id).execute()
            return value
        return row.value


def gaps(kind: str, *, scope: str = "", year: int = 0) -> list[int]:
    """Values of the sequence the register does not hold (after those a migration seeded): empty
    unless a number was lost, which the row lock makes impossible; ``check`` runs it for every one."""
    row = NumberSequence.get_or_none((NumberSequence.kind == kind) & (NumberSequence.scope == scope)
                                     & (NumberSequence.year == year))
    if row is None:
        return []
    have = {s for (s,) in IssuedNumber.select(IssuedNumber.seq).where(
        (IssuedNumber.kind == kind) & (IssuedNumber.scope == scope) & (IssuedNumber.year == year)
        & (IssuedNumber.seq > row.seeded)).tuples()}
    return [s for s in range(row.seeded + 1, row.value + 1) if s not in have]


def check() -> tuple[bool, str]:
    """``timebank check`` (``core.numbering``): every sequence's register holds each value it gave
    (after the seeded ones) exactly once and none beyond its last value (LG7)."""
    held = dict(((k, sc, y), (n, hi)) for k, sc, y, n, hi in IssuedNumber.select(
        IssuedNumber.kind, IssuedNumber.scope, IssuedNumber.year, pw.fn.COUNT(IssuedNumber.id),
        pw.fn.MAX(IssuedNumber.seq)).join(NumberSequence, on=(
            (NumberSequence.kind == IssuedNumber.kind) & (NumberSequence.scope == IssuedNumber.scope)
            & (NumberSequence.year == IssuedNumber.year) & (IssuedNumber.seq > NumberSequence.seeded)))
        .group_by(IssuedNumber.kind, IssuedNumber.scope, IssuedNumber.year).tuples())
    bad, total = [], 0
    for k, sc, y, value, seeded in NumberSequence.select(NumberSequence.kind, NumberSequence.scope,
                                                         NumberSequence.year, NumberSequence.value,
                                                         NumberSequence.seeded).tuples():
        n, hi = held.get((k, sc, y), (0, None))
        total += n
        if n != value - seeded or (hi is not None and hi > value):
            bad.append(f"{k}/{sc or '-'}/{y or '-'}")
    return (not bad, f"{total} numbers registered" if not bad else
            "sequences whose register lacks or exceeds numbers: " + ", ".join(sorted(bad)[:20]))
