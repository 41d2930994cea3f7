"""The points ledger (issue 5 points 1, 2, 5, 6; R-TB-1, R-TB-5; SECURITY.md LG1–LG6, CC3, CC5, AC6):
confirmed hours become points once through the activities event, corrections post the difference,
transfers are double-entry, append-only and idempotent, and ``timebank ledger verify`` finds drift."""
from __future__ import annotations

import threading

import pytest

from fixtures.ledger_support import TABLES, ledger_site, new_team, serve, set_setting, snapshot, volunteers
from conftest import csrf_from, login


@pytest.fixture
def site(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch)
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    tb = new_team(app, "星火志愿服务队", admin="tb")
    v1, v2 = volunteers(app, 301, 2)
    return {"app": app, "teams": (ta, tb), "v": (v1, v2)}


def _acct(app, vid):
    from plugins.ledger import services as L
    with app.app_context():
        return L.volunteer_account(vid)


def _problems(app):
    from plugins.ledger import services as L
    with app.app_context():
        return [(p.check, p.ref) for p in L.verify()]


# ----------------------------------------------------------------- hours → points (R-TB-1, LG4, LG5)
def test_r_tb_1_confirmed_hours_become_points_once_even_when_the_event_is_replayed(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    aid, recs = serve(app, ta, {v1: 120, v2: 90})
    a1, a2 = _acct(app, v1), _acct(app, v2)
    assert (a1.balance, a1.service_minutes) == (2, 120)
    assert (a2.balance, a2.service_minutes) == (1, 90)      # whole points; the 30 minutes carry over
    from plugins.activities.services import HoursConfirmed
    from plugins.ledger import services as L
    from plugins.ledger.models import HoursCredit, Transfer
    before = snapshot(app)
    with app.app_context():
        for _ in range(3):   # the event delivered again (a retry, a second worker): nothing moves
            L.on_hours_confirmed(HoursConfirmed(record_id=recs[v1], volunteer_id=v1, team_id=ta, activity_id=aid,
                                                minutes=120, delta_minutes=120, version=1,
                                                idempotency_key=f"service_record:{recs[v1]}:v1"))
        L.sync_hours()
    assert snapshot(app) == before
    with app.app_context():
        t = Transfer.get(Transfer.idempotency_key == f"service_record:{recs[v1]}:v1")
        assert (t.kind, t.amount, t.debit.code, t.credit.code) == ("hours", 2, "system:issuance", f"volunteer:{v1}")
        assert HoursCredit.select().count() == 2
    assert _problems(app) == []


def test_r_tb_1_a_later_correction_posts_the_difference_as_a_new_transfer(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    aid, recs = serve(app, ta, {v1: 90, v2: 240})
    from plugins.activities import services as s
    from plugins.activities.models import Activity, ServiceRecord
    from plugins.ledger.models import Transfer
    with app.app_context():
        a = Activity.get_by_id(aid)
        sid1, sid2 = (ServiceRecord.get_by_id(recs[v]).signup_id for v in (v1, v2))
        s.confirm_hours(a, {sid1: 150, sid2: 60}, reasons={sid1: "补录签退", sid2: "提前离开"})
    a1, a2 = _acct(app, v1), _acct(app, v2)
    assert (a1.balance, a1.service_minutes, a1.minted) == (2, 150, 2)
    assert (a2.balance, a2.service_minutes, a2.minted) == (1, 60, 1)
    with app.app_context():
        up = Transfer.get(Transfer.idempotency_key == f"service_record:{recs[v1]}:v2")
        down = Transfer.get(Transfer.idempotency_key == f"service_record:{recs[v2]}:v2")
        assert (up.kind, up.amount, up.credit.code) == ("hours", 1, f"volunteer:{v1}")
        assert (down.kind, down.amount, down.debit.code) == ("hours_correction", 3, f"volunteer:{v2}")
        # nothing was edited: the first transfers are still there as they were
        assert Transfer.get(Transfer.idempotency_key == f"service_record:{recs[v2]}:v1").amount == 4
    assert _problems(app) == []


def test_r_tb_1_an_older_version_arriving_late_changes_nothing(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    from plugins.ledger import services as L
    with app.app_context():
        L.credit_hours(record_id=9001, volunteer_id=v1, kind="service", minutes=180, version=2, team_id=ta)
        L.credit_hours(record_id=9001, volunteer_id=v1, kind="service", minutes=60, version=1, team_id=ta)
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.service_minutes) == (3, 180)


def test_r_act_6_training_hours_are_recorded_apart_and_convert_only_when_the_setting_says_so(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120}, kind="training")
    a1 = _acct(app, v1)
    assert (a1.balance, a1.training_minutes, a1.service_minutes) == (0, 120, 0)
    set_setting(app, "ledger.convert_training", "true")
    serve(app, ta, {v2: 120}, kind="training")
    assert _acct(app, v2).balance == 2
    assert _problems(app) == []


def test_the_cap_holds_points_back_until_there_is_room(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    set_setting(app, "ledger.volunteer_cap", 3)
    serve(app, ta, {v1: 300})
    from plugins.ledger import services as L
    with app.app_context():
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.minted, L.withheld(acct)) == (3, 3, 2)
        L.post("redemption", acct, L.system_account("redemption"), 2, key="t-spend")
        assert L.settle(v1) == 2
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.minted, L.withheld(acct)) == (3, 5, 0)
    assert _problems(app) == []


def test_a_reduction_of_hours_after_the_points_were_spent_takes_back_only_what_is_left(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    from plugins.ledger import services as L
    with app.app_context():
        L.credit_hours(record_id=77, volunteer_id=v1, kind="service", minutes=300, version=1, team_id=ta)
        acct = L.volunteer_account(v1)
        L.post("redemption", acct, L.system_account("redemption"), 4, key="t-spend-4")
        L.credit_hours(record_id=77, volunteer_id=v1, kind="service", minutes=60, version=2, team_id=ta)
        acct = L.volunteer_account(v1)
        # 4 points were due back, only 1 was left: it is taken, the other 3 stay owed instead of the
        # balance going negative, and the next hours pay them off first
        assert (acct.balance, acct.minted, L.withheld(acct), acct.service_minutes) == (0, 4, -3, 60)
        L.credit_hours(record_id=78, volunteer_id=v1, kind="service", minutes=240, version=1, team_id=ta)
        acct = L.volunteer_account(v1)
        assert (acct.balance, acct.minted, L.withheld(acct)) == (1, 5, 0)
    assert _problems(app) == []


# ----------------------------------------------------------------- transfers (LG1–LG4, CC5)
def test_lg2_lg3_lg4_transfers_are_double_entry_idempotent_and_never_overdraw(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 300})
    from plugins.ledger import services as L
    from plugins.ledger.models import Entry
    with app.app_context():
        a1, a2 = L.volunteer_account(v1), L.volunteer_account(v2)
        t = L.post("donation", a1, a2, 3, key="gift-1", reason="帮助邻居")
        assert [(e.account_id, e.amount, e.balance_after) for e in Entry.select().where(Entry.transfer == t)
                .order_by(Entry.id)] == [(a1.id, -3, 2), (a2.id, 3, 3)]
        again = L.post("donation", a1, a2, 3, key="gift-1", reason="帮助邻居")
        assert again.id == t.id and again.replayed
        before = snapshot(app)
        for bad, msg in ((lambda: L.post("donation", a1, a2, 2, key="gift-1"), "already used"),
                         (lambda: L.post("donation", a1, a2, 3, key="gift-2"), "Not enough points"),
                         (lambda: L.post("donation", a1, a2, 0, key="gift-3"), "greater than zero"),
                         (lambda: L.post("donation", a1, a2, 1.5, key="gift-4"), "whole numbers"),
                         (lambda: L.post("donation", a1, a1, 1, key="gift-5"), "same account"),
                         (lambda: L.post("donation", a1, a2, 1, key=""), "idempotency key")):
            with pytest.raises(L.LedgerError, match=msg):
                bad()
        assert snapshot(app) == before
        assert (L.balance(a1), L.balance(a2)) == (2, 3)


def test_lg3_the_database_itself_refuses_a_negative_volunteer_balance(site):
    app, _teams, (v1, _v2) = site["app"], site["teams"], site["v"]
    from core.db import db, transaction
    from plugins.ledger import services as L
    from plugins.ledger.models import Account
    with app.app_context():
        acct = L.volunteer_account(v1)
        with pytest.raises(Exception):
            with transaction():
                Account.update(balance=-1).where(Account.id == acct.id).execute()
        db.rollback() if db.in_transaction() else None
        assert L.balance(acct) == 0


@pytest.mark.parametrize("table", ["ledger_transfer", "ledger_entry", "ledger_hours_credit"])
def test_lg1_ledger_rows_cannot_be_updated_or_deleted(site, table):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 60})
    from core.db import db, transaction
    with app.app_context():
        for sql in (f'UPDATE "{table}" SET id = id', f'DELETE FROM "{table}"'):
            with pytest.raises(Exception, match="append-only"):
                with transaction():
                    db.execute_sql(sql)
    assert _acct(app, v1).balance == 1


def test_cc5_a_failure_after_the_transfer_leaves_nothing_behind(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120})
    from core.db import transaction
    from plugins.ledger import services as L
    with app.app_context():
        a1, a2 = L.volunteer_account(v1), L.volunteer_account(v2)
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                L.post("donation", a1, a2, 1, key="half-done")
                raise RuntimeError("the caller's next step failed")
    assert snapshot(app) == before


def test_lg1_a_reversal_points_to_the_original_once(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 240})
    from plugins.ledger import services as L
    from plugins.ledger.models import Transfer
    with app.app_context():
        a1, a2 = L.volunteer_account(v1), L.volunteer_account(v2)
        t = L.post("donation", a1, a2, 3, key="gift-r")
        with pytest.raises(L.LedgerError, match="reason"):
            L.reverse(t, reason=" ")
        r = L.reverse(t, reason="捐错了人")
        assert (r.kind, r.amount, r.debit_id, r.credit_id, r.reverses_id) == ("reversal", 3, a2.id, a1.id, t.id)
        assert L.reverse(t, reason="捐错了人").id == r.id                       # replay: the same reversal
        with pytest.raises(L.LedgerError, match="reversed already"):
            L.reverse(t, reason="again", key="other-key")
        with pytest.raises(L.LedgerError, match="cannot be reversed"):
            L.reverse(r, reason="undo the undo")
        hours = Transfer.get(Transfer.kind == "hours")
        with pytest.raises(L.LedgerError, match="correct the hours"):
            L.reverse(hours, reason="no")
        assert (L.balance(a1), L.balance(a2)) == (4, 0)
    assert _problems(app) == []


def test_lg7_counters_are_sequential_under_concurrency(site):
    app = site["app"]
    from core.db import db
    from plugins.ledger import services as L
    got, errors = [], []

    def worker():
        try:
            with app.app_context():
                for _ in range(5):
                    got.append(L.next_number("receipt"))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == list(range(1, 41))


def test_lg3_cc3_concurrent_debits_never_overdraw(site):
    """20 threads each try to spend 3 of 10 points at once: exactly 3 succeed, on both databases."""
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    from plugins.ledger import services as L
    with app.app_context():
        L.credit_hours(record_id=5, volunteer_id=v1, kind="service", minutes=600, version=1, team_id=ta)
    from core.db import db
    ok, refused, errors = [], [], []
    barrier = threading.Barrier(20)

    def worker(i):
        try:
            with app.app_context():
                acct, sink = L.volunteer_account(v1), L.system_account("redemption")
                barrier.wait()
                try:
                    ok.append(L.post("redemption", acct, sink, 3, key=f"race-{i}").id)
                except L.LedgerError:
                    refused.append(i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            if not db.is_closed():
                db.close()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert (len(ok), len(refused)) == (3, 17)
    assert _acct(app, v1).balance == 1
    assert _problems(app) == []


# ----------------------------------------------------------------- verify and sync (LG5, LG6)
def test_lg6_verify_names_the_rows_that_drift_and_the_command_exits_non_zero(site):
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120})
    runner = app.test_cli_runner()
    r = runner.invoke(args=["ledger", "verify"])
    assert r.exit_code == 0 and "ledger OK" in r.output
    from core.db import transaction
    from plugins.ledger.models import Account
    with app.app_context(), transaction():   # someone edits a balance behind the ledger's back
        Account.update(balance=Account.balance + 5).where(Account.code == f"volunteer:{v1}").execute()
    r = runner.invoke(args=["ledger", "verify"])
    assert r.exit_code == 1
    assert f"volunteer:{v1}" in r.output and "stored 7, entries sum to 2" in r.output
    assert "zero_sum" in r.output
    from core.plugins import PluginError  # noqa: F401 - timebank check reports it too
    with app.app_context():
        checks = [c for group in app.extensions["timebank"].pm.hook.site_checks() for c in group]
        assert ("ledger.integrity", False) in [(n, ok) for n, ok, _m in checks]


def test_lg5_records_confirmed_before_the_ledger_was_enabled_are_credited_by_sync(make_app, monkeypatch):
    from fixtures.activities_plugins.actsupport import PLUGINS, quick_hashing
    quick_hashing(monkeypatch)
    app = make_app(plugins=PLUGINS, DEFAULT_LOCALE="en")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    (v1,) = volunteers(app, 311, 1)
    serve(app, ta, {v1: 180})
    app = make_app(plugins=PLUGINS + ["ledger"], DEFAULT_LOCALE="en")
    assert ("unsynced", ) == tuple({c for c, _r in _problems(app) if c == "unsynced"})
    r = app.test_cli_runner().invoke(args=["ledger", "sync"])
    assert r.exit_code == 0 and "credited: 1" in r.output
    assert _acct(app, v1).balance == 3
    assert _problems(app) == []
    r = app.test_cli_runner().invoke(args=["ledger", "sync"])   # again: nothing more
    assert "credited: 0" in r.output and _acct(app, v1).balance == 3


# ----------------------------------------------------------------- screens (point 6, AC6, LG1)
def test_volunteer_sees_their_points_and_exports_the_statement(site):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    client = app.test_client()
    serve(app, ta, {v1: 150})
    from plugins.ledger import services as L
    with app.app_context():
        L.post("donation", L.volunteer_account(v1), L.volunteer_account(v2), 1, key="gift-s", reason="邻里互助")
    from fixtures.activities_plugins.actsupport import username_of
    login(client, username_of(app, v1))
    page = client.get("/points/me").get_data(as_text=True)
    assert 'id="points">1<' in page and "2.5" in page and "邻里互助" in page
    r = client.get("/points/me/statement.xlsx")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    import io

    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert -1 in values and 2 in values and "邻里互助" in values
    csv_text = client.get("/points/me/statement.csv").data.decode("utf-8-sig")
    assert "邻里互助" in csv_text and ",-1," in csv_text
    assert client.get("/points/me?from=2026-13-01").status_code == 400
    assert client.get("/points/me/statement.pdf").status_code == 404


def test_ac6_team_admin_sees_only_their_own_team_tree_in_the_ledger(site, make_user):
    app, (ta, tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120})
    serve(app, tb, {v2: 60})
    from plugins.ledger import services as L
    from plugins.teams import services as ts
    from plugins.teams.models import Team
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        m = ts.apply_to_join(Volunteer.get_by_id(v1), Team.get_by_id(ta))
        ts.decide_memberships([m], approve=True)
        L.team_account(ta), L.team_account(tb)
        t_b = L.credit_hours(record_id=8888, volunteer_id=v2, kind="service", minutes=60, version=1, team_id=tb)
        other_transfer = t_b.transfer_id
    c = app.test_client()
    login(c, "ta")
    page = c.get("/admin/ledger_account/").get_data(as_text=True)
    assert f"volunteer:{v1}" in page and f"team:{ta}" in page
    assert f"volunteer:{v2}" not in page and f"team:{tb}" not in page
    assert c.get(f"/admin/ledger_transfer/details/?id={other_transfer}").status_code in (302, 403, 404)
    totals = c.get("/admin/ledger_totals/?period=year").get_data(as_text=True)
    assert "阳光志愿服务队" in totals and "星火志愿服务队" not in totals
    # read-only for everyone: no create, edit or delete screens (LG1)
    for url in ("/admin/ledger_transfer/new/", f"/admin/ledger_transfer/edit/?id={other_transfer}"):
        assert c.get(url).status_code in (302, 403, 404)
    csrf = csrf_from(c.get("/admin/ledger_account/").get_data(as_text=True))
    r = c.post("/admin/ledger_transfer/reverse/", data={"id": other_transfer, "reason": "x", "csrf_token": csrf})
    assert r.status_code == 403


def test_platform_admin_reverses_a_transfer_with_a_reason_in_the_admin(site, make_user):
    app, (ta, _tb), (v1, v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120})
    from plugins.ledger import services as L
    with app.app_context():
        t = L.post("donation", L.volunteer_account(v1), L.volunteer_account(v2), 2, key="gift-admin")
    make_user("boss", "platform_admin")
    c = app.test_client()
    login(c, "boss")
    page = c.get(f"/admin/ledger_transfer/details/?id={t.id}").get_data(as_text=True)
    assert "Reverse this transfer" in page
    csrf = csrf_from(page)
    c.post("/admin/ledger_transfer/reverse/", data={"id": t.id, "reason": "", "csrf_token": csrf})
    assert _acct(app, v2).balance == 2                                  # no reason: nothing happened
    c.post("/admin/ledger_transfer/reverse/", data={"id": t.id, "reason": "捐赠对象填错", "csrf_token": csrf})
    assert (_acct(app, v1).balance, _acct(app, v2).balance) == (2, 0)
    page = c.get(f"/admin/ledger_transfer/details/?id={t.id}").get_data(as_text=True)
    assert "捐赠对象填错" in page and "Reverse this transfer" not in page
    from core.models import AuditLog
    with app.app_context():
        assert AuditLog.select().where((AuditLog.action == "ledger.reversed") & (AuditLog.object_id == str(t.id))).exists()
    r = c.get("/admin/ledger_totals/export.xlsx?period=month")
    assert r.status_code == 200 and r.data[:2] == b"PK"



def test_pr6_an_erased_volunteer_leaves_teams_and_posts_and_the_ledger_forgets_the_name(site):
    """R-PRIV / PR6: erasure reaches the other plugins through the volunteers.erased event: team
    memberships end, posts fall vacant, the points account keeps its history but not the name."""
    app, (ta, _tb), (v1, _v2) = site["app"], site["teams"], site["v"]
    serve(app, ta, {v1: 120})
    from plugins.ledger import services as L
    from plugins.teams import services as ts
    from plugins.teams.models import Membership, Position, Team
    from plugins.volunteers import services as vs
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        team = Team.get_by_id(ta)
        m = ts.apply_to_join(Volunteer.get_by_id(v1), team)
        ts.decide_memberships([m], approve=True)
        ts.set_position(team, "publicity", title="宣传推广", holder=Volunteer.get_by_id(v1))
        name = Volunteer.get_by_id(v1).name
        assert name in L.volunteer_account(v1).name
        vs.erase(Volunteer.get_by_id(v1), reason="request")
        assert Membership.get_by_id(m.id).status == "left"
        assert not Position.select().where(Position.holder == v1).exists()
        acct = L.volunteer_account(v1)
        assert name not in acct.name and "已注销" in acct.name and acct.balance == 2
        assert L.verify() == []
