"""Star ratings (星级认定, R-INC-1) from cumulative confirmed service hours.

The rating is always recomputed from the authoritative total (the sum of the volunteer's confirmed service
records), never incremented from an event's delta: a replayed event finds nothing to change, a correction
that lowers the hours demotes, and two workers handling the same event take turns on the volunteer's
``incentives_star`` row (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so the second finds the
rating already changed: one promotion, one history row, one 【星级晋升】 message.
"""
from __future__ import annotations

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, messages
from core.db import db, for_update, is_postgres, now, transaction
from plugins.activities.models import ServiceRecord
from plugins.volunteers.models import Volunteer

from .models import Star, StarChange
from .settings import star_thresholds

STAR = "★"


def stars_for(minutes: int, thresholds: list[int] | None = None) -> int:
    hours = star_thresholds() if thresholds is None else thresholds
    return sum(1 for h in hours if minutes >= h * 60)


def label(stars: int) -> str:
    return STAR * stars if stars else ""


def confirmed_minutes(volunteer_id: int) -> int:
    return int(ServiceRecord.select(pw.fn.COALESCE(pw.fn.SUM(ServiceRecord.minutes), 0)).where(
        (ServiceRecord.volunteer == volunteer_id) & (ServiceRecord.kind == "service")).scalar() or 0)


def _tell_promotion(change: StarChange):
    v = Volunteer.get_or_none(Volunteer.id == change.volunteer_id)
    if v is None or v.user_id is None:
        return

    def make():
        return (_("【星级晋升】You are now a %(n)s-star volunteer", n=change.to_stars),
                _("Thank you: your confirmed service hours reached %(hours)s, so your rating is now "
                  "%(stars)s.", hours=f"{change.minutes / 60:g}", stars=label(change.to_stars)))
    from core.models import User
    messages.send_translated(User.get_by_id(v.user_id), make, category="incentives.star",
                             dedupe_key=f"incentives.star_change:{change.id}")


def recompute(volunteer_id: int, *, source: str = "") -> Star:
    """Recompute one volunteer's rating from their confirmed service hours (idempotent). A change writes a
    history row and, for a promotion, one inbox message in the same transaction."""
    with transaction():
        Star.insert(volunteer=volunteer_id, stars=0, minutes=0, updated_at=now()).on_conflict_ignore().execute()
        star = for_update(Star.select().where(Star.volunteer == volunteer_id)).get()
        minutes = confirmed_minutes(volunteer_id)
        new = stars_for(minutes)
        if new == star.stars and minutes == star.minutes:
            return star
        old = star.stars
        Star.update(stars=new, minutes=minutes, updated_at=now()).where(Star.volunteer == volunteer_id).execute()
        star.stars, star.minutes = new, minutes
        if new != old:
            change = StarChange.create(volunteer=volunteer_id, from_stars=old, to_stars=new, minutes=minutes,
                                       source=source[:60])
            audit.log("incentives.star_changed", ("volunteer", volunteer_id),
                      {"from": old, "to": new, "minutes": minutes, "source": source[:60]})
            if new > old:
                _tell_promotion(change)
        return star


def on_hours_confirmed(event):
    """The activities plugin's ``activities.hours_confirmed`` (a confirmation or a correction)."""
    if getattr(event, "kind", "service") != "service" or not event.volunteer_id:
        return
    recompute(event.volunteer_id, source=event.idempotency_key or f"record:{event.record_id}")


def of(volunteer_id: int) -> int:
    row = Star.get_or_none(Star.volunteer == volunteer_id)
    return row.stars if row else 0


def of_many(volunteer_ids) -> dict[int, int]:
    ids = list(volunteer_ids)
    if not ids:
        return {}
    return dict(Star.select(Star.volunteer, Star.stars).where(Star.volunteer.in_(ids) & (Star.stars > 0)).tuples())


def history(volunteer_id: int) -> list[StarChange]:
    return list(StarChange.select().where(StarChange.volunteer == volunteer_id)
                .order_by(StarChange.changed_at.desc(), StarChange.id.desc()))


# ----------------------------------------------------------------------------- the full recompute
def _case(minutes_col: str, thresholds: list[int]) -> str:
    parts = " ".join(f"WHEN {minutes_col} >= {int(h) * 60} THEN {n}"
                     for n, h in reversed(list(enumerate(thresholds, 1))))
    return f"(CASE {parts} ELSE 0 END)"


def recompute_all(*, notify: bool = True) -> dict:
    """Every volunteer's rating in set-based SQL (``timebank incentives recompute``): missing rows, the
    minutes from one GROUP BY, a history row per change, the new ratings — four statements in one
    transaction — then one message per promotion (deduplicated by history row). Same statements on SQLite
    (≥ 3.33, UPDATE … FROM) and PostgreSQL."""
    th = star_thresholds()
    rec_t, vol_t = ServiceRecord._meta.table_name, Volunteer._meta.table_name
    rec_v = ServiceRecord.volunteer.column_name
    stamp = now()
    ts = Star._meta.fields["updated_at"].db_value(stamp)
    with transaction():
        if is_postgres():
            db.obj.execute_sql("LOCK TABLE incentives_star IN SHARE ROW EXCLUSIVE MODE")
        last = StarChange.select(pw.fn.COALESCE(pw.fn.MAX(StarChange.id), 0)).scalar()
        db.obj.execute_sql(
            "INSERT INTO incentives_star (volunteer_id, stars, minutes, updated_at) "
            f"SELECT v.id, 0, 0, %s FROM {vol_t} v "
            "WHERE NOT EXISTS (SELECT 1 FROM incentives_star s WHERE s.volunteer_id = v.id)".replace(
                "%s", _ph()), (ts,))
        db.obj.execute_sql(
            # every volunteer with a record is in the GROUP BY (records are never deleted, only corrected,
            # down to 0 minutes at least); one without keeps the 0 of the insert above
            f"UPDATE incentives_star SET minutes = t.m, updated_at = {_ph()} FROM ("
            f" SELECT r.{rec_v} AS vid, SUM(r.minutes) AS m FROM {rec_t} r WHERE r.kind = 'service'"
            f" GROUP BY r.{rec_v}) t WHERE incentives_star.volunteer_id = t.vid"
            " AND incentives_star.minutes <> t.m", (ts,))
        case = _case("minutes", th)
        cur = db.obj.execute_sql(
            "INSERT INTO incentives_star_change (volunteer_id, from_stars, to_stars, minutes, source, changed_at) "
            f"SELECT volunteer_id, stars, {case}, minutes, 'recompute', {_ph()} FROM incentives_star "
            f"WHERE stars <> {case}", (ts,))
        changed = cur.rowcount
        db.obj.execute_sql(f"UPDATE incentives_star SET stars = {case}, updated_at = {_ph()} "
                           f"WHERE stars <> {case}", (ts,))
        audit.log("incentives.stars_recomputed", None, {"changed": changed})
    promoted = 0
    if notify and changed:
        q = StarChange.select().where((StarChange.id > last) & (StarChange.to_stars > StarChange.from_stars))
        for change in q.iterator():
            with transaction():
                _tell_promotion(change)
            promoted += 1
    return {"changed": changed, "promoted": promoted}


def _ph() -> str:
    return "%s" if is_postgres() else "?"


PANEL_TITLE = _l("My star rating")
