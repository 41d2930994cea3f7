"""The organiser scans a volunteer's personal code (RULES.md R-ACT-7 "the organiser can also scan a
volunteer's personal code"; SECURITY.md AC5, AC6).

``/activities/<id>/scan`` is the organiser's page: a handheld scanner (or the keyboard) types the code
from the volunteer's "My check-in code" page into the field and Enter submits; a phone or laptop reads
it with the camera in the browser (``static/scan.js`` with the vendored jsQR decoder; exercised for real
in tests/test_activities_e2e_browser.py). These tests cover the server side: the result names who was
checked in or out and when, in Chinese on a Chinese site; forged, expired, replayed, screen and
other-activity codes are refused with a clear message and change nothing; another team's organiser, a
volunteer and a visitor are refused; a POST without the CSRF token is refused.

Uses the ``world`` of tests/test_activities_checkin.py: team A's activity with a 3-hour slot, v1 and v2
confirmed, v3 not signed up, the services' clock at the slot's start.
"""
from __future__ import annotations

import datetime as _dt
import html
import re
import time

import pytest

from fixtures.activities_plugins.actsupport import (new_activity, shift_ids, slot, username_of)
from fixtures.security_plugins.secsupport import logged_in, snapshot
from test_activities_checkin import TABLES, clock, world  # noqa: F401 - shared fixtures
from test_teams_workflow import audit_actions


def _personal(app, volunteer_id):
    from plugins.activities import services as s
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return s.personal_token(Volunteer.get_by_id(volunteer_id))


def _signup(app, sid):
    from plugins.activities.models import SignUp
    with app.app_context():
        return SignUp.get_by_id(sid)


def _scan(c, aid, code, mode="in", **extra):
    return c.post(f"/activities/{aid}/scan", data={"csrf_token": c.csrf, "mode": mode, "code": code, **extra})


def _flash(r, kind):
    m = re.search(rf'id="scan-{kind}"[^>]*>(.*?)</div>', r.get_data(True), re.S)
    return html.unescape(re.sub(r"\s+", " ", m.group(1)).strip()) if m else None


def test_r_act_7_the_scan_page_offers_the_field_the_mode_and_the_camera(world):
    app, aid = world["app"], world["aid"]
    c = logged_in(app, "ta")
    r = c.get(f"/activities/{aid}/scan?mode=out")
    page = r.get_data(True)
    assert r.status_code == 200
    assert re.search(r'<input id="scan-code" name="code"[^>]*autofocus', page)
    assert re.search(r'value="out" id="scan-mode-out" checked', page)
    assert 'name="csrf_token"' in page
    assert "/activities/static/jsQR.js" in page and "/activities/static/scan.js" in page
    assert "Confirmed 2, checked in 0, checked out 0" in page
    # the vendored decoder and the page's script are served as JavaScript, with the licence beside them
    js = c.get("/activities/static/jsQR.js")
    assert js.status_code == 200 and "javascript" in js.content_type and b"jsQR" in js.data
    assert len(js.data) > 100_000
    assert b"getUserMedia" in c.get("/activities/static/scan.js").data
    assert b"Apache License" in c.get("/activities/static/jsQR.LICENSE.txt").data
    # reached from the organiser's code screen and from the activity's admin page
    assert f"/activities/{aid}/scan?mode=in" in c.get(f"/activities/{aid}/code/in").get_data(True)
    assert f"/activities/{aid}/scan" in c.get(f"/admin/activities_activity/details/?id={aid}").get_data(True)


def test_r_act_7_scanning_checks_in_and_out_and_says_who_and_when(world, clock):
    app, aid, start = world["app"], world["aid"], world["start"]
    v1 = world["v"][0]
    s1, _s2 = world["s"]
    c = logged_in(app, "ta")
    clock.set(start + _dt.timedelta(minutes=4))
    r = _scan(c, aid, "  " + _personal(app, v1) + "\n")      # a scanner's trailing newline is harmless
    assert r.status_code == 200, r.get_data(True)
    su = _signup(app, s1)
    assert su.check_in_at == start + _dt.timedelta(minutes=4) and su.check_out_at is None
    day = start.strftime("%Y-%m-%d")
    assert _flash(r, "result") == f"志愿者201 ({su.volunteer.number}) checked in at {day} 09:04."
    assert "Confirmed 2, checked in 1, checked out 0" in r.get_data(True)
    assert re.search(r'value="in" id="scan-mode-in" checked', r.get_data(True))   # ready for the next one

    clock.set(start + _dt.timedelta(hours=2, minutes=40))
    r = _scan(c, aid, _personal(app, v1), mode="out")
    assert r.status_code == 200
    su = _signup(app, s1)
    assert su.check_out_at == start + _dt.timedelta(hours=2, minutes=40)
    assert _flash(r, "result") == (f"志愿者201 ({su.volunteer.number}) checked out at {day} 11:40 "
                                   "(checked in at 09:04).")
    assert re.search(r'value="out" id="scan-mode-out" checked', r.get_data(True))
    # audited as the organiser's scans
    from core.models import AuditLog, User
    with app.app_context():
        ta = User.get(User.username == "ta").id
        rows = list(AuditLog.select().where((AuditLog.object_id == str(s1))
                                            & AuditLog.action.startswith("checkin.")).order_by(AuditLog.id))
        assert [(x.action, x.user_id) for x in rows] == [("checkin.in", ta), ("checkin.out", ta)]


def test_r_act_7_bad_codes_are_refused_with_a_clear_message_and_change_nothing(world, monkeypatch):
    """Forged, expired, replayed, an activity's screen code, a volunteer of another activity, a
    volunteer who has not checked in yet, an empty field: 400, the reason on the page, nothing written
    (a refused scan does not use the code up either)."""
    app, aid = world["app"], world["aid"]
    v1, v2, v3 = world["v"]
    ta, tb = world["teams"]
    c = logged_in(app, "ta")
    from plugins.activities import services as s
    from plugins.activities.models import Activity, Shift
    from plugins.volunteers.models import Volunteer
    # v3 has a confirmed place in another team's activity, not in this one
    other = new_activity(app, tb, title="星火社区清洁", shifts=[slot(world["start"] + _dt.timedelta(days=1))])
    with app.app_context():
        s.sign_up(Volunteer.get_by_id(v3), Shift.get_by_id(shift_ids(app, other)[0]))
        screen = s.site_token(Activity.get_by_id(aid), "in")
    good = _personal(app, v1)
    payload, ts, sig = good.split(".")
    from itsdangerous import URLSafeTimedSerializer
    cases = [
        (f"{payload}.{ts}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}", "in", "This code is not valid."),
        (URLSafeTimedSerializer("not-the-site-key", salt="activities.checkin").dumps({"v": v1, "n": "x" * 24}),
         "in", "This code is not valid."),
        ("garbage", "in", "This code is not valid."),
        (screen, "in", "This is an activity's check-in code, not a volunteer's personal code."),
        (f"http://localhost/activities/checkin?t={screen}", "in",
         "This is an activity's check-in code, not a volunteer's personal code."),
        (_personal(app, v3), "in", "This volunteer has no confirmed place in this activity."),
        (_personal(app, v2), "out", "Check in first."),
        ("   ", "in", "Scan or type the volunteer's code."),
    ]
    before = snapshot(app, TABLES)
    for code, mode, message in cases:
        r = _scan(c, aid, code, mode=mode)
        assert r.status_code == 400, code
        assert _flash(r, "error") == message, code
        assert _flash(r, "result") is None
    assert snapshot(app, TABLES) == before
    # expired: older than the site's setting (90 s)
    from itsdangerous.timed import TimestampSigner
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + 91)
    r = _scan(c, aid, good)
    assert r.status_code == 400 and _flash(r, "error") == "This code has expired; scan the current one."
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()))
    assert snapshot(app, TABLES) == before
    # the same code once more after it worked: replayed
    assert _scan(c, aid, good).status_code == 200
    after = snapshot(app, TABLES)
    r = _scan(c, aid, good, mode="out")
    assert r.status_code == 400 and _flash(r, "error") == "This code was already used."
    assert snapshot(app, TABLES) == after


def test_ac6_another_teams_organiser_a_volunteer_and_a_visitor_are_refused(world):
    app, aid = world["app"], world["aid"]
    v1 = world["v"][0]
    code = _personal(app, v1)
    before = snapshot(app, TABLES)
    for who in ("tb", username_of(app, v1)):
        c = logged_in(app, who)
        assert c.get(f"/activities/{aid}/scan").status_code == 403
        r = _scan(c, aid, code)
        assert r.status_code == 403 and "checked in" not in r.get_data(True)
    anon = app.test_client()
    assert anon.get(f"/activities/{aid}/scan").status_code in (302, 401)
    assert anon.post(f"/activities/{aid}/scan", data={"code": code}).status_code in (302, 400, 401)
    assert logged_in(app, "ta").get("/activities/999999/scan").status_code == 404
    assert snapshot(app, TABLES) == before
    assert "access.denied" in audit_actions(app, "activities_activity", aid)
    # the code was not used up by the refusals: team A's organiser can still scan it
    assert _scan(logged_in(app, "ta"), aid, code).status_code == 200


def test_ac5_a_scan_without_the_csrf_token_is_refused(world):
    app, aid = world["app"], world["aid"]
    c = logged_in(app, "ta")
    before = snapshot(app, TABLES)
    r = c.post(f"/activities/{aid}/scan", data={"mode": "in", "code": _personal(app, world["v"][0])})
    assert r.status_code == 400
    r = c.post(f"/activities/{aid}/scan", data={"csrf_token": "forged", "mode": "in",
                                                 "code": _personal(app, world["v"][0])})
    assert r.status_code == 400
    assert snapshot(app, TABLES) == before


def test_r_act_7_the_scan_page_speaks_chinese(world, clock):
    """On the default Chinese site the organiser reads who checked in and when, and why a code failed."""
    app, aid, start = world["app"], world["aid"], world["start"]
    v1 = world["v"][0]
    app.config["DEFAULT_LOCALE"] = app.config["BABEL_DEFAULT_LOCALE"] = "zh_Hans_CN"
    c = logged_in(app, "ta")
    page = c.get(f"/activities/{aid}/scan").get_data(True)
    for text in ("扫描志愿者的签到码", "签到", "签退", "用摄像头扫描"):
        assert text in page, text
    clock.set(start + _dt.timedelta(minutes=7))
    r = _scan(c, aid, _personal(app, v1))
    number = _signup(app, world["s"][0]).volunteer.number
    assert _flash(r, "result") == f"志愿者201（{number}）已签到，签到时间 {start:%Y-%m-%d} 09:07。"
    r = _scan(c, aid, "garbage")
    assert _flash(r, "error") == "该二维码无效。"
