"""The service recipients register (R-REC-1, R-PRIV-6; issue 13 point 4)."""
import datetime as _dt
import io

import pytest

from core.testing import csrf_from, login

PLUGINS = ["recipients", "privacy"]
URL = "/admin/recipients_recipient/"
ID = "11010519491231002X"


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def teams(app, make_user):
    from plugins.teams.services import register_team
    with app.app_context():
        ids = [register_team({"name": f"示例志愿服务队{i}", "leader_name": "王示例",
                              "leader_phone": f"1380013800{i}"}).id for i in (1, 2)]
    for i, team_id in enumerate(ids, 1):
        make_user(f"admin{i}", "team_admin", scope=f"team:{team_id}")
    make_user("boss", "platform_admin")
    return ids


def _user(name):
    from core.models import User
    return User.get(User.username == name)


def _register(team_id, actor="boss", **over):
    from plugins.recipients import services as S
    data = {"team": team_id, "file_kind": "long", "category": "elder_alone", "name": "张秀英",
            "id_number": ID, "phone": "13912345678", "community": "西湖社区", "consent": "1", **over}
    return S.register(data, actor=_user(actor))


def test_r_rec_1_registration_encrypts_masks_and_records_the_guardians_consent(app, teams):
    from core.db import db
    from plugins.privacy.consents import consented
    from plugins.recipients.models import Recipient
    with app.app_context():
        r = _register(teams[0], actor="admin1", category="child", name="李小明", id_number="",
                      guardian_name="李大明", guardian_relation="父亲", guardian_phone="13800001111",
                      consent_by="guardian")
        raw = db.execute_sql("SELECT phone, guardian_name, guardian_phone FROM recipients_recipient").fetchone()
        assert "13912345678" not in str(raw) and "李大明" not in str(raw)
        r = Recipient.get_by_id(r.id)
        assert (r.phone, r.guardian_name, r.consent_by, r.consent_giver) == ("13912345678", "李大明", "guardian", "李*明")
        assert r.notice_version == "2024-01" and r.consent_at is not None
        assert consented(("recipient", r.id), "recipient_registration")


@pytest.mark.parametrize("over, field", [
    ({"category": "unknown"}, "category"), ({"consent": ""}, "consent"), ({"id_number": "110105194912310021"}, "id_number"),
    ({"phone": "12345"}, "phone"), ({"category": "child"}, "guardian_name"), ({"name": ""}, "name")])
def test_r_rec_1_bad_input_gets_a_chinese_error_and_writes_nothing(app, teams, over, field):
    from flask_babel import force_locale
    from plugins.recipients.models import Recipient
    from plugins.recipients.services import RecipientError
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        with pytest.raises(RecipientError) as e:
            _register(teams[0], **over)
        msg = str(e.value.errors[field])
        assert any("\u4e00" <= ch <= "\u9fff" for ch in msg), msg
        assert Recipient.select().count() == 0


def test_r_rec_1_a_team_admin_cannot_register_for_another_team(app, teams):
    from plugins.recipients.models import Recipient
    from plugins.recipients.services import RecipientError
    with app.app_context():
        with pytest.raises(RecipientError) as e:
            _register(teams[1], actor="admin1")
        assert "team" in e.value.errors and Recipient.select().count() == 0


def test_r_priv_6_referral_only_with_prior_consent(app, teams):
    from core.models import AuditLog
    from plugins.recipients import services as S
    from plugins.recipients.models import Referral
    with app.app_context():
        r = _register(teams[0])
        with pytest.raises(S.RecipientError) as e:
            S.refer(r, {"to_body": "西湖社工站", "reason": "长期照护"}, actor=_user("admin1"))
        assert "__all__" in e.value.errors and Referral.select().count() == 0
        assert AuditLog.select().where(AuditLog.action == "recipients.referral_refused").count() == 1
        with pytest.raises(S.RecipientError) as e:   # a missing reason is refused too
            S.give_referral_consent(r, actor=_user("admin1"))
            S.refer(r, {"to_body": "西湖社工站", "reason": ""}, actor=_user("admin1"))
        assert "reason" in e.value.errors and Referral.select().count() == 0
        ref = S.refer(r, {"to_body": "西湖社工站", "reason": "长期照护"}, actor=_user("admin1"))
        assert ref.recipient_id == r.id
        assert AuditLog.select().where(AuditLog.action == "recipients.referred").count() == 1


def test_r_priv_6_emergency_disclosure_goes_through_privacy_and_the_person_is_to_be_told(app, teams):
    from plugins.privacy import disclosures as D
    from plugins.recipients import services as S
    with app.app_context():
        r = _register(teams[0])
        data = {"case": "life_danger", "legal_basis": "个人信息保护法第十三条", "disclosed": "病史、联系电话",
                "recipient_kind": "medical", "recipient": "市急救中心", "risk_assessment": "独居长者突发昏迷"}
        with pytest.raises(D.DisclosureError) as e:    # no risk assessment: refused
            S.emergency_disclosure(r, {**data, "risk_assessment": ""}, actor=_user("admin1"))
        assert "risk_assessment" in e.value.errors and D.Disclosure.select().count() == 0
        with pytest.raises(S.RecipientError):          # another team's admin: unknown recipient
            S.emergency_disclosure(r, data, actor=_user("admin2"))
        d = S.emergency_disclosure(r, data, actor=_user("admin1"))
        assert (d.subject_kind, d.subject_id, d.emergency, d.team_id) == ("recipient", r.id, True, teams[0])
        assert S.to_be_told(_user("admin1")) == []      # not approved yet
        D.decide(d, approve=True, reason="紧急", actor=_user("boss"))
        assert [x[0].id for x in S.to_be_told(_user("admin1"))] == [r.id]
        assert S.to_be_told(_user("admin2")) == []
        D.record_subject_told(D.Disclosure.get_by_id(d.id), "电话告知本人", actor=_user("admin1"))
        assert S.to_be_told(_user("admin1")) == []


def test_r_rec_1_follow_up_list_counts_working_days_and_follows_the_setting(app, teams):
    from core.settings import change
    from plugins.recipients import services as S
    with app.app_context():
        r = _register(teams[0])
        other = _register(teams[0], name="王芳", id_number="", phone="")
        day = _dt.date.today() + _dt.timedelta(days=60)   # about 40 working days
        S.add_follow_up(other, {"visited_on": _dt.date.today().isoformat(), "visited_by": "陈志愿"},
                        actor=_user("admin1"))
        with pytest.raises(S.RecipientError) as e:
            S.add_follow_up(r, {"visited_on": "2099-01-01", "visited_by": ""}, actor=_user("admin1"))
        assert set(e.value.errors) == {"visited_on", "visited_by"}
        assert {x[0].id for x in S.not_followed_up(_user("admin1"), day)} == {r.id, other.id}
        change("recipients", {"follow_up_days": 60})
        assert S.not_followed_up(_user("admin1"), day) == []
        assert S.not_followed_up(_user("admin2"), day + _dt.timedelta(days=100)) == []


def test_r_rec_1_quarterly_filing_xlsx_lists_the_quarters_files_sorted(app, teams, admin_client):
    import openpyxl
    with app.app_context():
        _register(teams[1], file_kind="short", name="赵四")
        _register(teams[0], name="钱五", category="disabled")
    t = _dt.date.today()
    r = admin_client.get(f"/admin/recipients_quarter/export.xlsx?year={t.year}&quarter={(t.month - 1) // 3 + 1}")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    body = [row for row in rows if row and row[0] in (1, 2)]
    assert [row[1] for row in body] == ["长期档案", "短期档案"]
    assert [row[4] for row in body] == ["钱*", "赵*"]     # names masked in the filing list
    assert "13912345678" not in str(rows)


def test_r_rec_1_public_api_for_team_label_get_scoped(app, teams):
    from plugins.recipients import services as S
    with app.test_request_context():
        from flask_babel import force_locale
        r = _register(teams[0])
        closed = _register(teams[0], name="孙七", id_number="", phone="")
        from plugins.recipients.models import Recipient
        Recipient.update(status="closed").where(Recipient.id == closed.id).execute()
        assert [x.id for x in S.for_team(teams[0])] == [r.id] and S.for_team(teams[1]) == []
        with force_locale("zh_Hans_CN"):
            assert S.label(r) == "张*英（长者）"
        assert S.get_scoped(r.id, _user("admin1")).id == r.id
        assert S.get_scoped(r.id, _user("admin2")) is None
        assert S.get_scoped("x", _user("admin1")) is None


def test_r_priv_6_privacy_contract_exports_and_erases_a_recipient(app, teams):
    from plugins.privacy.contract import Subject
    from plugins.recipients import privacy as P
    from plugins.recipients.models import Recipient
    with app.app_context():
        r = _register(teams[0])
        parts = P.export(Subject("recipient", recipient_id=r.id))
        assert "张秀英" in str(parts[0].rows) and "13912345678" in str(parts[0].rows)
        assert P.export(Subject("volunteer", volunteer_id=r.id)) is None
        P.erase(Subject("recipient", recipient_id=r.id), _user("boss"))
        r = Recipient.get_by_id(r.id)
        assert (r.name, r.phone, r.id_number, r.status) == ("已删除", "", "", "erased")


def test_r_rec_1_admin_list_is_masked_and_a_full_view_is_audited(app, teams, admin_client):
    from core.models import AuditLog
    with app.app_context():
        r = _register(teams[0])
    page = admin_client.get(URL).get_data(as_text=True)
    assert "139****5678" in page and "13912345678" not in page and "张*英" in page and "张秀英" not in page
    details = admin_client.get(f"{URL}details/?id={r.id}").get_data(as_text=True)
    assert ID not in details and "张秀英" in details and "139****5678" in details
    with app.app_context():     # opening the full file is audited
        assert AuditLog.select().where((AuditLog.action == "pii.viewed") & (AuditLog.object_id == str(r.id))).count() == 1
    token = csrf_from(details)
    resp = admin_client.post(f"{URL}reveal/?id={r.id}&field=phone", headers={"X-CSRFToken": token})
    assert resp.get_json()["value"] == "13912345678"
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "pii.viewed").count() == 2


def test_r_rec_1_admin_form_registers_with_a_guardians_consent(app, client, teams):
    from plugins.recipients.models import Recipient
    login(client, "admin1")
    form = client.get(URL + "new/").get_data(as_text=True)
    base = {"team": teams[0], "file_kind": "short", "category": "child", "name": "李小明",
            "guardian_name": "李大明", "guardian_relation": "父亲", "guardian_phone": "13800001111",
            "consent_by": "guardian", "csrf_token": csrf_from(form)}
    r = client.post(URL + "new/", data=base)          # no consent ticked: refused beside the field
    assert r.status_code == 200 and "同意" in r.get_data(as_text=True)
    with app.app_context():
        assert Recipient.select().count() == 0
    r = client.post(URL + "new/", data={**base, "consent": "y"})
    assert r.status_code == 302
    with app.app_context():
        assert Recipient.get().consent_by == "guardian"


# ------------------------------------------------------------------ AC6: another team's ids
def test_ac6_another_teams_admin_reaches_no_recipient_anywhere(app, client, teams):
    from plugins.recipients import services as S
    from plugins.recipients.models import FollowUp, Referral
    with app.app_context():
        r = _register(teams[0])
        S.give_referral_consent(r, actor=_user("boss"))
        S.add_follow_up(r, {"visited_on": _dt.date.today().isoformat(), "visited_by": "陈志愿"}, actor=_user("boss"))
    login(client, "admin2")
    assert "张*英" not in client.get(URL).get_data(as_text=True) and "张秀英" not in client.get(URL).get_data(as_text=True)
    assert client.get(f"{URL}details/?id={r.id}").status_code in (302, 404)
    assert client.get(f"{URL}edit/?id={r.id}").status_code in (302, 404)
    import openpyxl
    export = client.get(f"{URL}export/xlsx/")
    assert export.status_code == 200
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows() for c in row]
    assert not any("张" in str(c) for c in cells)
    form = client.get("/admin/recipients_followup/new/").get_data(as_text=True)
    assert f'value="{r.id}"' not in form                       # not in the picker
    token = csrf_from(form)
    client.post("/admin/recipients_followup/new/", data={"recipient": r.id, "visited_on": "2026-01-05",
                                                         "visited_by": "x", "csrf_token": token})
    client.post("/admin/recipients_referral/new/", data={"recipient": r.id, "to_body": "x", "reason": "y",
                                                         "csrf_token": token})
    assert "陈志愿" not in client.get("/admin/recipients_followup/").get_data(as_text=True)
    with app.app_context():
        assert FollowUp.select().count() == 1 and Referral.select().count() == 0
        with pytest.raises(S.RecipientError):
            S.give_referral_consent(r, actor=_user("admin2"))
        with pytest.raises(S.RecipientError):
            S.refer(r, {"to_body": "x", "reason": "y"}, actor=_user("admin2"))
    r2 = client.post(f"{URL}reveal/?id={r.id}&field=phone", headers={"X-CSRFToken": token})
    assert r2.status_code in (403, 404)


def test_r_priv_6_recipients_never_appear_on_public_pages(app, teams):
    with app.app_context():
        _register(teams[0])
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(("/admin", "/static")):
            continue
        page = client.get(rule.rule).get_data(as_text=True)
        assert "张秀英" not in page and "13912345678" not in page and "张*英" not in page, rule.rule
        checked += 1
    assert checked > 5


# ------------------------------------------------------------------ privacy's staff-filed requests
def test_r_priv_6_a_staff_request_names_a_recipient_and_exports_then_erases_them(app, teams, admin_client):
    import zipfile
    from plugins.privacy import requests as R
    from plugins.recipients.models import Recipient
    with app.app_context():
        r = _register(teams[0])
        other = _register(teams[1], name="周八", id_number="", phone="")
    page = admin_client.get("/admin/privacy_requests_admin/").get_data(as_text=True)
    assert f'<option value="{r.id}">张*英' in page and 'name="subject_ref"' not in page
    token = csrf_from(page)
    assert admin_client.post("/admin/privacy_requests_admin/file", data={"recipient_id": "999", "kind": "export",
                                                                   "csrf_token": token}).status_code == 302
    with app.app_context():
        assert R.SubjectRequest.select().count() == 0          # unknown recipient: nothing written
    admin_client.post("/admin/privacy_requests_admin/file", data={"recipient_id": r.id, "kind": "export",
                                                            "csrf_token": token})
    with app.app_context():
        req = R.SubjectRequest.get()
        assert (req.recipient_id, req.subject_ref) == (r.id, "张*英（长者）")
        R.decide(req, _user("boss"), grant=True, outcome="已导出")
    z = admin_client.get(f"/admin/privacy_requests_admin/{req.id}/recipient.zip")
    assert z.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(z.data)).namelist()
    assert "data.json" in names
    assert "13912345678" in zipfile.ZipFile(io.BytesIO(z.data)).read("data.json").decode()
    admin_client.post("/admin/privacy_requests_admin/file", data={"recipient_id": r.id, "kind": "deletion",
                                                            "csrf_token": token})
    with app.app_context():
        req = R.SubjectRequest.select().where(R.SubjectRequest.kind == "deletion").get()
        R.decide(req, _user("boss"), grant=True, outcome="已删除")
        assert Recipient.get_by_id(r.id).status == "erased" and Recipient.get_by_id(other.id).name == "周八"


def test_r_priv_6_without_the_recipients_plugin_requests_keep_the_free_text_reference(make_app, make_user):
    app = make_app(plugins=["privacy"])
    make_user("boss", "platform_admin")
    from plugins.privacy import requests as R
    with app.app_context():
        req = R.file_for_recipient(_user("boss"), "西湖社区张阿姨", "export")
        assert (req.subject_ref, req.recipient_id) == ("西湖社区张阿姨", None)


def test_r_priv_6_the_confidentiality_agreement_is_recorded_and_printed_with_the_cjk_font(app, teams, client):
    from pypdf import PdfReader
    from core.testing import pdf_text
    from plugins.recipients import services as S
    with app.app_context():
        r = _register(teams[0])
        with pytest.raises(S.RecipientError):          # a date in the future is refused
            S.record_confidentiality(r, {"confidentiality_on": "2999-01-01"}, actor=_user("admin1"))
        r = S.record_confidentiality(r, {"confidentiality_on": _dt.date.today().isoformat()}, actor=_user("admin1"))
        assert (r.confidentiality_on, r.confidentiality_version) == (_dt.date.today(), "2024-01")
    login(client, "admin1")
    pdf = client.get(f"{URL}agreement/?id={r.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "保密协议" in text and "张秀英" in text and "2024-01" in text
    fonts = [f for p in PdfReader(io.BytesIO(pdf.data)).pages
             for f in p["/Resources"]["/Font"].values()]
    assert any("/FontFile2" in str(f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object())
               if "/DescendantFonts" in f.get_object() else "/FontFile2" in str(f.get_object().get("/FontDescriptor", {}))
               for f in fonts)
    login(client, "admin2")
    assert client.get(f"{URL}agreement/?id={r.id}").status_code == 404


def test_r_rec_1_the_filing_and_follow_up_pages_render_for_a_team_admin(app, teams, client):
    with app.app_context():
        _register(teams[0])
    login(client, "admin1")
    t = _dt.date.today()
    page = client.get(f"/admin/recipients_quarter/?year={t.year}&quarter={(t.month - 1) // 3 + 1}").get_data(as_text=True)
    assert "季度归档" in page and "张*英" in page and "张秀英" not in page
    page = client.get("/admin/recipients_quarter/follow-up").get_data(as_text=True)
    assert "待回访服务对象" in page and "30" in page
    assert "待回访服务对象" in client.get("/admin/").get_data(as_text=True)     # the dashboard widget


def test_r_rec_1_the_follow_up_clock_skips_the_national_day_holidays(app, teams):
    """Working days, not weekdays: the National Day week does not count (core.workdays)."""
    from core.settings import change
    from plugins.recipients import services as S
    from plugins.recipients.models import Recipient
    import datetime as dt
    from zoneinfo import ZoneInfo
    with app.app_context():
        r = _register(teams[0])
        Recipient.update(created_at=dt.datetime(2026, 9, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai"))).where(
            Recipient.id == r.id).execute()
        change("recipients", {"follow_up_days": 5})
        # 9-30 → 10-7: five weekdays (10-1, 10-2, 10-5, 10-6, 10-7), but 10-1 and 10-2 are 国庆节: fewer than 5 working days
        assert S.not_followed_up(_user("admin1"), dt.date(2026, 10, 7)) == []
        assert [x[0].id for x in S.not_followed_up(_user("admin1"), dt.date(2026, 10, 16))] == [r.id]
