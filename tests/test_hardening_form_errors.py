"""Form errors reach the field (issue 12 point 2): a service or ``on_model_change`` raising
``core.errors.FieldErrors`` inside an admin create/edit shows each message beside its field, in the user's
language, keeps what was typed, and writes nothing — done once in ``core.admin.SecureModelView``, the plugin
view only raising (fixture plugin tests/fixtures/adminkit_plugins/fx_formerrors)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import csrf_from, login

PLUGIN_DIR = Path(__file__).resolve().parent / "fixtures" / "adminkit_plugins"
MESSAGE = "请输入 0 至 10 之间的数字。"


@pytest.fixture
def site(make_app, make_user):
    app = make_app(plugins=["fx_formerrors"], PLUGIN_PATHS=[str(PLUGIN_DIR)])
    make_user("admin", "platform_admin")
    c = app.test_client()
    assert login(c, "admin").status_code == 302
    return app, c


def grants(app):
    from fx_formerrors import Grant
    with app.app_context():
        return [(g.title, g.amount, g.budget) for g in Grant.select().order_by(Grant.id)]


def form_group(html: str, field: str) -> str:
    """The form-group of ``field`` on an admin create/edit page."""
    for chunk in html.split('<div class="form-group')[1:]:
        if f'id="{field}"' in chunk:
            return chunk
    raise AssertionError(f"no form-group for {field}")


def post(c, url, **data):
    page = c.get(url).get_data(as_text=True)
    return c.post(url, data={"csrf_token": csrf_from(page), **data})


@pytest.mark.parametrize("endpoint", ["fx_grant", "fx_grant_service", "fx_grant_mixin"])
def test_iv5_service_field_error_is_shown_beside_its_field_and_nothing_is_written(site, endpoint):
    """issue 12 point 2: on_model_change (fx_grant) or the view's service (fx_grant_service, fx_grant_mixin
    where a mixin saves; the service writes the row before it finds the rule broken) raises
    FieldErrors({"amount": ...}); the page shows the Chinese
    message inside the amount field's form-group, the typed values stay in the form, no row is left and
    no English "Failed to create record" is flashed. On main the first answered with a generic flash at the
    top and the second with a 500."""
    app, c = site
    r = post(c, f"/admin/{endpoint}/new/", title="Lantern repairs", amount="50", budget="10")
    assert r.status_code == 200, r.status_code
    html = r.get_data(as_text=True)
    assert MESSAGE in form_group(html, "amount")
    assert MESSAGE not in form_group(html, "title")
    assert 'value="Lantern repairs"' in form_group(html, "title")
    assert 'value="50"' in form_group(html, "amount")
    assert "Failed to create" not in html and "Something went wrong" not in html
    assert grants(app) == []


@pytest.mark.parametrize("endpoint", ["fx_grant", "fx_grant_service", "fx_grant_mixin"])
def test_iv5_field_error_on_edit_keeps_the_stored_row(site, endpoint):
    """issue 12 point 2: the same on the edit page; the stored row is unchanged."""
    app, c = site
    from fx_formerrors import Grant
    with app.app_context():
        gid = Grant.create(title="Tea for elders", amount=5, budget=10).id
    r = post(c, f"/admin/{endpoint}/edit/?id={gid}", title="Tea and cakes", amount="80", budget="10")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert MESSAGE in form_group(html, "amount")
    assert 'value="Tea and cakes"' in form_group(html, "title")
    assert grants(app) == [("Tea for elders", 5, 10)]


def test_iv5_error_for_no_field_is_flashed_and_nothing_is_written(site):
    """issue 12 point 2: a message about no field of the form ("__all__") is shown at the top, in Chinese."""
    app, c = site
    r = post(c, "/admin/fx_grant_service/new/", title="forbidden", amount="1", budget="10")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "此项为必填项。" in re.sub(r"\s+", " ", html.split('<form')[0] + html)
    assert grants(app) == []


def test_iv5_field_error_while_deleting_is_flashed_and_the_row_stays(site):
    """issue 12 point 2: ``on_model_delete`` raising FieldErrors: flashed, not a 500, the row stays."""
    app, c = site
    from fx_formerrors import Grant
    with app.app_context():
        gid = Grant.create(title="Keep me", amount=3, budget=10).id
    page = c.get("/admin/fx_grant/").get_data(as_text=True)
    r = c.post("/admin/fx_grant/delete/", data={"id": str(gid), "csrf_token": csrf_from(page)},
               follow_redirects=True)
    assert r.status_code == 200
    assert "此项为必填项。" in r.get_data(as_text=True)
    assert grants(app) == [("Keep me", 3, 10)]


def test_iv5_field_error_in_an_inline_edit_is_the_answer_and_nothing_is_written(make_app, make_user, monkeypatch):
    """issue 12 point 2: an inline edit (x-editable, ``column_editable_list``) whose save raises FieldErrors
    answers 400 with the Chinese message (not a 500, not a lost message) and the row is unchanged."""
    from fx_formerrors import Grant, GrantView
    monkeypatch.setattr(GrantView, "column_editable_list", ["amount"], raising=False)
    app = make_app(plugins=["fx_formerrors"], PLUGIN_PATHS=[str(PLUGIN_DIR)])
    make_user("admin", "platform_admin")
    c = app.test_client()
    assert login(c, "admin").status_code == 302
    with app.app_context():
        gid = Grant.create(title="Soup", amount=5, budget=10).id
    page = c.get("/admin/fx_grant/").get_data(as_text=True)
    r = c.post("/admin/fx_grant/ajax/update/", data={"list_form_pk": str(gid), "amount": "99",
                                                      "csrf_token": csrf_from(page)})
    assert r.status_code == 400, r.status_code
    assert MESSAGE in r.get_data(as_text=True)
    assert grants(app) == [("Soup", 5, 10)]
