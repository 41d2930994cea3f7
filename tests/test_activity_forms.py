"""The printable forms of an activity (RULES.md R-ACT-11: 附录四 套表1 签到表 and 套表2 活动反馈表, 附录五
活动记录表, 附录七 培训记录表; R-ACT-10: the staffing/assignment chart) on SQLite and PostgreSQL.

Every document is read back the way a person gets it: PDFs through pypdf (the Chinese text, and proof
that the font travels in the file: /FontFile2), workbooks through openpyxl. Phones are masked unless
asked for by a role with volunteers.volunteer.sensitive, and then audited (SECURITY.md PR5); text that a
spreadsheet would run is escaped (IV8); another team's admin gets 404 for every form by URL (AC6).
One site, built through the real services, serves the read-only checks.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import PASSWORD, csrf_from, database_url, flat, login, pdf_text
from core import create_app

PLUGINS = ["volunteers", "teams", "documents", "activities", "activity_forms"]
TEAM_A, TEAM_B = "越秀区北京街党员志愿服务队", "天河区石牌街党员志愿服务队"
TITLE, TRAINING, TITLE_B = "关爱独居老人上门探访", "党员志愿者服务技能培训", "石牌街助老义剪"
PHONE_1, PHONE_2, PHONE_3, PHONE_F = "13812345678", "13698765432", "15011112222", "13533334444"
FORMULA = "=cmd|' /C calc'!A0"
SIGNIN = "党员志愿服务活动套表（1）—签到表"
FEEDBACK = "党员志愿服务活动套表（2）—活动反馈表"
RECORD = "党员志愿服务活动记录表格"
TRAINING_FORM = "社区党员志愿者培训记录表"
STAFFING = "党员志愿服务活动岗位安排表"
# two answers of 套表2 (1 = 极好 … 5 = 极差) and their expected averages
ANSWERS = [({"venue": 1, "fit": 2, "rich": 1, "mastery": 1, "future": 3}, 9, "适中", "很好"),
           ({"venue": 2, "fit": 2, "rich": 2, "mastery": 2}, 8, "太长", "普通"),
           ({"venue": 2}, None, "适中", "很好")]




def fonts_of(data: bytes) -> list[dict]:
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for name, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            desc = font.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            out.append({"name": name, "subtype": font["/Subtype"], "embedded": "/FontFile2" in desc})
    return out


def images_of(data: bytes) -> int:
    n = 0
    for page in PdfReader(io.BytesIO(data)).pages:
        n += len(page.images)
    return n


def sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def table_body(rows, first="序号"):
    i = next(k for k, r in enumerate(rows) if r and r[0] == first)
    return rows[i], [r for r in rows[i + 1:] if r and isinstance(r[0], int)]


def audit_rows(app, action: str) -> list:
    from core.models import AuditLog
    with app.app_context():
        return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def logged_in(app, username):
    c = app.test_client()
    r = login(c, username, PASSWORD)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def png(color) -> io.BytesIO:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, format="PNG")
    buf.seek(0)
    return buf


def build_world(app) -> dict:
    """Teams A and B with their admins; volunteers; in A an earlier activity (so 张三 is a veteran), the
    activity under test with posts, a pair, outcome, photos and feedback, and a training; in B one
    activity."""
    import datetime as _dt
    from core.db import now
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.activities import photos, services as S
    from plugins.activities.models import Activity, Category, Feedback, Shift
    from plugins.teams import services as T
    from plugins.volunteers import services as V
    from plugins.volunteers.models import Volunteer
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
            u = User.create(username=username, password_hash=hash_password(PASSWORD), display_name=username)
            grant_role(u, TEAM_ADMIN, f"team:{t.id}")
            return t
        a, b = team(TEAM_A, "ta"), team(TEAM_B, "tb")

        def volunteer(n, name, phone, **extra):
            return V.register({"name": name, "id_type": "cn_id", "id_number": cn_id(9000 + n), "phone": phone,
                               "agreement": True, **extra}, create_account=False)
        v1 = volunteer(1, "张三", PHONE_1, address="越秀区北京路100号", employer="广州市某公司", specialties="急救、摄影")
        v2 = volunteer(2, "李四", PHONE_2, address="越秀区中山五路2号", employer="北京街社区居委会", specialties="陪伴聊天")
        v3 = volunteer(3, "王五", PHONE_3, employer="天河区某医院", specialties="理发")
        vf = volunteer(4, "赵六", PHONE_F, specialties="=1+2")
        Volunteer.update(name=FORMULA).where(Volunteer.id == vf.id).execute()   # as an import could store it
        vf = Volunteer.get_by_id(vf.id)

        def activity(t, title, start, slots, kind="service", **extra):
            data = {"title": title, "address": "广州市越秀区中山五路1号", "district": "越秀区",
                    "description": "探访独居老人，帮助打扫卫生、陪伴聊天。", "contact_name": "李老师",
                    "contact_phone": "13800138000",
                    "category": cats["training.general" if kind == "training" else "category.poverty"],
                    "field": cats["field.care"], **extra}
            shifts = [{"starts_at": start + _dt.timedelta(hours=h), "ends_at": start + _dt.timedelta(hours=h + 3),
                       "capacity": 10, "volunteer_type": vt} for h, vt in slots]
            act = S.create_activity(t, data, shifts, kind=kind, actor=admin)
            act = S.review(S.submit(act, actor=admin), approve=True, actor=admin)
            return S.publish(act, actor=admin)

        def shifts(act):
            return list(Shift.select().where(Shift.activity == act).order_by(Shift.starts_at))

        base = (now() + _dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        # an earlier activity: 张三 gets a confirmed record, so he is experienced (R-ACT-10)
        early = activity(a, "北京街清洁家园", base - _dt.timedelta(days=2), [(0, "一般志愿者")])
        s_early = S.sign_up(v1, shifts(early)[0])
        S.finish_due(at=early.ends_at + _dt.timedelta(minutes=1))
        S.confirm_hours(Activity.get_by_id(early.id), {s_early.id: 120}, actor=admin)

        m = activity(a, TITLE, base, [(0, "一般志愿者"), (4, "摄影志愿者")])
        sh1, sh2 = shifts(m)
        s1, s2, sf = (S.sign_up(v, sh1) for v in (v1, v2, vf))
        s3 = S.sign_up(v3, sh2)
        S.assign(s1, post="带队", actor=admin)
        S.assign(s2, post="陪伴聊天", mentor=s1, actor=admin)
        S.assign(sf, post="打扫卫生", actor=admin)
        S.assign(s3, post="摄影", actor=admin)
        S.submit_outcome(Activity.get_by_id(m.id), served_count=25, beneficiary_types="独居老人",
                         summary="本次活动探访独居老人十户，老人们很满意。", recorder="陈记录", actor=admin)
        for color, caption in (("red", "上门探访"), ("blue", "合影留念")):
            photos.store(m, png(color), caption=caption, actor=admin)
        for vol, (items, overall, duration, design) in zip((v1, v2, v3), ANSWERS):
            Feedback.create(activity=m, volunteer=vol, items=json.dumps(items), overall=overall,
                            duration=duration, design=design)

        tr = activity(a, TRAINING, base + _dt.timedelta(days=1), [(0, "学员")], kind="training",
                      description="志愿服务基本知识、急救技能。")
        S.sign_up(v2, shifts(tr)[0])
        S.submit_outcome(Activity.get_by_id(tr.id), served_count=1, beneficiary_types="党员志愿者",
                         summary="学员掌握了心肺复苏。", recorder="黄记录", actor=admin)

        mb = activity(b, TITLE_B, base, [(0, "理发师")])
        S.sign_up(v3, shifts(mb)[0])
        return {"a": a.id, "b": b.id, "m": m.id, "tr": tr.id, "mb": mb.id, "early": early.id,
                "v1": v1.id, "vf": vf.id}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("activity_forms")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    from argon2 import PasswordHasher
    from core import security
    mp.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS, "DEFAULT_LOCALE": "en"})
    ids = build_world(app)
    clients = {u: logged_in(app, u) for u in ("admin", "ta", "tb")}
    yield {"app": app, "ids": ids, "c": clients, "tmp": tmp}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def url(aid, doc, fmt="pdf"):
    return f"/admin/activity_forms/{aid}/{doc}/{fmt}"


def get_ok(client, u, kind="pdf"):
    r = client.get(u)
    assert r.status_code == 200, (u, r.status_code, r.get_data(as_text=True)[:300])
    assert r.headers["Content-Type"] == {"pdf": "application/pdf", "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}[kind]
    assert r.headers["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    return r


def assert_embedded(data: bytes):
    fonts = fonts_of(data)
    assert fonts and all(f["embedded"] and f["subtype"] == "/TrueType" for f in fonts), fonts


def post(client, u, data, aid):
    token = csrf_from(client.get(f"/admin/activity_forms/{aid}/").get_data(as_text=True))
    return client.post(u, data={"csrf_token": token, **data})


# ------------------------------------------------------------------ 附录四 套表（1） sign-in sheet
def test_r_act_11_signin_sheet_pdf_reads_like_the_handbook_form(world):
    """R-ACT-11 / 附录四 套表1: the activity's data above 序号 姓名 住址 联系方式 工作单位, one row per
    confirmed volunteer, empty numbered rows to sign on paper; phones masked (PR5); font embedded."""
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "signin"))
    text = pdf_text(r.data)
    f = flat(text)
    assert SIGNIN in text
    for label in ("活动主题", "主办单位", "活动负责人", "活动地点", "活动时间", "序号", "姓名", "住址",
                  "联系方式", "工作单位"):
        assert label in f, label
    assert TITLE in f and TEAM_A in f and "李老师" in f and "越秀区中山五路1号" in f and "年" in f
    for name, masked in (("张三", "138****5678"), ("李四", "136****5432"), ("王五", "150****2222")):
        assert name in f and masked in f
    assert "越秀区北京路100号" in f and "广州市某公司" in f and "北京街社区居委会" in f
    assert FORMULA.replace(" ", "") in f                 # the name prints as text in a PDF
    for full in (PHONE_1, PHONE_2, PHONE_3, PHONE_F):
        assert full not in f
    assert TITLE_B not in f and "北京街清洁家园" not in f
    # 4 volunteers + blank rows: at least the handbook's 12 numbered rows
    numbers = [int(x) for x in re.findall(r"^\s*(\d{1,2})\s*$", text, re.M)]
    assert set(range(1, 13)) <= set(numbers), numbers
    assert_embedded(r.data)


def test_r_act_11_signin_sheet_xlsx_rows_and_formula_escaping(world):
    """附录四 套表1 as XLSX: the header fields, the handbook's headings, masked phones (PR5) and a
    volunteer named like a formula kept as text (IV8)."""
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "signin", "xlsx"), "xlsx")
    ws = sheet(r.data)
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == SIGNIN
    assert f"活动主题：{TITLE}" in rows[1][0] and f"主办单位：" in rows[1][0] and "活动负责人：李老师" in rows[1][0]
    head, body = table_body(rows)
    assert list(head) == ["序号", "姓名", "住址", "联系方式", "工作单位"]
    filled = [row for row in body if row[1]]
    assert [row[0] for row in body] == list(range(1, len(body) + 1)) and len(body) >= 12
    by_name = {row[1]: row for row in filled}
    assert set(by_name) == {"张三", "李四", "王五", "'" + FORMULA}
    assert by_name["张三"][2:] == ("越秀区北京路100号", "138****5678", "广州市某公司")
    assert by_name["'" + FORMULA][3] == "135****4444"
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not any(isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")) for c in cells)
    dump = json.dumps(rows, ensure_ascii=False, default=str)
    assert PHONE_1 not in dump and PHONE_F not in dump


def test_pr5_full_phones_only_with_the_permission_explicitly_asked_and_audited(world):
    """PR5: the unmasked sheet needs volunteers.volunteer.sensitive (a team admin lacks it), a POST of
    the forms page (a link cannot ask) and writes pii.exported without the numbers themselves."""
    app, ids, c = world["app"], world["ids"], world["c"]
    u = url(ids["m"], "signin", "xlsx")
    before = len(audit_rows(app, "pii.exported"))
    assert c["admin"].get(u + "?full=1").status_code == 400
    denied = len(audit_rows(app, "access.denied"))
    for fmt in ("xlsx", "pdf"):
        r = post(c["ta"], url(ids["m"], "signin", fmt), {"full": "1"}, ids["m"])
        assert r.status_code == 403 and PHONE_1.encode() not in r.data
    assert len(audit_rows(app, "access.denied")) >= denied + 2
    assert len(audit_rows(app, "pii.exported")) == before
    # the forms page offers full values only to those who may have them
    assert "Full phone numbers" not in c["ta"].get(f"/admin/activity_forms/{ids['m']}/").get_data(as_text=True)
    assert "Full phone numbers" in c["admin"].get(f"/admin/activity_forms/{ids['m']}/").get_data(as_text=True)
    # a masked download is an ordinary export
    exports = len(audit_rows(app, "export"))
    get_ok(c["admin"], u, "xlsx")
    assert len(audit_rows(app, "pii.exported")) == before
    last = audit_rows(app, "export")[exports:]
    assert [json.loads(x.details)["document"] for x in last] == ["signin_sheet"]
    # the platform admin asks explicitly: full numbers, audited
    r = post(c["admin"], u, {"full": "1"}, ids["m"])
    assert r.status_code == 200
    _, body = table_body(list(sheet(r.data).iter_rows(values_only=True)))
    assert {row[3] for row in body if row[1]} == {PHONE_1, PHONE_2, PHONE_3, PHONE_F}
    r = post(c["admin"], url(ids["m"], "signin", "pdf"), {"full": "1"}, ids["m"])
    assert PHONE_1 in flat(pdf_text(r.data))
    rows = audit_rows(app, "pii.exported")[before:]
    assert [(json.loads(x.details)["document"], json.loads(x.details)["format"]) for x in rows] == [
        ("signin_sheet", "xlsx"), ("signin_sheet", "pdf")]
    assert all(x.username == "admin" and x.object_type == "activities_activity"
               and x.object_id == str(ids["m"]) for x in rows)
    assert json.loads(rows[0].details)["rows"] == 4 and json.loads(rows[0].details)["fields"] == ["phone"]
    for x in rows:   # AU1: no personal data in the audit log
        assert PHONE_1 not in x.details and "张三" not in x.details
    # no other form has an unmasked variant
    assert post(c["admin"], url(ids["m"], "staffing", "xlsx"), {"full": "1"}, ids["m"]).status_code == 404


# ------------------------------------------------------------------ 附录四 套表（2） feedback
def test_r_act_11_blank_feedback_form_as_the_handbook_lays_it_out(world):
    """套表2: every section and item of the handbook, the 极好…极差 scale, the two choices, 意见及回响
    and the 10-point score; the activity's name and date on top."""
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "feedback_form"))
    text = pdf_text(r.data)
    f = flat(text)
    assert FEEDBACK in text and len(PdfReader(io.BytesIO(r.data)).pages) == 1
    assert f"活动名称：{TITLE}（" in f and "年" in f
    for s in ("一、安排方面", "1.场地设备方面", "2.活动的时间", "□太长□适中□太短", "3.活动设计",
              "□很好□普通□不好", "建议：", "4.其它意见", "二、内容及手法方面", "1.内容切合需要", "2.内容充实",
              "3.内容有启发性", "4.手法有效", "5.其它意见", "三、工作人员方面", "1.对内容的掌握程度",
              "2.准备工作", "3.促进学习方面", "4.表达能力方面", "5.其它", "四、总的来说，本次活动在",
              "1.让我对活动主题的认识方面", "2.增强我相关知识/能力方面", "3.帮助我日后学习/生活/工作方面",
              "五、意见及回响", "六、如果满分是10分，我会给这个活动", "分。（完）", "极好", "极差"):
        assert s in f, s
    assert f.count("□") == 12 * 5 + 6      # five boxes for each 5-point item, three per choice
    assert_embedded(r.data)


def test_feedback_items_of_the_online_form_are_all_on_the_paper_form():
    from plugins.activities.views import FEEDBACK_ITEMS
    from plugins.activity_forms.services import FEEDBACK_SECTIONS
    printed = {code: label for _s, items in FEEDBACK_SECTIONS for code, label in items}
    assert set(printed) == {code for code, _ in FEEDBACK_ITEMS}
    for code, label in FEEDBACK_ITEMS:
        assert label in printed[code]


def expected_averages():
    items: dict[str, list[int]] = {}
    for answer, *_ in ANSWERS:
        for k, v in answer.items():
            items.setdefault(k, []).append(v)
    overall = [o for _a, o, *_ in ANSWERS if o is not None]
    return {k: round(sum(v) / len(v), 2) for k, v in items.items()}, round(sum(overall) / len(overall), 2)


def test_r_act_11_feedback_results_xlsx_and_pdf(world):
    """套表2 results: the per-item averages of activities.services.feedback_averages, how many answered
    each, the tallies of the two choices, the count and the average overall score."""
    items, overall = expected_averages()
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "feedback_results", "xlsx"), "xlsx")
    rows = list(sheet(r.data).iter_rows(values_only=True))
    assert "反馈份数：3" in rows[1][0] and f"总评平均分：{overall}" in rows[1][0]
    head, body = table_body(rows)
    assert list(head) == ["序号", "方面", "项目", "平均分（1=极好 … 5=极差）", "作答份数"]
    by_item = {row[2]: row for row in body}
    assert by_item["场地设备方面"][3] == items["venue"] == pytest.approx(1.67) and by_item["场地设备方面"][4] == 3
    assert by_item["内容切合需要"][3] == 2 and by_item["内容切合需要"][4] == 2
    assert by_item["对内容的掌握程度"][3] == 1.5
    assert by_item["帮助我日后学习/生活/工作方面"][3] == 3 and by_item["帮助我日后学习/生活/工作方面"][4] == 1
    assert by_item["手法有效"][3] == "—" and by_item["手法有效"][4] == 0
    assert len(body) == 12
    tail = {row[2]: row for row in rows if row and row[2]}
    assert tail["总评平均分（满分 10 分）"][3] == overall == 8.5
    assert tail["反馈份数"][3] == 3
    assert "活动的时间：太长 1　适中 2　太短 0" in tail
    assert "活动设计：很好 2　普通 1　不好 0" in tail
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "feedback_results"))
    f = flat(pdf_text(r.data))
    assert "党员志愿服务活动反馈表统计" in f and TITLE in f
    assert "场地设备方面1.673" in f and "总评平均分（满分10分）8.5" in f and "反馈份数3" in f
    assert_embedded(r.data)


# ------------------------------------------------------------------ 附录五 / 附录七
def test_r_act_11_activity_record_pdf_with_photos(world):
    """附录五: every field of the handbook form filled from the activity and its outcome (R-ACT-8), the
    photos embedded in 活动图片."""
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "record"))
    text = pdf_text(r.data)
    f = flat(text)
    assert RECORD in text
    for label in ("活动时间", "活动地点", "活动主题", "主办单位", "服务参加人数", "记录人", "服务参加人员",
                  "服务对象类型", "服务人次", "活动内容", "活动图片", "活动总结"):
        assert label in f, label
    assert TITLE in f and TEAM_A in f and "陈记录" in f and "独居老人" in f
    assert "服务人次25" in f and "服务参加人数4" in f
    assert "张三、李四" in f and "王五" in f
    assert "探访独居老人，帮助打扫卫生、陪伴聊天。" in f and "本次活动探访独居老人十户，老人们很满意。" in f
    assert "上门探访" in f and "合影留念" in f
    assert images_of(r.data) == 2
    assert_embedded(r.data)


def test_r_act_11_training_record_pdf(world):
    """附录七 社区党员志愿者培训记录表 for a training; 附录五 is for activities and 附录七 for trainings."""
    ids, ta = world["ids"], world["c"]["ta"]
    r = get_ok(ta, url(ids["tr"], "training_record"))
    text = pdf_text(r.data)
    f = flat(text)
    assert TRAINING_FORM in text
    for label in ("培训概况", "培训主题", "培训导师", "培训地点", "培训时间", "培训人员", "培训人数",
                  "培训内容（要点）", "培训图片", "培训小结", "记录员", "整理时间"):
        assert label in f, label
    assert TRAINING in f and "李四" in f and "培训人数1" in f and "学员掌握了心肺复苏。" in f
    assert "志愿服务基本知识、急救技能。" in f and "黄记录" in f
    assert_embedded(r.data)
    assert ta.get(url(ids["tr"], "record")).status_code == 404
    assert ta.get(url(ids["m"], "training_record")).status_code == 404


# ------------------------------------------------------------------ R-ACT-10 staffing chart
def test_r_act_10_staffing_chart_posts_specialties_and_pairs(world):
    """R-ACT-10: posts with the assigned volunteers, their specialties, newcomer (no confirmed record
    before) or experienced, the pairs (SignUp.mentor) — XLSX formula-escaped (IV8), phones masked."""
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "staffing", "xlsx"), "xlsx")
    ws = sheet(r.data)
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == STAFFING
    head, body = table_body(rows)
    assert list(head) == ["序号", "岗位", "姓名", "志愿者类型 / 时段", "特长", "经验", "新老结对", "联系方式"]
    by_name = {row[2]: row for row in body}
    assert set(by_name) == {"张三", "李四", "王五", "'" + FORMULA}
    z, li = by_name["张三"], by_name["李四"]
    assert (z[1], z[4], z[5], z[6], z[7]) == ("带队", "急救、摄影", "已服务 1 次", "带领 李四", "138****5678")
    assert (li[1], li[5], li[6]) == ("陪伴聊天", "新手", "由 张三 带领")
    assert li[3].startswith("一般志愿者 ") and by_name["王五"][3].startswith("摄影志愿者 ")
    assert by_name["'" + FORMULA][4] == "'=1+2"
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    r = get_ok(world["c"]["ta"], url(world["ids"]["m"], "staffing"))
    f = flat(pdf_text(r.data))
    assert STAFFING in f and "带领李四" in f and "由张三带领" in f and "新手" in f and "急救、摄影" in f
    assert PHONE_1 not in f and "138****5678" in f
    assert_embedded(r.data)


# ------------------------------------------------------------------ AC6 isolation, permissions
DOCS = [("signin", "pdf"), ("signin", "xlsx"), ("feedback_form", "pdf"), ("feedback_results", "pdf"),
        ("feedback_results", "xlsx"), ("record", "pdf"), ("staffing", "pdf"), ("staffing", "xlsx")]


def test_ac6_another_teams_admin_gets_404_for_every_form(world):
    """AC6 / R-ACT-11: team B's admin gets 404 for each of team A's forms by URL, GET or POST (full
    values too), with none of A's data, and the probe is audited; and the other way round."""
    app, ids, c = world["app"], world["ids"], world["c"]
    denied = len(audit_rows(app, "access.denied"))
    probes = 0
    for doc, fmt in DOCS + [("training_record", "pdf")]:
        aid = ids["tr"] if doc == "training_record" else ids["m"]
        for r in (c["tb"].get(url(aid, doc, fmt)),
                  c["tb"].post(url(aid, doc, fmt), data={"full": "1", "csrf_token": "x"})):
            assert r.status_code in (400, 404), (doc, fmt, r.status_code)   # 400: CSRF first
            assert TITLE.encode() not in r.data and "张三".encode() not in r.data
        probes += 1
    token = csrf_from(c["tb"].get(f"/admin/activity_forms/{ids['mb']}/").get_data(as_text=True))
    r = c["tb"].post(url(ids["m"], "signin", "xlsx"), data={"full": "1", "csrf_token": token})
    assert r.status_code == 404
    assert c["tb"].get(f"/admin/activity_forms/{ids['m']}/").status_code == 404
    assert len(audit_rows(app, "access.denied")) >= denied + probes
    for doc, fmt in DOCS:
        assert c["ta"].get(url(ids["mb"], doc, fmt)).status_code == 404
        assert c["tb"].get(url(ids["mb"], doc, fmt)).status_code == 200
    r = get_ok(c["tb"], url(ids["mb"], "signin", "xlsx"), "xlsx")
    names = {row[1] for row in table_body(list(sheet(r.data).iter_rows(values_only=True)))[1] if row[1]}
    assert names == {"王五"}


def test_forms_need_a_login_and_an_admin_role(world):
    app, ids = world["app"], world["ids"]
    anon = app.test_client()
    r = anon.get(url(ids["m"], "signin"))
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    from core.models import User
    from core.security import hash_password
    with app.app_context():
        User.create(username="plain", password_hash=hash_password(PASSWORD))
    plain = logged_in(app, "plain")
    assert plain.get(url(ids["m"], "signin")).status_code == 403
    assert plain.get(f"/admin/activity_forms/{ids['m']}/").status_code == 403
    for bad in ("/admin/activity_forms/999999/signin/pdf", url(ids["m"], "signin", "csv"),
                url(ids["m"], "nothing"), url(ids["m"], "feedback_form", "xlsx")):
        assert world["c"]["admin"].get(bad).status_code == 404, bad


def test_the_activity_page_has_the_form_buttons(world):
    """The activity's admin page shows its forms through the activities plugin's slot."""
    ids, ta = world["ids"], world["c"]["ta"]
    html = ta.get(f"/admin/activities_activity/details/?id={ids['m']}").get_data(as_text=True)
    for doc, fmt in (("signin", "pdf"), ("feedback_form", "pdf"), ("feedback_results", "pdf"),
                     ("record", "pdf"), ("staffing", "pdf")):
        assert url(ids["m"], doc, fmt) in html, doc
    assert "training_record" not in html and f"/admin/activity_forms/{ids['m']}/" in html
    html = ta.get(f"/admin/activities_activity/details/?id={ids['tr']}").get_data(as_text=True)
    assert url(ids["tr"], "training_record") in html and url(ids["tr"], "record") not in html
    page = ta.get(f"/admin/activity_forms/{ids['m']}/").get_data(as_text=True)
    assert SIGNIN in page and STAFFING in page and TITLE in page


def test_long_texts_many_photos_and_markup_still_print(world):
    """A record with pages of text, more photos than fit and markup in the title: the text is split
    over rows marked （续） instead of failing, at most MAX_PHOTOS photos are embedded, ``<img …>``
    prints literally (reportlab markup is never read from data)."""
    import datetime as _dt
    from core.db import now
    from plugins.activities import photos, services as S
    from plugins.activities.models import Activity, Category
    from plugins.activity_forms.services import MAX_PHOTOS
    from plugins.teams.models import Team
    app, ids = world["app"], world["ids"]
    evil = "<img src=x onerror=alert(1)>敬老"
    long_text = "".join(f"第{i}段：社区党员志愿者上门探访独居老人，帮助打扫卫生、陪伴聊天。" for i in range(160))
    with app.test_request_context():
        cats = {c.code: c.id for c in Category.select()}
        start = (now() + _dt.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
        a = S.create_activity(Team.get_by_id(ids["a"]), {
            "title": evil, "address": "广州市越秀区中山五路1号", "district": "越秀区", "description": long_text,
            "contact_name": "李老师", "contact_phone": "13800138000", "category": cats["category.poverty"],
            "field": cats["field.care"]}, [{"starts_at": start, "ends_at": start + _dt.timedelta(hours=2),
                                            "capacity": 5, "volunteer_type": "一般志愿者"}])
        a = S.publish(S.review(S.submit(a), approve=True))
        S.submit_outcome(Activity.get_by_id(a.id), served_count=3, beneficiary_types="独居老人",
                         summary=long_text, recorder="陈记录")
        for i in range(MAX_PHOTOS + 2):
            photos.store(a, png((40 * i, 100, 150)), caption=f"照片{i + 1}")
        aid = a.id
    r = get_ok(world["c"]["ta"], url(aid, "record"))
    reader = PdfReader(io.BytesIO(r.data))
    f = flat(pdf_text(r.data))
    assert len(reader.pages) >= 3
    assert "活动内容（续）" in f and "活动总结（续）" in f
    assert "第0段" in f and "第159段" in f and f.count("第159段") == 2
    assert images_of(r.data) == MAX_PHOTOS and "照片4" in f and "照片5" not in f
    assert flat(evil) in f
    assert_embedded(r.data)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is not installed")
def test_forms_render_to_pages(world):
    """Each PDF renders (poppler): a page image with ink on it. The images stay in the test's folder
    for a look (``activity_forms/*.png``)."""
    from PIL import Image, ImageStat
    ids, ta = world["ids"], world["c"]["ta"]
    for doc, aid in (("signin", ids["m"]), ("feedback_form", ids["m"]), ("record", ids["m"]),
                     ("training_record", ids["tr"]), ("staffing", ids["m"])):
        pdf = world["tmp"] / f"{doc}.pdf"
        pdf.write_bytes(get_ok(ta, url(aid, doc)).data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))],
                       check=True, capture_output=True, timeout=60)
        page = next(world["tmp"].glob(f"{doc}-*1.png"))
        stat = ImageStat.Stat(Image.open(page).convert("L"))
        assert 150 < stat.mean[0] < 254, (doc, stat.mean)   # mostly paper, with ink
