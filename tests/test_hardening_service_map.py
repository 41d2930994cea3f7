"""R-MAP-1 (issue 18 point 9): the service map (服务地图) of the activity listing. The activities of the
page that have coordinates travel to static/map.js as a JSON block (title, time, link), titles as data
that the script writes as text; the tile server is a setting of the activities plugin, checked when it
is changed, and only the listing's Content-Security-Policy allows images from its origin
(``core.web.csp_allow``), nothing else new. Leaflet is vendored, not loaded from a CDN."""
from __future__ import annotations

import html as _html
import json
import re
from pathlib import Path

import pytest

from fixtures.activities_plugins.actsupport import make_site, new_activity, quick_hashing, slot, soon
from test_teams_workflow import new_team

XSS = "<img src=x onerror=alert(1)>探访"
DATA = re.compile(r'<script type="application/json" id="service-map-data" nonce="[^"]+">(.*?)</script>', re.S)
ROOT = Path(__file__).resolve().parent.parent
BASE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'")


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_site(make_app, listener=False)
    tid = new_team(app, "阳光志愿服务队", admin="ta")
    ids = {"mapped": new_activity(app, tid, title=XSS, latitude="23.129", longitude="113.264",
                                  shifts=[slot(soon(2))]),
           "plain": new_activity(app, tid, title="周末课业辅导", shifts=[slot(soon(3))])}
    return app, ids


def _policy(r) -> dict[str, list[str]]:
    nonce = re.compile(r"'nonce-[^']+'")
    return {p.split()[0]: [s for s in p.split()[1:] if not nonce.fullmatch(s)]
            for p in r.headers["Content-Security-Policy"].split("; ")}


def _markers(html: str) -> list[dict]:
    m = DATA.search(html)
    return json.loads(m.group(1)) if m else []


def test_r_map_1_activities_with_coordinates_are_markers_and_every_activity_is_listed(site):
    """issue 18 point 9: the mapped activity is a marker with its title, time and link; the one without
    coordinates is listed and not mapped; Leaflet and map.js come from the site's own static files."""
    app, ids = site
    r = app.test_client().get("/activities/")
    html = r.get_data(True)
    assert r.status_code == 200
    markers = _markers(html)
    assert [m["url"] for m in markers] == [f"/activities/{ids['mapped']}"]
    m = markers[0]
    assert (m["lat"], m["lng"], m["title"]) == (23.129, 113.264, XSS)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", m["when"])
    assert f'href="/activities/{ids["plain"]}"' in html and "周末课业辅导" in html  # listed, not mapped
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    for src in ("vendor/leaflet/leaflet.js", "map.js"):
        assert f'<script src="/activities/static/{src}" nonce="' in html
        assert app.test_client().get(f"/activities/static/{src}").status_code == 200
    assert "unpkg.com" not in html and "cdn" not in html.lower()


def test_r_map_1_xss_a_title_stays_text_in_the_page_and_the_map_data(site):
    """issue 18 point 9 (SECURITY.md output encoding): a title with markup appears escaped in the list
    and only as JSON-escaped data in the map block (no raw "<img" anywhere); map.js writes it with
    textContent, never innerHTML."""
    app, _ids = site
    html = app.test_client().get("/activities/").get_data(True)
    assert "<img src=x" not in html
    assert _html.escape(XSS, quote=False) in html
    block = DATA.search(html).group(1)
    assert "<" not in block and "\\u003cimg" in block
    js = (ROOT / "plugins/activities/static/map.js").read_text()
    assert "textContent" in js and ".innerHTML =" not in js and "bindPopup(popup(" in js


def test_r_map_1_only_the_listing_allows_the_tile_origin_for_images(site):
    """issue 18 point 9: the listing's policy adds the tile server's origin to img-src and nothing else;
    a page without a map keeps the site's policy unchanged."""
    app, _ids = site
    c = app.test_client()
    listing = _policy(c.get("/activities/"))
    base = {p.split()[0]: p.split()[1:] for p in BASE_CSP.split("; ")}
    assert listing["img-src"] == base["img-src"] + ["https://tile.openstreetmap.org"]
    assert {k: v for k, v in listing.items() if k != "img-src"} == {k: v for k, v in base.items() if k != "img-src"}
    assert _policy(c.get("/activities/?kind=training")) == base  # no activity with coordinates: no map
    assert _policy(c.get("/")) == base
    assert "service-map-data" not in c.get("/activities/?kind=training").get_data(True)


def test_r_map_1_the_tile_server_setting_changes_the_map_and_the_policy(site):
    """issue 18 point 9: an admin points the map at another tile server (天地图, numbered subdomains through
    Leaflet's {s}); the page loads its tiles from there and the policy allows that origin instead, the
    default no longer; the change is audited."""
    app, _ids = site
    from core import settings
    from core.models import AuditLog
    url = "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=abc123"
    with app.test_request_context():
        settings.change("activities", {"map_tile_url": url, "map_attribution": "天地图 <GS(2024)0650号>"})
    r = app.test_client().get("/activities/")
    html = r.get_data(True)
    assert f'data-tiles="{_html.escape(url)}"' in html
    assert 'data-attribution="天地图 &lt;GS(2024)0650号&gt;"' in html
    img = _policy(r)["img-src"]
    assert img == ["'self'", "data:", "https://*.tianditu.gov.cn"]
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "setting.changed").count() == 2


@pytest.mark.parametrize("bad", [
    "https://tile.openstreetmap.org/tiles.png",                      # no {z}/{x}/{y}
    "javascript:alert(1)//{z}/{x}/{y}",
    "ftp://tiles.example.org/{z}/{x}/{y}.png",
    "https://tiles.example.org; script-src * /{z}/{x}/{y}.png",      # would extend the policy
    "https://tiles.example.org'/{z}/{x}/{y}.png",
    "https://a.{s}.example.org/{z}/{x}/{y}.png",
    "//tiles.example.org/{z}/{x}/{y}.png",
])
def test_r_map_1_a_tile_url_that_is_not_an_http_template_is_refused_and_nothing_saved(site, bad):
    """issue 18 point 9 (IV): the setting is refused with a message, the map keeps its tiles."""
    app, _ids = site
    from core import settings
    from core.models import Setting
    with app.test_request_context():
        with pytest.raises(settings.SettingError) as e:
            settings.change("activities", {"map_tile_url": bad})
        assert "{z}" in str(e.value.errors["map_tile_url"])
    with app.app_context():
        assert Setting.get_or_none(Setting.key == "activities.map_tile_url") is None
    assert _policy(app.test_client().get("/activities/"))["img-src"][-1] == "https://tile.openstreetmap.org"


def test_r_map_1_csp_allow_takes_origins_for_fetched_resources_only(site):
    """issue 18 point 9: the kernel's csp_allow extends img/connect/font/media sources of one response
    with origins; a keyword, a path, a ";" or a script directive is refused."""
    from core import web
    app = site[0]
    with app.test_request_context():
        web.csp_allow("img-src", "https://tile.openstreetmap.org", "http://127.0.0.1:9")
        web.csp_allow("connect-src", "https://api.example.org")
        for directive, source in (("script-src", "https://x.org"), ("img-src", "'unsafe-inline'"),
                                  ("img-src", "https://x.org/path"), ("img-src", "https://x.org; script-src *"),
                                  ("img-src", "*"), ("img-src", "data:")):
            with pytest.raises(ValueError):
                web.csp_allow(directive, source)
        resp = web.security_headers(app.response_class("ok"))
    policy = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org http://127.0.0.1:9;" in policy
    assert "connect-src 'self' https://api.example.org;" in policy
    assert policy.replace(" https://tile.openstreetmap.org http://127.0.0.1:9", "").replace(
        "connect-src 'self' https://api.example.org; ", "") == web.CSP_PLAIN


def test_r_map_1_leaflet_is_vendored_with_its_licence_and_version():
    """issue 18 point 9: a maintained map library in the repository (no CDN), its licence beside it and
    its version named in the plugin README."""
    vendor = ROOT / "plugins/activities/static/vendor/leaflet"
    for name in ("leaflet.js", "leaflet.css", "LICENSE", "images/marker-icon.png", "images/marker-shadow.png",
                 "images/layers.png"):
        assert (vendor / name).is_file(), name
    version = re.search(r"Leaflet (\d+\.\d+\.\d+)", (vendor / "leaflet.js").read_text()[:200]).group(1)
    assert f"Leaflet {version}" in (ROOT / "plugins/activities/README.md").read_text()


def test_r_map_1_the_admin_settings_page_changes_the_tile_server_in_chinese(make_app, make_user):
    """issue 18 point 9: 系统设置 ▸ activities shows the two map settings with their Chinese labels; a
    tile URL that is not a template is refused on the page with the reason in Chinese and nothing saved;
    a good one is saved and the listing uses it."""
    from test_hardening_settings import post_settings, settings_form, stored
    from conftest import login
    app = make_app(plugins=["volunteers", "teams", "documents", "activities"], DEFAULT_LOCALE="zh_Hans_CN")
    make_user("admin", "platform_admin")
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    html = admin.get("/admin/settings/activities").get_data(True)
    assert "地图瓦片服务器（URL 模板）" in html and "地图版权说明" in html
    values, _token = settings_form(admin, "activities")
    assert values["map_tile_url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    r = post_settings(admin, "activities", map_tile_url="https://tiles.example.org/tile.png")
    assert r.status_code in (200, 400) and "请输入含 {z}、{x} 和 {y} 的" in r.get_data(True)
    assert "activities.map_tile_url" not in stored(app)
    url = "https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY"
    r = post_settings(admin, "activities", map_tile_url=url)
    assert r.status_code == 302, r.get_data(True)[-1500:]
    assert stored(app)["activities.map_tile_url"] == url
