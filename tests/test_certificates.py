"""Service certificates (RULES.md R-CERT-1…3, R-NAT-5…7; SECURITY.md LG7, AC6, PR5, IV6, AU1) on
SQLite and PostgreSQL, through the real services and pages.

One site (module scope) is built through the real activities workflow: teams A and B with their
admins, volunteers with confirmed service records in A and B, a training record and an unconfirmed
sign-up. Tests apply, approve, reject and revoke on it; each test makes its own applications, so the
order of tests does not matter. PDFs are read back with pypdf and pdftotext (poppler-utils) and the QR
code is decoded for real from a rendered page (pdftoppm + zxing-cpp).
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import re
import shutil
import subprocess
import threading

import pytest
from pypdf import PdfReader

from conftest import PASSWORD, csrf_from, database_url, flat, login, pdf_text
from core import create_app

PLUGINS = ["volunteers", "teams", "documents", "activities", "certificates"]
TEAM_A, TEAM_B = "越秀区北京街党员志愿服务队", "天河区石牌街党员志愿服务队"
ACT_1, ACT_2, TRAINING, ACT_B = "关爱独居老人上门探访", "北京街清洁家园", "党员志愿者服务技能培训", "石牌街助老义剪"
NAME_1, NAME_2, NAME_3 = "张三丰", "李四", "王五"
PUBLIC = "https://timebank.example.org"




def audit_rows(app, action: str) -> list:
    from core.models import AuditLog
    with app.app_context():
        return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def logged_in(app, username):
    c = app.test_client()
    r = login(c, username, PASSWORD)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def build_world(app) -> dict:
    from core.db import now
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.activities import services as S
    from plugins.activities.models import Activity, Category, ServiceRecord, Shift
    from plugins.teams import services as T
    from plugins.volunteers import services as V
    from test_teams_workflow import cn_id
    with app.test_request_context():
        admin = User.create(username="admin", password_hash=hash_password(PASSWORD), display_name="平台管理员")
        grant_role(admin, PLATFORM_ADMIN)
        cats = {c.code: c.id for c in Category.select()}

        def team(name, username):
            t = T.register_team({"name": name, "leader_name": "陈队长", "leader_phone": "13900001111",
                                 "service_direction": "敬老助残", "district": "越秀区", "address": "广州市某路1号",
                                 "intro": "党员志愿服务", "organisation": "北京街道", "declared_size": "12"},
                                actor=admin)
            T.submit_for_review(t, actor=admin)
            t = T.review_team(t, approve=True, actor=admin)
            u = User.create(username=username, password_hash=hash_password(PASSWORD), display_name=f"{username}管理员")
            grant_role(u, TEAM_ADMIN, f"team:{t.id}")
            return t
        a, b = team(TEAM_A, "ta"), team(TEAM_B, "tb")

        def volunteer(n, name):
            return V.register({"name": name, "id_type": "cn_id", "id_number": cn_id(7000 + n),
                               "phone": f"1381234{n:04d}", "agreement": True, "password": PASSWORD})
        v1, v2, v3 = volunteer(1, NAME_1), volunteer(2, NAME_2), volunteer(3, NAME_3)

        def activity(t, title, days, kind="service"):
            start = (now() + _dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
            data = {"title": title, "address": "广州市越秀区中山五路1号", "district": "越秀区",
                    "description": "探访独居老人，帮助打扫卫生、陪伴聊天。", "contact_name": "李老师",
                    "contact_phone": "13800138000",
                    "category": cats["training.general" if kind == "training" else "category.poverty"],
                    "field": cats["field.care"]}
            act = S.create_activity(t, data, [{"starts_at": start, "ends_at": start + _dt.timedelta(hours=3),
                                               "capacity": 10, "volunteer_type": "一般志愿者"}], kind=kind, actor=admin)
            return S.publish(S.review(S.submit(act, actor=admin), approve=True, actor=admin), actor=admin)

        def serve(act, people, minutes):
            shift = Shift.get(Shift.activity == act)
            signups = {v.id: S.sign_up(v, shift) for v in people}
            S.finish_due(at=act.ends_at + _dt.timedelta(minutes=1))
            confirmed = {signups[v.id].id: minutes[i] for i, v in enumerate(people) if minutes[i] is not None}
            if confirmed:
                S.confirm_hours(Activity.get_by_id(act.id), confirmed, actor=admin)
            return act

        a1 = serve(activity(a, ACT_1, 3), [v1, v2, v3], [180, 120, None])   # 王五: no confirmed hours
        a2 = serve(activity(a, ACT_2, 4), [v1], [90])
        tr = serve(activity(a, TRAINING, 5, kind="training"), [v1], [150])
        b1 = serve(activity(b, ACT_B, 3), [v1], [60])

        def rec(v, act):
            return ServiceRecord.get((ServiceRecord.volunteer == v.id) & (ServiceRecord.activity == act.id)).id
        return {"a": a.id, "b": b.id, "a1": a1.id, "a2": a2.id, "tr": tr.id, "b1": b1.id,
                "v1": v1.id, "v2": v2.id, "v3": v3.id, "u1": v1.user.username, "u2": v2.user.username,
                "u3": v3.user.username, "id1": cn_id(7001),
                "r1a1": rec(v1, a1), "r1a2": rec(v1, a2), "r1tr": rec(v1, tr), "r1b1": rec(v1, b1),
                "r2a1": rec(v2, a1)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("certificates")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    from argon2 import PasswordHasher
    from core import security
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS, "PUBLIC_URL": PUBLIC})
    ids = build_world(app)
    clients = {u: logged_in(app, u) for u in ("admin", "ta", "tb", ids["u1"], ids["u2"])}
    yield {"app": app, "ids": ids, "c": clients}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def apply(world, records, purpose="settlement", vid="v1", **kw):
    """A new application of ``records``; the volunteer's applications still waiting are rejected first
    (a record may be in one waiting application at a time), so tests do not depend on each other."""
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    from plugins.volunteers.models import Volunteer
    with world["app"].test_request_context():
        for old in Certificate.select().where((Certificate.volunteer == world["ids"][vid])
                                              & (Certificate.status == "pending")):
            C.reject(old, reason="（测试）清理", actor=user(world["app"], "admin"))
        return C.apply(Volunteer.get_by_id(world["ids"][vid]), [world["ids"][r] for r in records],
                       purpose=purpose, **kw).id


def user(app, username):
    from core.models import User
    with app.app_context():
        return User.get(User.username == username)


def decide(world, cert_id, how, username="ta", **kw):
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    app = world["app"]
    with app.test_request_context():
        c = Certificate.get_by_id(cert_id)
        return getattr(C, how)(c, actor=user(app, username), **kw)


def cert(app, cert_id):
    from plugins.certificates.models import Certificate
    with app.app_context():
        return Certificate.get_by_id(cert_id)


def counts(app) -> tuple[int, int]:
    from plugins.certificates.models import Certificate, CertificateLine
    with app.app_context():
        return Certificate.select().count(), CertificateLine.select().count()


def post_form(client, page, url, data):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


# ------------------------------------------------------------------ applying (R-CERT-1, R-CERT-2)
def test_r_cert_1_volunteer_applies_on_the_page_and_sees_the_status(world):
    """R-CERT-1, R-CERT-2: a logged-in volunteer sees their confirmed service records (not trainings, not
    someone else's), picks some and a purpose, applies; the application waits for the team; audited."""
    app, ids, c = world["app"], world["ids"], world["c"][world["ids"]["u1"]]
    page = c.get("/certificates/mine")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert ACT_1 in html and ACT_2 in html and ACT_B in html
    assert TRAINING not in html                                          # R-NAT-7
    for code in ("积分入户", "积分入学", "申请公租房", "实践证明", "其他"):
        assert code in html
    before = len(audit_rows(app, "certificate.applied"))
    r = c.post("/certificates/apply", data={"csrf_token": csrf_from(html), "records": [ids["r1a1"], ids["r1a2"]],
                                            "purpose": "other", "purpose_other": "单位评优", "has_attachments": "1"})
    assert r.status_code == 302
    from plugins.certificates.models import Certificate, CertificateLine
    with app.app_context():
        mine = Certificate.select().where(Certificate.volunteer == ids["v1"]).order_by(Certificate.id.desc()).first()
        assert (mine.status, mine.purpose, mine.purpose_other, mine.has_attachments) == ("pending", "other", "单位评优", True)
        assert mine.number is None and mine.token is None and mine.team_id == ids["a"]
        assert mine.total_minutes == 270 and [ln.record_id for ln in mine.lines.order_by(CertificateLine.id)] == [ids["r1a1"], ids["r1a2"]]
    rows = audit_rows(app, "certificate.applied")[before:]
    assert len(rows) == 1 and json.loads(rows[0].details)["records"] == [ids["r1a1"], ids["r1a2"]]
    assert "单位评优" in c.get("/certificates/mine").get_data(as_text=True)
    me = c.get("/me").get_data(as_text=True)           # the panel on the volunteer's own page
    assert "/certificates/mine" in me
    # the same records cannot be in two applications waiting at once
    r = c.post("/certificates/apply", data={"csrf_token": csrf_from(html), "records": [ids["r1a1"]],
                                            "purpose": "settlement"})
    assert r.status_code == 400


@pytest.mark.parametrize("records,why", [
    (["r1tr"], "training (R-NAT-7)"),
    (["r2a1"], "another volunteer's record"),
    (["r1a1", "r1b1"], "records of two teams: one issuing unit (R-NAT-5)"),
    ([], "no record"),
])
def test_r_nat_7_only_own_confirmed_service_records_chinese_error_nothing_written(world, records, why):
    """R-NAT-7, R-CERT-1: trainings, another volunteer's records, records of two units or none are
    refused with a Chinese message on the page; nothing is written."""
    app, ids = world["app"], world["ids"]
    c = logged_in(app, ids["u1"])
    before = counts(app)
    html = c.get("/certificates/mine").get_data(as_text=True)
    r = c.post("/certificates/apply", data={"csrf_token": csrf_from(html), "records": [ids[x] for x in records],
                                            "purpose": "settlement"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400, why
    assert re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", body.split('field-error')[1])), why
    assert counts(app) == before, why


def test_r_nat_7_unconfirmed_and_garbage_ids_refused_by_the_service(world):
    """R-NAT-7: a volunteer whose sign-up has no confirmed hours has nothing to certify; unknown or
    malformed ids and a missing 'other' text are refused; nothing written."""
    from plugins.certificates import services as C
    from plugins.volunteers.models import Volunteer
    app, ids = world["app"], world["ids"]
    before = counts(app)
    with app.test_request_context():
        v3 = Volunteer.get_by_id(ids["v3"])
        v1 = Volunteer.get_by_id(ids["v1"])
        for vol, recs, purpose in ((v3, [ids["r1a1"]], "settlement"), (v1, ["x1"], "settlement"),
                                   (v1, [999999], "settlement"), (v1, [ids["r1a1"]], "bribe"),
                                   (v1, [ids["r1a1"]], "other")):
            with pytest.raises(C.CertificateError):
                C.apply(vol, recs, purpose=purpose)
        assert C.activities.confirmed_service_records(v3) == []
    assert counts(app) == before


# ------------------------------------------------------------------ review and numbers (LG7)
def test_lg7_approve_numbers_sequentially_reject_needs_reason_all_audited(world):
    """R-CERT-1, LG7: approval gives ZM<year><6 digits>, one more than the last; rejection needs a reason
    and gives no number; a decided application cannot be decided again; every transition audited."""
    app = world["app"]
    from core.db import today
    c1 = apply(world, ["r1a2"])
    a1 = decide(world, c1, "approve")
    c2 = apply(world, ["r2a1"], vid="v2", purpose="housing")
    a2 = decide(world, c2, "approve")
    c3 = apply(world, ["r1b1"], purpose="practice")
    y = today().year
    assert re.fullmatch(rf"ZM{y}\d{{6}}", a1.number) and int(a2.number[-6:]) == int(a1.number[-6:]) + 1
    assert a1.token and len(a1.token) >= 32 and a1.token != a2.token and a1.issued_on == today()
    assert a1.handler_name == "ta管理员"
    from plugins.certificates import services as C
    with pytest.raises(C.CertificateError):
        decide(world, c3, "reject", username="tb", reason="  ")
    r = decide(world, c3, "reject", username="tb", reason="记录有误，请核对")
    assert (r.status, r.number, r.token, r.reason) == ("rejected", None, None, "记录有误，请核对")
    for how, kw in (("approve", {}), ("reject", {"reason": "x"})):
        with pytest.raises(C.CertificateError):
            decide(world, c1, how, **kw)
    assert cert(app, c1).number == a1.number
    assert {x.object_id for x in audit_rows(app, "certificate.approved")} >= {str(c1), str(c2)}
    rej = [x for x in audit_rows(app, "certificate.rejected") if x.object_id == str(c3)]
    assert len(rej) == 1 and rej[0].username == "tb" and "记录有误" in rej[0].details
    # the volunteer is told (inbox)
    from core.models import Message
    with app.app_context():
        assert Message.select().where(Message.dedupe_key == f"certificate:{c1}:approved").count() == 1


def test_lg7_revoked_keeps_its_number_never_deleted_never_reused(world):
    """LG7: a revoked certificate keeps its number and status revoked with the reason; the next approval
    takes the next number; only issued certificates can be revoked, with a reason."""
    from plugins.certificates import services as C
    app = world["app"]
    c = decide(world, apply(world, ["r1a2"], purpose="schooling"), "approve")
    pending = apply(world, ["r2a1"], vid="v2")
    with pytest.raises(C.CertificateError):
        decide(world, c.id, "revoke", reason="")
    with pytest.raises(C.CertificateError):
        decide(world, pending, "revoke", reason="x")
    r = decide(world, c.id, "revoke", reason="服务记录更正")
    assert (r.status, r.number, r.token, r.reason) == ("revoked", c.number, c.token, "服务记录更正")
    nxt = decide(world, pending, "approve")
    assert int(nxt.number[-6:]) == int(c.number[-6:]) + 1
    assert [x.object_id for x in audit_rows(app, "certificate.revoked")][-1] == str(c.id)
    with app.app_context():
        ok, msg = C.check_numbers()
    assert ok, msg


@pytest.mark.parametrize("threads", [8])
def test_lg7_concurrent_approvals_give_unique_gapless_numbers(world, threads):
    """LG7, CC2/CC3: approvals in parallel threads (each its own connection) take numbers under the
    counter-row lock: all distinct, consecutive, no 'database is locked'."""
    app = world["app"]
    # pending applications written directly (the service allows one pending application per record)
    pending = []
    from plugins.certificates.models import Certificate, CertificateLine
    from core.db import transaction
    ids = world["ids"]
    with app.app_context(), transaction():
        for i in range(threads):
            c = Certificate.create(volunteer=ids["v2"], team=ids["a"], purpose="practice", total_minutes=120)
            CertificateLine.create(certificate=c, record=ids["r2a1"], activity=ids["a1"],
                                   service_date=_dt.date.today(), activity_title=ACT_1, minutes=120)
            pending.append(c.id)
    errors, numbers = [], []
    barrier = threading.Barrier(threads)

    def work(cid):
        from core.db import db
        try:
            with app.test_request_context():
                barrier.wait(10)
                numbers.append(decide(world, cid, "approve").number)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            if not db.obj.is_closed():
                db.obj.close()
    ts = [threading.Thread(target=work, args=(cid,)) for cid in pending]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert errors == [] and len(numbers) == threads
    seq = sorted(int(n[-6:]) for n in numbers)
    assert len(set(numbers)) == threads and seq == list(range(seq[0], seq[0] + threads))
    from plugins.certificates import services as C
    with app.app_context():
        ok, msg = C.check_numbers()
    assert ok, msg


# ------------------------------------------------------------------ the PDF (R-CERT-3)
def test_r_cert_3_pdf_is_the_appendix_six_form_with_chinese_text_number_and_qr(world):
    """R-CERT-3 / 附录六: title, 编号, 志愿者信息 (姓名 志愿编号 证件类型 证件号码), 志愿服务时间, the
    rows (服务日期 活动名称 服务内容 服务组织单位 服务时数), 附件 是/否, 盖章 with the unit and
    志愿服务证明专用章, date, 经办人, 联系电话; embedded font; pdftotext reads the Chinese; the volunteer's
    own copy has the full ID number."""
    app, ids = world["app"], world["ids"]
    c = decide(world, apply(world, ["r1a1", "r1a2"], purpose="settlement", has_attachments=True), "approve")
    r = world["c"][ids["u1"]].get(f"/certificates/{c.id}.pdf")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    f = flat(pdf_text(r.data))
    for s in ("党员志愿者个人服务时数记录证明", "CertificateofVoluntaryService", f"编号(No.)：{c.number}",
              "志愿者信息", "姓名", NAME_1, "志愿编号", "身份证件类型", "居民身份证", "证件号码", ids["id1"],
              "志愿服务时间", "志愿服务内容", "服务日期", "活动名称", "服务内容", "服务组织单位", "服务时数",
              ACT_1, ACT_2, "其他需要说明的事项", "是否有附件？是■否□", "证明用途：积分入户", "盖章",
              TEAM_A, "志愿服务证明专用章", "经办人", "联系电话", "合计", "4.5小时"):
        assert s in f, s
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        assert Volunteer.get_by_id(ids["v1"]).number in f
    fonts = []
    for page in PdfReader(io.BytesIO(r.data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            d = ref.get_object().get("/FontDescriptor")
            fonts.append(d is not None and "/FontFile2" in d.get_object())
    assert fonts and all(fonts)
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=r.data, capture_output=True, check=True).stdout
        t = flat(out.decode())
        assert "党员志愿者个人服务时数记录证明" in t and c.number in t and NAME_1 in t and "志愿服务证明专用章" in t
    # the volunteer's own download is audited, as their own
    assert [x.object_id for x in audit_rows(app, "certificate.downloaded")][-1] == str(c.id)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is not installed")
def test_r_nat_5_qr_code_decodes_to_the_absolute_verification_url(world, tmp_path):
    """R-NAT-5: the QR code printed on the certificate, rendered at 150 dpi and decoded with zxing-cpp,
    is the absolute address (PUBLIC_URL) of the certificate's verification page, which says valid."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image
    app, ids = world["app"], world["ids"]
    c = decide(world, apply(world, ["r1a2"]), "approve")
    data = world["c"][ids["u1"]].get(f"/certificates/{c.id}.pdf").data
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = sorted(tmp_path.glob("p*.png"))[0]
    found = [b.text for b in zxingcpp.read_barcodes(Image.open(png))]
    assert found == [f"{PUBLIC}/certificates/verify/{c.token}"]
    page = app.test_client().get(found[0].removeprefix(PUBLIC))
    assert page.status_code == 200 and c.number in page.get_data(as_text=True)


def test_pr5_admin_pdf_masks_the_id_full_only_when_asked_with_the_permission_audited(world):
    """PR5, AU1: a team admin's PDF shows the ID number masked (they lack volunteers.volunteer.sensitive)
    and asking for it in full is refused and audited; the platform admin asks by POST and gets it, logged
    as pii.exported without the value; a GET link cannot ask."""
    app, ids, c = world["app"], world["ids"], world["c"]
    cid = decide(world, apply(world, ["r1a1"]), "approve").id
    u = f"/admin/certificates_certificate/pdf/{cid}"
    r = c["ta"].get(u)
    assert r.status_code == 200
    f = flat(pdf_text(r.data))
    assert ids["id1"] not in f and ids["id1"][:6] in f and ids["id1"][-4:] in f and NAME_1 in f
    exports = [x for x in audit_rows(app, "export") if x.object_id == str(cid)]
    assert len(exports) == 1 and exports[0].username == "ta"
    page = f"/admin/certificates_certificate/details/?id={cid}"
    denied = len(audit_rows(app, "access.denied"))
    assert post_form(c["ta"], page, u, {"full": "1"}).status_code == 403
    assert len(audit_rows(app, "access.denied")) == denied + 1
    assert c["admin"].get(u + "?full=1").status_code == 400
    before = len(audit_rows(app, "pii.exported"))
    r = post_form(c["admin"], page, u, {"full": "1"})
    assert r.status_code == 200 and ids["id1"] in flat(pdf_text(r.data))
    rows = audit_rows(app, "pii.exported")[before:]
    assert len(rows) == 1 and rows[0].username == "admin" and rows[0].object_id == str(cid)
    assert json.loads(rows[0].details)["fields"] == ["id_number"] and ids["id1"] not in rows[0].details


def test_only_the_owner_downloads_from_the_volunteer_side_and_only_issued(world):
    """R-CERT-1: another volunteer gets 404 for someone else's certificate; a pending one has no PDF."""
    ids, c = world["ids"], world["c"]
    pending = apply(world, ["r1b1"])
    approved = decide(world, apply(world, ["r1a2"]), "approve").id
    assert c[ids["u2"]].get(f"/certificates/{approved}.pdf").status_code == 404
    assert c[ids["u1"]].get(f"/certificates/{pending}.pdf").status_code == 404
    assert world["app"].test_client().get(f"/certificates/{approved}.pdf").status_code == 302


# ------------------------------------------------------------------ verification (R-NAT-5, R-NAT-6)
def test_r_nat_6_verification_page_valid_revoked_unknown_masked_only(world):
    """R-NAT-5, R-NAT-6: no login; a valid certificate shows its number, the masked name, the volunteer
    number, hours, unit and date — never the full name or ID number; a revoked one says so; an unknown
    token, a pending application's nothing, is 404."""
    app, ids = world["app"], world["ids"]
    c = decide(world, apply(world, ["r1a1", "r1a2"]), "approve")
    anon = app.test_client()
    r = anon.get(f"/certificates/verify/{c.token}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        number = Volunteer.get_by_id(ids["v1"]).number
    assert c.number in html and "张*丰" in html and number in html and TEAM_A in html and "4.5" in html
    assert NAME_1 not in html and ids["id1"] not in html and ids["id1"][-4:] not in html
    assert "revoked" not in html.lower() and "作废" not in html
    decide(world, c.id, "revoke", reason="记录更正")
    r = anon.get(f"/certificates/verify/{c.token}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert ("revoked" in html.lower() or "作废" in html) and c.number in html and ids["id1"] not in html
    assert anon.get("/certificates/verify/not-a-real-token").status_code == 404
    assert anon.get("/certificates/verify/" + "x" * 200).status_code == 404


# ------------------------------------------------------------------ isolation (AC6)
def test_ac6_another_teams_admin_cannot_see_decide_or_print(world):
    """AC6: team B's admin gets no row of team A's certificates in the list, 404 on details, PDF and the
    reason page, and a bulk approve of A's id does nothing (audited); the service refuses too."""
    from plugins.certificates import services as C
    app, c = world["app"], world["c"]
    cid = apply(world, ["r1a2"])
    tb = c["tb"]
    assert cert(app, cid).number is None
    lst = tb.get("/admin/certificates_certificate/").get_data(as_text=True)
    assert f'value="{cid}"' not in lst
    assert tb.get(f"/admin/certificates_certificate/details/?id={cid}").status_code == 404
    assert tb.get(f"/admin/certificates_certificate/pdf/{cid}").status_code == 404
    assert tb.get(f"/admin/certificates_certificate/decide/?kind=reject&ids={cid}").status_code == 404
    token = csrf_from(lst)
    denied = len(audit_rows(app, "access.denied"))
    tb.post("/admin/certificates_certificate/action/", data={"csrf_token": token, "action": "approve", "rowid": cid})
    assert cert(app, cid).status == "pending" and len(audit_rows(app, "access.denied")) > denied
    with pytest.raises(C.CertificateError) as e:
        decide(world, cid, "approve", username="tb")
    assert e.value.code == 403 and cert(app, cid).status == "pending"
    # team A's admin sees it (details page with the approve button) and approves it through the action
    ta = c["ta"]
    details = ta.get(f"/admin/certificates_certificate/details/?id={cid}").get_data(as_text=True)
    assert 'value="approve"' in details and ACT_2 in details
    lst = ta.get("/admin/certificates_certificate/").get_data(as_text=True)
    assert f'value="{cid}"' in lst
    ta.post("/admin/certificates_certificate/action/", data={"csrf_token": csrf_from(lst), "action": "approve",
                                                              "rowid": cid})
    assert cert(app, cid).status == "approved"
    # a volunteer has no admin page at all
    assert c[world["ids"]["u1"]].get("/admin/certificates_certificate/").status_code == 403


def test_reject_and_revoke_through_the_admin_pages_with_reason(world):
    """R-CERT-1: the reason page rejects (reason required) and revokes; CSRF-less POSTs are refused."""
    app, c = world["app"], world["c"]["ta"]
    cid = apply(world, ["r1a2"])
    page = f"/admin/certificates_certificate/decide/?kind=reject&ids={cid}"
    assert c.get(page).status_code == 200
    assert c.post("/admin/certificates_certificate/decide/", data={"kind": "reject", "ids": cid,
                                                                   "reason": "x"}).status_code == 400
    post_form(c, page, "/admin/certificates_certificate/decide/", {"kind": "reject", "ids": cid, "reason": ""})
    assert cert(app, cid).status == "pending"
    post_form(c, page, "/admin/certificates_certificate/decide/", {"kind": "reject", "ids": cid, "reason": "缺少材料"})
    assert (cert(app, cid).status, cert(app, cid).reason) == ("rejected", "缺少材料")
    cid = decide(world, apply(world, ["r1a2"]), "approve").id
    page = f"/admin/certificates_certificate/decide/?kind=revoke&ids={cid}"
    post_form(c, page, "/admin/certificates_certificate/decide/", {"kind": "revoke", "ids": cid, "reason": "重复开具"})
    assert cert(app, cid).status == "revoked"


# ------------------------------------------------------------------ batch issuance (R-NAT-5)
def test_r_nat_5_batch_issuance_for_an_activity_is_idempotent(world):
    """R-NAT-5: everyone with confirmed service hours in the activity gets an approved, numbered
    certificate of it (purpose 实践证明); 王五 without confirmed hours gets none; running it again issues
    nothing twice; another team's admin cannot run it for this activity; trainings are refused."""
    from plugins.activities.models import Activity
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    app, ids = world["app"], world["ids"]
    c = world["c"]["ta"]
    page = c.get(f"/admin/certificates_certificate/batch/?activity={ids['a1']}").get_data(as_text=True)
    assert ACT_1 in page and TRAINING not in page and ACT_B not in page
    r = c.post("/admin/certificates_certificate/batch/", data={"csrf_token": csrf_from(page), "activity": ids["a1"],
                                                               "purpose": "practice"})
    assert r.status_code == 302
    with app.app_context():
        got = list(Certificate.select().where(Certificate.batch_key.startswith(f"activity:{ids['a1']}:")))
        assert sorted(x.volunteer_id for x in got) == sorted([ids["v1"], ids["v2"]])
        assert all(x.status == "approved" and x.number and x.token and x.purpose == "practice" for x in got)
        assert {x.volunteer_id: x.total_minutes for x in got} == {ids["v1"]: 180, ids["v2"]: 120}
    n = counts(app)
    c.post("/admin/certificates_certificate/batch/", data={"csrf_token": csrf_from(page), "activity": ids["a1"],
                                                           "purpose": "practice"})
    assert counts(app) == n
    with app.test_request_context():
        res = C.issue_for_activity(Activity.get_by_id(ids["a1"]), actor=user(app, "admin"))
        assert (res.issued, res.skipped) == ([], 2)
        with pytest.raises(C.CertificateError):
            C.issue_for_activity(Activity.get_by_id(ids["tr"]), actor=user(app, "admin"))
        with pytest.raises(C.CertificateError) as e:
            C.issue_for_activity(Activity.get_by_id(ids["a1"]), actor=user(app, "tb"))
        assert e.value.code == 403
    assert counts(app) == n
    assert json.loads(audit_rows(app, "certificate.batch")[-1].details) == {"issued": 0, "skipped": 2}
    assert len([x for x in audit_rows(app, "certificate.issued")
                if json.loads(x.details).get("activity") == ids["a1"]]) == 2
    # tb's batch page lists no activity of team A
    assert ACT_1 not in world["c"]["tb"].get("/admin/certificates_certificate/batch/").get_data(as_text=True)


# ------------------------------------------------------------------ seal (IV6)
def test_iv6_seal_upload_checked_and_drawn_on_the_certificate(world):
    """IV6: the seal must be a real PNG/JPEG under the size limit (a text file named .png is refused);
    stored re-encoded under a random name; the certificate then carries the image; audited."""
    from PIL import Image
    from plugins.certificates import services as C
    from plugins.certificates.models import Issuer
    from plugins.teams.models import Team
    app, ids = world["app"], world["ids"]
    buf = io.BytesIO()
    Image.new("RGBA", (200, 200), (220, 0, 0, 160)).save(buf, format="PNG")
    with app.test_request_context():
        team = Team.get_by_id(ids["a"])
        for bad in (b"not an image", b"GIF89a" + b"\0" * 100, b"\x89PNG" + b"x" * (3 * 1024 * 1024)):
            with pytest.raises(C.CertificateError):
                C.set_issuer(team, seal=bad, actor=user(app, "ta"))
        with pytest.raises(C.CertificateError) as e:
            C.set_issuer(Team.get_by_id(ids["a"]), seal=buf.getvalue(), actor=user(app, "tb"))
        assert e.value.code == 403
        row = C.set_issuer(team, handler_name="陈经办", contact_phone="020-12345678", seal=buf.getvalue(),
                           actor=user(app, "ta"))
        assert re.fullmatch(r"[0-9a-f]{32}\.png", row.seal_file)
        assert (C.seal_folder() / row.seal_file).read_bytes().startswith(b"\x89PNG")
        assert Issuer.select().count() == 1
    c = decide(world, apply(world, ["r1a2"]), "approve")
    assert (c.handler_name, c.handler_phone) == ("陈经办", "020-12345678")
    data = world["c"][ids["u1"]].get(f"/certificates/{c.id}.pdf").data
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(data)).pages) == 1
    f = flat(pdf_text(data))
    assert "经办人：陈经办" in f and "联系电话：020-12345678" in f
    assert audit_rows(app, "certificate.issuer_changed")[-1].username == "ta"


def test_iv6_ac6_seal_page_in_the_admin_upload_checked_and_scoped(world):
    """IV6, AC6, AC8: a team admin saves the signatory and a seal through the admin form (multipart);
    a file that is not an image is refused with nothing changed; another team's admin can neither see
    team A's row nor save one for team A (the team is not among their choices)."""
    from PIL import Image
    from plugins.certificates.models import Issuer
    app, ids, c = world["app"], world["ids"], world["c"]
    png = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 0, 0)).save(png, format="PNG")
    page = "/admin/certificates_issuer/new/"
    html = c["ta"].get(page).get_data(as_text=True)
    assert TEAM_A in html and TEAM_B not in html
    r = c["ta"].post(page, data={"csrf_token": csrf_from(html), "team": ids["a"], "handler_name": "黄经办",
                                 "contact_phone": "020-87654321", "seal": (io.BytesIO(png.getvalue()), "seal.png")},
                     content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        row = Issuer.get(Issuer.team == ids["a"])
        assert (row.handler_name, row.contact_phone) == ("黄经办", "020-87654321") and row.seal_file
        first = row.seal_file
    r = c["ta"].post(page, data={"csrf_token": csrf_from(html), "team": ids["a"], "handler_name": "改名",
                                 "contact_phone": "020-87654321", "seal": (io.BytesIO(b"<?php echo 1;"), "seal.png")},
                     content_type="multipart/form-data")
    assert r.status_code == 200
    with app.app_context():
        row = Issuer.get(Issuer.team == ids["a"])
        assert (row.handler_name, row.seal_file) == ("黄经办", first)
    html_b = c["tb"].get(page).get_data(as_text=True)
    assert TEAM_A not in html_b
    c["tb"].post(page, data={"csrf_token": csrf_from(html_b), "team": ids["a"], "handler_name": "越权"},
                 content_type="multipart/form-data")
    with app.app_context():
        assert Issuer.get(Issuer.team == ids["a"]).handler_name == "黄经办"
        rid = Issuer.get(Issuer.team == ids["a"]).id
    assert "黄经办" not in c["tb"].get("/admin/certificates_issuer/").get_data(as_text=True)
    assert c["tb"].get(f"/admin/certificates_issuer/edit/?id={rid}").status_code == 404
