"""The sms plugin: a message channel that posts to an HTTP SMS gateway, with the phone number from the
``sms_phone_for`` hook the plugin declares. Only the gateway is replaced, by a real local HTTP server;
the site, its database and the message service are the real ones."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core import messages

FIXTURES = str(Path(__file__).parent / "fixtures" / "task_plugins")


class Gateway:
    """A tiny SMS gateway: records each POST and answers with ``status``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers),
                                         "json": json.loads(body.decode("utf-8"))})
                out = json.dumps({"ok": gateway.status < 300}).encode()
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    g = Gateway()
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def app(make_app, gateway):
    return make_app(plugins=["sms", "fixture_phones"], PLUGIN_PATHS=[FIXTURES],
                    SMS_GATEWAY_URL=gateway.url, SMS_API_KEY="test-key")


def user_with_phone(app, username, phone=None):
    from core.models import User
    with app.app_context():
        u = User.create(username=username, password_hash="x")
        if phone is not None:
            from fixture_phones.models import Phone
            Phone.create(user_id=u.id, number=phone)
        return u


def outcome(app, msg):
    from core.models import Message
    with app.app_context():
        return json.loads(Message.get_by_id(msg.id).channel_log)


@pytest.mark.parametrize("raw", ["13800138000", "+86 138-0013-8000", "0086 13800138000",
                                 "+8613800138000", "(138) 0013 8000", "138 0013 8000"])
def test_mainland_mobile_numbers_are_normalised(raw):
    from plugins.sms.channel import normalize_mobile
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "23800138000",
                                 "+1 415 555 0123", "", None, "abc13800138000"])
def test_other_numbers_are_refused(raw):
    from plugins.sms.channel import normalize_mobile
    assert normalize_mobile(raw) is None


def test_sms_is_off_by_default_and_its_hook_is_optional_for_others(make_app):
    from core import plugins as P
    available, _ = P.discover()
    assert available["sms"].default_enabled is False
    # a plugin answering sms_phone_for loads when sms is disabled (optionalhook)
    app = make_app(plugins=["fixture_phones"], PLUGIN_PATHS=[FIXTURES])
    pm = app.extensions["timebank"].pm
    assert getattr(pm.hook, "sms_phone_for").spec is None
    with app.app_context():
        assert "sms" not in [c.name for c in messages.channels()]


def test_sms_declares_its_own_firstresult_hook(app):
    from plugins.sms import hookspecs
    spec = app.extensions["timebank"].pm.hook.sms_phone_for.spec
    assert spec is not None and spec.namespace is hookspecs
    assert spec.opts["firstresult"] is True
    assert hookspecs.sms_phone_for.__doc__


def test_message_goes_to_the_gateway(app, gateway):
    alice = user_with_phone(app, "alice", "+86 138-0013-8000")
    with app.app_context():
        assert [c.name for c in messages.channels()] == ["sms"]  # no MAIL_SERVER: email is off
        msg = messages.send(alice, "明天 9:00 社区中心集合", "请准时到达", category="reminder")
    assert len(gateway.requests) == 1
    req = gateway.requests[0]
    assert req["path"] == "/v1/send"
    assert req["headers"]["Authorization"] == "Bearer test-key"
    assert req["headers"]["Content-Type"].startswith("application/json")
    assert req["json"] == {"to": "13800138000", "text": "明天 9:00 社区中心集合\n请准时到达",
                           "reference": f"timebank-message-{msg.id}"}
    assert outcome(app, msg) == {"sms": "sent"}
    # exactly once per dedupe key through this channel too
    with app.app_context():
        messages.send(alice, "提醒", "x", dedupe_key="k1")
        messages.send(alice, "提醒", "x", dedupe_key="k1")
    assert len(gateway.requests) == 2


def test_long_text_is_cut(app, gateway):
    alice = user_with_phone(app, "alice", "13800138000")
    with app.app_context():
        messages.send(alice, "长通知", "字" * 1000)
    text = gateway.requests[0]["json"]["text"]
    assert len(text) == 300 and text.endswith("…") and text.startswith("长通知\n")


@pytest.mark.parametrize("phone,status", [(None, "no-address"), ("12345", "invalid-phone"),
                                          ("+1 415 555 0123", "invalid-phone")])
def test_nothing_is_sent_without_a_valid_mobile(app, gateway, phone, status):
    bob = user_with_phone(app, "bob", phone)
    with app.app_context():
        msg = messages.send(bob, "通知", "正文")
    assert gateway.requests == []
    log = outcome(app, msg)
    assert log == {"sms": status}
    assert "415" not in json.dumps(log)  # the number is personal data: never in the log


def test_gateway_error_is_recorded_and_inbox_kept(app, gateway):
    from core.models import Message
    gateway.status = 500
    alice = user_with_phone(app, "alice", "13800138000")
    with app.app_context():
        msg = messages.send(alice, "活动取消", "因天气原因取消")
        assert Message.get_by_id(msg.id).subject == "活动取消"
    assert len(gateway.requests) == 1
    assert outcome(app, msg)["sms"].startswith("error: HTTPError: HTTP Error 500")
    # the gateway recovers: delivering again sends it once
    gateway.status = 200
    from core.tasks import enqueue
    with app.app_context():
        enqueue("core.deliver_message", msg.id)
        enqueue("core.deliver_message", msg.id)
    assert len(gateway.requests) == 2
    assert outcome(app, msg) == {"sms": "sent"}


def test_gateway_down_is_recorded(make_app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(plugins=["sms", "fixture_phones"], PLUGIN_PATHS=[FIXTURES],
                   SMS_GATEWAY_URL=f"http://127.0.0.1:{port}/send")
    alice = user_with_phone(app, "alice", "13800138000")
    with app.app_context():
        msg = messages.send(alice, "通知", "正文")
    assert outcome(app, msg)["sms"].startswith("error: URLError")


def test_only_http_gateways_are_used(make_app, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    app = make_app(plugins=["sms", "fixture_phones"], PLUGIN_PATHS=[FIXTURES],
                   SMS_GATEWAY_URL=f"file://{secret}")
    alice = user_with_phone(app, "alice", "13800138000")
    with app.app_context():
        msg = messages.send(alice, "通知", "正文")
    log = outcome(app, msg)
    assert log["sms"].startswith("error: ValueError") and "do not read" not in log["sms"]


def test_unconfigured_gateway_turns_the_channel_off(make_app, monkeypatch, gateway):
    app = make_app(plugins=["sms", "fixture_phones"], PLUGIN_PATHS=[FIXTURES])
    with app.app_context():
        assert "sms" not in [c.name for c in messages.channels()]
    # the settings come from the site configuration, environment included
    monkeypatch.setenv("TIMEBANK_SMS_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("TIMEBANK_SMS_API_KEY", "from-env")
    app = make_app(plugins=["sms", "fixture_phones"], PLUGIN_PATHS=[FIXTURES])
    alice = user_with_phone(app, "alice", "13800138000")
    with app.app_context():
        messages.send(alice, "通知", "正文")
    assert gateway.requests[0]["headers"]["Authorization"] == "Bearer from-env"


def test_a_volunteers_reminder_reaches_their_own_mobile(make_app, gateway, monkeypatch):
    """The volunteers plugin answers sms_phone_for with the volunteer's (decrypted) mobile: a message to
    a volunteer's account goes to that number; an erased volunteer gets no SMS (PR6)."""
    from fixtures.activities_plugins.actsupport import quick_hashing
    quick_hashing(monkeypatch)
    app = make_app(plugins=["sms", "volunteers"], SMS_GATEWAY_URL=gateway.url, SMS_API_KEY="test-key")
    from plugins.volunteers import services as vs
    with app.test_request_context():
        v = vs.register({"name": "李志愿", "id_type": "cn_id", "id_number": "11010519491231002X",
                         "phone": "+86 139-0013-9000", "agreement": True, "password": "a long passphrase 9"})
        msg = messages.send(v.user, "【温馨提示】明天 9:00 社区中心集合", "请准时到达", category="reminder")
    assert [r["json"]["to"] for r in gateway.requests] == ["13900139000"]
    assert outcome(app, msg) == {"sms": "sent"}
    with app.test_request_context():
        from plugins.volunteers.models import Volunteer
        user = Volunteer.get_by_id(v.id).user
        vs.erase(Volunteer.get_by_id(v.id), reason="request")
        messages.send(user, "再次提醒", "", category="reminder")
    assert len(gateway.requests) == 1
