"""Spreadsheet exports: the one escaping function every CSV and XLSX cell passes through.

SECURITY.md IV8 / NS6: a text cell a spreadsheet would read as a formula (it begins with ``= + - @``, a
tab, CR or NUL) is written with a leading ``'``, so Excel, WPS and LibreOffice show it as text. This holds
for every cell of every export — values, relation columns (a model shown through its ``__str__``),
column headers, title and field lines — because the writers below take raw values and escape them
themselves; a caller cannot forget.

- :func:`cell` is the escaping function: numbers (``int``, ``float``, ``Decimal``; not ``bool``) stay
  numbers — a negative number is a number, not a formula — and ``None`` is an empty cell; dates and times
  are kept for XLSX; anything else (text, lazy translations, model instances, enums) becomes its text,
  loses the control characters a workbook cannot hold, and is prefixed with ``'`` when risky.
- :func:`csv_writer` wraps :func:`csv.writer`: every cell of ``writerow``/``writerows`` goes through
  :func:`cell`. :func:`csv_bytes` is a whole table as UTF-8 with a BOM (so Excel reads the Chinese).
- :func:`xlsx_put` writes one openpyxl cell (escaped, text stored as a string: ``data_type "s"``, never
  a formula); :func:`xlsx_append` a row; :func:`xlsx_bytes` a whole simple table as a workbook.

Plugins use these (or ``plugins.documents.services``, which is built on them) instead of ``csv.writer``
or openpyxl's ``ws.cell``/``ws.append``; ``tests/test_hardening_exports.py`` exports every download of
every built-in plugin with injected names and fails on a cell that was not escaped.
"""
from __future__ import annotations

import csv
import datetime as _dt
import decimal
import io
import math
import re
from typing import Any, Iterable, Sequence

# What makes a spreadsheet cell a formula or a DDE call (OWASP "CSV injection"); CR and NUL too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what a workbook cannot hold (XML 1.0)
_NUMBERS = (int, float, decimal.Decimal)
_TEMPORAL = (_dt.date, _dt.time)  # datetime is a date


def escape_formula(value):
    """Text ``value`` made safe for a spreadsheet: the control characters a workbook cannot hold are
    dropped (openpyxl refuses them, failing the whole export) and a cell that would be read as a formula
    gets a leading ``'``. Anything that is not a ``str`` is returned unchanged (see :func:`cell`)."""
    if not isinstance(value, str):
        return value
    risky = value.startswith(FORMULA_PREFIXES)
    value = _CONTROL_CHARS.sub("", value)
    if risky or value.startswith(FORMULA_PREFIXES):  # "\x01=1+2" is a formula once cleaned
        return "'" + value
    return value


def cell(value: Any, *, keep_dates: bool = True) -> Any:
    """THE escaping function of every export cell (IV8, NS6).

    ``None`` -> ``""``; ``bool`` and finite numbers are kept as they are (numbers stay numbers); dates and
    times are kept when ``keep_dates`` (openpyxl stores them as dates), else written as ISO text;
    everything else — ``str``, lazy translations, ``Markup``, model instances of relation columns, enums,
    lists — becomes its text and goes through :func:`escape_formula`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, _NUMBERS):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            return str(value)
        return value
    if isinstance(value, _TEMPORAL):
        if keep_dates:
            return value
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    return escape_formula(value if type(value) is str else str(value))


def row(values: Iterable[Any], *, keep_dates: bool = True) -> list:
    """Every cell of one row through :func:`cell`."""
    return [cell(v, keep_dates=keep_dates) for v in values]


# ------------------------------------------------------------------------------------------- CSV
class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`cell` (get one from :func:`csv_writer`)."""

    def __init__(self, fh, *args, **kwargs):
        self._w = csv.writer(fh, *args, **kwargs)

    @property
    def dialect(self):
        return self._w.dialect

    def writerow(self, values: Iterable[Any]):
        return self._w.writerow(row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]):
        for r in rows:
            self.writerow(r)


def csv_writer(fh, *args, **kwargs) -> SafeCsvWriter:
    """A ``csv.writer`` on ``fh`` (same arguments) that escapes every cell (IV8). Use it for every CSV a
    user downloads; ``csv.writer`` itself writes ``=HYPERLINK(…)`` as a live formula."""
    return SafeCsvWriter(fh, *args, **kwargs)


def csv_bytes(rows: Iterable[Sequence[Any]], *, headers: Sequence[Any] | None = None, bom: bool = True) -> bytes:
    """A whole CSV as UTF-8 bytes (with a BOM by default: Excel then reads the Chinese), every cell and
    header escaped."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    w = csv_writer(buf)
    if headers is not None:
        w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------------ XLSX
def xlsx_value(value: Any) -> Any:
    """:func:`cell` for openpyxl: additionally a timezone-aware datetime (which openpyxl refuses) is
    written as its wall time, and ``None`` stays an empty cell."""
    if value is None:
        return None
    v = cell(value)
    if isinstance(v, (_dt.datetime, _dt.time)) and v.tzinfo is not None:
        v = v.replace(tzinfo=None)
    return v


def xlsx_put(ws, row: int, column: int, value: Any, **style):
    """Write one cell of an openpyxl worksheet through the escaping function: text is stored as a
    string (``data_type "s"``), never as a formula; numbers stay numbers. ``style`` sets cell
    attributes (``font=…``, ``alignment=…``, ``style="named"``). Returns the cell."""
    c = ws.cell(row=row, column=column)
    v = xlsx_value(value)
    c.value = v
    if isinstance(v, str):
        c.data_type = "s"
    for k, s in style.items():
        setattr(c, k, s)
    return c


def xlsx_append(ws, values: Iterable[Any], **style) -> int:
    """Append one row to a worksheet through :func:`xlsx_put`; returns its row number."""
    r = ws.max_row + 1 if (ws.max_row > 1 or ws.cell(row=1, column=1).value is not None) else 1
    for i, v in enumerate(values, 1):
        xlsx_put(ws, r, i, v, **style)
    return r


def xlsx_bytes(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "Sheet1") -> bytes:
    """A simple table as a workbook: a bold, frozen heading row, then the rows; every cell escaped."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title[:31].translate({ord(c): "_" for c in "[]:*?/\\"}) or "Sheet1"
    bold = Font(bold=True)
    for i, h in enumerate(headers, 1):
        xlsx_put(ws, 1, i, h, font=bold)
    ws.freeze_panes = "A2"
    r = 1
    for values in rows:
        r += 1
        for i, v in enumerate(values, 1):
            xlsx_put(ws, r, i, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["FORMULA_PREFIXES", "escape_formula", "cell", "row", "csv_writer", "SafeCsvWriter", "csv_bytes",
           "xlsx_value", "xlsx_put", "xlsx_append", "xlsx_bytes"]
