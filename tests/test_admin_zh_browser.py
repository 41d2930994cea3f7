"""Every admin page in Chinese, in a real browser (issue 12 point 6).

``timebank init`` creates the site with every built-in plugin and the demo data of each (``load_demo``, as
``timebank init --demo``); headless Chromium in zh-CN logs in as the platform admin and opens every admin
page: each list, each create page and the edit and details pages of a row of each model. On every page it reads what a
person sees or hears of the UI — visible text, placeholders, titles, aria-labels, button values — and fails
on any English word. Data values that are no words (usernames, audit action names, e-mail addresses, codes)
and short tokens (QQ, PDF, XLSX, CSV, ID …) are allowed.
"""
from __future__ import annotations

import re

import pytest

from conftest import PASSWORD
from test_browser import CHROMIUM, CHROMIUM_ARGS, server, served_app  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

ALLOWED = {"QQ", "PDF", "XLSX", "CSV", "ID", "PNG", "JPEG", "JPG", "URL", "QR", "SMS", "IP", "HTTP", "HTTPS",
           "GB", "MB", "KB"}

# what a person sees of the UI chrome; a token with _ . @ / : or a digit is a data value (a username,
# an audit action such as record.created, an address), not a word of the interface
COLLECT = r"""() => {
  const out = [];
  const visible = (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const p = n.parentElement;
    if (!p || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION'].includes(p.tagName)) continue;
    if (p.closest('code, kbd, samp')) continue;  // names a machine reads (a plugin, a command)
    const t = n.textContent.trim();
    if (t && visible(p)) out.push(['text', t]);
  }
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label],input[type=submit],input[type=button],button[value]')) {
    for (const a of ['placeholder', 'title', 'aria-label']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push([a, v.trim()]);
    }
    if (el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type) && el.value) out.push(['value', el.value]);
  }
  out.push(['title', document.title]);
  return out;
}"""


def english(items, data=frozenset()):
    """The texts holding an English word; ``data`` are values of the database (usernames) shown as such."""
    bad = []
    for kind, text in items:
        words = []
        for token in re.split(r"\s+", re.sub(r"`[^`]*`", " ", text)):  # `a command` is code
            if re.search(r"[_.@/:\\\d=#`]", token) or token in data:  # identifiers, addresses, numbers
                continue
            words += [w for w in re.findall(r"[A-Za-z]{3,}", token) if w not in ALLOWED]
        if words:
            bad.append(f"{kind}: {text[:80]}")
    return bad


def pages(app, username):
    """(label, url) of every admin list, create, edit and details page (the edit and details pages of the
    newest row each view lists to ``username``, from the demo data)."""
    from flask_login import login_user
    from core.models import User
    out = []
    with app.test_request_context():
        login_user(User.get(User.username == username))
        admin = app.extensions["admin"][0]
        for view in admin._views:
            if not view.url.startswith("/admin") or view.url == "/admin":
                continue
            out.append((f"{view.endpoint} list", view.url + "/"))
            if not hasattr(view, "model"):
                continue
            if view.allow_create:
                out.append((f"{view.endpoint} create", view.url + "/new/"))
            row = view.get_query().order_by(view.model._meta.primary_key.desc()).first()
            if row is None:
                continue
            pk = view.get_pk_value(row)
            if view.allow_edit:
                out.append((f"{view.endpoint} edit", f"{view.url}/edit/?id={pk}"))
            if view.can_view_details:
                out.append((f"{view.endpoint} details", f"{view.url}/details/?id={pk}"))
    return out


def test_i18n_every_admin_page_of_every_builtin_plugin_speaks_chinese(server, site):  # noqa: F811
    """issue 12 point 6: no English word of the UI chrome on any admin list, create, edit or details page."""
    from playwright.sync_api import sync_playwright
    from core.cli import load_demo
    from core.models import User
    from core.security import grant_role, hash_password
    with site.app_context():
        load_demo(site)
        u = User.create(username="zh_admin", password_hash=hash_password(PASSWORD))
        grant_role(u, "platform_admin", "")
        data = frozenset(u.username for u in User.select())
    todo = pages(site, "zh_admin")
    loaded = set(site.extensions["timebank"].loaded)
    assert {"teams", "activities", "volunteers", "exchange", "donations", "certificates"} <= loaded
    assert len(todo) > 40, todo
    base = server["base"]
    found, errors = {}, []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(20_000)
            page.goto(base + "/login")
            page.get_by_label("用户名").fill("zh_admin")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(base + "/admin/")
            todo.insert(0, ("dashboard", "/admin/"))
            for label, url in todo:
                resp = page.goto(base + url)
                if resp is None or resp.status != 200:
                    errors.append(f"{label} {url}: {resp and resp.status}")
                    continue
                bad = english(page.evaluate(COLLECT), data)
                if bad:
                    found[f"{label} {url}"] = sorted(set(bad))
        finally:
            browser.close()
    assert errors == []
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
