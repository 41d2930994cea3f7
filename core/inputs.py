"""Input from outside, normalised in one place (SECURITY.md NS2).

Every identifier, number and date a person types (form, admin, import, API, query string) goes through
``normalize`` before it is validated: Unicode NFKC (full-width ｀１３８…｀ → ``138…``, superscript ``²`` → ``2``),
then every other Unicode decimal digit (Arabic-Indic, Devanagari, …) mapped to its ASCII digit. A value
that is then still not what the field expects is a field error in the user's language, never a 500.
"""
from __future__ import annotations

import unicodedata

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
