#!/usr/bin/env python3
"""Benchmark: the yearly-target report over millions of service records (issue 5, point 8).

One run, on one database:
  1. seed      teams (a tree), volunteers of every category (political status and in-service
               reporting sealed through the real fields: one ciphertext per row, NS5), one membership each, activities over
               five years (10 % trainings, 30 % Party volunteer services) and ``--records`` confirmed
               service records, with the raw fast path: ``sqlite3.executemany`` in one transaction
               (SQLite) or ``COPY`` (PostgreSQL), secondary indexes dropped during the load and built
               after it, then ANALYZE (PostgreSQL: VACUUM ANALYZE, so index-only scans apply);
  2. measure   for one past year, each ``--rounds`` times after a warm-up, median and best:
               - ``handwritten``: a hand-written SQL GROUP BY — per volunteer, the year's service minutes
                 and distinct Party services — fetched with a bare cursor (the floor);
               - ``handwritten_joined``: the same GROUP BY LEFT JOINed to the volunteers (the report's
                 shape, hand-written);
               - ``report``: ``plugins.targets.services.report`` as the platform admin — the peewee
                 query, every volunteer's category, target, status and the summary in Python;
               - the same three for one team tree (a team admin's report: ~1/10 of the volunteers);
               with the query plans (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).
  Target: report ≤ 1.5 × handwritten (the ``ratio`` fields), with the index the activities plugin ships
  (``0002_service_totals_index``: volunteer, service_date, kind, minutes, activity).

Not seeded: sign-ups and slots. ``activities_service_record.signup_id`` gets a unique number with no
sign-up row behind it (foreign-key checks are off during the load: ``PRAGMA foreign_keys=OFF`` /
``session_replication_role = replica``); the report never reads sign-ups, and loading 10 M of them would
double the seeding time without changing what is measured.

Writes ``bench/results/targets-<db>-<records>-<date>.json``.

Usage:
  python bench/targets.py                                   # SQLite, 10,000,000 records
  python bench/targets.py --records 1000000                 # smaller, quicker
  python bench/targets.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
    (--reset drops and recreates the public schema of that database: never point it at real data)
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402
PLUGINS = ["volunteers", "teams", "documents", "activities", "targets"]
YEARS = (2022, 2023, 2024, 2025, 2026)
STATUSES = [("入党积极分子", 5), ("发展对象", 3), ("中共预备党员", 2), ("中共党员", 20), ("共青团员", 10),
            ("群众", 40), ("", 20)]


# ------------------------------------------------------------------------------------------ loading
def load(db, table: str, cols: list[str], rows, chunk: int = 500_000) -> int:
    """Rows into ``table``: one ``executemany`` in one transaction (SQLite) or COPY in chunks
    (PostgreSQL, one transaction)."""
    from core.db import is_postgres
    names = ", ".join(f'"{c}"' for c in cols)
    n = 0
    with db.atomic():
        if is_postgres():
            cur = db.cursor()
            buf, w, k = io.StringIO(), None, 0
            w = csv.writer(buf)
            for r in rows:
                w.writerow(["\\N" if v is None else v for v in r])
                k += 1
                if k == chunk:
                    buf.seek(0)
                    cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', buf)
                    n += k
                    buf, k = io.StringIO(), 0
                    w = csv.writer(buf)
            if k:
                buf.seek(0)
                cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')', buf)
                n += k
        else:
            marks = ", ".join("?" for _ in cols)
            counted = _counting(rows)
            db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', counted)
            n = counted.n
    return n


class _counting:
    def __init__(self, it):
        self.it, self.n = iter(it), 0

    def __iter__(self):
        return self

    def __next__(self):
        v = next(self.it)
        self.n += 1
        return v


def template(model, **values) -> tuple[list[str], list]:
    """Column names (with id) and one row of database values with the model's defaults."""
    from plugins.volunteers.import_ import insert_columns, row_tuples
    fields, _ = insert_columns(model)
    row = row_tuples(model, [values])[0]
    return ["id"] + [f.column_name for f in fields], [None] + list(row)


def secondary_indexes(model) -> list[str]:
    return [ix._name for ix in model._meta.fields_to_index()]


def seed(db, args, rnd) -> dict:
    from core.db import TZ, is_postgres
    from plugins.activities.models import Activity, Category, ServiceRecord
    from plugins.teams.models import Membership, Team
    from plugins.volunteers import services as vs
    from plugins.volunteers.models import PARTY_MEMBER_STATUSES, Volunteer
    n_vol, n_act, n_teams = args.volunteers, args.activities, args.teams
    info = {"records": args.records, "volunteers": n_vol, "activities": n_act, "teams": n_teams}
    if is_postgres():
        db.execute_sql("SET session_replication_role = replica")   # no FK triggers during the load
    else:
        db.execute_sql("PRAGMA foreign_keys = OFF")
    t_reg = dt.datetime(2021, 6, 1, 9, tzinfo=TZ)
    # teams: ten roots, the rest spread under them as sub-teams
    roots = max(1, n_teams // 10)
    cols, row = template(Team, name="x", leader_name="王队长", leader_phone="13800138000",
                         registered_on=dt.date(2021, 1, 1), status="approved", path="", created_at=t_reg)
    k_name, k_path, k_parent = cols.index("name"), cols.index("path"), cols.index("parent_id")
    teams = []
    for t in range(1, n_teams + 1):
        r = list(row)
        r[0], r[k_name] = t, f"压测队伍{t:04d}"
        parent = None if t <= roots else (t - roots - 1) % roots + 1
        r[k_parent], r[k_path] = parent, (f"/{t}/" if parent is None else f"/{parent}/{t}/")
        teams.append(r)
    load(db, "teams_team", cols, teams)
    # volunteers: political status and in-service reporting sealed through the real fields, a fresh
    # ciphertext per row (the report decrypts them: reusing one would hide nothing of the cost);
    # ID and phone ciphertext of one sample reused (filler)
    sample = vs.register({"name": "压测样本", "id_type": "cn_id", "id_number": "11010519491231002X",
                          "phone": "13800138000", "agreement": True}, create_account=False)
    seal_status, seal_reported = Volunteer.political_status.db_value, Volunteer.in_service_reported_on.db_value
    weights = [w for _, w in STATUSES]
    cols, row = template(Volunteer, number="x", name="x", gender="M", id_type="cn_id",
                         id_number=sample.id_number, id_hash="x", phone=sample.phone, phone_hash=sample.phone_hash,
                         agreement_version="2024-01", agreement_accepted_at=t_reg, registered_at=t_reg,
                         updated_at=t_reg)
    ix = {c: cols.index(c) for c in ("number", "name", "id_hash", "political_status",
                                     "in_service_reported_on", "id_number", "phone")}
    enc_id, enc_phone = row[ix["id_number"]], row[ix["phone"]]

    def volunteers():
        for i in range(2, n_vol + 2):
            r = list(row)
            s = rnd.choices(STATUSES, weights)[0][0]
            r[0], r[ix["number"]], r[ix["name"]] = i, f"BENCH{i:09d}", f"压测{i:07d}"
            r[ix["id_hash"]] = hashlib.sha256(f"bench:{i}".encode()).hexdigest()
            r[ix["political_status"]] = seal_status(s)
            r[ix["id_number"]], r[ix["phone"]] = enc_id, enc_phone
            reported = s in PARTY_MEMBER_STATUSES and rnd.random() < 0.5
            r[ix["in_service_reported_on"]] = seal_reported("2024-03-01" if reported else "")
            yield r
    with Timer() as t:
        load(db, "volunteers_volunteer", cols, volunteers())
    info["load_volunteers_s"] = round(t.wall, 2)
    # one approved membership each
    cols, row = template(Membership, team=1, volunteer=1, status="approved", applied_at=t_reg, decided_at=t_reg)
    k_team, k_vol = cols.index("team_id"), cols.index("volunteer_id")

    def memberships():
        for i in range(2, n_vol + 2):
            r = list(row)
            r[0], r[k_team], r[k_vol] = i, (i % n_teams) + 1, i
            yield r
    load(db, "teams_membership", cols, memberships())
    # activities: a date in one of five years, 10 % trainings, 30 % Party volunteer services
    cat = Category.select().first()
    cols, row = template(Activity, team=1, kind="service", title="压测活动", status="closed", category=cat.id,
                         created_at=t_reg)
    k = {c: cols.index(c) for c in ("team_id", "kind", "is_party_service", "starts_at")}
    day0, days = dt.date(YEARS[0], 1, 1), (dt.date(YEARS[-1], 12, 31) - dt.date(YEARS[0], 1, 1)).days + 1
    acts = []
    meta = []
    for a in range(1, n_act + 1):
        r = list(row)
        d = day0 + dt.timedelta(days=rnd.randrange(days))
        kind = "training" if rnd.random() < 0.1 else "service"
        party = kind == "service" and rnd.random() < 0.3
        team = rnd.randrange(n_teams) + 1
        r[0], r[k["team_id"]], r[k["kind"]], r[k["is_party_service"]] = a, team, kind, party
        r[k["starts_at"]] = Activity.starts_at.db_value(dt.datetime.combine(d, dt.time(9), tzinfo=TZ))
        acts.append(r)
        meta.append((a, team, kind, d.isoformat()))
    load(db, "activities_activity", cols, acts)
    del acts
    # service records: indexes off during the load, built after it
    names = secondary_indexes(ServiceRecord)
    for name in names:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    cols = ["id", "signup_id", "volunteer_id", "activity_id", "team_id", "kind", "service_date", "minutes",
            "version", "confirmed_at", "confirmed_by", "change_reason"]
    confirmed = ServiceRecord.confirmed_at.db_value(t_reg)
    per = args.records // n_act
    extra = args.records - per * n_act
    minutes = (60, 90, 120, 120, 180, 240, 30)

    def records():
        i = 0
        for a, team, kind, day in meta:
            n = per + (1 if a <= extra else 0)
            seen = set()
            for _ in range(n):
                v = rnd.randrange(n_vol) + 2
                while v in seen:
                    v = rnd.randrange(n_vol) + 2
                seen.add(v)
                i += 1
                yield (i, i, v, a, team, kind, day, rnd.choice(minutes), 1, confirmed, None, "")
    with Timer() as t:
        n = load(db, "activities_service_record", cols, records())
    info["load_records_s"] = round(t.wall, 2)
    info["load_records_rows_per_s"] = round(n / t.wall)
    assert n == args.records, n
    with Timer() as t:
        ServiceRecord._schema.create_indexes(safe=True)
    info["build_indexes_s"] = round(t.wall, 2)
    info["indexes"] = names
    if is_postgres():
        db.execute_sql("SET session_replication_role = DEFAULT")
        if args.pg_sequences:
            for table in ("teams_team", "volunteers_volunteer", "teams_membership", "activities_activity",
                          "activities_service_record"):
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT MAX(id) FROM \"{table}\"))")
    else:
        db.execute_sql("PRAGMA foreign_keys = ON")
    with Timer() as t:
        if is_postgres():
            conn = db.connection()
            old = conn.autocommit
            conn.autocommit = True
            with conn.cursor() as c:
                c.execute("VACUUM ANALYZE")
            conn.autocommit = old
        else:
            db.execute_sql("ANALYZE")
    info["analyze_s"] = round(t.wall, 2)
    return info


# ------------------------------------------------------------------------------------------ measuring
HANDWRITTEN = """SELECT volunteer_id, SUM(minutes),
       COUNT(DISTINCT CASE WHEN minutes > 0 AND activity_id IN
             (SELECT id FROM activities_activity WHERE is_party_service = {p}) THEN activity_id END)
  FROM activities_service_record
 WHERE kind = 'service' AND service_date >= {p} AND service_date < {p}{scope}
 GROUP BY volunteer_id"""
JOINED = """SELECT v.id, v.number, v.name, v.political_status, v.in_service_reported_on,
       COALESCE(t.minutes, 0), COALESCE(t.party, 0)
  FROM volunteers_volunteer v
  LEFT JOIN (SELECT volunteer_id, SUM(minutes) AS minutes,
                    COUNT(DISTINCT CASE WHEN minutes > 0 AND activity_id IN
                          (SELECT id FROM activities_activity WHERE is_party_service = {p})
                          THEN activity_id END) AS party
               FROM activities_service_record
              WHERE kind = 'service' AND service_date >= {p} AND service_date < {p}{scope}
              GROUP BY volunteer_id) t ON t.volunteer_id = v.id
 WHERE v.status = 'active' AND v.registered_at < {p}{vscope}"""
MEMBERS = "SELECT volunteer_id FROM teams_membership WHERE status = 'approved' AND team_id IN ({ids})"


def plan(db, sql: str, params) -> str:
    from core.db import is_sqlite
    if is_sqlite():
        return "\n".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    return "\n".join(r[0] for r in db.execute_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params).fetchall())


def timed(fns: dict, rounds: int) -> dict:
    """Each function once as a warm-up (pages in the cache), then ``rounds`` rounds that run them in
    turn, so load from other processes on the machine falls on all of them alike."""
    xs = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    rows = {k: fn() for k, fn in fns.items()}
    for _ in range(rounds):
        for k, fn in fns.items():
            with Timer() as t:
                rows[k] = fn()
            xs[k].append(t.wall)
            cpu[k].append(t.cpu)
    return {k: {"median_s": round(statistics.median(xs[k]), 4), "best_s": round(min(xs[k]), 4),
                "rounds_s": [round(x, 4) for x in xs[k]],
                "client_cpu_median_s": round(statistics.median(cpu[k]), 4), "rows": rows[k]} for k in fns}


def measure(db, app, args) -> dict:
    from core.db import TZ
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.targets import services
    from plugins.teams import services as teams
    year = args.year
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    end_dt = dt.datetime.combine(end, dt.time(), tzinfo=TZ)
    from core.db import DateTimeTZField
    end_db = DateTimeTZField().db_value(end_dt)
    p = db.obj.param
    admin = User.create(username="bench_admin", password_hash=hash_password("bench password 1"))
    grant_role(admin, PLATFORM_ADMIN)
    tadmin = User.create(username="bench_team_admin", password_hash=hash_password("bench password 1"))
    grant_role(tadmin, TEAM_ADMIN, "team:1")
    tree = teams.tree_ids(1)
    ids = ", ".join(str(int(t)) for t in tree)
    out = {"year": year, "team_tree": {"root": 1, "teams": len(tree)}}
    cur = db.cursor()

    def bare(sql, params):
        def run():
            cur.execute(sql, params)
            return len(cur.fetchall())
        return run

    scopes = {"all": ("", ""), "team_tree": (f" AND volunteer_id IN ({MEMBERS.format(ids=ids)})",
                                              f" AND v.id IN ({MEMBERS.format(ids=ids)})")}
    users = {"all": admin, "team_tree": tadmin}
    for name, (scope, vscope) in scopes.items():
        hw_sql = HANDWRITTEN.format(p=p, scope=scope)
        jn_sql = JOINED.format(p=p, scope=scope, vscope=vscope)
        hw_params = (True, start.isoformat(), end.isoformat())
        jn_params = (*hw_params, end_db)
        user = users[name]
        log(f"  {name}: handwritten, handwritten joined, report ({args.rounds} rounds)")
        res = timed({"handwritten": bare(hw_sql, hw_params), "handwritten_joined": bare(jn_sql, jn_params),
                     "report": lambda: len(services.report(user, year).rows)}, args.rounds)
        hw, jn, rep = res["handwritten"], res["handwritten_joined"], res["report"]
        log(f"    medians: handwritten {hw['median_s']} s, joined {jn['median_s']} s, report {rep['median_s']} s; "
            f"{rep['rows']} rows")
        q = services.report_query(year, services.scope_team_ids(user))
        sql, params = q.sql()
        out[name] = {
            "handwritten": hw, "handwritten_joined": jn, "report": rep,
            "ratio_report_vs_handwritten": round(rep["median_s"] / hw["median_s"], 3),
            "ratio_report_vs_handwritten_joined": round(rep["median_s"] / jn["median_s"], 3),
            "meets_target": rep["median_s"] <= 1.5 * hw["median_s"],
            "sql": {"handwritten": hw_sql, "report": sql},
            "plan": {"handwritten": plan(db, hw_sql, hw_params), "report": plan(db, sql, params)},
        }
        assert jn["rows"] == rep["rows"], (jn["rows"], rep["rows"])
    if args.profile:
        import cProfile
        import pstats
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(5):
            services.report(tadmin, year)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--volunteers", type=int, default=None, help="default: records / 100")
    ap.add_argument("--activities", type=int, default=None, help="default: records / 50")
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--year", type=int, default=2025, help="the (past) year reported")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--pg-sequences", action="store_true", default=True)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--tag", default="")
    ap.add_argument("--keep", default=None, help="SQLite: keep the seeded database in this folder and reuse it "
                                                 "on the next run (same --records)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one team-tree report")
    args = ap.parse_args()
    args.volunteers = args.volunteers or max(100, args.records // 100)
    args.activities = args.activities or max(10, args.records // 50)

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tb-bench-targets-"))
    tmp.mkdir(parents=True, exist_ok=True)
    reuse = bool(args.keep) and (tmp / "bench.db").exists() and not args.database_url
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    from core.db import db
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "PLUGINS": PLUGINS,
                      "TESTING": True})
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    result = {"benchmark": "targets", "database": kind, "date": dt.date.today().isoformat(), "commit": commit,
              "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg(), "target": "report median ≤ 1.5 × handwritten median"}
    rnd = random.Random(args.seed)
    with app.test_request_context():
        if kind == "sqlite":
            import sqlite3
            result["sqlite"] = sqlite3.sqlite_version
        else:
            result["postgresql"] = db.execute_sql("SHOW server_version").fetchone()[0]
        log(f"{kind}: seeding {args.records:,} service records, {args.volunteers:,} volunteers, "
            f"{args.activities:,} activities")
        if reuse:
            result["seed"] = json.loads((tmp / "seed.json").read_text())
            from core.models import User
            User.delete().where(User.username.startswith("bench_")).execute()
        else:
            with Timer() as t:
                result["seed"] = seed(db, args, rnd)
            result["seed"]["total_s"] = round(t.wall, 1)
            if args.keep:
                (tmp / "seed.json").write_text(json.dumps(result["seed"]))
        log(f"  seeded: {result['seed']}")
        log(f"measuring the {args.year} report")
        result["measure"] = measure(db, app, args)
    result["load_average_end"] = os.getloadavg()
    worst = max(result["measure"][s]["ratio_report_vs_handwritten"] for s in ("all", "team_tree"))
    result["ratio"] = worst
    result["meets_target"] = all(result["measure"][s]["meets_target"] for s in ("all", "team_tree"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = f"{args.records // 1_000_000}M" if args.records % 1_000_000 == 0 else str(args.records)
    f = out / f"targets-{kind}-{size}-{result['date']}{('-' + args.tag) if args.tag else ''}.json"
    f.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    log(f"wrote {f}: ratio {worst}, meets target: {result['meets_target']}")
    if not db.obj.is_closed():
        db.obj.close()
    if kind == "sqlite" and not args.keep:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if result["meets_target"] else 2)


if __name__ == "__main__":
    main()
