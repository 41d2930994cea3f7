"""Volunteer registration and self-service (issue 3 points 1–2; RULES R-REG-1…4, R-REG-6, R-NAT-4,
R-NAT-6; SECURITY PR3, PR4, PR6, PR7, IV1–IV5, AC8).

Everything goes through the public pages (``/register``, ``/login``, ``/me``) or the admin, as a person
would use them; the database is the real one (SQLite, or PostgreSQL with TIMEBANK_TEST_DATABASE_URL).
Field errors are checked on the field's own error element (``id="err-<field>"``), never on English text,
so the tests hold once the Chinese catalog is in place.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import threading

import pytest

from conftest import PASSWORD, csrf_from, login
from core.db import now, today
from plugins.volunteers import fakes

PLUGINS = ["volunteers", "teams"]
ID_F = "11010519491231002X"       # SECURITY IV1 vector: valid, female (17th digit 2)
ID_M = "440524188001010014"       # IV1 vector: valid, male, born 1880
ID_BAD = "110105194912310021"     # IV1 vector: wrong check digit


# ------------------------------------------------------------------ helpers
@pytest.fixture
def vapp(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def vclient(vapp):
    return vapp.test_client()


def form(**over) -> dict:
    """A complete, valid registration of an adult (R-REG-1 required fields + the agreement)."""
    data = {"name": "李小红", "gender": "F", "id_type": "cn_id", "id_number": ID_F,
            "phone": "13800001234", "password": PASSWORD, "agreement": "1"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def post_register(client, **over):
    page = client.get("/register")
    assert page.status_code == 200
    return client.post("/register", data={**form(**over), "csrf_token": csrf_from(page.get_data(as_text=True))})


def field_errors(html: str) -> dict[str, str]:
    """Field name → text of the error element shown next to that field."""
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
            for m in re.finditer(r'<[^>]*\bid="err-([a-z_]+)"[^>]*>(.*?)</', html, re.S)}


def counts(app) -> dict:
    """Rows a registration writes: volunteers, accounts, roles, audit rows, sequence values."""
    from core.db import db
    with app.app_context():
        out = {}
        for t in ("volunteers_volunteer", "core_user", "core_user_role", "core_audit_log",
                  "volunteers_data_request", "core_message"):
            out[t] = db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
        return out


def refused(client, app, expect_fields: set[str], **over) -> dict:
    """Post a bad registration: 400, an error next to each expected field, nothing written."""
    before = counts(app)
    r = post_register(client, **over)
    html = r.get_data(as_text=True)
    errs = field_errors(html)
    assert r.status_code == 400, html[-2000:]
    assert expect_fields <= set(errs), f"expected errors on {expect_fields}, got {errs}"
    assert all(errs[f] for f in expect_fields), errs
    assert counts(app) == before, "a refused registration wrote something"
    return errs


def registered(app, number: str):
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return Volunteer.get(Volunteer.number == number)


def number_of(resp) -> str:
    html = resp.get_data(as_text=True)
    m = re.search(r'class="vol-number">([^<]+)<', html)
    assert resp.status_code == 201 and m, field_errors(html) or html[-2000:]
    return m.group(1)


# ------------------------------------------------------------------ the page
def test_register_page_offers_all_appendix1_fields_R_REG_1(vclient):
    """R-REG-1: every 附录一 field is on the public page; the page is made for phones (viewport)."""
    html = vclient.get("/register").get_data(as_text=True)
    for name in ["name", "gender", "id_type", "id_number", "phone", "nickname", "email", "political_status",
                 "district", "address", "qq", "wechat", "ethnicity", "native_place", "household_place",
                 "education", "school_major", "professional_title", "job_title", "occupation", "employer",
                 "specialties", "hobbies", "service_intention", "resume", "religion", "postcode",
                 "birth_date", "agreement", "pledge", "sensitive_consent"]:
        assert re.search(rf'name="{name}"', html), f"field {name} missing from /register"
    assert 'name="viewport"' in html
    for d in ["越秀区", "荔湾区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "增城区",
              "从化区", "其他"]:
        assert f">{d}<" in html
    # R-REG-6: the pledge text of 附录一 is shown
    assert "我愿意成为一名光荣的党员志愿者" in html


def test_political_status_offers_development_stages_R_REG_1(vclient):
    html = vclient.get("/register").get_data(as_text=True)
    sel = re.search(r'<select[^>]*name="political_status".*?</select>', html, re.S).group(0)
    for s in ["中共党员", "中共预备党员", "发展对象", "入党积极分子", "共青团员", "群众"]:
        assert f">{s}<" in sel


def test_consent_boxes_are_not_pre_ticked_PR3(vclient):
    """PR3 / R-REG-2: agreement, sensitive-data consent, pledge and guardian consent start unticked."""
    html = vclient.get("/register").get_data(as_text=True)
    for name in ("agreement", "sensitive_consent", "pledge", "guardian_consent"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert "checked" not in tag, tag


# ------------------------------------------------------------------ a good registration
def test_registration_records_agreement_time_and_number_R_REG_2_R_REG_3(vapp, vclient):
    t0 = now()
    before = counts(vapp)
    r = post_register(vclient, phone="+86 138-0000-1234", email="lxh@example.org", district="天河区",
                      address="天河路 1 号", ethnicity="汉族", native_place="广东广州", household_place="广州",
                      education="本科", school_major="中山大学 社会工作", professional_title="社工师",
                      job_title="干事", occupation="社工", employer="天河区某街道", specialties="书法",
                      hobbies="羽毛球", service_intention="长者服务", resume="2010 年起参与志愿服务",
                      postcode="510000", qq="12345", wechat="lxh_wx", nickname="小红")
    number = number_of(r)
    assert re.fullmatch(r"GZ\d{4}\d{7}", number)                     # R-REG-3
    after = counts(vapp)
    assert after["volunteers_volunteer"] == before["volunteers_volunteer"] + 1
    assert after["core_user"] == before["core_user"] + 1
    v = registered(vapp, number)
    assert v.agreement_version == "2024-01"                            # R-REG-2: which text …
    assert t0 <= v.agreement_accepted_at <= now()                      # … and when
    assert v.id_number == ID_F and v.phone == "13800001234"            # IV4: +86 and dashes stripped
    assert v.gender == "F" and v.birth_date == _dt.date(1949, 12, 31)  # from the ID number
    assert (v.district, v.ethnicity, v.education, v.wechat, v.resume) == ("天河区", "汉族", "本科", "lxh_wx",
                                                                           "2010 年起参与志愿服务")
    assert v.sensitive_consent_at is None and v.political_status == ""
    with vapp.app_context():
        from core.models import AuditLog, User
        assert User.get_by_id(v.user_id).username == number
        row = AuditLog.get((AuditLog.action == "volunteer.registered") & (AuditLog.object_id == str(v.id)))
        assert json.loads(row.details)["consents"] == ["agreement"]
        assert ID_F not in row.details and "13800001234" not in row.details


def test_volunteer_numbers_are_unique_and_increasing_R_REG_3(vapp, vclient):
    numbers = [number_of(post_register(vclient, id_number=fakes.id_number(seq=901 + 2 * i),
                                       gender="M", phone=fakes.phone(i))) for i in range(5)]
    assert len(set(numbers)) == 5
    assert numbers == sorted(numbers)
    with vapp.app_context():
        from plugins.volunteers.services import next_number
        assert next_number() not in numbers


def test_agreement_is_required_R_REG_2(vapp, vclient):
    refused(vclient, vapp, {"agreement"}, agreement=None)


def test_missing_required_fields_each_get_their_error(vapp, vclient):
    refused(vclient, vapp, {"name", "id_number", "phone"}, name="", id_number="", phone="")


def test_weak_password_refused_next_to_field(vapp, vclient):
    refused(vclient, vapp, {"password"}, password="12345678")


# ------------------------------------------------------------------ age (R-REG-4, PR4)
def minor_id(age, **kw):
    return fakes.id_number(fakes.birth_for_age(age, **kw), gender="M", seq=911)


def test_sixteen_today_needs_no_guardian_R_REG_4(vapp, vclient):
    number = number_of(post_register(vclient, id_number=minor_id(16), gender="M"))
    assert registered(vapp, number).minor_basis == ""


def test_one_day_before_sixteenth_birthday_needs_a_basis_R_REG_4(vapp, vclient):
    refused(vclient, vapp, {"minor_basis"}, id_number=minor_id(15, days_before_birthday=1), gender="M")


def test_under_16_in_an_organised_group_R_REG_4(vapp, vclient):
    number = number_of(post_register(vclient, id_number=minor_id(15), gender="M", minor_basis="group"))
    v = registered(vapp, number)
    assert v.minor_basis == "group" and v.guardian_consent_at is None


def test_under_16_with_a_guardian_needs_the_guardians_name_and_phone_R_REG_4(vapp, vclient):
    refused(vclient, vapp, {"guardian_name", "guardian_phone"}, id_number=minor_id(15), gender="M",
            minor_basis="guardian")
    number = number_of(post_register(vclient, id_number=minor_id(15), gender="M", minor_basis="guardian",
                                     guardian_name="李大明", guardian_phone="139 0000 0001"))
    v = registered(vapp, number)
    assert (v.minor_basis, v.guardian_name, v.guardian_phone) == ("guardian", "李大明", "13900000001")


def test_under_14_nothing_is_saved_without_guardian_consent_PR4(vapp, vclient):
    """PR4: under 14 (from the ID's birth date) a guardian-consent record is required, even in a group."""
    errs = refused(vclient, vapp, {"guardian_consent", "guardian_name", "guardian_phone"},
                   id_number=minor_id(13), gender="M", minor_basis="group")
    assert "minor_basis" not in errs
    refused(vclient, vapp, {"guardian_consent"}, id_number=minor_id(13, days_before_birthday=1), gender="M",
            minor_basis="guardian", guardian_name="李大明", guardian_phone="13900000001")
    t0 = now()
    number = number_of(post_register(vclient, id_number=minor_id(12), gender="M", minor_basis="guardian",
                                     guardian_name="李大明", guardian_phone="13900000001",
                                     guardian_consent="1"))
    v = registered(vapp, number)
    assert v.guardian_consent_at is not None and v.guardian_consent_at >= t0
    with vapp.app_context():
        from core.models import AuditLog
        row = AuditLog.get((AuditLog.action == "volunteer.registered") & (AuditLog.object_id == str(v.id)))
        assert "guardian_consent" in json.loads(row.details)["consents"]


def test_minor_with_a_passport_uses_the_given_birth_date_R_REG_4(vapp, vclient):
    refused(vclient, vapp, {"minor_basis"}, id_type="passport", id_number="E12345678",
            birth_date=fakes.birth_for_age(15).isoformat())
    refused(vclient, vapp, {"birth_date"}, id_type="passport", id_number="E12345678", birth_date="")


# ------------------------------------------------------------------ political status, pledge, consent
@pytest.mark.parametrize("status", ["中共党员", "中共预备党员"])
def test_party_member_must_agree_to_the_pledge_R_REG_6(vapp, vclient, status):
    refused(vclient, vapp, {"pledge"}, political_status=status, sensitive_consent="1")
    t0 = now()
    number = number_of(post_register(vclient, political_status=status, sensitive_consent="1", pledge="1"))
    v = registered(vapp, number)
    assert v.political_status == status and v.is_party_member
    assert v.pledge_accepted_at >= t0


@pytest.mark.parametrize("status", ["入党积极分子", "发展对象", "共青团员", "群众"])
def test_other_statuses_need_no_pledge_R_REG_6(vapp, vclient, status):
    number = number_of(post_register(vclient, political_status=status, sensitive_consent="1"))
    v = registered(vapp, number)
    assert v.political_status == status and v.pledge_accepted_at is None
    assert v.is_party_track == (status in ("入党积极分子", "发展对象"))


def test_sensitive_data_needs_separate_consent_with_version_and_time_PR3(vapp, vclient):
    refused(vclient, vapp, {"sensitive_consent"}, political_status="群众")
    refused(vclient, vapp, {"sensitive_consent"}, religion="佛教")
    t0 = now()
    number = number_of(post_register(vclient, political_status="群众", religion="佛教", sensitive_consent="1"))
    v = registered(vapp, number)
    assert v.sensitive_consent_version == "2024-01" and v.sensitive_consent_at >= t0
    assert (v.political_status, v.religion) == ("群众", "佛教")


def test_unknown_choices_are_refused_IV5(vapp, vclient):
    refused(vclient, vapp, {"political_status", "district", "education", "gender", "id_type"},
            political_status="党员", sensitive_consent="1", district="深圳", education="x", gender="X",
            id_type="driving_licence")


# ------------------------------------------------------------------ ID and phone validation (IV1–IV4)
@pytest.mark.parametrize("given,stored", [
    (ID_F, ID_F), (ID_F.lower(), ID_F), (ID_M, ID_M), ("1101 0519 4912 3100 2X", ID_F)])
def test_valid_mainland_ids_are_accepted_and_normalised_IV1(vapp, vclient, given, stored):
    gender = "M" if stored == ID_M else "F"
    number = number_of(post_register(vclient, id_number=given, gender=gender))
    assert registered(vapp, number).id_number == stored


@pytest.mark.parametrize("bad", [
    ID_BAD,                           # check digit (ISO 7064 MOD 11-2)
    ID_F[:-1],                        # 17 characters
    ID_F + "1",                       # 19 characters
    "11010519491231002Y",             # not a digit or X
    fakes.id_number("1990-01-01")[:6] + "19900230" + "9012",   # 30 February
    "000000199001019018",             # no such region
    fakes.id_number(today() + _dt.timedelta(days=3)),          # born in the future
])
def test_bad_mainland_ids_are_refused_IV1(vapp, vclient, bad):
    refused(vclient, vapp, {"id_number"}, id_number=bad, gender="")


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_pass_the_same_check_IV2(vapp, vclient, region):
    permit = fakes.id_number("1985-06-15", region=region, seq=903)
    number = number_of(post_register(vclient, id_type="hmt_permit", id_number=permit, gender="M"))
    v = registered(vapp, number)
    assert v.id_type == "hmt_permit" and v.birth_date == _dt.date(1985, 6, 15)
    bad = permit[:-1] + ("0" if permit[-1] != "0" else "1")
    refused(vclient, vapp, {"id_number"}, id_type="hmt_permit", id_number=bad, gender="M")


def test_permit_number_is_not_a_resident_id_and_back_IV2(vapp, vclient):
    permit = fakes.id_number("1985-06-15", region="810000", seq=903)
    refused(vclient, vapp, {"id_number"}, id_type="cn_id", id_number=permit, gender="M")
    refused(vclient, vapp, {"id_number"}, id_type="hmt_permit", id_number=ID_F)


@pytest.mark.parametrize("id_type,good,bad", [
    ("passport", "E12345678", "E12"),
    ("hk_macau_pass", "H12345678", "X12345678"),
    ("tw_pass", "12345678", "1234567"),
    ("foreign_permit", "ABC123456789012", "AB1234567890123"),
])
def test_other_id_types_have_their_own_format_IV2(vapp, vclient, id_type, good, bad):
    refused(vclient, vapp, {"id_number"}, id_type=id_type, id_number=bad, birth_date="1990-05-01")
    number = number_of(post_register(vclient, id_type=id_type, id_number=good.lower(), birth_date="1990-05-01"))
    v = registered(vapp, number)
    assert (v.id_type, v.id_number, v.birth_date) == (id_type, good, _dt.date(1990, 5, 1))


def test_gender_and_birth_date_must_match_the_id_IV3(vapp, vclient):
    refused(vclient, vapp, {"gender"}, gender="M")                         # 17th digit 2 = female
    refused(vclient, vapp, {"birth_date"}, birth_date="1949-12-30")
    number = number_of(post_register(vclient, gender="", birth_date="1949-12-31"))
    assert registered(vapp, number).gender == "F"                          # taken from the ID


@pytest.mark.parametrize("given", ["+86 138 0000 1234", "138-0000-1234", "0086 13800001234",
                                   "+86-138-0000-1234", "(138) 0000 1234", "86 13800001234"])
def test_mobile_numbers_are_normalised_IV4(vapp, vclient, given):
    number = number_of(post_register(vclient, phone=given))
    assert registered(vapp, number).phone == "13800001234"


@pytest.mark.parametrize("bad", ["12800001234", "1380000123", "138000012345", "23800001234",
                                 "+1 415 555 0100", "138OOOO1234", "02012345678"])
def test_bad_mobile_numbers_are_refused_IV4(vapp, vclient, bad):
    refused(vclient, vapp, {"phone"}, phone=bad)


def test_every_error_at_once_and_form_keeps_the_input(vapp, vclient):
    """Each error next to its own field; the other answers stay filled in (not the password)."""
    r = post_register(vclient, id_number=ID_BAD, phone="123", email="no-at-sign", agreement=None,
                      address="天河路 1 号")
    html = r.get_data(as_text=True)
    assert {"id_number", "phone", "email", "agreement"} <= set(field_errors(html))
    assert 'value="天河路 1 号"' in html
    assert PASSWORD not in html
    # the error is tied to its input for screen readers
    assert re.search(r'<input[^>]*name="phone"[^>]*aria-describedby="err-phone"', html)
    assert re.search(r'<input[^>]*name="phone"[^>]*aria-invalid="true"', html)


# ------------------------------------------------------------------ one person, one record
def test_same_person_cannot_register_twice(vapp, vclient):
    number_of(post_register(vclient))
    refused(vclient, vapp, {"id_number"}, phone="13900009999")
    refused(vclient, vapp, {"id_number"}, id_number=ID_F.lower(), phone="13900009999")   # same, lower-case x


def test_registration_page_needs_csrf_AC5(vapp, vclient):
    before = counts(vapp)
    r = vclient.post("/register", data=form())
    assert r.status_code == 400
    assert counts(vapp) == before


def _race(vapp, n, through_http: bool):
    """n registrations of one ID number at the same moment; returns (wins, field errors)."""
    from plugins.volunteers import services
    barrier = threading.Barrier(n, timeout=30)
    results = []
    lock = threading.Lock()

    def one(i):
        if through_http:
            client = vapp.test_client()
            page = client.get("/register").get_data(as_text=True)
            data = {**form(phone=fakes.phone(i)), "csrf_token": csrf_from(page)}
            barrier.wait()
            r = client.post("/register", data=data)
            out = ("won" if r.status_code == 201 else field_errors(r.get_data(as_text=True)))
        else:
            with vapp.app_context():
                try:
                    services.register(form(phone=fakes.phone(i)))
                    out = "won"
                except services.RegistrationError as e:
                    out = {k: str(v) for k, v in e.errors.items()}
                finally:
                    from core.db import db
                    db.close()
        with lock:
            results.append(out)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_concurrent_registrations_of_one_id_exactly_one_wins(vapp, monkeypatch):
    """Both pass the early duplicate check at the same moment; the unique blind index decides
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: the second insert waits for the first and fails)."""
    from plugins.volunteers import services
    barrier = threading.Barrier(2, timeout=30)
    real = services.check_not_registered

    def in_step(id_hash):
        real(id_hash)
        barrier.wait()     # both threads have passed the check before either writes
    monkeypatch.setattr(services, "check_not_registered", in_step)
    results = _race(vapp, 2, through_http=False)
    assert sorted(map(str, results)).count("won") == 1, results
    loser = [r for r in results if r != "won"][0]
    assert set(loser) == {"id_number"}
    from plugins.volunteers.models import Volunteer
    with vapp.app_context():
        from core.models import User
        assert Volunteer.select().count() == 1
        assert User.select().count() == 1      # the loser's account was rolled back too


def test_concurrent_registrations_over_http_exactly_one_wins(vapp):
    results = _race(vapp, 6, through_http=True)
    assert results.count("won") == 1, results
    assert all(set(r) == {"id_number"} for r in results if r != "won"), results
    assert counts(vapp)["volunteers_volunteer"] == 1


# ------------------------------------------------------------------ login and /me (R-NAT-4, PR7)
@pytest.fixture
def volunteer(vapp, vclient):
    """A registered Party-member volunteer; returns its number."""
    return number_of(post_register(vclient, political_status="中共预备党员", religion="无",
                                   sensitive_consent="1", pledge="1", address="天河路 1 号",
                                   phone="13800001234"))


@pytest.mark.parametrize("how", ["number", "mobile", "mobile+86"])
def test_volunteer_logs_in_with_number_or_mobile(vapp, volunteer, how):
    c = vapp.test_client()
    ident = {"number": volunteer, "mobile": "13800001234", "mobile+86": "+86 138 0000 1234"}[how]
    assert login(c, ident).status_code == 302
    assert c.get("/me").status_code == 200
    c2 = vapp.test_client()
    assert login(c2, ident, password="wrong password here").status_code == 401


def test_me_shows_masked_values_only_PR5(vapp, volunteer):
    c = vapp.test_client()
    login(c, volunteer)
    r = c.get("/me")
    html = r.get_data(as_text=True)
    assert "110105********002X" in html and "138****1234" in html
    assert ID_F not in html and "13800001234" not in html
    assert r.headers["Cache-Control"] == "no-store"
    assert volunteer in html                                        # R-NAT-6: the number is shown


def test_me_anonymous_goes_to_login(vclient):
    r = vclient.get("/me")
    assert r.status_code in (302, 401)


def _me_post(c, **data):
    page = c.get("/me").get_data(as_text=True)
    return c.post("/me", data={**data, "csrf_token": csrf_from(page)})


def test_volunteer_corrects_own_data_R_NAT_4(vapp, volunteer):
    from plugins.volunteers import services
    c = vapp.test_client()
    login(c, volunteer)
    r = _me_post(c, phone="+86 139-0000-5678", address="海珠路 2 号", district="海珠区", hobbies="游泳",
                 # AC8: not editable by the volunteer: ignored
                 name="别人", id_number=ID_M, number="GZ1", status="erased", user="1")
    assert r.status_code == 302
    v = registered(vapp, volunteer)
    assert (v.phone, v.address, v.district, v.hobbies) == ("13900005678", "海珠路 2 号", "海珠区", "游泳")
    assert (v.name, v.id_number, v.status) == ("李小红", ID_F, "active")
    with vapp.test_request_context():
        assert [x.id for x in services.find_by_phone("13900005678")] == [v.id]
        assert services.find_by_phone("13800001234") == []
        from core.models import AuditLog
        row = AuditLog.select().where(AuditLog.action == "volunteer.updated").order_by(AuditLog.id.desc()).get()
        assert set(json.loads(row.details)["fields"]) == {"phone", "address", "district", "hobbies"}
        assert "13900005678" not in row.details and "海珠路" not in row.details
    # the new mobile logs in
    assert login(vapp.test_client(), "13900005678").status_code == 302


def test_bad_correction_shows_field_error_and_changes_nothing(vapp, volunteer):
    c = vapp.test_client()
    login(c, volunteer)
    before = counts(vapp)
    r = _me_post(c, phone="12345", address="新地址", email="nope")
    assert r.status_code == 400
    assert {"phone", "email"} <= set(field_errors(r.get_data(as_text=True)))
    v = registered(vapp, volunteer)
    assert (v.phone, v.address) == ("13800001234", "天河路 1 号")
    assert counts(vapp) == before


def test_volunteer_downloads_own_data_PR7(vapp, volunteer):
    c = vapp.test_client()
    login(c, volunteer)
    r = c.get("/me/export.json")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    data = json.loads(r.get_data(as_text=True))
    assert data["number"] == volunteer and data["id_number"] == ID_F and data["phone"] == "13800001234"
    assert data["political_status"] == "中共预备党员" and data["religion"] == "无"
    assert data["agreement_accepted_at"] and data["sensitive_consent_at"] and data["pledge_accepted_at"]
    assert data["sensitive_consent_version"] == "2024-01"
    with vapp.app_context():
        from core.models import AuditLog
        assert AuditLog.select().where(AuditLog.action == "pii.exported_by_owner").count() == 1


def test_requests_are_recorded_PR7(vapp, volunteer):
    from plugins.volunteers.models import DataRequest
    c = vapp.test_client()
    login(c, volunteer)
    page = c.get("/me").get_data(as_text=True)
    for kind in ("correction", "deletion"):
        r = c.post("/me/requests", data={"kind": kind, "details": f"请处理 {kind}", "csrf_token": csrf_from(page)})
        assert r.status_code == 302
    r = c.post("/me/requests", data={"kind": "sell-my-data", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    with vapp.app_context():
        rows = list(DataRequest.select().order_by(DataRequest.id))
        assert [(x.kind, x.status) for x in rows] == [("correction", "open"), ("deletion", "open")]
        assert rows[0].details == "请处理 correction"
    # the volunteer sees their requests and their state
    html = c.get("/me").get_data(as_text=True)
    assert "请处理 deletion" in html


def test_withdrawing_consent_erases_sensitive_data_PR6(vapp, volunteer):
    from plugins.volunteers.models import DataRequest
    c = vapp.test_client()
    login(c, volunteer)
    page = c.get("/me").get_data(as_text=True)
    c.post("/me/requests", data={"kind": "withdraw", "csrf_token": csrf_from(page)})
    v = registered(vapp, volunteer)
    assert (v.political_status, v.religion) == ("", "")
    assert v.sensitive_consent_at is None
    assert v.pledge_accepted_at is None          # the pledge belongs to the political status
    with vapp.app_context():
        req = DataRequest.get(DataRequest.kind == "withdraw")
        assert req.status == "done" and req.outcome and req.decided_at is not None
        from core.models import AuditLog
        assert AuditLog.select().where(AuditLog.action == "consent.withdrawn").count() == 1
    # processing stopped: giving the status again needs a new consent
    r = _me_post(c, political_status="中共党员")
    assert r.status_code == 400 and "sensitive_consent" in field_errors(r.get_data(as_text=True))
    assert registered(vapp, volunteer).political_status == ""


def _admin(vapp, make_user):
    make_user("admin", "platform_admin")
    c = vapp.test_client()
    assert login(c, "admin").status_code == 302
    return c


def _decide(c, req_id, status, outcome):
    page = c.get(f"/admin/volunteers_data_request/edit/?id={req_id}")
    assert page.status_code == 200
    return c.post(f"/admin/volunteers_data_request/edit/?id={req_id}",
                  data={"status": status, "outcome": outcome, "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_platform_admin_decides_deletion_request_PR7(vapp, volunteer, make_user):
    """PR7: the outcome and reason are recorded; a granted deletion anonymises the record (erase) and
    ends the account; the volunteer number stays for records elsewhere (R-NAT-6)."""
    from plugins.volunteers import services
    from plugins.volunteers.models import DataRequest, Volunteer
    vc = vapp.test_client()
    login(vc, volunteer)
    page = vc.get("/me").get_data(as_text=True)
    vc.post("/me/requests", data={"kind": "deletion", "details": "我搬走了", "csrf_token": csrf_from(page)})
    with vapp.app_context():
        req = DataRequest.get(DataRequest.kind == "deletion")
    admin = _admin(vapp, make_user)
    # no outcome: refused next to the field, nothing changes
    r = _decide(admin, req.id, "done", "")
    assert r.status_code == 200 and "outcome" in admin_field_errors(r.get_data(as_text=True))
    assert registered(vapp, volunteer).status == "active"
    r = _decide(admin, req.id, "done", "已按申请删除个人信息")
    assert r.status_code == 302
    with vapp.test_request_context():
        req = DataRequest.get_by_id(req.id)
        assert (req.status, req.outcome) == ("done", "已按申请删除个人信息") and req.decided_by
        v = Volunteer.get(Volunteer.number == volunteer)
        assert v.status == "erased" and v.name != "李小红"
        assert v.id_number != ID_F and v.phone == "" and v.address == "" and v.political_status == ""
        assert services.find_by_id_number("cn_id", ID_F) is None
        assert services.find_by_phone("13800001234") == []
        from core.models import AuditLog, User
        assert User.get_by_id(v.user_id).is_active is False
        assert AuditLog.select().where(AuditLog.action == "volunteer.erased").count() == 1
    # the open session is refused and logging in again fails
    assert vc.get("/me").status_code in (302, 401)
    assert login(vapp.test_client(), volunteer).status_code == 401
    # the person may register afresh later
    number_of(post_register(vapp.test_client(), phone="13800001234"))


def test_refused_request_keeps_data_and_records_reason_PR7(vapp, volunteer, make_user):
    from plugins.volunteers.models import DataRequest
    with vapp.test_request_context():
        from plugins.volunteers import services
        v = registered(vapp, volunteer)
        req = services.request_action(v, "deletion", "")
    admin = _admin(vapp, make_user)
    assert _decide(admin, req.id, "refused", "尚有未完成的服务记录，暂不能删除").status_code == 302
    assert registered(vapp, volunteer).status == "active"
    with vapp.app_context():
        assert DataRequest.get_by_id(req.id).status == "refused"
        from core.models import Message, User
        u = User.get(User.username == volunteer)
        msgs = list(Message.select().where(Message.recipient == u.id))
        assert any("尚有未完成的服务记录" in m.body for m in msgs), "the volunteer is told the outcome"


def admin_field_errors(html: str) -> set[str]:
    """Fields that Flask-Admin (bootstrap4) marks invalid."""
    return set(re.findall(r'<(?:input|select|textarea)[^>]*class="[^"]*is-invalid[^"]*"[^>]*name="([a-z_]+)"',
                          html)) | set(re.findall(
                              r'<(?:input|select|textarea)[^>]*name="([a-z_]+)"[^>]*class="[^"]*is-invalid', html))


# ------------------------------------------------------------------ retention (PR6, R-PRIV-5)
def test_retention_task_anonymises_long_inactive_volunteers_PR6(vapp, vclient):
    """Move the clock: a volunteer with no sign of life for longer than ``retention_years`` is anonymised
    by the periodic task; one inside the period and one recently logged in are kept."""
    from core.db import db
    from plugins.volunteers.models import Volunteer
    nums = [number_of(post_register(vclient, id_number=fakes.id_number(seq=921 + 2 * i), gender="M",
                                    phone=fakes.phone(i))) for i in range(3)]
    old, recent_login, kept = nums
    years = lambda n: now() - _dt.timedelta(days=365 * n + 2)   # noqa: E731
    with vapp.app_context():
        p = db.obj.param
        for num, stamp in ((old, years(6)), (recent_login, years(6)), (kept, years(4))):
            Volunteer.update(registered_at=stamp, updated_at=stamp).where(Volunteer.number == num).execute()
        from core.models import User
        User.update(last_login_at=years(6)).where(User.username == old).execute()
        User.update(last_login_at=now() - _dt.timedelta(days=30)).where(User.username == recent_login).execute()
        assert p
        tasks = vapp.extensions["timebank"].tasks
        assert "volunteers.apply_retention" in tasks.tasks
        tasks.enqueue("volunteers.apply_retention")
    assert registered(vapp, old).status == "erased"
    assert registered(vapp, recent_login).status == "active"
    assert registered(vapp, kept).status == "active"
    with vapp.app_context():
        from core.models import AuditLog, User
        row = AuditLog.get(AuditLog.action == "volunteer.erased")
        assert json.loads(row.details)["reason"] == "retention"
        assert User.get(User.username == old).is_active is False
        # a second run changes nothing
        n = AuditLog.select().count()
        vapp.extensions["timebank"].tasks.enqueue("volunteers.apply_retention")
        assert AuditLog.select().where(AuditLog.action == "volunteer.erased").count() == 1
        assert AuditLog.select().count() in (n, n + 1)   # at most one summary row


def test_retention_is_a_setting_and_zero_disables_it_PR6(vapp, vclient):
    from core.models import Setting
    from plugins.volunteers.models import Volunteer
    num = number_of(post_register(vclient))
    with vapp.app_context():
        stamp = now() - _dt.timedelta(days=365 * 3)
        Volunteer.update(registered_at=stamp, updated_at=stamp).where(Volunteer.number == num).execute()
        from core.models import User  # registering logged them in: that login is three years old too
        User.update(last_login_at=stamp).where(User.id == registered(vapp, num).user_id).execute()
        Setting.create(key="volunteers.retention_years", value="0")
        vapp.extensions["timebank"].tasks.enqueue("volunteers.apply_retention")
        assert registered(vapp, num).status == "active"
        Setting.update(value="2").where(Setting.key == "volunteers.retention_years").execute()
        vapp.extensions["timebank"].tasks.enqueue("volunteers.apply_retention")
    assert registered(vapp, num).status == "erased"


def test_retention_task_is_periodic(vapp):
    from plugins.volunteers import register_tasks
    tasks = register_tasks(queue=vapp.extensions["timebank"].tasks)
    assert any(t.name == "volunteers.apply_retention" and t.schedule is not None for t in tasks)


def test_activity_reported_by_other_plugins_restarts_the_retention_clock_PR6(vapp, vclient):
    """An event of another plugin naming the volunteer (here: teams approving a membership) counts as
    activity, so a long-registered but active volunteer is kept."""
    from plugins.teams import services as T
    from plugins.volunteers.models import Volunteer
    num = number_of(post_register(vclient))
    with vapp.test_request_context():
        t = T.register_team({"name": "越秀党员志愿队", "leader_name": "王队长", "leader_phone": "13700000000",
                             "service_direction": "长者服务", "district": "越秀区", "address": "越秀路 1 号",
                             "intro": "社区党员志愿服务队"})
        T.submit_for_review(t)
        t = T.review_team(t, approve=True)
        stamp = now() - _dt.timedelta(days=365 * 8)
        Volunteer.update(registered_at=stamp, updated_at=stamp).where(Volunteer.number == num).execute()
        v = Volunteer.get(Volunteer.number == num)
        assert v.last_active_at is None
        T.decide_memberships([T.apply_to_join(v, t)], approve=True)
        assert Volunteer.get(Volunteer.number == num).last_active_at >= now() - _dt.timedelta(minutes=5)
        vapp.extensions["timebank"].tasks.enqueue("volunteers.apply_retention")
    assert registered(vapp, num).status == "active"


def test_shared_mobile_number_does_not_log_in_anyone_by_phone(vapp, vclient):
    """Two volunteers (a parent and a child) may give the same mobile; a login by that number is
    ambiguous and refused, while each volunteer number still works."""
    a = number_of(post_register(vclient, phone="13800001234"))
    b = number_of(post_register(vclient, id_number=fakes.id_number(seq=951), gender="M", phone="13800001234",
                                name="李小军"))
    assert login(vapp.test_client(), "13800001234").status_code == 401
    assert login(vapp.test_client(), a).status_code == 302
    assert login(vapp.test_client(), b).status_code == 302


def test_organisation_corrects_name_and_id_after_a_correction_request_R_NAT_4(vapp, vclient, make_user):
    """R-NAT-4: the volunteer asks, the platform admin verifies and fixes name and ID in the admin; the
    new number is checked like a registration (IV1, IV3) and must not belong to someone else."""
    from plugins.volunteers import services
    num = number_of(post_register(vclient))
    other = number_of(post_register(vclient, id_number=ID_M, gender="M", phone="13900000002"))
    admin = _admin(vapp, make_user)
    v = registered(vapp, num)
    url = f"/admin/volunteers_volunteer/edit/?id={v.id}"
    html = admin.get(url).get_data(as_text=True)
    assert ID_F not in html and "110105********002X" in html
    # what the browser sends back: the form as shown (gender and birth date of the old number) with edits
    base = {"csrf_token": csrf_from(html), "name": "李晓红", "id_type": "cn_id", "phone": "138****1234",
            "gender": "F", "birth_date": "1949-12-31", "district": "", "education": ""}
    before = counts(vapp)
    for bad, field in ((ID_BAD, "id_number"), (ID_M, "id_number")):       # wrong digit; someone else's
        r = admin.post(url, data={**base, "id_number": bad})
        assert r.status_code == 200 and field in admin_field_errors(r.get_data(as_text=True)), bad
    assert counts(vapp) == before and registered(vapp, num).name == "李小红"
    new_id = fakes.id_number("1990-03-04", seq=962, gender="F")
    r = admin.post(url, data={**base, "id_number": new_id})
    assert r.status_code == 302
    v = registered(vapp, num)
    assert (v.name, v.id_number, v.birth_date, v.gender) == ("李晓红", new_id, _dt.date(1990, 3, 4), "F")
    assert v.phone == "13800001234"                       # the masked phone was left alone
    with vapp.test_request_context():
        assert services.find_by_id_number("cn_id", new_id).id == v.id
        assert services.find_by_id_number("cn_id", ID_F) is None
        assert registered(vapp, other).id_number == ID_M
        from core.models import AuditLog
        row = AuditLog.select().where(AuditLog.action == "volunteer.updated").order_by(AuditLog.id.desc()).get()
        assert {"name", "id_number", "birth_date"} <= set(json.loads(row.details)["fields"])
        assert new_id not in row.details and "李晓红" not in row.details


def test_r_reg_1_the_new_volunteer_is_logged_in_right_after_registering(vapp, vclient):
    """Issue 18 point 4: no detour through the login page; the login is a fresh session and audited."""
    r = post_register(vclient)
    assert r.status_code == 201
    html = r.get_data(as_text=True)
    assert "您已登录" in html and 'href="/me"' in html
    me = vclient.get("/me")
    assert me.status_code == 200 and "李小红" in me.get_data(as_text=True)
    from core.models import AuditLog
    with vapp.app_context():
        assert AuditLog.select().where(AuditLog.action == "login.registered").count() == 1
