"""The archives plugin (issue 17; RULES R-ARC-1, R-ARC-2, R-ARC-3; SECURITY AC6, LG7, CC2): kinds as data,
numbers 全宗号-目录号-案卷号 and 页号 gap-free (also under concurrency), the prefix search, the cover sheet and
contents list as PDFs with an embedded Chinese font, documents kept with their SHA-256 in a folder or an S3
bucket and checked by ``timebank check``, the 活动档案 that files itself when an activity ends, and a team
admin who reaches only their own tree's archives. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as _dt
import io
import threading

import pytest
from pypdf import PdfReader

from core.testing import PASSWORD, csrf_from, login, pdf_text

PLUGINS = ["volunteers", "teams", "documents", "activities", "activity_forms", "privacy", "archives"]


@pytest.fixture
def site(make_app):
    app = make_app(plugins=PLUGINS)
    from core.cli import load_demo
    with app.app_context():
        load_demo(app)
    return app


@pytest.fixture
def two_teams(app_):
    return app_


@pytest.fixture
def app_(make_app, make_user):
    app = make_app(plugins=PLUGINS)
    from plugins.teams.services import register_team
    with app.app_context():
        ids = [register_team({"name": f"示例党员志愿服务队{i}", "leader_name": "王示例",
                              "leader_phone": f"1380013800{i}"}).id for i in (1, 2)]
    for i, tid in enumerate(ids, 1):
        make_user(f"ta{i}", "team_admin", scope=f"team:{tid}")
    make_user("admin", "platform_admin")
    app.team_ids = ids
    return app


def client_for(app, username):
    c = app.test_client()
    assert login(c, username, PASSWORD).status_code == 302
    return c


def fonts_embedded(data: bytes) -> bool:
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            desc = ref.get_object().get("/FontDescriptor")
            if desc is not None and "/FontFile2" in desc.get_object():
                return True
    return False


def new_file(app, team_id, title="北京街2026年工作总结", kind="work", retention=None, **kw):
    from plugins.archives import services as A
    with app.test_request_context():
        return A.create_file(team_id, A.kind(kind), title, retention=retention, **kw)


# ------------------------------------------------------------------------------------ R-ARC-1 / R-ARC-3
def test_r_arc_1_the_three_kinds_are_data_a_site_extends(app_):
    from plugins.archives import services as A
    from plugins.archives.models import Kind
    with app_.app_context():
        assert {k.name: k.catalogue_no for k in Kind.select()} == {"人事档案": "01", "工作档案": "02", "活动档案": "03"}
        Kind.create(code="party_day", name="主题党日档案", catalogue_no="04", retention="permanent")
    f = new_file(app_, app_.team_ids[0], "2026年5月主题党日", kind="party_day")
    assert f.number == "0001-04-0001" and f.retention == "permanent" and f.disposal_date is None


def test_r_arc_3_1_numbers_are_fonds_catalogue_file_and_pages_in_order(app_):
    from core.settings import change
    from plugins.archives import services as A
    with app_.test_request_context():
        change("archives", {"fonds_no": "J017"})
    f1 = new_file(app_, app_.team_ids[0], date_from=_dt.date(2026, 1, 1), date_to=_dt.date(2026, 12, 31),
                  retention="short")
    f2 = new_file(app_, app_.team_ids[0], "2026年会议记录")
    p1 = new_file(app_, app_.team_ids[1], "张三人事档案", kind="personnel")
    assert (f1.number, f2.number, p1.number) == ("J017-02-0001", "J017-02-0002", "J017-01-0001")
    assert f1.disposal_date == _dt.date(2036, 12, 31)                   # 短期: short_years = 10
    assert f2.disposal_date.year - _dt.date.today().year == 30          # 长期: long_years = 30
    with app_.test_request_context():
        pages = [A.add_document(f1, f"文件{i}", f"doc{i}.txt", f"内容{i}".encode()).page for i in range(1, 5)]
    assert pages == [1, 2, 3, 4]


def test_r_arc_3_2_a_bad_file_shows_errors_beside_its_fields_and_writes_nothing(app_):
    from plugins.archives.models import ArchiveFile
    c = client_for(app_, "admin")
    form = c.get("/admin/archives_file/new/").get_data(as_text=True)
    with app_.app_context():
        from plugins.archives.models import Kind
        kind_id = Kind.get(Kind.code == "work").id
    r = c.post("/admin/archives_file/new/", data={
        "csrf_token": csrf_from(form), "team": app_.team_ids[0], "kind": kind_id, "title": "年度总结",
        "date_from": "2026-05-01", "date_to": "2026-04-01", "retention": "long"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "截止日期不能早于起始日期" in page
    with app_.app_context():
        assert not ArchiveFile.select().exists()
    r = c.post("/admin/archives_file/new/", data={
        "csrf_token": csrf_from(form), "team": app_.team_ids[0], "kind": kind_id, "title": "年度总结",
        "date_from": "2026-01-01", "date_to": "2026-12-31", "retention": "long"})
    assert r.status_code == 302
    with app_.app_context():
        f = ArchiveFile.get()
        assert f.number == "0001-02-0001" and f.disposal_date == _dt.date(2056, 12, 31)


def _concurrent(app, n, fn):
    errors, out = [], []

    def run():
        try:
            with app.app_context():
                out.append(fn())
        except Exception as e:   # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


def test_r_arc_3_3_concurrent_files_and_pages_get_distinct_numbers_without_gaps(app_):
    from plugins.archives import services as A
    from plugins.archives.models import Document
    team = app_.team_ids[0]

    def one_file():
        with app_.test_request_context():
            return A.create_file(team, A.kind("work"), "并发案卷").seq
    seqs = _concurrent(app_, 8, one_file)
    assert sorted(seqs) == list(range(1, 9))
    f = new_file(app_, team, "并发页号")

    def one_page():
        with app_.test_request_context():
            return A.add_document(f, "页", "p.txt", threading.current_thread().name.encode()).page
    pages = _concurrent(app_, 8, one_page)
    assert sorted(pages) == list(range(1, 9))
    with app_.app_context():
        from core import numbering
        assert numbering.gaps("archives.page", scope=f"file:{f.id}", year=0) == []
        assert Document.select().where(Document.file == f.id).count() == 8


def test_r_arc_3_4_search_by_number_or_title_prefix(app_):
    from plugins.archives import services as A
    for t in ("北京街工作总结", "北京街会议记录", "石牌街工作总结"):
        new_file(app_, app_.team_ids[0], t)
    with app_.app_context():
        assert [f.title for f in A.search("北京街")] == ["北京街工作总结", "北京街会议记录"]
        assert [f.number for f in A.search("0001-02-0003")] == ["0001-02-0003"]
        assert list(A.search("工作")) == []          # a prefix search, not "contains"
    page = client_for(app_, "admin").get("/admin/archives_file/?prefix=石牌").get_data(as_text=True)
    assert "石牌街工作总结" in page and "北京街工作总结" not in page


def test_r_arc_3_5_cover_sheet_and_contents_list_are_pdfs_with_the_chinese_font(app_):
    from plugins.archives import services as A
    f = new_file(app_, app_.team_ids[0], "北京街2026年工作档案", date_from=_dt.date(2026, 1, 1),
                 date_to=_dt.date(2026, 6, 30))
    with app_.test_request_context():
        A.add_document(f, "年度工作计划", "plan.txt", "计划".encode())
        A.add_document(f, "半年工作总结", "summary.txt", "总结".encode())
    c = client_for(app_, "ta1")
    cover = c.get(f"/admin/archives_file/{f.id}/cover.pdf")
    contents = c.get(f"/admin/archives_file/{f.id}/contents.pdf")
    assert cover.status_code == contents.status_code == 200
    text = pdf_text(cover.get_data())
    assert "案卷封面" in text and "0001-02-0001" in text and "北京街2026年工作档案" in text and "长期" in text
    listing = pdf_text(contents.get_data())
    assert "卷内目录" in listing and "年度工作计划" in listing and "半年工作总结" in listing
    assert fonts_embedded(cover.get_data()) and fonts_embedded(contents.get_data())


def test_r_arc_3_6_the_catalogue_exports_to_xlsx(app_):
    from openpyxl import load_workbook
    new_file(app_, app_.team_ids[0], "=HYPERLINK(\"x\")")
    r = client_for(app_, "admin").get("/admin/archives_file/export/xlsx/")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.get_data())).active.iter_rows(values_only=True))
    assert "0001-02-0001" in rows[1] and "'=HYPERLINK(\"x\")" in rows[1]


# ------------------------------------------------------------------------------------ integrity
def check(app):
    """What ``timebank check`` prints for the archives (core.backup.run_checks: every site_checks hook)."""
    from core.backup import run_checks
    with app.app_context():
        return next((ok, msg) for name, ok, msg in run_checks(app) if name == "archives.documents")


def test_r_arc_3_7_documents_are_hashed_never_overwritten_and_check_names_a_changed_one(app_):
    import hashlib
    from plugins.archives import services as A
    from plugins.archives.storage import FolderStorage, StorageError, folder_root
    f = new_file(app_, app_.team_ids[0])
    with app_.test_request_context():
        d1 = A.add_document(f, "会议记录", "minutes.txt", "原始内容".encode())
        d2 = A.add_document(f, "会议记录（修订）", "minutes.txt", "修订内容".encode(), replaces=d1)
        assert d1.sha256 == hashlib.sha256("原始内容".encode()).hexdigest()
        assert (d2.page, d2.replaces_id) == (2, d1.id) and A.read(d1) == "原始内容".encode()
        with pytest.raises(StorageError):
            FolderStorage(folder_root()).put(d1.key, b"overwrite")
        path = FolderStorage(folder_root()).path(d1.key)
        assert str(path).startswith(str(folder_root())) and "archives" in str(path)
    assert check(app_) == (True, "2 documents match their SHA-256")
    path.write_bytes("篡改内容".encode())
    ok, message = check(app_)
    assert not ok and "changed: 0001-02-0001 页1 minutes.txt" in message and "页2" not in message
    # a document served after tampering is refused, not sent
    c = client_for(app_, "admin")
    assert c.get(f"/admin/archives_document/{d1.id}/download").status_code == 302
    path.unlink()
    ok, message = check(app_)
    assert not ok and "missing: 0001-02-0001 页1 minutes.txt" in message


# ------------------------------------------------------------------------------------ R-ARC-2
def test_r_arc_2_1_a_past_demo_activity_has_a_complete_activity_archive_filed_without_typing(site):
    from plugins.activities.models import Activity, Photo
    from plugins.archives import services as A
    from plugins.archives.models import ArchiveFile, Document
    with site.app_context():
        past = [a for a in Activity.select().where(Activity.status.in_(("finished", "closed"))) if a.summary]
        assert past
        a = past[0]
        f = ArchiveFile.get(ArchiveFile.activity_id == a.id)
        docs = list(Document.select().where(Document.file == f).order_by(Document.page))
        titles = [d.title for d in docs]
        assert f.kind.name == "活动档案" and f.number.startswith("0001-03-") and f.status == "draft"
        for t in ("活动策划方案", "志愿者招募通知", "签到表", "活动记录表", "活动总结", "服务时数清单"):
            assert t in titles, (t, titles)
        assert [d.page for d in docs] == list(range(1, len(docs) + 1))
        n_photos = Photo.select().where(Photo.activity == a).count()
        assert sum(1 for d in docs if d.content_type.startswith("image/")) == n_photos
        record = next(d for d in docs if d.title == "活动记录表")
        assert a.summary in pdf_text(A.read(record)).replace("\n", "")
        assert "签到表" in pdf_text(A.read(next(d for d in docs if d.title == "签到表")))
        # due within 5 working days of the end (R-ARC-2 setting)
        from core.workdays import workdays_between
        assert workdays_between(a.ends_at.date(), f.due_at.date()) in (5, 6)
        cover = pdf_text(A.cover_pdf(f))
        assert f.number in cover and "活动档案" in cover
        # collecting again adds nothing when nothing changed
        before = len(docs)
        A.file_activity(a)
        assert Document.select().where(Document.file == f).count() == before


def test_r_arc_2_2_an_ending_activity_files_itself_and_overdue_drafts_are_flagged(app_):
    import datetime as dt
    from core.db import now
    from plugins.activities import services as S
    from plugins.activities.models import Activity, Category
    from plugins.archives.models import ArchiveFile
    with app_.test_request_context():
        from plugins.teams.models import Team
        from core.models import User
        from plugins.teams import services as T
        admin = User.get(User.username == "admin")
        t = T.register_team({"name": "北京街党员志愿服务队", "leader_name": "陈队长", "leader_phone": "13900001111",
                             "service_direction": "敬老助残", "district": "越秀区", "address": "广州市某路1号",
                             "intro": "党员志愿服务", "organisation": "北京街道", "declared_size": "12"},
                            actor=admin)
        T.submit_for_review(t, actor=admin)
        t = T.review_team(t, approve=True, actor=admin)
        from core.security import grant_role
        grant_role(User.get(User.username == "ta1"), "team_admin", f"team:{t.id}")
        cats = {c.code: c.id for c in Category.select()}
        start = (now() - dt.timedelta(days=20)).replace(microsecond=0)
        a = S.create_activity(t, {"title": "社区义诊", "address": "广州市越秀区", "district": "越秀区",
                                  "description": "为居民量血压", "contact_name": "李老师",
                                  "contact_phone": "13800138000", "category": cats["category.poverty"],
                                  "field": cats["field.care"]},
                              [{"starts_at": start, "ends_at": start + dt.timedelta(hours=2), "capacity": 5,
                                "volunteer_type": "医护"}])
        Activity.update(status="published").where(Activity.id == a.id).execute()
        assert S.finish_due() >= 1
        f = ArchiveFile.get(ArchiveFile.activity_id == a.id)
        assert f.status == "draft" and f.due_at < now()
    page = client_for(app_, "ta1").get("/admin/").get_data(as_text=True)
    assert "待完成的档案" in page and "1 份逾期" in page
    c = client_for(app_, "ta1")
    details = c.get(f"/admin/archives_file/details/?id={f.id}").get_data(as_text=True)
    assert "逾期" in details
    r = c.post(f"/admin/archives_file/{f.id}/close", data={"csrf_token": csrf_from(details)})
    assert r.status_code == 302
    with app_.app_context():
        assert ArchiveFile.get_by_id(f.id).status == "closed"
    assert c.post(f"/admin/archives_file/{f.id}/close").status_code == 400      # CSRF


# ------------------------------------------------------------------------------------ AC6
def test_ac6_archives_a_team_admin_reaches_only_their_own_trees_archives(app_):
    from plugins.archives import services as A
    mine = new_file(app_, app_.team_ids[0], "一队档案")
    theirs = new_file(app_, app_.team_ids[1], "二队档案")
    with app_.test_request_context():
        d = A.add_document(theirs, "二队文件", "x.txt", b"x")
        A.add_chronicle(app_.team_ids[1], _dt.date(2026, 3, 5), "二队成立")
    c = client_for(app_, "ta1")
    denied = [f"/admin/archives_file/details/?id={theirs.id}", f"/admin/archives_file/edit/?id={theirs.id}",
              f"/admin/archives_file/{theirs.id}/cover.pdf", f"/admin/archives_file/{theirs.id}/contents.pdf",
              f"/admin/archives_document/{d.id}/download", f"/admin/archives_document/details/?id={d.id}"]
    for url in denied:
        assert c.get(url).status_code in (302, 404), url
        assert "二队" not in c.get(url, follow_redirects=True).get_data(as_text=True), url
    token = csrf_from(c.get(f"/admin/archives_file/details/?id={mine.id}").get_data(as_text=True))
    for action in ("upload", "close", "collect"):
        assert c.post(f"/admin/archives_file/{theirs.id}/{action}", data={"csrf_token": token}).status_code == 404
    for url in ("/admin/archives_file/", "/admin/archives_document/", "/admin/archives_chronicle/",
                "/admin/archives_file/export/xlsx/", "/admin/archives_file/export/csv/",
                "/admin/archives_document/export/csv/", "/admin/archives_chronicle/export/csv/",
                "/admin/archives_file/?prefix=二队"):
        r = c.get(url)
        assert r.status_code == 200, url
        body = r.get_data()
        if url.endswith("xlsx/"):
            from openpyxl import load_workbook
            body = "".join(str(v) for row in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)
                           for v in row).encode()
        assert "二队档案".encode() not in body and "二队文件".encode() not in body \
            and "二队成立".encode() not in body, url
    assert "一队档案" in c.get("/admin/archives_file/").get_data(as_text=True)
    with app_.app_context():
        from plugins.archives.models import ArchiveFile, ChronicleEntry, Kind
        entry = ChronicleEntry.get().id
        kind_id = Kind.get(Kind.code == "work").id
    assert c.get(f"/admin/archives_chronicle/edit/?id={entry}").status_code == 404
    # a file or chronicle entry created for another team is refused, nothing written
    form = c.get("/admin/archives_file/new/").get_data(as_text=True)
    c.post("/admin/archives_file/new/", data={"csrf_token": csrf_from(form), "team": app_.team_ids[1],
                                              "kind": kind_id, "title": "冒名档案", "retention": "long"})
    with app_.app_context():
        assert not ArchiveFile.select().where(ArchiveFile.title == "冒名档案").exists()
    # the matrix is every view the plugin registers: a new one must join it
    views = {v.endpoint for v in app_.extensions["timebank"].admin._views if v.endpoint.startswith("archives_")}
    # (loans, destructions and custody: their matrix is tests/test_archives_custody.py, test_ac6_…)
    assert views == {"archives_file", "archives_document", "archives_chronicle", "archives_kind", "archives_loan",
                     "archives_destruction", "archives_loss", "archives_handover"}
    assert c.get("/admin/archives_kind/new/").status_code == 403     # the kinds are the site's
    vol_denied = client_for(app_, "ta2").get(f"/admin/archives_file/{mine.id}/cover.pdf")
    assert vol_denied.status_code == 404


# ------------------------------------------------------------------------------------ privacy
def test_pr_archives_the_responsible_person_is_exported_and_unlinked_on_erasure(app_):
    from core.models import User
    from plugins.archives import privacy
    from plugins.archives.models import ArchiveFile
    from plugins.privacy.contract import Subject
    with app_.app_context():
        u = User.get(User.username == "ta1")
    f = new_file(app_, app_.team_ids[0], responsible=u.id)
    with app_.app_context():
        part = privacy.export(Subject("user", user_id=u.id))
        assert part.rows[0][0] == f.number
        privacy.erase(Subject("user", user_id=u.id), None)
        assert ArchiveFile.get_by_id(f.id).responsible_id is None


def test_r_arc_2_r_priv_3_a_photo_showing_recipients_is_filed_blurred_never_the_original(site):
    """R-ARC-2 with R-PRIV-3: the archive files what public pages serve — for a photo showing service
    recipients who did not all consent, the copy with the faces blurred; the private original never."""
    import io
    from pathlib import Path

    from werkzeug.datastructures import FileStorage

    from plugins.activities import photos
    from plugins.activities.models import Activity
    from plugins.archives import filing
    from plugins.archives import services as A
    from plugins.archives.models import ArchiveFile, Document
    original = (Path(__file__).parent / "fixtures" / "astronaut.jpg").read_bytes()
    with site.app_context():
        a = next(a for a in Activity.select().where(Activity.status.in_(("finished", "closed"))) if a.summary)
        f = ArchiveFile.get(ArchiveFile.activity_id == a.id)
        prepared = photos.prepare(FileStorage(io.BytesIO(original), "visit.jpg", content_type="image/jpeg"),
                                  shows_recipients=True)
        (p,) = photos.store_all(a, [prepared])
        assert p.blurred_name and p.faces_found
        assert filing.collect(f, a) >= 1
        filed = [A.read(d) for d in Document.select().where((Document.file == f)
                                                             & Document.content_type.startswith("image/"))]
        blurred = (photos.folder() / p.blurred_name).read_bytes()
        stored_original = photos.path_of(p).read_bytes()
        assert blurred in filed
        assert stored_original not in filed
