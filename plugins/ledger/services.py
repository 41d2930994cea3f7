"""The ledger's public API (R-TB-1…5, SECURITY.md LG1–LG7). Other plugins (exchange, donations, …)
move points only through ``post`` and ``reverse``; they never write the tables themselves.

    from plugins.ledger import services as ledger
    acct = ledger.volunteer_account(volunteer_id)
    ledger.post("redemption", acct, ledger.system_account("redemption"), 30,
                key=f"redemption:{order.id}", reason="…", operator=user)

Every write takes an idempotency key: replaying it returns the first transfer; the same key with
another payload is refused (LG4). Accounts are locked in id order for the transaction (CC3; SQLite's
BEGIN IMMEDIATE serialises writers already), so a debit can never take a balance below zero (LG3).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass

import peewee as pw
from flask_babel import lazy_gettext as _l
from flask_babel import gettext as _

from core.settings import PluginSettings
from core import audit, events
from core.db import for_update, now, transaction
from core.errors import FieldErrors

from .models import SYSTEM, Account, Entry, HoursCredit, Transfer

KIND_LABELS = {"hours": _l("Service hours credited"), "hours_correction": _l("Hours correction"),
               "settlement": _l("Points released under the cap"), "redemption": _l("Exchange"),
               "refund": _l("Exchange refund"), "donation": _l("Donation"),
               "campaign_spend": _l("Campaign points used"), "reversal": _l("Reversal"),
               "adjustment": _l("Adjustment")}


class LedgerError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written."""


@dataclass
class TransferPosted(events.Event):
    """A transfer was written (after its transaction committed)."""
    name = "ledger.transfer_posted"
    transfer_id: int = 0
    kind: str = ""
    debit: str = ""
    credit: str = ""
    amount: int = 0
    reverses_id: int | None = None


EVENTS = [TransferPosted]


# ---------------------------------------------------------------- settings
SETTINGS = PluginSettings(__file__)


def setting(key):
    """A site setting ``ledger.<key>`` over the manifest's default (core.settings)."""
    return SETTINGS.get(key)


# ---------------------------------------------------------------- accounts
def _get_or_open(code: str, **fields) -> Account:
    acct = Account.get_or_none(Account.code == code)
    if acct is not None:
        return acct
    with transaction():  # two requests opening the same account at once: one insert wins
        Account.insert(code=code, **fields).on_conflict_ignore().execute()
    return Account.get(Account.code == code)


def system_account(name: str) -> Account:
    """``issuance`` (its balance is minus every point ever minted) or ``redemption`` (points spent)."""
    if name not in SYSTEM:
        raise ValueError(f"unknown system account {name!r}")
    return _get_or_open(f"system:{name}", kind="system", name="", allow_negative=True)


def volunteer_account(volunteer) -> Account:
    """The volunteer's account (opened on first use). ``volunteer``: a Volunteer or its id."""
    from plugins.volunteers.models import Volunteer
    vid = getattr(volunteer, "id", volunteer)
    acct = Account.get_or_none(Account.code == f"volunteer:{vid}")
    if acct is not None:
        return acct
    v = volunteer if isinstance(volunteer, Volunteer) else Volunteer.get_by_id(vid)
    return _get_or_open(f"volunteer:{vid}", kind="volunteer", owner_id=vid, name=f"{v.name}（{v.number}）")


def team_account(team) -> Account:
    from plugins.teams.models import Team
    tid = getattr(team, "id", team)
    acct = Account.get_or_none(Account.code == f"team:{tid}")
    if acct is not None:
        return acct
    t = team if isinstance(team, Team) else Team.get_by_id(tid)
    return _get_or_open(f"team:{tid}", kind="team", owner_id=tid, team_id=tid, name=t.name)


def open_account(kind: str, owner_id: int, name: str, *, team_id: int | None = None) -> Account:
    """An account for another holder a plugin manages (``campaign``, ``beneficiary``)."""
    if kind not in ("campaign", "beneficiary"):
        raise ValueError(f"kind {kind!r}: use volunteer_account / team_account / system_account")
    return _get_or_open(f"{kind}:{owner_id}", kind=kind, owner_id=owner_id, team_id=team_id, name=name[:200])


def anonymise_volunteer(volunteer_id: int) -> None:
    """The volunteer's record was erased: their account keeps its balance and every transfer (the books
    must still add up) but no longer shows their name — only the volunteer number, which the
    erased record keeps."""
    from plugins.volunteers.models import Volunteer
    v = Volunteer.get_or_none(Volunteer.id == volunteer_id)
    label = f"已注销（{v.number}）" if v is not None else "已注销"
    Account.update(name=label).where(Account.code == f"volunteer:{volunteer_id}").execute()
    # free text on their transfers (a donor's message, a reason naming them) is blanked, which the
    # append-only triggers allow for ``reason`` alone (models.ERASABLE); amounts, keys, links and the
    # payload hashes stay, so ``timebank ledger verify`` passes as before
    acct = Account.get_or_none(Account.code == f"volunteer:{volunteer_id}")
    if acct is not None:
        (Transfer.update(reason="").where(((Transfer.debit == acct.id) | (Transfer.credit == acct.id))
                                          & (Transfer.reason != "")).execute())


def find_account(kind: str, owner_id: int) -> Account | None:
    return Account.get_or_none(Account.code == f"{kind}:{owner_id}")


def balance(account) -> int:
    """The stored balance: one indexed row read, whatever the length of the history."""
    from core.db import db
    if isinstance(account, Account):
        account = account.id
    row = db.execute_sql(_BALANCE_SQL[db.param], (int(account),)).fetchone()
    return row[0] if row else 0


_BALANCE_SQL = {p: f"SELECT balance FROM ledger_account WHERE id = {p}" for p in ("?", "%s")}


def _lock(ids) -> dict[int, Account]:
    ids = sorted(set(ids))
    rows = for_update(Account.select().where(Account.id.in_(ids)).order_by(Account.id))
    return {a.id: a for a in rows}


# ---------------------------------------------------------------- transfers
def _hash(kind, debit_id, credit_id, amount, reverses_id) -> str:
    return hashlib.sha256(json.dumps([kind, debit_id, credit_id, int(amount), reverses_id]).encode()).hexdigest()


def post(kind: str, debit: Account, credit: Account, amount: int, *, key: str, reason: str = "",
         operator=None, reference: str = "", reverses: Transfer | None = None) -> Transfer:
    """Move ``amount`` whole points from ``debit`` to ``credit`` in one transaction: the transfer, its
    two entries and both balances (LG2). Replaying ``key`` returns the first transfer; the same key
    with another payload, a non-positive or fractional amount, or a balance that would fall below
    zero (LG3) raise ``LedgerError`` and write nothing."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        if isinstance(amount, float) and amount.is_integer():
            amount = int(amount)
        else:
            raise LedgerError({"amount": _l("Points are whole numbers.")})
    if amount <= 0:
        raise LedgerError({"amount": _l("The number of points must be greater than zero.")})
    if debit.id == credit.id:
        raise LedgerError({"__all__": _l("Points cannot move to the same account.")})
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise LedgerError({"__all__": _l("Every ledger write needs an idempotency key.")})
    digest = _hash(kind, debit.id, credit.id, amount, getattr(reverses, "id", None))
    with transaction():
        locked = _lock([debit.id, credit.id])
        existing = Transfer.get_or_none(Transfer.idempotency_key == key)
        if existing is not None:
            if existing.payload_hash != digest:
                raise LedgerError({"__all__": _l("This request was already used for a different transfer.")})
            existing.replayed = True
            return existing
        d, c = locked[debit.id], locked[credit.id]
        if not d.allow_negative and d.balance < amount:
            raise LedgerError({"amount": _l("Not enough points: the balance is %(balance)s.", balance=d.balance)})
        t = Transfer.create(kind=kind, debit=d, credit=c, amount=amount, idempotency_key=key,
                            payload_hash=digest, reverses=reverses, operator_id=getattr(operator, "id", operator),
                            reason=(reason or "")[:2000], reference=(reference or "")[:100])
        at = t.created_at
        for acct, signed in ((d, -amount), (c, amount)):
            Account.update(balance=Account.balance + signed, entry_count=Account.entry_count + 1).where(
                Account.id == acct.id).execute()
            acct.balance += signed
            acct.entry_count += 1
            Entry.create(transfer=t, account=acct, amount=signed, balance_after=acct.balance, created_at=at)
        debit.balance, credit.balance = d.balance, c.balance
        ev = TransferPosted(transfer_id=t.id, kind=kind, debit=d.code, credit=c.code, amount=amount,
                            reverses_id=getattr(reverses, "id", None))
        if operator is not None:
            ev.actor_id = getattr(operator, "id", operator)
        events.emit(ev)
    t.replayed = False
    return t


def reverse(transfer: Transfer, *, reason: str, operator=None, key: str | None = None) -> Transfer:
    """Undo ``transfer`` with a transfer the other way that points to it (LG1). A transfer is reversed
    at most once; a reversal is not reversed again (post a new transfer instead). The account that
    got the points must still hold them."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError({"reason": _l("Give the reason of the reversal.")})
    if transfer.reverses_id is not None:
        raise LedgerError({"__all__": _l("A reversal cannot be reversed; post a new transfer instead.")})
    if transfer.kind in ("hours", "hours_correction", "settlement"):
        raise LedgerError({"__all__": _l("Points from hours follow the service record: correct the hours instead.")})
    key = key or f"reversal:{transfer.id}"
    with transaction():
        _lock([transfer.debit_id, transfer.credit_id])
        done = Transfer.get_or_none(Transfer.reverses == transfer.id)
        if done is not None:
            if done.idempotency_key == key:
                done.replayed = True
                return done
            raise LedgerError({"__all__": _l("This transfer was reversed already (#%(id)s).", id=done.id)})
        r = post("reversal", Account.get_by_id(transfer.credit_id), Account.get_by_id(transfer.debit_id),
                 transfer.amount, key=key, reason=reason, operator=operator,
                 reference=transfer.reference, reverses=transfer)
        audit.log("ledger.reversed", transfer, {"reversal": r.id, "amount": transfer.amount, "reason": reason},
                  user=operator if hasattr(operator, "username") else None)
    return r


def get_transfer(transfer_id) -> Transfer | None:
    """One transfer by id (read only), or None."""
    try:
        return Transfer.get_or_none(Transfer.id == int(transfer_id))
    except (TypeError, ValueError):
        return None


def transfers(*, kinds=None, reference_prefixes=None) -> list[dict]:
    """Transfers as dicts (id, kind, amount, reverses, reference, dcode, ccode — the two accounts'
    codes), filtered by kind and by the start of their reference (``"campaign:"``). For plugins that
    reconcile their own records with the ledger."""
    debit, credit = Account.alias(), Account.alias()
    q = (Transfer.select(Transfer.id, Transfer.kind, Transfer.amount, Transfer.reverses, Transfer.reference,
                         debit.code.alias("dcode"), credit.code.alias("ccode"))
         .join(debit, on=(Transfer.debit == debit.id)).switch(Transfer).join(credit, on=(Transfer.credit == credit.id)))
    if kinds:
        q = q.where(Transfer.kind.in_(list(kinds)))
    if reference_prefixes:
        cond = None
        for p in reference_prefixes:
            c = Transfer.reference.startswith(p)
            cond = c if cond is None else (cond | c)
        q = q.where(cond)
    return list(q.order_by(Transfer.id).dicts())


def next_number(name: str) -> int:
    """The next value of a named sequence that never restarts, taken under a row lock: numbers are
    sequential and never reused (LG7). Call inside the transaction that uses the number. Kept for
    existing callers: it is ``core.numbering.next_seq(name, yearly=False)``; new code uses
    ``core.numbering`` directly (per scope and year, formatted, with a void status)."""
    from core import numbering
    return numbering.next_seq(name, yearly=False)


# ---------------------------------------------------------------- hours → points (R-TB-1)
def _convertible(acct: Account, rules: dict | None = None) -> int:
    """The points the account's credited hours convert to (whole hours × points_per_hour)."""
    rules = rules or SETTINGS.all()
    minutes = acct.service_minutes + (acct.training_minutes if rules["convert_training"] else 0)
    return (minutes // 60) * rules["points_per_hour"]


def _points_to_move(acct: Account, rules: dict) -> int:
    """Signed points that bring what was minted to ``acct`` towards what its hours convert to: within
    the cap (points above it wait until there is room) and the balance (a reduction takes back only
    what is left; the rest stays owed)."""
    due = _convertible(acct, rules) - acct.minted
    cap = rules["volunteer_cap"]
    if due > 0:
        return min(due, max(cap - acct.balance, 0)) if cap else due
    if due < 0:
        return -min(-due, acct.balance)
    return 0


def _settle(acct: Account, issuance: Account, *, key: str, reference: str, kind: str = "hours",
            operator=None) -> tuple[int, Transfer | None]:
    """Bring the points minted to ``acct`` towards what its credited hours convert to, within the cap
    (points above it wait until there is room) and the balance (a reduction takes back only what is
    left). Returns (points moved, transfer). The caller holds the lock on ``acct``."""
    pts = _points_to_move(acct, SETTINGS.all())
    t = None
    if pts > 0:
        t = post(kind, issuance, acct, pts, key=key, reference=reference, operator=operator,
                 reason="")
    elif pts < 0:
        t = post("hours_correction" if kind == "hours" else kind, acct, issuance, -pts, key=key,
                 reference=reference, operator=operator)
    if pts:
        Account.update(minted=Account.minted + pts).where(Account.id == acct.id).execute()
        acct.minted += pts
    return pts, t


def credit_hours(*, record_id: int, volunteer_id: int, kind: str, minutes: int, version: int,
                 team_id: int | None = None, service_date=None, key: str | None = None,
                 operator=None) -> HoursCredit:
    """Take in one version of a confirmed service record (the ``activities.hours_confirmed`` event).
    Idempotent: a replayed version returns the first result; an older version arriving after a newer
    one changes nothing. The points follow the record's minutes: a correction posts the difference
    as a new transfer (R-TB-1, LG5). One item of ``credit_hours_batch``."""
    key = key or f"service_record:{record_id}:v{version}"
    credit_hours_batch([{"record_id": record_id, "volunteer_id": volunteer_id, "kind": kind, "minutes": minutes,
                         "version": version, "team_id": team_id, "service_date": service_date, "key": key}],
                       operator=operator)
    done = HoursCredit.get_or_none(HoursCredit.idempotency_key == key)
    if done is not None:
        return done
    return (HoursCredit.select().where(HoursCredit.record_id == record_id)
            .order_by(HoursCredit.version.desc()).first())


def _chunks(seq, n=500):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _open_volunteer_accounts(volunteer_ids) -> dict[int, int]:
    """{volunteer id: account id}, opening the missing accounts in bulk."""
    from plugins.volunteers.models import Volunteer
    out: dict[int, int] = {}
    for part in _chunks(sorted(set(volunteer_ids))):
        out.update(dict(Account.select(Account.owner_id, Account.id).where(
            (Account.kind == "volunteer") & Account.owner_id.in_(part)).tuples()))
    missing = [v for v in set(volunteer_ids) if v not in out]
    if missing:
        rows = []
        for part in _chunks(sorted(missing)):
            for vid, name, number in Volunteer.select(Volunteer.id, Volunteer.name, Volunteer.number).where(
                    Volunteer.id.in_(part)).tuples():
                rows.append({"code": f"volunteer:{vid}", "kind": "volunteer", "owner_id": vid,
                             "name": f"{name}（{number}）"[:200]})
        with transaction():
            for part in _chunks(rows, 200):
                Account.insert_many(part).on_conflict_ignore().execute()
        for part in _chunks(sorted(missing)):
            out.update(dict(Account.select(Account.owner_id, Account.id).where(
                (Account.kind == "volunteer") & Account.owner_id.in_(part)).tuples()))
    return out


def _store_accounts(accts: list[Account]) -> None:
    """Write the new totals of accounts locked by this transaction, in one statement per 1,000."""
    from core.db import db, is_postgres
    rows = [(a.balance, a.entry_count, a.service_minutes, a.training_minutes, a.minted, a.id) for a in accts]
    if not rows:
        return
    with pw.__exception_wrapper__:
        cur = db.obj.cursor()
        if is_postgres():
            from psycopg2.extras import execute_values
            execute_values(cur, "UPDATE ledger_account AS a SET balance = v.b, entry_count = v.n, "
                                "service_minutes = v.s, training_minutes = v.t, minted = v.m "
                                "FROM (VALUES %s) AS v(b, n, s, t, m, id) WHERE a.id = v.id", rows, page_size=1000)
        else:
            cur.executemany("UPDATE ledger_account SET balance = ?, entry_count = ?, service_minutes = ?, "
                            "training_minutes = ?, minted = ? WHERE id = ?", rows)


def credit_hours_batch(items: list[dict], *, operator=None) -> dict:
    """Take in many service record versions in one transaction (the event handler with one item, the
    catch-up and bulk loads with thousands): each item has record_id, volunteer_id, kind, minutes,
    version and optionally team_id, service_date, key. Same rules as one by one — replayed keys and
    stale versions are skipped, minutes carry over, the cap holds points back, a reduction takes back
    only what is left — with the accounts locked once and the rows written in bulk (LG2, LG5).
    Returns counts: credited, skipped, transfers."""
    from core.db import bulk_insert
    if not items:
        return {"credited": 0, "skipped": 0, "transfers": 0}
    rules = SETTINGS.all()
    issuance = system_account("issuance")
    acct_of = _open_volunteer_accounts([it["volunteer_id"] for it in items])
    for it in items:
        it.setdefault("key", None)
        it["key"] = it["key"] or f"service_record:{it['record_id']}:v{it['version']}"
    stamp = now()
    with transaction():
        accounts = _lock([issuance.id, *acct_of.values()])
        iss = accounts[issuance.id]
        seen = set()
        for part in _chunks([it["key"] for it in items]):
            seen.update(k for (k,) in HoursCredit.select(HoursCredit.idempotency_key)
                        .where(HoursCredit.idempotency_key.in_(part)).tuples())
        last: dict[int, tuple[int, int, str]] = {}
        for part in _chunks({it["record_id"] for it in items}):
            for rid, ver, mins, knd in (HoursCredit.select(HoursCredit.record_id, HoursCredit.version,
                                                           HoursCredit.minutes, HoursCredit.kind)
                                        .where(HoursCredit.record_id.in_(part)).tuples()):
                if rid not in last or ver > last[rid][0]:
                    last[rid] = (ver, mins, knd)
        transfers, entries, credits, touched = [], [], [], set()
        skipped = 0
        for it in items:
            rid, ver, key = it["record_id"], int(it["version"]), it["key"]
            prev = last.get(rid)
            if key in seen or (prev is not None and prev[0] >= ver):
                skipped += 1
                continue
            seen.add(key)
            minutes = int(it["minutes"])
            training = it["kind"] == "training"
            kind_now = "training" if training else "service"
            delta = minutes - (prev[1] if prev else 0)
            a = accounts[acct_of[it["volunteer_id"]]]
            if prev is not None and prev[2] != kind_now:   # a record re-classified: its minutes move over
                if prev[2] == "training":
                    a.training_minutes -= prev[1]
                else:
                    a.service_minutes -= prev[1]
                delta = minutes
            last[rid] = (ver, minutes, kind_now)
            if training:
                a.training_minutes += delta
            else:
                a.service_minutes += delta
            touched.add(a.id)
            pts = _points_to_move(a, rules)
            if pts:
                debit, credit = (iss, a) if pts > 0 else (a, iss)
                kind = "hours" if pts > 0 else "hours_correction"
                transfers.append({"kind": kind, "debit": debit.id, "credit": credit.id, "amount": abs(pts),
                                  "idempotency_key": key, "payload_hash": _hash(kind, debit.id, credit.id, abs(pts), None),
                                  "operator_id": getattr(operator, "id", operator), "reason": "",
                                  "reference": f"service_record:{rid}", "created_at": stamp})
                for acct, signed in ((debit, -abs(pts)), (credit, abs(pts))):
                    acct.balance += signed
                    acct.entry_count += 1
                    entries.append((key, {"account": acct.id, "amount": signed, "balance_after": acct.balance,
                                          "created_at": stamp}))
                a.minted += pts
                touched.add(iss.id)
            credits.append({"idempotency_key": key, "record_id": rid, "version": ver, "account": a.id,
                            "team_id": it.get("team_id"), "kind": "training" if training else "service",
                            "service_date": it.get("service_date"), "minutes": minutes, "delta_minutes": delta,
                            "points": pts, "created_at": stamp, "_key": key if pts else None})
        ids = {}
        for part in _chunks(transfers, 1000):
            ids.update(bulk_insert(Transfer, part, key="idempotency_key"))
        if entries:
            bulk_insert(Entry, [dict(e, transfer=ids[k]) for k, e in entries])
        for c in credits:
            k = c.pop("_key")
            c["transfer"] = ids[k] if k else None
        if credits:
            bulk_insert(HoursCredit, credits)
        _store_accounts([accounts[aid] for aid in sorted(touched)])
        # every transfer is announced, whatever the size of the batch (issue 11 point 12): one
        # after-commit delivery for the whole batch, in the order the transfers were written
        events.emit_many([TransferPosted(transfer_id=ids[t["idempotency_key"]], kind=t["kind"],
                                         debit=accounts[t["debit"]].code, credit=accounts[t["credit"]].code,
                                         amount=t["amount"], actor_id=t["operator_id"], occurred_at=stamp)
                          for t in transfers])
    return {"credited": len(credits), "skipped": skipped, "transfers": len(transfers)}


def settle(volunteer, *, operator=None) -> int:
    """Release points the cap held back once there is room again (after an exchange, say). Returns
    the points moved."""
    issuance = system_account("issuance")
    acct = volunteer_account(volunteer)
    with transaction():
        _lock([issuance.id, acct.id])
        acct = Account.get_by_id(acct.id)
        if _convertible(acct) == acct.minted:
            return 0
        pts, _t = _settle(acct, issuance, key=f"settle:{acct.id}:{acct.entry_count}",
                          reference=f"settle:{acct.id}", kind="settlement", operator=operator)
        return pts


def withheld(account: Account) -> int:
    """Points the volunteer's hours convert to that the cap holds back (positive), or that a reduction
    of hours could not take back because they were spent (negative)."""
    return _convertible(account) - account.minted


def sync_hours(batch: int = 1000) -> dict:
    """Catch up with the activities plugin: every confirmed record whose current version the ledger
    has not taken in is credited now (an event lost to a crash between commit and delivery, or
    records confirmed before this plugin was enabled). Safe to run any time, as often as wanted."""
    from plugins.activities.services import confirmed_records
    seen = posted = 0
    after = 0
    while True:
        rows = confirmed_records(after_id=after, limit=batch)
        if not rows:
            break
        after = rows[-1]["id"]
        have = dict(HoursCredit.select(HoursCredit.record_id, pw.fn.MAX(HoursCredit.version))
                    .where(HoursCredit.record_id.in_([r["id"] for r in rows]))
                    .group_by(HoursCredit.record_id).tuples())
        seen += len(rows)
        todo = [{"record_id": r["id"], "volunteer_id": r["volunteer_id"], "kind": r["kind"], "minutes": r["minutes"],
                 "version": r["version"], "team_id": r["team_id"], "service_date": r["service_date"]}
                for r in rows if have.get(r["id"], 0) < r["version"]]
        posted += credit_hours_batch(todo)["credited"] if todo else 0
    released = 0
    for (owner,) in held_back_accounts().tuples():
        released += settle(owner)
    return {"records": seen, "credited": posted, "released": released}


def held_back_accounts(rules: dict | None = None):
    """The volunteer accounts (owner ids) whose hours convert to more points than were minted and
    whose cap has room again: what ``settle`` would release. The same arithmetic as ``_convertible``
    in SQL — whole hours (integer division on both databases) × ``points_per_hour``, training hours
    only with ``convert_training`` — so no setting leaves held points stranded."""
    rules = rules or SETTINGS.all()
    minutes = Account.service_minutes
    if rules["convert_training"]:
        minutes = minutes + Account.training_minutes
    convertible = (minutes / 60) * int(rules["points_per_hour"])
    cond = (Account.kind == "volunteer") & (Account.minted < convertible)
    if rules["volunteer_cap"]:
        cond &= Account.balance < int(rules["volunteer_cap"])
    return Account.select(Account.owner_id).where(cond).order_by(Account.id)


def on_hours_confirmed(event) -> None:
    key = event.idempotency_key or f"service_record:{event.record_id}:v{event.version}"
    credit = credit_hours(record_id=event.record_id, volunteer_id=event.volunteer_id, kind=event.kind,
                          minutes=event.minutes, version=event.version, team_id=event.team_id,
                          service_date=event.service_date, key=key)
    if credit is not None and credit.idempotency_key == key:
        notify_credit(credit, activity_id=event.activity_id)


def notify_credit(credit: HoursCredit, *, activity_id: int | None = None) -> None:
    """Tell the volunteer that hours were confirmed and what they earned, naming the activity, exactly
    once per record version (the inbox's dedupe key) (issue 18 point 5, R-TB-1)."""
    from core import messages
    from plugins.volunteers.models import Volunteer
    if credit.delta_minutes == 0:
        return
    account = Account.get_by_id(credit.account_id)
    volunteer = Volunteer.get_or_none(Volunteer.id == account.owner_id)
    if volunteer is None or volunteer.user is None:
        return
    title = _activity_title(activity_id, credit.record_id)
    hours, points, balance = credit.minutes / 60, credit.points, account.balance
    training = credit.kind == "training"

    def make():
        if credit.delta_minutes < 0:
            return (_("【Hours corrected】%(title)s", title=title),
                    _("Your hours for %(title)s were corrected to %(hours).1f h; points changed by %(points)d. "
                      "Balance: %(balance)d points.", title=title, hours=hours, points=points, balance=balance))
        subject = _("【Hours confirmed】%(title)s", title=title)
        if training:
            return subject, _("%(hours).1f training hours for %(title)s were recorded.", hours=hours, title=title)
        if points:
            return subject, _("%(hours).1f service hours for %(title)s were confirmed and %(points)d time "
                              "points credited. Balance: %(balance)d points.", hours=hours, title=title,
                              points=points, balance=balance)
        return subject, _("%(hours).1f service hours for %(title)s were confirmed. No points were credited "
                          "this time (whole hours only, or your stored points reached the cap).",
                          hours=hours, title=title)
    messages.send_translated(volunteer.user, make, category="ledger", dedupe_key=f"ledger:{credit.idempotency_key}")


def _activity_title(activity_id, record_id) -> str:
    from plugins.activities.models import Activity, ServiceRecord
    if not activity_id:
        row = ServiceRecord.select(ServiceRecord.activity).where(ServiceRecord.id == record_id).first()
        activity_id = row.activity_id if row else None
    a = Activity.select(Activity.title).where(Activity.id == activity_id).first() if activity_id else None
    return a.title if a else _("a service record")


# ---------------------------------------------------------------- redemption threshold
def may_redeem(account: Account) -> bool:
    """A volunteer may spend points once their confirmed service hours reach the threshold (one star,
    100 hours by default)."""
    return account.service_minutes >= setting("redemption_threshold_hours") * 60


# ---------------------------------------------------------------- integrity (LG2, LG5, LG6)
@dataclass
class Problem:
    check: str
    ref: str
    detail: str


def verify() -> list[Problem]:
    """Every check the ledger promises; an empty list means the books are right."""
    problems: list[Problem] = []
    # LG2: every transfer has two entries that mirror it
    sides = (Entry.select(Entry.transfer, pw.fn.COUNT(Entry.id).alias("n"), pw.fn.SUM(Entry.amount).alias("s"))
             .group_by(Entry.transfer))
    rows = (Transfer.select(Transfer.id, Transfer.amount, Transfer.debit, Transfer.credit,
                            pw.Value(0).alias("dummy"))
            .tuples())
    by_transfer = {t: (n, s) for t, n, s in sides.tuples()}
    debit_side = dict(Entry.select(Entry.transfer, Entry.account).where(Entry.amount < 0).tuples())
    credit_side = dict(Entry.select(Entry.transfer, Entry.account).where(Entry.amount > 0).tuples())
    for tid, amount, debit_id, credit_id, _unused in rows:
        n, s = by_transfer.get(tid, (0, None))
        if n != 2 or s != 0:
            problems.append(Problem("transfer_balanced", f"transfer {tid}", f"{n} entries summing to {s}"))
        elif debit_side.get(tid) != debit_id or credit_side.get(tid) != credit_id:
            problems.append(Problem("transfer_sides", f"transfer {tid}", "entries do not match its accounts"))
    extra = set(by_transfer) - {r[0] for r in rows}
    for tid in sorted(extra):
        problems.append(Problem("entry_orphan", f"transfer {tid}", "entries without a transfer"))
    bad_amount = Entry.select(Entry.id).join(Transfer).where(pw.fn.ABS(Entry.amount) != Transfer.amount)
    for (eid,) in bad_amount.tuples():
        problems.append(Problem("entry_amount", f"entry {eid}", "amount differs from its transfer"))
    # LG6: stored balances equal the sum of entries and the last entry's balance
    sums = {a: (s, n) for a, s, n in Entry.select(Entry.account, pw.fn.SUM(Entry.amount), pw.fn.COUNT(Entry.id))
            .group_by(Entry.account).tuples()}
    last_ids = Entry.select(pw.fn.MAX(Entry.id)).group_by(Entry.account)
    lasts = dict(Entry.select(Entry.account, Entry.balance_after).where(Entry.id.in_(last_ids)).tuples())
    minted_by: dict[int, int] = {}
    for acct_id, pts in (HoursCredit.select(HoursCredit.account, pw.fn.SUM(HoursCredit.points))
                         .group_by(HoursCredit.account).tuples()):
        minted_by[acct_id] = int(pts or 0)
    for side, sign in ((Transfer.credit, 1), (Transfer.debit, -1)):  # settlements outside hours credits
        for acct_id, pts in (Transfer.select(side, pw.fn.SUM(Transfer.amount))
                             .where(Transfer.kind == "settlement").group_by(side).tuples()):
            minted_by[acct_id] = minted_by.get(acct_id, 0) + sign * int(pts or 0)
    total = 0
    for a in Account.select():
        s, n = sums.get(a.id, (0, 0))
        s = int(s or 0)
        total += a.balance
        if a.balance != s:
            problems.append(Problem("balance", a.code, f"stored {a.balance}, entries sum to {s}"))
        if a.entry_count != n:
            problems.append(Problem("entry_count", a.code, f"stored {a.entry_count}, {n} entries"))
        if n and lasts.get(a.id) != a.balance:
            problems.append(Problem("balance_after", a.code, f"last entry says {lasts.get(a.id)}, stored {a.balance}"))
        if a.balance < 0 and not a.allow_negative:
            problems.append(Problem("negative", a.code, f"balance {a.balance}"))
        if a.kind == "volunteer" and minted_by.get(a.id, 0) != a.minted:
            problems.append(Problem("minted", a.code, f"stored {a.minted}, hours credits give {minted_by.get(a.id, 0)}"))
    if total != 0:
        problems.append(Problem("zero_sum", "all accounts", f"balances sum to {total}, not 0"))
    # issued − redeemed = held
    issued = -(Account.select(Account.balance).where(Account.code == "system:issuance").scalar() or 0)
    redeemed = Account.select(Account.balance).where(Account.code == "system:redemption").scalar() or 0
    held = Account.select(pw.fn.COALESCE(pw.fn.SUM(Account.balance), 0)).where(Account.kind != "system").scalar() or 0
    if issued - redeemed != int(held):
        problems.append(Problem("issued_redeemed_held", "system", f"issued {issued} − redeemed {redeemed} ≠ held {held}"))
    # reversals mirror their originals
    orig = Transfer.alias()
    q = (Transfer.select(Transfer.id, orig.id).join(orig, on=(Transfer.reverses == orig.id))
         .where((Transfer.amount != orig.amount) | (Transfer.debit != orig.credit) | (Transfer.credit != orig.debit)))
    for rid, oid in q.tuples():
        problems.append(Problem("reversal", f"transfer {rid}", f"does not mirror transfer {oid}"))
    # LG5: the minutes taken in equal the records' current minutes (when activities is on)
    problems.extend(_hours_drift())
    return problems


def _hours_drift() -> list[Problem]:
    out = []
    latest = (HoursCredit.select(HoursCredit.record_id, pw.fn.MAX(HoursCredit.version).alias("v"))
              .group_by(HoursCredit.record_id))
    per_acct = {}
    hc = HoursCredit.alias()
    q = (hc.select(hc.account, hc.kind, pw.fn.SUM(hc.minutes))
         .join(latest, on=((hc.record_id == latest.c.record_id) & (hc.version == latest.c.v)))
         .group_by(hc.account, hc.kind))
    for acct_id, kind, mins in q.tuples():
        per_acct.setdefault(acct_id, {})[kind] = int(mins or 0)
    for a in Account.select().where(Account.kind == "volunteer"):
        got = per_acct.get(a.id, {})
        if got.get("service", 0) != a.service_minutes or got.get("training", 0) != a.training_minutes:
            out.append(Problem("minutes", a.code, f"stored {a.service_minutes}/{a.training_minutes} min, "
                               f"records give {got.get('service', 0)}/{got.get('training', 0)}"))
    try:
        from plugins.activities.services import confirmed_records
    except ImportError:  # pragma: no cover - activities is a dependency
        return out
    after = 0
    while True:
        rows = confirmed_records(after_id=after, limit=5000)
        if not rows:
            break
        after = rows[-1]["id"]
        have = dict(HoursCredit.select(HoursCredit.record_id, pw.fn.MAX(HoursCredit.version))
                    .where(HoursCredit.record_id.in_([r["id"] for r in rows])).group_by(HoursCredit.record_id)
                    .tuples())
        for r in rows:
            if have.get(r["id"], 0) < r["version"]:
                out.append(Problem("unsynced", f"service_record {r['id']}",
                                   f"version {r['version']} not credited (run `timebank ledger sync`)"))
    return out


# ---------------------------------------------------------------- statements (point 6)
def statement(account: Account, *, date_from: _dt.date | None = None, date_to: _dt.date | None = None,
              limit: int | None = None) -> list[dict]:
    """The account's entries, newest first: time, kind, the other side, signed amount, balance after."""
    other = Entry.alias()
    other_acct = Account.alias()
    q = (Entry.select(Entry.id, Entry.created_at, Entry.amount, Entry.balance_after, Transfer.id.alias("tid"),
                      Transfer.kind, Transfer.reason, Transfer.reference, Transfer.reverses,
                      other_acct.name.alias("other_name"), other_acct.code.alias("other_code"),
                      other_acct.kind.alias("other_kind"))
         .join(Transfer, on=(Entry.transfer == Transfer.id))
         .join(other, on=((other.transfer == Transfer.id) & (other.id != Entry.id)))
         .join(other_acct, on=(other.account == other_acct.id))
         .where(Entry.account == account.id).order_by(Entry.id.desc()))
    from core.db import TZ
    if date_from:
        q = q.where(Entry.created_at >= _dt.datetime.combine(date_from, _dt.time(), tzinfo=TZ))
    if date_to:
        q = q.where(Entry.created_at < _dt.datetime.combine(date_to + _dt.timedelta(days=1), _dt.time(), tzinfo=TZ))
    if limit:
        q = q.limit(limit)
    out = []
    for r in q.dicts():
        r["kind_label"] = str(KIND_LABELS.get(r["kind"], r["kind"]))
        if r["other_kind"] == "system":
            r["other_name"] = str(SYSTEM.get(r["other_code"].partition(":")[2], r["other_code"]))
        out.append(r)
    # what earned the points: the activity of each service record (issue 18 point 6), one query
    titles = _record_titles({int(ref.split(":")[1]) for ref in (r["reference"] or "" for r in out)
                             if ref.startswith("service_record:") and ref.split(":")[1].isdigit()})
    for r in out:
        ref = r["reference"] or ""
        rid = ref.split(":")[1] if ref.startswith("service_record:") else ""
        r["about"] = titles.get(int(rid), "") if rid.isdigit() else ""
        r["note"] = "；".join(x for x in (r["about"], r["reason"]) if x)
    return out


def _record_titles(record_ids) -> dict[int, str]:
    """{service record id: the title of its activity} (the activities plugin's records)."""
    if not record_ids:
        return {}
    from plugins.activities.models import Activity, ServiceRecord
    out = {}
    ids = sorted(record_ids)
    for i in range(0, len(ids), 500):
        out.update(dict(ServiceRecord.select(ServiceRecord.id, Activity.title).join(Activity)
                        .where(ServiceRecord.id.in_(ids[i:i + 500])).tuples()))
    return out


def hours_summary(account: Account) -> dict:
    return {"service_hours": account.service_minutes / 60, "training_hours": account.training_minutes / 60,
            "points": account.balance, "withheld": max(withheld(account), 0),
            "may_redeem": may_redeem(account), "threshold_hours": setting("redemption_threshold_hours"),
            "cap": setting("volunteer_cap")}


PERIODS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}


def team_totals(team_ids, *, period: str = "month", year: int | None = None) -> list[dict]:
    """Per team and period: service and training hours taken in, points minted for them (by service
    date), from the hours credits of the latest version of each record."""
    if period not in PERIODS:
        raise LedgerError({"period": _l("Unknown period.")})
    q = HoursCredit.select(HoursCredit.team_id, HoursCredit.service_date, HoursCredit.kind,
                           HoursCredit.delta_minutes, HoursCredit.points)
    if team_ids is not None:
        q = q.where(HoursCredit.team_id.in_(list(team_ids) or [-1]))
    if year:
        q = q.where((HoursCredit.service_date >= _dt.date(year, 1, 1)) & (HoursCredit.service_date <= _dt.date(year, 12, 31)))
    buckets: dict[tuple, dict] = {}
    for team_id, day, kind, dmin, pts in q.tuples():
        if day is None:
            continue
        label = {"month": f"{day.year}-{day.month:02d}", "quarter": f"{day.year}Q{(day.month - 1) // 3 + 1}",
                 "year": f"{day.year}"}[period]
        b = buckets.setdefault((team_id, label), {"team_id": team_id, "period": label, "service_minutes": 0,
                                                  "training_minutes": 0, "points": 0})
        b["training_minutes" if kind == "training" else "service_minutes"] += dmin
        b["points"] += pts
    from plugins.teams.models import Team
    names = dict(Team.select(Team.id, Team.name).where(Team.id.in_([k[0] for k in buckets] or [-1])).tuples())
    out = sorted(buckets.values(), key=lambda b: (names.get(b["team_id"], ""), b["period"]))
    for b in out:
        b["team"] = names.get(b["team_id"], "")
        b["service_hours"] = round(b["service_minutes"] / 60, 2)
        b["training_hours"] = round(b["training_minutes"] / 60, 2)
    return out
