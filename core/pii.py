"""Personal identifiers: validation (SECURITY.md IV1–IV4) and server-side masking (PR5).

Every function returns normalised values or raises ``PIIError`` with a message in the user's language.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re

from flask_babel import lazy_gettext as _l
from stdnum.cn import ric

from .db import today
from .inputs import normalize


class PIIError(ValueError):
    """Invalid personal identifier; ``str(e)`` is the translated message for the field."""


ID_TYPES = {
    "cn_id": _l("Resident ID card"),                    # 居民身份证
    "hmt_permit": _l("HK/Macau/Taiwan residence permit"),  # 港澳台居民居住证
    "hk_macau_pass": _l("Mainland travel permit for HK and Macau residents"),  # 港澳居民来往内地通行证
    "tw_pass": _l("Mainland travel permit for Taiwan residents"),   # 台湾居民来往大陆通行证
    "passport": _l("Passport"),
    "foreign_permit": _l("Foreign permanent resident ID card"),  # 外国人永久居留身份证
}
HMT_PREFIXES = ("810000", "820000", "830000")


def _compact(value) -> str:
    """An ID number as typed, normalised (NFKC, ASCII digits: full-width ``４４０１…`` is ``4401…``;
    SECURITY.md NS2), without spaces and hyphens, upper case."""
    return re.sub(r"[\s\-－‐‑–—]", "", normalize(value)).upper()


def _refuse_odd_characters(text: str, what, *, letters: bool = True):
    """After normalising, a character that is still no ASCII digit (or Latin letter) is named in the
    error, so that a person who typed ``〇`` or ``一`` for a zero or one sees what is wrong."""
    for ch in text:
        if not (ch.isascii() and (ch.isdigit() or (letters and ch.isalpha()))):
            raise PIIError(_l("“%(char)s” is not allowed here: %(what)s Type the number again with the "
                              "digits 0–9.", char=ch, what=what))


@functools.lru_cache(maxsize=8192)  # static reference data; bulk imports validate many rows (~50 µs a lookup)
def _loc_known(prefix6: str) -> bool:
    from stdnum import numdb
    parts = numdb.get("cn/loc").info(prefix6)
    info = {k: v for _, props in parts for k, v in props.items()}
    return "province" in info and "county" in info


def validate_cn_id(value: str, *, allow_hmt: bool = True) -> str:
    """GB 11643: 17 digits + check digit (X upper-cased), a real birth date, a known region code,
    ISO 7064 MOD 11-2 check digit. Returns the normalised number."""
    number = _compact(value)
    _refuse_odd_characters(number, _l("An ID number has only digits and, at the end, the letter X."))
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise PIIError(_l("An ID number has 18 characters: 17 digits and a final digit or X."))
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # noqa: BLE001 - stdnum raises its own errors
        raise PIIError(_l("The birth date inside the ID number is not a real date.")) from None
    if birth > today() or birth.year < 1880:
        raise PIIError(_l("The birth date inside the ID number is not a real date."))
    if number[:6] in HMT_PREFIXES:
        if not allow_hmt:
            raise PIIError(_l("This is a residence permit number, not a resident ID number."))
    elif not _loc_known(number[:6]):
        raise PIIError(_l("The region code at the start of the ID number does not exist."))
    if ric.calc_check_digit(number) != number[-1]:
        raise PIIError(_l("The ID number's check digit is wrong; please check every digit."))
    return number


def id_birth_date(number: str) -> _dt.date:
    return ric.get_birth_date(number)


def id_gender(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd = male) (IV3)."""
    return "M" if int(number[16]) % 2 else "F"


_FORMATS = {
    "hk_macau_pass": (r"[HM]\d{8}", _l("A travel permit for HK/Macau residents is H or M and 8 digits.")),
    "tw_pass": (r"\d{8}", _l("A travel permit for Taiwan residents has 8 digits.")),
    "passport": (r"[A-Z0-9]{5,17}", _l("A passport number has 5 to 17 letters and digits.")),
    "foreign_permit": (r"[A-Z]{3}\d{12}|9\d{17}", _l("This is not a valid foreign permanent resident ID number.")),
}


def validate_id(id_type: str, value: str) -> str:
    """Validate and normalise an ID number of the given type (IV1, IV2)."""
    if id_type not in ID_TYPES:
        raise PIIError(_l("Unknown ID type."))
    if id_type == "cn_id":
        number = validate_cn_id(value, allow_hmt=False)
        return number
    if id_type == "hmt_permit":
        number = validate_cn_id(value)
        if number[:6] not in HMT_PREFIXES:
            raise PIIError(_l("A residence permit number starts with 810000, 820000 or 830000."))
        return number
    number = _compact(value)
    _refuse_odd_characters(number, _l("A document number has only digits and Latin letters."))
    pattern, msg = _FORMATS[id_type]
    if not re.fullmatch(pattern, number):
        raise PIIError(msg)
    return number


def validate_mobile(value: str) -> str:
    """Mainland mobile: strip +86/0086 and separators, then ^1[3-9]\\d{9}$ (IV4)."""
    s = re.sub(r"[\s\-()（）]", "", normalize(value))
    _refuse_odd_characters(s.lstrip("+"), _l("A mobile number has only digits."), letters=False)
    s = re.sub(r"^(\+86|0086|86(?=1\d{10}$))", "", s)
    if not re.fullmatch(r"1[3-9]\d{9}", s):
        raise PIIError(_l("Enter a mainland mobile number: 11 digits starting with 13 to 19."))
    return s


def validate_contact_phone(value: str) -> str:
    """A contact number people call: a mainland mobile (as ``validate_mobile``) or a landline with its area
    code (020-83331234, (020)8333 1234, 0757-2233445) and an optional extension (转 8 / -8 / ext 8), or a
    local 7–8 digit number. Returns the mobile, or ``AREA-NUMBER[-EXT]``."""
    raw = normalize(value)
    try:
        return validate_mobile(raw)
    except PIIError:
        pass
    s = re.sub(r"\s*(转|ext\.?|x)\s*", "-", raw, flags=re.I)
    ext = ""
    m = re.fullmatch(r"(.*?\d)[-](\d{1,6})", s)
    if m and len(re.sub(r"\D", "", m.group(1))) >= 10:  # 0XX + 7–8 digits before a trailing extension
        s, ext = m.group(1), m.group(2)
    digits = re.sub(r"[\s\-()（）]", "", s)
    digits = re.sub(r"^(\+86|0086)0?", "0", digits)
    if re.fullmatch(r"0\d{9,11}", digits):
        area_len = 3 if digits[1] in "12" else 4  # 010, 020–029 have three digits; the rest four
        area, number = digits[:area_len], digits[area_len:]
        if 7 <= len(number) <= 8:
            return f"{area}-{number}" + (f"-{ext}" if ext else "")
    elif re.fullmatch(r"[2-9]\d{6,7}", digits):
        return digits + (f"-{ext}" if ext else "")
    raise PIIError(_l("Enter a mobile number (11 digits) or a landline with its area code, e.g. 020-83331234."))


def redact_identifier(value: str) -> str:
    """A login name or search term as it may be stored (audit log, login throttle): text with fewer
    than 7 digits is kept; anything that may be a mobile or ID number becomes ``redacted:<keyed hash>``
    (the same number in any spelling gives the same hash, so attempts still count together) (PR2, AU1)."""
    s = normalize(value)
    if sum(ch.isdigit() for ch in s) < 7:
        return s
    try:
        norm = "mobile:" + validate_mobile(s)
    except PIIError:
        norm = "other:" + re.sub(r"[\s\-()（）]", "", s).upper()
    from .crypto import blind_index
    return "redacted:" + blind_index(norm, "login")[:24]


def mask_id(number: str | None) -> str:
    """440103********1234 (first 6, last 4)."""
    if not number:
        return ""
    n = str(number)
    if len(n) <= 8:
        return n[:1] + "*" * (len(n) - 2) + n[-1:]
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def mask_phone(number: str | None) -> str:
    """138****5678."""
    if not number:
        return ""
    n = str(number)
    if len(n) < 7:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def mask_name(name: str | None) -> str:
    """张*丰 / 李* : keeps the family name."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def age_on(birth: _dt.date, day: _dt.date | None = None) -> int:
    day = day or today()
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
