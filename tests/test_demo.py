"""Demo data (issue 3 point 7): ``timebank init --demo`` on a fresh instance, twice.

The demo loads once per site; it holds a few districts' teams with sub-teams, approved, each with a
team-admin account whose password is in the instance folder (mode 600); a few hundred volunteers
whose fake ID numbers pass the real validation (IV1, IV3) and who are adults (R-REG-4); Party members
and activists with the separate consent (PR3) and the pledge (R-REG-6); approved and pending
memberships (R-TEAM-2) and the four positions rated A–D (R-TEAM-5). Runs on SQLite or, with
TIMEBANK_TEST_DATABASE_URL, PostgreSQL.
"""
from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from conftest import csrf_from, database_url
from core import create_app
from core.pii import age_on, id_birth_date, id_gender, validate_id


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """One fresh instance, ``timebank init --demo`` run twice; the tests only read it."""
    tmp = tmp_path_factory.mktemp("demo")
    inst = tmp / "instance"
    url = database_url(tmp)
    env = {"TIMEBANK_INSTANCE_PATH": str(inst), "TIMEBANK_DATABASE_URL": url}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    from core.cli import main
    runs = [CliRunner().invoke(main, ["init", "--demo"], env=env, catch_exceptions=False) for _ in range(2)]
    app = create_app({"INSTANCE_PATH": str(inst), "DATABASE_URL": url, "TESTING": True})
    yield {"app": app, "runs": runs, "inst": inst}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def test_init_demo_twice_loads_the_demo_once(demo_site):
    first, second = demo_site["runs"]
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "demo_beijingjie" in first.output and "demo_beijingjie" not in second.output
    from plugins.teams.demo import TEAMS
    from plugins.teams.models import Membership, Team
    from plugins.volunteers.demo import DEMO_COUNT, NAME_PREFIX
    from plugins.volunteers.models import Volunteer
    with demo_site["app"].app_context():
        assert Volunteer.select().where(Volunteer.name.startswith(NAME_PREFIX)).count() == DEMO_COUNT
        assert Team.select().count() == len(TEAMS)
        assert Membership.select().count() == Membership.select(Membership.volunteer).distinct().count()


def test_demo_teams_tree_approved_with_admins(demo_site):
    from core.models import User, UserRole
    from plugins.teams import services
    from plugins.teams.models import Position, Team
    with demo_site["app"].app_context():
        teams = {t.name: t for t in Team.select()}
        bj = teams["越秀区·北京街党员志愿服务队"]
        assert {t.name for t in bj.children} == {"北京街·西湖社区党员志愿服务分队", "北京街·都府社区党员志愿服务分队"}
        assert set(services.tree_ids(bj)) == {bj.id} | {t.id for t in bj.children}
        ws = teams["天河区·五山街党员志愿服务队"]
        assert [t.name for t in ws.children] == ["五山街·华工社区党员志愿服务分队"]
        assert "海珠区·南华西街党员志愿服务队" in teams
        assert all(t.status == "approved" and services.can_publish(t) for t in teams.values())
        assert {t.district for t in teams.values()} == {"越秀区", "天河区", "海珠区"}
        # one team-admin account per team, scoped to it
        scopes = {r.scope for r in UserRole.select().where(UserRole.role == "team_admin")}
        assert {f"team:{t.id}" for t in teams.values()} <= scopes
        # members: approved ones and a few still waiting; the big teams count as 队伍 (≥ 10)
        assert services.member_count(bj) >= 10 and services.is_squad(bj)
        assert services.members(bj, status="pending").count() >= 1
        # the four positions rated A–D (R-TEAM-5), held by members
        ratings = {(p.kind, p.rating) for p in Position.select().where(Position.team == bj)}
        assert ratings == {("admin", "A"), ("publicity", "B"), ("logistics", "C"), ("planning", "D")}
        assert all(p.holder_id for p in Position.select())
        assert User.select().where(User.username == "demo_xihu").exists()
    f = demo_site["inst"] / "demo_accounts.txt"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    lines = [ln.split("\t") for ln in f.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(teams)  # written once, by the first run
    # the written password logs the team admin in, and they see their own team, not the others
    creds = {u: p for u, p, _t in lines}
    c = demo_site["app"].test_client()
    page = c.get("/login").get_data(as_text=True)
    r = c.post("/login", data={"username": "demo_xihu", "password": creds["demo_xihu"],
                               "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    listing = c.get("/admin/teams_team/").get_data(as_text=True)
    assert "西湖社区" in listing and "五山街" not in listing


def test_demo_volunteers_are_valid_fake_adults(demo_site):
    from plugins.volunteers.demo import DEMO_REMARK, NAME_PREFIX
    from plugins.volunteers.models import Volunteer
    from plugins.volunteers.services import find_by_id_number
    with demo_site["app"].app_context():
        vols = list(Volunteer.select().where(Volunteer.name.startswith(NAME_PREFIX)))
        assert len(vols) >= 200
        for v in vols:
            assert validate_id("cn_id", v.id_number) == v.id_number           # IV1
            assert id_gender(v.id_number) == v.gender                          # IV3
            assert id_birth_date(v.id_number) == v.birth_date
            assert age_on(v.birth_date) >= 18                                  # R-REG-4
            assert v.phone.startswith("1380") and v.remarks == DEMO_REMARK
            assert v.agreement_accepted_at is not None
        assert len({v.id_number for v in vols}) == len(vols)
        assert len({v.number for v in vols}) == len(vols)
        party = [v for v in vols if v.political_status in ("中共党员", "中共预备党员")]
        track = [v for v in vols if v.political_status in ("入党积极分子", "发展对象")]
        assert party and track
        assert all(v.sensitive_consent_at and v.pledge_accepted_at for v in party)   # PR3, R-REG-6
        assert all(v.sensitive_consent_at for v in track)
        assert all(v.sensitive_consent_at is None for v in vols if not v.political_status)
        assert find_by_id_number("cn_id", vols[0].id_number).id == vols[0].id  # blind index works
        # every region code is a real one (validate_id checks it), and several districts appear
        assert len({v.district for v in vols}) >= 5


def test_demo_activities_and_points(demo_site):
    """The demo holds published activities and a training to sign up for, and one activity per team
    that took place, with hours confirmed and credited as points (R-ACT-1, R-ACT-8, R-TB-1)."""
    from plugins.activities.demo import PAST_TITLE
    from plugins.activities.models import Activity, ServiceRecord
    from plugins.ledger import services as L
    from plugins.ledger.models import Account
    with demo_site["app"].app_context():
        assert Activity.select().where((Activity.status == "published") & (Activity.kind == "service")).count() >= 6
        assert Activity.select().where((Activity.status == "published") & (Activity.kind == "training")).exists()
        past = list(Activity.select().where(Activity.title == PAST_TITLE))
        assert len(past) == 3 and all(a.status == "closed" for a in past)
        minutes = sum(r.minutes for r in ServiceRecord.select())
        assert minutes > 0
        held = sum(a.balance for a in Account.select().where(Account.kind == "volunteer"))
        assert held > 0 and held == -L.balance(L.system_account("issuance"))
        assert L.verify() == []
def test_demo_exchange_offers_items_of_demo_teams_and_the_platform(demo_site):
    """积分兑换 demo (R-TB-2): partners managed by demo teams (AC6 has something to scope) and one
    platform partner, each with items in stock."""
    from plugins.exchange.models import Item, Partner
    with demo_site["app"].app_context():
        teams = {p.name: (p.team.name if p.team_id else None) for p in Partner.select()}
        assert teams["北京街社区卫生服务站"] == "越秀区·北京街党员志愿服务队"
        assert teams["五山街爱心超市"] == "天河区·五山街党员志愿服务队"
        assert teams["广州公益时间银行"] is None
        items = list(Item.select())
        assert len(items) == 6 and all(i.stock > 0 and i.price > 0 and i.active for i in items)


def test_demo_certificates_issued_for_the_past_activity(demo_site):
    """R-CERT-1, LG7: the demo's past activity has numbered certificates; one application waits."""
    from plugins.certificates.models import Certificate
    with demo_site["app"].app_context():
        approved = list(Certificate.select().where(Certificate.status == "approved").order_by(Certificate.number))
        assert approved and all(c.number.startswith("ZM") for c in approved)
        assert Certificate.select().where(Certificate.status == "pending").count() == 1
