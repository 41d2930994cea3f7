"""Helpers shared by the benchmarks: a log line with the time, a wall/CPU timer, a PostgreSQL schema
reset for a scratch database, and an empty copy of a table with its indexes (the raw baselines)."""
from __future__ import annotations

import time


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Timer:
    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


def reset_postgres(url):
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


def clone_table(db, src: str, dst: str):
    """An empty copy of ``src`` with the same indexes and constraints."""
    from core.db import is_sqlite
    db.execute_sql(f'DROP TABLE IF EXISTS "{dst}"')
    if is_sqlite():
        rows = db.execute_sql("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
                              (src,)).fetchall()
        for typ, name, sql in sorted(rows, key=lambda r: r[0] != "table"):
            sql = sql.replace(f'"{src}"', f'"{dst}"', 1) if typ == "table" else \
                sql.replace(f'"{name}"', f'"{name}_raw"', 1).replace(f'ON "{src}"', f'ON "{dst}"')
            db.execute_sql(sql)
    else:
        db.execute_sql(f'CREATE TABLE "{dst}" (LIKE "{src}" INCLUDING ALL)')


def database_kind(url: str, reset: bool) -> str:
    """"sqlite" or "postgresql" for the benchmark's database URL. A PostgreSQL database is emptied first
    (its public schema dropped), so it must be a scratch database of its own: ``reset`` (the
    ``--reset`` flag) says the user knows."""
    if url.startswith("sqlite"):
        return "sqlite"
    if not reset:
        import sys
        sys.exit("PostgreSQL: pass --reset (the public schema of that database is dropped); use a "
                 "database of its own, never real data")
    reset_postgres(url)
    return "postgresql"



def print_profile(fn, n: int, top: int, callers: str | None = None):
    """Run ``fn(i)`` for i in range(n) under cProfile; print the top by cumulative and by own time,
    and, given ``callers`` (a pstats restriction such as ``local.py:310``), who calls those functions."""
    import cProfile
    import pstats
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        fn(i)
    prof.disable()
    st = pstats.Stats(prof)
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)
    if callers:
        st.print_callers(callers)
