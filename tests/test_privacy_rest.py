"""The rest of privacy (issue 13): sign-ups without a service record in the retention schedule (point 7),
volunteers' /me/requests filed as privacy requests (point 2), the impact assessment and the kept copies
of the processing record (point 8), erasure in append-only tables (Done means).
RULES R-PRIV-5, SECURITY PR6, PR7; PIPL 44–47, 55–56."""
from __future__ import annotations

import datetime as _dt

import pytest

from test_hardening_privacy import PLUGINS, world  # noqa: F401  (the fixture)


def _later(days):
    from core.db import now
    return now() + _dt.timedelta(days=days)


def test_r_priv_5_1_signups_without_a_service_record_are_listed_reviewed_and_destroyed(world):
    """issue 13 point 7: a sign-up (with its check-in times) that never became a service record is listed
    once its shift ended longer ago than ``retention_days_signups`` (default 365), reviewed and destroyed;
    sign-ups with service records (the books' hours) are never listed; nothing is past its date without
    a recorded reason."""
    app, ids = world
    from core.models import AuditLog, User
    from plugins.activities.models import ServiceRecord, SignUp
    from plugins.privacy import retention as R
    from plugins.privacy.retention import SETTINGS
    with app.test_request_context():
        assert SETTINGS.get("retention_days_signups") == 365
        orphan = SignUp.get((SignUp.volunteer == ids["v3"]) & (SignUp.activity == ids["a1"]))
        assert not ServiceRecord.select().where(ServiceRecord.signup == orphan.id).exists()
        records_before = ServiceRecord.select().count()
        assert R.scan(at=_later(300)) == 0 or not R.RetentionItem.select().where(
            R.RetentionItem.kind == "activity_signups").exists()
        late = _later(365 + 10)
        missing = [oid for kind, oid in R.kept_without_reason(at=late) if kind == "activity_signups"]
        assert missing == [str(orphan.id)]                      # the check sees it before the scan
        R.scan(at=late)
        items = list(R.RetentionItem.select().where(R.RetentionItem.kind == "activity_signups"))
        assert [i.object_id for i in items] == [str(orphan.id)]
        assert "王五" not in items[0].summary
        assert [k for k, _ in R.kept_without_reason(at=late) if k == "activity_signups"] == []
        admin = User.get(User.username == "admin")
        R.destroy(items[0], admin)
        assert SignUp.get_or_none(SignUp.id == orphan.id) is None
        assert ServiceRecord.select().count() == records_before          # the hours are kept
        assert AuditLog.select().where(AuditLog.action == "privacy.retention.destroy").count() == 1
        assert R.scan(at=_later(800)) == 0 or all(
            i.kind != "activity_signups" for i in R.RetentionItem.select().where(R.RetentionItem.status == "due"))
        assert [k for k, _ in R.kept_without_reason(at=_later(800)) if k == "activity_signups"] == []


def test_r_priv_5_1_signup_retention_follows_the_setting(world):
    """issue 13 point 7: the days are a setting: at 30 days the same sign-up is due a year earlier."""
    app, ids = world
    from plugins.privacy import retention as R
    from plugins.privacy.retention import SETTINGS
    with app.test_request_context():
        assert [k for k, _ in R.kept_without_reason(at=_later(40)) if k == "activity_signups"] == []
        from core.settings import change
        change("privacy", {"retention_days_signups": "30"})
        assert [k for k, _ in R.kept_without_reason(at=_later(40)) if k == "activity_signups"] == [
            "activity_signups"]


# ------------------------------------------------------------------ point 1: /me/requests onto privacy
def _post_request(client, kind, details="", **extra):
    from conftest import csrf_from
    page = client.get("/me").get_data(as_text=True)
    return client.post("/me/requests", data={"csrf_token": csrf_from(page), "kind": kind, "details": details,
                                             **extra})


def test_pr7_1_me_requests_file_privacy_requests_due_in_working_days_answer_in_inbox(world):
    """issue 13 point 2: with privacy enabled the volunteers' /me form files a privacy SubjectRequest for
    the logged-in person (not the volunteers plugin's own table), due the end of the request_workdays-th
    working day, shown on /me with its due date; staff grant it and the answer is in the inbox."""
    from test_certificates import logged_in
    app, ids = world
    c = logged_in(app, ids["u1"])
    r = _post_request(c, "correction", "我的出生日期应为1980-01-02")
    assert r.status_code == 302
    from core.models import Message, User
    from core.workdays import deadline
    from plugins.privacy import requests as R
    from plugins.volunteers.models import DataRequest
    with app.test_request_context():
        u1 = User.get(User.username == ids["u1"])
        assert DataRequest.select().count() == 0
        req = R.SubjectRequest.get()
        assert (req.user_id, req.kind, req.status) == (u1.id, "correction", "open")
        assert req.due_at == deadline(req.created_at, 15)
        due = req.due_at.strftime("%Y-%m-%d")
    me = c.get("/me").get_data(as_text=True)
    assert "我的出生日期应为1980-01-02" in me and due in me
    with app.test_request_context():
        admin = User.get(User.username == "admin")
        R.decide(R.SubjectRequest.get(), admin, grant=True, outcome="已更正出生日期")
        msgs = list(Message.select().where(Message.recipient == u1.id, Message.category == "privacy.request"))
        assert len(msgs) == 1 and "已更正出生日期" in msgs[0].body


def test_pr7_1_me_requests_bad_kind_chinese_error_nothing_written(world):
    """issue 13 point 2: an unknown kind on /me gives a Chinese message and writes nothing."""
    from test_certificates import logged_in
    app, ids = world
    c = logged_in(app, ids["u1"])
    r = _post_request(c, "bogus")
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "未知" in page or "类型" in page
    from plugins.privacy import requests as R
    from plugins.volunteers.models import DataRequest
    with app.app_context():
        assert R.SubjectRequest.select().count() == 0 and DataRequest.select().count() == 0


def test_pr7_1_idor_requests_only_ever_for_the_requester(world):
    """issue 13 Security: a request posted with another person's ids in the form is still the
    requester's own; volunteer 2 sees neither volunteer 1's request on /me nor on /me/privacy/requests."""
    from test_certificates import logged_in
    app, ids = world
    c1, c2 = logged_in(app, ids["u1"]), logged_in(app, ids["u2"])
    from core.models import User
    with app.app_context():
        u1 = User.get(User.username == ids["u1"])
        u2 = User.get(User.username == ids["u2"])
    _post_request(c1, "correction", "甲的秘密更正内容")
    _post_request(c2, "export", "", user=str(u1.id), volunteer=str(ids["v1"]), user_id=str(u1.id))
    from plugins.privacy import requests as R
    with app.app_context():
        owners = sorted((r.user_id, r.kind) for r in R.SubjectRequest.select())
    assert owners == sorted([(u1.id, "correction"), (u2.id, "export")])
    for page in ("/me", "/me/privacy/requests"):
        assert "甲的秘密更正内容" not in c2.get(page).get_data(as_text=True), page
        assert "甲的秘密更正内容" in c1.get(page).get_data(as_text=True), page


def test_pr7_1_overdue_request_from_me_is_flagged_on_the_dashboard(world):
    """issue 13 point 2: past its due time a request filed on /me is overdue in the dashboard widget."""
    from test_certificates import logged_in
    app, ids = world
    _post_request(logged_in(app, ids["u1"]), "export")
    from core.db import now
    from core.models import User
    from plugins.privacy import requests as R
    from plugins.privacy import requests_dashboard_widgets
    with app.test_request_context():
        assert R.overdue().count() == 0
        R.SubjectRequest.update(due_at=now() - _dt.timedelta(hours=1)).execute()
        assert R.overdue().count() == 1
        w = requests_dashboard_widgets(User.get(User.username == "admin"))
        assert w and "/admin/privacy_requests_admin/" in str(w[0].html)


def test_pr7_1_older_volunteers_requests_are_not_lost(world):
    """issue 13 point 2: a request in the volunteers plugin's own register from before privacy was
    enabled is still shown on /me beside the new ones and listed on privacy's page with its due date."""
    from test_certificates import logged_in
    app, ids = world
    from plugins.privacy import requests as R
    from plugins.volunteers.models import DataRequest
    with app.app_context():
        DataRequest.create(volunteer=ids["v1"], kind="deletion", details="旧登记簿里的删除请求")
        assert [r.details for r, _due, _late in R.volunteer_requests()] == ["旧登记簿里的删除请求"]
    c = logged_in(app, ids["u1"])
    _post_request(c, "export")
    me = c.get("/me").get_data(as_text=True)
    assert "旧登记簿里的删除请求" in me and "导出" in me


def test_pr7_1_without_privacy_the_volunteers_register_still_works(make_app):
    """issue 13 point 2: with privacy off the volunteers plugin files in its own register."""
    from conftest import PASSWORD, login
    from test_teams_workflow import cn_id
    app = make_app(plugins=["volunteers"])
    from plugins.volunteers import services as V
    from plugins.volunteers.models import DataRequest
    with app.test_request_context():
        v = V.register({"name": "赵六", "id_type": "cn_id", "id_number": cn_id(7401), "phone": "13812347401",
                        "agreement": True, "password": PASSWORD})
        username = v.user.username
    c = app.test_client()
    login(c, username, PASSWORD)
    assert _post_request(c, "correction", "改名").status_code == 302
    with app.app_context():
        assert [r.details for r in DataRequest.select()] == ["改名"]


# ------------------------------------------------------------------ append-only tables and erasure
MESSAGE = "张三丰捐给李奶奶的留言，电话13812340001"


def _donate(app, ids):
    from core.models import User
    from plugins.donations import services as D
    from plugins.teams.models import Team
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        admin = User.get(User.username == "admin")
        b = D.create_beneficiary(Team.get_by_id(ids["a"]), name="西湖社区李奶奶", actor=admin)
        t = D.donate_to_beneficiary(Volunteer.get_by_id(ids["v1"]), b, 1, message=MESSAGE, actor=admin)
        return t.donation.id, t.id


def test_pr6_1_erasure_blanks_messages_in_append_only_tables_and_the_ledger_verifies(world):
    """issue 13 Done means: a donor's message lives in two append-only tables (donations_donation.message
    and the ledger transfer's reason); erasure blanks both, the amounts and links stay, ``timebank ledger
    verify`` passes, and the message is nowhere in the database files."""
    import os
    app, ids = world
    did, tid = _donate(app, ids)
    from plugins.donations.models import Donation
    from plugins.ledger.models import Transfer
    from plugins.privacy import services
    from plugins.privacy.contract import Subject
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        assert Donation.get_by_id(did).message == MESSAGE and Transfer.get_by_id(tid).reason == MESSAGE
        before = (Donation.get_by_id(did).amount, Transfer.get_by_id(tid).amount, Transfer.get_by_id(tid).payload_hash)
        v = Volunteer.get_by_id(ids["v1"])
        out = dict(services.erase_subject(Subject("volunteer", user_id=v.user_id, volunteer_id=v.id)))
        assert out["donations"].removed and out["ledger"].removed
        assert Donation.get_by_id(did).message == "" and Transfer.get_by_id(tid).reason == ""
        after = (Donation.get_by_id(did).amount, Transfer.get_by_id(tid).amount, Transfer.get_by_id(tid).payload_hash)
        assert after == before
    r = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert r.exit_code == 0, r.output
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from core.db import db
        with app.app_context():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute_sql("VACUUM")
        f = url.removeprefix("sqlite:///")
        blob = b"".join(open(p, "rb").read() for p in (f, f + "-wal") if os.path.exists(p))
        assert MESSAGE.encode() not in blob and "13812340001".encode() not in blob


def test_lg1_1_append_only_still_refuses_every_other_change(world):
    """LG1 after the erasure exception: changing an amount, writing a new message, deleting a row of the
    donations or the ledger is still refused by the database; only blanking the erasable text passes."""
    import peewee as pw
    app, ids = world
    did, tid = _donate(app, ids)
    from core.db import transaction
    from plugins.donations.models import Donation
    from plugins.ledger.models import Transfer
    attempts = [lambda: Donation.update(amount=99).where(Donation.id == did).execute(),
                lambda: Donation.update(message="改写的留言").where(Donation.id == did).execute(),
                lambda: Donation.update(message="", amount=99).where(Donation.id == did).execute(),
                lambda: Donation.delete().where(Donation.id == did).execute(),
                lambda: Transfer.update(amount=99).where(Transfer.id == tid).execute(),
                lambda: Transfer.update(reason="别的理由").where(Transfer.id == tid).execute(),
                lambda: Transfer.delete().where(Transfer.id == tid).execute()]
    with app.app_context():
        for i, attempt in enumerate(attempts):
            with pytest.raises(pw.DatabaseError):
                with transaction():
                    attempt()
            assert Donation.get_by_id(did).message == MESSAGE, i
        with transaction():
            Transfer.update(reason="").where(Transfer.id == tid).execute()
        assert Transfer.get_by_id(tid).reason == ""


# ------------------------------------------------------------------ point 8: impact assessments, kept copies
def test_r_priv_8_1_assessment_drafts_come_from_the_declarations(world):
    """issue 13 point 8 (PIPL 55): drafts for sensitive data (the volunteer record), public disclosure
    (activity photos, the organiser's name on the page) and shared processing (exchanges with a partner),
    each with purpose, risks and measures filled in; generating again opens nothing new."""
    app, _ids = world
    from plugins.privacy import assessments as A
    with app.test_request_context():
        n = A.generate_drafts()
        got = {(a.case, a.table) for a in A.ImpactAssessment.select()}
        assert n == len(got) > 0
        assert ("sensitive", "volunteers_volunteer") in got
        assert ("public", "activities_photo") in got and ("public", "activities_activity") in got
        assert ("entrusted", "exchange_redemption") in got
        assert all(a.status == "draft" and a.purpose and a.risks and a.measures and not a.conclusion
                   for a in A.ImpactAssessment.select())
        assert A.generate_drafts() == 0


def test_r_priv_8_1_staff_complete_an_assessment_bad_input_writes_nothing(world):
    """issue 13 point 8: completing needs the conclusion (a Chinese error beside it, nothing written);
    with it, who and when are recorded, it is audited and a dated copy is kept."""
    from test_certificates import logged_in
    from conftest import csrf_from
    app, _ids = world
    from core.models import AuditLog, User
    from plugins.privacy import assessments as A
    with app.test_request_context():
        A.generate_drafts()
        a = A.ImpactAssessment.get((A.ImpactAssessment.case == "sensitive")
                                   & (A.ImpactAssessment.table == "volunteers_volunteer"))
        copies = A.snapshots("assessment", a.id).count()
    c = logged_in(app, "admin")
    page = c.get(f"/admin/privacy_assessments/{a.id}").get_data(as_text=True)
    r = c.post(f"/admin/privacy_assessments/{a.id}", data={"csrf_token": csrf_from(page), "complete": "1",
                                                           "conclusion": "  "})
    assert r.status_code == 400 and "完成评估时必填" in r.get_data(as_text=True)
    with app.app_context():
        assert A.ImpactAssessment.get_by_id(a.id).status == "draft"
        assert A.snapshots("assessment", a.id).count() == copies
    r = c.post(f"/admin/privacy_assessments/{a.id}", data={"csrf_token": csrf_from(page), "complete": "1",
                                                           "conclusion": "风险可控，可以处理"})
    assert r.status_code == 302
    with app.app_context():
        done = A.ImpactAssessment.get_by_id(a.id)
        admin = User.get(User.username == "admin")
        assert done.status == "completed" and done.completed_by_id == admin.id and done.completed_at
        assert AuditLog.select().where(AuditLog.action == "privacy.assessment.completed").count() == 1
        latest = A.snapshots("assessment", a.id).first()
        assert A.snapshots("assessment", a.id).count() == copies + 1
        assert "风险可控，可以处理" in latest.content and "平台管理员" in latest.content


def test_r_priv_8_2_record_and_assessments_kept_three_years_never_deleted_before(world):
    """issue 13 point 8 (PIPL 56): viewing the processing record keeps a dated copy when it changed (not
    twice when unchanged), listed with its date; a copy is kept ``record_keep_years`` (3) years: deleting it
    earlier is refused, the nightly purge leaves it, after the date it may go."""
    from test_certificates import logged_in
    app, _ids = world
    from plugins.privacy import assessments as A
    c = logged_in(app, "admin")
    assert c.get("/admin/privacy_record/").status_code == 200
    assert c.get("/admin/privacy_record/").status_code == 200
    with app.test_request_context():
        copies = list(A.snapshots("record"))
        assert len(copies) == 1
        snap = copies[0]
        assert snap.keep_until.year == snap.taken_at.year + 3
        import json as _json
        body = _json.loads(snap.content)
        assert "volunteers_volunteer" in {row[1] for row in body["rows"]}
        with pytest.raises(Exception) as e:
            A.delete_snapshot(snap, at=_later(3 * 365 - 2))
        assert "keep_until" in e.value.errors
        assert A.purge_snapshots(at=_later(3 * 365 - 2)) == 0
        A.generate_drafts()
        assert A.purge_snapshots(at=_later(2 * 365)) == 0 and A.snapshots("assessment").count() > 0
        A.delete_snapshot(snap, at=_later(3 * 366 + 1))
        assert A.snapshots("record").count() == 0
    listing = c.get("/admin/privacy_assessments/").get_data(as_text=True)
    assert "保留至" in listing or "保存至" in listing


def test_r_priv_8_2_keep_years_is_a_setting(world):
    """issue 13 point 8: the years are a setting (at least 3)."""
    app, _ids = world
    from core.settings import change
    from plugins.privacy import assessments as A
    with app.test_request_context():
        change("privacy", {"record_keep_years": "5"})
        snap = A.keep_record()
        assert snap.keep_until.year == snap.taken_at.year + 5
        with pytest.raises(Exception):
            change("privacy", {"record_keep_years": "2"})


def test_lg1_1_a_no_op_update_is_still_refused(world):
    """LG1: an UPDATE that changes nothing (``SET id = id``) is refused like any other, erasable or not."""
    app, ids = world
    _donate(app, ids)
    from core.db import db, transaction
    with app.app_context():
        for table in ("donations_donation", "ledger_transfer"):
            with pytest.raises(Exception, match="append-only"):
                with transaction():
                    db.execute_sql(f'UPDATE "{table}" SET id = id')


# ------------------------------------------------------------------ Done means, on both databases
def _database_bytes(app) -> bytes:
    """Every byte the database holds: SQLite's files after a checkpoint and VACUUM; PostgreSQL's pg_dump."""
    import os
    import subprocess
    url = app.config["DATABASE_URL"]
    from core.db import db
    if url.startswith("sqlite:///"):
        with app.app_context():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute_sql("VACUUM")
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        f = url.removeprefix("sqlite:///")
        return b"".join(open(p, "rb").read() for p in (f, f + "-wal") if os.path.exists(p))
    out = subprocess.run(["pg_dump", "--data-only", "--no-owner", url], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-500:]
    return out.stdout


def test_pr6_2_done_means_erasure_leaves_no_name_id_phone_or_message_in_the_whole_database(world):
    """issue 13 Done means: a volunteer with sign-ups, points, a certificate, a photo and a donation is
    erased through the contract: ``timebank ledger verify`` passes and neither the name, the ID number, the
    phone nor the donor's message is anywhere in the database (SQLite files / pg_dump); another
    volunteer's name is still there (the check reads real data)."""
    from test_certificates import NAME_1, NAME_2
    app, ids = world
    _donate(app, ids)
    from plugins.privacy import services
    from plugins.privacy.contract import Subject
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        v = Volunteer.get_by_id(ids["v1"])
        phone = v.phone
        blob = _database_bytes(app)
        assert MESSAGE.encode() in blob
        services.erase_subject(Subject("volunteer", user_id=v.user_id, volunteer_id=v.id))
    r = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert r.exit_code == 0, r.output
    blob = _database_bytes(app)
    for text in (NAME_1, ids["id1"], phone, MESSAGE, "13812340001"):
        at = [blob[max(0, i - 80):i + 40] for i in [blob.find(text.encode())] if i >= 0]
        assert not at, (text, at)
    assert NAME_2.encode() in blob


def test_r_priv_8_3_processing_record_lists_every_plugins_personal_data(world):
    """issue 13 Done means: the generated record has a row for every declared table of every plugin that
    stores personal data, and every tagged field is declared (nothing missing)."""
    app, _ids = world
    from plugins.privacy import services
    with app.test_request_context():
        assert services.undeclared() == []
        tables = {row[1] for row in services.processing_record()}
        for d in services.declarations():
            assert d.model._meta.table_name in tables
        for t in ("volunteers_volunteer", "activities_signup", "activities_photo", "ledger_account",
                  "certificates_certificate", "donations_donation", "exchange_redemption", "core_message",
                  "core_audit_log", "privacy_impact_assessment", "privacy_record_snapshot"):
            assert t in tables, t
