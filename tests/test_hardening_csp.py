"""AC10 (issue 11 point 10b): the Content-Security-Policy allows no inline script but the ones carrying
the response's nonce: no 'unsafe-inline' in script-src, every <script> of every page (the kernel's,
the plugins' and Flask-Admin's) carries the nonce named in the header, and no page has an inline event
handler (onclick=…, onchange=…), which the policy would block.

Walked on the demo site as a visitor, a volunteer and the platform admin: every GET page without
arguments, the first details and edit page of each admin list, and an activity's page. Before the fix,
script-src held 'unsafe-inline', inline scripts had no nonce and the language menu used onchange=.
"""
from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, login

ALL_PLUGINS = ["notices", "volunteers", "teams", "documents", "rosters", "activities", "activity_forms",
               "ledger", "certificates", "donations", "exchange", "targets"]
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
NONCE_ATTR = re.compile(r"""\bnonce=["']([^"']+)["']""")
HANDLER = re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=\s*["']""", re.I)
SKIP_ENDPOINT = re.compile(r"(^|\.)static$|export|\.pdf|download|logout|/checkin$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import os

    from core import create_app
    from core.cli import load_demo
    from core.db import db
    from conftest import database_url
    tmp = tmp_path_factory.mktemp("csp")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    from argon2 import PasswordHasher
    from core import security
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    cfg = {"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp), "TESTING": True,
           "TASKS_IMMEDIATE": True, "PLUGINS": ALL_PLUGINS, "PUBLIC_URL": "http://localhost",
           "DEFAULT_LOCALE": "zh_Hans_CN"}
    app = create_app(cfg)
    with app.app_context():
        load_demo(app)
    from core.models import User
    from core.security import PLATFORM_ADMIN, grant_role, hash_password
    from test_teams_workflow import new_volunteer
    with app.app_context():
        grant_role(User.create(username="csp_admin", password_hash=hash_password(PASSWORD)), PLATFORM_ADMIN)
    _vid, vol_name = new_volunteer(app, 9301)
    yield {"app": app, "volunteer": vol_name}
    mp.undo()
    if os.environ.get("TIMEBANK_TEST_DATABASE_URL") is None and not db.obj.is_closed():
        db.obj.close()


def _check_page(r, where) -> list[str]:
    """Problems of one HTML response under the policy."""
    problems = []
    csp = r.headers.get("Content-Security-Policy", "")
    script_src = next((d.strip() for d in csp.split(";") if d.strip().startswith("script-src")), "")
    if not script_src or "'unsafe-inline'" in script_src or "unsafe-eval" in script_src:
        problems.append(f"{where}: script-src {script_src!r}")
    html = r.get_data(as_text=True)
    m = re.search(r"'nonce-([^']+)'", script_src)
    nonce = m.group(1) if m else None
    for attrs in SCRIPT.findall(html):
        got = NONCE_ATTR.search(attrs)
        if not got or got.group(1) != nonce:
            problems.append(f"{where}: <script{attrs}> without the response's nonce")
    for h in HANDLER.findall(html):
        problems.append(f"{where}: inline event handler {h[:80]!r}")
    return problems


def _walk(client, app, who) -> tuple[list[str], int]:
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in r.methods and not r.arguments and not SKIP_ENDPOINT.search(r.endpoint)
             and not SKIP_ENDPOINT.search(r.rule)]
    paths = sorted({r.rule for r in rules})
    seen, problems, checked = set(), [], 0
    while paths:
        path = paths.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code != 500, (who, path)
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        checked += 1
        problems += _check_page(r, f"{who} {path}")
        html = r.get_data(as_text=True)
        # one level deeper: an admin list's first details and edit page, an activity's page
        if path.startswith("/admin/") and path.count("/") == 3:
            for kind in ("details", "edit"):
                m = re.search(rf'href="({re.escape(path)}{kind}/\?id=[^"&]+)', html)
                if m:
                    paths.append(m.group(1).replace("&amp;", "&"))
        for m in re.finditer(r'href="(/activities/\d+)"', html):
            paths.append(m.group(1))
            break
    return problems, checked


def test_ac10_csp_has_no_unsafe_inline_and_every_script_carries_the_nonce(demo):
    """issue 11 point 10: the walk of the public, volunteer and admin pages finds no script without the
    response's nonce, no inline event handler and no 'unsafe-inline' for scripts."""
    app = demo["app"]
    problems, total = [], 0
    for who, username in (("visitor", None), ("volunteer", demo["volunteer"]), ("admin", "csp_admin")):
        c = app.test_client()
        if username:
            assert login(c, username).status_code == 302, who
        found, checked = _walk(c, app, who)
        problems += found
        total += checked
    assert total > 40, total  # the walk really covered the site
    assert problems == [], "\n".join(problems[:40])


def test_ac10_each_response_gets_its_own_nonce(demo):
    """issue 11 point 10: a nonce is never reused: two requests of the same page name different ones."""
    c = demo["app"].test_client()
    a, b = (re.search(r"'nonce-([^']+)'", c.get("/login").headers["Content-Security-Policy"]).group(1)
            for _ in range(2))
    assert a != b and len(a) >= 16
