"""R-DON-4 (issue 15 point 5): the annual work and financial report of one organisation (team) for one
year, generated from the records — never typed — as a PDF (embedded CJK font, plugins/documents) and XLSX
(core.exports escaping, through documents.table_xlsx).

Sections, in order: basic information (the published version), donations received by type and purpose,
receipts issued / voided / waived, public fundraising and projects, then every registered extra section.

Extension point: ``register_section(key, title, builder, order)``; ``builder(team, year)`` returns a list of
``(item, count, amount_or_quantity)`` rows. The stock/allocation module (issue 15 point 4, "use of
donations") adds its section with
``register_section("use_of_donations", _l("Use of donations"), stock.report_use_rows, order=35)``.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import money

from .models import Donation, Receipt

SECTIONS: dict[str, tuple] = {}      # key → (order, title, builder)


def register_section(key: str, title, builder: Callable, order: int = 100) -> None:
    SECTIONS[key] = (order, title, builder)


def _span(year: int):
    return _dt.date(year, 1, 1), _dt.date(year, 12, 31)


def donations_by_purpose(team_id: int, year: int) -> list[tuple]:
    """One GROUP BY over the year's donations (one scan of the table): (status, kind, purpose, property
    type, unit, count, sum of fen, sum of quantity, receipts waived). The benchmark holds the report
    against this query written by hand."""
    start, end = _span(year)
    waived = pw.fn.SUM(pw.Case(None, [(Donation.receipt_state == "waived", 1)], 0))
    q = (Donation.select(Donation.status, Donation.kind, Donation.purpose, Donation.property_type, Donation.unit,
                         pw.fn.COUNT(Donation.id), pw.fn.SUM(Donation.amount), pw.fn.SUM(Donation.quantity), waived)
         .where((Donation.team == team_id) & (Donation.donated_on >= start) & (Donation.donated_on <= end))
         .group_by(Donation.status, Donation.kind, Donation.purpose, Donation.property_type, Donation.unit)
         .order_by(Donation.status, Donation.kind.desc(), Donation.purpose, Donation.property_type, Donation.unit))
    return list(q.tuples())


def annual_report(team, year: int) -> dict:
    """The report's content: ``{"team", "year", "sections": [(title, rows)], "totals": {...}}``; a row is
    ``(item, count, value)`` with money as Decimal yuan (exact) and goods as "quantity unit"."""
    from . import orginfo
    from . import stock  # noqa: F401  (registers the "use of donations" section)
    start, end = _span(year)
    sections = []
    info = orginfo.published(team.id)
    if info is not None:
        rows = [(str(label), None, getattr(info, name)) for name, (label, _m, _r) in orginfo.BASIC_FIELDS.items()
                if getattr(info, name)]
        rows.append((_("Published on"), None, info.published_at.date()))
    else:
        rows = [(_("Not published yet"), None, "")]
    sections.append((10, _("Basic information"), rows))

    money_rows, goods_rows, total_fen, money_n, goods_n, refused, waived = [], [], 0, 0, 0, 0, 0
    for status, kind, purpose, ptype, unit, n, fen, qty, n_waived in donations_by_purpose(team.id, year):
        waived += int(n_waived or 0)
        if status == "refused":
            refused += n
            continue
        if status != "accepted":
            continue
        if kind == "money":
            fen = int(fen or 0)
            total_fen += fen
            money_n += n
            money_rows.append((_("Money: %(purpose)s", purpose=purpose or _("Not restricted")), n,
                               money.to_decimal(fen)))
        else:
            goods_n += n
            goods_rows.append((_("Goods: %(type)s, %(purpose)s", type=ptype, purpose=purpose or _("Not restricted")),
                               n, f"{int(qty or 0)} {unit}"))
    rows = money_rows + [(_("Money received in total"), money_n, money.to_decimal(total_fen))] + goods_rows
    rows.append((_("Goods refused after the check"), refused, ""))
    sections.append((20, _("Donations received"), rows))

    rq = Receipt.select(Receipt.status, pw.fn.COUNT(Receipt.id)).where(
        (Receipt.team == team.id) & (Receipt.issued_on >= start) & (Receipt.issued_on <= end)
    ).group_by(Receipt.status)
    counts = dict(rq.tuples())
    sections.append((30, _("Donation receipts"), [
        (_("Receipts issued (numbers used)"), sum(counts.values()), ""),
        (_("Of which voided"), counts.get("voided", 0), ""),
        (_("Valid receipts"), counts.get("issued", 0), ""),
        (_("Receipts waived by the donor"), waived, "")]))

    if "use_of_donations" not in SECTIONS:
        sections.append((35, _("Use of donations"), [(_("Not recorded by this site yet"), None, "")]))
    rows = []
    for p in orginfo.projects(team.id, year):
        period = f"{p.starts_on.isoformat()} — {p.ends_on.isoformat() if p.ends_on else _('open')}"
        rows.append((f"{orginfo.PROJECT_KINDS[p.kind]}: {p.title} ({period})", None, money.to_decimal(p.raised)))
    sections.append((40, _("Public fundraising and projects"), rows or [(_("None"), None, "")]))

    for key, (order, title, builder) in SECTIONS.items():
        sections.append((order, str(title), list(builder(team, year))))
    sections.sort(key=lambda s: s[0])
    return {"team": team, "year": year, "sections": [(t, r) for _o, t, r in sections],
            "totals": {"money_fen": total_fen, "money_count": money_n, "goods_count": goods_n,
                       "receipts": counts}}


def _table(rep):
    from plugins.documents.services import Column
    columns = [Column(_("Section"), 1.2, 18), Column(_("Item"), 3, 46), Column(_("Count"), 0.6, 8, "RIGHT"),
               Column(_("Amount (yuan) or quantity"), 1.4, 20, "RIGHT")]
    rows = []
    for title, items in rep["sections"]:
        for i, (item, n, value) in enumerate(items):
            rows.append([title if i == 0 else "", item, n if n is not None else "", value])
    fields = [(_("Organisation"), rep["team"].name), (_("Year"), str(rep["year"]))]
    return columns, rows, fields


def report_title(rep) -> str:
    return _("Annual work and financial report %(year)s", year=rep["year"])


def report_pdf(team, year: int) -> bytes:
    from plugins.documents.services import table_pdf
    rep = annual_report(team, year)
    columns, rows, fields = _table(rep)
    pdf_rows = [[r[0], r[1], r[2], (money.fmt(money.to_fen(r[3]), grouping=True)
                                     if hasattr(r[3], "quantize") else str(r[3] or ""))] for r in rows]
    return table_pdf(report_title(rep), columns, pdf_rows, fields=fields, landscape=False,
                     signatures=[(_("Person in charge (signature)"), ""), (_("Organisation (seal)"), "")])


def report_xlsx(team, year: int) -> bytes:
    from plugins.documents.services import table_xlsx
    rep = annual_report(team, year)
    columns, rows, fields = _table(rep)
    return table_xlsx(report_title(rep), columns, rows, fields=fields, sheet_title=str(year), landscape=False)
