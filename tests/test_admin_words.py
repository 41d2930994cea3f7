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
