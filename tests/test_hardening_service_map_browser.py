"""R-MAP-1 (issue 18 point 9) in Chromium: the activity listing's service map at phone (390 px) and
desktop (1280 px) width, with the tile server unreachable (the setting points at
http://127.0.0.1:9/{z}/{x}/{y}.png, nothing listens there). The map is an enhancement: the markers are
still placed, a marker's popup shows the title as text (a title with markup stays text, no script runs)
with the time and a link to the activity, no script error and no request refused by the
Content-Security-Policy (the tile origin is allowed, only its connections fail), and the list below
shows every activity, those without coordinates too. Screenshots are kept in the test's tmp folder (and
copied to ``$TIMEBANK_SCREENSHOT_DIR`` when set)."""
from __future__ import annotations

import os
import shutil

import pytest
from test_browser import page, served_app, server  # noqa: F401 - the served site, its database ("site"), a page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.once]

XSS = "<img src=x onerror=alert(1)>关爱独居老人"
TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


def _setup(app) -> dict:
    from core import settings
    from fixtures.activities_plugins.actsupport import new_activity, slot, soon
    from test_teams_workflow import new_team
    tid = new_team(app, "越秀区北京街党员志愿服务队", admin="ta")
    ids = {"xss": new_activity(app, tid, title=XSS, latitude="23.129", longitude="113.264",
                               shifts=[slot(soon(2))]),
           "park": new_activity(app, tid, title="越秀公园垃圾分类宣传", latitude="23.139", longitude="113.268",
                                shifts=[slot(soon(3))]),
           "plain": new_activity(app, tid, title="周末课业辅导", shifts=[slot(soon(4))])}
    with app.test_request_context():
        settings.change("activities", {"map_tile_url": TILES, "map_attribution": "测试瓦片 <b>x</b>"})
    return ids


def _shot(page, server, name):
    path = server["tmp"] / name
    page.screenshot(path=str(path), full_page=True)
    out = os.environ.get("TIMEBANK_SCREENSHOT_DIR")
    if out:
        os.makedirs(out, exist_ok=True)
        shutil.copy(path, os.path.join(out, name))
    return path


def test_r_map_1_the_map_places_markers_and_the_list_stays_whole_without_tiles(server, site, page):  # noqa: F811
    """issue 18 point 9: at 390 px and 1280 px, tiles unreachable: two markers on the map, the escaped
    title and the link in a popup, every activity in the list, no script error, no CSP refusal."""
    from playwright.sync_api import expect
    ids = _setup(site)
    base = server["base"]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.problems.clear()
        page.goto(base + "/activities/")
        page.wait_for_load_state("load")
        markers = page.locator("#service-map .leaflet-marker-icon")
        expect(markers).to_have_count(2)
        # the list is the page: every activity, the one without coordinates included
        titles = page.locator("ul.activities li.activity strong").all_text_contents()
        assert sorted(titles) == sorted([XSS, "越秀公园垃圾分类宣传", "周末课业辅导"])
        # the map fits the screen: no horizontal scroll caused by it
        box = page.locator("#service-map").bounding_box()
        assert box and box["width"] <= width and box["height"] >= 200
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # the attribution is the setting's text, markup shown as text
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("测试瓦片 <b>x</b>")
        page.locator(f"#service-map .leaflet-marker-icon[title='{XSS}']").click()
        popup = page.locator(".leaflet-popup-content .service-map-popup")
        expect(popup).to_be_visible()
        expect(popup.locator(".service-map-title")).to_have_text(XSS)
        assert popup.locator("img").count() == 0
        expect(popup.locator(".service-map-when")).to_have_text(
            page.locator("ul.activities li.activity", has_text="关爱独居老人").locator(".meta").inner_text()
            .split(" · ")[2])
        link = popup.locator("a.service-map-link")
        expect(link).to_have_attribute("href", f"/activities/{ids['xss']}")
        expect(link).to_have_text("查看详情并报名")
        # the screenshot once the popup has faded in and the map has panned to show it
        expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
        page.wait_for_timeout(500)
        _shot(page, server, f"service-map-{width}.png")
        # what went wrong may only be the unreachable tiles: no script error, no CSP refusal, nothing else
        others = [p for p in page.problems if "127.0.0.1:9/" not in p]
        assert others == [], others
        assert any("127.0.0.1:9/" in p for p in page.problems)  # the tiles were really asked for
        link.click()
        expect(page).to_have_url(base + f"/activities/{ids['xss']}")
    assert dialogs == []  # the title's onerror never ran

    # 离我最近: the browser's position, then the listing sorted by distance (sort=nearest&lat&lng)
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 23.139, "longitude": 113.268})
    page.goto(base + "/activities/")
    page.get_by_role("button", name="离我最近").click()
    page.wait_for_url("**/activities/?sort=nearest&lat=23.13900&lng=113.26800")
    titles = page.locator("ul.activities li.activity strong").all_text_contents()
    assert titles == ["越秀公园垃圾分类宣传", XSS]  # the nearest first; only activities with a place
    expect(page.locator("#filters select[name=sort]")).to_have_value("nearest")
