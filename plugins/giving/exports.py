"""Issue 15 point 6: XLSX exports of donations and receipts, every cell through ``core.exports``
(formula escaping, IV8/NS6), rows limited to the user's team tree (AC6).

Extension point: ``EXPORTS`` maps an export name to ``(title, builder)``; ``builder(team_ids, year)`` returns
``(headers, rows)``. The stock module (issue 15 point 4) adds its sheet with
``register_export("stock", _l("Stock"), build_stock)`` and is served at ``/giving/export/stock.xlsx`` with no
other change (add that URL to tests/test_hardening_exports.py's matrix then).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import money

from .models import CHANNELS, DONATION_KINDS, RECEIPT_STATES, STATUSES, Donation, Donor, Receipt

EXPORTS: dict[str, tuple] = {}


def register_export(name: str, title, builder: Callable) -> None:
    """Add a named XLSX export (see the module docstring)."""
    EXPORTS[name] = (title, builder)


def _year(q, field, year):
    if year:
        return q.where((field >= _dt.date(year, 1, 1)) & (field <= _dt.date(year, 12, 31)))
    return q


def donations(team_ids: list[int] | None, year: int | None = None):
    """One row per donation: money in yuan (Decimal, exact), goods with quantity and unit."""
    from plugins.teams.models import Team
    q = (Donation.select(Donation, Donor, Team).join(Donor).switch(Donation).join(Team)
         .order_by(Donation.donated_on, Donation.id))
    if team_ids is not None:
        q = q.where(Donation.team.in_(team_ids or [0]))
    q = _year(q, Donation.donated_on, year)
    headers = [_("ID"), _("Team"), _("Date"), _("Donor"), _("Kind"), _("Amount (yuan)"), _("Channel"),
               _("Property type"), _("Description"), _("Quantity"), _("Unit"), _("Purpose"),
               _("Designated beneficiary"), _("Status"), _("Receipt")]
    rows = ([d.id, d.team.name, d.donated_on, str(d.donor), str(DONATION_KINDS.get(d.kind, d.kind)),
             money.to_decimal(d.amount) if d.amount is not None else None, str(CHANNELS.get(d.channel, d.channel)),
             d.property_type, d.description, d.quantity, d.unit, d.purpose, d.beneficiary,
             str(STATUSES.get(d.status, d.status)), str(RECEIPT_STATES.get(d.receipt_state, d.receipt_state))]
            for d in q)
    return headers, rows


def receipts(team_ids: list[int] | None, year: int | None = None):
    """One row per receipt, voided ones included with their reason (the number stays used, LG7)."""
    q = Receipt.select().order_by(Receipt.team, Receipt.number)
    if team_ids is not None:
        q = q.where(Receipt.team.in_(team_ids or [0]))
    q = _year(q, Receipt.issued_on, year)
    state = {"issued": _("Valid"), "voided": _("Voided")}
    headers = [_("Receipt number"), _("Receiving organisation"), _("Date"), _("Donor"), _("Property type"),
               _("Quantity or amount"), _("Handler"), _("Status"), _("Reason for voiding"),
               _("Official receipt number"), _("Gift")]
    rows = ([r.number, r.organisation, r.issued_on, r.donor_name, r.property_type, r.quantity_text, r.handler,
             state.get(r.status, r.status), r.void_reason, r.official_number, r.donation_id] for r in q)
    return headers, rows


register_export("donations", _l("Donations received"), donations)
register_export("receipts", _l("Donation receipts"), receipts)


def xlsx(name: str, team_ids: list[int] | None, year: int | None = None) -> bytes:
    from core.exports import xlsx_bytes
    title, builder = EXPORTS[name]
    headers, rows = builder(team_ids, year)
    return xlsx_bytes(headers, rows, sheet_title=str(title))
