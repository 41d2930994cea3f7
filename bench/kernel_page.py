#!/usr/bin/env python3
"""Benchmark: a page served through the full kernel against a bare Flask app doing the same query.

One run, on one database:
  1. builds a site in a temporary instance folder with every built-in plugin enabled, seeds users,
     notices and inbox messages, and a platform admin the load generator logs in as;
  2. serves a bare Flask app (no plugins, no session, no templates beyond one small page) that runs
     the same indexed query, under the very same gunicorn set-up as ``timebank serve``, and loads it
     with wrk after a warm-up;
  3. serves the site with ``timebank serve`` (core.SiteApp, same workers and threads), logs in over
     HTTP, and loads the page with the session cookie;
  4. writes ``bench/results/kernel_page-<db>-<date>.json``: requests/s and p99 latency of both, the ratio
     kernel/bare and the target (kernel >= 0.6 x bare).

Scenarios (``--scenario``, default all):
  notice  GET /notices/<id> as a logged-in user; bare: SELECT the notice by primary key.
  inbox   GET /inbox (50 messages of the user); bare: the same SELECT of the user's messages.

Usage: python bench/kernel_page.py [--database-url postgresql://postgres@127.0.0.1:5432/test --reset]
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = 0.6
BENCH_USER, BENCH_PASSWORD = "benchadmin", "bench-Password-9f3a"
N_USERS, N_NOTICES, N_MESSAGES = 2000, 1000, 50

SCENARIOS = {
    "notice": {"path": "/notices/{notice_id}", "what": "notice detail page (SELECT by primary key)"},
    "inbox": {"path": "/inbox", "what": "inbox page (SELECT the user's 50 newest messages)"},
}


# ------------------------------------------------------------------ the bare app
NOTICE_SQL = ('SELECT "id", "title", "body", "published", "published_at", "author_id" FROM "notices_notice" '
              'WHERE "id" = {p} AND "published" = {p}')
INBOX_SQL = ('SELECT "id", "subject", "created_at", "read_at" FROM "core_message" WHERE "recipient_id" = {p} '
             'ORDER BY "created_at" DESC LIMIT 200')


def bare_app(database_url: str, scenario: str):
    """Flask + peewee, one connection kept per worker thread, the same query as the kernel page.

    Under ``/sql/…`` the stricter baseline: the query's SQL text written out and run with
    ``execute_sql`` (no query building at all), as the kernel's ``core.db.compiled`` runs it."""
    import peewee as pw
    from flask import Flask, abort

    from core.db import make_database

    database = make_database(database_url)

    class Notice(pw.Model):
        title = pw.CharField()
        body = pw.TextField()
        published = pw.BooleanField()
        published_at = pw.DateTimeField()

        class Meta:
            table_name = "notices_notice"

    class Message(pw.Model):
        recipient_id = pw.IntegerField()
        subject = pw.CharField()
        created_at = pw.DateTimeField()
        read_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "core_message"

    database.bind([Notice, Message])
    app = Flask("bare")
    page = app.jinja_env.from_string(  # compiled once, as the kernel's templates are cached
           "<!doctype html><html lang=zh-CN><title>{{ t }}</title><h1>{{ t }}</h1>"
            "{% for r in rows %}<p>{{ r.title or r.subject }} {{ r.published_at or r.created_at }}</p>"
            "{% endfor %}</html>")

    @app.before_request
    def _conn():  # kept per thread, as the kernel does
        if database.is_closed():
            database.connect(reuse_if_open=True)

    p = database.param
    notice_sql, inbox_sql = NOTICE_SQL.format(p=p), INBOX_SQL.format(p=p)

    @app.route("/sql/notices/<int:notice_id>")
    def notice_sql_page(notice_id):
        row = database.execute_sql(notice_sql, (notice_id, True)).fetchone()
        if row is None:
            abort(404)
        return page.render(t=row[1], rows=[{"title": row[1], "published_at": row[4]}])

    @app.route("/sql/inbox/<int:user_id>")
    def inbox_sql_page(user_id):
        rows = [{"subject": r[1], "created_at": r[2]} for r in database.execute_sql(inbox_sql, (user_id,))]
        return page.render(t="inbox", rows=rows)

    @app.route("/notices/<int:notice_id>")
    def notice(notice_id):
        n = Notice.get_or_none((Notice.id == notice_id) & (Notice.published == True))  # noqa: E712
        if n is None:
            abort(404)
        return page.render(t=n.title, rows=[n])

    @app.route("/inbox/<int:user_id>")
    def inbox(user_id):
        rows = list(Message.select().where(Message.recipient_id == user_id)
                    .order_by(Message.created_at.desc()).limit(200))
        return page.render(t="inbox", rows=rows)

    return app


def serve_bare(args):
    """Run the bare app under core.cli.run_server, so gunicorn is configured exactly as for
    ``timebank serve`` (worker class, threads, access log, timeout)."""
    import core
    from core.cli import run_server

    def factory(_config=None):
        return bare_app(args.database_url, args.scenario)
    core.SiteApp = factory  # run_server loads ``core.SiteApp(config)`` in each worker
    run_server("127.0.0.1", args.port, args.workers, args.threads)


# ------------------------------------------------------------------ the site
def build_site(instance: Path, url: str) -> dict:
    """Create the site with every built-in plugin enabled and seed it; return ids the pages need."""
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(instance)
    os.environ["TIMEBANK_DATABASE_URL"] = url
    from core import create_app
    from core import plugins as P
    from core.db import db, now, transaction
    from core.models import Message, User
    from core.security import PLATFORM_ADMIN, VOLUNTEER, grant_role, hash_password

    probe = create_app({"PLUGINS": []})
    with probe.app_context():
        available, problems = P.discover()
    # TIMEBANK_BENCH_EXCLUDE=privacy,giving: the same site without those plugins, to measure what one costs
    exclude = {n.strip() for n in os.environ.get("TIMEBANK_BENCH_EXCLUDE", "").split(",") if n.strip()}
    builtin = sorted(n for n, i in available.items() if i.source == "builtin" and n not in exclude)
    db.obj.close()
    app = create_app({"PLUGINS": builtin})
    from plugins.notices.models import Notice
    with app.test_request_context():
        t = now()
        pw_hash = hash_password("x" * 16)
        with transaction():
            admin = User.create(username=BENCH_USER, display_name="压测管理员",
                                password_hash=hash_password(BENCH_PASSWORD))
            grant_role(admin, PLATFORM_ADMIN)
            User.insert_many([{"username": f"bench{i:05d}", "display_name": f"志愿者{i}",
                               "password_hash": pw_hash, "created_at": t, "password_changed_at": t}
                              for i in range(N_USERS)]).execute()
            for u in User.select().where(User.username.startswith("bench0")).limit(200):
                grant_role(u, VOLUNTEER)
            Notice.insert_many([{"title": f"社区公告 第{i}号", "body": "本周六上午九点社区志愿服务活动。" * 5,
                                 "published": True, "published_at": t - dt.timedelta(minutes=i)}
                                for i in range(N_NOTICES)]).execute()
            Message.insert_many([{"recipient": admin.id, "subject": f"站内信 {i}", "body": "内容",
                                  "category": "bench", "created_at": t - dt.timedelta(minutes=i)}
                                 for i in range(N_MESSAGES)]).execute()
        notice_id = Notice.select(Notice.id).order_by(Notice.id).offset(N_NOTICES // 2).first().id
        loaded = list(app.extensions["timebank"].loaded)
        admin_id = admin.id
    db.obj.close()
    return {"plugins": loaded, "notice_id": notice_id, "user_id": admin_id, "problems": problems}


def reset_postgres(url: str):
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


# ------------------------------------------------------------------ servers and load
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cmd, env, log: Path, port: int):
        self.port = port
        self.log = log
        self.fh = open(log, "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2).read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"server did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.fh.close()


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        raise ValueError(value)
    n, unit = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"requests_per_second": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "requests": total, "non_2xx_3xx": int(bad.group(1)) if bad else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def wrk(url: str, args, headers: dict, seconds: float) -> dict:
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency",
           "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    res = parse_wrk(out)
    res["raw"] = out
    return res


def fetch(url: str, opener=None, data=None) -> tuple[int, str, str]:
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(url, data=data, timeout=10) as r:
            return r.status, r.geturl(), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, url, e.read().decode("utf-8", "replace")


def log_in(base: str, page: str) -> str:
    """Log in through the login form like a browser; return the Cookie header value a browser would
    send for ``page`` (after its first visit, which stores the CSRF token in the session)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, html = fetch(base + "/login", opener)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    data = urllib.parse.urlencode({"username": BENCH_USER, "password": BENCH_PASSWORD,
                                   "csrf_token": token.group(1)}).encode()
    status, final, html = fetch(base + "/login", opener, data)
    if status != 200 or "/login" in urllib.parse.urlparse(final).path:
        raise SystemExit(f"login failed: {status} {final}\n{html[:500]}")
    fetch(base + page, opener)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check_page(url: str, cookie: str | None, must_contain: list[str]):
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    status, final, html = fetch(req)  # type: ignore[arg-type]
    if status != 200 or final != url:
        raise SystemExit(f"{url} answered {status} ({final}) instead of the page")
    for s in must_contain:
        if s not in html:
            raise SystemExit(f"{url}: expected {s!r} in the page")
    return len(html.encode())


def summarise(runs: list[dict]) -> dict:
    """Median of the rounds (requests/s and p99 each on their own), with every round kept."""
    import statistics
    return {"requests_per_second": round(statistics.median(r["requests_per_second"] for r in runs), 1),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "server_cpu_ms_per_request": round(statistics.median(r["server_cpu_ms_per_request"] for r in runs), 3),
            "bytes": runs[0]["bytes"],
            "rounds": [{k: r[k] for k in ("requests_per_second", "p50_ms", "p99_ms", "requests",
                                          "server_cpu_ms_per_request")}
                       for r in runs]}


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process and its children (gunicorn's master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for t in Path(f"/proc/{p}/task").iterdir():
                kids = (t / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def measure(name: str, url: str, args, headers: dict, must_contain: list[str], pid: int) -> dict:
    size = check_page(url, headers.get("Cookie"), must_contain)
    wrk(url, args, headers, args.warmup)
    cpu0 = cpu_seconds(pid)
    res = wrk(url, args, headers, args.duration)
    # server CPU per request: hardly moved by other load on the machine, unlike requests/s
    res["server_cpu_ms_per_request"] = round((cpu_seconds(pid) - cpu0) * 1000 / max(res["requests"], 1), 3)
    check_page(url, headers.get("Cookie"), must_contain)  # still logged in, still the page
    if res["non_2xx_3xx"] or res["socket_errors"]:
        raise SystemExit(f"{name}: {res['non_2xx_3xx']} bad responses, {res['socket_errors']} socket "
                         f"errors\n{res['raw']}")
    res["bytes"] = size
    res.pop("raw", None)
    print(f"  {name:<7} {res['requests_per_second']:>9.1f} req/s   p99 {res['p99_ms']:>7.1f} ms   "
          f"server cpu {res['server_cpu_ms_per_request']:.2f} ms/request   ({size} bytes)", flush=True)
    return res


# ------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default="",
                    help="postgresql://… of a scratch database of its own (needs --reset); default SQLite in a temp dir")
    ap.add_argument("--reset", action="store_true",
                    help="drop and recreate the public schema of --database-url before seeding")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS) + ["all"], default="all")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--rounds", type=int, default=3,
                    help="bare and kernel are loaded in turn this many times; medians are reported")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder for the JSON result")
    ap.add_argument("--label", default="", help="added to the file name, e.g. 'before'")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = ap.parse_args(argv)

    # a terminated run still stops its servers (the finally blocks below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'instance' / 'bench.db'}"
    kind = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
    if kind == "postgresql":
        if not args.reset:
            raise SystemExit("the benchmark replaces the public schema of --database-url; "
                             "pass --reset to confirm it is a scratch database")
        reset_postgres(url)
    print(f"building the site ({kind}) in {tmp}", flush=True)
    site = build_site(tmp / "instance", url)
    print(f"  plugins: {', '.join(site['plugins'])}", flush=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    env.update(TIMEBANK_INSTANCE_PATH=str(tmp / "instance"), TIMEBANK_DATABASE_URL=url,
               PYTHONPATH=str(ROOT))
    scenarios = sorted(SCENARIOS) if args.scenario == "all" else [args.scenario]
    results = []
    try:
        for sc in scenarios:
            print(f"scenario {sc}: {SCENARIOS[sc]['what']}", flush=True)
            path = SCENARIOS[sc]["path"].format(**site)
            bare_path = path if sc == "notice" else f"/inbox/{site['user_id']}"
            expect = ["社区公告"] if sc == "notice" else ["站内信 0"]
            # (a) bare Flask, same query, same gunicorn set-up; (b) the full kernel: timebank serve,
            # all built-in plugins, a logged-in user. Both stay up and are loaded in turn, round
            # after round, so a change in the machine's other load hits both alike.
            p_bare, p_kern = free_port(), free_port()
            bare = Server([sys.executable, str(Path(__file__).resolve()), "_serve-bare", "--port",
                           str(p_bare), "--database-url", url, "--scenario", sc, "--workers",
                           str(args.workers), "--threads", str(args.threads)], env, tmp / f"bare-{sc}.log",
                          p_bare)
            kern = Server([sys.executable, "-m", "core.cli", "serve", "--port", str(p_kern),
                           "--workers", str(args.workers), "--threads", str(args.threads)],
                          env, tmp / f"kernel-{sc}.log", p_kern)
            rounds = {"bare": [], "bare_sql": [], "kernel": []}
            try:
                bare.wait_ready(bare_path)
                kern.wait_ready("/login")
                base = f"http://127.0.0.1:{p_kern}"
                cookie = log_in(base, path)
                runs = {"bare": lambda: measure("bare", f"http://127.0.0.1:{p_bare}{bare_path}", args, {},
                                                expect, bare.proc.pid),
                        "bare_sql": lambda: measure("bare_sql", f"http://127.0.0.1:{p_bare}/sql{bare_path}",
                                                    args, {}, expect, bare.proc.pid),
                        "kernel": lambda: measure("kernel", base + path, args, {"Cookie": cookie},
                                                  expect + [BENCH_USER], kern.proc.pid)}
                for i in range(args.rounds):
                    print(f"  round {i + 1}/{args.rounds}", flush=True)
                    # back to back, the order reversed every other round, so a drift in the
                    # machine's other load does not always favour the same side
                    for name in (("bare", "bare_sql", "kernel") if i % 2 == 0 else ("kernel", "bare_sql", "bare")):
                        rounds[name].append(runs[name]())
            finally:
                bare.stop()
                kern.stop()
            r_bare, r_sql, r_kern = (summarise(rounds[k]) for k in ("bare", "bare_sql", "kernel"))
            paired = [k["requests_per_second"] / b["requests_per_second"]
                      for b, k in zip(rounds["bare"], rounds["kernel"])]
            paired_sql = [k["requests_per_second"] / b["requests_per_second"]
                          for b, k in zip(rounds["bare_sql"], rounds["kernel"])]
            ratio = statistics.median(paired)
            ratio_sql = statistics.median(paired_sql)
            cpu_ratio = r_bare["server_cpu_ms_per_request"] / r_kern["server_cpu_ms_per_request"]
            cpu_ratio_sql = r_sql["server_cpu_ms_per_request"] / r_kern["server_cpu_ms_per_request"]
            print(f"  median: bare {r_bare['requests_per_second']:.1f} req/s p99 {r_bare['p99_ms']:.1f} ms; "
                  f"bare_sql {r_sql['requests_per_second']:.1f} req/s; "
                  f"kernel {r_kern['requests_per_second']:.1f} req/s p99 {r_kern['p99_ms']:.1f} ms; "
                  f"ratio kernel/bare {ratio:.2f} (target >= {TARGET}), kernel/bare_sql {ratio_sql:.2f}; "
                  f"server CPU per request bare/kernel {cpu_ratio:.2f}, bare_sql/kernel {cpu_ratio_sql:.2f}",
                  flush=True)
            results.append({"scenario": sc, "page": path, "bare_page": bare_path, "what": SCENARIOS[sc]["what"],
                            "bare": r_bare, "bare_sql": r_sql, "kernel": r_kern,
                            "ratio": round(ratio, 3), "round_ratios": [round(x, 3) for x in paired],
                            "cpu_ratio": round(cpu_ratio, 3),
                            "ratio_vs_bare_sql": round(ratio_sql, 3),
                            "round_ratios_vs_bare_sql": [round(x, 3) for x in paired_sql],
                            "cpu_ratio_vs_bare_sql": round(cpu_ratio_sql, 3),
                            "target": TARGET, "meets_target": ratio >= TARGET})
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "core", "plugins"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    report = {
        "benchmark": "kernel_page",
        "database": kind,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit + ("+dirty" if dirty else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "server": {"gunicorn_workers": args.workers, "threads": args.threads,
                   "worker_class": "gthread" if args.threads > 1 else "sync",
                   "same_setup": "both through core.cli.run_server (timebank serve)"},
        "load": {"tool": "wrk", "connections": args.connections, "threads": args.wrk_threads,
                 "duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.rounds,
                 "figures": "median of the rounds; ratio = median of each round's kernel/bare pair"},
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "data": {"users": N_USERS + 1, "notices": N_NOTICES, "messages_of_user": N_MESSAGES},
        "plugins": site["plugins"],
        "target": f"kernel requests/s >= {TARGET} x bare",
        "ratio": round(min(r["ratio"] for r in results), 3),
        "meets_target": all(r["meets_target"] for r in results),
        "cpu_ratio": round(min(r["cpu_ratio"] for r in results), 3),
        "ratio_vs_bare_sql": round(min(r["ratio_vs_bare_sql"] for r in results), 3),
        "scenarios": results,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"kernel_page-{kind}-{dt.date.today().isoformat()}{'-' + args.label if args.label else ''}.json"
    (out / name).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {out / name}: ratio {report['ratio']} ({'meets' if report['meets_target'] else 'below'} "
          f"the target {TARGET})")
    return 0 if report["meets_target"] else 2


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve-bare":
        p = argparse.ArgumentParser()
        p.add_argument("--port", type=int)
        p.add_argument("--database-url")
        p.add_argument("--scenario")
        p.add_argument("--workers", type=int)
        p.add_argument("--threads", type=int)
        serve_bare(p.parse_args(sys.argv[2:]))
    else:
        sys.exit(main())
