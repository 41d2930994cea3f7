"""Flows without detours (issue 18 point 4, R-ACT-1, R-ACT-4): an organiser creates an activity with all its
slots in one form — date and time pickers, the team box on the admin's own team, a landline accepted as the
contact number — and takes the workflow's next step with a button on the activity's own page."""
from __future__ import annotations

import re

import pytest

from fixtures.activities_plugins.actsupport import activity_data, make_site, new_activity, quick_hashing
from fixtures.security_plugins.secsupport import logged_in
from test_teams_workflow import new_team
from conftest import csrf_from


@pytest.fixture
def world(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_site(make_app, DEFAULT_LOCALE="zh_Hans_CN")
    new_team(app, "其他队", admin="other")
    team = new_team(app, "阳光志愿服务队", admin="organiser")
    return app, team


def _new_form(c):
    r = c.get("/admin/activities_activity/new/")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_r_act_1_an_activity_with_two_slots_in_one_form_with_a_landline(world):
    from plugins.activities.models import Activity, Shift
    app, team = world
    c = logged_in(app, "organiser")
    html = _new_form(c)
    # the team box starts on the organiser's own team; times are picked, not typed as text
    assert re.search(rf'<option selected value="{team}">|<option value="{team}" selected', html)
    assert 'type="datetime-local"' in html and 'name="slot_start_2"' in html
    data = {**activity_data(app), "team": str(team), "kind": "service", "title": "重阳节敬老活动",
            "contact_phone": "020-8333 1234",
            "volunteer_type": "一般志愿者", "slot_start": "2030-10-10T09:00", "slot_end": "2030-10-10T12:00",
            "slot_capacity": "6",
            "volunteer_type_2": "医护志愿者", "slot_start_2": "2030-10-10T14:00", "slot_end_2": "2030-10-10T17:00",
            "slot_capacity_2": "3", "csrf_token": csrf_from(html)}
    r = c.post("/admin/activities_activity/new/", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    with app.app_context():
        a = Activity.get(Activity.title == "重阳节敬老活动")
        shifts = list(Shift.select().where(Shift.activity == a).order_by(Shift.starts_at))
        assert [(s.volunteer_type, s.capacity) for s in shifts] == [("一般志愿者", 6), ("医护志愿者", 3)]
        assert a.contact_phone == "020-83331234" and a.capacity == 9 and a.team_id == team


def test_r_act_1_a_bad_second_slot_is_shown_beside_its_field_and_nothing_is_written(world):
    from plugins.activities.models import Activity
    app, team = world
    c = logged_in(app, "organiser")
    html = _new_form(c)
    data = {**activity_data(app), "team": str(team), "kind": "service", "title": "时段有误的活动",
            "contact_phone": "12345", "slot_start": "2030-10-10T09:00", "slot_end": "2030-10-10T12:00",
            "slot_capacity": "6", "slot_start_2": "2030-10-10T14:00", "slot_end_2": "2030-10-10T13:00",
            "slot_capacity_2": "3", "csrf_token": csrf_from(html)}
    r = c.post("/admin/activities_activity/new/", data=data)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "带区号的固定电话" in page
    with app.app_context():
        assert not Activity.select().where(Activity.title == "时段有误的活动").exists()


def test_r_act_1_submit_approve_and_publish_are_buttons_on_the_record(world, make_user):
    from plugins.activities.models import Activity
    app, team = world
    aid = new_activity(app, team, status="draft", title="按钮流程活动")
    c = logged_in(app, "organiser")
    page = c.get(f"/admin/activities_activity/details/?id={aid}").get_data(as_text=True)
    assert "提交审核" in page and 'value="approve"' not in page
    r = c.post("/admin/activities_activity/action/", data={
        "action": "submit", "rowid": str(aid), "url": f"/admin/activities_activity/details/?id={aid}",
        "csrf_token": csrf_from(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/details/?id={aid}")
    make_user("platform", "platform_admin")
    p = logged_in(app, "platform")
    page = p.get(f"/admin/activities_activity/details/?id={aid}").get_data(as_text=True)
    assert 'value="approve"' in page and "不通过（填写原因）" in page
    p.post("/admin/activities_activity/action/", data={"action": "approve", "rowid": str(aid),
                                                     "csrf_token": csrf_from(page)})
    page = c.get(f"/admin/activities_activity/details/?id={aid}").get_data(as_text=True)
    assert 'value="publish"' in page
    c.post("/admin/activities_activity/action/", data={"action": "publish", "rowid": str(aid),
                                                     "csrf_token": csrf_from(page)})
    with app.app_context():
        assert Activity.get_by_id(aid).status == "published"
    # another team's admin sees no step on it (and no page: 404)
    assert logged_in(app, "other").get(f"/admin/activities_activity/details/?id={aid}").status_code == 404
