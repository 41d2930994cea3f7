"""A volunteer registered by the team (bulk import, admin form) sets up their own login (R-REG-1,
R-NAT-4: volunteers look up their own records): name, ID and mobile must match a record without an
account; every mismatch gets the same answer and counts towards the login limit (AC2); nothing is
written on a refusal; the new login sees the volunteer's own points."""
from __future__ import annotations

import pytest

from conftest import PASSWORD, csrf_from, login
from fixtures.activities_plugins.actsupport import quick_hashing
from test_teams_workflow import cn_id, phone

N = 501


@pytest.fixture
def site(make_app, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_app(plugins=["volunteers", "teams", "documents", "activities", "ledger"], DEFAULT_LOCALE="en")
    from plugins.volunteers import services as vs
    with app.test_request_context():   # as the bulk import does: a record, no account
        v = vs.register({"name": "王建国", "id_type": "cn_id", "id_number": cn_id(N), "phone": phone(N),
                         "agreement": True}, create_account=False)
    return app, v.id, v.number


def _form(**over):
    data = {"name": "王建国", "id_type": "cn_id", "id_number": cn_id(N), "phone": phone(N),
            "password": PASSWORD, "password2": PASSWORD}
    data.update(over)
    return data


def _state(app, vid):
    from core.models import User
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return Volunteer.get_by_id(vid).user_id, User.select().count()


def test_a_registered_volunteer_activates_the_account_and_sees_their_points(site):
    app, vid, number = site
    c = app.test_client()
    page = c.get("/activate").get_data(as_text=True)
    assert "Activate your account" in page
    r = c.post("/activate", data={**_form(), "csrf_token": csrf_from(page)})
    assert r.status_code == 201 and number in r.get_data(as_text=True)
    user_id, _n = _state(app, vid)
    assert user_id is not None
    from core.models import AuditLog
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "volunteer.account_claimed").count() == 1
        from plugins.ledger import services as L
        L.credit_hours(record_id=1, volunteer_id=vid, kind="service", minutes=180, version=1)
    c2 = app.test_client()
    login(c2, number)
    assert 'id="points">3<' in c2.get("/points/me").get_data(as_text=True)
    # the record has an account now: a second activation is refused like any mismatch
    page = c.get("/activate").get_data(as_text=True)
    r = c.post("/activate", data={**_form(password="another long phrase 2", password2="another long phrase 2"),
                                  "csrf_token": csrf_from(page)})
    assert r.status_code == 400 and "do not match" in r.get_data(as_text=True)


@pytest.mark.parametrize("over", [{"name": "王建"}, {"phone": phone(N + 1)}, {"id_number": cn_id(N + 7)}])
def test_mismatched_details_get_one_answer_and_write_nothing(site, over):
    app, vid, _number = site
    c = app.test_client()
    before = _state(app, vid)
    page = c.get("/activate").get_data(as_text=True)
    r = c.post("/activate", data={**_form(**over), "csrf_token": csrf_from(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "These details do not match a volunteer record without an account" in html
    assert _state(app, vid) == before


def test_bad_input_is_refused_field_by_field(site):
    app, vid, _number = site
    c = app.test_client()
    page = c.get("/activate").get_data(as_text=True)
    r = c.post("/activate", data={**_form(id_number="440103199001011234", phone="123", password="123456",
                                          password2="x"), "csrf_token": csrf_from(page)})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    for field in ("f-id_number", "f-phone", "f-password"):
        assert f'href="#{field}"' in html
    assert _state(app, vid)[0] is None
    assert c.post("/activate", data=_form()).status_code == 400      # no CSRF token


def test_ac2_repeated_mismatches_block_further_attempts(site):
    app, vid, _number = site
    c = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        page = c.get("/activate").get_data(as_text=True)
        c.post("/activate", data={**_form(phone=phone(N + 2)), "csrf_token": csrf_from(page)})
    page = c.get("/activate").get_data(as_text=True)
    r = c.post("/activate", data={**_form(), "csrf_token": csrf_from(page)})   # even the right details now
    assert r.status_code == 400 and "Too many attempts" in r.get_data(as_text=True)
    assert _state(app, vid)[0] is None
