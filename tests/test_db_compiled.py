"""core.db.compiled: a hot query's SQL built once per database kind, run with new values, giving the
same rows, conversions and ids as the peewee query it was built from (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest

from core.db import TZ, compiled, db, now, transaction
from core.models import LoginSession, Message, User


@pytest.fixture
def site(make_app):
    app = make_app(plugins=[])
    with app.app_context():
        with transaction():
            a = User.create(username="alice", password_hash="x", display_name="爱丽丝")
            b = User.create(username="bob", password_hash="x")
            t0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ)
            for i in range(5):
                Message.create(recipient=a, subject=f"消息 {i}", created_at=t0 + dt.timedelta(hours=i))
            Message.create(recipient=b, subject="bob's", created_at=t0)
            LoginSession.create(token_hash="h1", user=a)
        yield {"alice": a.id, "bob": b.id, "t0": t0}


calls = {"n": 0}


@compiled
def newest(user_id, since):
    calls["n"] += 1
    return (Message.select().where((Message.recipient == user_id) & (Message.created_at >= since))
            .order_by(Message.created_at.desc()).limit(3))


@compiled
def session_with_user(token):
    return LoginSession.select(LoginSession, User).join(User).where(LoginSession.token_hash == token)


@compiled
def subjects(user_id):
    return Message.select(Message.subject).where(Message.recipient == user_id).order_by(Message.id).tuples()


@compiled
def add_message(user_id, subject, at):
    return Message.insert(recipient=user_id, subject=subject, created_at=at.to(Message.created_at))


@compiled
def mark_read(user_id, at):
    return Message.update(read_at=at.to(Message.read_at)).where(Message.recipient == user_id)


def test_rows_are_the_peewee_querys_rows_with_the_fields_conversions(site):
    since = site["t0"] + dt.timedelta(hours=1)  # an aware datetime: the field's db_value converts it
    expected = list(Message.select().where((Message.recipient == site["alice"]) & (Message.created_at >= since))
                    .order_by(Message.created_at.desc()).limit(3))
    got = list(newest(user_id=site["alice"], since=since))
    assert [(m.id, m.subject, m.created_at) for m in got] == [(m.id, m.subject, m.created_at) for m in expected]
    assert [m.subject for m in got] == ["消息 4", "消息 3", "消息 2"]
    assert got[0].created_at.tzinfo is not None and got[0].created_at == site["t0"] + dt.timedelta(hours=4)
    assert newest.first(user_id=site["bob"], since=since) is None
    assert newest.first(user_id=site["bob"], since=site["t0"]).subject == "bob's"


def test_built_once_per_database_kind_not_per_call(site):
    before = calls["n"]
    for _ in range(5):
        newest.first(user_id=site["alice"], since=site["t0"])
    assert calls["n"] - before <= 1  # built at most once here (once per kind in the whole process)
    sql, params = newest.sql(user_id=site["alice"], since=site["t0"])
    assert sql.count(db.obj.param) == len(params) == 3  # recipient, created_at, LIMIT
    assert params[:2] == [site["alice"], dt.datetime(2026, 11, 1, 9, 0)]  # Shanghai wall time, as stored


def test_joined_models_and_tuples(site):
    s = session_with_user.first(token="h1")
    assert s.user.username == "alice" and s.user.display_name == "爱丽丝"
    assert session_with_user.first(token="nope") is None
    assert list(subjects(user_id=site["bob"])) == [("bob's",)]


def test_values_are_parameters_never_sql(site):
    evil = "x' OR '1'='1"
    assert session_with_user.first(token=evil) is None
    with transaction():
        new_id = add_message.execute(user_id=site["bob"], subject=evil, at=now())
    assert Message.get_by_id(new_id).subject == evil


def test_insert_returns_the_new_id_and_update_the_rows_affected(site):
    at = dt.datetime(2026, 11, 28, 20, 30, tzinfo=dt.timezone.utc)  # 04:30 next day in Shanghai
    with transaction():
        new_id = add_message.execute(user_id=site["bob"], subject="新消息", at=at)
    m = Message.get_by_id(new_id)
    assert m.subject == "新消息" and m.recipient_id == site["bob"] and m.created_at == at
    assert db.obj.execute_sql('SELECT created_at FROM core_message WHERE id = %s' % int(new_id)).fetchone()[0] \
        in ("2026-11-29 04:30:00", dt.datetime(2026, 11, 29, 4, 30))
    with transaction():
        assert mark_read.execute(user_id=site["bob"], at=now()) == 2
    assert Message.select().where((Message.recipient == site["bob"]) & Message.read_at.is_null()).count() == 0
    assert Message.select().where(Message.read_at.is_null()).count() == 5  # alice's untouched


def test_a_write_rolls_back_with_its_transaction(site):
    n = Message.select().count()
    with pytest.raises(RuntimeError):
        with transaction():
            add_message.execute(user_id=site["bob"], subject="gone", at=now())
            raise RuntimeError("boom")
    assert Message.select().count() == n


def test_misuse_is_a_clear_error(site):
    with pytest.raises(TypeError, match="takes"):
        newest.first(user_id=site["alice"])  # a parameter missing

    @compiled
    def unused(user_id, other):
        return Message.select().where(Message.recipient == user_id)
    with pytest.raises(TypeError, match="not used"):
        unused.first(user_id=1, other=2)


def test_a_parameter_used_twice_is_converted_for_each_field(site):
    """One value compared with a text column and with a datetime column: each place gets its own
    field's conversion."""
    @compiled
    def since_or_subject(at):
        return Message.select(Message.subject).where((Message.created_at >= at) | (Message.subject == at)).tuples()
    _sql, params = since_or_subject.sql(at=site["t0"] + dt.timedelta(hours=4))
    assert params[0] == dt.datetime(2026, 11, 1, 13, 0)  # the datetime field's wall-time conversion
    assert isinstance(params[1], str)                   # the text field's conversion
    assert [r[0] for r in since_or_subject(at=site["t0"] + dt.timedelta(hours=4))] == ["消息 4"]


@compiled
def brief(user_id):
    return (Message.select(Message.id, Message.subject).where(Message.recipient == user_id)
            .order_by(Message.id).namedtuples())


def test_row_handling_set_up_once_and_right_for_every_later_run(site):
    # the first run finds nothing: the row set-up still comes from the statement's columns
    assert list(brief(user_id=-1)) == []
    alice, bob = list(brief(user_id=site["alice"])), list(brief(user_id=site["bob"]))
    assert [r.subject for r in alice] == [f"消息 {i}" for i in range(5)]
    assert [r.subject for r in bob] == ["bob's"]
    assert type(alice[0]) is type(bob[0])  # one namedtuple class, not one per run
    assert alice[0]._fields == ("id", "subject")
    # models with a joined model: each run builds fresh instances from its own cursor
    first = list(session_with_user(token="h1"))
    again = list(session_with_user(token="h1"))
    assert first[0] is not again[0] and again[0].user.username == "alice"
    assert list(session_with_user(token="nope")) == []
