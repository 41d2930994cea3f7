"""Sign-up (RULES.md R-ACT-4, R-ACT-5, R-ACT-10; SECURITY.md CC3–CC5): choose a slot, confirm, submit;
first come first served, automatic or by the organiser; the waiting list promoted in order; no
duplicates; a reason for every refusal; 【报名成功】 and 【温馨提示】 exactly once; never more confirmed
than the headcount under 50 concurrent sign-ups, on SQLite and on PostgreSQL
(TIMEBANK_TEST_DATABASE_URL); an exception mid-sign-up leaves nothing behind.
"""
from __future__ import annotations

import datetime as _dt
import threading

import pytest

from conftest import csrf_from
from fixtures.activities_plugins.actsupport import (inbox_of, make_site, new_activity, quick_hashing, shift_ids, slot,
                                                    soon, username_of, volunteers)
from fixtures.security_plugins.secsupport import logged_in
from test_teams_workflow import new_team


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_site(make_app)
    return app, {"A": new_team(app, "阳光志愿服务队", admin="ta")}


def statuses(app, shift_id) -> list[tuple[int, str]]:
    """(volunteer id, status) of a slot's sign-ups in order of arrival."""
    from plugins.activities.models import SignUp
    with app.app_context():
        return [(s.volunteer_id, s.status) for s in
                SignUp.select().where(SignUp.shift == shift_id).order_by(SignUp.created_at, SignUp.id)]


def counters(app, shift_id) -> tuple[int, int, int]:
    """(shift.confirmed, activity.confirmed, confirmed sign-ups counted) — all three must agree."""
    from plugins.activities.models import Activity, Shift, SignUp
    with app.app_context():
        sh = Shift.get_by_id(shift_id)
        n = SignUp.select().where((SignUp.shift == shift_id) & (SignUp.status == "confirmed")).count()
        return sh.confirmed, Activity.get_by_id(sh.activity_id).confirmed, n


def sign(app, vid, sid):
    from plugins.activities import services as s
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return s.sign_up(Volunteer.get_by_id(vid), Shift.get_by_id(sid))


def signup_of(app, vid, sid):
    from plugins.activities.models import SignUp
    with app.app_context():
        return SignUp.get((SignUp.volunteer == vid) & (SignUp.shift == sid))


# ----------------------------------------------------------------- the flow a volunteer sees
def test_r_act_4_choose_slot_confirm_page_then_submit(site):
    """R-ACT-4 over HTTP: the detail page offers each slot; the sign-up URL shows a confirmation page
    first (GET changes nothing); the POST (with CSRF) takes the place; a second POST is no duplicate."""
    app, ids = site
    aid = new_activity(app, ids["A"], shifts=[slot(soon(3), vtype="引导员", capacity=5),
                                             slot(soon(4), vtype="摄影", capacity=1)])
    s_first, s_second = shift_ids(app, aid)
    (vid,) = volunteers(app, 11, 1)
    c = logged_in(app, username_of(app, vid))
    detail = c.get(f"/activities/{aid}").get_data(True)
    assert f"/activities/shifts/{s_first}/signup" in detail and f"/activities/shifts/{s_second}/signup" in detail
    page = c.get(f"/activities/shifts/{s_second}/signup")
    assert page.status_code == 200 and "摄影" in page.get_data(True) and "Confirm your sign-up" in page.get_data(True)
    assert statuses(app, s_second) == []
    assert c.post(f"/activities/shifts/{s_second}/signup").status_code == 400      # CSRF
    r = c.post(f"/activities/shifts/{s_second}/signup", data={"csrf_token": csrf_from(page.get_data(True))})
    assert r.status_code == 302 and r.headers["Location"].endswith("/activities/mine")
    assert statuses(app, s_second) == [(vid, "confirmed")]
    r = c.post(f"/activities/shifts/{s_second}/signup", data={"csrf_token": c.csrf}, follow_redirects=True)
    assert "already signed up" in r.get_data(True)
    assert statuses(app, s_second) == [(vid, "confirmed")] and counters(app, s_second) == (1, 1, 1)
    mine = c.get("/activities/mine").get_data(True)
    assert "关爱独居老人上门探访" in mine
    # anonymous: to the login page; an activity not published: 404
    assert app.test_client().post(f"/activities/shifts/{s_first}/signup").status_code in (302, 400, 401)
    draft = new_activity(app, ids["A"], status="approved")
    assert c.get(f"/activities/shifts/{shift_ids(app, draft)[0]}/signup").status_code == 404


def test_r_act_4_first_come_first_served_with_waiting_list_promoted_in_order(site):
    """Automatic confirmation: the first two get the places, the rest wait in order; a cancellation
    promotes the first in line, a decline (with its reason in the applicant's inbox, R-ACT-10)
    promotes the next; counters agree all along."""
    app, ids = site
    from plugins.activities import services as s
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=2)])
    (sid,) = shift_ids(app, aid)
    v = volunteers(app, 21, 5)
    got = [sign(app, x, sid).status for x in v]
    assert got == ["confirmed", "confirmed", "waitlisted", "waitlisted", "waitlisted"]
    assert counters(app, sid) == (2, 2, 2)
    assert [subj for subj, _ in inbox_of(app, v[0])] == ["【Signed up】关爱独居老人上门探访"]
    assert [subj for subj, _ in inbox_of(app, v[2])] == ["【Waiting list】关爱独居老人上门探访"]
    with app.app_context():
        s.cancel(signup_of(app, v[0], sid), reason="临时有事")
    assert statuses(app, sid) == [(v[0], "cancelled"), (v[1], "confirmed"), (v[2], "confirmed"),
                                  (v[3], "waitlisted"), (v[4], "waitlisted")]
    assert inbox_of(app, v[2])[-1][0] == "【Signed up】关爱独居老人上门探访"
    with app.app_context():
        with pytest.raises(s.ActivityError):
            s.decline([signup_of(app, v[1], sid)], reason=" ")       # a reason is required
        s.decline([signup_of(app, v[1], sid)], reason="该岗位需要会讲粤语")
    assert statuses(app, sid)[1:] == [(v[1], "declined"), (v[2], "confirmed"), (v[3], "confirmed"),
                                      (v[4], "waitlisted")]
    assert inbox_of(app, v[1])[-1] == ("【Not accepted】关爱独居老人上门探访", "Reason: 该岗位需要会讲粤语")
    assert counters(app, sid) == (2, 2, 2)
    with app.app_context():  # a waitlisted applicant who withdraws frees nothing and moves nobody
        s.cancel(signup_of(app, v[4], sid))
        s.cancel(signup_of(app, v[4], sid))                         # twice: no-op
    assert counters(app, sid) == (2, 2, 2)
    # the one who cancelled may sign up again: at the end of the line
    assert sign(app, v[0], sid).status == "waitlisted"


def test_r_act_4_organiser_confirms_in_order_of_arrival(site):
    """auto_confirm off: applications wait for the organiser; services.confirm takes them in order of
    arrival whatever order they are passed in; the one beyond the headcount goes to the waiting list
    and gets a clear answer; the decline page (HTTP) gives the reason."""
    app, ids = site
    from plugins.activities import services as s
    from plugins.activities.models import SignUp
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=2)], auto_confirm="0")
    (sid,) = shift_ids(app, aid)
    v = volunteers(app, 31, 4)
    assert [sign(app, x, sid).status for x in v] == ["pending"] * 4
    assert counters(app, sid) == (0, 0, 0)
    with app.app_context():
        rows = list(SignUp.select().where(SignUp.shift == sid).order_by(SignUp.id.desc()))[1:]  # v[2], v[1], v[0]
        done = s.confirm(rows)
        assert [d.volunteer_id for d in done] == [v[0], v[1]]
    assert statuses(app, sid) == [(v[0], "confirmed"), (v[1], "confirmed"), (v[2], "waitlisted"), (v[3], "pending")]
    assert inbox_of(app, v[2])[-1][0].startswith("【Waiting list】")
    ta = logged_in(app, "ta")
    sx = signup_of(app, v[3], sid)
    page = ta.get(f"/admin/activities_signup/decline/?ids={sx.id}")
    assert page.status_code == 200
    r = ta.post("/admin/activities_signup/decline/", data={"ids": str(sx.id), "reason": "名额已满，欢迎报名下次活动",
                                                         "csrf_token": ta.csrf})
    assert r.status_code == 302
    assert statuses(app, sid)[3] == (v[3], "declined")
    assert inbox_of(app, v[3])[-1] == ("【Not accepted】关爱独居老人上门探访", "Reason: 名额已满，欢迎报名下次活动")
    # every applicant got an answer (R-ACT-10)
    assert all(inbox_of(app, x) for x in v)


def test_r_act_4_no_duplicate_and_refusals(site):
    app, ids = site
    from plugins.activities import services as s
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=3)])
    (sid,) = shift_ids(app, aid)
    (vid,) = volunteers(app, 41, 1)
    sign(app, vid, sid)
    with pytest.raises(s.ActivityError) as e:
        sign(app, vid, sid)
    assert "already signed up" in str(e.value)
    assert counters(app, sid) == (1, 1, 1) and len(statuses(app, sid)) == 1
    closed = new_activity(app, ids["A"], status="approved")
    with pytest.raises(s.ActivityError):
        sign(app, vid, shift_ids(app, closed)[0])


# ----------------------------------------------------------------- messages (R-ACT-5)
def test_r_act_5_chinese_messages_on_confirmation_and_reminder(make_app, monkeypatch):
    """In the site's language (zh_Hans_CN): 【报名成功】 on confirmation, 【温馨提示】 before the start."""
    quick_hashing(monkeypatch)
    from plugins.activities import services as s
    app = make_site(make_app, DEFAULT_LOCALE="zh_Hans_CN")
    tid = new_team(app, "阳光志愿服务队", admin="ta")
    start = soon(2)
    aid = new_activity(app, tid, shifts=[slot(start)])
    (vid,) = volunteers(app, 51, 1)
    sign(app, vid, shift_ids(app, aid)[0])
    with app.app_context():
        assert s.send_reminders(at=start - _dt.timedelta(hours=23)) == 1
    subjects = [subj for subj, _ in inbox_of(app, vid)]
    assert subjects == ["【报名成功】关爱独居老人上门探访", "【温馨提示】关爱独居老人上门探访"]


def test_r_act_5_reminder_24_hours_before_exactly_once_per_person(site):
    """【温馨提示】 for confirmed volunteers whose slot starts within 24 hours; not earlier, not for the
    waiting list or the cancelled; exactly once even when the job runs twice or from two threads."""
    app, ids = site
    from core.db import db
    from plugins.activities import services as s
    start = soon(3)
    aid = new_activity(app, ids["A"], shifts=[slot(start, capacity=3)])
    (sid,) = shift_ids(app, aid)
    v = volunteers(app, 61, 5)
    for x in v:
        sign(app, x, sid)
    with app.app_context():
        s.cancel(signup_of(app, v[0], sid))          # v[3] promoted; v[4] still waiting
    with app.app_context():
        assert s.send_reminders(at=start - _dt.timedelta(hours=25)) == 0
    t = start - _dt.timedelta(hours=23)
    errors = []

    def job():
        try:
            with app.app_context():
                s.send_reminders(at=t)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            db.close()
    threads = [threading.Thread(target=job) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with app.app_context():
        assert s.send_reminders(at=t) == 0
        assert s.send_reminders(at=t + _dt.timedelta(hours=1)) == 0
    reminded = {x: [subj for subj, _ in inbox_of(app, x, category="activities.reminder")] for x in v}
    assert reminded == {v[0]: [], v[1]: ["【Reminder】关爱独居老人上门探访"], v[2]: ["【Reminder】关爱独居老人上门探访"],
                        v[3]: ["【Reminder】关爱独居老人上门探访"], v[4]: []}


# ----------------------------------------------------------------- concurrency (CC4, CC5)
def _run_threads(app, fns):
    """Run each fn in its own thread (own connection, own app context), all released together."""
    from core.db import db
    barrier = threading.Barrier(len(fns))
    results, errors = [None] * len(fns), []

    def run(i, fn):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results[i] = fn()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            db.close()
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results, errors


def test_cc4_fifty_concurrent_signups_for_ten_places(site):
    """CC4: 50 threads sign up 50 different volunteers for a 10-place slot at once: exactly 10
    confirmed, 40 on the waiting list, shift.confirmed == 10 (both databases)."""
    app, ids = site
    from plugins.activities import services as s
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=10)])
    (sid,) = shift_ids(app, aid)
    v = volunteers(app, 1000, 50, account=False)

    def one(x):
        return lambda: s.sign_up(Volunteer.get_by_id(x), Shift.get_by_id(sid)).status
    results, errors = _run_threads(app, [one(x) for x in v])
    assert errors == []
    assert sorted(results).count("confirmed") == 10 and results.count("waitlisted") == 40
    got = statuses(app, sid)
    assert len(got) == 50 and sum(st == "confirmed" for _, st in got) == 10
    assert counters(app, sid) == (10, 10, 10)


def test_cc4_same_volunteer_many_times_at_once_gets_one_place(site):
    app, ids = site
    from plugins.activities import services as s
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=10)])
    (sid,) = shift_ids(app, aid)
    (vid,) = volunteers(app, 1100, 1, account=False)
    results, errors = _run_threads(app, [lambda: s.sign_up(Volunteer.get_by_id(vid), Shift.get_by_id(sid)).status
                                         for _ in range(10)])
    assert results.count("confirmed") == 1 and len(errors) == 9
    assert all("already signed up" in e for e in errors), errors[:2]
    assert statuses(app, sid) == [(vid, "confirmed")] and counters(app, sid) == (1, 1, 1)


def test_cc4_cancellations_racing_with_signups_never_overbook(site):
    """10 confirmed and 5 waiting; then 10 cancellations and 15 new sign-ups at once: never more than
    the headcount, the counters agree with the rows, and freed places were given away."""
    app, ids = site
    from plugins.activities import services as s
    from plugins.activities.models import Shift, SignUp
    from plugins.volunteers.models import Volunteer
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=10)])
    (sid,) = shift_ids(app, aid)
    first = volunteers(app, 1200, 15, account=False)
    for x in first:
        sign(app, x, sid)
    late = volunteers(app, 1300, 15, account=False)
    with app.app_context():
        confirmed = [r.id for r in SignUp.select().where((SignUp.shift == sid) & (SignUp.status == "confirmed"))]
    assert len(confirmed) == 10

    def cancel(i):
        return lambda: s.cancel(SignUp.get_by_id(i), reason="race").status

    def join(x):
        return lambda: s.sign_up(Volunteer.get_by_id(x), Shift.get_by_id(sid)).status
    _results, errors = _run_threads(app, [cancel(i) for i in confirmed] + [join(x) for x in late])
    assert errors == []
    conf, act_conf, rows = counters(app, sid)
    assert conf == act_conf == rows == 10   # 20 people waited for 10 freed places
    got = dict(statuses(app, sid))
    assert sum(st == "cancelled" for st in got.values()) == 10
    assert sum(st == "waitlisted" for st in got.values()) == 10


def test_cc5_an_exception_mid_signup_leaves_nothing(site, monkeypatch):
    """CC5: the place is claimed, then the step fails (the confirmation message cannot be written):
    no sign-up row, no place taken, no message, no event delivered."""
    app, ids = site
    from core.models import Message
    from fx_act_listener import heard
    from plugins.activities import services as s
    aid = new_activity(app, ids["A"], shifts=[slot(soon(), capacity=1)])
    (sid,) = shift_ids(app, aid)
    (vid,) = volunteers(app, 71, 1)

    def boom(signup, texts=None):
        raise RuntimeError("mail store down")
    monkeypatch.setattr(s, "_message_confirmed", boom)
    with pytest.raises(RuntimeError):
        sign(app, vid, sid)
    assert statuses(app, sid) == [] and counters(app, sid) == (0, 0, 0)
    with app.app_context():
        from plugins.volunteers.models import Volunteer
        volunteer_user = Volunteer.get_by_id(vid).user_id  # (the organisers were told of the review)
        assert Message.select().where(Message.category.startswith("activities")
                                      & (Message.recipient == volunteer_user)).count() == 0
        assert heard("activities.signup_confirmed") == []
    monkeypatch.undo()
    quick_hashing(monkeypatch)
    assert sign(app, vid, sid).status == "confirmed" and counters(app, sid) == (1, 1, 1)
