"""AC4 (issue 11 point 10c): the session cookie (and Flask-Login's remember cookie) carry Secure whenever
the site's public address (PUBLIC_URL) is https, without a second setting to remember."""
from __future__ import annotations

from conftest import PASSWORD, csrf_from
from fixtures.security_plugins.secsupport import PLUGINS, create_user, site_config

COOKIE = "timebank_session"


def _login_cookie(app, base):
    c = app.test_client()
    page = c.get("/login", base_url=base).get_data(as_text=True)
    r = c.post("/login", data={"username": "vol", "password": PASSWORD, "csrf_token": csrf_from(page)},
               headers={"Referer": base + "/login"}, base_url=base)  # Flask-WTF's HTTPS referer check
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    (h,) = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    return h


def test_ac4_cookies_are_secure_when_public_url_is_https(make_app):
    """issue 11 point 10: PUBLIC_URL = https://… turns Secure on for the session and remember cookies
    (before: only SESSION_COOKIE_SECURE did, so an https site with it unset sent cookies in clear)."""
    app = make_app(plugins=PLUGINS, **site_config(PUBLIC_URL="https://timebank.example.org"))
    create_user(app, "vol", "volunteer")
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    h = _login_cookie(app, "https://localhost")
    assert "Secure" in h and "HttpOnly" in h and "SameSite=Lax" in h
    # a visitor's language choice is a session cookie too: Secure as well
    r = app.test_client().post("/account/language", data={"lang": "en", "next": "/"},
                               base_url="https://localhost")
    (h,) = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert "Secure" in h


def test_ac4_cookies_are_not_secure_on_a_plain_http_site(make_app):
    """issue 11 point 10: an http PUBLIC_URL (a demo on a laptop) keeps cookies usable over http."""
    app = make_app(plugins=PLUGINS, **site_config(PUBLIC_URL="http://127.0.0.1:5000"))
    create_user(app, "vol", "volunteer")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert "Secure" not in _login_cookie(app, "http://localhost")
