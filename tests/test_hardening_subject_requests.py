"""Subject requests (issue 13 point 2; PIPL 44–47; SECURITY PR7): filed by a volunteer for themselves
through /me/privacy/requests or by staff for a service recipient; due in working days (a setting);
overdue on the dashboard; decided through core.workflow with an audit row per step; the answer in the
requester's inbox; the volunteers plugin's own register listed with the same due dates."""
from __future__ import annotations

import datetime as _dt

import pytest

from conftest import csrf_from, login

PLUGINS = ["volunteers", "privacy"]


@pytest.fixture
def site(make_app, make_user):
    app = make_app(plugins=PLUGINS)
    make_user("admin", "platform_admin")
    make_user("alice")
    make_user("bob")
    return app


def _users():
    from core.models import User
    return User.get(User.username == "admin"), User.get(User.username == "alice"), User.get(User.username == "bob")


def test_pr7_request_due_in_working_days_from_the_setting(site):
    """issue 13 point 2: a filed request is open, due the end of the N-th working day (request_workdays),
    and its filing is audited."""
    from core.models import AuditLog
    from core.workdays import deadline
    from plugins.privacy import requests as R
    with site.test_request_context():
        _a, alice, _b = _users()
        r = R.file_own(alice, "seen")
        assert r.status == "open" and r.user_id == alice.id
        assert r.due_at == deadline(r.created_at, 15)
        assert AuditLog.select().where(AuditLog.action == "privacy.request.file").count() == 1


def test_pr7_bad_request_is_refused_in_chinese_and_writes_nothing(site):
    """issue 13 point 2: an unknown kind, a correction without details, staff filing without naming the
    person: a clear Chinese error, no row, no audit row."""
    from flask_babel import force_locale
    from core.errors import FieldErrors
    from plugins.privacy import requests as R
    with site.test_request_context(), force_locale("zh_Hans_CN"):
        admin, alice, _b = _users()
        with pytest.raises(FieldErrors) as e:
            R.file_own(alice, "bogus")
        assert "未知" in str(e.value.errors["kind"]) or "类型" in str(e.value.errors["kind"])
        with pytest.raises(FieldErrors):
            R.file_own(alice, "correction", "  ")
        with pytest.raises(FieldErrors) as e:
            R.file_for_recipient(admin, "  ", "export")
        assert "subject_ref" in e.value.errors
        with pytest.raises(FieldErrors):
            R.file_for_recipient(alice, "李奶奶（独居老人）", "export")      # not staff
        assert R.SubjectRequest.select().count() == 0


def test_pr7_decision_replies_in_inbox_and_audits_each_step(site):
    """issue 13 point 2: granting "who has seen my data" puts the answer with the list in the requester's
    inbox; a refusal needs its reason; each step is one audit row."""
    from core.errors import FieldErrors
    from core.models import AuditLog, Message
    from plugins.privacy import requests as R
    with site.test_request_context():
        admin, alice, _b = _users()
        r = R.file_own(alice, "seen")
        with pytest.raises(FieldErrors):
            R.decide(r, admin, grant=False, outcome="")
        assert R.SubjectRequest.get_by_id(r.id).status == "open"
        r = R.decide(r, admin, grant=True, outcome="见下表")
        assert r.status == "done" and r.decided_by_id == admin.id
        msg = Message.get(Message.recipient == alice.id)
        assert "见下表" in msg.body and msg.category == "privacy.request"
        assert AuditLog.select().where(AuditLog.action == "privacy.request.grant").count() == 1
        r2 = R.file_own(alice, "correction", "姓名写错了")
        R.decide(r2, admin, grant=False, outcome="无法核实")
        assert Message.select().where(Message.recipient == alice.id).count() == 2


def test_pr7_only_the_requester_sees_their_requests_and_only_staff_decide(site):
    """issue 13 point 2 (IDOR): bob's page does not show alice's request; alice may not decide it; the
    admin page is refused to non-staff."""
    from plugins.privacy import requests as R
    c = site.test_client()
    login(c, "alice")
    page = c.get("/me/privacy/requests")
    assert page.status_code == 200
    r = c.post("/me/privacy/requests", data={"kind": "correction", "details": "电话号码改为新的",
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 302
    assert "电话号码改为新的" in c.get("/me/privacy/requests").get_data(as_text=True)
    assert c.get("/admin/privacy_requests_admin/").status_code == 403
    with site.test_request_context():
        req = R.SubjectRequest.get()
        _a, alice, _b = _users()
        from core.errors import FieldErrors
        with pytest.raises(FieldErrors) as e:
            R.decide(req, alice, grant=True, outcome="ok")
        assert e.value.code == 403
    c2 = site.test_client()
    login(c2, "bob")
    assert "电话号码改为新的" not in c2.get("/me/privacy/requests").get_data(as_text=True)


def test_pr7_staff_file_for_a_recipient_and_overdue_is_flagged(site):
    """issue 13 point 2: staff file for a service recipient by reference; past its due time the request
    is overdue and the dashboard widget says so with a link."""
    from core.db import now
    from plugins.privacy import requests as R
    from plugins.privacy import requests_dashboard_widgets
    c = site.test_client()
    login(c, "admin")
    page = c.get("/admin/privacy_requests_admin/").get_data(as_text=True)
    r = c.post("/admin/privacy_requests_admin/file", data={"subject_ref": "李奶奶（独居老人）", "kind": "export",
                                                         "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    listing = c.get("/admin/privacy_requests_admin/").get_data(as_text=True)
    assert "李奶奶（独居老人）" in listing and "查阅并下载我的信息" in listing
    with site.test_request_context():
        admin, _al, _b = _users()
        req = R.SubjectRequest.get()
        assert req.subject_ref == "李奶奶（独居老人）" and req.user_id is None and req.filed_by_id == admin.id
        assert R.overdue().count() == 0
        R.SubjectRequest.update(due_at=now() - _dt.timedelta(hours=1)).execute()
        assert R.overdue().count() == 1
        w = requests_dashboard_widgets(admin)
        assert w and "/admin/privacy_requests_admin/" in str(w[0].html)
        R.decide(R.SubjectRequest.get(), admin, grant=True, outcome="已当面交付")   # no account: no inbox
        assert R.overdue().count() == 0


def test_pr7_volunteers_register_listed_with_due_dates(site):
    """issue 13 point 2: the volunteers plugin's own requests are listed on privacy's page with the same
    due dates and overdue flags (decided on its page through its public API)."""
    from core.db import now
    from plugins.privacy import requests as R
    from plugins.volunteers.models import DataRequest
    with site.test_request_context():
        assert R.volunteer_requests() == []
        vid = _volunteer()
        DataRequest.create(volunteer=vid, kind="deletion", created_at=now() - _dt.timedelta(days=40))
        rows = R.volunteer_requests()
        assert len(rows) == 1 and rows[0][2] is True


def _volunteer():
    from conftest import PASSWORD
    from test_teams_workflow import cn_id
    from plugins.volunteers import services as V
    return V.register({"name": "王小五", "id_type": "cn_id", "id_number": cn_id(7301), "phone": "13812347301",
                       "agreement": True, "password": PASSWORD}).id


def test_pr7_granted_deletion_erases_the_volunteer_everywhere(site):
    """issue 13 point 2 (PIPL 47): a volunteer's deletion request, once granted, erases them through the
    contract (the volunteer record anonymised, the account closed)."""
    from core.models import User
    from plugins.privacy import requests as R
    from plugins.volunteers.models import Volunteer
    with site.test_request_context():
        admin = User.get(User.username == "admin")
        vid = _volunteer()
        v = Volunteer.get_by_id(vid)
        user = User.get_by_id(v.user_id)
        r = R.file_own(user, "deletion", "请删除我的信息")
        R.decide(r, admin, grant=True, outcome="已删除")
        v = Volunteer.get_by_id(vid)
        assert v.status == "erased" and "王小五" not in (v.name or "")
        assert not User.get_by_id(user.id).is_active


def test_pr7_consent_withdrawal_takes_effect_at_once(site):
    """issue 13 point 2: a volunteer's consent withdrawal filed on /me/privacy/requests is done at once
    (sensitive data erased, as on the volunteers plugin's form) and answered in the inbox."""
    from core.models import Message, User
    from plugins.privacy import requests as R
    from plugins.volunteers.models import Volunteer
    with site.test_request_context():
        vid = _volunteer()
        user = User.get_by_id(Volunteer.get_by_id(vid).user_id)
        r = R.file_own(user, "withdraw")
        assert r.status == "done" and Volunteer.get_by_id(vid).sensitive_consent_at is None
        assert "撤回" in Message.get(Message.recipient == user.id).body or "withdrawn" in Message.get(Message.recipient == user.id).body
        assert Message.select().where((Message.recipient == user.id) & (Message.category == "privacy.request")).count() == 1
