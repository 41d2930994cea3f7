"""The message service: every message lands in the user's in-app inbox, then goes out through the
enabled channels (email over SMTP in the kernel; SMS and others are plugins' ``Channel``s).

``send(user, subject, body, dedupe_key=...)`` is exactly-once per (user, key): a reminder job that
runs twice sends once. Delivery by channels is deferred to the task queue.
"""
from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import peewee as pw
from flask import current_app

from .db import compiled, now, transaction

log = logging.getLogger("timebank.messages")


class Channel:
    """A delivery channel. ``deliver`` returns a short status string or raises."""
    name = "channel"

    def available(self, app) -> bool:
        return True

    def deliver(self, message, user) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def available(self, app) -> bool:
        return bool(app.config.get("MAIL_SERVER"))

    def deliver(self, message, user) -> str:
        if not user.email:
            return "no-address"
        cfg = current_app.config
        mail = EmailMessage()
        mail["From"] = cfg["MAIL_FROM"]
        mail["To"] = user.email
        mail["Subject"] = message.subject  # non-ASCII (Chinese) is RFC 2047-encoded by the policy
        mail["Date"] = formatdate(localtime=True)
        # an explicit domain: without one make_msgid asks DNS for this host's name
        mail["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2] or "localhost")
        # Chinese text as base64: 8-bit bodies are only safe on servers that announce 8BITMIME
        mail.set_content(message.body, **({} if message.body.isascii() else {"cte": "base64"}))
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20) as s:
            if cfg["MAIL_USE_TLS"]:
                s.starttls()
            if cfg["MAIL_USERNAME"]:
                s.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            s.send_message(mail)
        return "sent"


def channels(app=None) -> list[Channel]:
    app = app or current_app
    return [c for c in app.extensions["timebank"].channels if c.available(app)]


@compiled
def _insert(recipient, subject, body, category, dedupe_key, created_at):
    from .models import Message
    return Message.insert(recipient=recipient, subject=subject, body=body, category=category,
                          dedupe_key=dedupe_key, created_at=created_at.to(Message.created_at))


def send(user, subject: str, body: str = "", *, category: str = "", dedupe_key: str | None = None):
    """Put a message in the inbox of ``user`` (a User or a user id) and queue its delivery. Returns
    the Message, or the existing one when ``dedupe_key`` was already used for this user (nothing is
    sent twice: the unique (recipient, dedupe_key) index decides, also between concurrent senders)."""
    from .models import Message
    uid = getattr(user, "id", user)
    values = dict(recipient=uid, subject=subject[:200], body=body, category=category, dedupe_key=dedupe_key,
                  created_at=now())
    try:
        with transaction():
            msg_id = _insert.execute(**values)
    except pw.IntegrityError:
        if not dedupe_key:
            raise
        return Message.get((Message.recipient == uid) & (Message.dedupe_key == dedupe_key))
    msg = Message(id=msg_id, **values)
    msg._dirty.clear()
    if channels():  # no channel to deliver through (no mail server, no SMS gateway): nothing to queue
        from .db import after_commit
        after_commit(lambda: _queue_delivery(msg_id))
    return msg


def send_translated(user, make, *, category: str = "", dedupe_key: str | None = None):
    """``send`` with the texts in the recipient's own language: ``make()`` returns (subject, body) and is
    called with the user's locale in force (their choice, else the site's default), so a message that an
    English-speaking organiser's action sends to a volunteer still reaches that volunteer in Chinese."""
    from flask_babel import force_locale
    langs = current_app.config.get("LANGUAGES") or []
    locale = user.locale if getattr(user, "locale", None) in langs else current_app.config["DEFAULT_LOCALE"]
    with force_locale(locale):
        subject, body = make()
        return send(user, str(subject), str(body), category=category, dedupe_key=dedupe_key)


def _queue_delivery(message_id: int):
    """Defer delivery; a queue that is down (Redis unreachable) leaves the inbox copy and logs why."""
    from .tasks import enqueue
    try:
        enqueue("core.deliver_message", message_id)
    except Exception:  # noqa: BLE001 - the message is in the inbox already; delivery can be redone
        log.exception("could not queue delivery of message %s", message_id)


def deliver_message(message_id: int):
    """Task body: push one inbox message through every available channel, recording the outcome."""
    from .models import Message
    msg = Message.get_or_none(Message.id == message_id)
    if msg is None:
        return {}
    user = msg.recipient
    outcome = json.loads(msg.channel_log or "{}")
    for ch in channels():
        if outcome.get(ch.name) in ("sent",):
            continue
        try:
            outcome[ch.name] = ch.deliver(msg, user)
        except Exception as e:  # noqa: BLE001 - the channel failed; record it, keep the inbox copy
            outcome[ch.name] = f"error: {type(e).__name__}: {e}"[:200]
    Message.update(channel_log=json.dumps(outcome, ensure_ascii=False),
                   email_status=short_status(outcome.get("email", ""))).where(Message.id == msg.id).execute()
    return outcome


def short_status(status: str) -> str:
    """The column form of a channel outcome: "sent", "error", … (the full text is in channel_log)."""
    if status.startswith("error"):
        return "error"
    return status[:32]


def unread_count(user) -> int:
    from .models import Message
    return Message.select().where((Message.recipient == user.id) & Message.read_at.is_null()).count()


def mark_read(msg):
    from .models import Message
    if msg.read_at is None:
        Message.update(read_at=now()).where(Message.id == msg.id).execute()
