"""The incentives plugin (issue 16): star ratings (R-INC-1), evaluations (R-INC-6), greetings and regular
contact (R-INC-4), activity insurance (R-INC-5), on SQLite and PostgreSQL (TIMEBANK_TEST_DATABASE_URL).
Real database, real services, real pages; concurrency with threads, each on its own connection."""
from __future__ import annotations

import datetime as _dt
import io
import threading

import openpyxl
import pytest

from conftest import PASSWORD, login
from core.testing import csrf_from

PLUGINS = ["volunteers", "teams", "documents", "activities", "certificates", "rosters", "privacy", "incentives"]
PUBLIC = "https://timebank.example.org"
TEAM_A, TEAM_B = "越秀区北京街党员志愿服务队", "天河区石牌街党员志愿服务队"


@pytest.fixture
def world(make_app, monkeypatch):
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = make_app(PLUGINS, PUBLIC_URL=PUBLIC)
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.activities.models import Category
    from plugins.teams import services as T
    from plugins.volunteers import services as V
    from test_teams_workflow import cn_id
    with app.test_request_context():
        admin = User.create(username="admin", password_hash=hash_password(PASSWORD), display_name="平台管理员")
        grant_role(admin, PLATFORM_ADMIN)

        def team(name, username):
            t = T.register_team({"name": name, "leader_name": "陈队长", "leader_phone": "13900001111",
                                 "service_direction": "敬老助残", "district": "越秀区", "address": "广州市某路1号",
                                 "intro": "党员志愿服务", "organisation": "北京街道", "declared_size": "12"},
                                actor=admin)
            T.submit_for_review(t, actor=admin)
            t = T.review_team(t, approve=True, actor=admin)
            u = User.create(username=username, password_hash=hash_password(PASSWORD), display_name=username)
            grant_role(u, TEAM_ADMIN, f"team:{t.id}")
            return t
        a, b = team(TEAM_A, "ta"), team(TEAM_B, "tb")
        vols = [V.register({"name": name, "id_type": "cn_id", "id_number": cn_id(8000 + n),
                            "phone": f"1381235{n:04d}", "agreement": True, "password": PASSWORD})
                for n, name in enumerate(["张三丰", "李四", "王五"], 1)]
        for v in vols:
            T.join(v, a) if hasattr(T, "join") else None
        cats = {c.code: c.id for c in Category.select()}
    w = {"app": app, "admin_id": admin.id, "a": a.id, "b": b.id, "v": [v.id for v in vols],
         "users": [v.user_id for v in vols], "cats": cats, "n": 0}
    return w


def _admin(app):
    from core.models import User
    return User.get(User.username == "admin")


def activity(w, *, hours=20, days_ahead=2, team="a", start=None, length=None, shifts=None):
    """A published service activity of ``w[team]`` with one slot of ``hours`` (or ``length``)."""
    from core.db import now
    from plugins.activities import services as S
    from plugins.teams.models import Team
    w["n"] += 1
    start = start or (now() + _dt.timedelta(days=days_ahead)).replace(hour=8, minute=0, second=0, microsecond=0)
    length = length or _dt.timedelta(hours=hours)
    admin = _admin(w["app"])
    data = {"title": f"关爱独居老人上门探访{w['n']}", "address": "广州市越秀区中山五路1号", "district": "越秀区",
            "description": "探访独居老人，帮助打扫卫生、陪伴聊天。", "contact_name": "李老师",
            "contact_phone": "13800138000", "category": w["cats"]["category.poverty"],
            "field": w["cats"]["field.care"]}
    shifts = shifts or [(start, start + length)]
    act = S.create_activity(Team.get_by_id(w[team]), data, [{"starts_at": s, "ends_at": e, "capacity": 10,
                                                             "volunteer_type": "一般志愿者"} for s, e in shifts],
                            actor=admin)
    return S.publish(S.review(S.submit(act, actor=admin), approve=True, actor=admin), actor=admin)


def serve(w, vids, *, hours=20, minutes=None):
    """Volunteers ``vids`` serve one new activity; their hours are confirmed (the event fires)."""
    from plugins.activities import services as S
    from plugins.activities.models import Activity, Shift
    from plugins.volunteers.models import Volunteer
    app = w["app"]
    with app.test_request_context():
        act = activity(w, hours=hours)
        shift = Shift.get(Shift.activity == act)
        sus = {vid: S.sign_up(Volunteer.get_by_id(vid), shift) for vid in vids}
        S.finish_due(at=act.ends_at + _dt.timedelta(minutes=1))
        S.confirm_hours(Activity.get_by_id(act.id), {s.id: (minutes if minutes is not None else hours * 60)
                                                     for s in sus.values()}, actor=_admin(app))
        return act.id, {vid: s.id for vid, s in sus.items()}


def promotions(app, uid):
    from core.models import Message
    with app.app_context():
        return Message.select().where((Message.recipient == uid) & Message.subject.contains("【星级晋升】")).count()


def star_state(app, vid):
    from plugins.incentives.models import Star, StarChange
    with app.app_context():
        s = Star.get_or_none(Star.volunteer == vid)
        return (s.stars if s else 0, StarChange.select().where(StarChange.volunteer == vid).count())


def run_threads(n, fn):
    from core.db import db
    errors, out = [], []
    barrier = threading.Barrier(n)

    def work(i):
        try:
            barrier.wait(10)
            out.append(fn(i))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            if not db.obj.is_closed():
                db.obj.close()
    ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert errors == []
    return out


# ------------------------------------------------------------------ R-INC-1 stars
def test_r_inc_1_1_crossing_100_hours_by_a_confirmed_activity_gives_one_star_and_one_message(world):
    app, vid, uid = world["app"], world["v"][0], world["users"][0]
    for _ in range(4):
        serve(world, [vid], hours=20)
    assert star_state(app, vid) == (0, 0) and promotions(app, uid) == 0     # 80 h: no star yet
    act_id, _sus = serve(world, [vid], hours=20)                              # 100 h
    assert star_state(app, vid) == (1, 1) and promotions(app, uid) == 1
    # the volunteer's page shows the star and the history
    c = app.test_client()
    login(c, f"{_number(app, vid)}")
    page = c.get("/me").get_data(as_text=True)
    assert "★" in page and "0★ → 1★" in page
    # the certificate verification page shows it (certificates' hook certificate_verification_lines)
    from plugins.activities.models import ServiceRecord
    from plugins.certificates import services as C
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        rec = ServiceRecord.get((ServiceRecord.volunteer == vid) & (ServiceRecord.activity == act_id))
        cert = C.apply(Volunteer.get_by_id(vid), [rec.id], purpose="practice")
        cert = C.approve(cert, actor=_admin(app))
    verify = app.test_client().get(f"/certificates/verify/{cert.token}").get_data(as_text=True)
    assert "星级" in verify and "★" in verify


def _number(app, vid):
    from plugins.volunteers.models import Volunteer
    from core.models import User
    with app.app_context():
        return User.get_by_id(Volunteer.get_by_id(vid).user_id).username


def test_r_inc_1_2_a_replayed_event_never_double_promotes_and_a_correction_down_demotes(world):
    app, vid, uid = world["app"], world["v"][0], world["users"][0]
    for _ in range(4):
        serve(world, [vid], hours=20)
    act_id, sus = serve(world, [vid], hours=20)
    from plugins.activities.models import Activity, ServiceRecord
    from plugins.activities.services import HoursConfirmed, confirm_hours
    from plugins.incentives import track_event
    with app.test_request_context():
        rec = ServiceRecord.get(ServiceRecord.signup == sus[vid])
        ev = HoursConfirmed(record_id=rec.id, volunteer_id=vid, team_id=rec.team_id, activity_id=act_id,
                            minutes=rec.minutes, delta_minutes=rec.minutes, idempotency_key=f"service_record:{rec.id}:v1")
        track_event(ev)
        track_event(ev)                                              # replayed twice
    assert star_state(app, vid) == (1, 1) and promotions(app, uid) == 1
    with app.test_request_context():                                # corrected down to 10 h: 90 h in all
        confirm_hours(Activity.get_by_id(act_id), {sus[vid]: 600}, reasons={sus[vid]: "签退时间记错"},
                      actor=_admin(app))
    assert star_state(app, vid) == (0, 2) and promotions(app, uid) == 1
    with app.test_request_context():                                # back up: a new promotion, a new message
        confirm_hours(Activity.get_by_id(act_id), {sus[vid]: 1200}, reasons={sus[vid]: "更正"},
                      actor=_admin(app))
    assert star_state(app, vid) == (1, 3) and promotions(app, uid) == 2


def test_r_inc_1_3_two_workers_processing_the_same_event_give_one_promotion_and_one_message(world):
    app, vid, uid = world["app"], world["v"][1], world["users"][1]
    for _ in range(5):
        serve(world, [vid], hours=20)
    from core.models import Message
    from plugins.activities.models import ServiceRecord
    from plugins.activities.services import HoursConfirmed
    from plugins.incentives.models import Star, StarChange
    from plugins.incentives.stars import on_hours_confirmed
    with app.app_context():                # as if the event had not been handled yet
        Message.delete().where(Message.recipient == uid).execute()
        StarChange.delete().execute()
        Star.delete().execute()
        rec = ServiceRecord.select().where(ServiceRecord.volunteer == vid).order_by(ServiceRecord.id.desc()).get()
    ev = HoursConfirmed(record_id=rec.id, volunteer_id=vid, minutes=1200, idempotency_key=f"service_record:{rec.id}:v1")

    def work(_i):
        with app.test_request_context():
            on_hours_confirmed(ev)
    run_threads(2, work)
    assert star_state(app, vid) == (1, 1) and promotions(app, uid) == 1


def test_r_inc_1_4_the_recompute_command_is_set_based_and_idempotent(world):
    app, vid = world["app"], world["v"][2]
    for _ in range(5):
        serve(world, [vid], hours=20)
    from plugins.incentives.models import Star, StarChange
    with app.app_context():
        StarChange.delete().execute()
        Star.delete().execute()
    runner = app.test_cli_runner()
    r = runner.invoke(args=["incentives", "recompute"])
    assert r.exit_code == 0 and "changed 1" in r.output, r.output
    assert star_state(app, vid) == (1, 1)
    with app.app_context():
        assert StarChange.get(StarChange.volunteer == vid).source == "recompute"
        assert Star.select().count() == 3          # every volunteer has a row, the others 0 stars
    r = runner.invoke(args=["incentives", "recompute"])
    assert "changed 0" in r.output and star_state(app, vid) == (1, 1)


def test_r_inc_1_5_thresholds_are_settings_that_must_ascend(world):
    app = world["app"]
    from core.settings import SettingError, change
    with app.test_request_context():
        with pytest.raises(SettingError) as e:
            change("incentives", {"star_2_hours": "90"}, user=_admin(app))
        assert "star_2_hours" in e.value.errors
        change("incentives", {"star_1_hours": "20"}, user=_admin(app))
    serve(world, [world["v"][0]], hours=20)
    assert star_state(app, world["v"][0]) == (1, 1)
    page = _admin_client(app).get("/admin/settings/incentives").get_data(as_text=True)
    assert "一星" in page


def test_r_inc_1_6_the_roster_shows_the_star(world):
    app = world["app"]
    from plugins.teams import services as T
    from plugins.teams.models import Membership
    with app.app_context():
        for vid in world["v"]:
            Membership.insert(team=world["a"], volunteer=vid, status="approved").on_conflict_ignore().execute()
    for _ in range(5):
        serve(world, [world["v"][0]], hours=20)
    r = _admin_client(app).get("/admin/rosters_roster/download/volunteers/xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert any(c.endswith(" ★") for c in cells), cells


def _admin_client(app, username="admin"):
    c = app.test_client()
    assert login(c, username).status_code == 302
    return c


# ------------------------------------------------------------------ R-INC-6 evaluations
def test_r_inc_6_1_an_evaluation_keeps_hours_attendance_and_grade_and_reaches_the_volunteer(world):
    app, vid, uid = world["app"], world["v"][0], world["users"][0]
    serve(world, [vid], hours=10)
    serve(world, [vid], hours=10, minutes=0)      # confirmed with no hours: a no-show
    from core.models import Message
    from plugins.incentives import evaluation as E
    from core.db import today
    with app.test_request_context():
        e = E.evaluate(vid, today() - _dt.timedelta(days=30), today() + _dt.timedelta(days=30))
        assert (e.minutes, e.signups, e.no_shows, e.grade) == (600, 2, 1, "pass")
        e.comment = "服务认真，守时"
        e.save()
        E.publish(e, actor=_admin(app))
        E.publish(e, actor=_admin(app))
        assert Message.select().where((Message.recipient == uid)
                                      & (Message.category == "incentives.evaluation")).count() == 1
    c = app.test_client()
    login(c, _number(app, vid))
    page = c.get("/me").get_data(as_text=True)
    assert "服务认真，守时" in page and "50%" in page


# ------------------------------------------------------------------ R-INC-4 greetings
def test_r_inc_4_1_the_12_5_greeting_reaches_every_active_volunteer_exactly_once_with_two_workers(world):
    app = world["app"]
    from core.models import Message
    from plugins.incentives import greetings as G
    from plugins.incentives.models import Greeting
    from plugins.volunteers import services as V
    from plugins.volunteers.models import Volunteer
    from test_teams_workflow import cn_id
    day = _dt.date(2026, 12, 5)
    with app.test_request_context():     # a fourth volunteer who is no longer active: not greeted
        gone = V.register({"name": "赵六", "id_type": "cn_id", "id_number": cn_id(8099), "phone": "13812359999",
                           "agreement": True, "password": PASSWORD})
        Volunteer.update(status="inactive").where(Volunteer.id == gone.id).execute()
        gone_user = gone.user_id

    def work(_i):
        with app.test_request_context():
            return G.run(day)
    out = run_threads(2, work)
    assert sum(o.get("volunteer_day", 0) for o in out) == 3
    with app.app_context():
        assert Greeting.select().where(Greeting.occasion == "volunteer_day").count() == 3
        for uid in world["users"]:
            msgs = list(Message.select().where((Message.recipient == uid) & (Message.category == "incentives.greeting")))
            assert len(msgs) == 1 and "国际志愿者日" in msgs[0].body
        assert not Message.select().where(Message.recipient == gone_user).exists()
    with app.test_request_context():
        assert G.run(day) == {}                       # a third run sends nothing


def test_r_inc_4_2_lunar_festivals_come_from_the_calendar_library(world):
    from plugins.incentives.greetings import occasions_on
    assert occasions_on(_dt.date(2026, 2, 17)) == ["spring_festival"]
    assert occasions_on(_dt.date(2026, 9, 25)) == ["mid_autumn"]
    assert occasions_on(_dt.date(2025, 10, 29)) == ["double_ninth"]
    assert occasions_on(_dt.date(2026, 12, 5)) == ["volunteer_day"]


def test_r_inc_4_3_birthday_greetings_only_with_the_birthday_consent(world):
    app, vid, uid = world["app"], world["v"][0], world["users"][0]
    from core.models import Message
    from plugins.incentives import greetings as G
    from plugins.privacy.consents import give
    from plugins.volunteers.models import Volunteer
    day = _dt.date(2026, 6, 3)
    with app.test_request_context():
        v = Volunteer.get_by_id(vid)
        Volunteer.update(birth_date=_dt.date(1980, 6, 3)).where(Volunteer.id == vid).execute()
        assert "birthday" not in G.run(day)
        give(Volunteer.get_by_id(vid), "birthday", actor=_admin(app))
        assert G.run(day) == {"birthday": 1}
        assert Message.select().where((Message.recipient == uid) & Message.subject.contains("生日")).count() == 1


def test_r_inc_4_4_templates_are_editable_in_chinese_and_the_not_contacted_list_follows_the_setting(world):
    app = world["app"]
    c = _admin_client(app)
    from plugins.incentives.models import GreetingTemplate
    with app.app_context():
        t = GreetingTemplate.get(GreetingTemplate.occasion == "volunteer_day")
    url = f"/admin/incentives_greeting_template/edit/?id={t.id}"
    token = csrf_from(c.get(url).get_data(as_text=True))
    r = c.post(url, data={"subject": "志愿者日快乐", "body": "{name}，谢谢您！", "active": "y", "csrf_token": token})
    assert r.status_code == 302
    from plugins.incentives import greetings as G
    with app.test_request_context():
        G.run(_dt.date(2027, 12, 5))
        from core.models import Message
        assert Message.select().where(Message.body == "张三丰，谢谢您！").count() == 1
    page = c.get("/admin/incentives_contacts/").get_data(as_text=True)
    assert "6 个月" in page or "6个月" in page
    assert "张三丰" in page
    with app.app_context():
        from plugins.volunteers.models import Volunteer
        vid = world["v"][0]
    token = csrf_from(page)
    assert c.post("/admin/incentives_contacts/", data={"volunteer": vid, "note": "电话问候",
                                                       "csrf_token": token}).status_code == 302
    assert "张三丰" not in c.get("/admin/incentives_contacts/").get_data(as_text=True)


# ------------------------------------------------------------------ R-INC-5 insurance
def _two_day_activity(w):
    from plugins.activities import services as S
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    from core.db import TZ
    app = w["app"]
    with app.test_request_context():
        start = _dt.datetime.combine(_dt.date.today() + _dt.timedelta(days=10), _dt.time(9), TZ)
        day2 = start + _dt.timedelta(days=1)
        act = activity(w, shifts=[(start, start + _dt.timedelta(hours=8)),        # 09:00–17:00 on day 1
                                  (day2, day2 + _dt.timedelta(hours=8))])          # and on day 2
        shift = Shift.select().where(Shift.activity == act).order_by(Shift.starts_at).first()
        for vid in w["v"][:2]:
            S.sign_up(Volunteer.get_by_id(vid), shift)
        return act.id


def test_r_inc_5_1_the_insured_list_of_a_two_day_activity_says_short_term_accident_insurance(world):
    app = world["app"]
    aid = _two_day_activity(world)
    c = _admin_client(app)
    page = c.get(f"/admin/incentives_insurance/?activity={aid}").get_data(as_text=True)
    assert "短期意外伤害保险" in page
    assert "短期意外伤害保险" in c.get(f"/admin/activities_activity/details/?id={aid}").get_data(as_text=True)
    r = c.get(f"/admin/incentives_insurance/insured.xlsx?activity={aid}")
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "姓名", "证件类型", "证件号码")
    assert len(rows) == 3 and all(row[6] == "短期意外伤害保险" for row in rows[1:])
    assert all("*" in row[3] for row in rows[1:])                # masked by default (PR5)
    token = csrf_from(page)
    full = c.post(f"/admin/incentives_insurance/insured.xlsx?activity={aid}", data={"full": "1", "csrf_token": token})
    rows = list(openpyxl.load_workbook(io.BytesIO(full.data)).active.iter_rows(values_only=True))
    assert all("*" not in row[3] for row in rows[1:])
    assert c.get(f"/admin/incentives_insurance/insured.xlsx?activity={aid}&full=1").status_code == 400
    from core.models import AuditLog
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "pii.exported").count() == 1
        assert AuditLog.select().where(AuditLog.action == "export").count() >= 1


def test_r_inc_5_2_the_checklist_needs_policy_and_insurer_and_lengths_follow_the_settings(world):
    app = world["app"]
    aid = _two_day_activity(world)
    c = _admin_client(app)
    url = f"/admin/incentives_insurance/?activity={aid}"
    token = csrf_from(c.get(url).get_data(as_text=True))
    r = c.post(url, data={"insured": "1", "policy_number": "", "insurer": "", "csrf_token": token})
    assert r.status_code == 200 and "请填写保单号" in r.get_data(as_text=True)
    from plugins.incentives.models import InsuranceCheck
    with app.app_context():
        assert not InsuranceCheck.select().exists()
    r = c.post(url, data={"insured": "1", "policy_number": "PA2026-001", "insurer": "示例保险公司",
                          "csrf_token": token})
    assert r.status_code == 302
    with app.app_context():
        assert InsuranceCheck.get().policy_number == "PA2026-001"
    from plugins.activities.models import Activity
    from plugins.incentives import insurance as I
    with app.test_request_context():
        a = Activity.get_by_id(aid)
        a.starts_at = a.starts_at.replace(hour=9)
        for hours, kind in ((3, "none"), (4, "one_day"), (8, "one_day"), (32, "short_term"), (24 * 40, "long_term")):
            a.ends_at = a.starts_at + _dt.timedelta(hours=hours)
            assert I.required(a) == kind, hours
        from core.settings import change
        change("incentives", {"insurance_half_day_hours": "2"}, user=_admin(app))
        a.ends_at = a.starts_at + _dt.timedelta(hours=3)
        assert I.required(a) == "one_day"


def test_r_inc_5_3_ac6_another_teams_activity_insurance_is_refused(world):
    app = world["app"]
    aid = _two_day_activity(world)             # team A's
    tb = _admin_client(app, "tb")
    assert tb.get(f"/admin/incentives_insurance/?activity={aid}").status_code == 404
    assert tb.get(f"/admin/incentives_insurance/insured.xlsx?activity={aid}").status_code == 404
    with app.test_request_context():
        own = activity(world, team="b").id        # team B's own page gives tb's CSRF token
    token = csrf_from(tb.get(f"/admin/incentives_insurance/?activity={own}").get_data(as_text=True))
    assert tb.post(f"/admin/incentives_insurance/insured.xlsx?activity={aid}",
                   data={"full": "1", "csrf_token": token}).status_code == 404
    ta = _admin_client(app, "ta")
    assert ta.get(f"/admin/incentives_insurance/?activity={aid}").status_code == 200
    r = ta.get(f"/admin/incentives_insurance/insured.xlsx?activity={aid}")
    assert r.status_code == 200
    vol = app.test_client()
    login(vol, _number(app, world["v"][0]))
    assert vol.get(f"/admin/incentives_insurance/?activity={aid}").status_code == 403


def test_r_inc_6_2_ac6_evaluations_of_another_teams_members_are_not_listed(world):
    app = world["app"]
    from plugins.incentives import evaluation as E
    from plugins.teams.models import Membership
    from core.db import today
    with app.test_request_context():
        Membership.insert(team=world["a"], volunteer=world["v"][0], status="approved").execute()
        e = E.evaluate(world["v"][0], today() - _dt.timedelta(days=1), today())
    assert "张三丰" in _admin_client(app, "ta").get("/admin/incentives_evaluation/").get_data(as_text=True)
    tb = _admin_client(app, "tb")
    assert "张三丰" not in tb.get("/admin/incentives_evaluation/").get_data(as_text=True)
    assert tb.get(f"/admin/incentives_evaluation/edit/?id={e.id}").status_code == 404


def test_r_inc_6_3_ac6_matrix_another_team_admin_gets_nothing_of_team_a(world):
    """AC6 for every view and export of the plugin: team B's admin against team A's activity, evaluation and
    member — list, details, edit, export, the insurance page, the insured list and the contact form."""
    app = world["app"]
    from core.db import today
    from plugins.incentives import evaluation as E
    from plugins.teams.models import Membership
    with app.test_request_context():
        Membership.insert(team=world["a"], volunteer=world["v"][0], status="approved").execute()
        e = E.evaluate(world["v"][0], today() - _dt.timedelta(days=1), today())
        own = activity(world, team="b").id
    aid = _two_day_activity(world)
    tb = _admin_client(app, "tb")
    token = csrf_from(tb.get(f"/admin/incentives_insurance/?activity={own}").get_data(as_text=True))
    for url in (f"/admin/incentives_evaluation/edit/?id={e.id}", f"/admin/incentives_evaluation/details/?id={e.id}",
                f"/admin/incentives_insurance/?activity={aid}", f"/admin/incentives_insurance/insured.xlsx?activity={aid}"):
        assert tb.get(url).status_code == 404, url
    for url in ("/admin/incentives_evaluation/", "/admin/incentives_evaluation/export/csv/",
                "/admin/incentives_contacts/"):
        r = tb.get(url)
        assert r.status_code in (200, 403) and "张三丰" not in r.get_data(as_text=True), url
    assert tb.post("/admin/incentives_contacts/", data={"volunteer": world["v"][0], "note": "x",
                                                        "csrf_token": token}).status_code == 404
    assert tb.post(f"/admin/incentives_insurance/?activity={aid}", data={"insured": "1", "policy_number": "P",
                                                                         "insurer": "I", "csrf_token": token}).status_code == 404
    from plugins.incentives.models import Contact, InsuranceCheck
    with app.app_context():
        assert not Contact.select().exists() and not InsuranceCheck.select().exists()
    ta = _admin_client(app, "ta")
    assert "张三丰" in ta.get("/admin/incentives_evaluation/export/csv/").get_data(as_text=True)
