"""Team standards checklist (RULES R-TEAM-6): the 34 items, assessing a team, scoring."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import audit, inputs
from core.db import today, transaction
from core.errors import FieldErrors

from .models import KINDS, RATINGS, Assessment, Item, Result

DATA = Path(__file__).with_name("items.json")
POINTS = {"met": 1.0, "partly": 0.5, "not": 0.0}


def load_items() -> int:
    """Load the 34 items from items.json (idempotent: existing numbers are left alone)."""
    data = json.loads(DATA.read_text(encoding="utf-8"))["items"]
    have = {n for (n,) in Item.select(Item.number).tuples()}
    rows = [r for r in data if r["number"] not in have]
    for r in rows:
        Item.create(**r)
    return len(rows)


def items() -> list[Item]:
    return list(Item.select().order_by(Item.number))


def sections() -> list[tuple[int, str, list[Item]]]:
    """(section_no, section title, items) in handbook order."""
    out: dict[int, tuple[int, str, list[Item]]] = {}
    for it in items():
        out.setdefault(it.section_no, (it.section_no, it.section, []))[2].append(it)
    return list(out.values())


def assess(team, ratings: dict, *, kind: str = "self", note: str = "", actor=None,
           notes: dict | None = None, assessed_on=None) -> Assessment:
    """Record one assessment of ``team``: ``ratings`` maps every item number (1-34) to met|partly|not.
    All-or-nothing: any missing item or unknown rating raises FieldErrors and writes nothing."""
    all_items = {it.number: it for it in items()}
    errors = {}
    if kind not in KINDS:
        errors["kind"] = _l("Unknown assessment kind.")
    clean = {}
    for k, v in (ratings or {}).items():
        try:
            n = inputs.parse_int(k, min=1, max=10 ** 6)
        except inputs.InputError:
            errors[f"item_{k}"] = _l("Unknown checklist item.")
            continue
        if n not in all_items:
            errors[f"item_{n}"] = _l("Unknown checklist item.")
        elif v not in RATINGS:
            errors[f"item_{n}"] = _l("Choose met, partly met or not met.")
        else:
            clean[n] = v
    missing = sorted(set(all_items) - set(clean) - {k for k in all_items if f"item_{k}" in errors})
    if missing:
        errors["__all__"] = _l("Rate every item; missing: %(items)s.", items=", ".join(map(str, missing)))
    if errors:
        raise FieldErrors(errors)
    notes = notes or {}
    with transaction():
        a = Assessment.create(team=team, kind=kind, note=(note or "").strip(),
                              assessor_id=getattr(actor, "id", None),
                              assessed_on=assessed_on or today())
        Result.insert_many([{"assessment": a.id, "item": all_items[n].id, "rating": r,
                             "note": str(notes.get(n, "") or "").strip()} for n, r in sorted(clean.items())]
                           ).execute()
        s = score(a)
        audit.log("team_standards.assessed", a, {"team_id": a.team_id, "kind": kind,
                                                 "points": s.points, "percent": s.percent}, user=actor)
    return a


@dataclass
class SectionScore:
    number: int
    title: str
    points: float
    total: int
    items: list = field(default_factory=list)  # (Item, rating)

    @property
    def percent(self) -> float:
        return round(100.0 * self.points / self.total, 1) if self.total else 0.0


@dataclass
class Score:
    points: float
    total: int
    sections: list[SectionScore]

    @property
    def percent(self) -> float:
        return round(100.0 * self.points / self.total, 1) if self.total else 0.0


def score(assessment) -> Score:
    """met 1, partly 0.5, not 0 — points out of all items (34), a percentage and per-section scores.
    An item with no result counts as not met."""
    rated = {r.item_id: r.rating for r in Result.select().where(Result.assessment == assessment.id)}
    secs = []
    for no, title, its in sections():
        pairs = [(it, rated.get(it.id)) for it in its]
        secs.append(SectionScore(no, title, sum(POINTS.get(r, 0.0) for _i, r in pairs), len(its), pairs))
    return Score(sum(s.points for s in secs), sum(s.total for s in secs), secs)
