"""Identity hardening found by the outside review (issue 11 points 1 and 6; SECURITY.md NS1, NS2).

Point 1: volunteer numbers are login names the system hands out; no name a person chooses (team
registration, the admin's user form, ``timebank create-user``) may take or block one, number generation
skips a taken number, and a database integrity error never reaches a person as a 500.
Point 6: full-width and other Unicode digits in phones and ID numbers are normalised before validation
and before the blind indexes, in every place identity data enters.

Through the public pages, the admin and the CLI, on the real database (SQLite, or PostgreSQL with
TIMEBANK_TEST_DATABASE_URL).
"""
from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, csrf_from, login
from core.db import today

PLUGINS = ["volunteers", "teams"]
ID_F = "11010519491231002X"
ID_M = "440524188001010014"
TEAM = {"leader_name": "王队长", "leader_phone": "13800138000", "service_direction": "敬老助残",
        "district": "越秀区", "address": "广州市越秀区中山路1号", "intro": "社区党员志愿服务队",
        "declared_size": "12", "organisation": "某某社区"}


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


@pytest.fixture
def vapp(make_app):
    return make_app(plugins=PLUGINS)


def number(n: int) -> str:
    return f"GZ{today().year}{n:07d}"


def post_form(client, url, data):
    page = client.get(url)
    assert page.status_code == 200, url
    return client.post(url, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})


def register(client, **over):
    data = {"name": "李小红", "gender": "F", "id_type": "cn_id", "id_number": ID_F, "phone": "13800001234",
            "password": PASSWORD, "agreement": "1", **over}
    return post_form(client, "/register", data)


def register_team(client, username, name="越秀党员先锋队"):
    return post_form(client, "/teams/register", {**TEAM, "name": name, "username": username,
                                                 "password": PASSWORD})


def rows(app, table) -> int:
    from core.db import db
    with app.app_context():
        return db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def usernames(app) -> set[str]:
    from core.models import User
    with app.app_context():
        return {u.username for u in User.select()}


def admin_client(app, make_user):
    make_user("admin", "platform_admin")
    c = app.test_client()
    assert login(c, "admin").status_code == 302
    return c


# ------------------------------------------------------------------ point 1 (NS1)
def test_ns1_probe_team_username_of_next_volunteer_number_cannot_block_registration(vapp, make_user):
    """issue 11 point 1, the outside probe: register a team whose username is the next volunteer number,
    then /register and the admin's create form. Before the fix the team got the name and every later
    registration answered 500 (UNIQUE core_user.username) forever; now the name is refused with a clear
    field error and both registrations go on."""
    anon = vapp.test_client()
    for attempt in (number(1), number(1).lower(), fullwidth(number(1)), number(2)):
        r = register_team(anon, attempt)
        html = r.get_data(as_text=True)
        assert r.status_code == 400, html[-800:]
        assert "志愿者编号" in html, "the refusal says why, in Chinese"
    assert rows(vapp, "teams_team") == 0 and usernames(vapp) == set()
    r = register(anon)
    assert r.status_code == 201, r.get_data(as_text=True)[-800:]
    assert number(1) in usernames(vapp)
    admin = admin_client(vapp, make_user)
    r = post_form(admin, "/admin/volunteers_volunteer/new/", {
        "name": "王五", "gender": "M", "id_type": "cn_id", "id_number": ID_M, "phone": "13800001111",
        "agreement": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[-800:]
    from plugins.volunteers.models import Volunteer
    with vapp.app_context():
        assert sorted(v.number for v in Volunteer.select()) == [number(1), number(2)]


def test_ns1_mobile_number_cannot_be_chosen_as_username(vapp):
    """issue 11 point 1: volunteers log in with their mobile number, which login resolves only when no
    account has it as username; a team account named like a mobile number would block that login."""
    r = register_team(vapp.test_client(), "+86-139-0000-1234")
    assert r.status_code == 400 and "手机号码" in r.get_data(as_text=True)
    assert usernames(vapp) == set()
    r = register_team(vapp.test_client(), "yuexiu_team")
    assert r.status_code == 201
    assert usernames(vapp) == {"yuexiu_team"}


def test_ns1_number_generation_skips_a_number_taken_as_login_name(vapp, make_user):
    """issue 11 point 1: an account that already has the next number as its name (made before the
    names were reserved, or before the prefix setting changed) is skipped, not retried forever; the
    same for the bulk import's block of numbers."""
    make_user(number(1))
    make_user(number(3))
    r = register(vapp.test_client())
    assert r.status_code == 201, r.get_data(as_text=True)[-800:]
    from plugins.volunteers import import_
    from plugins.volunteers.models import Volunteer
    with vapp.test_request_context():
        res = import_.import_records([
            {"name": "张三", "id_type": "cn_id", "id_number": ID_M, "phone": "13800002222"},
            {"name": "赵六", "id_type": "passport", "id_number": "E12345678", "gender": "M",
             "birth_date": "1990-01-01", "phone": "13800003333"}])
        assert res.counts["imported"] == 2, res
        assert sorted(v.number for v in Volunteer.select()) == [number(2), number(4), number(5)]


def test_ns1_admin_user_form_refuses_reserved_username(vapp, make_user):
    """issue 11 point 1: the admin's account form follows the same rules (create and rename)."""
    admin = admin_client(vapp, make_user)
    before = usernames(vapp)
    r = post_form(admin, "/admin/core_user/new/", {"username": number(1), "display_name": "x", "email": "",
                                              "locale": "", "is_active": "y"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "志愿者编号" in html, html[-800:]
    assert usernames(vapp) == before
    r = post_form(admin, "/admin/core_user/new/", {"username": "helper", "display_name": "x", "email": "",
                                              "locale": "", "is_active": "y"})
    assert r.status_code == 302
    from core.models import User
    with vapp.app_context():
        uid = User.get(User.username == "helper").id
    r = post_form(admin, f"/admin/core_user/edit/?id={uid}", {"username": "13800001234", "display_name": "x",
                                                          "email": "", "locale": "", "is_active": "y"})
    assert r.status_code == 200 and "手机号码" in r.get_data(as_text=True)
    assert "helper" in usernames(vapp)


def test_ns1_cli_create_user_refuses_reserved_username(vapp, monkeypatch):
    """issue 11 point 1: ``timebank create-user`` follows the same rules."""
    from click.testing import CliRunner
    from core.cli import main
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", vapp.config["DATABASE_URL"])
    monkeypatch.setenv("TIMEBANK_PLUGINS", ",".join(PLUGINS))
    for name, why in ((number(7), "志愿者编号"), ("13800001234", "手机号码")):
        r = CliRunner().invoke(main, ["create-user", name, "--password", PASSWORD])
        out = r.output + (r.stderr if r.stderr_bytes is not None else "")
        assert r.exit_code == 1 and why in out, out
    assert usernames(vapp) == set()
    r = CliRunner().invoke(main, ["create-user", "helper", "--password", PASSWORD])
    assert r.exit_code == 0, r.output
    assert usernames(vapp) == {"helper"}


def test_ns1_integrity_error_escaping_a_request_is_409_rolled_back(make_app):
    """issue 11 point 1: a constraint conflict that no service caught is a clear Chinese 409 page, the
    request's writes are rolled back, and the connection serves the next request (PostgreSQL too)."""
    app = make_app(plugins=[])
    from core.db import transaction
    from core.models import User

    @app.route("/_probe/duplicate")
    def duplicate():
        with transaction():
            User.create(username="first", password_hash="x")
            User.create(username="dup", password_hash="x")
            User.create(username="dup", password_hash="x")
        return "written"

    @app.route("/_probe/count")
    def count():
        return str(User.select().count())

    c = app.test_client()
    r = c.get("/_probe/duplicate")
    html = r.get_data(as_text=True)
    assert r.status_code == 409, html[-500:]
    assert "与已有数据冲突" in html and "UNIQUE" not in html and "core_user" not in html
    r = c.get("/_probe/count")
    assert (r.status_code, r.get_data(as_text=True)) == (200, "0")


# ------------------------------------------------------------------ point 6 (NS2)
def test_ns2_fullwidth_phone_and_permit_register_once(vapp):
    """issue 11 point 6: a full-width phone and permit number are stored as ASCII digits; the same
    person again in ASCII is refused as a duplicate (before: stored as typed, registered twice)."""
    permit = "810000199001010019"   # a Hong Kong resident's residence permit
    c = vapp.test_client()
    r = register(c, id_type="hmt_permit", id_number=fullwidth(permit), phone=fullwidth("13800001234"),
                 name="陈大文", gender="M")
    assert r.status_code == 201, re.findall(r"id=\"err-[^<]*", r.get_data(as_text=True))
    from plugins.volunteers.models import Volunteer
    with vapp.app_context():
        v = Volunteer.get()
        assert (v.id_number, v.phone) == (permit, "13800001234")
    before = rows(vapp, "volunteers_volunteer")
    r = register(vapp.test_client(), id_type="hmt_permit", id_number=permit, phone="13900001234",
                 name="陈大文", gender="M")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="err-id_number"' in html
    assert rows(vapp, "volunteers_volunteer") == before


def test_ns2_login_by_fullwidth_phone(vapp):
    """issue 11 point 6: a volunteer logs in with the mobile number typed in full-width digits."""
    assert register(vapp.test_client()).status_code == 201
    c = vapp.test_client()
    r = login(c, fullwidth("13800001234"))
    assert r.status_code == 302, r.get_data(as_text=True)[-500:]
    # the volunteer number typed in full-width characters, too
    c = vapp.test_client()
    assert login(c, fullwidth(number(1))).status_code == 302
    # and an ASCII registration of a full-width-typed number is the same phone for the index
    from plugins.volunteers.services import find_by_phone
    with vapp.test_request_context():
        assert len(find_by_phone("１３８ ００００ １２３４")) == 1


def test_ns2_import_and_admin_normalise(vapp, make_user):
    """issue 11 point 6: the import and the admin form normalise like the public page: a full-width
    ID imported, then the ASCII form registered in the admin, is a duplicate."""
    from plugins.volunteers import import_
    from plugins.volunteers.models import Volunteer
    with vapp.test_request_context():
        res = import_.import_records([{"name": "张三", "id_type": "cn_id", "id_number": fullwidth(ID_M),
                                       "phone": fullwidth("13800002222")}])
        assert res.counts["imported"] == 1
        v = Volunteer.get()
        assert (v.id_number, v.phone) == (ID_M, "13800002222")
    admin = admin_client(vapp, make_user)
    r = post_form(admin, "/admin/volunteers_volunteer/new/", {
        "name": "张三", "gender": "M", "id_type": "cn_id", "id_number": ID_M, "phone": "13800001111",
        "agreement": "y"})
    assert r.status_code == 200 and rows(vapp, "volunteers_volunteer") == 1


def test_ns2_error_for_an_id_that_still_fails_names_the_character(vapp):
    """issue 11 point 6: a number that is still wrong after normalising (a Chinese 〇 or 一 for a digit)
    gets an error that names the character, in Chinese."""
    r = register(vapp.test_client(), id_number=ID_F[:5] + "〇" + ID_F[6:])
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    err = re.search(r'id="err-id_number"[^>]*>(.*?)</', html, re.S).group(1)
    assert "〇" in err and "0" in err, err


# ------------------------------------------------------------------ point 18 (R-REG-7)
def review_setting(app, on: bool):
    from core.models import Setting
    with app.app_context():
        Setting.create(key="volunteers.review_registrations", value="true" if on else "false")


def audit_actions(app) -> list[str]:
    from core.models import AuditLog
    with app.app_context():
        return [a.action for a in AuditLog.select().order_by(AuditLog.id)]


def make_team(app, name="西湖社区党员志愿服务队", admin="xihu_admin", make_user=None):
    """An approved team with its admin account, through the teams plugin's services."""
    from plugins.teams import services as teams
    from plugins.teams.models import Team
    with app.test_request_context():
        t = teams.register_team({**TEAM, "name": name}, username=admin, password=PASSWORD)
        teams.submit_for_review(Team.get_by_id(t.id))
        teams.review_team(Team.get_by_id(t.id), approve=True)
        return t.id


def test_r_reg_7_review_off_registration_creates_an_active_file_at_once(vapp):
    """issue 11 point 18: with the setting off (the default, also stored as false) a public registration
    is today's: an active volunteer file, the volunteer role, no application, no team choice on the page."""
    review_setting(vapp, False)
    c = vapp.test_client()
    page = c.get("/register").get_data(as_text=True)
    assert 'id="review-note"' not in page and 'name="team"' not in page
    r = register(c)
    assert r.status_code == 201 and 'id="pending-review"' not in r.get_data(as_text=True)
    from core.models import UserRole
    from plugins.volunteers.models import Application, Volunteer
    with vapp.app_context():
        v = Volunteer.get()
        assert v.status == "active" and Application.select().count() == 0
        assert [r.role for r in UserRole.select().where(UserRole.user == v.user_id)] == ["volunteer"]
    assert "volunteer.registered" in audit_actions(vapp)


def test_r_reg_7_review_on_application_pending_then_rejected_with_reason_then_approved(vapp, make_user):
    """issue 11 point 18 (附录九 第八、九条): with the review on, a public registration is an application:
    no active file and no volunteer role, the applicant can log in and sees the state; a platform admin
    rejects it with a reason (required) and the applicant is told in the inbox; on reconsideration the
    admin approves it, the file becomes active with the volunteer role, and the applicant is told. Each
    step is audited."""
    review_setting(vapp, True)
    admin = admin_client(vapp, make_user)
    c = vapp.test_client()
    page = c.get("/register").get_data(as_text=True)
    assert 'id="review-note"' in page
    r = register(c)
    assert r.status_code == 201 and 'id="pending-review"' in r.get_data(as_text=True)
    from core.models import Message, UserRole
    from plugins.volunteers.models import Application, Volunteer
    with vapp.app_context():
        v = Volunteer.get()
        a = Application.get()
        assert (v.status, a.status, a.team_id) == ("pending", "pending", None)
        assert UserRole.select().where(UserRole.user == v.user_id).count() == 0
    assert "volunteer.applied" in audit_actions(vapp) and "volunteer.registered" not in audit_actions(vapp)
    # the applicant logs in (number or phone) and sees the state, but is no volunteer elsewhere
    me = vapp.test_client()
    assert login(me, "13800001234").status_code == 302
    html = me.get("/me").get_data(as_text=True)
    assert 'data-status="pending"' in html
    from plugins.volunteers import services
    with vapp.test_request_context():
        from core.models import User
        assert services.for_user(User.get_by_id(v.user_id)) is None
    # the platform admin was told of the application; a rejection without a reason is refused, with
    # one it is recorded and told
    with vapp.app_context():
        told = Message.select().join(User, on=(Message.recipient == User.id)).where(
            (User.username == "admin") & (Message.category == "volunteers.application")).get()
        assert number(1) in told.subject and "注册申请" in told.subject
    listing = admin.get("/admin/volunteers_application/").get_data(as_text=True)
    assert number(1) in listing
    url = f"/admin/volunteers_application/edit/?id={a.id}"
    r = post_form(admin, url, {"status": "rejected", "reason": ""})
    assert r.status_code == 200
    with vapp.app_context():
        assert Application.get().status == "pending"
    r = post_form(admin, url, {"status": "rejected", "reason": "请补充监护人同意书"})
    assert r.status_code == 302, r.get_data(as_text=True)[-600:]
    with vapp.app_context():
        assert (Volunteer.get().status, Application.get().status) == ("rejected", "rejected")
        msg = Message.select().where(Message.recipient == v.user_id).order_by(Message.id.desc()).get()
        assert "请补充监护人同意书" in msg.body
    html = me.get("/me").get_data(as_text=True)
    assert 'data-status="rejected"' in html and "请补充监护人同意书" in html
    assert "volunteer.application_rejected" in audit_actions(vapp)
    # the same person cannot file a second application
    assert register(vapp.test_client()).status_code == 400
    # reconsidered: approved
    r = post_form(admin, url, {"status": "approved", "reason": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[-600:]
    with vapp.app_context():
        v = Volunteer.get()
        assert (v.status, Application.get().status) == ("active", "approved")
        assert [x.role for x in UserRole.select().where(UserRole.user == v.user_id)] == ["volunteer"]
        assert Message.select().where(Message.recipient == v.user_id).count() == 2
    assert {"volunteer.application_approved", "volunteer.registered"} <= set(audit_actions(vapp))
    assert 'data-status' not in me.get("/me").get_data(as_text=True)
    # an approved application is not decided again
    r = post_form(admin, url, {"status": "rejected", "reason": "x"})
    assert r.status_code == 200
    with vapp.app_context():
        assert Volunteer.get().status == "active"


def test_r_reg_7_team_admin_reviews_applicants_who_chose_the_team_only(vapp, make_user):
    """issue 11 point 18: an applicant may choose a team; that team's admin sees and approves the
    application (the team then gets the join application); another team's admin sees nothing."""
    review_setting(vapp, True)
    t1 = make_team(vapp)
    make_team(vapp, name="都府社区党员志愿服务队", admin="dufu_admin")
    c = vapp.test_client()
    page = c.get("/register").get_data(as_text=True)
    assert 'name="team"' in page
    assert register(c, team=str(t1)).status_code == 201
    assert register(vapp.test_client(), team="999999", id_number=ID_M, name="王五",
                    phone="13800001111").status_code == 400
    from plugins.volunteers.models import Application, Volunteer
    with vapp.app_context():
        a = Application.get()
        assert a.team_id == t1
    other = vapp.test_client()
    assert login(other, "dufu_admin").status_code == 302
    assert number(1) not in other.get("/admin/volunteers_application/").get_data(as_text=True)
    assert other.get(f"/admin/volunteers_application/edit/?id={a.id}").status_code == 404
    mine = vapp.test_client()
    assert login(mine, "xihu_admin").status_code == 302
    from core.models import Message, User
    with vapp.app_context():
        def told(name):
            return Message.select().join(User, on=(Message.recipient == User.id)).where(
                (User.username == name) & (Message.category == "volunteers.application")).count()
        assert (told("xihu_admin"), told("dufu_admin")) == (1, 0)
    assert number(1) in mine.get("/admin/volunteers_application/").get_data(as_text=True)
    r = post_form(mine, f"/admin/volunteers_application/edit/?id={a.id}", {"status": "approved", "reason": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[-600:]
    from plugins.teams.models import Membership
    with vapp.app_context():
        assert Volunteer.get().status == "active"
        m = Membership.get()
        assert (m.team_id, m.status) == (t1, "pending")
