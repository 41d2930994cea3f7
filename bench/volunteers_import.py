#!/usr/bin/env python3
"""Benchmark: bulk import of volunteers and lookup by ID number (issue 3, "Performance").

One run, on one database:
  1. import   100,000 volunteers from a CSV file through the real import path
              (``plugins.volunteers.import_.import_file``: parsing, validation with the registration
              rules, encryption, blind indexes, numbers from the sequence, audit rows, batches of 500
              with executemany / execute_values) — rows per second, wall and CPU time; a dry run of the
              same file first gives the share of reading + validation;
  2. raw      the same rows, already prepared (the ciphertext just written, read back), into an
              identical table (same indexes) with one raw ``executemany`` (SQLite) or
              ``execute_values`` and ``COPY`` (PostgreSQL) — the ceiling the import is compared with;
  3. lookup   a volunteer by ID number (``services.find_by_id_number``: validate, HMAC blind index,
              indexed SELECT, decrypt) and the bare indexed SELECT, among 10,000 and 1,000,000 rows,
              with the query plan (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) proving an index lookup. The
              rows above 100,000 are filler written with the raw fast path: real blind indexes, one
              ciphertext of the right size repeated.

Writes ``bench/results/volunteers_import-<db>-<date>.json``.

Usage:
  python bench/volunteers_import.py                       # SQLite in a temporary folder
  python bench/volunteers_import.py --database-url postgresql://postgres@127.0.0.1:5432/bench --reset
    (--reset drops and recreates the public schema of that database: never point it at real data)
  --rows 20000 --sizes 10000,200000 for a quick run.
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

NAME = "压测志愿者"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, clone_table, database_kind, log  # noqa: E402


def make_csv(start: int, n: int) -> bytes:
    """n fake volunteers (valid, obviously fake identities) as a CSV with Chinese headers."""
    from plugins.volunteers.demo import fake_id_number, fake_phone
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["姓名", "性别", "证件类型", "证件号码", "手机号码", "所属区域", "详细地址", "工作单位", "特长"])
    for i in range(start, start + n):
        idn, district = fake_id_number(i)
        w.writerow([f"{NAME}{i:07d}", "男" if int(idn[16]) % 2 else "女", "居民身份证", idn, fake_phone(i),
                    district, f"{district}示例路{i % 999 + 1}号", "示例单位", "摄影"])
    return buf.getvalue().encode("utf-8")





def bench_raw(db, n_expected: int) -> dict:
    """The prepared rows (as stored) into an identical table with the raw fast path."""
    from core.db import is_postgres
    from plugins.volunteers.import_ import insert_columns
    from plugins.volunteers.models import Volunteer
    fields, cols = insert_columns(Volunteer)
    tuples = db.execute_sql(f'SELECT {cols} FROM "volunteers_volunteer" ORDER BY id').fetchall()
    assert len(tuples) == n_expected, len(tuples)
    out = {}
    clone_table(db, "volunteers_volunteer", "bench_volunteer_raw")
    if is_postgres():
        from psycopg2.extras import execute_values
        with Timer() as t:
            with db.atomic():
                execute_values(db.cursor(), f'INSERT INTO "bench_volunteer_raw" ({cols}) VALUES %s', tuples,
                               page_size=1000)
        out["execute_values"] = {"wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                                 "rows_per_s": round(len(tuples) / t.wall)}
        clone_table(db, "volunteers_volunteer", "bench_volunteer_raw")
        buf = io.StringIO()
        w = csv.writer(buf)
        for row in tuples:
            w.writerow(["\\N" if v is None else v for v in row])
        with Timer() as t:
            with db.atomic():
                buf.seek(0)
                db.cursor().copy_expert(f'COPY "bench_volunteer_raw" ({cols}) FROM STDIN WITH (FORMAT csv, '
                                        "NULL '\\N')", buf)
        out["copy"] = {"wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                       "rows_per_s": round(len(tuples) / t.wall)}
    else:
        marks = ", ".join("?" for _ in fields)
        with Timer() as t:
            with db.atomic():
                db.cursor().executemany(f'INSERT INTO "bench_volunteer_raw" ({cols}) VALUES ({marks})', tuples)
        out["executemany"] = {"wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                              "rows_per_s": round(len(tuples) / t.wall)}
    db.execute_sql('DROP TABLE "bench_volunteer_raw"')
    return out


def fill_to(db, target: int, next_i: int) -> int:
    """Add filler volunteers (real blind indexes, repeated ciphertext) until the table has ``target``."""
    from core.db import is_postgres, now
    from plugins.volunteers import services
    from plugins.volunteers.demo import fake_id_number
    from plugins.volunteers.import_ import insert_columns, row_tuples
    from plugins.volunteers.models import Volunteer
    have = Volunteer.select().count()
    if have >= target:
        return next_i
    fields, cols = insert_columns(Volunteer)
    sample = Volunteer.select().first()
    enc_id = Volunteer.id_number.db_value(sample.id_number)
    enc_phone = Volunteer.phone.db_value(sample.phone)
    t = now()
    base = {"gender": "M", "id_type": "cn_id", "birth_date": sample.birth_date, "agreement_version": "2024-01",
            "agreement_accepted_at": t, "registered_at": t, "updated_at": t, "district": "天河区",
            "phone_hash": sample.phone_hash}
    template = row_tuples(Volunteer, [{**base, "name": "x", "number": "x", "id_hash": "x"}])[0]
    names = [f.name for f in fields]
    k_name, k_number, k_hash = names.index("name"), names.index("number"), names.index("id_hash")
    k_id, k_phone = names.index("id_number"), names.index("phone")
    remaining = target - have
    chunk = 50000
    while remaining > 0:
        n = min(chunk, remaining)
        rows = []
        for i in range(next_i, next_i + n):
            idn, _d = fake_id_number(i)
            r = list(template)
            r[k_name] = f"填充{i:07d}"
            r[k_number] = f"FILL{i:09d}"
            r[k_hash] = services.id_hash("cn_id", idn)
            r[k_id], r[k_phone] = enc_id, enc_phone
            rows.append(r)
        with db.atomic():
            if is_postgres():
                buf = io.StringIO()
                w = csv.writer(buf)
                for r in rows:
                    w.writerow(["\\N" if v is None else v for v in r])
                buf.seek(0)
                db.cursor().copy_expert(f'COPY "volunteers_volunteer" ({cols}) FROM STDIN WITH (FORMAT csv, '
                                        "NULL '\\N')", buf)
            else:
                marks = ", ".join("?" for _ in fields)
                db.cursor().executemany(f'INSERT INTO "volunteers_volunteer" ({cols}) VALUES ({marks})', rows)
        next_i += n
        remaining -= n
    return next_i


def unregistered_id(i: int) -> str:
    """A valid ID number nobody in the benchmark has: region 440115 (南沙区) is not used by the fakes."""
    from stdnum.cn import ric

    from plugins.volunteers.demo import fake_id_number
    body = "440115" + fake_id_number(i)[0][6:17]
    return body + ric.calc_check_digit(body + "0")


def plan(db, sql: str, params) -> str:
    from core.db import is_sqlite
    if is_sqlite():
        rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(str(r[-1]) for r in rows)
    rows = db.execute_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


def bench_lookup(db, known: list[int], n_lookups: int) -> dict:
    from core.db import is_sqlite
    from plugins.volunteers import services
    from plugins.volunteers.demo import fake_id_number
    from plugins.volunteers.models import Volunteer
    if is_sqlite():
        db.execute_sql("ANALYZE")
    else:
        db.execute_sql("ANALYZE volunteers_volunteer")
    rows = Volunteer.select().count()
    rnd = random.Random(7)
    picks = [fake_id_number(rnd.choice(known))[0] for _ in range(n_lookups)]
    missing = [unregistered_id(i) for i in range(n_lookups // 10)]
    # warm-up (connection, statement cache, pages)
    for idn in picks[:50]:
        services.find_by_id_number("cn_id", idn)
    svc = []
    for idn in picks:
        t0 = time.perf_counter()
        v = services.find_by_id_number("cn_id", idn)
        svc.append(time.perf_counter() - t0)
        assert v is not None and v.id_number == idn
    miss = []
    for idn in missing:
        t0 = time.perf_counter()
        assert services.find_by_id_number("cn_id", idn) is None
        miss.append(time.perf_counter() - t0)
    hashes = [services.id_hash("cn_id", idn) for idn in picks]
    p = db.obj.param if hasattr(db, "obj") else db.param
    sql = f'SELECT "id" FROM "volunteers_volunteer" WHERE "id_hash" = {p}'
    cur = db.cursor()
    bare = []
    for h in hashes:
        t0 = time.perf_counter()
        cur.execute(sql, (h,))
        cur.fetchone()
        bare.append(time.perf_counter() - t0)
    q = Volunteer.select().where(Volunteer.id_hash == hashes[0]).limit(1)
    full_sql, params = q.sql()
    text = plan(db, full_sql, params)
    index_lookup = ("USING INDEX" in text or "USING COVERING INDEX" in text) if is_sqlite() else \
        ("Index Scan" in text or "Index Only Scan" in text)

    def stats(xs):
        xs = sorted(xs)
        return {"mean_us": round(statistics.fmean(xs) * 1e6, 1), "median_us": round(xs[len(xs) // 2] * 1e6, 1),
                "p95_us": round(xs[int(len(xs) * 0.95)] * 1e6, 1), "n": len(xs)}
    return {"rows": rows, "service_find_by_id_number": stats(svc), "service_not_found": stats(miss),
            "bare_indexed_select": stats(bare), "query": full_sql, "plan": text, "index_lookup": index_lookup}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--lookups", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-import-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    from core.db import db
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "PLUGINS": ["volunteers"],
                      "TESTING": True})
    result = {"benchmark": "volunteers_import", "database": kind, "date": dt.date.today().isoformat(),
              "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg(), "rows": args.rows, "batch_size": args.batch_size}
    with app.test_request_context():
        from plugins.volunteers import import_
        from plugins.volunteers.models import Volunteer
        if kind == "sqlite":
            import sqlite3
            result["sqlite"] = sqlite3.sqlite_version
        else:
            result["postgresql"] = db.execute_sql("SHOW server_version").fetchone()[0]

        log(f"{kind}: generating {args.rows} rows")
        data = make_csv(1, args.rows)
        log("dry run (read + validate + duplicate check)")
        with Timer() as t:
            res = import_.import_file(data, "bench.csv", dry_run=True, batch_size=args.batch_size, actor_name="bench")
        assert res.count("ok") == args.rows, res.summary()
        result["dry_run"] = {"wall_s": round(t.wall, 2), "cpu_s": round(t.cpu, 2),
                             "rows_per_s": round(args.rows / t.wall)}
        log(f"  {result['dry_run']}")
        log("import")
        with Timer() as t:
            res = import_.import_file(data, "bench.csv", batch_size=args.batch_size, actor_name="bench")
        assert res.count("imported") == args.rows, res.summary()
        assert Volunteer.select().count() == args.rows
        result["import"] = {"wall_s": round(t.wall, 2), "cpu_s": round(t.cpu, 2),
                            "rows_per_s": round(args.rows / t.wall),
                            "rows_per_cpu_s": round(args.rows / t.cpu)}
        log(f"  {result['import']}")
        log("raw fast path, same prepared rows")
        result["raw"] = bench_raw(db, args.rows)
        best_raw = max(v["rows_per_s"] for v in result["raw"].values())
        result["import_vs_raw"] = round(result["import"]["rows_per_s"] / best_raw, 3)
        log(f"  {result['raw']}")

        # lookups: shrink to the smallest size if needed, then grow
        result["lookup"] = {}
        next_i = args.rows + 1
        for size in sizes:
            have = Volunteer.select().count()
            if have > size:
                db.execute_sql(f'DELETE FROM "volunteers_volunteer" WHERE id NOT IN (SELECT id FROM '
                               f'"volunteers_volunteer" ORDER BY id LIMIT {int(size)})')
            else:
                log(f"filling to {size}")
                with Timer() as t:
                    next_i = fill_to(db, size, next_i)
                log(f"  filled in {t.wall:.1f} s")
            # look up imported volunteers (real ciphertext); the filler only makes the index bigger
            known = [int(v.name[len(NAME):]) for v in Volunteer.select(Volunteer.name)
                     .where(Volunteer.name.startswith(NAME))]
            log(f"lookups among {size}")
            r = bench_lookup(db, known, args.lookups)
            result["lookup"][str(size)] = r
            log(f"  service median {r['service_find_by_id_number']['median_us']} us, bare median "
                f"{r['bare_indexed_select']['median_us']} us, index lookup: {r['index_lookup']}")
            log("  plan: " + r["plan"].replace("\n", " | ")[:200])
    result["load_average_end"] = os.getloadavg()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    f = out / f"volunteers_import-{kind}-{result['date']}{('-' + args.tag) if args.tag else ''}.json"
    f.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    log(f"wrote {f}")
    if not db.obj.is_closed():
        db.obj.close()
    if kind == "sqlite":
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
