"""Valid, obviously fake identities for tests, demo data and benchmarks.

The numbers pass every check of ``core.pii`` (GB 11643 region code, birth date and check digit), so
the code paths are the real ones; the sequence code 9xx and the 138-0000-xxxx style phones make them
easy to recognise as fake.
"""
from __future__ import annotations

import datetime as _dt

from stdnum.cn import ric


def id_number(birth: _dt.date | str = "1990-01-01", *, region: str = "440106", seq: int = 901,
              gender: str = "M") -> str:
    """An 18-character mainland ID number with a correct check digit.
    ``seq`` (0–999) is the order code; its last digit is made odd for men, even for women (IV3)."""
    if isinstance(birth, str):
        birth = _dt.date.fromisoformat(birth)
    seq = int(seq) % 1000
    if (seq % 2 == 1) != (gender == "M"):
        seq = seq + 1 if seq < 999 else seq - 1
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def phone(n: int) -> str:
    """138 0000 xxxx style mobile numbers (valid format, obviously fake)."""
    return f"1380000{int(n) % 10000:04d}"


def birth_for_age(age: int, day: _dt.date | None = None, *, days_before_birthday: int | None = None
                  ) -> _dt.date:
    """A birth date that makes the person ``age`` years old on ``day``; with ``days_before_birthday``
    the next birthday is that many days away (an edge-of-age case)."""
    from core.db import today
    day = day or today()
    if days_before_birthday is not None:
        target = day + _dt.timedelta(days=days_before_birthday)
        try:
            return target.replace(year=target.year - age - 1)
        except ValueError:  # 29 February
            return target.replace(year=target.year - age - 1, day=28)
    try:
        return day.replace(year=day.year - age)
    except ValueError:
        return day.replace(year=day.year - age, day=28)
