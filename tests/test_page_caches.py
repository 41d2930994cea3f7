"""The kernel's per-app caches on the page path (bench/README.md) must not change what a page shows or
who may do what: the menu is cached per (logged in, roles, language) but still respects each user's
permissions and language; verified session cookies are cached but expiry, tampering and server-side
revocation still apply; the signed CSRF token is reused only within its own session."""
from __future__ import annotations

import re
import time

from conftest import PASSWORD, csrf_from, login


def nav(html: str) -> list[str]:
    """Titles of the site navigation links, in order."""
    header = html.split('id="site-menu"', 1)[1].split("</nav>", 1)[0]  # the collapsible menu (issue 18 point 3)
    return re.findall(r'<a [^>]*href="[^"]*">([^<]+)</a>', header)


def test_menu_respects_each_users_permissions_from_one_cache(app, make_user):
    make_user("boss", "platform_admin")
    make_user("vol", "volunteer")
    anon = app.test_client()
    assert "公告" in nav(anon.get("/notices/").get_data(as_text=True))
    assert "管理后台" not in nav(anon.get("/notices/").get_data(as_text=True))
    admin, vol = app.test_client(), app.test_client()
    assert login(admin, "boss").status_code == 302
    assert login(vol, "vol").status_code == 302
    for _ in range(2):  # the second round is served from the cache
        a = nav(admin.get("/notices/").get_data(as_text=True))
        v = nav(vol.get("/notices/").get_data(as_text=True))
        assert a[:1] == ["管理后台"] and "站内信" in a and "修改密码" in a
        assert "管理后台" not in v and "站内信" in v and "公告" in v
        assert "登录" in nav(anon.get("/notices/").get_data(as_text=True))
        assert "站内信" not in nav(anon.get("/notices/").get_data(as_text=True))
    # one cache entry per (logged in, roles, language), not per user or request
    keys = app.extensions["timebank"].kept["core.menu"].keys()
    assert sorted((k[0], k[1]) for k in keys) == [
        (False, ()), (True, (("platform_admin", ""),)), (True, (("volunteer", ""),))]


def test_menu_follows_a_role_granted_later(app, make_user):
    from core.security import grant_role
    u = make_user("late", "volunteer")
    c = app.test_client()
    assert login(c, "late").status_code == 302
    assert "管理后台" not in nav(c.get("/notices/").get_data(as_text=True))
    with app.app_context():
        grant_role(u, "platform_admin")
    assert "管理后台" in nav(c.get("/notices/").get_data(as_text=True))


def test_language_switch_changes_the_cached_menu(app, make_user):
    make_user("lang", "platform_admin")
    c = app.test_client()
    assert login(c, "lang").status_code == 302
    page = c.get("/notices/").get_data(as_text=True)
    assert "管理后台" in nav(page)
    r = c.post("/account/language", data={"lang": "en", "next": "/notices/", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    en = nav(c.get("/notices/").get_data(as_text=True))
    assert "Admin" in en and "Notices" in en and "Inbox" in en and "管理后台" not in en
    page = c.get("/notices/").get_data(as_text=True)
    c.post("/account/language", data={"lang": "zh_Hans_CN", "next": "/", "csrf_token": csrf_from(page)})
    assert "管理后台" in nav(c.get("/notices/").get_data(as_text=True))


def test_menu_titles_are_escaped(app):
    """Titles are resolved to text once per language and then escaped like any other text."""
    from markupsafe import Markup
    from core.web import MenuItem, menu_items
    pm = app.extensions["timebank"].pm

    class Evil:
        @staticmethod
        def register_menu(user):
            return [MenuItem("<b>x</b>", "/x", None, order=1), MenuItem(Markup("<i>y</i>"), "/y", None, order=2)]
    from core.hookspecs import hookimpl
    Evil.register_menu = hookimpl(Evil.register_menu)
    pm.register(Evil, name="evil")
    try:
        html = app.test_client().get("/notices/").get_data(as_text=True)
        assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
        assert "<i>y</i>" in html  # Markup stays markup
        with app.test_request_context():
            assert [i.url for i in menu_items(None, "zh_Hans_CN")][:2] == ["/x", "/y"]
    finally:
        pm.unregister(name="evil")


def _cookie(client):
    return client.get_cookie("timebank_session").value


def test_cached_session_cookie_still_expires(app, make_user, monkeypatch):
    make_user("exp", "volunteer")
    c = app.test_client()
    assert login(c, "exp").status_code == 302
    assert c.get("/inbox").status_code == 200
    assert c.get("/inbox").status_code == 200  # from the cookie cache
    assert app.session_interface._cache
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    r = c.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_tampered_or_foreign_cookie_is_refused(app, make_user):
    make_user("tamp", "volunteer")
    c = app.test_client()
    assert login(c, "tamp").status_code == 302
    assert c.get("/inbox").status_code == 200
    value = _cookie(c)
    head, sig = value.rsplit(".", 1)
    bad = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    other = app.test_client()
    other.set_cookie("timebank_session", bad)
    r = other.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert bad not in app.session_interface._cache


def test_logout_revokes_a_cached_cookie(app, make_user):
    make_user("out", "volunteer")
    c = app.test_client()
    assert login(c, "out").status_code == 302
    c.get("/inbox")  # the first page after login adds the new session's CSRF token to the cookie
    page = c.get("/inbox").get_data(as_text=True)
    stolen = _cookie(c)
    assert stolen in app.session_interface._cache
    assert c.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("timebank_session", stolen)
    r = replay.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_flash_messages_are_shown_once(app, make_user):
    """Sessions holding lists (flash messages) are never served from the cookie cache."""
    make_user("flash", "volunteer")
    c = app.test_client()
    assert login(c, "flash").status_code == 302
    page = c.get("/account/password").get_data(as_text=True)
    r = c.post("/account/password", data={"current": PASSWORD, "new": "another Good passw0rd",
                                          "confirm": "another Good passw0rd", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    first = c.get("/notices/").get_data(as_text=True)
    assert first.count('class="flash') == 1
    second = c.get("/notices/").get_data(as_text=True)
    assert 'class="flash' not in second


def test_csrf_token_is_reused_per_session_only(app, make_user):
    make_user("tok1", "volunteer")
    make_user("tok2", "volunteer")
    a, b = app.test_client(), app.test_client()
    assert login(a, "tok1").status_code == 302 and login(b, "tok2").status_code == 302
    ta1 = csrf_from(a.get("/notices/").get_data(as_text=True))
    ta2 = csrf_from(a.get("/inbox").get_data(as_text=True))
    tb = csrf_from(b.get("/notices/").get_data(as_text=True))
    assert ta1 == ta2 and ta1 != tb
    # b's token does not work in a's session; a's own does
    r = a.post("/account/language", data={"lang": "en", "next": "/", "csrf_token": tb})
    assert r.status_code == 400
    r = a.post("/account/language", data={"lang": "en", "next": "/", "csrf_token": ta1})
    assert r.status_code == 302


def test_inbox_links_built_once_point_at_each_message(app, make_user):
    from core import messages
    u = make_user("ibx", "volunteer")
    with app.test_request_context():
        for i in range(3):
            messages.send(u, f"主题{i}", "正文", category="test")
    c = app.test_client()
    assert login(c, "ibx").status_code == 302
    html = c.get("/inbox").get_data(as_text=True)
    links = re.findall(r'<a href="(/inbox/\d+)">主题(\d)</a>', html)
    assert len(links) == 3
    for href, _ in links:
        assert c.get(href).status_code == 200


def test_cached_links_follow_the_script_root(app, make_user):
    """Layout links and menu URLs are cached per script root: a site mounted under a prefix (and the
    same app answering without it) each get their own."""
    c = app.test_client()
    plain = c.get("/notices/").get_data(as_text=True)
    mounted = c.get("/notices/", base_url="http://localhost/tb").get_data(as_text=True)
    assert 'href="/static/site.css"' in plain and 'href="/notices/"' in plain
    assert 'href="/tb/static/site.css"' in mounted and 'href="/tb/notices/"' in mounted
    assert 'href="/notices/"' not in mounted and 'action="/tb/account/language"' in mounted
    assert 'href="/static/site.css"' in c.get("/notices/").get_data(as_text=True)


def test_nul_bytes_still_refused_in_query_and_body(app):
    c = app.test_client()
    assert c.get("/notices/?q=a%00b").status_code == 400
    assert c.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 400
    assert c.get("/notices/").status_code == 200


def test_the_kept_header_is_each_sessions_own_and_carries_each_pages_path(app, make_user):
    """The layout's header is rendered once per (menu, language, user, CSRF token) and kept: two users
    of the same role never see each other's name or token, a new login gets its own, and the language
    form's ``next`` is the current page's path, escaped, on every page."""
    make_user("ann", "volunteer")
    make_user("ben", "volunteer")
    a, b = app.test_client(), app.test_client()
    assert login(a, "ann").status_code == 302 and login(b, "ben").status_code == 302
    for _ in range(2):  # the second round comes from the kept header
        pa, pb = a.get("/notices/").get_data(as_text=True), b.get("/notices/").get_data(as_text=True)
        assert "(ann)" in pa and "(ben)" not in pa and "(ben)" in pb and "(ann)" not in pb
        assert csrf_from(pa) != csrf_from(pb)
    # the kept token is the session's own: it passes Flask-WTF's check for that session only
    assert a.post("/account/language", data={"lang": "zh_Hans_CN", "next": "/",
                                             "csrf_token": csrf_from(pb)}).status_code == 400
    assert a.post("/account/language", data={"lang": "zh_Hans_CN", "next": "/",
                                             "csrf_token": csrf_from(pa)}).status_code == 302
    evil = '/notices/?q="><script>alert(1)</script>'
    page = a.get(evil).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert 'name="next" value="/notices/?q=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'name="next" value="/inbox?"' in a.get("/inbox").get_data(as_text=True)
    # logging in again (a new session and token) renders afresh
    a.post("/logout", data={"csrf_token": csrf_from(a.get("/notices/").get_data(as_text=True))})
    assert "(ann)" not in a.get("/notices/").get_data(as_text=True)
    assert login(a, "ann").status_code == 302
    again = a.get("/notices/").get_data(as_text=True)
    assert "(ann)" in again and csrf_from(again) != csrf_from(pa)


def test_kept_html_fills_each_hole_escaped_and_once(app):
    """core.web.kept_html: rendered once per key, holes filled per call, escaped, in one pass: a value
    that holds another hole's marker (a path may carry %00) is shown as it is, not filled again."""
    from core.web import kept_html
    renders = []

    def render(markers):
        renders.append(markers)
        return f'<p title="{markers["a"]}">{markers["b"]}</p>'
    with app.test_request_context("/"):
        first = kept_html("test.holes", ("k",), render, {"a": 'x"<', "b": "\x00a\x00"})
        again = kept_html("test.holes", ("k",), render, {"a": "y", "b": "z"})
    assert len(renders) == 1
    assert str(first) == '<p title="x&#34;&lt;">\x00a\x00</p>'
    assert str(again) == '<p title="y">z</p>'


def test_page_level_checks_skip_object_only_hooks_and_follow_a_changed_plugin_set(app, make_user):
    """AC: ``can(perm)`` without an object calls only the ``permission_allowed`` implementations that
    may judge without one (``team_scoped``'s are marked ``object_only`` and abstain anyway); a plugin
    registered later is heard at once, and an object-level check still asks every implementation."""
    from core import security
    from core.hookspecs import hookimpl
    pm = app.extensions["timebank"].pm
    user = make_user("perm_admin", "platform_admin")
    calls = []

    class DenyPages:
        @staticmethod
        @hookimpl
        def permission_allowed(user, permission, obj):
            calls.append(("page", obj))
            return False if permission == "notices.notice.view" else None

    class DenyObjects:
        @staticmethod
        def permission_allowed(user, permission, obj):
            calls.append(("object", obj))
            return False if obj is not None else None
    DenyObjects.permission_allowed.object_only = True
    DenyObjects.permission_allowed = hookimpl(DenyObjects.permission_allowed)

    with app.test_request_context():
        assert security.can("notices.notice.view", user=user)
        pm.register(DenyPages, name="deny_pages")
        pm.register(DenyObjects, name="deny_objects")
        try:
            assert not security.can("notices.notice.view", user=user)          # heard at once
            assert security.can("notices.notice.create", user=user)
            assert ("object", None) not in calls                               # skipped on pages
            assert not security.can("notices.notice.create", obj=object(), user=user)   # asked with an object
            assert any(kind == "object" for kind, _ in calls)
        finally:
            pm.unregister(name="deny_pages")
            pm.unregister(name="deny_objects")
        assert security.can("notices.notice.view", user=user)
