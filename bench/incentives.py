#!/usr/bin/env python3
"""Benchmark: recomputing every volunteer's star rating (issue 16, R-INC-1) beside hand-written SQL.

One run, on one database:
  1. seed      ``--volunteers`` volunteers (only the columns the recompute reads are meaningful; personal
               fields hold placeholders) and ``--records-per`` confirmed service records each (minutes spread so
               that every star level occurs), with the raw fast path (``executemany`` in one transaction,
               foreign-key checks off: records point to no sign-up/activity rows, which the recompute never
               reads);
  2. measure   each ``--rounds`` times from the same start (the star tables emptied first):
               - ``plugin``: ``plugins.incentives.stars.recompute_all(notify=False)`` — the command's work
                 without the promotion messages;
               - ``handwritten``: the same four statements (missing rows; minutes through UPDATE … FROM one
                 GROUP BY; history rows for the changes; the new ratings) written by hand and run with a bare
                 cursor in one transaction — the same SQL work with no framework around it.
  Target: handwritten / plugin ≥ 0.3 (the ``ratio`` field).

Writes ``bench/results/incentives-<db>-<volunteers>-<date>.json``.

Usage:
  python bench/incentives.py                         # SQLite, 100,000 volunteers
  python bench/incentives.py --volunteers 1000000    # the issue's figure (slow to seed)
  python bench/incentives.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402

PLUGINS = ["volunteers", "teams", "documents", "activities", "incentives"]


def seed(db, n: int, per: int):
    from plugins.volunteers.models import Volunteer
    from plugins.activities.models import ServiceRecord
    pg = db.__class__.__name__.startswith("Postgres")
    vt, rt = Volunteer._meta.table_name, ServiceRecord._meta.table_name
    now = dt.datetime(2026, 1, 1, 12, 0)
    given = {"gender": "M", "id_type": "cn_id", "agreement_version": "2024-01", "status": "active"}
    fields = [f for f in Volunteer._meta.sorted_fields if f.name not in ("id", "number", "name", "id_hash",
                                                                      "phone_hash", "user")]
    base = []
    for f in fields:
        if f.name in given:
            v = given[f.name]
        elif f.default is not None:
            v = f.default() if callable(f.default) else f.default
        elif f.null:
            v = None
        elif isinstance(f, (__import__("peewee").DateTimeField,)):
            v = now
        else:
            v = "x"
        base.append(f.db_value(v) if v is not None and not isinstance(v, str) else v)
    names = ["id", "number", "name", "id_hash", "phone_hash"] + [f.column_name for f in fields]
    vols = [(i, f"B{i:09d}", f"志愿者{i}", f"h{i}", f"p{i}", *base) for i in range(1, n + 1)]
    cols = ", ".join(names)
    # every star level: volunteer i serves (i % 1700) hours in ``per`` records
    recs = []
    rid = 0
    for i in range(1, n + 1):
        total = (i % 1700) * 60
        for k in range(per):
            rid += 1
            recs.append((rid, rid, i, 1, 1, "service", dt.date(2025, 1 + k % 12, 1).isoformat(), total // per, 1,
                         now.isoformat(sep=" "), ""))
    rcols = ("id, signup_id, volunteer_id, activity_id, team_id, kind, service_date, minutes, version, confirmed_at, "
             "change_reason")
    ph = "%s" if pg else "?"
    with Timer() as t:
        conn = db.connection()
        cur = conn.cursor()
        if pg:
            cur.execute("SET session_replication_role = replica")
        else:
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("BEGIN")           # one transaction (the connection is in autocommit mode)
        cur.executemany(f"INSERT INTO {vt} ({cols}) VALUES ({', '.join([ph] * len(names))})", vols)
        cur.executemany(f"INSERT INTO {rt} ({rcols}) VALUES ({', '.join([ph] * 11)})", recs)
        conn.commit()
        if pg:
            cur.execute("SET session_replication_role = origin")
            conn.commit()
            cur.execute("ANALYZE")
        else:
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("ANALYZE")
            conn.commit()
    log(f"seeded {n} volunteers, {len(recs)} records in {t.wall:.1f} s")


def reset_stars(db):
    db.execute_sql("DELETE FROM incentives_star_change")
    db.execute_sql("DELETE FROM incentives_star")
    if not db.in_transaction():
        db.commit() if hasattr(db, "commit") else None


def handwritten(db, thresholds, pg: bool):
    from plugins.volunteers.models import Volunteer
    from plugins.activities.models import ServiceRecord
    vt, rt = Volunteer._meta.table_name, ServiceRecord._meta.table_name
    ph = "%s" if pg else "?"
    case = "(CASE " + " ".join(f"WHEN minutes >= {h * 60} THEN {k}" for k, h in
                               reversed(list(enumerate(thresholds, 1)))) + " ELSE 0 END)"
    ts = "2026-01-01 12:00:00"
    conn = db.connection()
    cur = conn.cursor()
    if not pg:
        cur.execute("BEGIN IMMEDIATE")
    cur.execute(f"INSERT INTO incentives_star (volunteer_id, stars, minutes, updated_at) SELECT v.id, 0, 0, {ph} "
                f"FROM {vt} v WHERE NOT EXISTS (SELECT 1 FROM incentives_star s WHERE s.volunteer_id = v.id)", (ts,))
    cur.execute(f"UPDATE incentives_star SET minutes = t.m, updated_at = {ph} FROM (SELECT r.volunteer_id AS vid, "
                f"SUM(r.minutes) AS m FROM {rt} r WHERE r.kind = 'service' GROUP BY r.volunteer_id) t "
                f"WHERE incentives_star.volunteer_id = t.vid AND incentives_star.minutes <> t.m", (ts,))
    cur.execute(f"INSERT INTO incentives_star_change (volunteer_id, from_stars, to_stars, minutes, source, changed_at) "
                f"SELECT volunteer_id, stars, {case}, minutes, 'recompute', {ph} FROM incentives_star "
                f"WHERE stars <> {case}", (ts,))
    changed = cur.rowcount
    cur.execute(f"UPDATE incentives_star SET stars = {case}, updated_at = {ph} WHERE stars <> {case}", (ts,))
    conn.commit()
    return changed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--volunteers", type=int, default=100_000)
    ap.add_argument("--records-per", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--reset", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-incentives-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "PLUGINS": PLUGINS})
    from core.db import db
    from plugins.incentives.models import Star, StarChange
    from plugins.incentives.settings import star_thresholds
    from plugins.incentives.stars import recompute_all
    with app.app_context():
        seed(db.obj, args.volunteers, args.records_per)
        th = star_thresholds()
        plugin_t, hand_t, outs = [], [], {}
        for r in range(args.rounds + 1):          # round 0 warms up
            with db.obj.atomic():
                StarChange.delete().execute()
                Star.delete().execute()
            with Timer() as tp:
                out = recompute_all(notify=False)
            if r:
                plugin_t.append(tp.wall)
            outs["plugin"] = out["changed"]
            with db.obj.atomic():
                StarChange.delete().execute()
                Star.delete().execute()
            with Timer() as t:
                changed = handwritten(db.obj, th, kind == "postgresql")
            if r:
                hand_t.append(t.wall)
            outs["handwritten"] = changed
            log(f"round {r}: plugin {tp.wall:.3f} s, handwritten {t.wall:.3f} s")
        assert outs["plugin"] == outs["handwritten"], outs
        dist = dict(Star.select(Star.stars, __import__("peewee").fn.COUNT(Star.volunteer)).group_by(Star.stars).tuples())
    p, h = statistics.median(plugin_t), statistics.median(hand_t)
    result = {"benchmark": "incentives.recompute_all", "database": kind, "volunteers": args.volunteers,
              "records": args.volunteers * args.records_per, "rounds": args.rounds,
              "plugin_seconds": {"median": round(p, 4), "best": round(min(plugin_t), 4)},
              "handwritten_seconds": {"median": round(h, 4), "best": round(min(hand_t), 4)},
              "ratio": round(h / p, 3), "target": 0.3, "meets_target": h / p >= 0.3, "changed": outs["plugin"],
              "stars": {str(k): v for k, v in sorted(dist.items())},
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "date": dt.date.today().isoformat()}
    out = Path(args.out) / f"incentives-{kind}-{args.volunteers}-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    log(f"ratio handwritten/plugin {result['ratio']} -> {out}")


if __name__ == "__main__":
    main()
