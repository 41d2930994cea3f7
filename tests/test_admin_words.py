"""No English label in the Chinese admin (issue 18 point 6, issue 12 point 5): every create form, list and
details page of every built-in plugin's admin view speaks Chinese. The kernel gives ``column_labels`` to the
forms too (SecureModelView.scaffold_form), so a field is never shown by its English name ("Decided By",
the slot form's "Activity / Starts At")."""
from __future__ import annotations

import re

import pytest

from conftest import login
from fixtures.activities_plugins.actsupport import quick_hashing

pytestmark = pytest.mark.once  # labels do not depend on the database

ALL = ["notices", "volunteers", "teams", "documents", "rosters", "activities", "activity_forms", "ledger",
       "certificates", "donations", "exchange", "targets", "team_standards"]
ALLOWED = {"QQ", "PNG", "JPEG", "XLSX", "CSV", "PDF", "ID"}


def _english(texts):
    out = []
    for t in texts:
        t = re.sub(r"<[^>]+>|&nbsp;|&[a-z]+;|\s+", " ", t).strip()
        words = [w for w in re.findall(r"[A-Za-z]{3,}", t) if w not in ALLOWED]
        if words:
            out.append(t)
    return out


def test_every_admin_form_label_and_column_header_is_chinese(make_app, make_user, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_app(plugins=ALL)
    c = app.test_client()
    make_user("admin", "platform_admin")
    login(c, "admin")
    found = {}
    for view in app.extensions["admin"][0]._views:
        if not hasattr(view, "model"):
            continue
        pages = [view.url + "/"] + ([view.url + "/new/"] if view.can_create else [])
        for url in pages:
            r = c.get(url)
            if r.status_code != 200:
                continue
            html = r.get_data(as_text=True)
            texts = re.findall(r"<label[^>]*>(.*?)</label>", html, re.S) + \
                re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
            bad = _english(texts)
            if bad:
                found[url] = bad
    assert found == {}


def test_i18n_flask_admin_chrome_is_chinese_flash_search_box_and_page_size(make_app, make_user, monkeypatch):
    """issue 12 point 6: Flask-Admin's own strings are Chinese too. Its shipped zh_Hans_CN admin.mo is older
    than its admin.po ("Failed to create record." was English), its peewee backend left the search box's
    placeholder as the word "None", and its page-size menu asked for "20 items" / "100 items", which no
    catalogue had. Every list page of every built-in plugin is checked, and a refused create."""
    from conftest import csrf_from
    quick_hashing(monkeypatch)
    app = make_app(plugins=ALL)
    c = app.test_client()
    make_user("admin", "platform_admin")
    login(c, "admin")
    found = {}
    for view in app.extensions["admin"][0]._views:
        if not hasattr(view, "model"):
            continue
        html = c.get(view.url + "/").get_data(as_text=True)
        texts = re.findall(r'placeholder="([^"]*)"', html) + \
            re.findall(r'class="dropdown-item[^"]*"[^>]*>([^<]*)<', html) + \
            re.findall(r'data-toggle="dropdown"[^>]*>([^<]*)<', html)
        bad = _english(texts) + [t for t in texts if t.strip() == "None"]
        if bad:
            found[view.url] = bad
    assert found == {}
    page = c.get("/admin/core_user/new/").get_data(as_text=True)
    r = c.post("/admin/core_user/new/", data={"csrf_token": csrf_from(page), "username": ""})
    html = r.get_data(as_text=True)
    assert "创建记录失败" in html and "Failed to create" not in html


def test_i18n_edit_and_details_pages_label_every_field_in_chinese(make_app, make_user, monkeypatch):
    """issue 12 point 6: the edit and details pages of a row of every model (the demo data of every built-in
    plugin) label every field in Chinese and show booleans as 是/否 — Flask-Admin labels a column missing from
    ``column_labels`` by its English field name ("Must Change Password", "Decided By") and formats details
    with its own True/False. (tests/test_admin_zh_browser.py reads the same pages in a browser.)"""
    from flask_login import login_user
    from core.cli import load_demo
    from core.models import User
    quick_hashing(monkeypatch)
    app = make_app(plugins=ALL, PUBLIC_URL="http://127.0.0.1:5000")  # demo certificates carry the site's URL
    make_user("admin", "platform_admin")
    with app.app_context():
        load_demo(app)
    urls = []
    with app.test_request_context():
        login_user(User.get(User.username == "admin"))
        for view in app.extensions["admin"][0]._views:
            if not hasattr(view, "model"):
                continue
            row = view.get_query().order_by(view.model._meta.primary_key.desc()).first()
            if row is None:
                continue
            pk = view.get_pk_value(row)
            urls += ([f"{view.url}/edit/?id={pk}"] if view.can_edit else []) + \
                ([f"{view.url}/details/?id={pk}"] if view.can_view_details else [])
    assert len(urls) > 20, urls
    c = app.test_client()
    login(c, "admin")
    found = {}
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        texts = re.findall(r"<label[^>]*>(.*?)</label>", html, re.S) + \
            re.findall(r"<td>\s*<b>(.*?)</b>\s*</td>", html, re.S) + \
            [t for t in re.findall(r"<td>([^<]*)</td>", html) if t.strip() in ("True", "False")]
        bad = _english(texts) + [t for t in texts if t.strip() in ("True", "False")]
        if bad:
            found[url] = bad
    assert found == {}
