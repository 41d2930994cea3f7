"""Yearly service targets (RULES.md R-PARTY-2 40 h for Party-track volunteers, R-PARTY-3 two Party
volunteer services for in-service Party members, R-PARTY-4 20 h for registered volunteers), on SQLite
and PostgreSQL.

One world built through the real services: teams A ⊃ A1 and B with their admins, volunteers of every
category, confirmed service records (trainings and another year beside them), and a fixed "today"
(2026-06-30, 181/365 of the year: pro-rata 19.8 h of 40, 9.9 h of 20, 0.99 of 2 services).
Reports are read the way people get them: the admin page, the XLSX through openpyxl, the volunteer's
own page. Another team's admin gets 404 for a foreign team (AC6), a volunteer 403.
"""
from __future__ import annotations

import datetime as _dt
import io

import pytest
from openpyxl import load_workbook

from fixtures.activities_plugins.actsupport import quick_hashing, set_setting, soon
from fixtures.security_plugins.secsupport import logged_in
from test_teams_workflow import add_member, cn_id, new_team, new_volunteer, phone

PLUGINS = ["volunteers", "teams", "documents", "activities", "targets"]
TODAY = _dt.date(2026, 6, 30)
THIS_YEAR, LAST_YEAR = _dt.date(2026, 3, 10), _dt.date(2025, 5, 20)
# number → (name, registration extras, team)
PEOPLE = {
    1: ("积极分子甲", {"political_status": "入党积极分子", "sensitive_consent": True}, "A"),
    2: ("发展对象乙", {"political_status": "发展对象", "sensitive_consent": True}, "A"),
    3: ("在职党员丙", {"political_status": "中共党员", "sensitive_consent": True, "pledge": True,
                   "in_service_reported_on": "2025-03-01"}, "A1"),
    4: ("党员丁", {"political_status": "中共党员", "sensitive_consent": True, "pledge": True}, "A"),
    5: ("群众戊", {}, "B"),
    6: ("群众己", {}, "A1"),
}


def _activity(app, team_id, slots, *, kind="service", party=False, title="社区志愿服务"):
    """An activity of ``team_id`` with ``slots`` 12-hour slots, published through the real services."""
    from plugins.activities import services as S
    from plugins.activities.models import Category
    from plugins.teams.models import Team
    with app.app_context():
        cats = {c.code: c.id for c in Category.select()}
        start = soon(3)
        hours = _dt.timedelta(hours=1)
        shifts = [{"starts_at": start + 13 * i * hours, "ends_at": start + (13 * i + 12) * hours,
                   "capacity": 10, "volunteer_type": "一般志愿者"} for i in range(slots)]
        data = {"title": title, "address": "广州市越秀区中山五路1号", "district": "越秀区",
                "description": "社区党员志愿服务。", "contact_name": "李老师", "contact_phone": "13800138000",
                "category": cats["training.general" if kind == "training" else "category.poverty"],
                "field": cats["field.care"], "is_party_service": "1" if party else ""}
        a = S.create_activity(Team.get_by_id(team_id), data, shifts, kind=kind)
        return S.publish(S.review(S.submit(a), approve=True)).id


def _serve(app, activity_id, minutes_by_volunteer_slot: dict, on: _dt.date):
    """Sign volunteers up ({(volunteer id, slot index): minutes}), finish the activity, confirm the
    hours through the real service, then date the records ``on``."""
    from plugins.activities import services as S
    from plugins.activities.models import Activity, ServiceRecord, Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        shifts = list(Shift.select().where(Shift.activity == activity_id).order_by(Shift.starts_at))
        plan = {}
        for (vid, k), mins in minutes_by_volunteer_slot.items():
            s = S.sign_up(Volunteer.get_by_id(vid), shifts[k])
            assert s.status == "confirmed"
            plan[s.id] = mins
        S.finish_due(at=shifts[-1].ends_at + _dt.timedelta(minutes=1))
        S.confirm_hours(Activity.get_by_id(activity_id), plan)
        ServiceRecord.update(service_date=on).where(ServiceRecord.activity == activity_id).execute()


@pytest.fixture
def world(make_app, make_user, monkeypatch):
    quick_hashing(monkeypatch)
    from plugins.targets import services
    monkeypatch.setattr(services, "today", lambda: TODAY)
    app = make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")
    make_user("admin", "platform_admin")
    a = new_team(app, "北京街党员志愿服务队", admin="ta")
    a1 = new_team(app, "北京街第一支队", admin="ta1", parent=a)
    b = new_team(app, "石牌街党员志愿服务队", admin="tb")
    teams = {"A": a, "A1": a1, "B": b}
    v, numbers = {}, {}
    for n, (name, extra, team) in PEOPLE.items():
        v[n], numbers[n] = new_volunteer(app, 700 + n, name, **extra)
        add_member(app, v[n], teams[team])
    # 2026: services in team A's activities (hours count whatever the team: v5 belongs to B)
    s1 = _activity(app, a, 1)
    _serve(app, s1, {(v[1], 0): 720, (v[4], 0): 720, (v[5], 0): 720}, THIS_YEAR)
    s2 = _activity(app, a, 1)
    _serve(app, s2, {(v[1], 0): 540, (v[2], 0): 300, (v[5], 0): 480}, THIS_YEAR)
    # a Party volunteer service with two slots: v3 served both, it counts as one service
    p = _activity(app, a1, 2, party=True, title="主题党日志愿服务")
    _serve(app, p, {(v[3], 0): 180, (v[3], 1): 120}, THIS_YEAR)
    # a Party service where v3 was confirmed with 0 minutes (absent): not a service
    p0 = _activity(app, a1, 1, party=True, title="主题党日（缺席）")
    _serve(app, p0, {(v[3], 0): 0}, THIS_YEAR)
    # a training (not service hours, R-ACT-6) and last year's services (not this year's)
    t = _activity(app, a, 1, kind="training", title="党员志愿者培训")
    _serve(app, t, {(v[1], 0): 720, (v[2], 0): 720, (v[6], 0): 720}, THIS_YEAR)
    old = _activity(app, a, 2, title="去年的服务")
    _serve(app, old, {(v[1], 0): 720, (v[6], 0): 720, (v[6], 1): 720}, LAST_YEAR)
    oldp = _activity(app, a1, 2, party=True, title="去年的主题党日")
    _serve(app, oldp, {(v[3], 0): 60}, LAST_YEAR)
    with app.app_context():
        from core.db import TZ
        from core.models import User
        from plugins.volunteers.models import Volunteer
        Volunteer.update(registered_at=_dt.datetime(2024, 1, 10, 9, tzinfo=TZ)).execute()  # registered earlier
        admin = User.get(User.username == "admin")
    return app, teams, v, numbers, admin


def _rows(app, user, year, team=None, **kw):
    from plugins.targets import services
    from plugins.teams.models import Team
    with app.test_request_context():
        rep = services.report(user, year, Team.get_by_id(team) if team else None, **kw)
        return rep, {r.volunteer_id: r for r in rep.rows}


def test_r_party_2_3_4_categories_hours_and_status_this_year(world):
    app, teams, v, numbers, admin = world
    rep, rows = _rows(app, admin, 2026)
    assert rep.share == pytest.approx(181 / 365)
    got = {n: (rows[v[n]].category, round(rows[v[n]].hours, 2), rows[v[n]].party_services, rows[v[n]].status)
           for n in PEOPLE}
    assert got == {
        1: ("party_track", 21.0, 0, "on_track"),    # 21 h ≥ 19.8 h pro rata; training and 2025 left out
        2: ("party_track", 5.0, 0, "behind"),       # training hours do not count
        3: ("in_service", 5.0, 1, "on_track"),      # two slots of one Party service = 1; 0 minutes = none
        4: ("registered", 12.0, 0, "on_track"),     # a Party member who has not reported: 20 h
        5: ("registered", 20.0, 0, "met"),          # exactly the target, earned in another team's activities
        6: ("registered", 0.0, 0, "behind"),        # only a training this year
    }
    assert rows[v[1]].target == 40 * 60 and rows[v[3]].target == 2 and rows[v[5]].target == 20 * 60
    assert rows[v[1]].expected == pytest.approx(40 * 60 * 181 / 365)
    assert rep.summary["party_track"] == {"met": 0, "on_track": 1, "behind": 1, "total": 2}
    assert rep.summary["in_service"] == {"met": 0, "on_track": 1, "behind": 0, "total": 1}
    assert rep.summary["registered"] == {"met": 1, "on_track": 1, "behind": 1, "total": 3}
    # the category filter is applied in the query
    _, only = _rows(app, admin, 2026, category="party_track")
    assert set(only) == {v[1], v[2]}


def test_r_party_past_year_is_met_or_behind_only(world):
    app, teams, v, numbers, admin = world
    from core.db import TZ
    from plugins.volunteers.models import Volunteer
    with app.app_context():   # registered in 2026: not in 2025's report
        Volunteer.update(registered_at=_dt.datetime(2026, 1, 1, 0, 5, tzinfo=TZ)).where(Volunteer.id == v[4]).execute()
    rep, rows = _rows(app, admin, 2025)
    assert rep.share == 1.0
    got = {n: (round(rows[v[n]].hours, 2), rows[v[n]].party_services, rows[v[n]].status) for n in PEOPLE if n != 4}
    assert got == {1: (12.0, 0, "behind"), 2: (0.0, 0, "behind"), 3: (1.0, 1, "behind"),
                   5: (0.0, 0, "behind"), 6: (24.0, 0, "met")}
    assert v[4] not in rows and v[4] in _rows(app, admin, 2026)[1]
    assert {r.status for r in rep.rows} <= {"met", "behind"}


def test_the_report_is_one_query_whatever_the_number_of_volunteers(world, monkeypatch):
    """One aggregate statement (GROUP BY volunteer over the year), not a query per volunteer; it also
    reads the sealed political status that the categories are decrypted from (issue 11 point 7)."""
    app, teams, v, numbers, admin = world
    from core.db import db
    from plugins.targets import services
    seen = []
    real = db.obj.execute_sql

    def counting(sql, params=None, *a, **k):
        seen.append(sql)
        return real(sql, params, *a, **k)
    with app.test_request_context():
        monkeypatch.setattr(db.obj, "execute_sql", counting)
        rep = services.report(admin, 2026)
        monkeypatch.undo()
    reads = [s for s in seen if "activities_service_record" in s]
    assert len(reads) == 1 and "GROUP BY" in reads[0].upper() and len(rep.rows) == 6
    assert not [s for s in seen if "volunteers_volunteer" in s and s not in reads]
    assert '"political_status"' in reads[0]


def test_settings_change_the_targets(world):
    app, teams, v, numbers, admin = world
    set_setting(app, "targets.registered_hours", 12)
    set_setting(app, "targets.in_service_services", 1)
    set_setting(app, "targets.party_track_hours", 21)
    rep, rows = _rows(app, admin, 2026)
    assert rows[v[4]].status == "met" and rows[v[4]].target == 12 * 60
    assert rows[v[3]].status == "met" and rows[v[3]].target == 1
    assert rows[v[1]].status == "met" and rows[v[2]].status == "behind"
    assert rep.goals["registered"] == (720, "minutes")


def test_ac6_team_admins_see_their_own_tree_only(world):
    app, teams, v, numbers, admin = world
    from core.models import AuditLog
    ta = logged_in(app, "ta")
    html = ta.get("/admin/targets_report/?year=2026").get_data(True)
    shown = {n for n in PEOPLE if numbers[n] in html}
    assert shown == {1, 2, 3, 4, 6}                      # A and its sub-team A1, not B's member
    html = ta.get(f"/admin/targets_report/?year=2026&team={teams['A1']}").get_data(True)
    assert {n for n in PEOPLE if numbers[n] in html} == {3, 6}
    # another team's id, by URL: 404 and no data, for the page and the export; audited
    for url in (f"/admin/targets_report/?team={teams['B']}", f"/admin/targets_report/export.xlsx?team={teams['B']}",
                "/admin/targets_report/?team=999999", "/admin/targets_report/?team=x"):
        r = ta.get(url)
        assert r.status_code == 404, url
        assert numbers[5] not in r.get_data(True)
    with app.app_context():
        denied = AuditLog.select().where((AuditLog.action == "access.denied") & (AuditLog.object_id == str(teams["B"])))
        assert denied.count() == 2
    tb = logged_in(app, "tb")
    html = tb.get("/admin/targets_report/?year=2026").get_data(True)
    assert {n for n in PEOPLE if numbers[n] in html} == {5}
    assert tb.get(f"/admin/targets_report/?team={teams['A1']}").status_code == 404
    # the sub-team's admin does not see the parent's members
    html = logged_in(app, "ta1").get("/admin/targets_report/").get_data(True)
    assert {n for n in PEOPLE if numbers[n] in html} == {3, 6}
    # a volunteer may not open the report; anonymous users are sent to the login page
    vol = logged_in(app, numbers[1])
    assert vol.get("/admin/targets_report/").status_code == 403
    assert vol.get("/admin/targets_report/export.xlsx").status_code == 403
    assert app.test_client().get("/admin/targets_report/").status_code == 302
    # bad parameters: a clear error, no 500
    r = ta.get("/admin/targets_report/?year=2099")
    assert r.status_code == 400 and "Choose a year between" in r.get_data(True)


def test_xlsx_export_has_the_rows_with_chinese_headers_and_no_id_numbers(world):
    app, teams, v, numbers, admin = world
    from core.models import AuditLog
    c = logged_in(app, "admin")
    r = c.get(f"/admin/targets_report/export.xlsx?year=2026&team={teams['A']}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [list(x) for x in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "2026年度志愿服务目标完成情况"
    head_at = next(i for i, x in enumerate(rows) if x[0] == "序号")
    assert rows[head_at] == ["序号", "志愿者编号", "姓名", "类别", "服务时数", "党员志愿服务次数", "年度目标",
                             "应达进度", "完成情况"]
    body = {x[1]: x for x in rows[head_at + 1:] if x[0] is not None}
    assert set(body) == {numbers[n] for n in (1, 2, 3, 4, 6)}
    assert body[numbers[1]][2:] == ["积极分子甲", "入党积极分子/发展对象/预备党员", 21, 0, "40 小时", "19.8 小时", "进度正常"]
    assert body[numbers[3]][3:] == ["在职党员（回社区报到）", 5, 1, "2 次", "1 次", "进度正常"]
    assert body[numbers[6]][8] == "落后" and body[numbers[4]][3] == "注册志愿者"
    flat = " ".join(str(c) for x in rows for c in x if c is not None)
    for n in PEOPLE:
        assert cn_id(700 + n) not in flat and phone(700 + n) not in flat
    with app.app_context():
        log = AuditLog.select().where(AuditLog.action == "targets.report_exported").get()
        assert '"rows": 5' in log.details


def test_each_volunteer_sees_only_their_own_progress(world):
    app, teams, v, numbers, admin = world
    c = logged_in(app, numbers[1])
    html = c.get("/me").get_data(True)
    assert "My yearly service target" in html and "21.0" in html and 'data-status="on_track"' in html
    assert not any(numbers[n] in html for n in PEOPLE if n != 1)
    page = c.get("/targets/me?year=2025")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "12.0" in page.get_data(True) and 'data-status="behind"' in page.get_data(True)
    assert c.get("/targets/me?year=abc").status_code == 404
    # the in-service member sees Party volunteer services
    html = logged_in(app, numbers[3]).get("/targets/me").get_data(True)
    assert 'data-status="on_track"' in html and "Party volunteer services" in html
    # an admin's dashboard counts who is behind in their scope
    html = logged_in(app, "ta").get("/admin/").get_data(True)
    assert "Yearly targets: volunteers behind" in html
    assert ('<tr data-category="party_track"><td>Party-track volunteer</td>'
            '<td class="text-danger"><strong>1</strong> / 2') in html
    from core.models import User
    from plugins.targets import services
    with app.test_request_context():     # the dashboard's counts are kept a while per scope
        rep, cached = services.summary_cached(User.get(User.username == "ta"))
        assert cached and rep.summary["party_track"]["behind"] == 1


def test_in_service_reporting_is_validated_sensitive_and_cleared_with_the_status(world):
    app, teams, v, numbers, admin = world
    from core.db import db
    from plugins.volunteers import services as vs
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        for extra, field in (({"political_status": "群众", "sensitive_consent": True}, "in_service_reported_on"),
                             ({"political_status": "中共党员", "sensitive_consent": True, "pledge": True,
                               "in_service_reported_on": "2030-01-01"}, "in_service_reported_on"),
                             ({"political_status": "中共党员", "pledge": True}, "sensitive_consent")):
            extra.setdefault("in_service_reported_on", "2025-01-01")
            with pytest.raises(vs.RegistrationError) as e:
                vs.register({"name": "测试", "id_type": "cn_id", "id_number": cn_id(799), "phone": phone(799),
                             "agreement": True, **extra}, create_account=False)
            assert field in e.value.errors
        assert Volunteer.select().where(Volunteer.name == "测试").count() == 0
        raw = db.execute_sql("SELECT in_service_reported_on FROM volunteers_volunteer WHERE id = %s"
                             % int(v[3])).fetchone()
        assert "2025-03-01" not in raw[0] and raw[0].startswith("v1:")
        v3 = Volunteer.get_by_id(v[3])
        assert v3.is_in_service_party_member and v3.in_service_reported_on == "2025-03-01"
        changed = vs.update_profile(v3, {"political_status": "群众"})
        assert "in_service_reported_on" in changed
        v3 = Volunteer.get_by_id(v[3])
        assert v3.in_service_reported_on == "" and not v3.is_in_service_party_member
    _, rows = _rows(app, admin, 2026)
    assert rows[v[3]].category == "registered"


def test_migrations_bring_an_existing_site_to_the_new_schema(make_app):
    """A site installed before these versions (no in-service columns, the old (volunteer, service_date)
    index, no migration history) gets them from volunteers 0002 and activities 0002; volunteers 0004
    then drops the blind index 0002 added (issue 11 point 7, tests/test_hardening_blind_index.py)."""
    app = make_app(plugins=PLUGINS)
    from playhouse.migrate import SchemaMigrator, migrate
    from core import plugins as P
    from core.db import db
    with app.app_context():
        m = SchemaMigrator.from_database(db.obj)
        migrate(m.drop_column("volunteers_volunteer", "in_service_reported_on"),
                m.drop_index("activities_service_record",
                             "activities_service_record_volunteer_id_service_date_kind_3ed2c10"),
                m.add_index("activities_service_record", ("volunteer_id", "service_date"), False))
        for name in ("volunteers", "activities"):
            db.execute_sql(f'DROP TABLE "migrations_{name}"')
        available, _ = P.discover()
        ran = P.migrate_plugin(available["volunteers"])     # (0003_registration_review on main in between)
        assert ran[:2] == ["0001_initial", "0002_in_service_party_member"] and ran[-1] == "0004_seal_political_status"
        assert P.migrate_plugin(available["activities"]) == ["0001_initial", "0002_service_totals_index",
                                                             "0003_listing_index", "0004_search_terms",
                                                             "0005_photo_recipients"]
        assert P.migrate_plugin(available["activities"]) == []      # applied once
        cols = {c.name for c in db.get_columns("volunteers_volunteer")}
        assert "in_service_reported_on" in cols and not {"in_service_hash", "political_hash"} & cols
        idx = [i.columns for i in db.get_indexes("activities_service_record")]   # PostgreSQL cuts names at 63
        assert ["volunteer_id", "service_date", "kind", "minutes", "activity_id"] in idx
        assert ["volunteer_id", "service_date"] not in idx
