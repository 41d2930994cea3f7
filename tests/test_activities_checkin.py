"""Check-in, check-out and hours (RULES.md R-ACT-6, R-ACT-7, R-ACT-8; SECURITY.md IV5, CC3, CC5).

The organiser's screen shows a signed, expiring code; a volunteer's phone opens /activities/checkin?t=…
Forged, expired and replayed codes are refused with a clear message and change nothing. Personal codes
scanned by the organiser are single use. Manual corrections need a reason and are audited. Hours come
from the times, capped by the slot and rounded by the site's rule; confirming them emits HoursConfirmed
once per record version (counted by the ``fx_act_listener`` fixture plugin's track_event hook).

The services read the time through ``services.now`` (moved by the ``clock`` fixture); token ages use
itsdangerous' own clock, moved by patching ``TimestampSigner.get_timestamp``.
"""
from __future__ import annotations

import datetime as _dt
import threading
import time

import pytest

from fixtures.activities_plugins.actsupport import (Clock, make_site, new_activity, quick_hashing, set_setting,
                                                    shift_ids, slot, soon, username_of, volunteers)
from fixtures.security_plugins.secsupport import logged_in, snapshot
from test_teams_workflow import audit_actions, new_team

TABLES = ["activities_signup", "activities_used_token", "activities_service_record"]


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def world(make_app, monkeypatch, clock):
    """Team A's activity with one 3-hour slot (09:00–12:00 three days ahead); v1, v2 confirmed, v3 not
    signed up; the clock at 09:00 of that day."""
    quick_hashing(monkeypatch)
    app = make_site(make_app)
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    start = soon(3).replace(hour=9)
    aid = new_activity(app, ta, shifts=[slot(start, hours=3, capacity=5)])
    (sid,) = shift_ids(app, aid)
    v1, v2, v3 = volunteers(app, 201, 3)
    from plugins.activities import services as s
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        s1, s2 = (s.sign_up(Volunteer.get_by_id(v), Shift.get_by_id(sid)).id for v in (v1, v2))
    clock.set(start)
    return {"app": app, "aid": aid, "sid": sid, "v": (v1, v2, v3), "s": (s1, s2), "start": start, "teams": (ta, tb)}


def _signup(app, sid):
    from plugins.activities.models import SignUp
    with app.app_context():
        return SignUp.get_by_id(sid)


def _token(app, aid, mode):
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    with app.app_context():
        return s.site_token(Activity.get_by_id(aid), mode)


def _age_tokens(monkeypatch, seconds):
    """Every token now looks ``seconds`` older (itsdangerous reads its own clock)."""
    from itsdangerous.timed import TimestampSigner
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + seconds)


# ----------------------------------------------------------------- the organiser's code (R-ACT-7)
def test_r_act_7_site_code_checks_in_then_out_code_checks_out(world, clock):
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    c = logged_in(app, username_of(app, world["v"][0]))
    clock.set(start + _dt.timedelta(minutes=3))
    r = c.get("/activities/checkin", query_string={"t": _token(app, aid, "in")})
    assert r.status_code == 200
    assert _signup(app, s1).check_in_at == start + _dt.timedelta(minutes=3)
    clock.set(start + _dt.timedelta(hours=2, minutes=50))
    r = c.get("/activities/checkin", query_string={"t": _token(app, aid, "out")})
    assert r.status_code == 200
    su = _signup(app, s1)
    assert su.check_out_at == start + _dt.timedelta(hours=2, minutes=50)
    from plugins.activities import services as s
    with app.app_context():
        assert s.minutes_from_times(su) == 150       # 2 h 47 rounded down to 30 minutes
    assert audit_actions(app, "activities_signup", s1)[-2:] == ["checkin.in", "checkin.out"]


def test_r_act_7_code_screen_only_for_the_organiser(world):
    """The code screen shows a QR code to team A's admin; another team's admin and a volunteer get
    403, an anonymous visitor the login page."""
    app, aid = world["app"], world["aid"]
    r = logged_in(app, "ta").get(f"/activities/{aid}/code/in")
    assert r.status_code == 200 and "<svg" in r.get_data(True)
    assert logged_in(app, "ta").get(f"/activities/{aid}/code/sideways").status_code == 404
    assert logged_in(app, "tb").get(f"/activities/{aid}/code/in").status_code == 403
    assert logged_in(app, username_of(app, world["v"][0])).get(f"/activities/{aid}/code/out").status_code == 403
    assert app.test_client().get(f"/activities/{aid}/code/in").status_code in (302, 401)


def test_r_act_7_forged_expired_and_replayed_codes_are_refused_and_change_nothing(world, clock, monkeypatch):
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    c = logged_in(app, username_of(app, world["v"][0]))
    good = _token(app, aid, "in")
    payload, ts, sig = good.split(".")
    from itsdangerous import URLSafeTimedSerializer
    forged = [
        f"{payload}.{ts}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}",                    # tampered signature
        URLSafeTimedSerializer("not-the-site-key", salt="activities.checkin").dumps(
            {"a": aid, "m": "in", "n": "x" * 16}),                                         # another key
        URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps({"a": aid, "m": "in", "n": "y"}),
        "", "garbage", good[:-1],
    ]
    before = snapshot(app, TABLES)
    for bad in forged:
        r = c.get("/activities/checkin", query_string={"t": bad})
        assert r.status_code == 400 and "This code is not valid." in r.get_data(True), bad
    assert snapshot(app, TABLES) == before
    # expired: the default lifetime is 90 s
    _age_tokens(monkeypatch, 91)
    r = c.get("/activities/checkin", query_string={"t": good})
    assert r.status_code == 400 and "This code has expired; scan the current one." in r.get_data(True)
    assert snapshot(app, TABLES) == before
    # the site's setting decides the lifetime
    _age_tokens(monkeypatch, 40)
    set_setting(app, "activities.checkin_token_seconds", 30)
    assert c.get("/activities/checkin", query_string={"t": good}).status_code == 400
    set_setting(app, "activities.checkin_token_seconds", 90)
    _age_tokens(monkeypatch, 0)
    clock_t = start + _dt.timedelta(minutes=1)
    clock.set(clock_t)
    assert c.get("/activities/checkin", query_string={"t": good}).status_code == 200
    assert _signup(app, s1).check_in_at == clock_t
    # replayed by the same volunteer: refused, the check-in time stays
    clock.set(start + _dt.timedelta(minutes=20))
    after_first = snapshot(app, TABLES)
    r = c.get("/activities/checkin", query_string={"t": good})
    assert r.status_code == 400 and "This code was already used." in r.get_data(True)
    assert snapshot(app, TABLES) == after_first
    # the same screen code works once for each volunteer
    c2 = logged_in(app, username_of(app, world["v"][1]))
    assert c2.get("/activities/checkin", query_string={"t": good}).status_code == 200


def test_r_act_7_a_refused_scan_does_not_use_up_the_code(world, clock):
    """A volunteer without a confirmed place is refused and nothing is written, so once the organiser
    confirms them the code on the screen works for them (the scan is one transaction)."""
    app, aid, sid = world["app"], world["aid"], world["sid"]
    v3 = world["v"][2]
    from plugins.activities.models import SignUp
    c = logged_in(app, username_of(app, v3))
    code = _token(app, aid, "in")
    before = snapshot(app, TABLES)
    r = c.get("/activities/checkin", query_string={"t": code})
    assert r.status_code == 400 and "You have no confirmed place in this activity." in r.get_data(True)
    assert snapshot(app, TABLES) == before
    with app.app_context():   # signed up on the spot by the organiser (the slot has already started)
        from core.db import transaction
        with transaction():
            SignUp.create(shift=sid, activity=aid, volunteer=v3, status="confirmed")
    assert c.get("/activities/checkin", query_string={"t": code}).status_code == 200


def test_r_act_7_personal_codes_scanned_by_the_organiser_are_single_use(world, clock):
    app, aid, start = world["app"], world["aid"], world["start"]
    v1, _v2, v3 = world["v"]
    s1, _s2 = world["s"]
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        a = Activity.get_by_id(aid)
        code = s.personal_token(Volunteer.get_by_id(v1))
        clock.set(start + _dt.timedelta(minutes=10))
        assert s.scan_personal_code(a, code, "in").check_in_at == start + _dt.timedelta(minutes=10)
        before = snapshot(app, TABLES)
        with pytest.raises(s.ActivityError, match="already used"):
            s.scan_personal_code(a, code, "out")
        with pytest.raises(s.ActivityError, match="not a volunteer's personal code"):
            s.scan_personal_code(a, s.site_token(a, "in"), "in")       # a screen code is no personal code
        with pytest.raises(s.ActivityError, match="not valid"):
            s.scan_personal_code(a, s.personal_token(Volunteer.get_by_id(v1)), "sideways")
        with pytest.raises(s.ActivityError, match="This volunteer has no confirmed place"):
            s.scan_personal_code(a, s.personal_token(Volunteer.get_by_id(v3)), "in")
        assert snapshot(app, TABLES) == before
        clock.set(start + _dt.timedelta(hours=3, minutes=30))
        out = s.scan_personal_code(a, s.personal_token(Volunteer.get_by_id(v1)), "out")
        assert out.check_out_at == start + _dt.timedelta(hours=3, minutes=30)
        assert s.minutes_from_times(out) == 150  # from 09:10, capped at the slot's end 12:00, down to 30
    # a personal code is no screen code either
    c = logged_in(app, username_of(app, v1))
    with app.app_context():
        code = s.personal_token(Volunteer.get_by_id(v1))
    assert c.get("/activities/checkin", query_string={"t": code}).status_code == 400
    assert c.get("/activities/mycode").status_code == 200


def test_r_act_7_manual_correction_needs_a_reason_and_is_audited(world):
    app, start = world["app"], world["start"]
    s1, _s2 = world["s"]
    from core.models import AuditLog
    from plugins.activities import services as s
    before = snapshot(app, TABLES)
    with app.app_context():
        su = s.SignUp.get_by_id(s1)
        with pytest.raises(s.ActivityError) as e:
            s.correct_times(su, start, start + _dt.timedelta(hours=2), reason="  ")
        assert "reason" in e.value.errors
        with pytest.raises(s.ActivityError) as e:
            s.correct_times(su, start, start - _dt.timedelta(hours=1), reason="手机没电")
        assert "check_out_at" in e.value.errors
    assert snapshot(app, TABLES) == before
    with app.app_context():
        su = s.correct_times(su, start + _dt.timedelta(minutes=15), start + _dt.timedelta(hours=2, minutes=15),
                             reason="手机没电，现场纸质签到")
        assert (su.check_in_at, su.check_out_at, su.time_note) == (
            start + _dt.timedelta(minutes=15), start + _dt.timedelta(hours=2, minutes=15), "手机没电，现场纸质签到")
        log = AuditLog.select().where((AuditLog.action == "checkin.corrected")
                                      & (AuditLog.object_id == str(s1))).get()
        assert "手机没电，现场纸质签到" in log.details


# ----------------------------------------------------------------- hours from times (R-ACT-7, R-NAT-2)
@pytest.mark.parametrize("rule,step,cin,cout,expected", [
    ("down", 30, -30, 200, 180),    # early and late: capped by the slot (3 h)
    ("down", 30, 0, 179, 150),
    ("up", 30, 0, 121, 150),
    ("nearest", 30, 0, 166, 180),
    ("nearest", 30, 0, 164, 150),
    ("down", 15, 5, 100, 90),
    ("down", 1, 5, 100, 95),
    ("up", 30, 170, 400, 30),       # 10 minutes before the end, rounded up: still inside the slot
])
def test_r_act_7_hours_from_times_rounded_by_the_rule_and_capped_by_the_slot(world, rule, step, cin, cout,
                                                                              expected):
    app, start = world["app"], world["start"]
    s1, _s2 = world["s"]
    from plugins.activities import services as s
    set_setting(app, "activities.rounding", rule)
    set_setting(app, "activities.rounding_minutes", step)
    with app.app_context():
        su = s.correct_times(s.SignUp.get_by_id(s1), start + _dt.timedelta(minutes=cin),
                             start + _dt.timedelta(minutes=cout), reason="test")
        assert s.minutes_from_times(su) == expected


# ----------------------------------------------------------------- confirmation exactly once (R-ACT-8)
def _finish(app, aid):
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    with app.app_context():
        s.finish_due(Activity.get_by_id(aid).ends_at + _dt.timedelta(minutes=1))
        return Activity.get_by_id(aid)


def test_r_act_8_hours_confirmed_emits_once_per_record_version(world):
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, s2 = world["s"]
    from fx_act_listener import heard
    from plugins.activities import services as s
    from plugins.activities.models import ServiceRecord
    with app.app_context():
        s.correct_times(s.SignUp.get_by_id(s1), start, start + _dt.timedelta(hours=2), reason="补登")
    a = _finish(app, aid)
    with app.app_context():
        for _ in range(3):
            s.confirm_hours(a, {s1: None, s2: 60})
        assert [(e["record_id"] and e["minutes"], e["delta_minutes"], e["version"]) for e in
                heard("activities.hours_confirmed")] == [(120, 120, 1), (60, 60, 1)]
        rec = ServiceRecord.get(ServiceRecord.signup == s2)
        before = snapshot(app, TABLES)
        with pytest.raises(s.ActivityError, match="needs a reason"):
            s.confirm_hours(a, {s1: 90, s2: 90}, reasons={s1: "早退"})     # s2 has no reason: nothing saved
        assert snapshot(app, TABLES) == before
        for bad in (-30, 181, "两小时"):
            with pytest.raises(s.ActivityError):
                s.confirm_hours(a, {s2: bad}, reasons={s2: "x"})         # IV5: between 0 and the slot
        assert snapshot(app, TABLES) == before and len(heard("activities.hours_confirmed")) == 2
        s.confirm_hours(a, {s2: 150}, reasons={s2: "实际到11:30"})
        s.confirm_hours(a, {s2: 150}, reasons={s2: "实际到11:30"})        # repeated: nothing new
        rec = ServiceRecord.get_by_id(rec.id)
        assert (rec.minutes, rec.version, rec.change_reason) == (150, 2, "实际到11:30")
        events = [e for e in heard("activities.hours_confirmed") if e["record_id"] == rec.id]
        assert [(e["minutes"], e["delta_minutes"], e["version"], e["idempotency_key"]) for e in events] == [
            (60, 60, 1, f"service_record:{rec.id}:v1"), (150, 90, 2, f"service_record:{rec.id}:v2")]
    assert "hours.corrected" in audit_actions(app, "activities_service_record", rec.id)


def test_r_act_8_two_organisers_confirming_at_once_make_one_record_and_one_event(world):
    """CC3: the same confirmation from two threads at once (two browser tabs): one record, one event,
    no error, on both databases."""
    app, aid = world["app"], world["aid"]
    s1, s2 = world["s"]
    from core.db import db
    from fx_act_listener import heard
    from plugins.activities import services as s
    from plugins.activities.models import Activity, ServiceRecord
    _finish(app, aid)
    for _round in range(3):
        barrier, errors = threading.Barrier(4), []

        def go():
            try:
                with app.app_context():
                    barrier.wait(10)
                    s.confirm_hours(Activity.get_by_id(aid), {s1: 120, s2: 90})
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
            finally:
                db.close()
        threads = [threading.Thread(target=go) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert errors == []
    with app.app_context():
        assert sorted(r.minutes for r in ServiceRecord.select()) == [90, 120]
        assert len(heard("activities.hours_confirmed")) == 2


def test_r_act_6_training_hours_are_kept_apart_from_service_hours(world, clock):
    """A training's confirmed hours become a record of kind "training", counted apart in the
    volunteer's panel; the event says so too."""
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    v1 = world["v"][0]
    from fx_act_listener import heard
    from plugins.activities import services as s
    from plugins.activities.models import Activity, ServiceRecord, Shift
    from plugins.volunteers.models import Volunteer
    tid = new_activity(app, world["teams"][0], kind="training", title="新志愿者通用培训",
                       shifts=[slot(start + _dt.timedelta(days=1), hours=2)])
    with app.app_context():
        clock.set(start - _dt.timedelta(hours=1))
        st = s.sign_up(Volunteer.get_by_id(v1), Shift.get(Shift.activity == tid))
        assert Activity.get_by_id(tid).field_id is None
    a, t = _finish(app, aid), _finish(app, tid)
    with app.app_context():
        s.confirm_hours(a, {s1: 180})
        s.confirm_hours(t, {st.id: 120})
        kinds = {r.kind: r.minutes for r in ServiceRecord.select().where(ServiceRecord.volunteer == v1)}
        assert kinds == {"service": 180, "training": 120}
        assert {e["kind"] for e in heard("activities.hours_confirmed")} == {"service", "training"}
    with app.app_context():
        from plugins.activities import volunteer_panels
        with app.test_request_context():
            (w,) = volunteer_panels(Volunteer.get_by_id(v1), None)
            html = str(w.html)
    assert "Service hours: <strong>3.0</strong>" in html and "Training hours: <strong>2.0</strong>" in html


@pytest.mark.parametrize("minutes, ok", [(-61, False), (-59, True), (60 * 3 + 1, False)])
def test_r_act_7_check_in_only_within_the_window_around_the_slot(world, clock, minutes, ok):
    """Issue 18 point 7: check-in opens ``checkin_opens_minutes_before`` (60) the start and closes at the
    end; outside it the volunteer reads why and nothing is written."""
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    c = logged_in(app, username_of(app, world["v"][0]))
    clock.set(start + _dt.timedelta(minutes=minutes))
    before = snapshot(app, ["activities_signup"])
    r = c.get("/activities/checkin", query_string={"t": _token(app, aid, "in")})
    html = r.get_data(as_text=True)
    if ok:
        assert r.status_code == 200 and _signup(app, s1).check_in_at is not None
    else:
        assert r.status_code == 400 and _signup(app, s1).check_in_at is None
        assert ("Check-in opens at" in html and "60 minutes before" in html) or "check-in is closed" in html
        assert snapshot(app, ["activities_signup"]) == before


def test_r_act_7_the_window_follows_its_setting(world, clock):
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    set_setting(app, "activities.checkin_opens_minutes_before", 120)
    c = logged_in(app, username_of(app, world["v"][0]))
    clock.set(start - _dt.timedelta(minutes=130))
    html = c.get("/activities/checkin", query_string={"t": _token(app, aid, "in")}).get_data(as_text=True)
    assert "120 minutes before" in html and _signup(app, s1).check_in_at is None
    clock.set(start - _dt.timedelta(minutes=110))
    assert c.get("/activities/checkin", query_string={"t": _token(app, aid, "in")}).status_code == 200


def test_r_act_7_check_out_closes_after_the_slot_and_zero_hours_are_explained(world, clock):
    """Hours are never 0.0 silently: a check-out that leaves less than the rounding step says so."""
    app, aid, start = world["app"], world["aid"], world["start"]
    s1, _s2 = world["s"]
    c = logged_in(app, username_of(app, world["v"][0]))
    clock.set(start + _dt.timedelta(minutes=5))
    assert c.get("/activities/checkin", query_string={"t": _token(app, aid, "in")}).status_code == 200
    clock.set(start + _dt.timedelta(minutes=20))
    r = c.get("/activities/checkin", query_string={"t": _token(app, aid, "out")})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Counted: 0.0 h" in html and "This counts as 0 hours" in html and "shorter than 30 minutes" in html
    # the organiser's hours page says the same beside the row
    page = logged_in(app, "ta").get(f"/admin/activities_activity/hours/?id={aid}").get_data(as_text=True)
    assert "shorter than 30 minutes" in page
    # check-out long after the slot (default: 180 minutes after its end) is refused with the reason
    clock.set(start + _dt.timedelta(hours=3, minutes=181))
    r = c.get("/activities/checkin", query_string={"t": _token(app, aid, "out")})
    assert r.status_code == 400 and "Check-out closed at" in r.get_data(as_text=True)
    assert _signup(app, s1).check_out_at == start + _dt.timedelta(minutes=20)
