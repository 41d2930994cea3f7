"""Activities end to end (RULES.md R-ACT-1, R-ACT-5, R-ACT-8, R-TEAM-1; SECURITY.md IV6): an approved team
publishes, the platform reviews within 2 working days on the Chinese calendar (holidays, 调休 workdays,
site overrides for a year the library does not know), rejection with a reason, edit and resubmit,
approval, publication, the end of the activity, outcome with photos, hours, closing.

Business steps are driven through ``plugins.activities.services``; HTTP is used where the behaviour is
HTTP (the admin review, outcome and hours pages: CSRF, uploads, who may fetch a photo). Pages are
rendered with DEFAULT_LOCALE="en"; most assertions are on database state.
"""
from __future__ import annotations

import re

import datetime as _dt
import io

import pytest

from fixtures.activities_plugins.actsupport import (Clock, activity_data, at, make_site, new_activity, quick_hashing,
                                                    set_setting, slot, volunteers)
from fixtures.security_plugins.secsupport import create_user, logged_in
from test_teams_workflow import audit_actions, new_team


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_site(make_app)
    ids = {"A": new_team(app, "阳光志愿服务队", admin="ta"), "B": new_team(app, "星火志愿服务队", admin="tb")}
    create_user(app, "admin", "platform_admin")
    create_user(app, "admin2", "platform_admin")
    return app, ids


def _act(app, aid):
    from plugins.activities.models import Activity
    with app.app_context():
        return Activity.get_by_id(aid)


# ----------------------------------------------------------------- R-TEAM-1: only approved teams publish
def test_r_team_1_an_unapproved_team_cannot_create_an_activity(site):
    app, _ids = site
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    from plugins.teams.models import Team
    tid = new_team(app, "未审核志愿服务队", approved=False)
    with app.app_context():
        with pytest.raises(s.ActivityError) as e:
            s.create_activity(Team.get_by_id(tid), activity_data(app), [slot(at("2026-12-20"))])
        assert "review" in str(e.value)
        assert Activity.select().count() == 0


# ----------------------------------------------------------------- R-ACT-1: review due on the Chinese calendar
@pytest.mark.parametrize("submitted,due", [
    (at("2026-09-29", 10), "2026-10-08"),   # Tue before 国庆: Sept 30, then the holiday week, then Oct 8
    (at("2026-10-08", 10), "2026-10-10"),   # Thu after 国庆: Oct 9 and the 调休 Saturday Oct 10
    (at("2026-09-24", 16), "2026-09-29"),   # Thu before 中秋 (Sept 25–27 off): Sept 28, Sept 29
    (at("2026-09-19", 10), "2026-09-21"),   # Sat: the 调休 Sunday Sept 20 counts, then Mon 21
    (at("2026-03-12", 10), "2026-03-16"),   # an ordinary week: Thu → Fri 13, Mon 16
    (at("2026-03-13", 18), "2026-03-17"),   # Friday evening: the weekend does not count
])
def test_r_act_1_review_due_is_end_of_the_second_working_day(site, clock, submitted, due):
    """R-ACT-1: review_due = 23:59:59 of the 2nd working day after submission (chinese_calendar)."""
    app, ids = site
    from plugins.activities import services as s
    clock.set(submitted)
    aid = new_activity(app, ids["A"], status="draft", shifts=[slot(at("2026-12-20"))])
    with app.app_context():
        a = s.submit(_act(app, aid))
        assert a.status == "submitted" and a.submitted_at == submitted
        assert a.review_due == _dt.datetime.combine(_dt.date.fromisoformat(due), _dt.time(23, 59, 59),
                                                    tzinfo=submitted.tzinfo)


def test_r_act_1_review_due_in_a_year_the_library_does_not_know_uses_site_overrides(site, clock):
    """2027 is not in chinese_calendar: weekdays count, and rows of core_calendar_day (the site's
    工作日历) win: a 调休 Saturday works, a holiday week does not."""
    app, ids = site
    from core.db import transaction
    from core.workdays import CalendarDay
    from plugins.activities import services as s
    import chinese_calendar
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(_dt.date(2027, 2, 8))
    clock.set(at("2027-02-05", 10))  # a Friday
    aid = new_activity(app, ids["A"], status="draft", shifts=[slot(at("2027-03-01"))])
    with app.app_context():
        assert s.submit(_act(app, aid)).review_due.date() == _dt.date(2027, 2, 9)  # weekdays only: Mon, Tue
        s.review(_act(app, aid), approve=False, reason="补充地址")
        with transaction():
            CalendarDay.create(day=_dt.date(2027, 2, 6), is_workday=True, note="春节调休")
            for d in range(8, 13):
                CalendarDay.create(day=_dt.date(2027, 2, d), is_workday=False, note="春节")
        a = s.submit(_act(app, aid))
        # Sat Feb 6 (调休) is the 1st working day, Feb 8–12 are off, Mon Feb 15 is the 2nd
        assert a.review_due.date() == _dt.date(2027, 2, 15)


# ----------------------------------------------------------------- the whole life of an activity
def test_r_act_1_r_act_8_lifecycle_draft_to_closed(site, clock):
    """draft → submitted → rejected with a reason → edited → resubmitted → approved → published →
    finished (finish_due) → outcome → hours confirmed → closed; every step audited; HoursConfirmed
    emitted once per record (R-ACT-8)."""
    app, ids = site
    from fx_act_listener import heard
    from plugins.activities import services as s
    from plugins.activities.models import ServiceRecord, SignUp
    from plugins.volunteers.models import Volunteer
    clock.set(at("2026-09-29", 10))
    aid = new_activity(app, ids["A"], status="draft", title="草稿标题",
                       shifts=[slot(at("2026-10-12", 9), hours=3, capacity=2)])
    v1, v2 = volunteers(app, 101, 2)
    with app.app_context():
        a = _act(app, aid)
        assert (a.status, a.capacity, a.confirmed) == ("draft", 2, 0)
        with pytest.raises(s.ActivityError):
            s.publish(a)                                       # not before the review
        a = s.submit(a)
        assert a.status == "submitted"
        with pytest.raises(s.ActivityError) as e:
            s.review(a, approve=False, reason="  ")           # a rejection needs a reason
        assert "reason" in e.value.errors
        a = s.review(a, approve=False, reason="请补充集合地点")
        assert (a.status, a.review_reason) == ("rejected", "请补充集合地点")
        with pytest.raises(s.ActivityError):
            s.review(a, approve=True)                         # not waiting for review any more
        a = s.update_activity(a, activity_data(app, title="重阳节探访独居老人", address="越秀区中山五路1号东门"))
        assert (a.title, a.status) == ("重阳节探访独居老人", "rejected")
        clock.set(at("2026-10-08", 9))
        a = s.submit(a)
        assert (a.status, a.review_reason, a.review_due.date()) == ("submitted", "", _dt.date(2026, 10, 10))
        a = s.review(a, approve=True)
        with pytest.raises(s.ActivityError):
            s.update_activity(a, activity_data(app))          # approved: no more edits
        a = s.publish(a)
        assert a.status == "published" and a.published_at is not None
        sh = a.shifts.get()
        for v in (v1, v2):
            assert s.sign_up(Volunteer.get_by_id(v), sh).status == "confirmed"
        with pytest.raises(s.ActivityError):
            s.confirm_hours(a, {})                            # hours come after the activity
        assert s.finish_due(at("2026-10-12", 11)) == 0        # not over yet
        assert s.finish_due(at("2026-10-12", 12, 30)) == 1
        a = _act(app, aid)
        # outcome due 5 working days after Mon Oct 12: Oct 13 14 15 16 19
        assert a.status == "finished" and a.outcome_due.date() == _dt.date(2026, 10, 19)
        assert s.finish_due(at("2026-10-13")) == 0            # once
        with pytest.raises(s.ActivityError) as e:
            s.submit_outcome(a, served_count="-1", beneficiary_types="独居老人", summary="")
        assert set(e.value.errors) == {"served_count", "summary"}
        a = s.submit_outcome(a, served_count=12, beneficiary_types="独居老人", summary="探访12户", recorder="李")
        assert (a.served_count, a.summary) == (12, "探访12户")
        s1, s2 = (SignUp.get((SignUp.volunteer == v) & (SignUp.activity == aid)) for v in (v1, v2))
        s.correct_times(s1, at("2026-10-12", 9, 5), at("2026-10-12", 11, 50), reason="忘记签到，现场登记")
        s.confirm_hours(a, {s1.id: None})                     # 2 h 45 from the times, rounded down: 150
        assert _act(app, aid).status == "finished"           # v2 not confirmed yet
        s.confirm_hours(a, {s1.id: None, s2.id: 180})
        assert _act(app, aid).status == "closed"
        assert sorted((r.volunteer_id, r.minutes, r.kind, r.version) for r in ServiceRecord.select()) == \
            sorted([(v1, 150, "service", 1), (v2, 180, "service", 1)])
        s.confirm_hours(_act(app, aid), {s1.id: None, s2.id: 180})  # repeated: nothing new
        events = heard("activities.hours_confirmed")
        assert sorted((e["volunteer_id"], e["minutes"], e["delta_minutes"], e["version"]) for e in events) == \
            sorted([(v1, 150, 150, 1), (v2, 180, 180, 1)])
        assert [e["approved"] for e in heard("activities.reviewed")] == [False, True]
    acts = audit_actions(app, "activities_activity", aid)
    for step in ("activity.created", "activity.submitted", "activity.rejected", "activity.updated",
                 "activity.approved", "activity.published", "activity.outcome"):
        assert step in acts, step


def test_r_act_1_overdue_reviews_are_flagged_to_platform_admins_once(site, clock):
    """flag_overdue_reviews run twice: one message for each platform admin, none for a team admin;
    after a rejection and a new submission that is late again, flagged again (a new review)."""
    app, ids = site
    from core.models import Message, User
    from plugins.activities import services as s
    from plugins.activities import tasks
    clock.set(at("2026-09-29", 10))
    aid = new_activity(app, ids["A"], status="submitted", shifts=[slot(at("2026-12-20"))])
    new_activity(app, ids["A"], status="draft", shifts=[slot(at("2026-12-20"))])  # drafts are never late

    def flags():
        with app.app_context():
            return sorted(u.username for u in User.select().join(Message, on=Message.recipient == User.id)
                          .where(Message.category == "activities.overdue"))
    with app.app_context():
        clock.set(at("2026-10-08", 23))
        assert tasks.flag_overdue_reviews() == 0 and s.overdue_reviews() == []
        clock.set(at("2026-10-09", 0, 1))
        assert [a.id for a in s.overdue_reviews()] == [aid]
        tasks.flag_overdue_reviews()
        tasks.flag_overdue_reviews()
    assert flags() == ["admin", "admin2"]
    with app.app_context():
        s.review(_act(app, aid), approve=False, reason="请修改")
        s.submit(_act(app, aid))
        clock.set(at("2026-10-20", 9))
        tasks.flag_overdue_reviews()
        tasks.flag_overdue_reviews()
    assert flags() == ["admin", "admin", "admin2", "admin2"]


# ----------------------------------------------------------------- the admin pages over HTTP
def test_r_act_1_admin_review_page_rejects_with_reason_and_approves(site):
    app, ids = site
    aid = new_activity(app, ids["A"], status="submitted", shifts=[slot(at("2026-12-20"))])
    url = f"/admin/activities_activity/review/?id={aid}"
    ta = logged_in(app, "ta")
    assert ta.get(url).status_code == 403                                   # the organiser does not review
    assert ta.post(url, data={"approve": "1", "csrf_token": ta.csrf}).status_code == 403
    c = logged_in(app, "admin")
    page = c.get(url)
    assert page.status_code == 200 and "关爱独居老人上门探访" in page.get_data(True)
    assert c.post(url, data={"approve": "0", "reason": "x"}).status_code == 400  # no CSRF token
    r = c.post(url, data={"approve": "0", "reason": "", "csrf_token": c.csrf})
    assert r.status_code == 200 and "A rejection needs a reason." in r.get_data(True)
    assert _act(app, aid).status == "submitted"
    r = c.post(url, data={"approve": "0", "reason": "时间与其他活动冲突", "csrf_token": c.csrf})
    assert r.status_code == 302
    assert (_act(app, aid).status, _act(app, aid).review_reason) == ("rejected", "时间与其他活动冲突")
    with app.app_context():
        from plugins.activities import services as s
        s.submit(_act(app, aid))
    assert c.post(url, data={"approve": "1", "csrf_token": c.csrf}).status_code == 302
    assert _act(app, aid).status == "approved"


def _jpeg_with_exif(size=(64, 48)) -> bytes:
    from PIL import Image
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SECRETCAM"          # Make
    exif[0x0131] = "EXIFMARKER-SOFT"    # Software
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _png_with_exif() -> bytes:
    from PIL import Image
    img = Image.new("RGBA", (32, 32), (0, 128, 0, 255))
    exif = Image.Exif()
    exif[0x010F] = "SECRETCAM"
    buf = io.BytesIO()
    img.save(buf, format="PNG", exif=exif.tobytes())
    return buf.getvalue()


def test_r_act_8_iv6_outcome_page_with_checked_photo_uploads(site, clock):
    """The organiser submits the outcome with photos: JPEG and PNG with EXIF are accepted and stored
    without EXIF under random names; a text file renamed .jpg and a too-large file are refused and
    store nothing; photos are served with nosniff, only to those who may see the activity."""
    app, ids = site
    from PIL import Image
    from plugins.activities import photos
    from plugins.activities.models import Photo
    clock.set(at("2026-10-08", 9))
    aid = new_activity(app, ids["A"], shifts=[slot(at("2026-10-12", 9))])
    with app.app_context():
        from plugins.activities import services as s
        s.finish_due(at("2026-10-13"))
    jpeg, png = _jpeg_with_exif(), _png_with_exif()
    assert b"SECRETCAM" in jpeg and b"SECRETCAM" in png
    url = f"/admin/activities_activity/outcome/?id={aid}"
    ta = logged_in(app, "ta")
    assert ta.get(url).status_code == 200
    form = {"served_count": "30", "beneficiary_types": "独居老人", "summary": "探访30户", "csrf_token": ta.csrf}

    def post(files):
        return ta.post(url, data={**form, "photos": files}, content_type="multipart/form-data")
    r = post([(io.BytesIO(b"just some text, not an image\n" * 10), "photo.jpg")])
    assert r.status_code == 200 and "Only JPEG, PNG and WebP photos can be uploaded." in r.get_data(True)
    big = io.BytesIO(b"\xff\xd8\xff\xe0" + b"\0" * (8 * 1024 * 1024 + 10))  # default photo_max_mb = 8
    r = post([(big, "big.jpg")])
    assert r.status_code == 200 and "A photo may be at most 8 MB." in r.get_data(True)
    with app.app_context():
        assert Photo.select().count() == 0
    r = post([(io.BytesIO(jpeg), "IMG_0001.jpg"), (io.BytesIO(png), "shot.png")])
    assert r.status_code == 302, r.get_data(True)[:500]
    with app.app_context():
        rows = list(Photo.select().order_by(Photo.id))
        assert [p.content_type for p in rows] == ["image/jpeg", "image/png"]
        stored = [photos.path_of(p).read_bytes() for p in rows]
        assert all("IMG_0001" not in p.stored_name and "shot" not in p.stored_name for p in rows)
        assert _act(app, aid).served_count == 30
    for data in stored:
        assert b"SECRETCAM" not in data and b"EXIFMARKER" not in data and b"Exif" not in data
        assert not dict(Image.open(io.BytesIO(data)).getexif())
    photo_url = f"/admin/activities_activity/photo/{rows[0].id}"
    r = ta.get(photo_url)
    assert r.status_code == 200 and r.data == stored[0]
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.mimetype == "image/jpeg"
    assert logged_in(app, "tb").get(photo_url).status_code == 404             # another team
    (vid,) = volunteers(app, 301, 1)
    from fixtures.activities_plugins.actsupport import username_of
    assert logged_in(app, username_of(app, vid)).get(photo_url).status_code == 403
    assert app.test_client().get(photo_url).status_code in (302, 401, 403)
    assert logged_in(app, "admin").get(photo_url).status_code == 200


def test_r_act_8_hours_page_confirms_with_csrf_and_a_reason_for_changes(site, clock):
    """The hours page: CSRF required; hours from the times are prefilled; saving the page unchanged is
    not a change (even for minutes that are not a whole tenth of an hour); a change needs a reason and
    makes a new version."""
    app, ids = site
    from fx_act_listener import heard
    from plugins.activities import services as s
    from plugins.activities.models import ServiceRecord, SignUp
    from plugins.volunteers.models import Volunteer
    clock.set(at("2026-10-08", 9))
    aid = new_activity(app, ids["A"], shifts=[slot(at("2026-10-12", 9), hours=3)])
    v1, v2 = volunteers(app, 401, 2)
    with app.app_context():
        sh = _act(app, aid).shifts.get()
        s1, s2 = (s.sign_up(Volunteer.get_by_id(v), sh) for v in (v1, v2))
        s.correct_times(s1, at("2026-10-12", 9), at("2026-10-12", 11, 10), reason="补登")
        s.finish_due(at("2026-10-13"))
    url = f"/admin/activities_activity/hours/?id={aid}"
    ta = logged_in(app, "ta")
    page = ta.get(url).get_data(True)
    assert re.search(rf'name="m{s1.id}"[^>]*value="2\.0', page)      # 2 h 10 rounded down to 2 h
    assert ta.post(url, data={"id": aid, f"m{s1.id}": "2"}).status_code == 400   # no CSRF token
    with app.app_context():
        assert ServiceRecord.select().count() == 0
    r = ta.post(url, data={"id": aid, f"m{s1.id}": "2", f"m{s2.id}": "1.6667", "csrf_token": ta.csrf})
    assert r.status_code == 302
    with app.app_context():
        assert {r.signup_id: r.minutes for r in ServiceRecord.select()} == {s1.id: 120, s2.id: 100}
        assert s.Activity.get_by_id(aid).status == "closed"
    # the page as shown, posted back unchanged: no change, no reason asked, no event
    page = ta.get(url).get_data(True)
    values = dict(re.findall(r'name="(m\d+)"[^>]*value="([^"]*)"', page))
    assert len(values) == 2  # both rows' hours, as shown
    r = ta.post(url, data={"id": aid, **values, "csrf_token": ta.csrf})
    assert r.status_code == 302, r.get_data(True)[:800]
    r = ta.post(url, data={"id": aid, **values, f"m{s2.id}": "2.5", "csrf_token": ta.csrf})
    assert r.status_code == 200 and "A change of confirmed hours needs a reason." in r.get_data(True)
    r = ta.post(url, data={"id": aid, **values, f"m{s2.id}": "2.5", f"r{s2.id}": "实际服务到11:30",
                           "csrf_token": ta.csrf})
    assert r.status_code == 302
    with app.app_context():
        rec = ServiceRecord.get(ServiceRecord.signup == s2.id)
        assert (rec.minutes, rec.version, rec.change_reason) == (150, 2, "实际服务到11:30")
        assert SignUp.get_by_id(s2.id).status == "confirmed"
        assert [(e["version"], e["delta_minutes"]) for e in heard("activities.hours_confirmed")
                if e["record_id"] == rec.id] == [(1, 100), (2, 50)]
    assert logged_in(app, "tb").get(url).status_code == 404
