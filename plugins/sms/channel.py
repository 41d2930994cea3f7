"""The SMS channel: posts each message to an HTTP gateway (``SMS_GATEWAY_URL``, ``SMS_API_KEY``).

The gateway receives ``POST`` with a JSON body ``{"to": "13800138000", "text": "…", "reference":
"timebank-message-42"}`` and the header ``Authorization: Bearer <SMS_API_KEY>``; any 2xx answer means
accepted. Adapting to a vendor's API means subclassing ``SmsChannel`` and overriding ``payload``.
"""
from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlparse

from flask import current_app

from core.messages import Channel
from core.pii import PIIError, validate_mobile

MAX_TEXT = 300  # characters; gateways split long texts into several billed parts
TIMEOUT = 10    # seconds


def normalize_mobile(raw) -> str | None:
    """Return the 11-digit mainland mobile number in ``raw``, or None when it is not one. The rule is
    the kernel's (``core.pii.validate_mobile``, SECURITY.md IV4: strip +86 and separators, then
    ``^1[3-9]\\d{9}$``), so a number the volunteers plugin accepted is one SMS can reach."""
    if raw is None:
        return None
    try:
        return validate_mobile(raw)
    except PIIError:
        return None


def message_text(message) -> str:
    text = message.subject if not message.body else f"{message.subject}\n{message.body}"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def post_to_gateway(url: str, api_key: str, payload: dict) -> int:
    """POST ``payload`` as JSON to the gateway; return the HTTP status or raise (URLError, HTTPError)."""
    if urlparse(url).scheme not in ("http", "https"):
        raise ValueError("SMS_GATEWAY_URL must be an http:// or https:// URL")
    req = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                 "User-Agent": "timebank-sms/1.0",
                 **({"Authorization": f"Bearer {api_key}"} if api_key else {})})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - scheme checked above
        resp.read()
        return resp.status


class SmsChannel(Channel):
    name = "sms"

    def available(self, app) -> bool:
        return bool(app.config.get("SMS_GATEWAY_URL"))

    def phone_for(self, user):
        hook = getattr(current_app.extensions["timebank"].pm.hook, "sms_phone_for", None)
        return hook(user=user) if hook is not None else None

    def payload(self, message, phone: str) -> dict:
        return {"to": phone, "text": message_text(message), "reference": f"timebank-message-{message.id}"}

    def deliver(self, message, user) -> str:
        raw = self.phone_for(user)
        if not raw:
            return "no-address"
        phone = normalize_mobile(raw)
        if phone is None:
            return "invalid-phone"  # the number itself is personal data: never put it in the log
        cfg = current_app.config
        post_to_gateway(cfg["SMS_GATEWAY_URL"], cfg.get("SMS_API_KEY", ""), self.payload(message, phone))
        return "sent"
