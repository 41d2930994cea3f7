"""Property-based tests of the time bank (issue 5 point 5; SECURITY.md LG2–LG6, R-TB-5): random
sequences of hours credits, corrections, replays, redemptions, donations, reversals and settlements,
with the ledger's invariants checked after every step — ``verify()`` finds nothing, no balance is
negative or above the cap, every point is where a simple model of the same operations says it is,
and a replay changes nothing. Runs on SQLite and PostgreSQL (the real database, no mocks).

Issue 11 point 11 adds the settings dimension: each example draws its own ``points_per_hour`` and cap
(and may change the cap midway); confirmed hours × points_per_hour = minted + held, the balances sum
to zero, and ``sync_hours`` (the catch-up the exchange's settle fallback relies on) releases every
held point the cap has room for."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from fixtures.ledger_support import ledger_site, new_team, set_setting, snapshot, volunteers

STOCK = 12

POOL = 12
CAP = 40
RATES = st.integers(1, 5)                       # ledger.points_per_hour of one example
CAPS = st.sampled_from([0, 8, 25, 40, 120])     # ledger.volunteer_cap (0: no cap)


@pytest.fixture
def world(make_app, monkeypatch):
    app = ledger_site(make_app, monkeypatch, "exchange", "donations")
    team = new_team(app, "阳光志愿服务队", admin="ta")
    pool = volunteers(app, 401, POOL, account=False)
    set_setting(app, "ledger.volunteer_cap", CAP)
    set_setting(app, "ledger.redemption_threshold_hours", 0)
    return app, team, pool


def _machine(app, team, pool, vary: bool = False):
    """The state machine. With ``vary`` (the settings dimension of issue 11 point 11) each example
    draws its own ledger.points_per_hour and ledger.volunteer_cap (``RATES``, ``CAPS``), may change
    the cap midway and runs the catch-up (``sync_hours``) among its steps."""
    rates, caps = (RATES, CAPS) if vary else (st.just(1), st.just(CAP))
    # with vary, three new volunteers per example: its steps then meet the same books whenever
    # hypothesis replays them (a volunteer shared between examples could have another balance by
    # then, and hypothesis stops with "flaky data generation")
    picks = st.just(None) if vary else st.lists(st.sampled_from(pool), min_size=3, max_size=3, unique=True)
    import datetime as _dt

    from core.db import today
    from plugins.donations import services as D
    from plugins.exchange import services as X
    from plugins.exchange.models import Item, Redemption
    from plugins.ledger import services as L
    from plugins.ledger.models import Account, Transfer
    from plugins.teams.models import Team

    class Ledger(RuleBasedStateMachine):
        """One example: a few volunteers, a campaign-like account, the system accounts."""
        counter = [0]

        released_at_rates: set = set()   # points_per_hour of the examples where a sync released points
        stranded: list = []              # (points_per_hour, cap, balance, held) a sync left behind

        @initialize(picks=picks, pph=rates, cap=caps)
        def setup(self, picks, pph, cap):
            self.ctx = app.app_context()
            self.ctx.push()
            Ledger.counter[0] += 1
            self.run = Ledger.counter[0]
            self.vols = picks or volunteers(app, 5_000 + 3 * self.run, 3, account=False)
            self.pph, self.cap = pph, cap
            set_setting(app, "ledger.points_per_hour", pph)
            set_setting(app, "ledger.volunteer_cap", cap)
            self.accts = {v: L.volunteer_account(v).id for v in self.vols}
            # the minutes the volunteers had before this example (the pool is shared by the examples)
            self.base_minutes = {v: Account.get_by_id(a).service_minutes for v, a in self.accts.items()}
            self.sink = L.open_account("campaign", 10_000 + self.run, f"募集{self.run}", team_id=team).id
            self.redemption = L.system_account("redemption").id
            # the model: balances as they should be, from the state at the start of the example
            self.model = {a.id: a.balance for a in Account.select()}
            # the real exchange and donation services, with an item and an open campaign of this example
            partner = X.save_partner({"name": f"合作商户{self.run}", "team_id": team})
            self.item = X.save_item({"partner_id": partner.id, "name": f"理发服务{self.run}", "kind": "service",
                                     "price": 4, "stock": STOCK}).id
            self.placed: dict[int, int] = {}                      # redemption id -> quantity
            camp = D.create_campaign(Team.get_by_id(team), title=f"积分募集{self.run}", purpose="为困难长者兑换助餐服务",
                                     goal=500, deadline=today() + _dt.timedelta(days=30))
            self.campaign = D.open_campaign(camp)
            self.camp_acct = L.find_account("campaign", self.campaign.id).id
            self.model[self.camp_acct] = 0
            self.records: dict[int, tuple[int, int, int]] = {}    # record id -> (volunteer, version, minutes)
            self.events: list[dict] = []
            self.reversible: list[int] = []
            self.seq = 0
            if picks is None:   # new volunteers start with ten confirmed hours each
                for v in range(3):
                    self.confirm_new_record(v, 600)

        def _key(self, what):
            self.seq += 1
            return f"prop:{self.run}:{what}:{self.seq}"

        def _pull_hours(self, before):
            """Hours credits move points by rules the ledger owns (carry, cap, owed): take the moves
            from the database, and check they stay within those rules."""
            after = {a.id: a for a in Account.select().where(Account.id.in_(list(self.accts.values())))}
            for v, aid in self.accts.items():
                a = after[aid]
                moved = a.balance - before[aid]
                self.model[aid] = a.balance
                iss = L.system_account("issuance").id
                self.model[iss] = self.model.get(iss, 0) - moved
                assert 0 <= a.balance <= (max(self.cap, before[aid]) if self.cap else a.balance)

        def _minutes_of(self, v):
            """The volunteer's confirmed minutes by this machine's own count of its records."""
            return self.base_minutes[v] + sum(m for vid, _ver, m in self.records.values() if vid == v)

        def _balances(self):
            return {aid: Account.get_by_id(aid).balance for aid in self.accts.values()}

        # ------------------------------------------------------------- hours (R-TB-1)
        @rule(v=st.integers(0, 2), minutes=st.integers(0, 600))
        def confirm_new_record(self, v, minutes):
            vid = self.vols[v]
            rid = 1_000_000 * self.run + len(self.records) + 1
            before = self._balances()
            L.credit_hours(record_id=rid, volunteer_id=vid, kind="service", minutes=minutes, version=1, team_id=team)
            self.records[rid] = (vid, 1, minutes)
            self.events.append({"record_id": rid, "volunteer_id": vid, "kind": "service", "minutes": minutes,
                                "version": 1, "team_id": team})
            self._pull_hours(before)

        @precondition(lambda self: self.records)
        @rule(data=st.data(), minutes=st.integers(0, 600))
        def correct_record(self, data, minutes):
            rid = data.draw(st.sampled_from(sorted(self.records)))
            vid, ver, _old = self.records[rid]
            before = self._balances()
            L.credit_hours(record_id=rid, volunteer_id=vid, kind="service", minutes=minutes, version=ver + 1,
                           team_id=team)
            self.records[rid] = (vid, ver + 1, minutes)
            self.events.append({"record_id": rid, "volunteer_id": vid, "kind": "service", "minutes": minutes,
                                "version": ver + 1, "team_id": team})
            self._pull_hours(before)

        @precondition(lambda self: self.events)
        @rule(data=st.data(), batch=st.booleans())
        def replay_an_old_event(self, data, batch):
            """LG4: a delivered event (or a stale version) delivered again moves nothing."""
            ev = data.draw(st.sampled_from(self.events))
            before = snapshot(app)
            if batch:
                L.credit_hours_batch([dict(ev)])
            else:
                L.credit_hours(**ev)
            assert snapshot(app) == before

        @rule()
        def settle_everyone(self):
            before = self._balances()
            for v in self.vols:
                L.settle(v)
            self._pull_hours(before)

        # ------------------------------------------------------------- spending and giving (R-TB-2, 3)
        def _move(self, kind, debit, credit, amount):
            key = self._key(kind)
            have = self.model[debit]
            try:
                t = L.post(kind, Account.get_by_id(debit), Account.get_by_id(credit), amount, key=key)
            except L.LedgerError:
                assert have < amount, "refused although the balance was enough"
                return
            assert have >= amount, "an overdraft went through"
            self.model[debit] -= amount
            self.model[credit] = self.model.get(credit, 0) + amount
            self.reversible.append(t.id)
            again = L.post(kind, Account.get_by_id(debit), Account.get_by_id(credit), amount, key=key)
            assert again.id == t.id    # the replay returns the first transfer, moves nothing

        @rule(v=st.integers(0, 2), amount=st.integers(1, 30))
        def redeem(self, v, amount):
            self._move("redemption", self.accts[self.vols[v]], self.redemption, amount)

        @rule(v=st.integers(0, 2), w=st.integers(0, 2), amount=st.integers(1, 30))
        def donate_to_volunteer(self, v, w, amount):
            if v != w:
                self._move("donation", self.accts[self.vols[v]], self.accts[self.vols[w]], amount)

        @rule(v=st.integers(0, 2), amount=st.integers(1, 30))
        def donate_to_campaign(self, v, amount):
            self._move("donation", self.accts[self.vols[v]], self.sink, amount)

        def _settled_since(self, last_id):
            """Points the exchange released under the cap after it made room (ledger.settle)."""
            for t in Transfer.select().where((Transfer.id > last_id) & (Transfer.kind == "settlement")):
                self.model[t.credit_id] = self.model.get(t.credit_id, 0) + t.amount
                self.model[t.debit_id] = self.model.get(t.debit_id, 0) - t.amount

        @rule(v=st.integers(0, 2), q=st.integers(1, 3))
        def exchange_item(self, v, q):
            vid, aid = self.vols[v], self.accts[self.vols[v]]
            item = Item.get_by_id(self.item)
            last = Transfer.select(Transfer.id).order_by(Transfer.id.desc()).scalar() or 0
            have = self.model[aid]
            try:
                r = X.redeem(vid, self.item, q, key=self._key("x"))
            except X.ExchangeError:
                assert have < item.price * q or item.stock < q, "an exchange was refused without reason"
                return
            assert have >= item.price * q and item.stock >= q
            self.model[aid] -= r.points
            self.model[self.redemption] = self.model.get(self.redemption, 0) + r.points
            self.placed[r.id] = q
            self._settled_since(last)

        @precondition(lambda self: self.placed)
        @rule(data=st.data())
        def cancel_exchange(self, data):
            rid = data.draw(st.sampled_from(sorted(self.placed)))
            r = Redemption.get_by_id(rid)
            X.cancel(r, reason="随机取消")
            self.model[self.accts[r.volunteer_id]] += r.points
            self.model[self.redemption] -= r.points
            del self.placed[rid]
            X.cancel(Redemption.get_by_id(rid), reason="再次取消")    # a second cancel changes nothing

        @rule(v=st.integers(0, 2), amount=st.integers(1, 30))
        def donate_through_the_campaign_page(self, v, amount):
            vid, aid = self.vols[v], self.accts[self.vols[v]]
            have = self.model[aid]
            try:
                D.donate_to_campaign(vid, self.campaign, amount, key=self._key("d"))
            except D.DonationError:
                assert have < amount
                return
            assert have >= amount
            self.model[aid] -= amount
            self.model[self.camp_acct] += amount

        @precondition(lambda self: self.reversible)
        @rule(data=st.data())
        def reverse(self, data):
            tid = data.draw(st.sampled_from(self.reversible))
            t = Transfer.get_by_id(tid)
            if Transfer.select().where(Transfer.reverses == tid).exists():
                with pytest.raises(L.LedgerError):
                    L.reverse(t, reason="再次冲正", key=self._key("rev"))
                return
            holder = self.model[t.credit_id]
            try:
                r = L.reverse(t, reason="随机冲正")
            except L.LedgerError:
                assert holder < t.amount
                return
            assert holder >= t.amount
            self.model[t.credit_id] -= t.amount
            self.model[t.debit_id] += t.amount
            assert r.reverses_id == tid

        # ------------------------------------------------------------- invariants
        @invariant()
        def books_balance(self):
            if not hasattr(self, "ctx"):
                return
            assert L.verify() == []
            # LG2: every point minted is somewhere — the balances of all accounts sum to zero
            assert sum(a.balance for a in Account.select()) == 0
            # LG5: confirmed hours × points_per_hour = minted + held back (negative: owed)
            for v, aid in self.accts.items():
                a = Account.get_by_id(aid)
                assert a.service_minutes == self._minutes_of(v)
                assert (a.service_minutes // 60) * self.pph == a.minted + L.withheld(a)
            assert X.verify() == [] and D.verify() == []
            # stock never oversold: what is left plus what is placed is what was offered
            assert Item.get_by_id(self.item).stock == STOCK - sum(self.placed.values()) >= 0
            for a in Account.select().where(Account.id.in_(list(self.model))):
                assert a.balance == self.model[a.id], (a.code, a.balance, self.model[a.id])
                assert a.balance >= 0 or a.allow_negative

        def teardown(self):
            if hasattr(self, "ctx"):
                self.ctx.pop()

    class Varying(Ledger):
        """Ledger with the settings dimension: the cap changed midway, the catch-up among the steps."""

        @rule(cap=CAPS)
        def change_the_cap(self, cap):
            """A platform admin changes ledger.volunteer_cap: nothing moves until hours or a sync."""
            before = snapshot(app)
            set_setting(app, "ledger.volunteer_cap", cap)
            self.cap = cap
            assert snapshot(app) == before

        @rule()
        def sync(self):
            """The hourly catch-up (``timebank ledger sync``): every point the cap held back is released
            as far as the cap has room, whatever points_per_hour is (issue 11 point 11)."""
            last = Transfer.select(Transfer.id).order_by(Transfer.id.desc()).scalar() or 0
            r = L.sync_hours()
            self._settled_since(last)
            for aid in self.accts.values():
                a = Account.get_by_id(aid)
                # after a sync, points stay held only while the cap is full (collected and asserted
                # after the run: the examples share one database, so hypothesis cannot replay a
                # failing one and would only report "flaky")
                if L.withheld(a) > 0 and not (self.cap and a.balance >= self.cap):
                    Ledger.stranded.append((self.pph, self.cap, a.balance, L.withheld(a)))
            if r["released"]:
                Ledger.released_at_rates.add(self.pph)
            again = snapshot(app)
            assert L.sync_hours()["released"] == 0 and snapshot(app) == again   # a second sync moves nothing

    return Varying if vary else Ledger


def test_lg2_lg6_random_sequences_keep_every_ledger_invariant(world):
    app, team, pool = world
    machine = _machine(app, team, pool)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=20, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    from plugins.ledger.models import Transfer
    with app.app_context():   # the run exercised every kind of move, not only refusals
        kinds = {k for (k,) in Transfer.select(Transfer.kind).distinct().tuples()}
    assert {"hours", "hours_correction", "redemption", "donation", "reversal"} <= kinds
    from core.models import AuditLog
    with app.app_context():   # redemptions were placed and cancelled (a later step may cancel every one)
        done = {a for (a,) in AuditLog.select(AuditLog.action).distinct().tuples()}
    assert {"exchange.redeemed", "exchange.cancelled"} <= done


def test_lg2_lg5_lg6_random_points_per_hour_and_caps_keep_every_invariant_and_sync_releases_held_points(world):
    """issue 11 point 11: the same random sequences, each example with its own points_per_hour (1–5)
    and cap (none, 8 … 120), the cap changed midway, and ``sync_hours`` among the steps: hours ×
    points_per_hour = minted + held, balances sum to zero, verify() finds nothing, and a sync leaves
    points held only where the cap is full. Failed before: the sync compared minted points with hours,
    so with points_per_hour > 1 it left held points stranded under a cap with room."""
    app, team, pool = world
    machine = _machine(app, team, pool, vary=True)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=40, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    # (points_per_hour, cap, balance, points still held) after a sync with room under the cap
    assert machine.stranded == []
    from plugins.ledger.models import Transfer
    with app.app_context():
        kinds = {k for (k,) in Transfer.select(Transfer.kind).distinct().tuples()}
    assert {"hours", "settlement"} <= kinds, kinds
    # the catch-up released held points at rates other than 1 point an hour
    assert machine.released_at_rates - {1}, machine.released_at_rates


def test_lg5_a_batch_and_the_same_events_one_by_one_give_the_same_books(world, make_app):
    """The bulk path (catch-up, imports) and the event path apply the same rules."""
    import random
    app, team, pool = world
    from plugins.ledger import services as L
    from plugins.ledger.models import Account
    rnd = random.Random(5)
    events, versions = [], {}
    for i in range(300):
        if versions and rnd.random() < 0.3:
            rid = rnd.choice(sorted(versions))
            versions[rid] = (versions[rid][0], versions[rid][1] + 1)
        else:
            rid = 50_000 + i
            versions[rid] = (rnd.choice(pool[:6]), 1)
        vid, ver = versions[rid]
        events.append({"record_id": rid, "volunteer_id": vid, "kind": rnd.choice(["service", "service", "training"]),
                       "minutes": rnd.randint(0, 500), "version": ver, "team_id": team})
    # a late duplicate and a stale version in the stream
    events.append(dict(events[10]))
    with app.app_context():
        for ev in events:
            L.credit_hours(**ev)
        one_by_one = {a.owner_id: (a.balance, a.minted, a.service_minutes, a.training_minutes)
                      for a in Account.select().where(Account.kind == "volunteer")}
    shifted = [dict(ev, volunteer_id=pool[pool.index(ev["volunteer_id"]) + 6], record_id=ev["record_id"] + 100_000)
               for ev in events]
    with app.app_context():
        L.credit_hours_batch(shifted[:150])
        L.credit_hours_batch(shifted[150:])
        batched = {a.owner_id: (a.balance, a.minted, a.service_minutes, a.training_minutes)
                   for a in Account.select().where(Account.kind == "volunteer")}
        assert L.verify() == []
    for v in pool[:6]:
        assert one_by_one[v] == batched[pool[pool.index(v) + 6]]
