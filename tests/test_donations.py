"""Donations and campaigns (issue 5 point 4; R-TB-3, R-TB-4; SECURITY.md LG1–LG4, CC3–CC5, AC5, AC6):
a donation is one ledger transfer that shows on both statements; closed or expired campaigns,
missing points and bad input are refused with nothing written; one volunteer's concurrent donations
never overdraw; raised points are used only by their team and never beyond what the campaign holds;
a replayed key returns the first result; ``ledger.verify()`` stays empty throughout."""
from __future__ import annotations

import datetime as _dt
import io
import threading

import pytest

from conftest import PASSWORD, csrf_from, login
from fixtures.activities_plugins.actsupport import username_of
from fixtures.ledger_support import TABLES, ledger_site, new_team, snapshot, volunteers

ALL_TABLES = TABLES + ("donations_donation", "donations_refund", "donations_spend", "donations_campaign",
                       "donations_beneficiary")


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch, "donations")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    v1, v2 = volunteers(app, 401, 2)
    return {"app": app, "teams": (ta, tb), "v": (v1, v2)}


def _user(app, username, *roles):
    from core.models import User
    from core.security import grant_role, hash_password
    with app.app_context():
        u = User.get_or_none(User.username == username)
        if u is None:
            u = User.create(username=username, password_hash=hash_password(PASSWORD))
            for r in roles:
                grant_role(u, r)
        return u


def _give(app, vid, points, record_id=None):
    """Points through the ledger's own entry point (confirmed hours, 1 h = 1 point)."""
    from plugins.ledger import services as L
    with app.app_context():
        L.credit_hours(record_id=record_id or 10_000 + vid, volunteer_id=vid, kind="service", minutes=points * 60,
                       version=1)


def _campaign(app, team_id, *, goal=100, days=10, open_=True, title="长者饭堂爱心餐积分募集"):
    from core.db import today
    from plugins.donations import services as D
    from plugins.teams.models import Team
    with app.app_context():
        c = D.create_campaign(Team.get_by_id(team_id), title=title, purpose="申请兑换长者饭堂爱心餐",
                              goal=goal, deadline=today() + _dt.timedelta(days=days))
        if open_:
            c = D.open_campaign(c)
        return c.id


def _beneficiary(app, team_id, name="西湖社区张阿姨"):
    from plugins.donations import services as D
    from plugins.teams.models import Team
    with app.app_context():
        return D.create_beneficiary(Team.get_by_id(team_id), name=name, category="elderly",
                                    description="行动不便，需要上门送餐").id


def _get(app, model, pk):
    with app.app_context():
        return model.get_by_id(pk)


def _balance(app, code):
    from plugins.ledger.models import Account
    with app.app_context():
        return Account.select(Account.balance).where(Account.code == code).scalar() or 0


def _problems(app):
    """The ledger's own checks and this plugin's agreement with the ledger."""
    from plugins.donations import services as D
    from plugins.ledger import services as L
    with app.app_context():
        return [(p.check, p.ref, p.detail) for p in L.verify()] + D.verify()


# ----------------------------------------------------------------- both statements (R-TB-3, R-TB-4)
def test_r_tb_3_a_donation_shows_on_the_volunteers_and_the_campaigns_statement(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid = _campaign(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign, Donation
    from plugins.ledger import services as L
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        t = D.donate_to_campaign(Volunteer.get_by_id(v1), Campaign.get_by_id(cid), 3, message="一点心意")
        assert (t.kind, t.amount, t.reference, t.replayed) == ("donation", 3, f"campaign:{cid}", False)
        assert t.donation.transfer_id == t.id and Donation.select().count() == 1
        mine = L.statement(L.volunteer_account(v1))
        assert (mine[0]["amount"], mine[0]["other_name"], mine[0]["kind"], mine[0]["reason"]) == (
            -3, "长者饭堂爱心餐积分募集", "donation", "一点心意")
        theirs = L.statement(L.find_account("campaign", cid))
        v = Volunteer.get_by_id(v1)
        assert [(r["amount"], r["other_name"], r["tid"]) for r in theirs] == [(3, f"{v.name}（{v.number}）", t.id)]
        assert D.statement(Campaign.get_by_id(cid))[0]["tid"] == t.id
        fig = D.progress([Campaign.get_by_id(cid)])[cid]
        assert (fig["raised"], fig["donors"], fig["percent"], fig["held"]) == (3, 1, 3, 3)
    assert (_balance(app, f"volunteer:{v1}"), _balance(app, f"campaign:{cid}")) == (7, 3)
    assert _problems(app) == []


def test_r_tb_3_a_donation_to_a_person_in_need_shows_on_both_statements_and_the_team_uses_it(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 5)
    bid = _beneficiary(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Beneficiary
    from plugins.ledger import services as L
    ta_admin = _user(app, "ta")
    with app.app_context():
        t = D.donate_to_beneficiary(v1, Beneficiary.get_by_id(bid), 4, message="给张阿姨")
        assert (t.amount, t.reference) == (4, f"beneficiary:{bid}")
        assert L.statement(L.volunteer_account(v1))[0]["other_name"] == "西湖社区张阿姨"
        assert L.statement(L.find_account("beneficiary", bid))[0]["amount"] == 4
        s = D.use_beneficiary_points(Beneficiary.get_by_id(bid), 3, purpose="兑换上门送餐 3 次", actor=ta_admin)
        assert (s.kind, s.amount, s.spend.purpose) == ("redemption", 3, "兑换上门送餐 3 次")
        assert D.held(Beneficiary.get_by_id(bid)) == 1
    assert _problems(app) == []


# ----------------------------------------------------------------- refusals, nothing written (CC5)
def test_closed_expired_and_draft_campaigns_refuse_donations_with_nothing_written(site, monkeypatch):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    draft = _campaign(app, ta, open_=False, title="草稿募集")
    closed = _campaign(app, ta, title="已结束募集")
    expiring = _campaign(app, ta, days=0, title="今天截止募集")
    from core.db import today
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    with app.app_context():
        D.close_campaign(Campaign.get_by_id(closed))
        D.donate_to_campaign(v1, Campaign.get_by_id(expiring), 1)   # the deadline day itself is still open
    before = snapshot(app, ALL_TABLES)
    tomorrow = today() + _dt.timedelta(days=1)
    monkeypatch.setattr(D, "today", lambda: tomorrow)
    with app.app_context():
        for cid, msg in ((draft, "not raising"), (closed, "not raising"), (expiring, "deadline has passed")):
            with pytest.raises(D.DonationError, match=msg):
                D.donate_to_campaign(v1, Campaign.get_by_id(cid), 1)
    assert snapshot(app, ALL_TABLES) == before
    with app.app_context():          # the periodic task closes it; the points raised stay for use
        assert D.close_expired() == 1 and D.close_expired() == 0
        c = Campaign.get_by_id(expiring)
        assert (c.status, c.close_reason, D.held(c)) == ("closed", "deadline", 1)
        from core.models import AuditLog
        assert AuditLog.select().where((AuditLog.action == "donations.campaign.closed")
                                       & (AuditLog.object_id == str(expiring))).exists()
    assert _problems(app) == []


@pytest.mark.parametrize("points, msg", [(0, "at least 1"), (-2, "at least 1"), ("-2", "at least 1"),
                                         (1.5, "whole number"), ("2.5", "whole number"), ("abc", "whole number"),
                                         (True, "whole number"), (None, "whole number"), (11, "Not enough points"),
                                         (10**12, "At most")])
def test_bad_amounts_and_missing_points_are_refused_with_nothing_written(site, points, msg):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid = _campaign(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    before = snapshot(app, ALL_TABLES)
    with app.app_context(), pytest.raises(D.DonationError, match=msg):
        D.donate_to_campaign(v1, Campaign.get_by_id(cid), points)
    assert snapshot(app, ALL_TABLES) == before


def test_only_active_volunteers_donate_and_only_to_active_people(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid, bid = _campaign(app, ta), _beneficiary(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Beneficiary, Campaign
    user = _user(app, "boss", "platform_admin")
    before = snapshot(app, ALL_TABLES)
    with app.app_context():
        for donor in (None, user, 999_999, "401"):
            with pytest.raises(D.DonationError, match="Only registered volunteers"):
                D.donate_to_campaign(donor, Campaign.get_by_id(cid), 1)
        D.update_beneficiary(Beneficiary.get_by_id(bid), active=False, actor=user)
        with pytest.raises(D.DonationError, match="no longer receives"):
            D.donate_to_beneficiary(v1, Beneficiary.get_by_id(bid), 1)
        with pytest.raises(D.DonationError, match="200 characters"):
            D.donate_to_campaign(v1, Campaign.get_by_id(cid), 1, message="长" * 201)
    after = snapshot(app, ALL_TABLES)
    assert {t: after[t] for t in ALL_TABLES if t != "donations_beneficiary"} == \
        {t: before[t] for t in ALL_TABLES if t != "donations_beneficiary"}


def test_a_failure_after_the_donation_in_the_same_transaction_leaves_nothing(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid = _campaign(app, ta)
    from core.db import transaction
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    before = snapshot(app, ALL_TABLES)
    with app.app_context(), pytest.raises(RuntimeError):
        with transaction():
            D.donate_to_campaign(v1, Campaign.get_by_id(cid), 2)
            raise RuntimeError("the caller's next step failed")
    assert snapshot(app, ALL_TABLES) == before


# ----------------------------------------------------------------- idempotency (LG4)
def test_lg4_a_replayed_key_returns_the_first_donation_even_after_the_campaign_closed(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid = _campaign(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign, Donation
    with app.app_context():
        c = Campaign.get_by_id(cid)
        first = D.donate_to_campaign(v1, c, 4, key="form-token-1", message="第一次", anonymous=True)
        again = D.donate_to_campaign(v1, c, 4, key="form-token-1", message="第一次", anonymous=True)
        assert (again.id, again.replayed, again.donation.id) == (first.id, True, first.donation.id)
        with pytest.raises(D.DonationError, match="already used"):
            D.donate_to_campaign(v1, c, 5, key="form-token-1")
        # another volunteer's identical token is another donation, not a collision
        _give(app, v2, 4)
        other = D.donate_to_campaign(v2, c, 4, key="form-token-1")
        assert other.id != first.id
        D.close_campaign(c)
        late = D.donate_to_campaign(v1, Campaign.get_by_id(cid), 4, key="form-token-1")
        assert late.id == first.id and late.replayed
        assert Donation.select().count() == 2
    assert (_balance(app, f"volunteer:{v1}"), _balance(app, f"campaign:{cid}")) == (6, 8)
    assert _problems(app) == []


# ----------------------------------------------------------------- concurrency (LG3, CC3)
def test_cc3_concurrent_donations_from_one_volunteer_never_overdraw(site):
    """16 threads each give 3 of 10 points at once (to a campaign and a person): exactly 3 succeed."""
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid, bid = _campaign(app, ta), _beneficiary(app, ta)
    from core.db import db
    from plugins.donations import services as D
    from plugins.donations.models import Beneficiary, Campaign, Donation
    ok, refused, errors = [], [], []
    n = 16
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            with app.app_context():
                c, b = Campaign.get_by_id(cid), Beneficiary.get_by_id(bid)
                barrier.wait()
                try:
                    if i % 2:
                        ok.append(D.donate_to_campaign(v1, c, 3, key=f"race-{i}").id)
                    else:
                        ok.append(D.donate_to_beneficiary(v1, b, 3, key=f"race-{i}").id)
                except D.DonationError:
                    refused.append(i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert (len(ok), len(refused)) == (3, n - 3)
    assert _balance(app, f"volunteer:{v1}") == 1
    assert _balance(app, f"campaign:{cid}") + _balance(app, f"beneficiary:{bid}") == 9
    with app.app_context():
        assert Donation.select().count() == 3
    assert _problems(app) == []


# ----------------------------------------------------------------- using the raised points (R-TB-4)
def test_r_tb_4_using_campaign_points_debits_the_campaign_and_cannot_exceed_it(site):
    app, (ta, tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    _give(app, v2, 10)
    cid = _campaign(app, ta, goal=15)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign, Spend
    from plugins.ledger import services as L
    ta_admin, tb_admin = _user(app, "ta"), _user(app, "tb")
    with app.app_context():
        D.donate_to_campaign(v1, Campaign.get_by_id(cid), 6)
        D.donate_to_campaign(v2, Campaign.get_by_id(cid), 6)
    before = snapshot(app, ALL_TABLES)
    with app.app_context():
        c = Campaign.get_by_id(cid)
        with pytest.raises(D.DonationError, match="another team"):
            D.use_campaign_points(c, 5, purpose="别的队想用", actor=tb_admin)          # AC6
        with pytest.raises(D.DonationError, match="required"):
            D.use_campaign_points(c, 5, purpose="  ", actor=ta_admin)
        with pytest.raises(D.DonationError, match="Not enough points"):
            D.use_campaign_points(c, 13, purpose="超出", actor=ta_admin)
    assert snapshot(app, ALL_TABLES) == before
    with app.app_context():
        c = Campaign.get_by_id(cid)
        t = D.use_campaign_points(c, 10, purpose="兑换长者饭堂爱心餐 10 份", actor=ta_admin, key="use-1")
        assert (t.kind, t.amount, t.debit.code, t.credit.code) == ("campaign_spend", 10, f"campaign:{cid}",
                                                                  "system:redemption")
        assert D.use_campaign_points(c, 10, purpose="兑换长者饭堂爱心餐 10 份", actor=ta_admin, key="use-1").id == t.id
        assert Spend.select().count() == 1
        D.close_campaign(c, actor=ta_admin)
        t2 = D.use_campaign_points(Campaign.get_by_id(cid), 2, purpose="余下的积分", actor=ta_admin)
        with pytest.raises(D.DonationError, match="Not enough points"):
            D.use_campaign_points(Campaign.get_by_id(cid), 1, purpose="没有了", actor=ta_admin)
        st = L.statement(L.find_account("campaign", cid))
        assert [r["amount"] for r in st] == [-2, -10, 6, 6] and st[0]["tid"] == t2.id
        fig = D.progress([Campaign.get_by_id(cid)])[cid]
        assert (fig["raised"], fig["spent"], fig["held"], fig["donors"]) == (12, 12, 0, 2)
        from core.models import AuditLog
        assert AuditLog.select().where(AuditLog.action == "donations.campaign_points_used").count() == 2
    assert _balance(app, f"campaign:{cid}") == 0
    assert _problems(app) == []


def test_a_platform_admin_refunds_a_donation_once_and_not_after_its_points_were_used(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    _give(app, v2, 10)
    cid = _campaign(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    boss, ta_admin = _user(app, "boss", "platform_admin"), _user(app, "ta")
    with app.app_context():
        t1 = D.donate_to_campaign(v1, Campaign.get_by_id(cid), 5)
        t2 = D.donate_to_campaign(v2, Campaign.get_by_id(cid), 5)
        with pytest.raises(D.DonationError, match="another team"):      # team admins cannot refund
            D.refund_donation(t1, reason="捐错了", actor=ta_admin)
        with pytest.raises(D.DonationError, match="required"):
            D.refund_donation(t1, reason="", actor=boss)
        r = D.refund_donation(t1, reason="志愿者捐错了募集", actor=boss)
        assert (r.kind, r.amount, r.reverses_id, r.refund.reason) == ("reversal", 5, t1.id, "志愿者捐错了募集")
        assert D.refund_donation(t1.donation, reason="again", actor=boss).id == r.id      # once
        assert D.raised(Campaign.get_by_id(cid)) == 5
        D.use_campaign_points(Campaign.get_by_id(cid), 5, purpose="用完", actor=ta_admin)
        with pytest.raises(D.DonationError, match="used already"):
            D.refund_donation(t2, reason="太迟了", actor=boss)
        with pytest.raises(D.DonationError, match="not a donation"):
            D.refund_donation(r, reason="x", actor=boss)
    assert (_balance(app, f"volunteer:{v1}"), _balance(app, f"volunteer:{v2}")) == (10, 5)
    assert _problems(app) == []


# ----------------------------------------------------------------- campaign life cycle
def test_campaign_terms_are_checked_and_fixed_once_open_and_only_empty_campaigns_are_cancelled(site):
    app, (ta, tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    from core.db import today
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.teams.models import Team
    tb_admin, ta_admin = _user(app, "tb"), _user(app, "ta")
    with app.app_context():
        team = Team.get_by_id(ta)
        with pytest.raises(D.DonationError) as e:
            D.create_campaign(team, title="", purpose="", goal=0, deadline="2020-01-01")
        assert set(e.value.errors) == {"title", "purpose", "goal", "deadline"}
        with pytest.raises(D.DonationError, match="another team"):
            D.create_campaign(team, title="越权", purpose="x", goal=5, deadline=today(), actor=tb_admin)
        c = D.create_campaign(team, title="募集", purpose="用途", goal="50", deadline=today().isoformat(), actor=ta_admin)
        assert (c.status, c.goal, c.created_by) == ("draft", 50, ta_admin.id)
        c = D.update_campaign(c, goal=60, actor=ta_admin)
        c = D.open_campaign(c, actor=ta_admin)
        assert (c.status, c.account_code) == ("open", f"campaign:{c.id}")
        with pytest.raises(D.DonationError, match="Only a draft"):
            D.update_campaign(c, goal=70, actor=ta_admin)
        with pytest.raises(D.DonationError, match="another team"):
            D.close_campaign(c, actor=tb_admin)
    _give(app, v1, 3)
    with app.app_context():
        D.donate_to_campaign(v1, Campaign.get_by_id(c.id), 2)
        with pytest.raises(D.DonationError, match="refund them"):
            D.cancel_campaign(Campaign.get_by_id(c.id), reason="不办了", actor=ta_admin)
        other = D.create_campaign(team, title="另一个", purpose="用途", goal=5, deadline=today())
        assert D.cancel_campaign(other, reason="重复了", actor=ta_admin).status == "cancelled"
        with pytest.raises(D.DonationError, match="not raising"):
            D.donate_to_campaign(v1, Campaign.get_by_id(other.id), 1)
        from core.models import AuditLog
        actions = {a for (a,) in AuditLog.select(AuditLog.action).where(AuditLog.action.startswith("donations."))
                   .tuples()}
        assert {"donations.campaign.created", "donations.campaign.updated", "donations.campaign.opened",
                "donations.campaign.cancelled", "donations.donated"} <= actions


# ----------------------------------------------------------------- screens (AC5, AC6)
def test_a_volunteer_donates_through_the_form_once_even_when_it_is_sent_twice(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    cid = _campaign(app, ta)
    c = app.test_client()
    assert c.get(f"/donations/campaigns/{cid}/donate").status_code == 302      # login first
    login(c, username_of(app, v1))
    page = c.get(f"/donations/campaigns/{cid}/donate")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'id="balance">10<' in html
    import re
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    data = {"csrf_token": csrf_from(html), "token": token, "points": "4", "message": "<b>加油</b>", "anonymous": "1"}
    assert c.post(f"/donations/campaigns/{cid}/donate", data={k: v for k, v in data.items() if k != "csrf_token"}
                  ).status_code == 400                                          # AC5: no CSRF token
    r1 = c.post(f"/donations/campaigns/{cid}/donate", data=data)
    r2 = c.post(f"/donations/campaigns/{cid}/donate", data=data)                # the double click
    assert r1.status_code == r2.status_code == 302 and r1.headers["Location"] == r2.headers["Location"]
    done = c.get(r1.headers["Location"]).get_data(as_text=True)
    assert 'id="amount">4<' in done and 'id="balance">6<' in done
    bad = c.post(f"/donations/campaigns/{cid}/donate", data=dict(data, token="f" * 32, points="99"))
    assert bad.status_code == 400 and "Not enough points" in bad.get_data(as_text=True)
    assert _balance(app, f"volunteer:{v1}") == 6
    mine = c.get("/points/me").get_data(as_text=True)
    assert "长者饭堂爱心餐积分募集" in mine and "&lt;b&gt;加油&lt;/b&gt;" in mine
    panel = c.get("/me").get_data(as_text=True)
    assert "Points I donated: <strong>4</strong>" in panel
    # another volunteer sees the public page: anonymous donor hidden, named donor masked
    _give(app, v2, 5)
    c2 = app.test_client()
    login(c2, username_of(app, v2))
    html = c2.get(f"/donations/campaigns/{cid}/donate").get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    c2.post(f"/donations/campaigns/{cid}/donate", data={"csrf_token": csrf_from(html), "token": token, "points": "2"})
    from plugins.volunteers.models import Volunteer
    n1, n2 = _get(app, Volunteer, v1).name, _get(app, Volunteer, v2).name
    public = app.test_client().get(f"/donations/campaigns/{cid}").get_data(as_text=True)
    assert 'id="raised">6<' in public and 'id="donors">2<' in public
    assert "Anonymous" in public and n1 not in public and n2 not in public
    from core.pii import mask_name
    assert mask_name(n2) in public
    assert c.get(r1.headers["Location"]).status_code == 200 and c2.get(r1.headers["Location"]).status_code == 404
    assert "长者饭堂爱心餐积分募集" in app.test_client().get("/donations/").get_data(as_text=True)
    assert _problems(app) == []


def test_volunteers_see_the_people_in_need_and_donate_to_them(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 3)
    bid = _beneficiary(app, ta)
    hidden = _beneficiary(app, ta, name="已停止的受助人")
    from plugins.donations import services as D
    from plugins.donations.models import Beneficiary
    with app.app_context():
        D.update_beneficiary(Beneficiary.get_by_id(hidden), active=False)
    assert app.test_client().get("/donations/beneficiaries").status_code == 302
    boss = app.test_client()
    _user(app, "boss", "platform_admin")
    login(boss, "boss")
    assert boss.get("/donations/beneficiaries").status_code == 403             # not a volunteer
    c = app.test_client()
    login(c, username_of(app, v1))
    page = c.get("/donations/beneficiaries").get_data(as_text=True)
    assert "西湖社区张阿姨" in page and "已停止的受助人" not in page
    assert c.get(f"/donations/beneficiaries/{hidden}/donate").status_code == 404
    html = c.get(f"/donations/beneficiaries/{bid}/donate").get_data(as_text=True)
    import re
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    r = c.post(f"/donations/beneficiaries/{bid}/donate",
               data={"csrf_token": csrf_from(html), "token": token, "points": "3"})
    assert r.status_code == 302
    assert (_balance(app, f"volunteer:{v1}"), _balance(app, f"beneficiary:{bid}")) == (0, 3)
    assert "西湖社区张阿姨" in c.get("/points/me").get_data(as_text=True)


def test_ac6_team_admins_see_and_use_only_their_own_campaigns_and_people(site):
    app, (ta, tb), (v1, v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    ca, cb = _campaign(app, ta, title="阳光募集"), _campaign(app, tb, title="星火募集")
    ba, bb = _beneficiary(app, ta, name="阳光受助人"), _beneficiary(app, tb, name="星火受助人")
    from plugins.donations import services as D
    from plugins.donations.models import Beneficiary, Campaign, Donation
    with app.app_context():
        D.donate_to_campaign(v1, Campaign.get_by_id(ca), 2)
        D.donate_to_campaign(v1, Campaign.get_by_id(cb), 3)
        D.donate_to_beneficiary(v1, Beneficiary.get_by_id(bb), 1)
        db_id = Donation.get(Donation.campaign == cb).id
    c = app.test_client()
    login(c, "ta")
    page = c.get("/admin/donations_campaign/").get_data(as_text=True)
    assert "阳光募集" in page and "星火募集" not in page
    assert "阳光受助人" in c.get("/admin/donations_beneficiary/").get_data(as_text=True)
    assert "星火受助人" not in c.get("/admin/donations_beneficiary/").get_data(as_text=True)
    donations = c.get("/admin/donations_donation/").get_data(as_text=True)
    assert f"#{db_id}" not in donations
    for url in (f"/admin/donations_campaign/details/?id={cb}", f"/admin/donations_campaign/edit/?id={cb}",
                f"/admin/donations_campaign/export.xlsx?id={cb}", f"/admin/donations_beneficiary/details/?id={bb}",
                f"/admin/donations_donation/details/?id={db_id}"):
        assert c.get(url).status_code in (403, 404), url
    mine = c.get(f"/admin/donations_campaign/details/?id={ca}").get_data(as_text=True)
    assert "阳光募集" in mine and 'id="raised">2<' in mine
    csrf = csrf_from(mine)
    for url, data in ((f"/admin/donations_campaign/use/", {"id": cb, "points": 1, "purpose": "x"}),
                      (f"/admin/donations_campaign/status/", {"id": cb, "op": "close"}),
                      (f"/admin/donations_beneficiary/use/", {"id": bb, "points": 1, "purpose": "x"}),
                      (f"/admin/donations_donation/refund/", {"id": db_id, "reason": "x"})):
        assert c.post(url, data=dict(data, csrf_token=csrf)).status_code in (403, 404), url
    r = c.post("/admin/donations_campaign/action/", data={"action": "close", "rowid": [str(cb)], "csrf_token": csrf})
    assert r.status_code in (302, 200)
    with app.app_context():
        assert Campaign.get_by_id(cb).status == "open"
    assert _balance(app, f"campaign:{cb}") == 3 and _balance(app, f"beneficiary:{bb}") == 1
    # their own: use points and close through the admin
    c.post("/admin/donations_campaign/use/", data={"id": ca, "points": 2, "purpose": "申请物资", "token": "t1",
                                                   "csrf_token": csrf})
    c.post("/admin/donations_campaign/status/", data={"id": ca, "op": "close", "csrf_token": csrf})
    with app.app_context():
        assert Campaign.get_by_id(ca).status == "closed"
    assert _balance(app, f"campaign:{ca}") == 0
    # team admins cannot create for another team (the picker offers only their own)
    html = c.get("/admin/donations_campaign/new/").get_data(as_text=True)
    assert "阳光志愿服务队" in html and "星火志愿服务队" not in html
    c.post("/admin/donations_campaign/new/", data={"team": tb, "title": "越权募集", "purpose": "x", "goal": "5",
                                                   "deadline": "2099-01-01", "csrf_token": csrf})
    with app.app_context():
        assert not Campaign.select().where(Campaign.title == "越权募集").exists()
    assert _problems(app) == []


def test_admins_create_open_and_export_a_campaign_and_the_platform_refunds(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 10)
    c = app.test_client()
    login(c, "ta")
    csrf = csrf_from(c.get("/admin/donations_campaign/new/").get_data(as_text=True))
    r = c.post("/admin/donations_campaign/new/", data={"team": ta, "title": "社区图书角积分募集",
                                                       "purpose": "申请图书 100 册", "goal": "80",
                                                       "deadline": "2099-12-31", "csrf_token": csrf})
    assert r.status_code == 302
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    with app.app_context():
        cid = Campaign.get(Campaign.title == "社区图书角积分募集").id
    c.post("/admin/donations_campaign/status/", data={"id": cid, "op": "open", "csrf_token": csrf})
    with app.app_context():
        assert Campaign.get_by_id(cid).status == "open"
        t = D.donate_to_campaign(v1, Campaign.get_by_id(cid), 3, message="=HYPERLINK(\"x\")", anonymous=True)
    from plugins.volunteers.models import Volunteer
    name = _get(app, Volunteer, v1).name
    details = c.get(f"/admin/donations_campaign/details/?id={cid}").get_data(as_text=True)
    assert name in details                                          # the team's admins see who gave
    r = c.get(f"/admin/donations_campaign/export.xlsx?id={cid}")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    from openpyxl import load_workbook
    values = [v for row in load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True) for v in row if v]
    assert name in values and 3 in values and "'=HYPERLINK(\"x\")" in values       # IV8
    boss = app.test_client()
    _user(app, "boss", "platform_admin")
    login(boss, "boss")
    page = boss.get(f"/admin/donations_donation/details/?id={t.donation.id}").get_data(as_text=True)
    assert "Refund this donation" in page
    boss.post("/admin/donations_donation/refund/", data={"id": t.donation.id, "reason": "捐错了",
                                                         "csrf_token": csrf_from(page)})
    assert _balance(app, f"volunteer:{v1}") == 10
    assert "捐错了" in boss.get(f"/admin/donations_donation/details/?id={t.donation.id}").get_data(as_text=True)
    from core.models import AuditLog
    with app.app_context():
        assert {"donations.campaign.exported", "donations.refunded"} <= {
            a for (a,) in AuditLog.select(AuditLog.action).tuples()}
    assert _problems(app) == []


def test_the_dashboard_and_the_menu_show_open_campaigns(site):
    app, (ta, _tb), _v = site["app"], site["teams"], site["v"]
    _campaign(app, ta, title="看板上的募集")
    c = app.test_client()
    login(c, "ta")
    assert "看板上的募集" in c.get("/admin/").get_data(as_text=True)
    assert "/donations/" in app.test_client().get("/donations/").get_data(as_text=True)


def test_timebank_check_finds_a_ledger_donation_without_its_record(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 5)
    cid = _campaign(app, ta)
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    from plugins.ledger import services as L
    with app.app_context():
        D.donate_to_campaign(v1, Campaign.get_by_id(cid), 2)

    def checks():
        with app.app_context():
            return {n: (ok, m) for group in app.extensions["timebank"].pm.hook.site_checks() for n, ok, m in group}
    assert checks()["donations.integrity"][0] is True
    with app.app_context():   # a plugin posting a "donation" behind this plugin's back
        t = L.post("donation", L.volunteer_account(v1), L.find_account("campaign", cid), 1, key="stray",
                   reference=f"campaign:{cid}")
    ok, msg = checks()["donations.integrity"]
    assert not ok and f"transfer {t.id}" in msg and "donation_missing" in msg


AC6_REQUESTS = [
    ("GET", "/admin/donations_campaign/details/?id={cb}", None),
    ("GET", "/admin/donations_campaign/edit/?id={cb}", None),
    ("POST", "/admin/donations_campaign/edit/?id={cb}", {"title": "改掉", "purpose": "x", "goal": "9"}),
    ("GET", "/admin/donations_campaign/export.xlsx?id={cb}", None),
    ("GET", "/admin/donations_campaign/export.csv?id={cb}", None),
    ("POST", "/admin/donations_campaign/use/", {"id": "{cb}", "points": "1", "purpose": "x"}),
    ("POST", "/admin/donations_campaign/status/", {"id": "{cb}", "op": "close"}),
    ("POST", "/admin/donations_campaign/status/", {"id": "{cb}", "op": "cancel", "reason": "x"}),
    ("POST", "/admin/donations_campaign/action/", {"action": "close", "rowid": "{cb}"}),
    ("GET", "/admin/donations_beneficiary/details/?id={bb}", None),
    ("GET", "/admin/donations_beneficiary/edit/?id={bb}", None),
    ("POST", "/admin/donations_beneficiary/edit/?id={bb}", {"name": "改名", "category": "other"}),
    ("POST", "/admin/donations_beneficiary/use/", {"id": "{bb}", "points": "1", "purpose": "x"}),
    ("GET", "/admin/donations_donation/details/?id={db}", None),
    ("POST", "/admin/donations_donation/refund/", {"id": "{db}", "reason": "x"}),
]


@pytest.mark.parametrize("method, url, data", AC6_REQUESTS, ids=[f"{m} {u}" for m, u, _d in AC6_REQUESTS])
def test_ac6_matrix_another_teams_campaigns_people_and_donations(site, method, url, data):
    """Team A's admin reaches nothing of team B's by URL: 403/404 (or the list without it) and no change."""
    app, (ta, tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    _give(app, v1, 5)
    cb, bb = _campaign(app, tb, title="星火募集"), _beneficiary(app, tb, name="星火受助人")
    from plugins.donations import services as D
    from plugins.donations.models import Campaign
    with app.app_context():
        db_id = D.donate_to_campaign(v1, Campaign.get_by_id(cb), 2).donation.id
    ids = {"cb": cb, "bb": bb, "db": db_id}
    c = app.test_client()
    login(c, "ta")
    csrf = csrf_from(c.get("/admin/donations_campaign/").get_data(as_text=True))
    before = snapshot(app, ALL_TABLES)
    if method == "GET":
        r = c.get(url.format(**ids))
        assert r.status_code in (403, 404)
    else:
        form = {k: v.format(**ids) for k, v in data.items()}
        r = c.post(url.format(**ids), data=dict(form, csrf_token=csrf))
        assert r.status_code in (302, 403, 404)
        if r.status_code == 302:   # the bulk action: out-of-scope ids are dropped
            assert "/admin/donations_campaign/" in r.headers["Location"]
    assert "星火" not in r.get_data(as_text=True)
    assert snapshot(app, ALL_TABLES) == before
