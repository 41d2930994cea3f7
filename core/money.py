"""Money: an integer number of fen (分) in the database and in code, a Decimal of yuan on screen, in
forms and in spreadsheets. Never a float (DESIGN.md "Money"; RULES R-RES-2, R-DON-1).

    from core import money

    class Donation(BaseModel):
        amount = money.MoneyField()                    # BIGINT fen; Python value: int fen

    fen = money.parse("¥12.3")                         # 1230 (also "１２.３", "12.30 元", "12.30")
    money.fmt(1230)                                    # "¥12.30"
    money.fmt(1230, style="yuan")                      # "12.30 元" (translated: "12.30 yuan" in English)
    money.to_decimal(1230)                             # Decimal("12.30")
    money.to_fen(Decimal("12.30"))                     # 1230

- ``parse`` takes what a person typed: full-width digits and ``￥`` (through ``core.inputs``), a ``¥``
  in front or ``元`` behind, at most two decimals, no sign unless ``negative=True``, bounds in fen. A
  bad amount is an ``InputError`` (a ``FieldErrors`` naming the field) in the user's language.
- ``MoneyField`` stores fen as BIGINT; it refuses a float, a Decimal or text (a Decimal of yuan written
  where fen are expected is a bug to find, not a value to guess): convert with ``to_fen``/``parse``.
  Admin forms built from the model show it as ``MoneyInput`` (``12.30``), list and export columns are
  formatted by ``column_formatters(...)``.
- Sums stay exact: ``money.total(Donation.amount)`` is ``SUM`` cast back to BIGINT, an int of fen on both
  databases (a bare ``fn.SUM`` is a Decimal on PostgreSQL, whose SUM of bigint is numeric). Percentages are
  integer arithmetic: ``part * 100 <= total * 30`` for "at most 30 %".
- Spreadsheets get a Decimal of yuan with the number format ``0.00`` (``xlsx_put``): a number a
  spreadsheet can add up, never a float and never the text "¥12.30".
- Limits a rule sets on amounts are plugin settings in fen (an integer), shown with ``fmt``.
"""
from __future__ import annotations

import re
from decimal import Decimal

import peewee as pw
import wtforms
from flask_babel import lazy_gettext as _l

from . import inputs
from .inputs import REQUIRED, InputError

__all__ = ["MoneyField", "MoneyInput", "parse", "to_fen", "to_decimal", "fmt", "xlsx_value", "xlsx_put",
           "column_formatters", "total", "CENT"]

CENT = Decimal("0.01")
MAX_FEN = 10 ** 15          # a thousand billion yuan in fen: past any real amount, far below 2⁶³
_SIGNS = re.compile(r"^(?:¥|RMB|CNY)\s*|\s*(?:元|RMB|CNY)$", re.IGNORECASE)


def _refuse_float(value):
    if isinstance(value, float):
        raise TypeError("money is never a float: give fen as an int, or a Decimal/str to money.to_fen/parse")


def to_fen(yuan) -> int:
    """A Decimal, int or text of yuan as an int of fen, exactly; more than two decimals is a
    ValueError (no rounding happens silently), a float a TypeError."""
    _refuse_float(yuan)
    if isinstance(yuan, bool):
        raise TypeError("money is not a bool")
    d = yuan if isinstance(yuan, Decimal) else Decimal(str(yuan).strip())
    if not d.is_finite() or d != d.quantize(CENT):
        raise ValueError(f"{yuan!r} is not an amount of yuan with at most two decimals")
    return int(d * 100)


def to_decimal(fen: int | None) -> Decimal | None:
    """An int of fen as a Decimal of yuan with two decimals (``1230`` → ``Decimal("12.30")``)."""
    if fen is None:
        return None
    _refuse_float(fen)
    return (Decimal(int(fen)) / 100).quantize(CENT)


def parse(value, *, min: int | None = None, max: int | None = None, negative: bool = False,
          default=REQUIRED, field: str = "__all__") -> int:
    """What a person typed as an amount (``"12.30"``, ``"１２.３"``, ``"¥12.3"``, ``"12.30 元"``) → fen.
    ``min``/``max`` are fen; a negative amount only with ``negative=True``; empty gives ``default``."""
    _refuse_float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        raise TypeError("money.parse takes what a person typed; an int is fen already")
    # NFKC: "￥" → "¥", "１２" → "12"; "²", "½", "①" are refused, not read as digits
    text = inputs._text(value, _l("Enter an amount in yuan, such as 12.30."), field)
    text = _SIGNS.sub("", text).strip()
    if text == "":
        return inputs._empty(default, field)
    if not negative and text.startswith("-"):
        raise InputError(_l("Enter an amount that is not negative."), field)
    try:
        d = inputs.parse_decimal(text, field=field)
    except InputError:
        raise InputError(_l("Enter an amount in yuan, such as 12.30."), field) from None
    if d != d.quantize(CENT):
        raise InputError(_l("Enter an amount in yuan with at most two decimals (fen)."), field)
    fen = int(d * 100)
    lo = (-MAX_FEN if negative else 0) if min is None else min
    hi = MAX_FEN if max is None else max
    if fen < lo:
        raise InputError(_l("Enter an amount of at least %(amount)s.", amount=fmt(lo)), field)
    if fen > hi:
        raise InputError(_l("Enter an amount of at most %(amount)s.", amount=fmt(hi)), field)
    return fen


def fmt(fen: int | None, *, style: str = "symbol", grouping: bool = False) -> str:
    """``1230`` → ``"¥12.30"`` (``style="symbol"``), ``"12.30 元"`` (``style="yuan"``, translated) or
    ``"12.30"`` (``style="plain"``); ``grouping`` adds thousands separators (``¥1,234.50``)."""
    if fen is None:
        return ""
    d = to_decimal(fen)
    number = f"{abs(d):,.2f}" if grouping else f"{abs(d):.2f}"
    sign = "-" if d < 0 else ""
    if style == "plain":
        return sign + number
    if style == "yuan":
        from flask_babel import gettext
        return gettext("%(amount)s yuan", amount=sign + number)
    return f"{sign}¥{number}"


# ------------------------------------------------------------------------------- database and forms
class MoneyInput(wtforms.Field):
    """A form field for an amount: shows ``12.30``, takes what ``parse`` takes, ``data`` is fen.
    ``min``/``max`` in fen, ``negative`` allowed or not. (Not a wtforms DecimalField: its data would be
    yuan, and core.admin would rebind it as a plain decimal.)"""
    widget = wtforms.widgets.TextInput()

    def __init__(self, label=None, validators=None, *, min=None, max=None, negative=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max, self.negative = min, max, negative

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return fmt(self.data, style="plain") if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse(valuelist[0], min=self.min, max=self.max, negative=self.negative, default=None)
        except InputError as e:
            self.data = None
            raise ValueError(str(e.message)) from None

    def validate(self, form, extra_validators=()):
        if self.process_errors:   # keep the parser's message ("at most two decimals"), not "required"
            self.errors = list(self.process_errors)
            return False
        return super().validate(form, extra_validators)


class MoneyField(pw.BigIntegerField):
    """An amount stored as BIGINT fen; its Python value is an int of fen. Floats, Decimals and text are
    refused on the way in (TypeError): convert with ``to_fen`` or ``parse``. ``negative=False`` (the
    default) also adds a CHECK constraint ``>= 0``."""

    def __init__(self, *args, negative: bool = False, **kwargs):
        self.negative = negative
        super().__init__(*args, **kwargs)   # the CHECK needs the column name: added in bind()

    def bind(self, model, name, set_attribute=True):
        super().bind(model, name, set_attribute)
        if not self.negative:
            self.constraints = [*(self.constraints or []), pw.Check(f'"{self.column_name}" >= 0')]

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, (bool, float, Decimal, str)):
            raise TypeError(f"{self.model.__name__}.{self.name} takes an int of fen, not {type(value).__name__} "
                            "(use core.money.to_fen or core.money.parse)")
        return super().db_value(value)

    def python_value(self, value):
        return None if value is None else int(value)

    def wtf_field(self, model, **kwargs):
        """The admin form's field (wtf-peewee asks the model field for it)."""
        return MoneyInput(negative=self.negative, **kwargs)


def total(field) -> pw.Node:
    """``SUM(field)`` as an int of fen on both databases, 0 over no rows: ``Model.select(money.total(
    Model.amount)).scalar()`` (PostgreSQL's SUM of bigint is numeric; cast back to BIGINT here)."""
    return pw.fn.COALESCE(pw.fn.SUM(field), 0).cast("BIGINT")


# ------------------------------------------------------------------------------- lists and exports
def xlsx_value(fen: int | None) -> Decimal | None:
    """The cell value of an amount: a Decimal of yuan (a number the spreadsheet adds up exactly)."""
    return to_decimal(fen)


def xlsx_put(ws, row: int, column: int, fen: int | None, **style):
    """Write an amount into an openpyxl cell through ``core.exports.xlsx_put``: a Decimal of yuan with
    the number format ``0.00``."""
    from .exports import xlsx_put as put
    return put(ws, row, column, to_decimal(fen), number_format="0.00", **style)


def column_formatters(*names: str) -> tuple[dict, dict]:
    """(list formatters, export formatters) for a ``SecureModelView``'s money columns: the list shows
    ``¥12.30``, CSV/XLSX exports get a Decimal of yuan::

        column_formatters, column_formatters_export = money.column_formatters("amount")
    """
    show = {n: (lambda v, c, m, name: fmt(getattr(m, name))) for n in names}
    export = {n: (lambda v, c, m, name: to_decimal(getattr(m, name))) for n in names}
    return show, export
