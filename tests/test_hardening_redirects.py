"""NS3 (issue 11 point 3): every ``next`` / return ``url`` taken from a request goes through the one
safe-redirect check, ``core.web.safe_next``: the outside probe's vectors end at a same-site path with a
302 (NUL, refused site-wide, with a 400), never another host and never a 500.

Before the fix, ``/\\t/evil.example`` was passed through (browsers drop the tab: ``//evil.example``) and a
CR/LF reached the Location header (a 500); Flask-Admin's own check let CR/LF through as well.
"""
from __future__ import annotations

import pytest

from conftest import PASSWORD, csrf_from, login
from fixtures.security_plugins.secsupport import PLUGINS, create_user, site_config

# the outside probe's vectors, and their cousins
VECTORS = [
    "/\t/evil.example", "/\\evil.example", "\\\\evil.example", "//evil.example", "///evil.example",
    "/\\/evil.example", "https://evil.example", "http:evil.example", "HTTPS://evil.example/x",
    "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "/%0d%0aSet-Cookie:x=1",
    "/\r\nSet-Cookie:x=1", "\r\n", "/\n/evil.example", "/ /evil.example", "/\u3000/evil.example",
    "/\u200b/evil.example", "/\x0b/evil.example", "/%09/evil.example", "/%5Cevil.example",
    "/%2F/evil.example", "/%252F%252Fevil.example", "/%E3%80%80/evil.example", "evil.example",
    "x" * 3000, "/\x00", "/%00",
]
GOOD = ["/", "/admin/", "/activities/?q=%E6%95%AC%E8%80%81&page=2", "/notices/?next=/x",
        "/activities/敬老", "/admin/core_user/?sort=1#top"]

SAME_SITE_DEFAULT = "/"


def _assert_safe_redirect(r, vector):
    assert r.status_code != 500, vector
    if "\x00" in vector:  # a NUL is refused up front, before any view (core.web.refuse_nul_bytes)
        assert r.status_code in (302, 400), (vector, r.status_code)
        if r.status_code == 400:
            return
    assert r.status_code == 302, (vector, r.status_code)
    loc = r.headers["Location"]
    assert loc.startswith("/") and not loc.startswith("//") and "\\" not in loc, (vector, loc)
    assert "evil" not in loc and "\r" not in loc and "\n" not in loc, (vector, loc)


@pytest.fixture
def site(make_app):
    app = make_app(plugins=PLUGINS, **site_config())
    create_user(app, "admin", "platform_admin")
    create_user(app, "vol", "volunteer")
    return app


def test_ns3_safe_next_refuses_the_probe_vectors_and_keeps_same_site_paths(app):
    """issue 11 point 3: the one check refuses every vector (the home page, or the caller's default,
    instead) and keeps a path on this site as given, also with a Chinese query or path."""
    from core.web import is_safe_next, safe_next
    with app.test_request_context("/"):
        for vector in VECTORS:
            assert not is_safe_next(vector), vector
            assert safe_next(vector) == SAME_SITE_DEFAULT, vector
            assert safe_next(vector, default=None) is None, vector
        for target in GOOD:
            assert safe_next(target) == target, target
        assert safe_next(None) == SAME_SITE_DEFAULT and safe_next(["/"]) == SAME_SITE_DEFAULT


def test_ns3_login_next_is_a_same_site_path(site):
    """issue 11 point 3: ``/login?next=…`` after a successful login, for every vector."""
    for vector in VECTORS:
        c = site.test_client()
        tok = csrf_from(c.get("/login").get_data(as_text=True))
        r = c.post("/login", query_string={"next": vector},
                   data={"username": "vol", "password": PASSWORD, "csrf_token": tok})
        _assert_safe_redirect(r, vector)
        if "\x00" not in vector:
            assert r.headers["Location"] == SAME_SITE_DEFAULT, vector


def test_ns3_login_next_keeps_a_good_path(site):
    c = site.test_client()
    tok = csrf_from(c.get("/login").get_data(as_text=True))
    r = c.post("/login", query_string={"next": "/inbox"},
               data={"username": "vol", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"


def test_ns3_language_switch_next_is_a_same_site_path(site):
    """issue 11 point 3: the language menu's ``next``, for a visitor and for a logged-in user."""
    visitor = site.test_client()
    user = site.test_client()
    assert login(user, "vol").status_code == 302
    tok = csrf_from(user.get("/account/password").get_data(as_text=True))
    for vector in VECTORS:
        r = visitor.post("/account/language", data={"lang": "en", "next": vector})
        _assert_safe_redirect(r, vector)
        r = user.post("/account/language", data={"lang": "en", "next": vector, "csrf_token": tok})
        _assert_safe_redirect(r, vector)


def test_ns3_admin_return_url_is_a_same_site_path(site):
    """issue 11 point 3: Flask-Admin's return ``url`` (export of an unknown type, an unknown action)
    goes through the same check; its own let CR/LF through (a 500)."""
    c = site.test_client()
    assert login(c, "admin").status_code == 302
    tok = csrf_from(c.get("/admin/core_user/").get_data(as_text=True))
    for vector in VECTORS:
        r = c.get("/admin/core_user/export/bogus/", query_string={"url": vector})
        _assert_safe_redirect(r, vector)
        if "\x00" not in vector:
            assert r.headers["Location"] == "/admin/core_user/", vector
        r = c.post("/admin/core_user/action/", data={"action": "no_such_action", "url": vector,
                                                     "csrf_token": tok})
        _assert_safe_redirect(r, vector)


def test_ns3_admin_return_url_keeps_a_good_path(site):
    c = site.test_client()
    assert login(c, "admin").status_code == 302
    r = c.get("/admin/core_user/export/bogus/", query_string={"url": "/admin/core_user/?page=1"})
    assert r.status_code == 302 and r.headers["Location"] == "/admin/core_user/?page=1"


@pytest.mark.parametrize("referrer", ["http://localhost/\\evil.example", "http://localhost//evil.example",
                                      "http://localhost/%09/evil.example", "http://evil.example/x"])
def test_ns3_documents_back_link_is_a_same_site_path(make_app, referrer):
    """issue 11 point 3: the documents plugin's back link (from the Referer) goes through the check."""
    app = make_app(plugins=["documents"])
    from plugins.documents.views import _same_site_referrer
    with app.test_request_context("/", headers={"Referer": referrer}):
        assert _same_site_referrer() is None
    with app.test_request_context("/", headers={"Referer": "http://localhost/activities/?page=2"}):
        assert _same_site_referrer() == "/activities/?page=2"
