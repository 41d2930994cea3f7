"""The time bank ledger, hardened (issue 11 points 11 and 12; R-TB-1, R-TB-5, SECURITY.md LG5, LG6).

Point 11: ``timebank ledger sync`` chose the accounts to settle by comparing minted points with hours,
so with ``points_per_hour`` ≠ 1 (or training hours converting) points held back by the cap were never
released, and the exchange's settle fallback ("the hourly sync catches up") did not hold.
Point 12: ``ledger.transfer_posted`` is announced for every transfer, also in batches over 100."""
from __future__ import annotations

import pytest

from fixtures.activities_plugins.actsupport import PLUGIN_DIR
from fixtures.ledger_support import ledger_site, new_team, serve, set_setting, volunteers


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch, "fx_ledger_listener", PLUGIN_PATHS=[str(PLUGIN_DIR)])
    team = new_team(app, "阳光志愿服务队", admin="ta")
    return app, team


@pytest.mark.parametrize("pph,kind", [(1, "service"), (2, "service"), (3, "service"), (1, "training"),
                                      (2, "training")])
def test_r_tb_1_lg5_ledger_sync_releases_points_the_cap_held_whatever_points_per_hour(site, pph, kind):
    """issue 11 point 11: ten confirmed hours at ``pph`` points an hour under a cap 4 points short;
    after 6 points are spent, `timebank ledger sync` releases the 4 held points. Failed before for
    pph 2 and 3 (minted ≥ hours, so never selected) and for training hours (only service minutes
    were compared)."""
    app, team = site
    from plugins.ledger import services as L
    (v1,) = volunteers(app, 601, 1, account=False)
    cap = 10 * pph - 4
    set_setting(app, "ledger.points_per_hour", pph)
    set_setting(app, "ledger.volunteer_cap", cap)
    set_setting(app, "ledger.convert_training", "true")
    serve(app, team, {v1: 600}, hours=10, kind=kind)
    with app.app_context():
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.minted, L.withheld(acct)) == (cap, cap, 4)
        # spent through the ledger itself: no exchange around to settle at once
        L.post("redemption", acct, L.system_account("redemption"), 6, key="t-spend")
    r = app.test_cli_runner().invoke(args=["ledger", "sync"])
    assert r.exit_code == 0 and "points released: 4" in r.output, r.output
    with app.app_context():
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.minted, L.withheld(acct)) == (cap - 2, cap + 4, 0)
        assert L.verify() == []
        # hours × points_per_hour = minted + held, and a second sync finds nothing to release
        assert 10 * pph == acct.minted + L.withheld(acct)
    r = app.test_cli_runner().invoke(args=["ledger", "sync"])
    assert "points released: 0" in r.output


def test_r_tb_1_ledger_sync_leaves_held_points_while_the_cap_is_full(site):
    """issue 11 point 11: the selection also respects the cap — a full account is not settled."""
    app, team = site
    from plugins.ledger import services as L
    (v1,) = volunteers(app, 611, 1, account=False)
    set_setting(app, "ledger.points_per_hour", 3)
    set_setting(app, "ledger.volunteer_cap", 20)
    serve(app, team, {v1: 600}, hours=10)
    with app.app_context():
        assert [o for (o,) in L.held_back_accounts().tuples()] == []
        assert L.sync_hours()["released"] == 0
        acct = L.volunteer_account(v1)
        assert (acct.balance, L.withheld(acct)) == (20, 10)
    set_setting(app, "ledger.volunteer_cap", 0)   # the cap lifted: the next sync pays everything
    with app.app_context():
        assert [o for (o,) in L.held_back_accounts().tuples()] == [v1]
        assert L.sync_hours()["released"] == 10
        assert L.volunteer_account(v1).balance == 30 and L.verify() == []


def test_r_tb_5_transfer_posted_is_announced_for_every_transfer_of_any_batch(site):
    """issue 11 point 12: the event is documented "for every transfer"; a batch of more than 100
    transfers (the catch-up, a bulk load) announced none. Now 150 transfers in one batch are 150
    events, after the commit, with the transfers' ids, kinds, accounts and amounts."""
    app, _team = site
    from fx_ledger_listener import heard
    from plugins.ledger import services as L
    from plugins.ledger.models import Account, Transfer
    vols = volunteers(app, 621, 3, account=False)
    items = [{"record_id": 70_000 + i, "volunteer_id": vols[i % 3], "kind": "service", "minutes": 60,
              "version": 1, "team_id": None} for i in range(150)]
    with app.app_context():
        r = L.credit_hours_batch(items)
        assert r["transfers"] == 150
        codes = {a.id: a.code for a in Account.select()}
        written = [(t.id, t.kind, codes[t.debit_id], codes[t.credit_id], t.amount)
                   for t in Transfer.select().order_by(Transfer.id)]
        assert heard() == written and len(written) == 150
        # a replayed batch writes nothing and announces nothing
        assert L.credit_hours_batch([dict(i) for i in items])["transfers"] == 0
        assert len(heard()) == 150
        # a single post is announced too, once
        L.post("redemption", L.volunteer_account(vols[0]), L.system_account("redemption"), 5, key="t-x")
        L.post("redemption", L.volunteer_account(vols[0]), L.system_account("redemption"), 5, key="t-x")
        assert len(heard()) == 151 and heard()[-1][1:] == ("redemption", f"volunteer:{vols[0]}",
                                                          "system:redemption", 5)


def test_r_tb_5_a_batch_that_rolls_back_announces_nothing(site):
    """issue 11 point 12: events follow the commit — a batch refused midway (a bad volunteer id)
    writes nothing and announces nothing."""
    app, _team = site
    from fx_ledger_listener import heard
    from plugins.ledger import services as L
    (v1,) = volunteers(app, 631, 1, account=False)
    items = [{"record_id": 80_000 + i, "volunteer_id": v1, "kind": "service", "minutes": 60, "version": 1}
             for i in range(120)] + [{"record_id": 80_999, "volunteer_id": 999_999, "kind": "service",
                                      "minutes": 60, "version": 1}]
    with app.app_context():
        with pytest.raises(Exception):
            L.credit_hours_batch(items)
        assert heard() == [] and L.volunteer_account(v1).balance == 0
