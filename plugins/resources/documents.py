"""The documents of a funding application (issue 14 point 4; RULES R-RES-4, R-RES-5):

- ``application_pdf``: the 申报书 laid out like the handbook's template 青少年社区志愿服务活动策划申报书 (篇4 二(一)3(6)):
  cover (编号, programme, title, 团队名称, 活动名称, 负责人, 申报日期), 填表说明, 一、申报人信息 (leader, members,
  division of work), 二、申报活动基本情况, 三、具体活动计划 (background, needs, goals, content, the schedule
  table, outputs, evaluation methods, the budget table with 合计 and 所占比例), in that order;
- ``application_xlsx``: the same sections on one sheet, top to bottom, for people who edit offline (every
  cell through ``core.exports``; amounts as numbers through ``core.money``);
- ``publicity_pdf``: the 公示 list (the public page's columns: no leader or member data);
- ``evaluation_pdf``: the final evaluation report (outputs achieved vs planned, the methods' results,
  spent vs budget per line, the conclusion).

The PDFs use the documents plugin's embedded CJK font and its page numbers (第 n 页，共 m 页). The text
printed is the template's, in Chinese, like the other printed forms of the handbook. The leader's phone
is printed masked (``core.pii.mask_phone``), as on every page; ID numbers are never stored, so their cells
stay empty."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape as _escape

from core import exports, money
from core.pii import mask_phone

from .applications import CATEGORY_LABELS, FLOW, totals
from .models import EVALUATION_METHODS, BudgetLine, Output, ScheduleRow
from .services import SETTINGS

TITLE = "青少年社区志愿服务活动策划申报书"
SECTIONS = ("填表说明", "一、申报人信息", "二、申报活动基本情况", "三、具体活动计划")
METHODS_ZH = {"phone": "电话回访", "survey": "问卷调查", "follow_up": "服务跟进", "summary": "活动总结",
              "other": "其他（请注明）"}
# the template's 支出内容 rows, in its order, and the categories under each
BUDGET_GROUPS = (("服务费用", ("service",)), ("宣传费用（不超过资助总额的{publicity}%）", ("publicity",)),
                 ("志愿者津贴（不超过资助总额的{allowance}%）", ("transport", "meals")),
                 ("培训费用（不超过资助总额的{training}%）", ("trainer", "training_material")),
                 ("其他费用", ("other",)))
MM = 2.834645669


def _p(text) -> str:
    return _escape("" if text is None else str(text)).replace("\n", "<br/>")


def _yuan(fen) -> str:
    return "" if fen is None else money.fmt(fen, style="plain")


def _period(a) -> str:
    return f"{a.period_start:%Y年%m月%d日} 至 {a.period_end:%Y年%m月%d日}"


def _submitted_on(a):
    """The day the application was submitted (its audited ``submit`` step), else the day it was drafted."""
    from core.models import AuditLog
    row = (AuditLog.select(AuditLog.at)
           .where((AuditLog.action == "resources.application.submit") & (AuditLog.object_type == "resources_application")
                  & (AuditLog.object_id == str(a.id))).order_by(AuditLog.id).first())
    from core.db import TZ
    return (row.at if row else a.created_at).astimezone(TZ).date()


def _members(a):
    return [(m.volunteer.name, m.duty, m.responsibility) for m in a.members]


def _lines(a):
    return list(a.lines.order_by(BudgetLine.position))


def _share(fen: int, requested: int) -> str:
    return f"{fen * 100 / requested:.1f}%" if requested else ""


def _budget_rows(a):
    """(支出内容, 费用明细, 单价, 数量, 金额, 所占比例, 备注) per line, grouped like the template."""
    s = SETTINGS.all()
    caps = {"publicity": s["publicity_max_percent"], "allowance": s["allowance_max_percent"],
            "training": s["training_max_percent"]}
    rows, lines = [], _lines(a)
    for label, cats in BUDGET_GROUPS:
        mine = [ln for ln in lines if ln.category in cats]
        for i, ln in enumerate(mine):
            rows.append((label.format(**caps) if i == 0 else "", ln.detail, ln.unit_price, ln.quantity, ln.amount, _share(ln.amount, a.requested), ln.note))
    return rows


# ------------------------------------------------------------------------------------------------ PDF
class _Doc:
    """A portrait A4 story with the documents plugin's font and page numbers."""

    def __init__(self, title: str):
        from reportlab.lib.enums import TA_CENTER, TA_LEFT
        from reportlab.lib.styles import ParagraphStyle
        from plugins.documents.services import font_name
        self.font, self.title, self.story = font_name(), title, []

        def style(name, size=10.5, center=False, **kw):
            return ParagraphStyle(name, fontName=self.font, fontSize=size, leading=size * 1.45, wordWrap="CJK",
                                  alignment=TA_CENTER if center else TA_LEFT, **kw)
        self.style = style
        self.body, self.center = style("body"), style("center", center=True)
        self.label = style("label", center=True)

    def para(self, text, size=10.5, center=False, before=0, after=4):
        from reportlab.platypus import Paragraph
        self.story.append(Paragraph(_p(text), self.style(f"s{len(self.story)}", size, center,
                                                         spaceBefore=before, spaceAfter=after)))

    def heading(self, text):
        self.para(text, 14, before=8, after=6)

    def table(self, rows, weights, *, spans=(), labels=(), header=False):
        """A bordered table; ``rows`` of text cells (None = covered by a span), ``spans`` as reportlab
        (c0, r0, c1, r1), ``labels`` as (c, r) cells shaded and centred; ``header`` shades the first row."""
        from reportlab.lib import colors
        from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
        width = 180 * MM
        widths = [width * w / sum(weights) for w in weights]
        labels = set(labels) | ({(c, 0) for c in range(len(weights))} if header else set())
        data = [[Paragraph(_p(v), self.label if (c, r) in labels else self.body) if v is not None else ""
                 for c, v in enumerate(row)] for r, row in enumerate(rows)]
        ts = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
              ("FONTNAME", (0, 0), (-1, -1), self.font),
              ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
        ts += [("SPAN", (c0, r0), (c1, r1)) for c0, r0, c1, r1 in spans]
        ts += [("BACKGROUND", (c, r), (c, r), colors.HexColor("#f4f4f4")) for c, r in labels]
        t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
        t.setStyle(TableStyle(ts))
        self.story += [t, Spacer(1, 3 * MM)]

    def page_break(self):
        from reportlab.platypus import PageBreak
        self.story.append(PageBreak())

    def pdf(self) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import SimpleDocTemplate
        from plugins.documents.services import numbered_canvas
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=A4, title=self.title, author="", creator="timebank",
                                subject=self.title, initialFontName=self.font, leftMargin=15 * MM,
                                rightMargin=15 * MM, topMargin=15 * MM, bottomMargin=18 * MM)
        doc.build(self.story, canvasmaker=numbered_canvas(self.font))
        return buf.getvalue()


def _long(d: _Doc, label: str, text: str, weights=(1, 4)):
    """A label and a long text, cut into rows of at most 600 characters (no row taller than a page)."""
    text = (text or "").strip()
    parts = [text[i:i + 600] for i in range(0, len(text), 600)] or [""]
    d.table([[label if i == 0 else "", part] for i, part in enumerate(parts)], weights,
            labels=[(0, i) for i in range(len(parts))])


def application_pdf(a) -> bytes:
    s = SETTINGS.all()
    d = _Doc(TITLE)
    # cover
    d.para(f"编号：{a.id:06d}", 12, after=40)
    year = a.period_start.year
    d.para(f"{year}年 “{a.programme.name if a.programme_id else '　　'}”", 16, center=True, after=12)
    d.para(TITLE, 22, center=True, after=60)
    leader = a.leader.name if a.leader_id else ""
    for label, value in (("团队名称", a.team.name), ("活动名称", a.activity_name), ("负责人", leader),
                         ("申报日期", f"{_submitted_on(a):%Y年%m月%d日}")):
        d.para(f"{label}：{value}", 14, after=14)
    d.page_break()
    # 填表说明 (the template's, with the numbers of the settings)
    d.heading(SECTIONS[0])
    for item in ("一、申报个人/团队必须保证活动内容真实性和严肃性。",
                 "二、申报书各项内容按照说明填写，为保证统一规范，请勿对格式进行修改。",
                 f"三、活动实施不得少于 {s['min_period_months']} 个月，请务必在本周期内完成活动。",
                 "四、活动实施的区域为广州地区，请于此范围内开展服务。",
                 f"五、团队成员不得超过{s['max_members']}人。"):
        d.para(item)
    # 一、申报人信息
    d.heading(SECTIONS[1])
    d.table([["负责人信息（必填）", None, None, None, None, None],
             ["姓名", leader, "手机号码", mask_phone(a.leader_phone), "身份证号", ""]],
            (1, 1.4, 1, 1.4, 1, 1.6), spans=[(0, 0, 5, 0)], labels=[(0, 0), (0, 1), (2, 1), (4, 1)])
    members = _members(a)
    rows = [[f"团队成员信息（注：团队成员不得超过{s['max_members']}人；个人申报不用填写）"] + [None] * 4,
            ["成员", "姓名", "QQ/微信", "手机号码", "电子邮箱"]]
    rows += [[f"成员 {i}", name, "", "", ""] for i, (name, _duty, _resp) in enumerate(members, 1)]
    d.table(rows, (1, 1.5, 1.5, 1.5, 1.5), spans=[(0, 0, 4, 0)], labels=[(c, r) for r in (0, 1) for c in range(5)])
    rows = [["团队成员分工（注：个人申报不用填写）", None, None, None], ["成员", "姓名", "活动分工", "具体负责内容"]]
    rows += [[f"成员 {i}", name, duty, resp] for i, (name, duty, resp) in enumerate(members, 1)]
    d.table(rows, (1, 1.5, 2, 4), spans=[(0, 0, 3, 0)], labels=[(c, r) for r in (0, 1) for c in range(4)])
    # 二、申报活动基本情况
    d.heading(SECTIONS[2])
    d.table([["申报活动名称", a.activity_name, None, None], ["服务领域", a.field, None, None],
             ["服务对象", a.target_group, None, None],
             ["活动开展时间", _period(a), "活动举办地点（请具体到社区）", a.place],
             ["项目整体预算", f"{_yuan(a.total_budget)}元", "申请活动资金", f"{_yuan(a.requested)}元"]],
            (1.2, 2, 1.4, 2), spans=[(1, 0, 3, 0), (1, 1, 3, 1), (1, 2, 3, 2)],
            labels=[(0, r) for r in range(5)] + [(2, 3), (2, 4)])
    _long(d, f"活动概述（{s['summary_max_chars']}字以内）", a.summary)
    # 三、具体活动计划
    d.heading(SECTIONS[3])
    for label, text in (("活动背景", a.background), ("需求分析", a.needs), ("活动目标（可实现、可量化、具体的）", a.goals),
                        ("活动内容", a.content)):
        _long(d, label, text)
    rows = [["具体服务推进计划", None, None, None, None, None], ["时间", "地点", "主题", "具体内容", "所需物资", "负责人"]]
    rows += [[r.when, r.place, r.theme, r.content, r.materials, r.person]
             for r in a.schedule.order_by(ScheduleRow.position)]
    d.table(rows, (1.2, 1.2, 1.2, 2.4, 1.2, 1), spans=[(0, 0, 5, 0)],
            labels=[(c, r) for r in (0, 1) for c in range(6)])
    rows = [["活动产出（指标名称及相应数量）", None], ["指标名称", "数量"]]
    rows += [[o.indicator, str(o.planned)] for o in a.outputs.order_by(Output.position)]
    d.table(rows, (3, 1), spans=[(0, 0, 1, 0)], labels=[(0, 0), (0, 1), (1, 1)])
    chosen = [m for m in a.evaluation_methods.split(",") if m]
    rows = [["服务成效评估方法", None], ["评估方式", "具体内容（请具体说明）"]]
    rows += [[("■" if m in chosen else "□") + METHODS_ZH[m], a.evaluation_other if m == "other" else ""]
             for m in EVALUATION_METHODS]
    d.table(rows, (1.5, 3), spans=[(0, 0, 1, 0)], labels=[(0, 0), (0, 1), (1, 1)])
    rows = [["活动预算", None, None, None, None, None, None],
            ["支出内容", "费用明细", "单价（元）", "数量", "金额（元）", "所占比例", "备注（注明具体用途及其他事项）"]]
    rows += [[g, det, _yuan(p), str(q), _yuan(amt), share, note] for g, det, p, q, amt, share, note in _budget_rows(a)]
    t = totals(a)
    rows.append(["合计", "", "", "", _yuan(t["total"]), _share(t["total"], a.requested), ""])
    d.table(rows, (1.6, 2, 1, 0.7, 1.1, 0.9, 1.8), spans=[(0, 0, 6, 0)],
            labels=[(c, r) for r in (0, 1) for c in range(7)] + [(0, len(rows) - 1)])
    d.para("备注：1. 活动经费不可用于购买固定资产，如办公设备、相机、电脑等；2. 不可用于工作人员工资、奖金、补贴等；"
           "3. 不可用于场地租赁费、管理费、对外投资、偿还债务、缴纳罚款等。", 9)
    return d.pdf()


def evaluation_pdf(a) -> bytes:
    """末期评估报告: outputs planned vs achieved, the evaluation methods and their results, the budget vs
    the money spent per line with the totals, the conclusion."""
    from .steps import evaluation
    ev = evaluation(a)
    d = _Doc("末期评估报告")
    d.para("末期评估报告", 20, center=True, after=10)
    d.table([["团队名称", a.team.name, "活动名称", a.activity_name],
             ["活动开展时间", _period(a), "状态", str(FLOW.label(a.status))]], (1, 2, 1, 2),
            labels=[(0, 0), (2, 0), (0, 1), (2, 1)])
    d.heading("一、活动产出（计划与实际）")
    rows = [["指标名称", "计划数量", "实际完成", "完成率"]]
    for name, planned, achieved in ev["outputs"]:
        rate = f"{achieved * 100 / planned:.0f}%" if achieved is not None and planned else ""
        rows.append([name, str(planned), "" if achieved is None else str(achieved), rate])
    d.table(rows, (3, 1, 1, 1), header=True)
    d.heading("二、服务成效评估方法及结果")
    chosen = [METHODS_ZH[m] for m in a.evaluation_methods.split(",") if m in METHODS_ZH]
    d.table([["评估方式", "、".join(chosen) + (f"（{a.evaluation_other}）" if a.evaluation_other else "")]],
            (1, 4), labels=[(0, 0)])
    _long(d, "评估结果", a.method_results)
    d.heading("三、经费使用（预算与实际支出）")
    rows = [["支出内容", "费用明细", "预算（元）", "实际支出（元）", "差额（元）"]]
    for ln, budget, spent in ev["lines"]:
        rows.append([str(CATEGORY_LABELS[ln.category]), ln.detail, _yuan(budget), _yuan(spent),
                     "" if spent is None else _yuan(budget - spent)])
    rows.append(["合计", "", _yuan(ev["budget"]), _yuan(ev["spent"]), _yuan(ev["budget"] - ev["spent"])])
    d.table(rows, (1.6, 2.4, 1, 1, 1), header=True, labels=[(0, len(rows) - 1)])
    d.heading("四、评估结论")
    _long(d, "结论", a.conclusion)
    return d.pdf()


def publicity_pdf(rows) -> bytes:
    """The 公示 list as a table document: activity, team, place, period, amount, end of the announcement."""
    from plugins.documents.services import Column, table_pdf
    cols = [Column("活动名称", 2.2), Column("团队", 1.6), Column("活动地点", 1.6), Column("活动开展时间", 2),
            Column("申请金额（元）", 1, align="RIGHT"), Column("公示截止", 1)]
    body = [(a.activity_name, a.team.name, a.place, _period(a), _yuan(a.requested),
             a.due_at.date().isoformat() if a.due_at else "") for a in rows]
    return table_pdf("资助项目合作公示", cols, body, empty_text="（目前没有公示中的项目）",
                     subtitle=f"公示期 {SETTINGS.get('publicity_workdays')} 个工作日，如有异议请在公示期内提出")


# ------------------------------------------------------------------------------------------------ XLSX
def application_xlsx(a) -> bytes:
    """The 申报书 on one sheet, its sections top to bottom like the template; every cell through
    ``core.exports`` (formula escaping), amounts as numbers of yuan through ``core.money``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    s = SETTINGS.all()
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "申报书"
    for col, w in zip("ABCDEFG", (22, 26, 14, 10, 14, 12, 30)):
        ws.column_dimensions[col].width = w

    def row(*values, font=None):
        r = exports.xlsx_append(ws, values)
        if font is not None:
            for c in range(1, len(values) + 1):
                ws.cell(row=r, column=c).font = font
        return r

    def amount_row(*values, amounts=()):
        r = row(*[None if i in amounts else v for i, v in enumerate(values)])
        for i in amounts:
            money.xlsx_put(ws, r, i + 1, values[i])
        return r

    leader = a.leader.name if a.leader_id else ""
    row(TITLE, font=Font(bold=True, size=14))
    row("编号", f"{a.id:06d}")
    row("团队名称", a.team.name)
    row("活动名称", a.activity_name)
    row("负责人", leader)
    row("申报日期", _submitted_on(a))
    row()
    row(SECTIONS[1], font=bold)
    row("负责人姓名", leader, "手机号码", mask_phone(a.leader_phone))
    row(f"团队成员（不得超过{s['max_members']}人）", font=bold)
    row("成员", "姓名", "活动分工", "具体负责内容", font=bold)
    for i, (name, duty, resp) in enumerate(_members(a), 1):
        row(f"成员 {i}", name, duty, resp)
    row()
    row(SECTIONS[2], font=bold)
    for label, value in (("申报活动名称", a.activity_name), ("服务领域", a.field), ("服务对象", a.target_group),
                         ("活动开展时间", _period(a)), ("活动举办地点", a.place)):
        row(label, value)
    amount_row("项目整体预算（元）", a.total_budget, amounts=(1,))
    amount_row("申请活动资金（元）", a.requested, amounts=(1,))
    row(f"活动概述（{s['summary_max_chars']}字以内）", a.summary)
    row()
    row(SECTIONS[3], font=bold)
    for label, text in (("活动背景", a.background), ("需求分析", a.needs), ("活动目标", a.goals),
                        ("活动内容", a.content)):
        row(label, text)
    row("具体服务推进计划", font=bold)
    row("时间", "地点", "主题", "具体内容", "所需物资", "负责人", font=bold)
    for r in a.schedule.order_by(ScheduleRow.position):
        row(r.when, r.place, r.theme, r.content, r.materials, r.person)
    row("活动产出", font=bold)
    row("指标名称", "数量", font=bold)
    for o in a.outputs.order_by(Output.position):
        row(o.indicator, o.planned)
    row("服务成效评估方法", font=bold)
    chosen = [m for m in a.evaluation_methods.split(",") if m]
    for m in EVALUATION_METHODS:
        row(("■" if m in chosen else "□") + METHODS_ZH[m], a.evaluation_other if m == "other" else "")
    row("活动预算", font=bold)
    row("支出内容", "费用明细", "单价（元）", "数量", "金额（元）", "所占比例", "备注", font=bold)
    for g, det, price, qty, amt, share, note in _budget_rows(a):
        amount_row(g, det, price, qty, amt, share, note, amounts=(2, 4))
    t = totals(a)
    amount_row("合计", "", None, None, t["total"], _share(t["total"], a.requested), "", amounts=(4,))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
