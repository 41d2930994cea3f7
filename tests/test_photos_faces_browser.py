"""R-PRIV-3 in a real browser (issue 13 point 5): ``timebank init`` + ``timebank serve``; the team admin
uploads the public-domain face photo (tests/fixtures/astronaut.jpg) on the outcome page in Chromium, marked
as showing a service recipient who has not consented; a visitor's phone (390 px) opens the public activity
page, and the image that page shows is the blurred copy (its face region differs from the original, the
rest does not); the original's URL is refused to the visitor."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fixtures.activities_plugins.actsupport import Clock, at, new_activity, slot
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_browser import served_app, server  # noqa: F401 - the served site and its database, shared
from test_photos_faces import FACE, FACE_PHOTO
from test_teams_workflow import PASSWORD, new_team

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


def test_r_priv_3_9_staff_upload_a_recipient_photo_and_the_public_page_serves_it_blurred(
        server, site, monkeypatch):  # noqa: F811
    from playwright.sync_api import sync_playwright
    from plugins.activities import photos
    from plugins.activities import services as act
    from plugins.activities.models import Photo
    clock = Clock(monkeypatch)
    team_id = new_team(site, "照片打码志愿服务队", admin="photo_ta")
    clock.set(at("2026-10-08", 9))
    aid = new_activity(site, team_id, shifts=[slot(at("2026-10-12", 9))], title="探访独居老人（照片）")
    with site.app_context():
        act.finish_due(at("2026-10-13"))
    base = server["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            staff = browser.new_context(locale="zh-CN").new_page()
            staff.set_default_timeout(30_000)
            problems = []
            staff.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            staff.goto(base + "/login")
            staff.locator("input[name=username]").fill("photo_ta")
            staff.locator("input[name=password]").fill(PASSWORD)
            staff.locator("main form button[type=submit]").last.click()
            staff.wait_for_load_state()
            staff.goto(f"{base}/admin/activities_activity/outcome/?id={aid}")
            staff.locator("#o-served_count").fill("12")
            staff.locator("#o-summary").fill("探访12户独居老人")
            staff.locator("#o-photos").set_input_files(str(FACE_PHOTO))
            staff.get_by_label("这些照片中有服务对象").check()
            staff.get_by_role("button", name="保存").click()
            staff.wait_for_load_state()
            assert "/details/" in staff.url, staff.content()[:2000]
            with site.app_context():
                p = Photo.select().where(Photo.activity == aid).first()
                assert p is not None and p.shows_recipients and p.faces_found >= 1
                original = photos.path_of(p).read_bytes()
                blurred = (photos.folder() / p.blurred_name).read_bytes()

            visitor = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True).new_page()
            visitor.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
            visitor.goto(f"{base}/activities/{aid}")
            img = visitor.locator(".activity-photos img").first
            img.scroll_into_view_if_needed()
            visitor.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
            src = img.get_attribute("src")
            shown = visitor.request.get(base + src)
            assert shown.status == 200 and shown.body() == blurred
            got = np.asarray(Image.open(io.BytesIO(shown.body())).convert("RGB")).astype(int)
            orig = np.asarray(Image.open(io.BytesIO(original)).convert("RGB")).astype(int)
            x, y, w, h = FACE
            assert np.abs(got[y:y + h, x:x + w] - orig[y:y + h, x:x + w]).mean() > 12
            far = np.ones(orig.shape[:2], dtype=bool)
            far[max(0, y - 60):y + h + 60, max(0, x - 60):x + w + 60] = False
            assert np.abs(got[far] - orig[far]).mean() < 2.0
            # the image fits the phone's width
            assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            # the original's address is refused to the visitor
            r = visitor.request.get(f"{base}/admin/activities_activity/photo/{p.id}", max_redirects=0)
            assert r.status in (302, 401, 403) and r.body() != original
            assert not problems, problems
        finally:
            browser.close()
