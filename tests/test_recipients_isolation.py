"""AC6 for the recipients register: another team's admin (team B) attacks team A's recipient and every record
about it, in every view and every way Flask-Admin reaches a row (list, details, edit GET and POST,
export, reveal, the agreement PDF, bulk action, the quarterly filing and the follow-up list); a volunteer is
refused everything. Each attack answers 403/404 or a page without team A's data, and writes nothing."""
import datetime as _dt

import pytest

from core.testing import csrf_from, login

MARK = "欧阳秀英"
PHONE = "13912345678"
VIEWS = {"recipients_recipient": None, "recipients_followup": "follow_up", "recipients_wish": "wish",
         "recipients_service_request": "service_request", "recipients_referral": "referral"}


@pytest.fixture
def app(make_app):
    return make_app(plugins=["recipients", "privacy"])


@pytest.fixture
def world(app, make_user):
    from plugins.recipients import services as S
    from plugins.recipients.models import Recipient, ServiceRequest, Wish
    from plugins.teams.services import register_team
    with app.app_context():
        ids = [register_team({"name": f"示例志愿服务队{i}", "leader_name": "王示例",
                              "leader_phone": f"1380013800{i}"}).id for i in (1, 2)]
    make_user("boss", "platform_admin")
    make_user("admin1", "team_admin", scope=f"team:{ids[0]}")
    make_user("admin2", "team_admin", scope=f"team:{ids[1]}")
    make_user("vol", "volunteer")
    from core.models import User
    with app.app_context():
        boss = User.get(User.username == "boss")
        r = S.register({"team": ids[0], "file_kind": "long", "category": "elder_alone", "name": MARK,
                        "phone": PHONE, "consent": "1"}, actor=boss)
        S.give_referral_consent(r, actor=boss)
        rows = {"recipients_recipient": r.id,
                "recipients_followup": S.add_follow_up(r, {"visited_on": _dt.date.today().isoformat(),
                                                           "visited_by": MARK}, actor=boss).id,
                "recipients_wish": Wish.create(recipient=r.id, wish=MARK, collected_on=_dt.date.today()).id,
                "recipients_service_request": ServiceRequest.create(recipient=r.id, service=MARK,
                                                                    applied_on=_dt.date.today()).id,
                "recipients_referral": S.refer(r, {"to_body": MARK, "reason": MARK}, actor=boss).id}
    return app, ids, rows


def _snapshot(app):
    from plugins.recipients.models import FollowUp, Recipient, Referral, ServiceRequest, Wish
    with app.app_context():
        return [sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in m.select().dicts())
                for m in (Recipient, FollowUp, Wish, ServiceRequest, Referral)]


def _clean(text):
    return MARK not in text and PHONE not in text and "欧*" not in text


@pytest.mark.parametrize("view", list(VIEWS))
def test_ac6_another_teams_admin_reaches_no_row_of_the_recipients_register(world, client, view):
    app, ids, rows = world
    rid = rows[view]
    before = _snapshot(app)
    login(client, "admin2")
    base = f"/admin/{view}/"
    assert _clean(client.get(base).get_data(as_text=True))
    for url in (f"{base}details/?id={rid}", f"{base}edit/?id={rid}"):
        r = client.get(url)
        assert r.status_code in (302, 403, 404) and _clean(r.get_data(as_text=True)), url
    for fmt in ("csv", "xlsx"):
        r = client.get(f"{base}export/{fmt}/")
        assert r.status_code in (200, 403, 404)
        if fmt == "xlsx" and r.status_code == 200:
            import io
            import openpyxl
            cells = [str(c.value) for row in openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows() for c in row]
            assert not any(MARK in c or "欧*" in c for c in cells)
        elif r.status_code == 200:
            assert _clean(r.data.decode("utf-8-sig"))
    token = csrf_from(client.get(f"/admin/recipients_recipient/").get_data(as_text=True))
    client.post(f"{base}edit/?id={rid}", data={"name": "改", "notes": "改", "wish": "改", "csrf_token": token})
    client.post(f"{base}action/", data={"action": "referral_consent", "rowid": str(rid), "csrf_token": token})
    client.post(f"{base}delete/", data={"id": str(rid), "csrf_token": token})
    assert _snapshot(app) == before


def test_ac6_another_teams_admin_gets_no_reveal_agreement_filing_or_follow_up(world, client):
    app, ids, rows = world
    rid = rows["recipients_recipient"]
    login(client, "admin2")
    token = csrf_from(client.get("/admin/recipients_recipient/").get_data(as_text=True))
    assert client.post(f"/admin/recipients_recipient/reveal/?id={rid}&field=phone",
                       headers={"X-CSRFToken": token}).status_code in (403, 404)
    assert client.get(f"/admin/recipients_recipient/agreement/?id={rid}").status_code == 404
    t = _dt.date.today()
    for url in ("/admin/recipients_quarter/", f"/admin/recipients_quarter/?year={t.year}&quarter=4",
                "/admin/recipients_quarter/follow-up"):
        assert _clean(client.get(url).get_data(as_text=True)), url
    r = client.get(f"/admin/recipients_quarter/export.xlsx?year={t.year}&quarter=4")
    assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[-500:])
    import io
    import openpyxl
    cells = [str(c.value) for row in openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows() for c in row]
    assert not any("欧*" in c for c in cells)
    # positive control: team A's admin sees the row (masked), so the refusals above are the scoping at work
    login(client, "admin1")
    assert "欧**英" in client.get("/admin/recipients_recipient/").get_data(as_text=True)
    assert client.get(f"/admin/recipients_recipient/agreement/?id={rid}").status_code == 200


@pytest.mark.parametrize("view", list(VIEWS) + ["recipients_quarter"])
def test_ac6_a_volunteer_is_refused_every_recipients_page(world, client, view):
    login(client, "vol")
    assert client.get(f"/admin/{view}/").status_code in (403, 404)
