"""Input from outside, normalised in one place (SECURITY.md NS2).

Every identifier, number and date a person types (form, admin, import, API, query string) goes through
``normalize`` before it is validated: Unicode NFKC (full-width ｀１３８…｀ → ``138…``, superscript ``²`` → ``2``),
then every other Unicode decimal digit (Arabic-Indic, Devanagari, …) mapped to its ASCII digit. A value
that is then still not what the field expects is a field error in the user's language, never a 500.
"""
from __future__ import annotations

import math as _math
import re as _re
import unicodedata
from decimal import Decimal, InvalidOperation

import wtforms as _wtf
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter as _WerkzeugInt

from .errors import FieldErrors

__all__ = ["normalize", "ascii_digits"]


def ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (category Nd) replaced by its ASCII digit; other characters kept."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isdecimal() and not ("0" <= ch <= "9"):
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def normalize(value) -> str:
    """NFKC, then ASCII digits, then surrounding white space stripped. ``None`` becomes ``""``."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():
        text = ascii_digits(unicodedata.normalize("NFKC", text))
    return text.strip()


# ---------------------------------------------------------------------------------------------- parsing
# Every number, date and list of ids that comes from outside (form, admin, query string, import) is parsed
# here, with bounds (SECURITY.md NS2, IV5; issue 11 point 9). A value that is not what the field expects is
# an ``InputError`` (a ``FieldErrors`` naming the field, and a ``ValueError`` so that callers that already
# catch ``ValueError`` stay correct); query strings use the ``arg_*`` helpers, which fall back to a default.

__all__ += ["InputError", "parse_int", "parse_float", "parse_decimal", "parse_date", "parse_id", "parse_ids",
            "arg_int", "arg_float", "arg_date", "INT32", "INT64", "IntegerField", "FloatField",
            "DecimalField", "bounded_field", "check_image_pixels", "IdConverter"]

INT32 = (-2 ** 31, 2 ** 31 - 1)          # peewee IntegerField on PostgreSQL ("integer")
INT64 = (-2 ** 63, 2 ** 63 - 1)          # BigIntegerField; every INTEGER on SQLite
FLOAT_LIMIT = 1e15                       # a finite float any column and any arithmetic survives
MAX_CHARS = 40                           # longer than any number we take: refused before parsing
MIN_YEAR, MAX_YEAR = 1900, 9000          # years a date filter takes (a day later still fits in a date)
MAX_PAGE = 100_000                       # page numbers of a listing (20 a page: two million rows)
REQUIRED = object()

_INT = _re.compile(r"[+-]?[0-9]+")
_DEC = _re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = _re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


class InputError(FieldErrors, ValueError):
    """A value from outside that is not a valid, in-range number/date: ``errors == {field: message}``."""

    def __init__(self, message, field: str = "__all__"):
        FieldErrors.__init__(self, {field: message})
        self.field = field
        self.message = message


def _text(value, message, field) -> str:
    """``value`` normalised for a number or a date. Full-width and other decimal digits are digits
    (``１２``, ``٣``); superscripts, fractions and circled numbers (Unicode "No": ``²``, ``½``, ``①``) are
    not - NFKC would turn ``2²`` into 22 - so they are a field error here (identifiers keep ``normalize``)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = "" if value is None else str(value)
    if not text.isascii() and any(unicodedata.category(ch) == "No" for ch in text):
        raise InputError(message, field)
    return normalize(text)


def _range_message(lo, hi):
    if lo is not None and hi is not None:
        return _l("Enter a number between %(lo)s and %(hi)s.", lo=lo, hi=hi)
    if lo is not None:
        return _l("Enter a number of at least %(lo)s.", lo=lo)
    return _l("Enter a number of at most %(hi)s.", hi=hi)


def _empty(default, field):
    if default is REQUIRED:
        raise InputError(_l("This field is required."), field)
    return default


def parse_int(value, *, min=None, max=None, default=REQUIRED, field: str = "__all__") -> int:
    """A whole number (``"１２"`` → 12, ``" -3 "`` → -3) between ``min`` and ``max`` (both inclusive; the
    storage limits of a 64-bit integer at most). Empty gives ``default`` (an error when none is given);
    ``²``, ``inf``, ``1e3``, ``0x10``, ``1.5``, a number past 2⁶³ or out of range are an ``InputError``."""
    if isinstance(value, bool):
        raise InputError(_l("Enter a whole number."), field)
    if isinstance(value, int):
        n = value
    else:
        s = _text(value, _l("Enter a whole number."), field)
        if s == "":
            return _empty(default, field)
        if len(s) > MAX_CHARS or not _INT.fullmatch(s):
            raise InputError(_l("Enter a whole number."), field)
        n = int(s)
    lo = INT64[0] if min is None else min
    hi = INT64[1] if max is None else max
    if not lo <= n <= hi:
        raise InputError(_range_message(min, max) if (min, max) != (None, None)
                         else _l("This number is out of range."), field)
    return n


def parse_decimal(value, *, min=None, max=None, places: int | None = None, default=REQUIRED,
                  field: str = "__all__") -> Decimal:
    """A finite decimal written as digits with an optional point (no exponent, no ``inf``/``nan``),
    between ``min`` and ``max``, with at most ``places`` decimals when given."""
    if isinstance(value, Decimal):
        d = value
        if not d.is_finite():
            raise InputError(_l("Enter a number."), field)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not _math.isfinite(value):
            raise InputError(_l("Enter a number."), field)
        d = Decimal(str(value))
    else:
        s = _text(value, _l("Enter a number."), field)
        if s == "":
            return _empty(default, field)
        if len(s) > MAX_CHARS or not _DEC.fullmatch(s):
            raise InputError(_l("Enter a number."), field)
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise InputError(_l("Enter a number."), field) from None
    lo = Decimal(-FLOAT_LIMIT) if min is None else Decimal(str(min))
    hi = Decimal(FLOAT_LIMIT) if max is None else Decimal(str(max))
    if not lo <= d <= hi:
        raise InputError(_range_message(min, max) if (min, max) != (None, None)
                         else _l("This number is out of range."), field)
    if places is not None and d != d.quantize(Decimal(1).scaleb(-places)):
        raise InputError(_l("Enter at most %(n)s decimal places.", n=places), field)
    return d


def parse_float(value, *, min=None, max=None, default=REQUIRED, field: str = "__all__") -> float:
    """``parse_decimal`` as a float: finite, bounded (±10¹⁵ at most)."""
    if not isinstance(value, (int, float, Decimal)) and _text(value, _l("Enter a number."), field) == "":
        return _empty(default, field)
    return float(parse_decimal(value, min=min, max=max, field=field))


def parse_date(value, *, min=None, max=None, default=REQUIRED, field: str = "__all__"):
    """A date written ``YYYY-MM-DD`` (full-width digits accepted), between ``min`` and ``max``."""
    import datetime as _dt
    if isinstance(value, _dt.datetime):
        d = value.date()
    elif isinstance(value, _dt.date):
        d = value
    else:
        s = _text(value, _l("Enter a date as YYYY-MM-DD."), field)
        if s == "":
            return _empty(default, field)
        if not _DATE.fullmatch(s):
            raise InputError(_l("Enter a date as YYYY-MM-DD."), field)
        y, m, dd = (int(x) for x in s.split("-"))
        try:
            d = _dt.date(y, m, dd)
        except ValueError:
            raise InputError(_l("Enter a date as YYYY-MM-DD."), field) from None
    if (min is not None and d < min) or (max is not None and d > max):
        raise InputError(_l("Enter a date between %(lo)s and %(hi)s.", lo=min or "", hi=max or ""), field)
    return d


def parse_id(value) -> int | None:
    """One row id from outside (URL, form, query string): a positive 64-bit integer, else ``None`` (which a
    view answers with its 404: "²", "１２x", a number past 2⁶³ never reach the database)."""
    try:
        return parse_int(value, min=1, max=INT64[1], default=None)
    except InputError:
        return None


def parse_ids(value, *, max_count: int | None = None, strict: bool = False,
              field: str = "__all__") -> list[int]:
    """Row ids from ``"1,2,3"`` or a list of strings: positive 64-bit integers, duplicates dropped, in
    order. A value that is not an id is skipped (``strict``: an ``InputError``); more than ``max_count``
    ids (when given) is an ``InputError``."""
    if value is None:
        parts = []
    elif isinstance(value, (list, tuple)):
        parts = [p for v in value for p in str(v).split(",")]
    else:
        parts = str(value).split(",")
    out, seen = [], set()
    for p in parts:
        if not p.strip():
            continue
        try:
            n = parse_int(p, min=1, max=INT64[1], field=field)
        except InputError:
            if strict:
                raise
            continue
        if n not in seen:
            seen.add(n)
            out.append(n)
    if max_count is not None and len(out) > max_count:
        raise InputError(_l("Choose at most %(n)s rows at a time.", n=max_count), field)
    return out


# -------------------------------------------------------------------- query strings: a default, no error
def _args(args):
    if args is None:
        from flask import request
        return request.args
    return args


def arg_int(name: str, default=None, *, min=None, max=None, args=None):
    """``request.args[name]`` as a whole number in [min, max], else ``default`` (a crafted query string
    never turns a page into an error: it is simply not applied)."""
    try:
        return parse_int(_args(args).get(name), min=min, max=max, default=default)
    except InputError:
        return default


def arg_float(name: str, default=None, *, min=None, max=None, args=None):
    try:
        return parse_float(_args(args).get(name), min=min, max=max, default=default)
    except InputError:
        return default


def arg_date(name: str, default=None, *, min=None, max=None, args=None):
    try:
        return parse_date(_args(args).get(name), min=min, max=max, default=default)
    except InputError:
        return default


# --------------------------------------------------------------------------------------- WTForms fields
# The same parsers behind the form fields of the admin (core/admin.py binds every IntegerField,
# FloatField and DecimalField of an admin form to these): "²", "inf", "1e308" and numbers past what the
# column holds are a field error in the user's language, never a database overflow (a 500).


class _Bounded:
    parse = staticmethod(parse_int)

    def __init__(self, *args, min=None, max=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.min, self.max = min, max

    def _parse(self, raw):
        return type(self).parse(raw, min=self.min, max=self.max, default=None)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = self._parse(valuelist[0])
        except InputError as e:
            self.data = None
            raise ValueError(str(e.message)) from None

    def validate(self, form, extra_validators=()):
        # a value that did not parse keeps ITS message: a "required" validator would otherwise replace it
        # with "This field is required." although something was typed
        if self.process_errors:
            self.errors = list(self.process_errors)
            return False
        return super().validate(form, extra_validators)


class IntegerField(_Bounded, _wtf.IntegerField):
    def __init__(self, *args, min=None, max=None, **kwargs):
        super().__init__(*args, min=INT32[0] if min is None else min,
                         max=INT32[1] if max is None else max, **kwargs)


class FloatField(_Bounded, _wtf.FloatField):
    parse = staticmethod(parse_float)


class DecimalField(_Bounded, _wtf.DecimalField):
    parse = staticmethod(parse_decimal)

    def __init__(self, *args, min=None, max=None, places=2, **kwargs):
        super().__init__(*args, min=min, max=max, places=places, **kwargs)
        self.max_places = None

    def _parse(self, raw):
        return parse_decimal(raw, min=self.min, max=self.max, places=self.max_places, default=None)


_BOUNDED = {_wtf.IntegerField: IntegerField, _wtf.FloatField: FloatField, _wtf.DecimalField: DecimalField}


def bounded_field(unbound, **bounds):
    """An unbound WTForms number field (``wtforms.IntegerField(...)``) as the bounded field of this module
    with the same arguments; any other unbound field is returned as it is."""
    cls = getattr(unbound, "field_class", None)
    if cls is None or issubclass(cls, _Bounded):
        return unbound
    for base, bounded in _BOUNDED.items():
        if issubclass(cls, base):
            return _wtf.fields.core.UnboundField(bounded, *unbound.args, **{**unbound.kwargs, **bounds})
    return unbound


# ------------------------------------------------------------------------------------------ URL converter


class IdConverter(_WerkzeugInt):
    """``<int:…>`` of every route (core/__init__.py installs it): at most 2⁶³ − 1, so a path such as
    ``/activities/99999999999999999999`` is a 404 instead of an integer overflow in the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT64[1])
        super().__init__(map, *args, **kwargs)


# ----------------------------------------------------------------------------------------------- images
def check_image_pixels(img, max_megapixels) -> None:
    """Refuse an image whose header says more than ``max_megapixels`` million pixels, BEFORE anything
    decodes it (``PIL.Image.open`` reads the header only): a 20000×20000 PNG is a few KB on disk and
    1.6 GB once decoded (SECURITY.md IV6)."""
    if img.width * img.height > float(max_megapixels) * 1_000_000 or img.width <= 0 or img.height <= 0:
        raise InputError(_l("The image is too large: at most %(mp)s million pixels.", mp=max_megapixels),
                         "photos")
