"""The documents of a funding application (issue 14 point 4; RULES R-RES-4, R-RES-5, R-RES-2): the 申报书 as
a PDF laid out like the handbook's template 青少年社区志愿服务活动策划申报书 (its sections and tables in order,
embedded CJK font, page numbers) and as an XLSX (core.exports), the 公示 list as a PDF, the final evaluation
report as a PDF; every document route is team-isolated (AC6). The files are read back for real (pypdf,
pdftotext, openpyxl)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import openpyxl
import pytest

from conftest import login
from core.testing import flat, pdf_text
from test_resources_application import draft, good_lines
from test_teams_workflow import add_member, new_team, new_volunteer

PLUGINS = ["volunteers", "teams", "documents", "resources"]
BASE = "/admin/resources_application/"
HEADINGS = ["青少年社区志愿服务活动策划申报书", "填表说明", "一、申报人信息", "二、申报活动基本情况", "三、具体活动计划"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="zh_Hans_CN")


@pytest.fixture
def world(app, make_user):
    """Team 甲 with a complete 申报书 (leader, two members with duties, schedule, outputs, methods, budget) and
    team 乙 with its own; a platform admin."""
    from plugins.resources import applications as A
    from plugins.teams.models import Team
    ta, tb = new_team(app, "甲服务队", admin="ta"), new_team(app, "乙服务队", admin="tb")
    vids = [new_volunteer(app, 7500 + i, name=n)[0] for i, n in enumerate(("王负责", "李成员", "赵成员"))]
    for v in vids:
        add_member(app, v, ta)
    other = new_volunteer(app, 7599, name="乙负责")[0]
    add_member(app, other, tb)
    complete = dict(needs="独居长者缺少陪伴需求分析", goals="每月探访四十人次", background="社区老龄化背景说明",
                    content="入户探访与电话关怀", leader_phone="13800138000", evaluation_methods=["phone", "other"],
                    evaluation_other="家属座谈")
    schedule = [{"when": "2026年3月第1周", "place": "社区活动室", "theme": "启动仪式", "content": "破冰与分工",
                 "materials": "海报", "person": "王负责"},
                {"when": "2026年3月第3周", "place": "长者家中", "theme": "入户探访", "content": "陪伴聊天",
                 "materials": "慰问品", "person": "李成员"}]
    outputs = [{"indicator": "探访人次", "planned": "40"}, {"indicator": "派发宣传资料", "planned": "100"}]
    members = [{"volunteer": vids[1], "duty": "宣传", "responsibility": "设计折页"},
               {"volunteer": vids[2], "duty": "后勤", "responsibility": "准备物资"}]
    with app.app_context():
        a = A.save(Team.get_by_id(ta), draft(activity_name="长者探访行动", leader=vids[0], **complete),
                   members, good_lines(), schedule=schedule, outputs=[dict(o) for o in outputs])
        b = A.save(Team.get_by_id(tb), draft(activity_name="乙队秘密活动", leader=other, **complete), [],
                   good_lines(), schedule=schedule[:1], outputs=[dict(outputs[0])])
    admin = make_user("pa", "platform_admin")
    return a.id, b.id, admin


def client(app, who):
    c = app.test_client()
    assert login(c, who).status_code == 302
    return c


def in_order(text: str, needles: list[str]) -> None:
    pos = 0
    for n in needles:
        i = text.find(n, pos)
        assert i >= 0, (n, text[pos:pos + 300])
        pos = i + len(n)


def pdftotext(data: bytes) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("poppler-utils not installed")
    return subprocess.run([exe, "-", "-"], input=data, capture_output=True, check=True).stdout.decode("utf-8")


def fonts_embedded(data: bytes) -> bool:
    from pypdf import PdfReader
    for page in PdfReader(io.BytesIO(data)).pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            f = f.get_object()
            desc = f.get("/FontDescriptor") or (f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
                                                if "/DescendantFonts" in f else None)
            if desc is None or not any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                return False
    return True


def test_r_res_5_1_application_pdf_follows_the_template_sections_in_order(app, world):
    a, _b, _admin = world
    r = client(app, "ta").get(f"{BASE}document.pdf?id={a}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    text = flat(pdf_text(r.data))
    in_order(text, HEADINGS)
    # the application's own Chinese text, in the template's order
    in_order(text, ["团队名称：甲服务队", "活动名称：长者探访行动", "负责人：王负责", "申报日期",
                    "团队成员不得超过5人", "一、申报人信息", "王负责", "李成员", "赵成员", "宣传", "设计折页",
                    "二、申报活动基本情况", "长者探访行动", "扶贫济困", "独居长者", "某某社区", "1500.00元", "1000.00元",
                    "活动概述", "每周探访", "三、具体活动计划", "社区老龄化背景说明", "独居长者缺少陪伴需求分析",
                    "每月探访四十人次", "入户探访与电话关怀", "具体服务推进计划", "启动仪式", "破冰与分工", "入户探访",
                    "活动产出", "探访人次", "40", "派发宣传资料", "100", "服务成效评估方法", "■电话回访", "□问卷调查",
                    "家属座谈", "活动预算", "服务费用", "社区活动物资", "400.00", "宣传费用（不超过资助总额的30%）",
                    "设计并印制项目折页", "300.00", "30.0%", "志愿者津贴", "合计", "1000.00", "100.0%"])
    # the leader's phone is masked like on every page; the full number is never printed
    assert "13800138000" not in text and "138****8000" in text
    assert "乙队秘密活动" not in text
    # page numbers and an embedded font; pdftotext reads the same order
    assert re.search(r"第1页，共(\d+)页", text)
    assert fonts_embedded(r.data)
    in_order(flat(pdftotext(r.data)), HEADINGS + ["启动仪式", "探访人次", "合计"])


def test_r_res_5_2_application_pdf_numbers_follow_the_settings(app, world):
    from core import settings as S
    a, _b, admin = world
    with app.app_context():
        S.change("resources", {"max_members": "3"}, user=admin)
    text = flat(pdf_text(client(app, "ta").get(f"{BASE}document.pdf?id={a}").data))
    assert "团队成员不得超过3人" in text and "团队成员不得超过5人" not in text


def test_r_res_5_3_application_xlsx_has_the_sections_in_order_escaped(app, world):
    a, _b, _admin = world
    r = client(app, "ta").get(f"{BASE}export.xlsx?id={a}")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    col_a = [c.value for c in ws["A"] if c.value is not None]
    in_order("|".join(str(x) for x in col_a), HEADINGS[:1] + HEADINGS[2:] + ["具体服务推进计划", "2026年3月第1周",
                                                                           "活动产出", "探访人次", "活动预算", "合计"])
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert "长者探访行动" in cells and "138****8000" in cells and "13800138000" not in cells
    total = next(row for row in ws.iter_rows() if row[0].value == "合计")
    assert float(total[4].value) == 1000.0 and total[4].data_type == "n"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_r_res_5_4_ac6_every_document_route_is_404_for_another_team_and_audited(app, world):
    from core.models import AuditLog
    from plugins.resources.models import Application
    a, b, _admin = world
    c = client(app, "ta")
    for path in ("document.pdf", "export.xlsx", "evaluation.pdf"):
        assert c.get(f"{BASE}{path}?id={b}").status_code == 404, path
        assert c.get(f"{BASE}{path}?id=abc").status_code == 404, path
    assert c.get(f"{BASE}document.pdf?id={a}").status_code == 200
    with app.app_context():
        denied = AuditLog.select().where((AuditLog.action == "access.denied") & (AuditLog.object_id == str(b)))
        assert denied.count() == 3
        assert AuditLog.select().where(AuditLog.action == "resources.application.document").count() == 1
        assert Application.get_by_id(b).status == "draft"
    # anonymous: to the login page, nothing sent
    r = app.test_client().get(f"{BASE}document.pdf?id={a}")
    assert r.status_code in (302, 403) and r.mimetype != "application/pdf"
    # the platform admin reads both
    p = client(app, "pa")
    assert "乙队秘密活动" in flat(pdf_text(p.get(f"{BASE}document.pdf?id={b}").data))


def _to_publicity(app, aid, admin):
    from plugins.resources import steps as S
    from plugins.resources.models import Application
    with app.app_context():
        a = S.move(Application.get_by_id(aid), "submit", actor=admin)
        a = S.move(a, "start_review", actor=admin)
        return S.move(a, "approve", actor=admin)


def test_r_res_2_5_publicity_pdf_lists_the_announced_applications_without_personal_data(app, world):
    a, _b, admin = world
    empty = app.test_client().get("/resources/publicity.pdf")
    assert empty.status_code == 200 and "目前没有公示中的项目" in flat(pdf_text(empty.data))
    _to_publicity(app, a, admin)
    r = app.test_client().get("/resources/publicity.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = flat(pdf_text(r.data))
    in_order(text, ["资助项目合作公示", "活动名称", "团队", "长者探访行动", "甲服务队", "某某社区", "1000.00"])
    assert "王负责" not in text and "138" not in text and "乙队秘密活动" not in text
    assert fonts_embedded(r.data)
    page = app.test_client().get("/resources/publicity/").get_data(as_text=True)
    assert "/resources/publicity.pdf" in page


def test_r_res_4_6_evaluation_pdf_shows_planned_vs_achieved_and_spent_vs_budget(app, world):
    from plugins.resources import steps as S
    from plugins.resources.models import Application, Output
    a, _b, admin = world
    _to_publicity(app, a, admin)
    with app.app_context():
        x = Application.get_by_id(a)
        for step in ("announced", "trained", "implemented"):
            x = S.move(x, step, actor=admin)     # without the activities plugin the online rule is not checked
        outs = {o.indicator: o.id for o in Output.select().where(Output.application == a)}
        lines = list(x.lines)
        S.evaluate(x, achieved={outs["探访人次"]: "42", outs["派发宣传资料"]: "80"},
                   spent={ln.id: "50" for ln in lines}, method_results="电话回访二十人均满意",
                   conclusion="基本达成目标", actor=admin)
    r = client(app, "ta").get(f"{BASE}evaluation.pdf?id={a}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = flat(pdf_text(r.data))
    in_order(text, ["末期评估报告", "长者探访行动", "一、活动产出", "探访人次", "40", "42", "105%", "派发宣传资料",
                    "100", "80", "80%", "二、服务成效评估方法及结果", "电话回访", "家属座谈", "电话回访二十人均满意",
                    "三、经费使用", "社区活动物资", "400.00", "50.00", "350.00", "合计", "1000.00",
                    f"{50 * len(lines)}.00", "四、评估结论", "基本达成目标"])
    assert re.search(r"第1页，共\d+页", text) and fonts_embedded(r.data)
