"""The messages people expect (issue 18 point 5), through the message service, exactly once:
the organiser when an activity is approved or rejected (R-ACT-1), the volunteer when hours are confirmed
and points credited, naming the activity (R-TB-1, R-TB-5), a team admin when someone applies to join
(R-TEAM-2)."""
from __future__ import annotations

import pytest

from fixtures.activities_plugins.actsupport import inbox_of, new_activity, volunteers
from fixtures.ledger_support import ledger_site, serve
from test_teams_workflow import new_team


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch)
    app.config["DEFAULT_LOCALE"] = "zh_Hans_CN"  # what a volunteer reads: the site's language
    return app


def _inbox(app, username):
    from core.models import Message, User
    with app.app_context():
        u = User.get(User.username == username)
        return [(m.subject, m.body, m.category) for m in
                Message.select().where(Message.recipient == u.id).order_by(Message.id)]


def test_r_act_1_the_organiser_is_told_of_approval_and_of_a_rejection_with_its_reason(site):
    from plugins.activities import services
    from plugins.activities.models import Activity
    team = new_team(site, "海珠敬老队", admin="organiser")
    approved = new_activity(site, team, status="submitted", title="重阳敬老探访")
    rejected = new_activity(site, team, status="submitted", title="独居长者电话问候")
    with site.app_context():
        services.review(Activity.get_by_id(approved), approve=True)
        services.review(Activity.get_by_id(rejected), approve=False, reason="请补充安全预案")
        with pytest.raises(services.ActivityError):  # reviewing again changes nothing, sends nothing
            services.review(Activity.get_by_id(approved), approve=True)
    inbox = _inbox(site, "organiser")
    review_msgs = [m for m in inbox if m[2] == "activities"]
    assert len(review_msgs) == 2
    assert review_msgs[0][0] == "【审核通过】重阳敬老探访" and "发布" in review_msgs[0][1]
    assert review_msgs[1][0] == "【审核未通过】独居长者电话问候" and "请补充安全预案" in review_msgs[1][1]


def test_r_tb_1_the_volunteer_is_told_of_confirmed_hours_and_points_naming_the_activity_once(site):
    from core import events
    from plugins.activities.services import HoursConfirmed
    team = new_team(site, "越秀服务队", admin="ta1")
    (vid,) = volunteers(site, 301, 1)
    aid, records = serve(site, team, {vid: 150}, hours=3)
    inbox = [m for m in inbox_of(site, vid) if m[0].startswith("【时数确认】")]
    assert len(inbox) == 1
    subject, body = inbox[0]
    from plugins.activities.models import Activity
    with site.app_context():
        title = Activity.get_by_id(aid).title
    assert subject == f"【时数确认】{title}"
    assert "2.5" in body and "2 个时间积分" in body and title in body
    # the event delivered again (a retry, the hourly catch-up): no second message
    with site.app_context():
        from plugins.activities.models import ServiceRecord
        rec = ServiceRecord.get_by_id(records[vid])
        events.emit(HoursConfirmed(record_id=rec.id, volunteer_id=vid, team_id=team, activity_id=aid,
                                   kind="service", minutes=150, delta_minutes=150, version=rec.version,
                                   service_date=rec.service_date))
    assert len([m for m in inbox_of(site, vid) if m[0].startswith("【时数确认】")]) == 1


def test_r_team_2_the_team_admin_is_told_when_someone_applies(site):
    from plugins.teams import services as ts
    from plugins.teams.models import Team
    from plugins.volunteers.models import Volunteer
    team = new_team(site, "荔湾青年队", admin="leader")
    (vid,) = volunteers(site, 401, 1)
    with site.app_context():
        v = Volunteer.get_by_id(vid)
        ts.apply_to_join(v, Team.get_by_id(team))
        with pytest.raises(ts.TeamError):  # applying twice is refused and sends nothing more
            ts.apply_to_join(v, Team.get_by_id(team))
        name = v.name
    msgs = [m for m in _inbox(site, "leader") if m[0].startswith("【入队申请】")]
    assert len(msgs) == 1 and msgs[0][0] == f"【入队申请】{name} 申请加入 荔湾青年队"
    assert "入队申请" in msgs[0][1]


def test_r_team_2_after_applying_the_team_page_says_pending_not_apply_again(site):
    from conftest import login, PASSWORD
    from fixtures.activities_plugins.actsupport import username_of
    team = new_team(site, "天河志愿队", admin="boss")
    (vid,) = volunteers(site, 501, 1)
    c = site.test_client()
    assert login(c, username_of(site, vid), PASSWORD).status_code == 302
    html = c.get("/teams/").get_data(as_text=True)
    assert "申请加入" in html and "申请中" not in html
    from conftest import csrf_from
    r = c.post(f"/teams/{team}/join", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "申请中" in html and "<button type=\"submit\">申请加入</button>" not in html


def test_r_tb_5_statement_rows_name_the_activity_that_earned_the_points(site):
    """Issue 18 point 6: the volunteer's statement (page and export) says what earned each credit."""
    from conftest import PASSWORD, login
    from fixtures.activities_plugins.actsupport import username_of
    team = new_team(site, "白云助老队", admin="ta7")
    (vid,) = volunteers(site, 701, 1)
    aid, _records = serve(site, team, {vid: 120}, hours=2)
    from plugins.activities.models import Activity
    with site.app_context():
        title = Activity.get_by_id(aid).title
    c = site.test_client()
    login(c, username_of(site, vid), PASSWORD)
    html = c.get("/points/me").get_data(as_text=True)
    assert title in html and "+2" in html
    csv_text = c.get("/points/me/statement.csv").get_data(as_text=True)
    assert title in csv_text


def test_booleans_read_yes_or_no_and_hours_not_minutes_in_the_admin(site):
    from fixtures.security_plugins.secsupport import logged_in
    team = new_team(site, "番禺服务队", admin="ta8")
    (vid,) = volunteers(site, 801, 1)
    serve(site, team, {vid: 90}, hours=2)
    c = logged_in(site, "ta8")
    html = c.get("/admin/activities_service_record/").get_data(as_text=True)
    assert ">1.5<" in html.replace(" ", "").replace("\n", "") and "志愿服务" in html
    teams = c.get("/admin/activities_activity/").get_data(as_text=True)
    assert ': true"' not in teams and ': false"' not in teams  # Flask-Admin's icon titles, in English


def test_r_act_1_the_platform_dashboard_shows_every_activity_waiting_for_review_with_links(site, make_user):
    """Issue 18 point 5: what is waiting, not only what is overdue, each with a link to do it."""
    from fixtures.security_plugins.secsupport import logged_in
    team = new_team(site, "从化青年队", admin="ta9")
    fresh = new_activity(site, team, status="submitted", title="刚提交的活动")
    make_user("pa", "platform_admin")
    html = logged_in(site, "pa").get("/admin/").get_data(as_text=True)
    assert "待审核的活动" in html and "刚提交的活动" in html
    assert f"/admin/activities_activity/review/?id={fresh}" in html
    assert "其中 0 个已超过 2 个工作日" in html
    # a team admin, who does not review, does not get it
    assert "待审核的活动" not in logged_in(site, "ta9").get("/admin/").get_data(as_text=True)
