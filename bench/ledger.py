#!/usr/bin/env python3
"""Benchmark: the time bank ledger (issue 5, "Performance").

One run, on one database:
  1. post     N hour confirmations (default 1,000,000: 100,000 volunteers × 10 records of 1–4 hours)
              through the ledger's real posting path, ``plugins.ledger.services.credit_hours_batch``
              (the path of `timebank ledger sync` and of every event, which is a batch of one), in
              batches of 1,000 confirmations per transaction: accounts locked, idempotency keys and
              record versions checked, carry/cap rules applied, the transfer + 2 entries + hours
              credit written and both balances updated — confirmations per second;
  2. raw      the very rows the ledger wrote (transfers, entries, hours credits), inserted again into
              empty copies of the three tables (same indexes) with one raw ``executemany`` (SQLite) or
              ``execute_values`` (PostgreSQL) per batch of the same size, one transaction per batch —
              the ceiling; **ratio = post ÷ raw** (target ≥ 0.2);
  3. balance  reading one account's balance (``services.balance``) when it has 10 entries and when it
              has 100,000, many times each — **ratio = time(100,000) ÷ time(10)** (target ≤ 1.2: the
              balance is stored with the account, so a read never sums history); beside it the naive
              SUM over the entries, which does grow.
At the end ``services.verify()`` must find nothing wrong.

Writes ``bench/results/ledger-<db>-<date>.json``.

Usage:
  python bench/ledger.py                                           # SQLite in a temporary folder
  python bench/ledger.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
    (--reset drops and recreates the public schema of that database: never point it at real data)
  --confirmations 100000 for a quicker run.
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, clone_table, database_kind, log  # noqa: E402

BATCH = 1000


def open_accounts(n_volunteers: int):
    """Accounts for volunteers 1..n (setup, not measured): the ledger finds them by owner."""
    from core.db import bulk_insert, transaction
    from plugins.ledger.models import Account
    for start in range(1, n_volunteers + 1, 10_000):
        rows = [{"code": f"volunteer:{i}", "kind": "volunteer", "owner_id": i, "name": f"压测志愿者{i:07d}"}
                for i in range(start, min(start + 10_000, n_volunteers + 1))]
        with transaction():
            bulk_insert(Account, rows)


def confirmations(n: int, n_volunteers: int, first_record: int = 1):
    rnd = random.Random(7)
    day0 = dt.date(2026, 1, 1)
    for i in range(n):
        yield {"record_id": first_record + i, "volunteer_id": 1 + i % n_volunteers, "kind": "service",
               "minutes": rnd.choice((60, 90, 120, 150, 180, 240)), "version": 1, "team_id": 1 + i % 50,
               "service_date": day0 + dt.timedelta(days=i % 330)}


def bench_post(n: int, n_volunteers: int) -> dict:
    from plugins.ledger import services as L
    batch, done, transfers = [], 0, 0
    per_batch = []
    with Timer() as t:
        for ev in confirmations(n, n_volunteers):
            batch.append(ev)
            if len(batch) == BATCH:
                b0 = time.perf_counter()
                r = L.credit_hours_batch(batch)
                per_batch.append(time.perf_counter() - b0)
                done += r["credited"]
                transfers += r["transfers"]
                batch = []
                if done % 100_000 == 0:
                    log(f"  posted {done:,}")
        if batch:
            r = L.credit_hours_batch(batch)
            done += r["credited"]
            transfers += r["transfers"]
    assert done == n, (done, n)
    return {"confirmations": n, "transfers": transfers, "wall_s": round(t.wall, 2), "cpu_s": round(t.cpu, 2),
            "confirmations_per_s": round(n / t.wall), "transfers_per_s": round(transfers / t.wall),
            "batch_ms_p50": round(statistics.median(per_batch) * 1000, 1) if per_batch else None}


def bench_raw(db, n: int) -> dict:
    """The same rows again, raw, into empty copies of the tables; only the inserts are timed."""
    from core.db import is_postgres
    tables = ("ledger_transfer", "ledger_entry", "ledger_hours_credit")
    for t in tables:
        clone_table(db, t, f"{t}_raw")
    cols = {t: [r[0] for r in db.execute_sql(f'SELECT * FROM "{t}" LIMIT 0').description] for t in tables}
    total = 0.0
    cur = db.cursor()
    first_hc = db.execute_sql("SELECT MIN(id) FROM ledger_hours_credit").fetchone()[0]
    last_hc = db.execute_sql("SELECT MAX(id) FROM ledger_hours_credit").fetchone()[0]
    lo = first_hc
    while lo <= last_hc:
        hi = lo + BATCH
        hcs = db.execute_sql("SELECT * FROM ledger_hours_credit WHERE id >= %s AND id < %s" % (lo, hi)).fetchall()
        tids = [r[cols["ledger_hours_credit"].index("transfer_id")] for r in hcs]
        tids = [x for x in tids if x is not None]
        tmin, tmax = (min(tids), max(tids)) if tids else (0, -1)
        trs = db.execute_sql("SELECT * FROM ledger_transfer WHERE id >= %s AND id <= %s" % (tmin, tmax)).fetchall()
        ens = db.execute_sql("SELECT * FROM ledger_entry WHERE transfer_id >= %s AND transfer_id <= %s"
                             % (tmin, tmax)).fetchall()
        t0 = time.perf_counter()
        with db.atomic():
            for table, rows in (("ledger_transfer", trs), ("ledger_entry", ens), ("ledger_hours_credit", hcs)):
                names = ", ".join(f'"{c}"' for c in cols[table])
                if is_postgres():
                    from psycopg2.extras import execute_values
                    execute_values(cur, f'INSERT INTO "{table}_raw" ({names}) VALUES %s', rows, page_size=1000)
                else:
                    marks = ", ".join("?" for _ in cols[table])
                    cur.executemany(f'INSERT INTO "{table}_raw" ({names}) VALUES ({marks})', rows)
        total += time.perf_counter() - t0
        lo = hi
    got = db.execute_sql('SELECT COUNT(*) FROM "ledger_hours_credit_raw"').fetchone()[0]
    assert got == n, (got, n)
    return {"wall_s": round(total, 2), "confirmations_per_s": round(n / total)}


def bench_balance(db, reads: int) -> dict:
    from core.db import bulk_insert, transaction
    from core.models import Setting
    from plugins.ledger import services as L
    from plugins.ledger.models import Account
    with transaction():  # no cap for these two: every hour becomes a transfer
        Setting.delete().where(Setting.key == "ledger.volunteer_cap").execute()
        Setting.create(key="ledger.volunteer_cap", value="0")
    base = db.execute_sql("SELECT COALESCE(MAX(owner_id), 0) FROM ledger_account WHERE kind = 'volunteer'").fetchone()[0]
    small_v, big_v = base + 1, base + 2
    with transaction():
        bulk_insert(Account, [{"code": f"volunteer:{v}", "kind": "volunteer", "owner_id": v, "name": f"余额{v}"}
                              for v in (small_v, big_v)])
    rid = 50_000_000
    for vid, count in ((small_v, 10), (big_v, 100_000)):
        for start in range(0, count, BATCH):
            L.credit_hours_batch([{"record_id": rid + start + i, "volunteer_id": vid, "kind": "service",
                                   "minutes": 60, "version": 1} for i in range(min(BATCH, count - start))])
        rid += count
    small, big = L.volunteer_account(small_v), L.volunteer_account(big_v)
    assert (small.entry_count, big.entry_count) == (10, 100_000)
    out = {}
    samples = {"entries_10": [], "entries_100000": []}
    naive = {"entries_10": [], "entries_100000": []}
    pairs = (("entries_10", small), ("entries_100000", big))
    for _round in range(9):   # interleaved rounds: a load change on the machine hits both alike
        for label, acct in pairs:
            t0 = time.perf_counter()
            for _ in range(reads // 9):
                L.balance(acct.id)
            samples[label].append((time.perf_counter() - t0) / (reads // 9))
        for label, acct in pairs:
            k = max(reads // 900, 5)
            t0 = time.perf_counter()
            for _ in range(k):
                db.execute_sql("SELECT SUM(amount) FROM ledger_entry WHERE account_id = %s" % acct.id).fetchone()
            naive[label].append((time.perf_counter() - t0) / k)
    for label, acct in pairs:
        out[label] = {"balance": L.balance(acct.id), "us_per_read": round(statistics.median(samples[label]) * 1e6, 1),
                      "naive_sum_us": round(statistics.median(naive[label]) * 1e6, 1)}
    out["ratio"] = round(out["entries_100000"]["us_per_read"] / out["entries_10"]["us_per_read"], 3)
    out["naive_ratio"] = round(out["entries_100000"]["naive_sum_us"] / out["entries_10"]["naive_sum_us"], 1)
    out["reads"] = reads
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reset", action="store_true", help="drop the public schema of a PostgreSQL database first")
    ap.add_argument("--confirmations", type=int, default=1_000_000)
    ap.add_argument("--volunteers", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=20_000)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--tag", default="")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-ledger-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    from core.db import db
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "TESTING": True,
                      "PLUGINS": ["volunteers", "teams", "documents", "activities", "ledger"]})
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    result = {"benchmark": "ledger", "database": kind, "date": dt.date.today().isoformat(), "commit": commit,
              "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg(), "batch": BATCH}
    with app.test_request_context():
        from plugins.ledger import services as L
        if kind == "sqlite":
            import sqlite3
            result["sqlite"] = sqlite3.sqlite_version
        else:
            result["postgresql"] = db.execute_sql("SHOW server_version").fetchone()[0]
        log(f"{kind}: opening {args.volunteers:,} accounts")
        open_accounts(args.volunteers)
        log(f"posting {args.confirmations:,} hour confirmations through the ledger")
        result["post"] = bench_post(args.confirmations, args.volunteers)
        log(f"  {result['post']}")
        log("raw inserts of the same rows")
        result["raw"] = bench_raw(db, args.confirmations)
        log(f"  {result['raw']}")
        result["post_vs_raw"] = round(result["post"]["confirmations_per_s"] / result["raw"]["confirmations_per_s"], 3)
        log(f"  ratio {result['post_vs_raw']} (target ≥ 0.2)")
        log("balance reads: 10 vs 100,000 entries")
        result["balance"] = bench_balance(db, args.reads)
        log(f"  {result['balance']}")
        log("verify")
        with Timer() as t:
            problems = L.verify()
        result["verify"] = {"problems": len(problems), "wall_s": round(t.wall, 2)}
        assert not problems, problems[:5]
    result["targets"] = {"post_vs_raw_min": 0.2, "balance_ratio_max": 1.2}
    result["meets_targets"] = bool(result["post_vs_raw"] >= 0.2 and result["balance"]["ratio"] <= 1.2)
    result["load_average_end"] = os.getloadavg()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"ledger-{kind}-{result['date']}{('-' + args.tag) if args.tag else ''}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {path}")
    return 0 if result["meets_targets"] else 2


if __name__ == "__main__":
    sys.exit(main())
