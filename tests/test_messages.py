"""The message service (kernel issue #2 point 8): an in-app inbox for the recipient only, exactly once per
(user, dedupe_key), real email delivery over SMTP with the outcome recorded on the message, and an SMTP
server that is down leaves the inbox copy with the error."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import login
from core import messages
from core.db import db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self):
        return [email.message_from_bytes(e.original_content, policy=email.policy.default)
                for e in self.envelopes]

    def wait_for(self, n, timeout=15):
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.envelopes)


@pytest.fixture
def smtp():
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def app(make_app, smtp):
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_FROM="timebank@example.org")


def reload(msg):
    from core.models import Message
    return Message.get_by_id(msg.id)


def test_message_is_in_the_recipients_inbox_only(app, client, make_user):
    alice = make_user("alice", "volunteer", email="alice@example.org")
    make_user("bob", "volunteer", email="bob@example.org")
    with app.app_context():
        msg = messages.send(alice, "活动提醒", "周六 9:00 社区中心集合", category="reminder")
        assert messages.unread_count(alice) == 1

    assert client.get("/inbox").status_code == 302  # anonymous: to the login page
    assert login(client, "alice").status_code == 302
    page = client.get("/inbox").get_data(as_text=True)
    assert "活动提醒" in page
    r = client.get(f"/inbox/{msg.id}")
    assert r.status_code == 200
    assert "周六 9:00 社区中心集合" in r.get_data(as_text=True)
    with app.app_context():
        assert reload(msg).read_at is not None
        assert messages.unread_count(alice) == 0

    other = app.test_client()
    assert login(other, "bob").status_code == 302
    assert "活动提醒" not in other.get("/inbox").get_data(as_text=True)
    r = other.get(f"/inbox/{msg.id}")
    assert r.status_code == 404
    assert "周六" not in r.get_data(as_text=True)


def test_same_dedupe_key_sends_once(app, make_user, smtp):
    from core.models import Message
    alice = make_user("alice", "volunteer", email="alice@example.org")
    bob = make_user("bob", "volunteer", email="bob@example.org")
    with app.app_context():
        first = messages.send(alice, "明日值班提醒", "8:00", dedupe_key="shift:7:reminder")
        again = messages.send(alice, "明日值班提醒", "8:00", dedupe_key="shift:7:reminder")
        assert again.id == first.id
        for_bob = messages.send(bob, "明日值班提醒", "8:00", dedupe_key="shift:7:reminder")
        assert for_bob.id != first.id  # the key is per user
        messages.send(alice, "无去重键", "a")
        messages.send(alice, "无去重键", "a")  # without a key every call is a new message
        assert Message.select().where(Message.recipient == alice.id).count() == 3
    assert smtp.wait_for(4) == 4
    assert sorted(e.rcpt_tos[0] for e in smtp.envelopes) == [
        "alice@example.org", "alice@example.org", "alice@example.org", "bob@example.org"]


def test_dedupe_holds_across_threads(app, make_user, smtp):
    """Eight threads send the same keyed message at once: one inbox row and one email per key."""
    from core.models import Message
    alice = make_user("alice", "volunteer", email="alice@example.org")
    keys = [f"activity:{i}:changed" for i in range(3)]
    errors, ids = [], {k: set() for k in keys}

    for key in keys:
        barrier = threading.Barrier(8)

        def worker(key=key, barrier=barrier):
            try:
                with app.app_context():
                    barrier.wait(10)
                    m = messages.send(alice, "活动时间变更", "改为 14:00", dedupe_key=key)
                    ids[key].add(m.id)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                db.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert all(len(v) == 1 for v in ids.values()), ids
    with app.app_context():
        assert Message.select().where(Message.recipient == alice.id).count() == 3
    assert smtp.wait_for(3) == 3
    time.sleep(0.3)
    assert len(smtp.envelopes) == 3  # no second email for any key


def test_email_is_delivered_over_smtp(app, make_user, smtp):
    alice = make_user("alice", "volunteer", email="alice@example.org")
    subject = "志愿服务提醒：明天 9:00 在社区中心集合"
    body = "请准时到达，并携带志愿者证。\n谢谢！"
    with app.app_context():
        msg = messages.send(alice, subject, body, category="reminder")
    assert smtp.wait_for(1) == 1
    env = smtp.envelopes[0]
    assert env.mail_from == "timebank@example.org"
    assert env.rcpt_tos == ["alice@example.org"]
    raw = env.original_content
    raw.decode("ascii")  # 7-bit clean: Chinese is encoded, headers (RFC 2047) and body (base64)
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    mail = smtp.parsed()[0]
    assert mail["To"] == "alice@example.org"
    assert mail["From"] == "timebank@example.org"
    assert mail["Subject"] == subject
    assert mail["Message-ID"].endswith("@example.org>")
    assert mail["Date"]
    assert mail.get_content().rstrip("\n") == body
    with app.app_context():
        row = reload(msg)
        assert row.email_status == "sent"
        assert json.loads(row.channel_log) == {"email": "sent"}


def test_delivery_waits_for_the_task_queue(make_app, make_user, smtp):
    """With a real queue the request only stores the message; a consumer delivers it."""
    from test_tasks import running_consumer
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, TASKS_IMMEDIATE=False)
    from core.models import User
    with app.app_context():
        alice = User.create(username="alice", password_hash="x", email="alice@example.org")
        msg = messages.send(alice, "排班已发布", "请查看")
        assert reload(msg).email_status == ""
    time.sleep(0.2)
    assert smtp.envelopes == []
    with running_consumer(app.extensions["timebank"].tasks.huey):
        assert smtp.wait_for(1) == 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with app.app_context():
                if reload(msg).email_status:
                    break
            time.sleep(0.05)
    assert smtp.parsed()[0]["Subject"] == "排班已发布"
    with app.app_context():
        assert reload(msg).email_status == "sent"


def test_smtp_down_records_the_error_and_keeps_the_inbox_copy(app, client, make_user, smtp):
    from core.tasks import enqueue
    alice = make_user("alice", "volunteer", email="alice@example.org")
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    with app.app_context():
        msg = messages.send(alice, "服务记录已确认", "3 小时")
        row = reload(msg)
        assert row.email_status == "error"
        log = json.loads(row.channel_log)
        assert log["email"].startswith("error: ConnectionRefusedError")
    assert login(client, "alice").status_code == 302
    assert "服务记录已确认" in client.get("/inbox").get_data(as_text=True)

    # the server is back: delivering again sends it, and only once
    app.config["MAIL_PORT"] = smtp.port
    with app.app_context():
        enqueue("core.deliver_message", msg.id)
        assert reload(msg).email_status == "sent"
        enqueue("core.deliver_message", msg.id)
    assert smtp.wait_for(1) == 1
    time.sleep(0.2)
    assert len(smtp.envelopes) == 1


def test_user_without_email_gets_the_inbox_copy_only(app, make_user, smtp):
    bob = make_user("bob", "volunteer")
    with app.app_context():
        msg = messages.send(bob, "欢迎加入", "")
        row = reload(msg)
        assert row.email_status == "no-address"
        assert row.subject == "欢迎加入"
    assert smtp.envelopes == []


def test_without_mail_server_email_is_off(make_app, make_user):
    app = make_app()  # MAIL_SERVER empty
    with app.app_context():
        assert [c.name for c in messages.channels()] == []
        from core.models import User
        u = User.create(username="carol", password_hash="x", email="carol@example.org")
        msg = messages.send(u, "通知", "正文")
        row = reload(msg)
        # no channel can deliver: nothing is queued, nothing attempted, the inbox copy is all there is
        assert row.email_status == "" and row.channel_log == ""
        assert row.subject == "通知" and row.recipient_id == u.id
