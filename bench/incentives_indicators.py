#!/usr/bin/env python3
"""Benchmark: the evaluation indicators dashboard's numbers (issue 16, R-INC-3) beside hand-written SQL.

One run, on one database:
  1. seed      ``--activities`` finished service activities with ``--signups`` confirmed sign-ups each, a
               service record per sign-up (every tenth without hours: a no-show) and a feedback form (套表2)
               per sign-up, raw (one transaction, foreign-key checks off: only the columns the indicators
               read are meaningful);
  2. measure   each ``--rounds`` times:
               - ``plugin``: ``plugins.incentives.indicators.collect(None, start, end)`` — every loaded
                 plugin's answer to ``incentive_indicators`` (activities and incentives here), the targets
                 and met / not met, as the dashboard computes them;
               - ``handwritten``: the same statements (feedback count and sum, places, confirmed sign-ups,
                 served sign-ups, distinct volunteers, activities, awards, the three entered values) with a
                 bare cursor — the same SQL work with no framework around it.
  Target: plugin / handwritten ≤ 1.5 (the ``ratio`` field). The figures of both must agree.

Usage:
  python bench/incentives_indicators.py                       # SQLite, 2,000 activities × 20 sign-ups
  python bench/incentives_indicators.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
Writes ``bench/results/incentives_indicators-<db>-<activities>-<date>.json``. Not part of the test suite.
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

import peewee as pw

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402

PLUGINS = ["volunteers", "teams", "documents", "activities", "incentives"]
TZ = dt.timezone(dt.timedelta(hours=8))
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _row(model, now, **given):
    """A row of ``model`` with ``given`` values, defaults where the model has them, placeholders elsewhere."""
    out = {}
    for f in model._meta.sorted_fields:
        if f.name in given:
            out[f.name] = given[f.name]
        elif isinstance(f, pw.AutoField):
            continue
        elif f.default is not None:
            out[f.name] = f.default() if callable(f.default) else f.default
        elif f.null:
            out[f.name] = None
        elif isinstance(f, pw.ForeignKeyField):
            out[f.name] = 1
        elif isinstance(f, pw.DateTimeField) or "DateTime" in type(f).__name__:
            out[f.name] = now
        elif isinstance(f, pw.DateField):
            out[f.name] = now.date()
        elif isinstance(f, (pw.IntegerField, pw.BigIntegerField, pw.SmallIntegerField, pw.DecimalField)):
            out[f.name] = 0
        elif isinstance(f, pw.BooleanField):
            out[f.name] = False
        else:
            out[f.name] = "x"
    return out


def seed(db, n: int, per: int):
    from plugins.activities.models import Activity, Feedback, ServiceRecord, SignUp
    pg = db.__class__.__name__.startswith("Postgres")
    now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=TZ)
    acts, sus, recs, fbs = [], [], [], []
    rid = 0
    for a in range(1, n + 1):
        ends = now + dt.timedelta(hours=a % 2000)
        acts.append(_row(Activity, now, id=a, team=1 + a % 50, kind="service", status="finished", starts_at=ends
                         - dt.timedelta(hours=3), ends_at=ends, capacity=per + 5, title=f"活动{a}"))
        for k in range(1, per + 1):
            rid += 1
            sus.append(_row(SignUp, now, id=rid, activity=a, shift=a, volunteer=k + (a % 7) * per,
                            status="confirmed"))
            recs.append(_row(ServiceRecord, now, id=rid, signup=rid, volunteer=k, activity=a, team=1 + a % 50,
                             kind="service", service_date=ends.date(), minutes=0 if rid % 10 == 0 else 180))
            fbs.append(_row(Feedback, now, id=rid, activity=a, volunteer=k + (a % 7) * per, overall=5 + rid % 6))
    with Timer() as t:
        conn = db.connection()
        cur = conn.cursor()
        if pg:
            cur.execute("SET session_replication_role = replica")
        else:
            cur.execute("PRAGMA foreign_keys=OFF")
        with db.atomic():
            for model, rows in ((Activity, acts), (SignUp, sus), (ServiceRecord, recs), (Feedback, fbs)):
                for k in range(0, len(rows), 500):
                    model.insert_many(rows[k:k + 500]).execute()
        if pg:
            cur.execute("SET session_replication_role = origin")
            cur.execute("ANALYZE")
            conn.commit()
        else:
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("ANALYZE")
    log(f"seeded {n} activities, {len(sus)} sign-ups, records and feedback forms in {t.wall:.1f} s")


def handwritten(db, pg: bool) -> dict:
    """The dashboard's statements by hand, on a bare cursor."""
    from core.db import TZ as SITE_TZ
    ph = "%s" if pg else "?"
    lo = dt.datetime.combine(START, dt.time(0), SITE_TZ)
    hi = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(0), SITE_TZ)
    from plugins.activities.models import Activity
    lo_v, hi_v = Activity.ends_at.db_value(lo), Activity.ends_at.db_value(hi)
    acts = ("SELECT id FROM activities_activity WHERE kind = 'service' AND ends_at >= {p} AND ends_at < {p} "
            "AND status IN ('finished', 'closed')").format(p=ph)
    a2 = (lo_v, hi_v)
    cur = db.connection().cursor()

    def one(sql, params=()):
        cur.execute(sql, params)
        return cur.fetchone()
    n_fb, total = one(f"SELECT COUNT(overall), COALESCE(SUM(overall), 0) FROM activities_feedback "
                      f"WHERE activity_id IN ({acts}) AND overall IS NOT NULL", a2)
    capacity = one(f"SELECT COALESCE(SUM(capacity), 0) FROM activities_activity WHERE id IN ({acts})", a2)[0]
    signups = one(f"SELECT COUNT(*) FROM activities_signup WHERE activity_id IN ({acts}) AND status = 'confirmed'",
                  a2)[0]
    served = one(f"SELECT COUNT(DISTINCT s.id) FROM activities_signup s JOIN activities_service_record r "
                 f"ON r.signup_id = s.id WHERE s.activity_id IN ({acts}) AND s.status = 'confirmed' "
                 f"AND r.minutes > 0", a2)[0]
    people = one(f"SELECT COUNT(DISTINCT volunteer_id) FROM activities_signup WHERE activity_id IN ({acts}) "
                 f"AND status = 'confirmed'", a2)[0]
    n_acts = one(f"SELECT COUNT(*) FROM ({acts}) t", a2)[0]
    awards = one(f"SELECT COUNT(id) FROM incentives_nomination WHERE status IN ('awarded', 'published') "
                 f"AND decided_on >= {ph} AND decided_on <= {ph}", (START.isoformat(), END.isoformat()))[0]
    for code in ("incentives.media_reports", "incentives.clicks", "incentives.outside_awards"):
        one(f"SELECT SUM(value) FROM incentives_indicator_value WHERE code = {ph} AND period_start >= {ph} "
            f"AND period_end <= {ph}", (code, START.isoformat(), END.isoformat()))
    return {"feedback": n_fb, "total": total, "capacity": capacity, "signups": signups, "served": served,
            "people": people, "activities": n_acts, "awards": awards}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--activities", type=int, default=2000)
    ap.add_argument("--signups", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--reset", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-indicators-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "PLUGINS": PLUGINS})
    from core.db import db
    from plugins.activities.models import Activity
    from plugins.incentives.indicators import collect
    pg = kind == "postgresql"
    with app.test_request_context():
        seed(db.obj, args.activities, args.signups)
        plugin_t, hand_t = [], []
        for r in range(args.rounds + 1):          # round 0 warms up
            with Timer() as tp:
                got = {i.code: i for i in collect(None, START, END)}
            with Timer() as th:
                hand = handwritten(db.obj, pg)
            if r:
                plugin_t.append(tp.wall)
                hand_t.append(th.wall)
            log(f"round {r}: plugin {tp.wall:.4f} s, handwritten {th.wall:.4f} s")
        assert got["activities.signups"].value == hand["signups"], (got["activities.signups"].value, hand)
        assert got["activities.activities"].value == hand["activities"] == Activity.select().count()
        assert got["activities.feedback_forms"].value == hand["feedback"]
        assert got["activities.volunteers"].value == hand["people"]
    p, h = statistics.median(plugin_t), statistics.median(hand_t)
    result = {"benchmark": "incentives.indicators", "database": kind, "activities": args.activities,
              "signups": args.activities * args.signups, "rounds": args.rounds,
              "plugin_seconds": {"median": round(p, 4), "best": round(min(plugin_t), 4)},
              "handwritten_seconds": {"median": round(h, 4), "best": round(min(hand_t), 4)},
              "ratio": round(p / h, 3), "target": 1.5, "meets_target": p / h <= 1.5,
              "satisfaction": str(got["activities.satisfaction"].value),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "date": dt.date.today().isoformat()}
    out = Path(args.out) / f"incentives_indicators-{kind}-{args.activities}-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    log(f"ratio plugin/handwritten {result['ratio']} -> {out}")


if __name__ == "__main__":
    main()
