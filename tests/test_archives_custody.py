"""Archives, issue 17 second part (RULES R-ARC-4 borrowing, R-ARC-5 destruction, R-ARC-6 custody; SECURITY
AC6, PR5, PR6, AU1): the borrowing register with a 3-working-day loan chased daily, approvals by the team
leader, the five-step destruction before witnesses that removes the stored bytes and zeroes SQLite's freed
pages while the register remains, loss reports and handovers, and a team admin who reaches only their own
team's records. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as _dt
import io

import pytest

from core.testing import PASSWORD, csrf_from, login

PLUGINS = ["volunteers", "teams", "documents", "activities", "activity_forms", "privacy", "archives"]
TZ = _dt.timezone(_dt.timedelta(hours=8))


@pytest.fixture
def app_(make_app, make_user):
    app = make_app(plugins=PLUGINS)
    from plugins.teams.services import register_team
    with app.app_context():
        ids = [register_team({"name": f"示例党员志愿服务队{i}", "leader_name": "王示例",
                              "leader_phone": f"1380013800{i}"}).id for i in (1, 2)]
    for i, tid in enumerate(ids, 1):
        make_user(f"ta{i}", "team_admin", scope=f"team:{tid}")          # the team leader
        make_user(f"arc{i}", "archives_archivist", scope=f"team:{tid}")
        make_user(f"arcb{i}", "archives_archivist", scope=f"team:{tid}")
        make_user(f"sup{i}", "archives_supervisor", scope=f"team:{tid}")
    make_user("borrower", display_name="李借阅")
    make_user("admin", "platform_admin")
    app.team_ids = ids
    return app


def user(app, name):
    from core.models import User
    with app.app_context():
        return User.get(User.username == name)


def client_for(app, username):
    c = app.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def new_file(app, team_id, title="北京街2015年工作总结", retention="short", date_to=_dt.date(2015, 12, 31), docs=1):
    from plugins.archives import services as A
    with app.test_request_context():
        f = A.create_file(team_id, A.kind("work"), title, retention=retention, date_from=_dt.date(2015, 1, 1),
                          date_to=date_to)
        for i in range(docs):
            A.add_document(f, f"会议记录{i + 1}", f"minutes{i + 1}.txt", f"会议记录正文{i + 1} {title}".encode())
        return f


def messages_to(app, username, like):
    from core.models import Message, User
    with app.app_context():
        return list(Message.select().join(User).where((User.username == username) & Message.dedupe_key.contains(like)))


def actions(app, like):
    from core.models import AuditLog
    with app.app_context():
        return [a.action for a in AuditLog.select().where(AuditLog.action.startswith(like)).order_by(AuditLog.id)]


# ------------------------------------------------------------------------------------------- R-ARC-4
def test_r_arc_4_1_a_borrower_who_keeps_it_4_days_is_chased_once_a_day_until_returned(app_):
    from plugins.archives import loans
    f = new_file(app_, app_.team_ids[0])
    monday = _dt.datetime(2026, 6, 8, 9, 0, tzinfo=TZ)              # a working week without holidays
    with app_.test_request_context():
        loan = loans.lend(f, borrower="李借阅", contact="13800138000", borrower_user=user(app_, "borrower"),
                          actor=user(app_, "arc1"), borrowed_at=monday)
        assert loan.status == "on_loan" and loan.number.startswith("JY")
        assert loan.due_at.date() == _dt.date(2026, 6, 11)            # 3 working days (setting loan_workdays)
        assert loans.chase(at=monday + _dt.timedelta(days=3, hours=1)) == 0     # Thursday: still in time
        thursday_night = monday + _dt.timedelta(days=3, hours=14)
        assert loans.chase(at=thursday_night) == 0
        friday = monday + _dt.timedelta(days=4)                         # kept 4 days: chased
        assert loans.chase(at=friday) == 1
        assert loans.chase(at=friday + _dt.timedelta(hours=2)) == 1     # a second run (or worker) that day
    chased = messages_to(app_, "borrower", "archives.loan_overdue")
    assert len(chased) == 1 and loan.number in chased[0].subject
    assert len(messages_to(app_, "ta1", "archives.loan_overdue")) == 1     # the leader hears of it too
    with app_.test_request_context():
        loans.chase(at=friday + _dt.timedelta(days=1))                  # every day until returned
        loans.give_back(loans.Loan.get_by_id(loan.id), actor=user(app_, "arc1"))
        assert loans.chase(at=friday + _dt.timedelta(days=2)) == 0
    assert len(messages_to(app_, "borrower", "archives.loan_overdue")) == 2
    assert "archives.loan.return" in actions(app_, "archives.loan")


def test_r_arc_4_2_the_loan_length_is_a_setting_in_working_days(app_):
    from core.settings import change
    from plugins.archives import loans
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        change("archives", {"loan_workdays": "1"})
        friday = _dt.datetime(2026, 6, 12, 9, 0, tzinfo=TZ)
        loan = loans.lend(f, borrower="李借阅", contact="13800138000", borrowed_at=friday)
        assert loan.due_at.date() == _dt.date(2026, 6, 15)          # the next working day is Monday


def test_r_arc_4_3_copying_and_another_teams_loan_need_the_team_leaders_approval(app_):
    from core.workflow import WorkflowError
    from plugins.archives import loans
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        copy = loans.lend(f, borrower="李借阅", contact="020-83331234", copying=True, actor=user(app_, "arc1"))
        other = loans.lend(f, borrower="张二队", contact="13800138002", borrower_team=app_.team_ids[1],
                           actor=user(app_, "arc1"))
        assert copy.status == other.status == "requested" and copy.due_at is None
        with pytest.raises(WorkflowError) as e:
            loans.approve(copy, actor=user(app_, "arc1"))           # the archivist is not the leader
        assert e.value.code == 403
        done = loans.approve(copy, actor=user(app_, "ta1"))
        assert done.status == "on_loan" and done.approved_by_id == user(app_, "ta1").id and done.due_at
        refused = loans.reject(other, reason="非本队借阅，需说明用途", actor=user(app_, "ta1"))
        assert refused.status == "rejected"
    assert len(messages_to(app_, "ta1", "archives.loan_request")) == 2
    assert actions(app_, "archives.loan.") == ["archives.loan.approve", "archives.loan.reject"]


def test_r_arc_4_4_the_register_masks_the_contact_and_refuses_bad_input_beside_the_field(app_):
    from plugins.archives.models import Loan
    f = new_file(app_, app_.team_ids[0])
    c = client_for(app_, "arc1")
    token = csrf_from(c.get("/admin/archives_loan/new/").get_data(as_text=True))
    r = c.post("/admin/archives_loan/new/", data={"csrf_token": token, "file": f.id, "content": "工作总结",
                                                   "borrower": "李借阅", "contact": "12345"})
    assert r.status_code == 200 and "手机" in r.get_data(as_text=True) or "电话" in r.get_data(as_text=True)
    with app_.app_context():
        assert Loan.select().count() == 0
    r = c.post("/admin/archives_loan/new/", data={"csrf_token": token, "file": f.id, "content": "工作总结",
                                                   "borrower": "李借阅", "contact": "13812345678"})
    assert r.status_code == 302
    page = c.get("/admin/archives_loan/").get_data(as_text=True)
    assert "李借阅" in page and "13812345678" not in page and "138****5678" in page
    details = c.get(f"/admin/archives_file/details/?id={f.id}").get_data(as_text=True)
    assert "tb-on-loan" in details and "李借阅" in details               # a file on loan shows who has it


# ------------------------------------------------------------------------------------------- R-ARC-5
def test_r_arc_5_1_a_permanent_file_cannot_be_destroyed(app_):
    from plugins.archives.models import Destruction
    f = new_file(app_, app_.team_ids[0], "党员人事档案", retention="permanent")
    c = client_for(app_, "arc1")
    token = csrf_from(c.get("/admin/archives_destruction/due").get_data(as_text=True))
    page = c.post(f"/admin/archives_destruction/apply/{f.id}", data={"csrf_token": token},
                  follow_redirects=True).get_data(as_text=True)
    assert "永久" in page and "不得销毁" in page
    young = new_file(app_, app_.team_ids[0], "2026年工作总结", date_to=_dt.date(2026, 1, 1))
    page = c.post(f"/admin/archives_destruction/apply/{young.id}", data={"csrf_token": token},
                  follow_redirects=True).get_data(as_text=True)
    assert "销毁期限" in page or "保管期限" in page
    with app_.app_context():
        assert Destruction.select().count() == 0


def test_r_arc_5_2_five_steps_in_order_each_by_its_own_permission_and_a_different_person(app_):
    from core.workflow import WorkflowError
    from plugins.archives import destruction as D
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        assert f.id in [x.id for x in D.due_files()]
        d = D.apply(f, reason="保管期满", actor=user(app_, "arc1"))
        assert f.id not in [x.id for x in D.due_files()]
        with pytest.raises(WorkflowError):
            D.step(d, "approve", actor=user(app_, "ta1"))               # not before the appraisal
        with pytest.raises(WorkflowError) as e:
            D.step(d, "review", actor=user(app_, "arc1"))               # the applicant does not review
        assert "另一人" in str(e.value.errors["__all__"]) or e.value.errors
        with pytest.raises(WorkflowError) as e:
            D.step(d, "review", actor=user(app_, "sup1"))               # not the supervisor's step
        assert e.value.code == 403
        d = D.step(d, "review", actor=user(app_, "arcb1"))
        with pytest.raises(WorkflowError):
            D.step(d, "appraise", actor=user(app_, "arcb1"))
        d = D.step(d, "appraise", actor=user(app_, "sup1"))
        d = D.step(d, "approve", actor=user(app_, "ta1"))
        with pytest.raises(Exception) as e:
            D.destroy(d, witnesses="王见证", signature=b"%PDF-1.4 sig", actor=user(app_, "arc2"))
        assert "witnesses" in e.value.errors                             # 2–3 witnesses (settings)
        with pytest.raises(WorkflowError):                               # arc1 applied: not the destroyer too
            D.destroy(d, witnesses="王见证\n李见证", signature=b"%PDF-1.4 sig", actor=user(app_, "arc1"))
    assert actions(app_, "archives.destruction.") == ["archives.destruction.apply", "archives.destruction.review",
                                                      "archives.destruction.appraise", "archives.destruction.approve"]


def test_r_arc_5_6_a_file_on_loan_is_not_destroyed_until_it_comes_back(app_):
    from core.errors import FieldErrors
    from plugins.archives import destruction as D
    from plugins.archives import loans
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        loan = loans.lend(f, borrower="李借阅", contact="13800138000")
        with pytest.raises(FieldErrors) as e:
            D.apply(f, actor=user(app_, "arc1"))
        assert "file" in e.value.errors
        loans.give_back(loan, actor=user(app_, "arc1"))
        assert D.apply(f, actor=user(app_, "arc1")).status == "applied"


def _destroy_through_all_steps(app_, f):
    from plugins.archives import destruction as D
    from plugins.archives.models import ArchiveFile
    with app_.test_request_context():
        d = D.apply(ArchiveFile.get_by_id(f.id), actor=user(app_, "arc1"))
        d = D.step(d, "review", actor=user(app_, "arcb1"))
        d = D.step(d, "appraise", actor=user(app_, "sup1"))
        d = D.step(d, "approve", actor=user(app_, "ta1"))
        return d


def test_r_arc_5_3_destruction_removes_the_bytes_zeroes_freed_pages_and_keeps_the_register(app_, make_user):
    from core.db import db, is_sqlite
    from plugins.archives import destruction as D
    from plugins.archives.models import ArchiveFile, Destruction, Document
    from plugins.archives.storage import folder_root
    f = new_file(app_, app_.team_ids[0], docs=2)
    make_user("keeper", "archives_archivist", scope=f"team:{app_.team_ids[0]}")
    with app_.app_context():
        docs = list(Document.select().where(Document.file == f.id))
        keys = [d.key for d in docs]
        paths = [folder_root() / k for k in keys]
        assert all(p.exists() for p in paths)
        sqlite = is_sqlite()
        if sqlite:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            dbfile = db.database
            assert keys[0].encode() in open(dbfile, "rb").read()       # the row is in the file before
    d = _destroy_through_all_steps(app_, f)
    with app_.test_request_context():
        d = D.destroy(d, witnesses="王见证，李见证", signature=b"%PDF-1.4 signed sheet", actor=user(app_, "keeper"))
    with app_.app_context():
        assert not any(p.exists() for p in paths)                        # the stored bytes are gone
        assert Document.select().where(Document.file == f.id).count() == 0
        assert ArchiveFile.get_by_id(f.id).status == "destroyed"
        reg = Destruction.get_by_id(d.id)
        assert reg.status == "destroyed" and reg.document_count == 2 and reg.destroyed_at
        assert reg.file_number == f.number and reg.witnesses.splitlines() == ["王见证", "李见证"]
        assert reg.destroyed_by_id == user(app_, "keeper").id and "会议记录1" in reg.contents
        assert D.signature(reg) == b"%PDF-1.4 signed sheet"
        if sqlite:
            import os
            raw = open(dbfile, "rb").read()
            wal = dbfile + "-wal"
            raw += open(wal, "rb").read() if os.path.exists(wal) else b""
            for k in keys:
                assert k.encode() not in raw                              # freed pages zeroed
    assert "archives.destruction.destroy" in actions(app_, "archives.destruction.")
    assert "archives.file_destroyed" in actions(app_, "archives.file_destroyed")


def test_r_arc_5_4_the_register_exports_to_xlsx(app_):
    from openpyxl import load_workbook
    from plugins.archives import destruction as D
    f = new_file(app_, app_.team_ids[0])
    d = _destroy_through_all_steps(app_, f)
    with app_.test_request_context():
        D.destroy(d, witnesses=["王见证", "李见证", "赵见证"], signature=b"sig", actor=_keeper(app_))
    r = client_for(app_, "ta1").get("/admin/archives_destruction/export/xlsx/")
    assert r.status_code == 200
    cells = [str(c.value) for row in load_workbook(io.BytesIO(r.get_data())).active.iter_rows() for c in row]
    assert f.number in cells and any("王见证" in c for c in cells)


def _keeper(app_):
    from core.models import User
    from core.security import grant_role, hash_password
    with app_.app_context():
        u = User.get_or_none(User.username == "keeper2")
        if u is None:
            u = User.create(username="keeper2", password_hash=hash_password(PASSWORD))
            grant_role(u, "archives_archivist", f"team:{app_.team_ids[0]}")
        return u


# ------------------------------------------------------------------------------------------- R-ARC-6
def test_r_arc_6_1_a_loss_is_reported_at_once_to_the_team_leader(app_):
    from core.errors import FieldErrors
    from plugins.archives import custody
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        with pytest.raises(FieldErrors) as e:
            custody.report_loss(app_.team_ids[0], what="", lost_on=None, remedy="", actor=user(app_, "arc1"))
        assert set(e.value.errors) == {"what", "lost_on", "remedy"}
        custody.report_loss(app_.team_ids[0], what="党员花名册（密）", lost_on=_dt.date(2026, 11, 30),
                            remedy="已报告街道党工委并更换密码柜", file=f, actor=user(app_, "arc1"))
    got = messages_to(app_, "ta1", "archives.loss")
    assert len(got) == 1 and "党员花名册" in got[0].subject and "密码柜" in got[0].body
    assert messages_to(app_, "ta2", "archives.loss") == []
    assert actions(app_, "archives.loss_reported") == ["archives.loss_reported"]


def test_r_arc_6_2_a_handover_lists_the_files_and_the_new_archivist_becomes_responsible(app_):
    from plugins.archives.models import ArchiveFile, Handover
    a, b = new_file(app_, app_.team_ids[0], "甲卷"), new_file(app_, app_.team_ids[0], "乙卷")
    theirs = new_file(app_, app_.team_ids[1], "二队卷")
    c = client_for(app_, "ta1")
    token = csrf_from(c.get("/admin/archives_handover/new/").get_data(as_text=True))
    old, new = user(app_, "arc1"), user(app_, "arcb1")
    form = {"csrf_token": token, "team": app_.team_ids[0], "from_user": old.id, "to_user": new.id,
            "day": "2026-12-01", "file_numbers": f"{a.number}\n{theirs.number}"}
    r = c.post("/admin/archives_handover/new/", data=form)
    assert r.status_code == 200 and theirs.number in r.get_data(as_text=True)    # not theirs to hand over
    form["file_numbers"] = f"{a.number}\n{b.number}"
    assert c.post("/admin/archives_handover/new/", data=form).status_code == 302
    with app_.app_context():
        h = Handover.get()
        assert h.from_user_id == old.id and h.to_user_id == new.id and h.day == _dt.date(2026, 12, 1)
        assert a.number in h.files and b.number in h.files
        assert {x.responsible_id for x in ArchiveFile.select().where(ArchiveFile.id.in_([a.id, b.id]))} == {new.id}
        assert ArchiveFile.get_by_id(theirs.id).responsible_id is None
    assert actions(app_, "archives.handed_over") == ["archives.handed_over"]


# ------------------------------------------------------------------------------------------- AC6
def test_ac6_archives_loans_destructions_and_custody_stay_in_the_team(app_):
    from plugins.archives import custody, loans
    from plugins.archives import destruction as D
    theirs = new_file(app_, app_.team_ids[1], "二队档案")
    mine = new_file(app_, app_.team_ids[0], "一队档案")
    with app_.test_request_context():
        d = D.apply(theirs, actor=user(app_, "arc2"))
        loan = loans.lend(theirs, borrower="二队借阅人", contact="13800138002")
        loss = custody.report_loss(app_.team_ids[1], what="二队密件", lost_on=_dt.date(2026, 11, 1), remedy="已补救")
        ho = custody.hand_over(app_.team_ids[1], from_user=user(app_, "arc2"), to_user=user(app_, "arcb2"),
                               files=[theirs])
    for who in ("ta1", "arc1", "sup1"):
        c = client_for(app_, who)
        for url in (f"/admin/archives_loan/details/?id={loan.id}", f"/admin/archives_destruction/details/?id={d.id}",
                    f"/admin/archives_loss/details/?id={loss.id}", f"/admin/archives_handover/details/?id={ho.id}",
                    f"/admin/archives_destruction/{d.id}/signature"):
            r = c.get(url, follow_redirects=True)
            assert "二队" not in r.get_data(as_text=True), (who, url)
        for url in ("/admin/archives_loan/", "/admin/archives_destruction/", "/admin/archives_destruction/due",
                    "/admin/archives_loss/", "/admin/archives_handover/"):
            r = c.get(url)
            if r.status_code == 200:
                assert "二队" not in r.get_data(as_text=True), (who, url)
            else:
                assert r.status_code == 403, (who, url)
        for ep in ("archives_loan", "archives_destruction", "archives_loss", "archives_handover"):
            for fmt in ("csv", "xlsx"):
                r = c.get(f"/admin/{ep}/export/{fmt}/")
                if r.status_code == 200 and fmt == "csv":
                    assert "二队" not in r.get_data(as_text=True), (who, ep)
                elif r.status_code == 200:
                    from openpyxl import load_workbook
                    cells = [str(x.value) for row in load_workbook(io.BytesIO(r.get_data())).active.iter_rows()
                             for x in row]
                    assert not any("二队" in x for x in cells), (who, ep)
    c = client_for(app_, "ta1")
    token = csrf_from(c.get(f"/admin/archives_file/details/?id={mine.id}").get_data(as_text=True))
    assert c.post(f"/admin/archives_loan/{loan.id}/step", data={"csrf_token": token, "step": "return"}).status_code == 404
    assert c.post(f"/admin/archives_destruction/{d.id}/step",
                  data={"csrf_token": token, "step": "approve"}).status_code == 404
    assert c.post(f"/admin/archives_destruction/apply/{theirs.id}", data={"csrf_token": token}).status_code == 404
    with app_.app_context():
        from plugins.archives.models import Destruction, Loan
        assert Loan.get_by_id(loan.id).status == "on_loan" and Destruction.get_by_id(d.id).status == "applied"


# ------------------------------------------------------------------------------------------- migration
def test_r_arc_4_0_the_migration_adds_the_four_tables_to_an_existing_site(app_):
    """A site that had the archives before this change gets the tables from migrations/0002 (both databases)."""
    import importlib
    from playhouse.migrate import SchemaMigrator
    from core.db import db
    from plugins.archives.models import Destruction, Handover, Loan, LossReport
    with app_.app_context():
        d = db.obj if hasattr(db, "obj") else db
        d.drop_tables([Loan, Destruction, LossReport, Handover])
        m = importlib.import_module("plugins.archives.migrations.0002_loans_destruction_custody")
        m.up(SchemaMigrator.from_database(d), d)
        assert {"archives_loan", "archives_destruction", "archives_loss", "archives_handover"} <= set(d.get_tables())
    f = new_file(app_, app_.team_ids[0])
    from plugins.archives import loans
    with app_.test_request_context():
        assert loans.lend(f, borrower="李借阅", contact="13800138000").status == "on_loan"
