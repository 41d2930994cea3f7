#!/usr/bin/env python3
"""Benchmark: the public activity listing and the sign-up request at scale (issue 4, "Performance").

One run, on one database:
  1. builds a site in a temporary instance folder through the real ``init`` path (default plugins:
     activities, volunteers, teams, …) and fills it fast with raw inserts (SQLite: one executemany per
     table in one transaction; PostgreSQL: COPY): 500 teams, 100,000 volunteers, 200,000 published
     activities with Chinese titles and descriptions (varied keywords, districts, fields, categories,
     dates), one slot each, and 2,000,000 sign-ups; plus 2,000 volunteers with user accounts, each
     logged in up front through the kernel's session API (``core.security.start_session``, a real
     server-side session row, the signed Flask cookie and a CSRF token), and the slots the load writes
     into;
  2. serves the site with ``timebank serve``'s gunicorn set-up (``core.cli.run_server``: 2 workers,
     gthread, 4 threads) next to a bare Flask app under the very same set-up, and loads them in turn
     with wrk (32 connections, warm-up, 3 rounds, medians):
       listing  GET /activities/?district=…&field=…&q=<Chinese keyword> (anonymous, the real page)
                bare: one indexed SELECT of the same filter (no keyword) and a tiny page;
       signup   POST /activities/shifts/<id>/signup by logged-in volunteers, each request a fresh
                (volunteer, slot) pair (wrk rotates through the sessions with a Lua script)
                bare: one INSERT of a sign-up row, committed;
  3. burst: 1,000 distinct volunteers POST a sign-up to one 100-place slot at the same moment
     (1,000 threads, real HTTP against gunicorn): exactly 100 confirmed, the rest waitlisted; the
     wall time from the release of the burst to the last answer;
  4. writes ``bench/results/activities-<db>-<date>.json`` with the ratios against the bare app measured
     in the same run, p99 latencies, the load average, and the query plans.

Targets: listing >= 0.4 x bare SELECT with p99 < 100 ms at 32 connections; sign-up >= 0.6 x bare INSERT.

Usage:
  python bench/activities.py                      # SQLite in a temporary folder
  python bench/activities.py --database-url postgresql://postgres@127.0.0.1:5432/actbench_big --reset
  python bench/activities.py --quick              # small data set, short runs (a minute or two)
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from kernel_page import Server, cpu_seconds, free_port, parse_wrk, reset_postgres  # noqa: E402

TARGETS = {"listing": 0.4, "signup": 0.6}
P99_TARGET_MS = 100
DISTRICT = "天河区"
FIELD_CODE = "field.care"
KEYWORD = "敬老"
PASSWORD_HASH_OF_NOBODY = "!bench-no-password"  # sessions are made through the session API, not the form

# words titles and descriptions are made of; the benchmark keyword is one theme among many
PLACES = ["天河南", "石牌", "林和", "猎德", "员村", "车陂", "棠下", "五山", "沙河", "冼村", "北京路", "东山",
          "沙面", "滨江", "赤岗", "新港", "江南西", "黄花岗", "登峰", "三元里", "同和", "京溪", "南沙湾"]
THEMES = ["敬老", "助残", "环保", "义诊", "垃圾分类", "文明交通", "社区清洁", "图书整理", "禁毒宣传",
          "反诈宣传", "关爱儿童", "心理咨询", "法律援助", "消防安全", "疫苗接种", "文艺汇演", "植树",
          "河涌巡查", "党史学习", "便民理发", "长者饭堂", "应急救护", "科普讲座", "助学支教"]
SUFFIXES = ["志愿服务活动", "公益行动", "志愿服务", "主题活动", "便民服务日"]
RARE_KEYWORD = "粤剧"  # in no theme, place or filler: a keyword few activities contain
RARE_TEXT = "另有粤剧进社区表演。"
RARE_SHARE = 1 / 2000
FILLER = ("欢迎社区居民和党员志愿者踊跃报名参加，活动现场提供饮用水和志愿者马甲，请按时到达并扫码签到。"
          "本次活动由社区党群服务中心统筹，服务时长按实际签到签退时间核定。")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------ fast raw inserts
def _plain(v):
    if isinstance(v, dt.datetime):
        return str(v.replace(tzinfo=None) if v.tzinfo is None else v.astimezone(TZ()).replace(tzinfo=None))
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def TZ():
    from core.db import TZ as tz
    return tz


class Table:
    """Raw rows for one model: a template row of database values (defaults, encryption and
    conversions done once by the model's own fields) with per-row values set by field name."""

    def __init__(self, model, base: dict):
        from plugins.volunteers.import_ import insert_columns, row_tuples
        self.model = model
        self.fields, self.cols = insert_columns(model)
        self.names = [f.name for f in self.fields]
        self.template = [_plain(v) for v in row_tuples(model, [base])[0]]

    def idx(self, *names):
        return [self.names.index(n) for n in names]

    def write(self, db, rows: list):
        from core.db import is_postgres
        table = self.model._meta.table_name
        if is_postgres():
            buf = io.StringIO()
            w = csv.writer(buf)
            for r in rows:
                w.writerow(["\\N" if v is None else v for v in r])
            buf.seek(0)
            db.cursor().copy_expert(f'COPY "{table}" ({self.cols}) FROM STDIN WITH (FORMAT csv, NULL \'\\N\')',
                                    buf)
        else:
            marks = ", ".join("?" for _ in self.fields)
            db.cursor().executemany(f'INSERT INTO "{table}" ({self.cols}) VALUES ({marks})', rows)


def max_id(db, table):
    return db.execute_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()[0]


def fix_sequences(db):
    """COPY with explicit ids leaves PostgreSQL's sequences behind: move them past the rows."""
    from core.db import is_postgres
    if not is_postgres():
        return
    for t in ("teams_team", "volunteers_volunteer", "core_user", "activities_activity", "activities_shift",
              "activities_signup"):
        db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM \"{t}\"))")


# ------------------------------------------------------------------ the data set
def build_site(instance: Path, url: str, sizes: dict) -> dict:
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(instance)
    os.environ["TIMEBANK_DATABASE_URL"] = url
    from core.cli import init_site, kernel_app
    info = init_site()  # the real `timebank init`: schema, default plugins, the platform admin
    app = kernel_app()
    from core.db import db, now, transaction
    from core.models import User
    from core.security import VOLUNTEER
    from plugins.activities.models import Activity, Category, SearchTerm, Shift, SignUp
    from plugins.activities.services import PARTY_SERVICE, search_terms
    from plugins.teams.models import Team
    from plugins.volunteers import services as vs
    from plugins.volunteers.demo import fake_id_number
    from plugins.volunteers.models import DISTRICTS, Volunteer
    rnd = random.Random(4)
    t0 = now().replace(microsecond=0)
    out = {"init": {"created": info["created"]}, "plugins": list(app.extensions["timebank"].loaded)}
    with app.app_context():
        raw = db.obj
        fields = list(Category.select().where(Category.kind == "field").order_by(Category.order))
        cats = list(Category.select().where(Category.kind == "category").order_by(Category.order))
        field_id = next(f.id for f in fields if f.code == FIELD_CODE)
        out["field_id"] = field_id

        # teams
        n_teams = sizes["teams"]
        tt = Table(Team, {"name": "x", "leader_name": "负责人", "leader_phone": "13800000000",
                          "registered_on": t0.date(), "status": "approved", "district": DISTRICT,
                          "organisation": "社区党委", "created_at": t0})
        k_name, k_d, k_path = tt.idx("name", "district", "path")
        base_team = max_id(raw, "teams_team") + 1
        teams = []
        for i in range(n_teams):
            r = list(tt.template)
            r[k_name] = f"{PLACES[i % len(PLACES)]}社区志愿服务队{i:04d}"
            r[k_d] = DISTRICTS[i % 11]
            r[k_path] = f"/{base_team + i}/"
            teams.append(r)
        log(f"  {n_teams} teams")
        with transaction():
            # explicit ids: the rows below refer to them
            tt.names.insert(0, "id")
            tt.cols = '"id", ' + tt.cols
            tt.fields.insert(0, Team.id)
            tt.write(raw, [[base_team + i] + r for i, r in enumerate(teams)])

        # volunteers: the sign-ups' crowd (no accounts) and the ones who log in
        enc_id = Volunteer.id_number.db_value("440106199001011234")
        enc_phone = Volunteer.phone.db_value("13800138000")
        vt = Table(Volunteer, {"number": "x", "name": "x", "gender": "M", "id_hash": "x",
                               "id_number": "440106199001011234", "phone": "13800138000",
                               "phone_hash": vs.phone_hash("13800138000"),
                               "agreement_version": "2024-01", "agreement_accepted_at": t0,
                               "registered_at": t0, "updated_at": t0, "district": DISTRICT, "status": "active"})
        vt.template[vt.names.index("id_number")] = enc_id
        vt.template[vt.names.index("phone")] = enc_phone
        vt.names.insert(0, "id")
        vt.cols = '"id", ' + vt.cols
        vt.fields.insert(0, Volunteer.id)
        vt.template.insert(0, None)
        k_id, k_num, k_name, k_hash, k_user, k_dist = vt.idx("id", "number", "name", "id_hash", "user", "district")
        base_vol = max_id(raw, "volunteers_volunteer") + 1
        n_vol, n_sess = sizes["volunteers"], sizes["sessions"]

        # users of the logged-in volunteers
        ut = Table(User, {"username": "x", "display_name": "x", "password_hash": PASSWORD_HASH_OF_NOBODY,
                          "created_at": t0, "password_changed_at": t0})
        ut.names.insert(0, "id")
        ut.cols = '"id", ' + ut.cols
        ut.fields.insert(0, User.id)
        ut.template.insert(0, None)
        ku_id, ku_name, ku_disp = ut.idx("id", "username", "display_name")
        base_user = max_id(raw, "core_user") + 1
        users = []
        for i in range(n_sess):
            r = list(ut.template)
            r[ku_id], r[ku_name], r[ku_disp] = base_user + i, f"benchvol{i:05d}", f"压测志愿者{i}"
            users.append(r)
        vols = []
        for i in range(n_vol + n_sess):
            r = list(vt.template)
            r[k_id] = base_vol + i
            r[k_num] = f"B{i:09d}"
            r[k_name] = f"压测志愿者{i:07d}"
            r[k_hash] = vs.id_hash("cn_id", fake_id_number(i)[0])
            r[k_dist] = DISTRICTS[i % 11]
            if i >= n_vol:
                r[k_user] = base_user + i - n_vol
            vols.append(r)
        with transaction():
            ut.write(raw, users)
            vt.write(raw, vols)
            from core.models import UserRole
            UserRole.insert_many([{"user": base_user + i, "role": VOLUNTEER, "scope": ""}
                                  for i in range(n_sess)]).execute()
        del vols, users
        log(f"  {n_vol} volunteers + {n_sess} with accounts")

        # activities, one slot each, and the sign-ups
        n_act, per = sizes["activities"], sizes["signups"] // sizes["activities"]
        at = Table(Activity, {"team": base_team, "title": "x", "district": DISTRICT, "address": "x",
                              "description": "x", "contact_name": "联系人", "contact_phone": "13800138000",
                              "status": "published", "kind": "service", "auto_confirm": True, "created_at": t0,
                              "published_at": t0, "starts_at": t0, "ends_at": t0, "capacity": 30,
                              "confirmed": per})
        at.names.insert(0, "id")
        at.cols = '"id", ' + at.cols
        at.fields.insert(0, Activity.id)
        at.template.insert(0, None)
        ka = dict(zip(("id", "team", "title", "district", "address", "description", "category", "field",
                       "starts_at", "ends_at", "published_at", "latitude", "longitude", "is_party_service",
                       "capacity", "confirmed"),
                      at.idx("id", "team", "title", "district", "address", "description", "category", "field",
                             "starts_at", "ends_at", "published_at", "latitude", "longitude",
                             "is_party_service", "capacity", "confirmed")))
        # the keyword index rows (services.index_search_terms does the same through the ORM)
        tt = Table(SearchTerm, {"term": "xx", "activity_id": 0})
        kt = tt.idx("term", "activity_id")
        st = Table(Shift, {"activity": 1, "volunteer_type": "普通志愿者", "starts_at": t0, "ends_at": t0,
                           "capacity": 30, "confirmed": per})
        st.names.insert(0, "id")
        st.cols = '"id", ' + st.cols
        st.fields.insert(0, Shift.id)
        st.template.insert(0, None)
        ks = dict(zip(("id", "activity", "starts_at", "ends_at"), st.idx("id", "activity", "starts_at", "ends_at")))
        sg = Table(SignUp, {"shift": 1, "activity": 1, "volunteer": 1, "status": "confirmed", "created_at": t0,
                            "decided_at": t0})
        kg = dict(zip(("shift", "activity", "volunteer", "created_at", "decided_at"),
                      sg.idx("shift", "activity", "volunteer", "created_at", "decided_at")))
        base_act = max_id(raw, "activities_activity") + 1
        base_shift = max_id(raw, "activities_shift") + 1
        chunk = 20000
        n_signups = 0
        with transaction():  # one transaction for the whole data set (SQLite: one write lock)
            for c0 in range(0, n_act, chunk):
                acts, shifts, signups, terms = [], [], [], []
                for i in range(c0, min(n_act, c0 + chunk)):
                    theme = THEMES[rnd.randrange(len(THEMES))]
                    others = rnd.sample(THEMES, 2)
                    place = PLACES[rnd.randrange(len(PLACES))]
                    start = t0 + dt.timedelta(days=rnd.randint(-60, 300), hours=rnd.randint(0, 12) - 4)
                    start = start.replace(minute=0, second=0)
                    end = start + dt.timedelta(hours=3)
                    a = list(at.template)
                    aid, sid = base_act + i, base_shift + i
                    a[ka["id"]] = aid
                    a[ka["team"]] = base_team + rnd.randrange(n_teams)
                    a[ka["title"]] = f"{place}{theme}{SUFFIXES[rnd.randrange(len(SUFFIXES))]}"
                    d = DISTRICTS[rnd.randrange(11)]
                    a[ka["district"]] = d
                    a[ka["address"]] = f"广州市{d}{place}街道党群服务中心"
                    a[ka["description"]] = (f"{place}社区开展{theme}活动，同时进行{others[0]}和{others[1]}。"
                                            + FILLER)
                    a[ka["category"]] = cats[rnd.randrange(len(cats))].id
                    a[ka["field"]] = fields[rnd.randrange(len(fields))].id
                    a[ka["starts_at"]], a[ka["ends_at"]] = _plain(start), _plain(end)
                    a[ka["published_at"]] = _plain(start - dt.timedelta(days=7))
                    a[ka["latitude"]] = 23.1 + rnd.random() * 0.2
                    a[ka["longitude"]] = 113.2 + rnd.random() * 0.3
                    a[ka["is_party_service"]] = int(rnd.random() < 0.2)
                    if rnd.random() < RARE_SHARE:  # the rare keyword, in ~100 activities
                        a[ka["description"]] += RARE_TEXT
                    acts.append(a)
                    for t in search_terms(a[ka["title"]], a[ka["description"]], a[ka["address"]],
                                          PARTY_SERVICE if a[ka["is_party_service"]] else ""):
                        r = list(tt.template)
                        r[kt[0]], r[kt[1]] = t, aid
                        terms.append(r)
                    s = list(st.template)
                    s[ks["id"]], s[ks["activity"]] = sid, aid
                    s[ks["starts_at"]], s[ks["ends_at"]] = _plain(start), _plain(end)
                    shifts.append(s)
                    first = (i * per) % n_vol
                    for j in range(per):
                        g = list(sg.template)
                        g[kg["shift"]], g[kg["activity"]] = sid, aid
                        g[kg["volunteer"]] = base_vol + (first + j) % n_vol
                        signups.append(g)
                at.write(raw, acts)
                st.write(raw, shifts)
                sg.write(raw, signups)
                terms.sort()  # in index order: SQLite appends to the B-tree instead of splitting pages
                tt.write(raw, terms)
                n_signups += len(signups)
                if (c0 // chunk) % 2 == 1 or c0 + chunk >= n_act:
                    log(f"  activities {min(n_act, c0 + chunk)}/{n_act}, sign-ups {n_signups}")
        fix_sequences(raw)

        # the slots the load writes into (kernel and bare apart) and the burst's 100-place slot
        bench_team = Team.get_by_id(base_team)
        made = {}
        start = t0 + dt.timedelta(days=30)
        for key, n, cap in (("kernel", sizes["bench_shifts"], 100000), ("bare", sizes["bench_shifts"], 100000),
                            ("burst", 1, sizes["burst_capacity"])):
            ids = []
            with transaction():
                for i in range(n):
                    a = Activity.create(team=bench_team, title=f"压测报名活动 {key} {i}", district=DISTRICT,
                                        address="广州市天河区", description="压测", contact_name="联系人",
                                        status="published", kind="service", auto_confirm=True,
                                        starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=cap,
                                        published_at=t0, category=cats[0].id, field=fields[0].id)
                    s = Shift.create(activity=a, volunteer_type="普通志愿者", starts_at=start,
                                     ends_at=start + dt.timedelta(hours=3), capacity=cap)
                    ids.append((s.id, a.id))
            made[key] = ids
        out["shifts"] = made
        log("  analyze")
        raw.execute_sql("ANALYZE")
        out["counts"] = {"teams": Team.select().count(), "volunteers": Volunteer.select().count(),
                         "activities": Activity.select().count(), "shifts": Shift.select().count(),
                         "signups": SignUp.select().count()}
        out["session_volunteers"] = [(base_user + i, base_vol + n_vol + i) for i in range(n_sess)]
    db.obj.close()
    return out


def make_sessions(users: list[tuple[int, int]], path: Path):
    """A logged-in browser per volunteer, made through the kernel's session API: a server-side session
    row (``start_session``), the signed session cookie Flask would send, and the CSRF token of a form
    the browser got. One line per volunteer: cookie, form token, volunteer id."""
    from flask_wtf.csrf import generate_csrf
    from core.cli import kernel_app
    from core.db import db, transaction
    from core.models import User
    from core.security import start_session
    from flask import g, session
    app = kernel_app()
    ser = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    lines = []
    with app.app_context():
        by_id = {u.id: u for u in User.select().where(User.id.in_([u for u, _v in users]))}
        with transaction():
            for uid, vid in users:
                with app.test_request_context("/login", method="POST"):
                    start_session(by_id[uid])
                    g.pop("csrf_token", None)  # the app context (and its g) is shared: a fresh token
                    token = generate_csrf()
                    cookie = f"{name}={ser.dumps(dict(session))}"
                    lines.append(f"{cookie}\t{urllib.parse.quote(token, safe='')}\t{vid}")
    db.obj.close()
    path.write_text("\n".join(lines) + "\n")
    return lines


# ------------------------------------------------------------------ the bare app
BARE_LIST_SQL = (
    'SELECT a."id", a."title", a."district", a."starts_at", a."capacity", a."confirmed", t."name" '
    'FROM "activities_activity" AS a JOIN "teams_team" AS t ON t."id" = a."team_id" '
    'WHERE a."status" = {p} AND a."kind" = {p} AND a."district" = {p} AND a."field_id" = {p} AND a."ends_at" > {p} '
    'ORDER BY a."starts_at", a."id" LIMIT 20')
BARE_INSERT_SQL = (
    'INSERT INTO "activities_signup" ("shift_id", "activity_id", "volunteer_id", "status", "reason", "created_at", '
    '"time_note", "post") VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})')


def bare_app(database_url: str):
    """Flask + peewee, one connection kept per worker thread: one indexed SELECT / one INSERT."""
    from flask import Flask, request

    from core.db import make_database, now
    from plugins.activities.models import SignUp
    database = make_database(database_url)
    p = database.param
    list_sql, insert_sql = BARE_LIST_SQL.format(p=p), BARE_INSERT_SQL.format(p=p)
    created = SignUp.created_at
    app = Flask("bare")
    page = app.jinja_env.from_string(
        "<!doctype html><html lang=zh-CN><title>志愿活动</title><h1>志愿活动</h1><ul>"
        "{% for r in rows %}<li><a href=\"/activities/{{ r[0] }}\">{{ r[1] }}</a> {{ r[6] }} · {{ r[2] }} · "
        "{{ r[3] }} · {{ r[4] - r[5] }}/{{ r[4] }}</li>{% endfor %}</ul></html>")

    @app.before_request
    def _conn():
        if database.is_closed():
            database.connect(reuse_if_open=True)

    @app.route("/list")
    def listing():
        rows = database.execute_sql(list_sql, ("published", "service", request.args["district"],
                                               int(request.args["field"]), created.db_value(now()))).fetchall()
        return page.render(rows=rows)

    @app.route("/signup/<int:activity_id>/<int:shift_id>/<int:volunteer_id>", methods=["POST"])
    def signup(activity_id, shift_id, volunteer_id):
        with database.atomic():
            database.execute_sql(insert_sql, (shift_id, activity_id, volunteer_id, "confirmed", "",
                                              created.db_value(now()), "", ""))
        return "ok", 201

    return app


def serve_bare(args):
    import core
    from core.cli import run_server

    def factory(_config=None):
        return bare_app(args.database_url)
    core.SiteApp = factory
    run_server("127.0.0.1", args.port, args.workers, args.threads)


# ------------------------------------------------------------------ load
LUA = r"""
-- rotates through (volunteer session, slot) pairs so that every request is a fresh sign-up
-- args: sessions file, slots file, mode (kernel|bare), first pair index, pairs per thread
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  sessions, slots = {}, {}
  for line in io.lines(args[1]) do
    local c, t, v = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
    if c then sessions[#sessions + 1] = {c, t, v} end
  end
  for line in io.lines(args[2]) do
    local s, a = line:match("(%d+)%s+(%d+)")
    if s then slots[#slots + 1] = {s, a} end
  end
  mode = args[3]
  idx = tonumber(args[4]) + tid * tonumber(args[5])
  limit = idx + tonumber(args[5])
  ns = #sessions
end
function request()
  local p = idx
  idx = idx + 1
  if idx > limit then wrk.thread:stop() end
  local sess = sessions[(p % ns) + 1]
  if mode == "floor" then
    -- the kernel's share of any logged-in POST: session, CSRF check, one UPDATE, cookie, redirect
    return wrk.format("POST", "/account/language",
      {["Cookie"] = sess[1], ["Content-Type"] = "application/x-www-form-urlencoded"},
      "lang=zh_Hans_CN&next=%2F&csrf_token=" .. sess[2])
  end
  local slot = slots[math.floor(p / ns) + 1]
  if mode == "kernel" then
    return wrk.format("POST", "/activities/shifts/" .. slot[1] .. "/signup",
      {["Cookie"] = sess[1], ["Content-Type"] = "application/x-www-form-urlencoded"},
      "csrf_token=" .. sess[2])
  end
  return wrk.format("POST", "/signup/" .. slot[2] .. "/" .. slot[1] .. "/" .. sess[3], nil, nil)
end
"""


def run_wrk(url, args, seconds, script=None, script_args=()):
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency",
           "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if script_args:
        cmd += ["--", *map(str, script_args)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = parse_wrk(out)
    res["raw"] = out
    return res


def count_signups(url, shift_ids, statuses=None):
    from core.db import make_database
    d = make_database(url)
    d.connect()
    try:
        p = d.param
        sql = f'SELECT status, COUNT(*) FROM "activities_signup" WHERE "shift_id" IN ({", ".join(p for _ in shift_ids)}) GROUP BY status'
        return dict(d.execute_sql(sql, list(shift_ids)).fetchall())
    finally:
        d.close()


class PairCursor:
    """Hands out disjoint ranges of (volunteer, slot) pair indices to successive wrk runs."""

    def __init__(self, n_pairs, per_thread, threads):
        self.next, self.n_pairs, self.per_thread, self.threads = 0, n_pairs, per_thread, threads

    def take(self):
        first = self.next
        self.next += self.per_thread * self.threads
        if self.next > self.n_pairs:
            raise SystemExit("ran out of fresh (volunteer, slot) pairs: raise --bench-shifts")
        return first


def settle(check, timeout=60.0):
    """Wait until the requests the server had accepted when wrk stopped are done: the check's
    reading (page or row counts) is the same twice, a second apart."""
    last, deadline = check("before"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now_ = check("before")
        if now_ == last:
            return now_
        last = now_
    return last


def measure(name, url, args, pid, *, script=None, script_args=None, check=None):
    """One warm-up and one measured wrk run; server CPU per request from /proc; ``check`` verifies
    what the run did (the page, or the rows written) and raises on anything wrong."""
    sa = script_args() if script_args else ()
    run_wrk(url, args, args.warmup, script, sa)
    before = settle(check) if check else None  # the warm-up's requests still in flight finish first
    cpu0 = cpu_seconds(pid)
    sa = script_args() if script_args else ()
    res = run_wrk(url, args, args.duration, script, sa)
    res["server_cpu_ms_per_request"] = round((cpu_seconds(pid) - cpu0) * 1000 / max(res["requests"], 1), 3)
    if res["non_2xx_3xx"] or res["socket_errors"]:
        raise SystemExit(f"{name}: {res['non_2xx_3xx']} bad responses, {res['socket_errors']} socket errors\n"
                         f"{res['raw']}")
    if check:
        settle(check)  # requests in flight when wrk stopped
        res["check"] = check(before, res)
    res.pop("raw", None)
    log(f"  {name:<15} {res['requests_per_second']:>8.1f} req/s  p50 {res['p50_ms']:>7.1f} ms  "
        f"p99 {res['p99_ms']:>7.1f} ms  server cpu {res['server_cpu_ms_per_request']:.2f} ms/req")
    return res


def paired_ratio(bare_runs, kernel_runs):
    """Median of each round's kernel/bare pair (measured back to back): on a machine whose speed
    drifts between rounds this is steadier than the ratio of the medians."""
    return statistics.median(k["requests_per_second"] / b["requests_per_second"]
                             for b, k in zip(bare_runs, kernel_runs))


def summarise(runs):
    med = lambda k: round(statistics.median(r[k] for r in runs), 3)  # noqa: E731
    return {"requests_per_second": round(med("requests_per_second"), 1), "p50_ms": med("p50_ms"),
            "p99_ms": med("p99_ms"), "server_cpu_ms_per_request": med("server_cpu_ms_per_request"),
            "rounds": [{k: r[k] for k in ("requests_per_second", "p50_ms", "p99_ms", "requests",
                                          "server_cpu_ms_per_request") + (("check",) if "check" in r else ())}
                       for r in runs]}


def get(url, cookie=None):
    import urllib.request
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


# ------------------------------------------------------------------ burst
def burst(base: str, sessions: list[str], shift_id: int) -> dict:
    """Every volunteer POSTs the sign-up at the same moment (one thread and connection each)."""
    import http.client
    host, port = base.split("//")[1].split(":")
    n = len(sessions)
    barrier = threading.Barrier(n + 1)
    results = [None] * n
    ends = [0.0] * n

    def one(i):
        cookie, token, _vid = sessions[i].split("\t")
        body = f"csrf_token={token}"
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            conn.connect()
            barrier.wait()
            conn.request("POST", f"/activities/shifts/{shift_id}/signup", body=body,
                         headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            results[i] = (r.status, r.getheader("Location") or "")
        except Exception as e:  # noqa: BLE001 - reported in the result
            results[i] = ("error", repr(e))
        finally:
            ends[i] = time.perf_counter()
            conn.close()

    threading.stack_size(256 * 1024)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(ends) - t0
    statuses = {}
    for r in results:
        key = f"{r[0]} {urllib.parse.urlparse(r[1]).path}" if r[0] != "error" else "error"
        statuses[key] = statuses.get(key, 0) + 1
    return {"requests": n, "wall_s": round(wall, 3), "responses": statuses}


# ------------------------------------------------------------------ plans
def plans(url, field_id) -> dict:
    """The listing's SQL as the site runs it, with the database's plan."""
    from core.db import db, init_database, now
    init_database(url)
    from plugins.activities import services
    out = {}
    sql, params = services.listing_sql(district=DISTRICT, field=field_id, keyword=KEYWORD)
    out["listing_matches"] = len(services.listing(district=DISTRICT, field=field_id, keyword=KEYWORD,
                                                  per_page=100000))
    bare_sql = BARE_LIST_SQL.format(p=db.obj.param)
    bare_params = ("published", "service", DISTRICT, field_id, now().replace(tzinfo=None))
    for name, s, p in (("listing", sql, params), ("bare", bare_sql, bare_params)):
        out[name] = {"sql": s, "plan": _plan(s, p)}
    out["rare_keyword"] = rare_keyword(services)
    db.obj.close()
    return out


def _plan(sql, params) -> str:
    from core.db import db, is_sqlite
    if is_sqlite():
        return "\n".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    rows = db.execute_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


def rare_keyword(services, runs: int = 15) -> dict:
    """The listing's query for a rare keyword without any filter, looked up in the keyword index and,
    with RARE_TERM 0, read in date order as before the index: median ms of ``runs`` each, same rows."""
    from core.db import db
    out = {"keyword": RARE_KEYWORD}
    rows = {}
    saved = services.RARE_TERM
    try:
        for name, rare in (("index", saved), ("reading", 0)):
            services.RARE_TERM = rare
            services._TERM_COUNTS.clear()
            sql, params = services.listing_sql(keyword=RARE_KEYWORD)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                rows[name] = db.execute_sql(sql, params).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {"median_ms": round(statistics.median(times), 2), "sql": sql,
                         "uses_index": "activities_search_term" in sql, "plan": _plan(sql, params)}
    finally:
        services.RARE_TERM = saved
        services._TERM_COUNTS.clear()
    out["matches"] = len(services.listing(keyword=RARE_KEYWORD, per_page=100000))
    out["same_rows"] = rows["index"] == rows["reading"]
    return out


# ------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default="",
                    help="postgresql://… of a scratch database of its own (needs --reset); default SQLite in a temp dir")
    ap.add_argument("--reset", action="store_true", help="drop and recreate the public schema of --database-url")
    ap.add_argument("--quick", action="store_true", help="small data set and short runs")
    ap.add_argument("--activities", type=int)
    ap.add_argument("--signups", type=int)
    ap.add_argument("--volunteers", type=int)
    ap.add_argument("--sessions", type=int, help="logged-in volunteers the load rotates through")
    ap.add_argument("--burst", type=int, help="concurrent sign-ups of the burst (default 1000)")
    ap.add_argument("--burst-capacity", type=int, help="places of the burst slot (default 100)")
    ap.add_argument("--redis-url", default="",
                    help="redis://127.0.0.1:6379/<db> for the site's task queue (default: the SQLite queue in "
                         "the instance folder, as a site without REDIS_URL runs)")
    ap.add_argument("--scenario", choices=["listing", "signup", "burst", "all"], default="all")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--label", default="")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = ap.parse_args(argv)
    q = args.quick
    sizes = {"activities": args.activities or (5000 if q else 200_000),
             "signups": args.signups or (50_000 if q else 2_000_000),
             "volunteers": args.volunteers or (5000 if q else 100_000),
             "sessions": args.sessions or (1000 if q else 2000),
             "teams": 50 if q else 500,
             "burst": args.burst or (1000 if not q else 300),
             "burst_capacity": args.burst_capacity or (100 if not q else 30)}
    args.duration = args.duration or (4 if q else 10)
    args.warmup = args.warmup or (1 if q else 3)
    args.rounds = args.rounds or (1 if q else 3)
    if sizes["burst"] > sizes["sessions"]:
        raise SystemExit("--burst needs as many logged-in volunteers (--sessions)")
    per_thread = 30000
    runs_per_app = 2 * args.rounds
    sizes["bench_shifts"] = math.ceil(per_thread * args.wrk_threads * runs_per_app / sizes["sessions"]) + 1

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="tb-actbench-"))
    url = args.database_url or f"sqlite:///{tmp / 'instance' / 'bench.db'}"
    kind = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
    if kind == "postgresql":
        if not args.reset:
            raise SystemExit("the benchmark replaces the public schema of --database-url; pass --reset")
        reset_postgres(url)
    load_start = [round(x, 2) for x in os.getloadavg()]
    log(f"building the site ({kind}) in {tmp}: {sizes}")
    t_build = time.perf_counter()
    site = build_site(tmp / "instance", url, sizes)
    build_s = time.perf_counter() - t_build
    log(f"  built in {build_s:.0f} s: {site['counts']}")
    sess_file = tmp / "sessions.tsv"
    t_sess = time.perf_counter()
    sessions = make_sessions(site["session_volunteers"], sess_file)
    log(f"  {len(sessions)} sessions in {time.perf_counter() - t_sess:.1f} s")
    slot_files = {}
    for key in ("kernel", "bare"):
        slot_files[key] = tmp / f"slots-{key}.txt"
        slot_files[key].write_text("".join(f"{s} {a}\n" for s, a in site["shifts"][key]))
    lua = tmp / "signup.lua"
    lua.write_text(LUA)
    query_plans = plans(url, site["field_id"])
    rk = query_plans["rare_keyword"]
    log(f"rare keyword {rk['keyword']} without a filter ({rk['matches']} activities): "
        f"{rk['index']['median_ms']} ms through the keyword index, {rk['reading']['median_ms']} ms reading "
        f"in date order; same rows: {rk['same_rows']}")

    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    env.update(TIMEBANK_INSTANCE_PATH=str(tmp / "instance"), TIMEBANK_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    if args.redis_url:
        queue_name = "actbench" + "".join(ch for ch in tmp.name if ch.isalnum())  # huey keeps only these
        env.update(TIMEBANK_REDIS_URL=args.redis_url, TIMEBANK_TASKS_QUEUE_NAME=queue_name)
    p_bare, p_kern = free_port(), free_port()
    bare = Server([sys.executable, str(Path(__file__).resolve()), "_serve-bare", "--port", str(p_bare),
                   "--database-url", url, "--workers", str(args.workers), "--threads", str(args.threads)],
                  env, tmp / "bare.log", p_bare)
    kern = Server([sys.executable, "-m", "core.cli", "serve", "--port", str(p_kern), "--workers",
                   str(args.workers), "--threads", str(args.threads)], env, tmp / "kernel.log", p_kern)
    base_b, base_k = f"http://127.0.0.1:{p_bare}", f"http://127.0.0.1:{p_kern}"
    scen = ["listing", "signup", "burst"] if args.scenario == "all" else [args.scenario]
    results = {}
    try:
        bare.wait_ready("/list?district=x&field=0")
        kern.wait_ready("/login")
        if "listing" in scen:
            path = "/activities/?" + urllib.parse.urlencode({"district": DISTRICT, "field": site["field_id"],
                                                            "q": KEYWORD})
            bare_path = "/list?" + urllib.parse.urlencode({"district": DISTRICT, "field": site["field_id"]})

            def check_list(before, res=None):
                st, html = get(base_k + path)
                n = html.count('class="activity"')
                if st != 200 or n != min(20, query_plans["listing_matches"]) or KEYWORD not in html:
                    raise SystemExit(f"listing answered {st} with {n} activities")
                return {"status": st, "activities_on_page": n}

            def check_bare(before, res=None):
                st, html = get(base_b + bare_path)
                if st != 200 or html.count("<li>") < 1:
                    raise SystemExit(f"bare listing answered {st}")
                return {"status": st, "rows": html.count("<li>")}
            log(f"scenario listing: {path}")
            rounds = {"bare": [], "kernel": []}
            for i in range(args.rounds):
                rounds["bare"].append(measure("bare SELECT", base_b + bare_path, args, bare.proc.pid,
                                              check=check_bare))
                rounds["kernel"].append(measure("listing", base_k + path, args, kern.proc.pid, check=check_list))
            rb, rk = summarise(rounds["bare"]), summarise(rounds["kernel"])
            ratio = paired_ratio(rounds["bare"], rounds["kernel"])
            results["listing"] = {
                "page": path, "bare_page": bare_path, "bare": rb, "kernel": rk, "ratio": round(ratio, 3),
                "cpu_ratio": round(rb["server_cpu_ms_per_request"] / rk["server_cpu_ms_per_request"], 3),
                "target": f"ratio >= {TARGETS['listing']} and p99 < {P99_TARGET_MS} ms at {args.connections} "
                          "connections",
                "meets_target": ratio >= TARGETS["listing"] and rk["p99_ms"] < P99_TARGET_MS}
            log(f"  listing ratio {ratio:.2f}, p99 {rk['p99_ms']:.1f} ms")

        if "signup" in scen:
            log("scenario signup")
            cursors = {k: PairCursor(len(site["shifts"][k]) * len(sessions), per_thread, args.wrk_threads)
                       for k in ("kernel", "bare")}
            shift_ids = {k: [s for s, _a in site["shifts"][k]] for k in ("kernel", "bare")}

            def checker(key):
                def check(before, res=None):
                    counts = count_signups(url, shift_ids[key])
                    if res is None:
                        return counts
                    new = sum(counts.values()) - sum(before.values())
                    others = {k: v for k, v in counts.items() if k != "confirmed"}
                    # every answered request wrote one fresh confirmed sign-up (a duplicate or a refusal
                    # also answers 302, so the rows are the proof); requests still in flight when wrk
                    # stopped may add up to one per connection
                    if others or not res["requests"] <= new <= res["requests"] + args.connections:
                        raise SystemExit(f"{key} sign-up: {res['requests']} answers but {new} new rows, "
                                         f"statuses {counts}")
                    return {"new_confirmed_signups": new}
                return check

            rounds = {"bare": [], "kernel": [], "floor": []}
            for i in range(args.rounds):
                for key, base, srv, label in (("bare", base_b, bare, "bare INSERT"),
                                              ("kernel", base_k, kern, "sign-up"),
                                              ("floor", base_k, kern, "kernel floor")):
                    if key == "floor":  # any logged-in POST through the kernel, doing almost nothing
                        rounds[key].append(measure(label, base + "/", args, srv.proc.pid, script=lua,
                                                   script_args=lambda: (sess_file, slot_files["kernel"],
                                                                        "floor", 0, 10 ** 9)))
                        continue
                    c = cursors[key]
                    rounds[key].append(measure(
                        label, base + "/", args, srv.proc.pid, script=lua,
                        script_args=lambda c=c, key=key: (sess_file, slot_files[key], key, c.take(), per_thread),
                        check=checker(key)))
            rb, rk, rf = summarise(rounds["bare"]), summarise(rounds["kernel"]), summarise(rounds["floor"])
            ratio = paired_ratio(rounds["bare"], rounds["kernel"])
            floor_ratio = paired_ratio(rounds["bare"], rounds["floor"])
            log(f"  kernel floor (POST /account/language, logged in): {floor_ratio:.2f} x the bare INSERT")
            results["signup"] = {
                "page": "POST /activities/shifts/<id>/signup (logged-in volunteer, CSRF token)",
                "bare_page": "POST /signup/<activity>/<shift>/<volunteer> (one INSERT, committed)",
                "bare": rb, "kernel": rk, "ratio": round(ratio, 3),
                "cpu_ratio": round(rb["server_cpu_ms_per_request"] / rk["server_cpu_ms_per_request"], 3),
                "target": f"ratio >= {TARGETS['signup']}", "meets_target": ratio >= TARGETS["signup"],
                "kernel_floor": {
                    "page": "POST /account/language as a logged-in volunteer (CSRF check, session row, one "
                            "UPDATE, session cookie, redirect): the kernel's share of any logged-in POST",
                    **rf, "ratio": round(floor_ratio, 3)}}
            log(f"  sign-up ratio {ratio:.2f} (the kernel floor alone {floor_ratio:.2f})")

        if "burst" in scen:
            n, cap = sizes["burst"], sizes["burst_capacity"]
            shift_id = site["shifts"]["burst"][0][0]
            log(f"scenario burst: {n} volunteers, one slot of {cap} places")
            res = burst(base_k, sessions[:n], shift_id)
            counts = count_signups(url, [shift_id])
            from core.db import make_database
            d = make_database(url)
            d.connect()
            confirmed_counter = d.execute_sql(f'SELECT confirmed FROM "activities_shift" WHERE id = {d.param}',
                                              (shift_id,)).fetchone()[0]
            d.close()
            ok = (counts.get("confirmed") == cap and sum(counts.values()) == n
                  and counts.get("confirmed", 0) + counts.get("waitlisted", 0) + counts.get("declined", 0) == n
                  and confirmed_counter == cap and res["responses"].get("302 /activities/mine") == n)
            res.update({"capacity": cap, "signups_by_status": counts, "slot_confirmed_counter": confirmed_counter,
                        "exactly_capacity_confirmed": ok})
            results["burst"] = res
            log(f"  burst: {res['wall_s']} s, {counts}, slot counter {confirmed_counter}, "
                f"responses {res['responses']} -> {'OK' if ok else 'WRONG'}")
    finally:
        bare.stop()
        kern.stop()
        if args.redis_url:  # the deliveries queued by the sign-ups: nobody consumes them
            import redis
            r = redis.Redis.from_url(args.redis_url)
            for k in r.scan_iter(match=f"*{queue_name}*"):
                r.delete(k)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "core", "plugins"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    meets = all(r.get("meets_target", True) for r in results.values()) and \
        results.get("burst", {}).get("exactly_capacity_confirmed", True)
    report = {
        "benchmark": "activities", "database": kind,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit + ("+dirty" if dirty else ""), "quick": q,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "server": {"gunicorn_workers": args.workers, "threads": args.threads,
                   "worker_class": "gthread" if args.threads > 1 else "sync",
                   "same_setup": "both through core.cli.run_server (timebank serve)",
                   "task_queue": "redis" if args.redis_url else "sqlite (instance folder)"},
        "load": {"tool": "wrk", "connections": args.connections, "threads": args.wrk_threads,
                 "duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.rounds,
                 "figures": "median of the rounds"},
        "load_average_at_start": load_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "data": {**site["counts"], "logged_in_volunteers": len(sessions), "build_s": round(build_s, 1),
                 "keyword": KEYWORD, "district": DISTRICT, "field": FIELD_CODE},
        "plugins": site["plugins"], "plans": query_plans,
        "meets_targets": meets, "scenarios": results,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = (f"activities-{kind}-{dt.date.today().isoformat()}{'-quick' if q else ''}{'-redis' if args.redis_url else ''}"
            f"{'-' + args.label if args.label else ''}.json")
    (out / name).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    log(f"wrote {out / name}: {'meets' if meets else 'misses'} the targets")
    return 0 if meets else 2


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve-bare":
        p = argparse.ArgumentParser()
        p.add_argument("--port", type=int)
        p.add_argument("--database-url")
        p.add_argument("--workers", type=int)
        p.add_argument("--threads", type=int)
        serve_bare(p.parse_args(sys.argv[2:]))
    else:
        sys.exit(main())
