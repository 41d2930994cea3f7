"""The consent register and disclosures without consent (issue 13 points 3 and 6; RULES R-PRIV-4, R-PRIV-6;
SECURITY PR3, PR4, AC6, AU1; PIPL 13–15).

- Purposes are reference data; ``privacy.consents.consented(subject, purpose)`` answers before a plugin
  acts; the volunteers plugin's own consents are reflected without changing its flows; a volunteer sees,
  gives and withdraws consents on /me/privacy, the withdrawal at once and audited.
- A disclosure without consent only in the six cases, approved by a platform admin with a reason
  (core.workflow), team-scoped for team admins, every step audited; anything else is refused in Chinese and
  writes nothing.
"""
from __future__ import annotations

import pytest

from conftest import PASSWORD, csrf_from, database_url, login
from core import create_app
from test_teams_workflow import cn_id

PLUGINS = ["volunteers", "teams", "privacy"]


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url(tmp_path),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS, "BABEL_DEFAULT_LOCALE": "zh_Hans_CN"})
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.teams import services as T
    from plugins.teams.models import Membership
    from plugins.volunteers import services as V
    ids = {}
    with app.test_request_context():
        admin = User.create(username="admin", password_hash=hash_password(PASSWORD), display_name="平台管理员")
        grant_role(admin, PLATFORM_ADMIN)

        def team(name, username):
            t = T.register_team({"name": name, "leader_name": "陈队长", "leader_phone": "13900001111",
                                 "service_direction": "敬老助残", "district": "越秀区", "address": "广州市某路1号",
                                 "intro": "党员志愿服务", "organisation": "北京街道", "declared_size": "12"},
                                actor=admin)
            T.submit_for_review(t, actor=admin)
            t = T.review_team(t, approve=True, actor=admin)
            u = User.create(username=username, password_hash=hash_password(PASSWORD), display_name=username)
            grant_role(u, TEAM_ADMIN, f"team:{t.id}")
            return t
        a, b = team("越秀先锋队", "ta"), team("海珠红棉队", "tb")
        v1 = V.register({"name": "张三丰", "id_type": "cn_id", "id_number": cn_id(8101), "phone": "13812348101",
                         "agreement": True, "password": PASSWORD})
        v2 = V.register({"name": "李四光", "id_type": "cn_id", "id_number": cn_id(8102), "phone": "13812348102",
                         "agreement": True, "password": PASSWORD})
        Membership.create(team=a.id, volunteer=v1.id, status="approved")
        Membership.create(team=b.id, volunteer=v2.id, status="approved")
        ids.update(a=a.id, b=b.id, v1=v1.id, v2=v2.id, u1=v1.user.username, u2=v2.user.username)
    yield app, ids
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def _user(name):
    from core.models import User
    return User.get(User.username == name)


def _audits(action):
    from core.models import AuditLog
    return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


# ------------------------------------------------------------------------------------ consents (point 3)
def test_pr3_purposes_are_reference_data_and_consented_answers_before_acting(world):
    """issue 13 point 3: the shipped purposes are loaded as data; ``consented`` is False until given, True
    after, False again at once after a withdrawal; both audited with the notice version."""
    app, ids = world
    from plugins.privacy import consents as C
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        codes = {p.code for p in C.Purpose.select()}
        assert {"registration", "sensitive", "party_pledge", "guardian", "photos", "birthday",
                "partner_sharing"} <= codes
        v1 = Volunteer.get_by_id(ids["v1"])
        assert C.consented(v1, "birthday") is False
        assert C.consented(v1, "no_such_purpose") is False
        c = C.give(v1, "birthday", actor=v1.user)
        assert c.notice_version == "1" and c.given_at is not None and c.withdrawn_at is None
        assert C.consented(v1, "birthday") and C.consented(("volunteer", v1.id), "birthday")
        assert not C.consented(Volunteer.get_by_id(ids["v2"]), "birthday")   # only the subject's own
        assert C.withdraw(v1, "birthday", actor=v1.user) is True
        assert C.consented(v1, "birthday") is False
        assert C.Consent.get_by_id(c.id).withdrawn_at is not None            # history kept
        given, withdrawn = _audits("consent.given"), _audits("consent.withdrawn")
        assert given[-1].object_id == str(v1.id) and "birthday" in given[-1].details
        assert withdrawn[-1].object_id == str(v1.id) and "birthday" in withdrawn[-1].details
        # an inactive purpose is never consented
        C.give(v1, "photos", actor=v1.user)
        C.Purpose.update(active=False).where(C.Purpose.code == "photos").execute()
        assert C.consented(v1, "photos") is False


def test_pr3_the_volunteers_plugins_consents_are_reflected_without_changing_its_flows(world):
    """issue 13 point 3: the service agreement given at registration is in the register; the sensitive-data
    consent is read from the volunteer record, and withdrawing it through the register goes through the
    volunteers plugin (its data erased, audited), at once."""
    app, ids = world
    from core.db import now
    from plugins.privacy import consents as C
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        v1 = Volunteer.get_by_id(ids["v1"])
        assert C.consented(v1, "registration") is True
        assert C.consented(v1, "sensitive") is False
        Volunteer.update(sensitive_consent_at=now(), sensitive_consent_version="2", religion="无").where(
            Volunteer.id == v1.id).execute()
        rows = {r["purpose"].code: r for r in C.consents_of(v1)}
        assert rows["sensitive"]["given"] and rows["sensitive"]["version"] == "2"
        assert rows["registration"]["given"] and not rows["registration"]["withdrawable"]
        assert "party_pledge" not in rows and "guardian" not in rows          # not applicable
        with pytest.raises(C.ConsentError):
            C.withdraw(v1, "registration", actor=v1.user)
        assert C.withdraw(v1, "sensitive", actor=v1.user) is True
        v1 = Volunteer.get_by_id(v1.id)
        assert v1.sensitive_consent_at is None and v1.religion == ""
        assert C.consented(v1, "sensitive") is False
        assert _audits("consent.withdrawn")


def test_pr3_a_volunteer_sees_gives_and_withdraws_consents_on_me_privacy(world):
    """issue 13 point 3: /me/privacy lists the person's consents in Chinese; giving and withdrawing there
    take effect at once, only for the person logged in."""
    app, ids = world
    from plugins.privacy import consents as C
    c = app.test_client()
    assert login(c, ids["u1"], PASSWORD).status_code == 302
    page = c.get("/me/privacy").get_data(as_text=True)
    assert "我的同意" in page and "生日祝福" in page and "注册与服务协议" in page
    token = csrf_from(page)
    r = c.post("/me/privacy/consents", data={"csrf_token": token, "purpose": "birthday", "action": "give"})
    assert r.status_code == 302
    with app.test_request_context():
        assert C.consented(("volunteer", ids["v1"]), "birthday")
        assert not C.consented(("volunteer", ids["v2"]), "birthday")
    page = c.get("/me/privacy").get_data(as_text=True)
    assert "撤回" in page
    r = c.post("/me/privacy/consents", data={"csrf_token": csrf_from(page), "purpose": "birthday",
                                             "action": "withdraw"})
    assert r.status_code == 302
    with app.test_request_context():
        assert not C.consented(("volunteer", ids["v1"]), "birthday")
    r = c.post("/me/privacy/consents", data={"csrf_token": csrf_from(page), "purpose": "registration",
                                             "action": "withdraw"}, follow_redirects=True)
    assert "不能单独撤回" in r.get_data(as_text=True)
    with app.test_request_context():
        assert C.consented(("volunteer", ids["v1"]), "registration")


def test_pr3_consents_are_in_the_export_and_go_with_erasure(world):
    """issue 13 points 1 and 3: the register answers the privacy contract: the person's consents are in
    their export and deleted on erasure; no personal field of the new tables is undeclared."""
    app, ids = world
    from plugins.privacy import consents as C, services as S
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        assert S.undeclared() == []
        v1 = Volunteer.get_by_id(ids["v1"])
        C.give(v1, "photos", actor=v1.user)
        subject = S.subject_for_user(v1.user)
        parts = [p for _plugin, p in S.export_parts(subject)]
        assert any(str(p.title) in ("同意记录", "Consents") and p.rows for p in parts)
        S.erase_subject(subject, actor=_user("admin"))
        assert not C.Consent.select().where(C.Consent.subject_id == v1.id).exists()


# ------------------------------------------------------------------------------- disclosures (point 6)
def _request(ids, **over):
    data = {"case": "life_danger", "subject_id": str(ids["v1"]), "legal_basis": "《个人信息保护法》第十三条第四项",
            "disclosed": "姓名、联系电话", "recipient_kind": "medical", "recipient": "广州市第一人民医院急诊科",
            "team_id": str(ids["a"])}
    data.update(over)
    return data


def test_r_priv_4_disclosure_outside_the_six_cases_is_refused(world):
    """issue 13 point 6 (R-PRIV-4): a case outside the fixed six is refused with a Chinese message and
    writes nothing (no disclosure, no audit row), through the service and through the admin page."""
    app, ids = world
    from core.models import AuditLog
    from plugins.privacy import disclosures as D
    assert set(D.CASES) == {"life_danger", "criminal_case", "victim_under_16", "crime_intent",
                            "mental_disorder", "suicide_risk"}
    with app.test_request_context():
        before = AuditLog.select().count()
        with pytest.raises(D.DisclosureError) as e:
            D.request_disclosure(_request(ids, case="journalist_asked"), actor=_user("admin"))
        assert "六种" in str(e.value.errors["case"])
        assert D.Disclosure.select().count() == 0 and AuditLog.select().count() == before
    c = app.test_client()
    assert login(c, "admin", PASSWORD).status_code == 302
    page = c.get("/admin/privacy_disclosure/").get_data(as_text=True)
    r = c.post("/admin/privacy_disclosure/", data={"csrf_token": csrf_from(page), **_request(ids, case="x")})
    assert r.status_code == 400 and "六种" in r.get_data(as_text=True)
    r = c.post("/admin/privacy_disclosure/", data={"csrf_token": csrf_from(page),
                                                   **_request(ids, legal_basis="", disclosed="")})
    assert r.status_code == 400 and "法律依据" in r.get_data(as_text=True)
    with app.test_request_context():
        assert D.Disclosure.select().count() == 0


def test_r_priv_4_a_disclosure_is_approved_only_by_a_platform_admin_with_a_reason(world):
    """issue 13 point 6 (R-PRIV-4): a team admin requests for a member of their team; they cannot approve;
    the platform admin cannot approve without a reason; with one the disclosure is approved, and every
    step (request, decision, telling the person) is audited with case, recipient and approver."""
    app, ids = world
    from core.workflow import WorkflowError
    from plugins.privacy import disclosures as D
    with app.test_request_context():
        ta, admin = _user("ta"), _user("admin")
        d = D.request_disclosure(_request(ids), actor=ta)
        assert d.status == "requested" and d.team_id == ids["a"] and d.requested_by == ta.id
        with pytest.raises(WorkflowError) as e:
            D.decide(d, approve=True, reason="同意", actor=ta)
        assert e.value.code == 403
        with pytest.raises(WorkflowError):
            D.decide(d, approve=True, reason=" ", actor=admin)
        assert D.Disclosure.get_by_id(d.id).status == "requested"
        with pytest.raises(D.DisclosureError):
            D.record_subject_told(d, "电话告知", actor=admin)            # not yet approved
        d = D.decide(d, approve=True, reason="生命危险，须立即送医", actor=admin)
        assert d.status == "approved" and d.decided_by == admin.id and d.decision_reason
        d = D.record_subject_told(d, "电话告知本人", actor=ta)
        assert d.subject_told_at is not None
        assert [a.user_id for a in _audits("privacy.disclosure.requested")] == [ta.id]
        assert [a.user_id for a in _audits("privacy.disclosure.approve")] == [admin.id]
        assert _audits("privacy.disclosure.told")


def test_r_priv_4_team_admins_reach_only_their_own_teams_disclosures(world):
    """issue 13 point 6 (AC6): another team's admin sees neither the list row nor the page of a
    disclosure (404, refusal audited), and cannot request one for a member of another team or name
    another team's id (Chinese error, nothing written)."""
    app, ids = world
    from plugins.privacy import disclosures as D
    with app.test_request_context():
        d = D.request_disclosure(_request(ids), actor=_user("ta"))
        tb = _user("tb")
        assert D.get_for(tb, d.id) is None and list(D.visible_to(tb)) == []
        assert D.get_for(_user("ta"), d.id) is not None
        for data in (_request(ids, team_id=str(ids["a"])), _request(ids, team_id=str(ids["b"]))):
            with pytest.raises(D.DisclosureError):
                D.request_disclosure(data, actor=tb)
        assert D.Disclosure.select().count() == 1
    c = app.test_client()
    assert login(c, "tb", PASSWORD).status_code == 302
    assert c.get(f"/admin/privacy_disclosure/{d.id}").status_code == 404
    assert "广州市第一人民医院" not in c.get("/admin/privacy_disclosure/").get_data(as_text=True)
    with app.test_request_context():
        assert _audits("access.denied")
    # a volunteer has no access at all
    c2 = app.test_client()
    assert login(c2, ids["u1"], PASSWORD).status_code == 302
    assert c2.get("/admin/privacy_disclosure/").status_code in (302, 403)


def test_r_priv_6_an_emergency_disclosure_needs_a_risk_assessment_and_goes_only_to_police_or_medical(world):
    """issue 13 point 6 (R-PRIV-6, 附录十一 第八条): an emergency disclosure without a risk assessment, or to
    anyone but the police or medical services, is refused and writes nothing; with both it is recorded."""
    app, ids = world
    from plugins.privacy import disclosures as D
    with app.test_request_context():
        admin = _user("admin")
        with pytest.raises(D.DisclosureError) as e:
            D.request_disclosure(_request(ids, emergency="1"), actor=admin)
        assert "风险评估" in str(e.value.errors["risk_assessment"])
        with pytest.raises(D.DisclosureError) as e:
            D.request_disclosure(_request(ids, emergency="1", recipient_kind="other",
                                          risk_assessment="独居老人昏迷"), actor=admin)
        assert "recipient_kind" in e.value.errors
        assert D.Disclosure.select().count() == 0
        d = D.request_disclosure(_request(ids, emergency="1", risk_assessment="独居老人昏迷，无法联系家属"),
                                 actor=admin)
        assert d.emergency and d.risk_assessment


def test_pr3_an_existing_site_gets_the_register_and_its_purposes_by_migration(world):
    """issue 13 points 3 and 6: a site that had the privacy plugin before (tables absent, migration
    0002_consents_disclosures not applied) gets the three tables and the shipped purposes from
    ``timebank migrate``; applying it again changes nothing."""
    app, _ids = world
    from core import plugins as P
    from core.db import db
    from plugins.privacy import consents as C
    from plugins.privacy import disclosures as D
    with app.app_context():
        db.obj.drop_tables([C.Consent, D.Disclosure, C.Purpose])
        db.execute_sql('DELETE FROM "migrations_privacy" WHERE name = %s' if P.db.obj.param == "%s"
                       else 'DELETE FROM "migrations_privacy" WHERE name = ?', ("0002_consents_disclosures",))
        assert "0002_consents_disclosures" in P.migrate_plugin(P.discover()[0]["privacy"])
        assert C.Purpose.select().where(C.Purpose.code == "birthday").exists()
        assert D.Disclosure.select().count() == 0 and C.Consent.select().count() == 0
        n = C.Purpose.select().count()
        C.load_purposes()
        assert C.Purpose.select().count() == n


def test_pr3_the_platform_admin_adds_a_purpose_and_a_bad_code_is_refused_in_chinese(world):
    """issue 13 point 3: purposes are extendable data: the platform admin adds one at 同意事项; a code that
    is not lower-case letters/digits/_ is refused in Chinese and writes nothing; a team admin cannot."""
    app, _ids = world
    from plugins.privacy import consents as C
    c = app.test_client()
    assert login(c, "admin", PASSWORD).status_code == 302
    page = c.get("/admin/privacy_purpose/new/").get_data(as_text=True)
    base = {"csrf_token": csrf_from(page), "name": "社区义诊信息共享", "notice_version": "2024-1",
            "subject_kind": "volunteer", "sort": "80", "description": ""}
    r = c.post("/admin/privacy_purpose/new/", data={**base, "code": "Bad Code!"}, follow_redirects=True)
    assert "小写字母" in r.get_data(as_text=True)
    with app.test_request_context():
        assert not C.Purpose.select().where(C.Purpose.name == "社区义诊信息共享").exists()
    r = c.post("/admin/privacy_purpose/new/", data={**base, "code": "clinic_sharing", "active": "y",
                                                    "withdrawable": "y"})
    assert r.status_code == 302
    with app.test_request_context():
        p = C.Purpose.get(C.Purpose.code == "clinic_sharing")
        assert p.source == "register" and p.notice_version == "2024-1"
        from plugins.volunteers.models import Volunteer
        v1 = Volunteer.get_by_id(_ids["v1"])
        C.give(v1, "clinic_sharing", actor=v1.user)
        assert C.consented(v1, "clinic_sharing") and C.Consent.get().notice_version == "2024-1"
        pid = C.Purpose.get(C.Purpose.code == "birthday").id
    page = c.get(f"/admin/privacy_purpose/edit/?id={pid}").get_data(as_text=True)
    r = c.post(f"/admin/privacy_purpose/edit/?id={pid}", data={**base, "csrf_token": csrf_from(page),
                                                               "code": "bday", "active": "y"}, follow_redirects=True)
    assert "不能修改" in r.get_data(as_text=True)
    with app.test_request_context():
        assert C.Purpose.get_by_id(pid).code == "birthday"
    t = app.test_client()
    assert login(t, "ta", PASSWORD).status_code == 302
    assert t.get("/admin/privacy_purpose/new/").status_code in (302, 403)


def test_r_priv_4_the_platform_admin_approves_on_the_page_with_a_reason(world):
    """issue 13 point 6: through the admin page, a team admin's request is approved by the platform admin
    only with a reason (without one: a Chinese error, still requested); the team admin sees no buttons."""
    app, ids = world
    from plugins.privacy import disclosures as D
    with app.test_request_context():
        d = D.request_disclosure(_request(ids), actor=_user("ta"))
    t = app.test_client()
    assert login(t, "ta", PASSWORD).status_code == 302
    page = t.get(f"/admin/privacy_disclosure/{d.id}").get_data(as_text=True)
    assert "广州市第一人民医院" in page and 'value="approve"' not in page
    r = t.post(f"/admin/privacy_disclosure/{d.id}", data={"csrf_token": csrf_from(page), "action": "approve",
                                                          "reason": "我批准"})
    assert r.status_code == 403
    c = app.test_client()
    assert login(c, "admin", PASSWORD).status_code == 302
    page = c.get(f"/admin/privacy_disclosure/{d.id}").get_data(as_text=True)
    assert 'value="approve"' in page
    r = c.post(f"/admin/privacy_disclosure/{d.id}", data={"csrf_token": csrf_from(page), "action": "approve",
                                                          "reason": ""}, follow_redirects=True)
    assert "请填写原因" in r.get_data(as_text=True)
    with app.test_request_context():
        assert D.Disclosure.get_by_id(d.id).status == "requested"
    r = c.post(f"/admin/privacy_disclosure/{d.id}", data={"csrf_token": csrf_from(page), "action": "approve",
                                                          "reason": "生命危险"}, follow_redirects=True)
    assert "已通过" in r.get_data(as_text=True)
    with app.test_request_context():
        assert D.Disclosure.get_by_id(d.id).status == "approved"
