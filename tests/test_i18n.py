"""Localisation (issue 2 point 7): Chinese first, English second, every string translated."""
import pytest
from babel.messages.pofile import read_po

from conftest import csrf_from
from core.i18n import CORE_LOCALE_DIR, extract_template

pytestmark = pytest.mark.once  # no database behaviour: the SQLite pass is enough

PO = CORE_LOCALE_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def test_every_message_in_the_catalog_has_a_chinese_translation():
    missing = [m.id for m in _catalog() if m.id and (not m.string or
               (isinstance(m.string, tuple) and not all(m.string)))]
    assert missing == [], f"untranslated in {PO}: {missing}"


def test_every_string_in_the_code_is_in_the_catalog():
    """Fails when someone adds a user-visible string without running `timebank i18n update`."""
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract_template() if m.id}
    assert sorted(extracted - have) == []


def test_admin_is_chinese_by_default_and_flask_admin_strings_too(admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'lang="zh-CN"' in html or "工作台" in html
    assert "工作台" in html and "插件管理" in html and "退出登录" in html
    listing = admin_client.get("/admin/notices_notice/").get_data(as_text=True)
    assert "列表" in listing and "创建" in listing  # Flask-Admin's own zh_Hans_CN catalog


def test_user_switches_to_english_and_it_sticks(app, admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    r = admin_client.post("/account/language", data={"lang": "en", "next": "/admin/",
                                                     "csrf_token": csrf_from(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/")
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert "Dashboard" in html and "工作台" not in html
    from core.models import User
    with app.app_context():
        assert User.get(User.username == "admin").locale == "en"


def test_unknown_language_is_refused(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    r = admin_client.post("/account/language", data={"lang": "xx", "csrf_token": csrf_from(page)})
    assert r.status_code == 400
    assert "请求无效" in r.get_data(as_text=True)


def test_a_visitor_browses_without_a_cookie_and_switches_language_without_a_token(app):
    """Public pages set no session cookie for a visitor who is not logged in (nothing to protect yet,
    and nothing to store); the language switch works for them without a CSRF token, and only then does
    the visitor get a cookie (holding the language). For a logged-in user the token is still checked
    (test_security_accounts AC5)."""
    c = app.test_client()
    for path in ("/", "/notices/"):
        r = c.get(path)
        assert r.status_code == 200 and "Set-Cookie" not in r.headers, path
        assert 'name="csrf_token"' not in r.get_data(as_text=True)
    r = c.post("/account/language", data={"lang": "en", "next": "/notices/"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/notices/")
    assert "timebank_session=" in r.headers["Set-Cookie"]
    assert "Notices" in c.get("/notices/").get_data(as_text=True)
    assert c.post("/account/language", data={"lang": "xx"}).status_code == 400
