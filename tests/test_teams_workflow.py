"""Teams, end to end through the public pages, the admin and the services (handbook 篇2 二(三), 篇3 一;
RULES.md R-REG-5, R-TEAM-1…5): registration, profile and platform review, joining with bulk decisions
and inbox messages, sub-teams joining parents, the member / parent / sub-team views, positions, the
≥10-member 队伍 mark and the audit trail of every state change.

Assertions are on database state, status codes and data values; pages that are checked for text are
rendered with DEFAULT_LOCALE="en" (the zh_CN catalogue is filled in centrally).
"""
from __future__ import annotations

import datetime as _dt
import json

import pytest

from conftest import PASSWORD, csrf_from
from fixtures.security_plugins.secsupport import body_text, logged_in

PLUGINS = ["volunteers", "teams"]
PROFILE = {"leader_name": "王队长", "leader_phone": "13800138000", "service_direction": "敬老助残",
           "district": "越秀区", "address": "广州市越秀区中山路1号", "intro": "社区党员志愿服务队",
           "declared_size": "12", "organisation": "某某社区"}


# ----------------------------------------------------------------- helpers (also used by test_teams_isolation)
def cn_id(n: int) -> str:
    """A valid, obviously fake resident ID number (GB 11643 check digit) for person ``n``."""
    from stdnum.cn import ric
    base = "440103" + (_dt.date(1970, 1, 1) + _dt.timedelta(days=n)).strftime("%Y%m%d") + "123"
    return base + ric.calc_check_digit(base + "0")


def phone(n: int) -> str:
    return f"139{n:08d}"


def new_volunteer(app, n: int, name: str | None = None, **extra) -> tuple[int, str]:
    """Register volunteer ``n`` with an account (password PASSWORD). Returns (id, username)."""
    from plugins.volunteers import services as vs
    with app.app_context():
        v = vs.register({"name": name or f"志愿者{n}", "id_type": "cn_id", "id_number": cn_id(n),
                         "phone": phone(n), "agreement": True, "password": PASSWORD, **extra})
        return v.id, v.number


def new_team(app, name: str, *, admin: str | None = None, approved: bool = True, parent: int | None = None,
             **fields) -> int:
    """Register a team with a complete profile (and an admin account); approve it and attach it under
    ``parent`` through the real services unless told otherwise."""
    from plugins.teams import services as ts
    from plugins.teams.models import Team
    with app.app_context():
        t = ts.register_team({**PROFILE, "name": name, **fields}, username=admin,
                             password=PASSWORD if admin else None)
        if approved:
            ts.submit_for_review(t)
            ts.review_team(t, approve=True)
        if parent is not None:
            r = ts.apply_subteam(Team.get_by_id(t.id), Team.get_by_id(parent))
            ts.decide_subteam(r, approve=True)
        return t.id


def add_member(app, volunteer_id: int, team_id: int, status: str = "approved") -> int:
    from plugins.teams import services as ts
    from plugins.teams.models import Team
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        m = ts.apply_to_join(Volunteer.get_by_id(volunteer_id), Team.get_by_id(team_id))
        if status == "approved":
            ts.decide_memberships([m], approve=True)
        elif status == "rejected":
            ts.decide_memberships([m], approve=False, reason="不符合要求")
        return m.id


def team(app, tid):
    from plugins.teams.models import Team
    with app.app_context():
        return Team.get_by_id(tid)


def audit_actions(app, object_type: str | None = None, object_id=None) -> list[str]:
    from core.models import AuditLog
    with app.app_context():
        q = AuditLog.select().order_by(AuditLog.id)
        if object_type:
            q = q.where(AuditLog.object_type == object_type)
        if object_id is not None:
            q = q.where(AuditLog.object_id == str(object_id))
        return [a.action for a in q]


def inbox(app, username: str) -> list[tuple[str, str]]:
    from core.models import Message, User
    with app.app_context():
        u = User.get(User.username == username)
        return [(m.subject, m.body) for m in Message.select().where(Message.recipient == u).order_by(Message.id)]


def _who_touched(membership_id):
    from core.models import AuditLog, UserRole
    rows = [(a.username, a.action, a.details) for a in AuditLog.select().where(
        (AuditLog.object_type == "teams_membership") & (AuditLog.object_id == str(membership_id)))]
    return rows, [(r.user_id, r.role, r.scope) for r in UserRole.select()]


def filter_options(html: str) -> set[str]:
    """The labels of every option of the list page's filters (rendered as JSON for the script)."""
    import re
    m = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S)
    groups = json.loads(m.group(1)) if m else {}
    return {label for items in groups.values() for it in items for _v, label in (it["options"] or [])}


def action(client, view: str, name: str, ids):
    return client.post(f"/admin/{view}/action/", data={"action": name, "rowid": [str(i) for i in ids],
                                                       "csrf_token": client.csrf})


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Still argon2id, with the cheapest parameters: these tests create dozens of accounts, and the
    production parameters cost most of a second per hash on a small CI machine."""
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def site(make_app, make_user):
    app = make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")
    make_user("admin", "platform_admin")
    return app


# ----------------------------------------------------------------- R-REG-5 registration
def test_r_reg_5_public_team_registration_creates_a_draft_team_and_its_admin_account(site):
    """R-REG-5: /teams/register creates a draft team (with the 附录二 fields) and an account holding
    team_admin for scope team:<id>; the phone is stored encrypted; the account reaches its team."""
    from core.db import db
    from core.models import User, UserRole
    from plugins.teams.models import Team
    c = site.test_client()
    page = c.get("/teams/register")
    assert page.status_code == 200
    r = c.post("/teams/register", data={**PROFILE, "name": "越秀党员先锋队", "username": "yuexiu",
                                         "password": PASSWORD, "csrf_token": csrf_from(page.get_data(True))})
    assert r.status_code == 201, r.get_data(True)[:500]
    with site.app_context():
        t = Team.get(Team.name == "越秀党员先锋队")
        assert (t.status, t.path, t.leader_name, t.declared_size) == ("draft", f"/{t.id}/", "王队长", 12)
        from core.db import today
        assert t.registered_on == today() and t.parent_id is None  # Asia/Shanghai date
        assert t.leader_phone == "13800138000"
        raw = db.execute_sql("SELECT leader_phone FROM teams_team WHERE id = %s" % t.id).fetchone()[0]
        assert "13800138000" not in raw
        u = User.get(User.username == "yuexiu")
        assert [(x.role, x.scope) for x in UserRole.select().where(UserRole.user == u)] == \
            [("team_admin", f"team:{t.id}")]
        tid = t.id
    assert "team.registered" in audit_actions(site, "teams_team")
    ta = logged_in(site, "yuexiu")
    listing = ta.get("/admin/teams_team/").get_data(True)
    assert "越秀党员先锋队" in listing
    assert ta.get(f"/admin/teams_team/edit/?id={tid}").status_code == 200


def test_r_reg_5_bad_team_registration_is_refused_per_field_and_writes_nothing(site):
    from core.models import User
    from plugins.teams.models import Team
    new_team(site, "已有队伍", approved=False)
    c = site.test_client()
    token = csrf_from(c.get("/teams/register").get_data(True))
    with site.app_context():
        users = User.select().count()
    r = c.post("/teams/register", data={**PROFILE, "name": "已有队伍", "leader_name": "",
                                         "leader_phone": "12345", "username": "admin",
                                         "password": "123", "csrf_token": token})
    assert r.status_code == 400
    html = r.get_data(True)
    assert html.count('class="field-error"') >= 4  # name taken, leader missing, phone, password
    with site.app_context():
        assert Team.select().count() == 1 and User.select().count() == users


# ----------------------------------------------------------------- R-TEAM-1 profile and review
def test_r_team_1_an_incomplete_profile_is_refused_with_per_field_errors(site):
    """R-TEAM-1: submitting an incomplete profile names each missing field; the team stays a draft."""
    from plugins.teams import services as ts
    tid = new_team(site, "缺资料队", admin="lack", approved=False, address="", intro="", district="")
    with site.app_context():
        with pytest.raises(ts.TeamError) as e:
            ts.submit_for_review(ts.Team.get_by_id(tid))
        assert set(e.value.errors) == {"address", "intro", "district"}
    ta = logged_in(site, "lack")
    r = action(ta, "teams_team", "submit", [tid])
    assert r.status_code == 302
    page = ta.get(r.headers["Location"]).get_data(True)
    assert "was not submitted" in page and "Address" in page and "Introduction" in page
    assert team(site, tid).status == "draft"
    assert "team.submitted" not in audit_actions(site, "teams_team")


def test_r_team_1_platform_review_approve_and_reject_with_reason(site):
    """R-TEAM-1: the team admin completes the profile and submits; the platform rejects with a reason
    through the decision page (a rejection without a reason is refused and changes nothing), the team
    edits and resubmits, the platform approves; only then can it publish. The team admin is told
    each outcome in the inbox and cannot review their own team."""
    from plugins.teams import services as ts
    tid = new_team(site, "天河先锋队", admin="tianhe", approved=False, address="")
    ta = logged_in(site, "tianhe")
    form = {**PROFILE, "name": "天河先锋队", "address": "天河路1号", "csrf_token": ta.csrf}
    assert ta.post(f"/admin/teams_team/edit/?id={tid}", data=form).status_code == 302
    assert team(site, tid).address == "天河路1号"
    action(ta, "teams_team", "submit", [tid])
    assert team(site, tid).status == "pending"

    # the team admin may not review: no action, no decision page
    r = action(ta, "teams_team", "approve", [tid])
    assert r.status_code == 302 and team(site, tid).status == "pending"
    assert ta.get(f"/admin/teams_team/decide/?ids={tid}&approve=1").status_code == 403
    assert ta.post("/admin/teams_team/decide/", data={"ids": tid, "approve": "1", "reason": "",
                                                     "csrf_token": ta.csrf}).status_code == 403
    assert team(site, tid).status == "pending"

    pa = logged_in(site, "admin")
    r = action(pa, "teams_team", "reject", [tid])
    assert r.status_code == 302 and "/admin/teams_team/decide/" in r.headers["Location"]
    page = pa.get(r.headers["Location"])
    assert page.status_code == 200 and "天河先锋队" in page.get_data(True)
    r = pa.post("/admin/teams_team/decide/", data={"ids": tid, "approve": "0", "reason": "  ",
                                                  "csrf_token": pa.csrf})
    assert r.status_code == 400 and "A rejection needs a reason" in r.get_data(True)
    assert team(site, tid).status == "pending"
    r = pa.post("/admin/teams_team/decide/", data={"ids": tid, "approve": "0", "reason": "简介过短",
                                                  "csrf_token": pa.csrf})
    assert r.status_code == 302
    t = team(site, tid)
    assert (t.status, t.review_reason) == ("rejected", "简介过短") and t.reviewed_at is not None
    assert inbox(site, "tianhe")[-1] == ("天河先锋队 did not pass the platform review", "Reason: 简介过短")
    with site.app_context():
        assert not ts.can_publish(t)

    # the rejected team edits (back to draft) and resubmits; the platform approves
    form["intro"] = "天河区党员志愿服务队，服务长者与儿童。"
    assert ta.post(f"/admin/teams_team/edit/?id={tid}", data=form).status_code == 302
    assert team(site, tid).status == "draft"
    action(ta, "teams_team", "submit", [tid])
    assert team(site, tid).status == "pending"
    r = pa.post("/admin/teams_team/decide/", data={"ids": tid, "approve": "1", "reason": "",
                                                  "csrf_token": pa.csrf})
    assert r.status_code == 302
    t = team(site, tid)
    assert (t.status, t.review_reason) == ("approved", "")
    assert inbox(site, "tianhe")[-1][0] == "天河先锋队 passed the platform review"
    with site.app_context():
        assert ts.can_publish(t)
    assert [a for a in audit_actions(site, "teams_team") if a.startswith("team.")] == [
        "team.registered", "team.updated", "team.submitted", "team.rejected", "team.updated",
        "team.submitted", "team.approved"]


def test_r_team_1_review_is_all_or_nothing_over_several_teams(site):
    """A bulk review where one team is not waiting changes none of them."""
    a = new_team(site, "甲队", approved=False)
    b = new_team(site, "乙队", approved=False)
    from plugins.teams import services as ts
    with site.app_context():
        ts.submit_for_review(ts.Team.get_by_id(a))
    pa = logged_in(site, "admin")
    r = pa.post("/admin/teams_team/decide/", data={"ids": f"{a},{b}", "approve": "1", "reason": "",
                                                  "csrf_token": pa.csrf})
    assert r.status_code == 400
    assert (team(site, a).status, team(site, b).status) == ("pending", "draft")


def test_r_team_1_only_approved_teams_take_members(site):
    """R-TEAM-1: a team not yet approved by the platform cannot take members (or sub-teams)."""
    from plugins.teams import services as ts
    from plugins.teams.models import Membership
    tid = new_team(site, "待审队", approved=False)
    vid, vname = new_volunteer(site, 1)
    vc = logged_in(site, vname)
    assert vc.post(f"/teams/{tid}/join", data={"csrf_token": vc.csrf}).status_code == 404
    assert "待审队" not in vc.get("/teams/").get_data(True)
    with site.app_context():
        assert Membership.select().count() == 0
        with pytest.raises(ts.TeamError):
            ts.apply_to_join(ts.Volunteer.get_by_id(vid), ts.Team.get_by_id(tid))
        other = ts.Team.get_by_id(new_team(site, "已批队"))
        with pytest.raises(ts.TeamError):
            ts.apply_subteam(ts.Team.get_by_id(tid), other)
        ts.submit_for_review(ts.Team.get_by_id(tid))
        ts.review_team(ts.Team.get_by_id(tid), approve=True)
    assert vc.post(f"/teams/{tid}/join", data={"csrf_token": vc.csrf}).status_code == 302
    with site.app_context():
        assert [m.status for m in Membership.select()] == ["pending"]


# ----------------------------------------------------------------- R-TEAM-2 joining
def test_r_team_2_volunteer_applies_team_rejects_with_reason_then_approves(site):
    """R-TEAM-2: apply through /teams/<id>/join; the team rejects with a reason (the volunteer reads it
    in the inbox), the volunteer applies again and is approved; every step audited."""
    from plugins.teams.models import Membership
    tid = new_team(site, "海珠服务队", admin="haizhu")
    vid, vname = new_volunteer(site, 2, name="李小明")
    vc = logged_in(site, vname)
    assert vc.post(f"/teams/{tid}/join", data={"csrf_token": vc.csrf}).status_code == 302
    vc.post(f"/teams/{tid}/join", data={"csrf_token": vc.csrf})  # twice: still one application
    with site.app_context():
        m = Membership.get()
        assert (m.status, m.team_id, m.volunteer_id) == ("pending", tid, vid)
        assert Membership.select().count() == 1
    ta = logged_in(site, "haizhu")
    assert "李小明" in ta.get("/admin/teams_membership/").get_data(True)
    r = action(ta, "teams_membership", "reject", [m.id])
    assert "/admin/teams_membership/decide/" in r.headers["Location"]
    r = ta.post("/admin/teams_membership/decide/", data={"ids": m.id, "approve": "0", "reason": "",
                                                        "csrf_token": ta.csrf})
    assert r.status_code == 400
    with site.app_context():
        assert Membership.get_by_id(m.id).status == "pending"
    r = ta.post("/admin/teams_membership/decide/", data={"ids": m.id, "approve": "0",
                                                        "reason": "本队只招本社区居民", "csrf_token": ta.csrf})
    assert r.status_code == 302
    with site.app_context():
        m2 = Membership.get_by_id(m.id)
        assert (m2.status, m2.reason) == ("rejected", "本队只招本社区居民") and m2.decided_at
    assert inbox(site, vname)[-1] == ("Your application to join 海珠服务队 was not approved",
                                      "Reason: 本队只招本社区居民")
    assert vc.post(f"/teams/{tid}/join", data={"csrf_token": vc.csrf}).status_code == 302
    with site.app_context():
        assert Membership.get_by_id(m.id).status == "pending"
    assert action(ta, "teams_membership", "approve", [m.id]).status_code == 302
    with site.app_context():
        assert Membership.get_by_id(m.id).status == "approved"
    assert inbox(site, vname)[-1][0] == "Your application to join 海珠服务队 was approved"
    assert "海珠服务队" in vc.get("/me").get_data(True)  # the volunteer's panel lists the team
    assert audit_actions(site, "teams_membership") == [
        "membership.applied", "membership.rejected", "membership.applied", "membership.approved"]


def test_r_team_2_bulk_approval_of_many_applications_at_once(site):
    """R-TEAM-2: one action approves 25 applications; an application to another team slipped into
    the selection is left alone; each volunteer gets a message; each approval is audited."""
    from plugins.teams.models import Membership
    mine = new_team(site, "白云大队", admin="baiyun")
    other = new_team(site, "番禺大队")
    ids, names = [], []
    for n in range(100, 125):
        vid, vname = new_volunteer(site, n)
        ids.append(add_member(site, vid, mine, status="pending"))
        names.append(vname)
    vid, _ = new_volunteer(site, 200)
    foreign = add_member(site, vid, other, status="pending")
    ta = logged_in(site, "baiyun")
    r = action(ta, "teams_membership", "approve", ids + [foreign])
    assert r.status_code == 302
    with site.app_context():
        assert {m.status for m in Membership.select().where(Membership.id << ids)} == {"approved"}
        assert Membership.get_by_id(foreign).status == "pending", _who_touched(foreign)
    assert audit_actions(site, "teams_membership").count("membership.approved") == 25
    assert all(inbox(site, n)[-1][0] == "Your application to join 白云大队 was approved" for n in names)
    # a rejection of many needs one reason, given once for all
    more = [add_member(site, new_volunteer(site, n)[0], mine, status="pending") for n in range(300, 305)]
    r = ta.post("/admin/teams_membership/decide/", data={"ids": ",".join(map(str, more)), "approve": "0",
                                                        "reason": "名额已满", "csrf_token": ta.csrf})
    assert r.status_code == 302
    with site.app_context():
        assert {(m.status, m.reason) for m in Membership.select().where(Membership.id << more)} == \
            {("rejected", "名额已满")}


def test_r_team_4_members_view_and_removal_with_reason(site):
    """R-TEAM-4 成员管理: approved members of my team and my sub-teams, searchable, filterable by team;
    a removal needs a reason, which the volunteer reads in the inbox."""
    from plugins.teams.models import Membership
    a = new_team(site, "荔湾总队", admin="liwan")
    a1 = new_team(site, "荔湾一分队", parent=a)
    b = new_team(site, "花都总队")
    va, na = new_volunteer(site, 10, name="陈甲")
    va1, _ = new_volunteer(site, 11, name="陈乙")
    vp, _ = new_volunteer(site, 12, name="陈丙")
    vb, _ = new_volunteer(site, 13, name="陈丁")
    ma = add_member(site, va, a)
    add_member(site, va1, a1)
    add_member(site, vp, a, status="pending")
    add_member(site, vb, b)
    ta = logged_in(site, "liwan")
    html = ta.get("/admin/teams_member/").get_data(True)
    assert "陈甲" in html and "陈乙" in html          # own team and sub-team (tree)
    assert "陈丙" not in html and "陈丁" not in html  # pending applicant; other team
    html = ta.get("/admin/teams_member/?search=陈乙").get_data(True)
    assert "陈乙" in html and "陈甲" not in html
    csv = body_text(ta.get("/admin/teams_member/export/csv/"))
    assert "陈甲" in csv and "陈乙" in csv and "陈丁" not in csv
    from fixtures.security_plugins.secsupport import admin_view
    view = admin_view(site, "teams_member")
    arg = next(a for a, (_i, f) in view._filter_args.items() if type(f).__name__ == "TeamFilter")
    html = ta.get(f"/admin/teams_member/?flt0_{arg}={a1}").get_data(True)
    assert "陈乙" in html and "陈甲" not in html
    assert "花都总队" not in html and "花都总队" not in filter_options(html)  # rows; filter options

    r = ta.post("/admin/teams_member/decide/", data={"ids": ma, "approve": "0", "reason": "",
                                                    "csrf_token": ta.csrf})
    assert r.status_code == 400
    r = ta.post("/admin/teams_member/decide/", data={"ids": ma, "approve": "0", "reason": "已搬离本社区",
                                                    "csrf_token": ta.csrf})
    assert r.status_code == 302
    with site.app_context():
        m = Membership.get_by_id(ma)
        assert (m.status, m.reason) == ("left", "已搬离本社区")
    assert inbox(site, na)[-1] == ("You are no longer a member of 荔湾总队", "Reason: 已搬离本社区")
    assert "membership.left" in audit_actions(site, "teams_membership")
    assert "陈甲" not in ta.get("/admin/teams_member/").get_data(True)


def test_r_team_4_team_filter_offers_only_teams_in_reach(site):
    """The team filter's options are computed per request from the user's scope (Flask-Admin would
    compute them once at start-up, for everybody)."""
    a = new_team(site, "从化总队", admin="conghua")
    new_team(site, "从化一队", parent=a)
    new_team(site, "增城总队")
    ta = logged_in(site, "conghua")
    for view in ("teams_member", "teams_membership", "teams_position"):
        assert filter_options(ta.get(f"/admin/{view}/").get_data(True)) >= {"从化总队", "从化一队"}
        assert "增城总队" not in filter_options(ta.get(f"/admin/{view}/").get_data(True))
    html = logged_in(site, "admin").get("/admin/teams_member/").get_data(True)
    assert {"从化总队", "从化一队", "增城总队"} <= filter_options(html)


# ----------------------------------------------------------------- R-TEAM-3 hierarchy
def test_r_team_3_a_sub_team_applies_and_only_the_parent_decides(site):
    """R-TEAM-3: the child's admin applies through the admin; the child's admin cannot approve its own
    application; the parent's admin approves; the child and its whole subtree move under the parent,
    and the parent's admin now reaches the subtree's members (the tree scope)."""
    from plugins.teams.models import SubTeamRequest, Team
    p = new_team(site, "南沙总队", admin="nansha")
    c = new_team(site, "南沙街道队", admin="jiedao")
    c1 = new_team(site, "南沙街道一组", parent=c)
    c1a = new_team(site, "南沙街道一组甲班", parent=c1)
    vid, _ = new_volunteer(site, 20, name="赵深层")
    add_member(site, vid, c1a)
    tc, tp = logged_in(site, "jiedao"), logged_in(site, "nansha")
    assert "赵深层" not in tp.get("/admin/teams_member/").get_data(True)

    form = tc.get("/admin/teams_subteam_request/new/").get_data(True)
    assert "南沙总队" in form  # the parent picker lists approved teams (public names)
    r = tc.post("/admin/teams_subteam_request/new/", data={"child": c, "parent": p, "csrf_token": tc.csrf})
    assert r.status_code == 302
    with site.app_context():
        req = SubTeamRequest.get(SubTeamRequest.status == "pending")
        assert (req.child_id, req.parent_id) == (c, p)

    # the child's admin sees the application but cannot decide it
    assert "南沙总队" in tc.get("/admin/teams_subteam_request/").get_data(True)
    r = tc.post("/admin/teams_subteam_request/decide/", data={"ids": req.id, "approve": "1", "reason": "",
                                                             "csrf_token": tc.csrf})
    assert r.status_code == 400 and "Only the parent team decides" in r.get_data(True)
    with site.app_context():
        assert SubTeamRequest.get_by_id(req.id).status == "pending"
        assert Team.get_by_id(c).parent_id is None

    # the parent sees the applicant's profile, then approves
    details = tp.get(f"/admin/teams_subteam_request/details/?id={req.id}").get_data(True)
    assert "南沙街道队" in details and PROFILE["service_direction"] in details
    assert PROFILE["leader_phone"] not in details
    r = tp.post("/admin/teams_subteam_request/decide/", data={"ids": req.id, "approve": "1", "reason": "",
                                                             "csrf_token": tp.csrf})
    assert r.status_code == 302
    with site.app_context():
        assert SubTeamRequest.get_by_id(req.id).status == "approved"
        paths = {t.id: t.path for t in Team.select()}
        assert Team.get_by_id(c).parent_id == p
    assert paths[c] == f"/{p}/{c}/"
    assert paths[c1] == f"/{p}/{c}/{c1}/"
    assert paths[c1a] == f"/{p}/{c}/{c1}/{c1a}/"
    assert "赵深层" in tp.get("/admin/teams_member/").get_data(True)
    assert inbox(site, "jiedao")[-1][0] == "南沙街道队 joined 南沙总队"
    assert [a for a in audit_actions(site, "teams_subteam_request", req.id) if a.startswith("subteam.")] \
        == ["subteam.applied", "subteam.approved"]


def test_r_team_3_rejection_needs_a_reason_and_reaches_the_child(site):
    from plugins.teams import services as ts
    from plugins.teams.models import SubTeamRequest, Team
    p = new_team(site, "黄埔总队", admin="huangpu")
    c = new_team(site, "黄埔东队", admin="huangpudong")
    with site.app_context():
        req = ts.apply_subteam(Team.get_by_id(c), Team.get_by_id(p))
    tp = logged_in(site, "huangpu")
    r = tp.post("/admin/teams_subteam_request/decide/", data={"ids": req.id, "approve": "0", "reason": "",
                                                             "csrf_token": tp.csrf})
    assert r.status_code == 400
    r = tp.post("/admin/teams_subteam_request/decide/", data={"ids": req.id, "approve": "0",
                                                             "reason": "服务区域不同", "csrf_token": tp.csrf})
    assert r.status_code == 302
    with site.app_context():
        got = SubTeamRequest.get_by_id(req.id)
        assert (got.status, got.reason) == ("rejected", "服务区域不同")
        assert Team.get_by_id(c).path == f"/{c}/"
    assert inbox(site, "huangpudong")[-1] == ("黄埔总队 did not accept 黄埔东队", "Reason: 服务区域不同")


def test_r_team_3_cycles_are_refused(site):
    """R-TEAM-3: a team cannot join itself or one of its own sub-teams, neither when applying nor when
    the tree changed between the application and the decision."""
    from plugins.teams import services as ts
    from plugins.teams.models import SubTeamRequest, Team
    a = new_team(site, "环甲", admin="huan")
    a1 = new_team(site, "环乙", parent=a)
    a2 = new_team(site, "环丙", parent=a1)
    x = new_team(site, "环丁")
    with site.app_context():
        T = Team.get_by_id
        for child, parent in ((a, a), (a, a1), (a, a2), (a1, a2)):
            with pytest.raises(ts.TeamError):
                ts.apply_subteam(T(child), T(parent))
        # x applies under a2; meanwhile a applies under x: approving both would close a circle
        r1 = ts.apply_subteam(T(x), T(a2))
        r2 = ts.apply_subteam(T(a), T(x))
        ts.decide_subteam(r1, approve=True)
        with pytest.raises(ts.TeamError):
            ts.decide_subteam(SubTeamRequest.get_by_id(r2.id), approve=True)
        assert SubTeamRequest.get_by_id(r2.id).status == "pending"
        assert T(a).path == f"/{a}/" and T(x).path == f"/{a}/{a1}/{a2}/{x}/"
    ta = logged_in(site, "huan")
    r = ta.post("/admin/teams_subteam_request/new/", data={"child": a, "parent": a2, "csrf_token": ta.csrf})
    assert r.status_code == 200  # the form again, with the refusal
    with site.app_context():
        assert SubTeamRequest.select().where(SubTeamRequest.child == a).count() == 1


def test_r_team_4_sub_team_and_parent_views(site):
    """R-TEAM-4: 队伍管理 lists my sub-teams (any depth) with member counts; 归属队伍 lists the teams my
    team belongs to, nearest first, with only public data of those teams."""
    top = new_team(site, "广州总队", leader_name="总队长甲", address="总部地址甲")
    a = new_team(site, "越秀支队", admin="yx", parent=top)
    a1 = new_team(site, "越秀一队", parent=a)
    a1x = new_team(site, "越秀一队甲组", parent=a1)
    b = new_team(site, "天河支队", parent=top)
    for n in range(3):
        add_member(site, new_volunteer(site, 40 + n)[0], a1)
    add_member(site, new_volunteer(site, 50)[0], b)
    ta = logged_in(site, "yx")
    html = ta.get("/admin/teams_subteam/").get_data(True)
    assert "越秀一队" in html and "越秀一队甲组" in html
    assert "天河支队" not in html and "广州总队" not in html
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(body_text(ta.get("/admin/teams_subteam/export/csv/")))))
    assert {(r["Team name"], r["Parent team"], r["Members"]) for r in rows} == {
        ("越秀一队", "越秀支队", "3"), ("越秀一队甲组", "越秀一队", "0")}

    html = ta.get("/admin/teams_parent/").get_data(True)
    assert "广州总队" in html and "总队长甲" not in html and "总部地址甲" not in html
    html = ta.get(f"/admin/teams_parent/?team={a1x}").get_data(True)
    assert html.index("越秀一队") < html.index("越秀支队") < html.index("广州总队")
    assert ta.get(f"/admin/teams_parent/?team={b}").status_code == 404
    assert ta.get(f"/admin/teams_parent/?team={top}").status_code == 404


# ----------------------------------------------------------------- R-TEAM-5 positions
@pytest.mark.parametrize("important,heavy,rating", [(True, True, "A"), (True, False, "B"),
                                                    (False, True, "C"), (False, False, "D")])
def test_r_team_5_position_rating_is_importance_times_workload(site, important, heavy, rating):
    """R-TEAM-5 (篇3 一(二)3): A important+heavy, B important+light, C less important+heavy, D neither;
    the rating is computed, never typed in."""
    from plugins.teams.models import Position
    tid = new_team(site, "岗位队", admin="gw")
    vid, _ = new_volunteer(site, 60)
    add_member(site, vid, tid)
    ta = logged_in(site, "gw")
    data = {"team": tid, "kind": "publicity", "title": "宣传委员", "holder": vid, "duties": "公众号",
            "rating": "A" if rating != "A" else "D", "csrf_token": ta.csrf}
    if important:
        data["important"] = "y"
    if heavy:
        data["heavy"] = "y"
    assert ta.post("/admin/teams_position/new/", data=data).status_code == 302
    with site.app_context():
        p = Position.get()
        assert (p.kind, p.rating, p.holder_id, p.team_id) == ("publicity", rating, vid, tid)


def test_r_team_5_the_four_positions_and_holders_must_be_members(site):
    from plugins.teams import services as ts
    from plugins.teams.models import Position, Team
    from plugins.volunteers.models import Volunteer
    tid = new_team(site, "四岗队", admin="sg")
    member, _ = new_volunteer(site, 61)
    outsider, _ = new_volunteer(site, 62)
    add_member(site, member, tid)
    with site.app_context():
        t = Team.get_by_id(tid)
        got = [ts.set_position(t, k, important=imp, heavy=heavy).rating for k, imp, heavy in (
            ("admin", True, True), ("publicity", True, False), ("logistics", False, True),
            ("planning", False, False))]
        assert got == ["A", "B", "C", "D"]
        with pytest.raises(ts.TeamError):
            ts.set_position(t, "finance")
        with pytest.raises(ts.TeamError):
            ts.set_position(t, "admin", holder=Volunteer.get_by_id(outsider))
    ta = logged_in(site, "sg")
    form = ta.get("/admin/teams_position/new/").get_data(True)
    assert "志愿者61" in form and "志愿者62" not in form  # holder picker: members only
    r = ta.post("/admin/teams_position/new/", data={"team": tid, "kind": "admin", "holder": outsider,
                                                   "csrf_token": ta.csrf})
    assert r.status_code == 200
    with site.app_context():
        assert Position.select().count() == 4
    assert audit_actions(site, "teams_position").count("position.set") == 4


# ----------------------------------------------------------------- the 队伍 mark
def test_a_team_with_ten_members_counts_as_a_squad(site):
    """篇1 二(一)2 / glossary: a team with ≥10 approved members counts as a 队伍; the admin shows it.
    The threshold is a setting (teams.squad_min_members)."""
    from core.models import Setting
    from plugins.teams import services as ts
    tid = new_team(site, "十人队", admin="shi")
    vids = [new_volunteer(site, 70 + n)[0] for n in range(10)]
    for v in vids[:9]:
        add_member(site, v, tid)
    add_member(site, vids[9], tid, status="pending")
    ta = logged_in(site, "shi")
    with site.app_context():
        assert not ts.is_squad(ts.Team.get_by_id(tid)) and ts.member_count(ts.Team.get_by_id(tid)) == 9
    assert "tb-squad" not in ta.get("/admin/teams_team/").get_data(True)
    from plugins.teams.models import Membership
    with site.app_context():
        ts.decide_memberships([Membership.get(Membership.volunteer == vids[9])], approve=True)
        assert ts.is_squad(ts.Team.get_by_id(tid))
    assert ta.get("/admin/teams_team/").get_data(True).count("tb-squad") == 1
    assert "Squad" in body_text(ta.get("/admin/teams_team/export/csv/"))
    with site.app_context():
        Setting.create(key="teams.squad_min_members", value="11")
        assert not ts.is_squad(ts.Team.get_by_id(tid))


# ----------------------------------------------------------------- personal data of teams
def test_leader_phone_is_masked_and_each_full_view_is_audited(site):
    """PR5: the leader's phone is masked on screen and in the edit form, not exported; the full number
    comes from an audited POST."""
    tid = new_team(site, "电话队", admin="dh")
    ta = logged_in(site, "dh")
    details = ta.get(f"/admin/teams_team/details/?id={tid}").get_data(True)
    assert "138****8000" in details and "13800138000" not in details
    assert "13800138000" not in ta.get(f"/admin/teams_team/edit/?id={tid}").get_data(True)
    assert "13800138000" not in body_text(ta.get("/admin/teams_team/export/xlsx/"))
    r = ta.post(f"/admin/teams_team/reveal/?id={tid}&field=leader_phone", headers={"X-CSRFToken": ta.csrf})
    assert r.status_code == 200 and json.loads(r.data)["value"] == "13800138000"
    assert r.headers["Cache-Control"] == "no-store"
    assert audit_actions(site, "teams_team").count("pii.viewed") == 1
    # the masked value sent back unchanged keeps the number
    form = {**PROFILE, "name": "电话队", "leader_phone": "138****8000", "csrf_token": ta.csrf}
    assert ta.post(f"/admin/teams_team/edit/?id={tid}", data=form).status_code == 302
    assert team(site, tid).leader_phone == "13800138000"


def test_a_team_admin_cannot_change_status_parent_or_path_through_the_form(site):
    """AC8: extra POST fields are ignored; status, parent and path only change through the services."""
    tid = new_team(site, "表单队", admin="bd", approved=False)
    other = new_team(site, "别队")
    ta = logged_in(site, "bd")
    form = {**PROFILE, "name": "表单队", "status": "approved", "parent": other, "path": f"/{other}/x/",
            "review_reason": "x", "csrf_token": ta.csrf}
    assert ta.post(f"/admin/teams_team/edit/?id={tid}", data=form).status_code == 302
    t = team(site, tid)
    assert (t.status, t.parent_id, t.path, t.review_reason) == ("draft", None, f"/{tid}/", "")


def test_dashboard_counts_waiting_work(site):
    tid = new_team(site, "看板队", admin="kb")
    for n in range(3):
        add_member(site, new_volunteer(site, 90 + n)[0], tid, status="pending")
    html = logged_in(site, "kb").get("/admin/").get_data(True)
    assert "Join applications" in html and '<p class="display-4">3</p>' in html
