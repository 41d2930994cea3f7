"""Public API of the activity_forms plugin: the paper forms of one activity (R-ACT-10, R-ACT-11).

- ``signin_sheet``     — 附录四 党员志愿服务活动套表（1）—签到表, PDF and XLSX: the confirmed volunteers and
                         blank numbered rows to sign on paper; phones masked unless ``full`` (PR5);
- ``feedback_form``    — 附录四 套表（2）—活动反馈表, the blank form to print, PDF;
- ``feedback_results`` — the answers of 套表（2）: per-item averages, count, average overall score, PDF/XLSX;
- ``activity_record``  — 附录五 党员志愿服务活动记录表格 with up to ``MAX_PHOTOS`` photos, PDF;
- ``training_record``  — 附录七 社区党员志愿者培训记录表 (trainings only), PDF;
- ``staffing_chart``   — the assignment chart of R-ACT-10: posts, volunteers, specialties, newcomer–veteran
                         pairs, PDF and XLSX.

Who gets what: ``find_activity`` reaches an activity only through ``core.security.scoped`` (the activities
plugin limits a team admin to their team tree, AC6) and every document needs its permission on that
activity (``core.security.can(perm, activity)``). Every export is audited (``export``; an unmasked one
``pii.exported``, without the personal data). The forms are Chinese official forms: their titles,
headings and labels are the handbook's own words; the messages around them are translated.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from core import audit, inputs, security
from core.db import TZ
from core.pii import mask_phone
from plugins.activities import services as activities
from plugins.activities.models import Activity, Feedback, Photo, ServiceRecord, Shift, SignUp
from plugins.documents.services import Cell, Column, Para, form_pdf, table_pdf, table_xlsx
from plugins.volunteers.models import Volunteer

SIGNIN_TITLE = "党员志愿服务活动套表（1）—签到表"
FEEDBACK_TITLE = "党员志愿服务活动套表（2）—活动反馈表"
FEEDBACK_RESULTS_TITLE = "党员志愿服务活动反馈表统计"
RECORD_TITLE = "党员志愿服务活动记录表格"
TRAINING_TITLE = "社区党员志愿者培训记录表"
STAFFING_TITLE = "党员志愿服务活动岗位安排表"

SENSITIVE = "volunteers.volunteer.sensitive"
MAX_PHOTOS = 4
SIGNIN_MIN_ROWS = 12      # the handbook's sheet has 12 numbered rows
SIGNIN_BLANK_ROWS = 5     # room for walk-ins below the confirmed volunteers
MAX_ROWS = 2000           # one request builds the whole file

# 套表（2）as printed: sections, their 5-point items (codes of activities.views.FEEDBACK_ITEMS)
FEEDBACK_SECTIONS = [
    ("一、安排方面：", [("venue", "1. 场地设备方面：")]),
    ("二、内容及手法方面：", [("fit", "1. 内容切合需要："), ("rich", "2. 内容充实："),
                        ("inspiring", "3. 内容有启发性："), ("method", "4. 手法有效：")]),
    ("三、工作人员方面：", [("mastery", "1. 对内容的掌握程度："), ("preparation", "2. 准备工作："),
                      ("learning", "3. 促进学习方面："), ("expression", "4. 表达能力方面：")]),
    ("四、总的来说，本次活动在", [("theme", "1. 让我对活动主题的认识方面："),
                         ("knowledge", "2. 增强我相关知识/能力方面："),
                         ("future", "3. 帮助我日后学习/生活/工作方面：")]),
]
DURATION_CHOICES = ("太长", "适中", "太短")
DESIGN_CHOICES = ("很好", "普通", "不好")
BLANK = "＿＿＿＿＿＿＿＿＿＿"


class FormError(Exception):
    """The request cannot be served; ``code`` is the HTTP status a view answers with."""

    def __init__(self, message, code: int = 400):
        super().__init__(str(message))
        self.message, self.code = message, code


@dataclass
class Document:
    data: bytes
    filename: str          # Chinese, for filename*
    fallback: str          # ASCII, for old browsers
    rows: int = 0
    full: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class DocType:
    key: str
    title: str             # the handbook's title (content, not translated)
    button: object         # the admin's button label (translated)
    permission: str
    formats: tuple
    kinds: tuple = ("service", "training")
    maskable: bool = False


DOCS = {d.key: d for d in [
    DocType("signin", SIGNIN_TITLE, _l("Sign-in sheet"), "activities.signup.export", ("pdf", "xlsx"),
            maskable=True),
    DocType("feedback_form", FEEDBACK_TITLE, _l("Feedback form (blank)"), "activities.activity.view", ("pdf",)),
    DocType("feedback_results", FEEDBACK_RESULTS_TITLE, _l("Feedback results"), "activities.feedback.export",
            ("pdf", "xlsx")),
    DocType("record", RECORD_TITLE, _l("Activity record"), "activities.activity.export", ("pdf",),
            kinds=("service",)),
    DocType("training_record", TRAINING_TITLE, _l("Training record"), "activities.activity.export", ("pdf",),
            kinds=("training",)),
    DocType("staffing", STAFFING_TITLE, _l("Staffing chart"), "activities.signup.export", ("pdf", "xlsx")),
]}


# ----------------------------------------------------------------------------------- scope
def find_activity(user, raw) -> Activity:
    """The activity ``raw`` names if ``user`` may see it (a team admin: their own team tree only), else
    FormError(404), audited — another team's activity looks exactly like a missing one (AC6)."""
    s = str(raw or "").strip()
    a = None
    if (n := inputs.parse_id(s)) is not None:
        a = security.scoped(Activity, Activity.select().where(Activity.id == n),
                            "activities.activity.view", user=user).first()
    if a is None or not security.can("activities.activity.view", a, user=user):
        audit.log("access.denied", ("activities_activity", s[:64]), {"document": "activity_forms"}, user=user)
        raise FormError(_l("No such activity."), 404)
    return a


def available(user, activity: Activity) -> list[DocType]:
    """The documents ``user`` may print for ``activity`` (for the buttons)."""
    return [d for d in DOCS.values()
            if activity.kind in d.kinds and security.can(d.permission, activity, user=user)]


def may_see_full(user, activity: Activity | None = None) -> bool:
    return security.can(SENSITIVE, user=user)


# the archives plugin files an activity's forms without a person asking (R-ARC-2): masked values only,
# in process (never from a request), audited as ``export`` with ``"for": "archives"`` (archive.py)
FOR_ARCHIVE = object()


def check(user, activity: Activity, doc: str, fmt: str, *, full: bool = False) -> DocType:
    """Raise FormError unless ``user`` may have ``doc`` of ``activity`` as ``fmt`` (and full values)."""
    d = DOCS.get(doc)
    if d is None or fmt not in d.formats or activity.kind not in d.kinds:
        raise FormError(_l("No such form."), 404)
    if user is FOR_ARCHIVE and not full:
        return d
    if not security.can(d.permission, activity, user=user):
        audit.log("access.denied", activity, {"permission": d.permission, "document": doc}, user=user)
        raise FormError(_l("Access denied"), 403)
    if full and (not d.maskable or not may_see_full(user, activity)):
        audit.log("access.denied", activity, {"permission": SENSITIVE, "document": doc}, user=user)
        raise FormError(_l("You may not export full phone numbers."), 403)
    return d


def _audit(user, activity: Activity, doc: str, fmt: str, rows: int, *, full: bool = False,
           fields: list[str] | None = None):
    """``export`` for every download; ``pii.exported`` when unmasked (PR5): which document, format,
    how many rows and which fields — never the values."""
    details = {"document": doc, "format": fmt, "activity": activity.id, "rows": rows}
    if user is FOR_ARCHIVE:
        user, details["for"] = None, "archives"
    if full:
        details["fields"] = fields or []
    audit.log("pii.exported" if full else "export", activity, details, user=user)


# ----------------------------------------------------------------------------------- text helpers
def local(t: _dt.datetime | None) -> _dt.datetime | None:
    if t is None:
        return None
    return t.astimezone(TZ) if t.tzinfo else t


def cn_date(d) -> str:
    if d is None:
        return ""
    if isinstance(d, _dt.datetime):
        d = local(d).date()
    return f"{d.year}年{d.month}月{d.day}日"


def cn_period(start, end) -> str:
    """2026年10月12日 09:00—12:00 (or both dates when it runs over midnight)."""
    s, e = local(start), local(end)
    if s is None:
        return ""
    out = f"{cn_date(s)} {s:%H:%M}"
    if e is None:
        return out
    return out + (f"—{e:%H:%M}" if e.date() == s.date() else f"—{cn_date(e)} {e:%H:%M}")


def place(a: Activity) -> str:
    if a.district and not (a.address or "").startswith(a.district) and a.district not in (a.address or ""):
        return f"{a.district}{a.address}"
    return a.address or a.district or ""


def organiser(a: Activity) -> str:
    """主办单位: the team (with its organisation when that is another name)."""
    t = a.team
    if t.organisation and t.organisation not in t.name:
        return f"{t.organisation} {t.name}"
    return t.name


def _stamp(a: Activity) -> str:
    s = local(a.starts_at)
    return f"{s:%Y%m%d}" if s else str(a.id)


# ----------------------------------------------------------------------------------- participants
def confirmed_signups(a: Activity) -> list[SignUp]:
    """Confirmed sign-ups of ``a`` with their volunteers and slots, erased volunteers left out, in the
    order of the slots and of arrival."""
    q = (SignUp.select(SignUp, Volunteer, Shift).join(Volunteer).switch(SignUp).join(Shift)
         .where((SignUp.activity == a) & (SignUp.status == "confirmed") & (Volunteer.status != "erased"))
         .order_by(Shift.starts_at, SignUp.id))
    return list(q.limit(MAX_ROWS + 1))


def _unique_volunteers(signups: list[SignUp]) -> list[Volunteer]:
    seen, out = set(), []
    for s in signups:
        if s.volunteer_id not in seen:
            seen.add(s.volunteer_id)
            out.append(s.volunteer)
    return out


def participants(a: Activity) -> list[Volunteer]:
    """服务参加人员: those with confirmed hours or a check-in; before anyone checked in (paper sign-in),
    every confirmed volunteer."""
    signups = confirmed_signups(a)
    recorded = set(ServiceRecord.select(ServiceRecord.signup).where(ServiceRecord.activity == a).tuples())
    recorded = {r[0] for r in recorded}
    came = [s for s in signups if s.check_in_at is not None or s.id in recorded]
    return _unique_volunteers(came or signups)


def _too_many():
    return FormError(_l("This activity has more than %(max)s confirmed volunteers, too many for one file.",
                        max=MAX_ROWS), 400)


# ----------------------------------------------------------------------------------- 附录四 套表（1）
SIGNIN_COLUMNS = [Column("序号", 0.7, 6, "CENTER"), Column("姓名", 1.4, 12, "CENTER"), Column("住址", 3.0, 34),
                  Column("联系方式", 1.9, 16, "CENTER"), Column("工作单位", 3.0, 30)]


def signin_rows(a: Activity, *, full: bool = False) -> list[list]:
    vols = _unique_volunteers(confirmed_signups(a))
    if len(vols) > MAX_ROWS:
        raise _too_many()
    rows = [[i, v.name, v.address, v.phone if full else mask_phone(v.phone), v.employer]
            for i, v in enumerate(vols, 1)]
    total = max(SIGNIN_MIN_ROWS, len(rows) + SIGNIN_BLANK_ROWS)
    rows += [[i, "", "", "", ""] for i in range(len(rows) + 1, total + 1)]
    return rows


def signin_sheet(user, a: Activity, fmt: str = "pdf", *, full: bool = False) -> Document:
    check(user, a, "signin", fmt, full=full)
    rows = signin_rows(a, full=full)
    filled = sum(1 for r in rows if r[1])
    if fmt == "xlsx":
        fields = [("活动主题", a.title), ("主办单位", organiser(a)), ("活动负责人", a.contact_name),
                  ("活动地点", place(a)), ("活动时间", cn_period(a.starts_at, a.ends_at))]
        data = table_xlsx(SIGNIN_TITLE, SIGNIN_COLUMNS, rows, fields=fields, sheet_title="签到表",
                          landscape=False)
    else:
        # the handbook's sheet is one table: three lines of activity data above the numbered rows
        L = lambda text, span=1: Cell(text, span=span, label=True)  # noqa: E731
        grid = [[L("活动主题", 2), Cell(a.title, span=3)],
                [L("主办单位", 2), Cell(organiser(a)), L("活动负责人"), Cell(a.contact_name)],
                [L("活动地点", 2), Cell(place(a)), L("活动时间"), Cell(cn_period(a.starts_at, a.ends_at))],
                [L(c.title) for c in SIGNIN_COLUMNS]]
        for r in rows:
            grid.append([Cell(str(r[0]), align="CENTER"), Cell(r[1], align="CENTER"), Cell(r[2]),
                         Cell(r[3], align="CENTER"), Cell(r[4], min_height=7)])
        data = form_pdf(SIGNIN_TITLE, grid, columns=[c.weight for c in SIGNIN_COLUMNS])
    _audit(user, a, "signin_sheet", fmt, filled, full=full, fields=["phone"])
    return Document(data, f"签到表_{a.title[:30]}_{_stamp(a)}.{fmt}", f"signin-sheet-{a.id}.{fmt}",
                    rows=filled, full=full)


# ----------------------------------------------------------------------------------- 附录四 套表（2）
def _boxes(n=5):
    return [Cell([Para("□", "CENTER", 12.5)]) for _ in range(n)]


def feedback_grid(a: Activity | None) -> list[list[Cell]]:
    """套表（2） as the handbook lays it out: four sections of 5-point items (极好 … 极差), the two
    choices of 安排方面 with room for suggestions, 意见及回响 and the 10-point score."""
    L = lambda text, span=1, **kw: Cell(text, span=span, label=True, **kw)  # noqa: E731
    scale = [L("极好"), L(""), L(""), L(""), L("极差")]
    grid: list[list[Cell]] = []
    for k, (section, items) in enumerate(FEEDBACK_SECTIONS):
        grid.append([Cell(section, align="LEFT", label=True)] + scale)
        for _code, label in items:
            grid.append([Cell(label)] + _boxes())
        if k == 0:
            grid.append([Cell("2. 活动的时间：\n□ 太长　□ 适中　□ 太短"), Cell("建议：", span=5)])
            grid.append([Cell("3. 活动设计：\n□ 很好　□ 普通　□ 不好"), Cell("建议：", span=5)])
            grid.append([Cell("4. 其它意见：", span=6, min_height=12)])
        elif k == 1:
            grid.append([Cell("5. 其它意见：", span=6, min_height=12)])
        elif k == 2:
            grid.append([Cell("5. 其它：", span=6, min_height=12)])
    grid.append([Cell("五、意见及回响：", span=6, min_height=24)])
    grid.append([Cell("六、如果满分是 10 分，我会给这个活动＿＿＿＿分。（完）", span=6)])
    return grid


def feedback_form(user, a: Activity, fmt: str = "pdf") -> Document:
    check(user, a, "feedback_form", fmt)
    s = local(a.starts_at)
    when = f"{s.year}年{s.month}月{s.day}日" if s else "　　　　年　　月　　日"
    data = form_pdf(FEEDBACK_TITLE, feedback_grid(a), columns=[5.2, 0.9, 0.9, 0.9, 0.9, 0.9],
                    fields=[("活动名称", f"{a.title}（{when}）")], font_size=10)
    _audit(user, a, "feedback_form", fmt, 0)
    return Document(data, f"活动反馈表_{a.title[:30]}.{fmt}", f"feedback-form-{a.id}.{fmt}")


FEEDBACK_COLUMNS = [Column("序号", 0.6, 6, "CENTER"), Column("方面", 1.8, 24), Column("项目", 3.0, 34),
                    Column("平均分（1=极好 … 5=极差）", 1.6, 16, "CENTER"), Column("作答份数", 1.0, 10, "CENTER")]


def feedback_summary(a: Activity) -> dict:
    """``activities.services.feedback_averages`` plus, per item, how many answered it and the tallies
    of the two choices (活动的时间, 活动设计)."""
    avg = activities.feedback_averages(a)
    answered: dict[str, int] = {}
    duration = dict.fromkeys(DURATION_CHOICES, 0)
    design = dict.fromkeys(DESIGN_CHOICES, 0)
    for items, dur, des in Feedback.select(Feedback.items, Feedback.duration, Feedback.design).where(
            Feedback.activity == a).tuples():
        for k in json.loads(items or "{}"):
            answered[k] = answered.get(k, 0) + 1
        if dur in duration:
            duration[dur] += 1
        if des in design:
            design[des] += 1
    return {**avg, "answered": answered, "duration": duration, "design": design}


def feedback_rows(summary: dict) -> list[list]:
    rows, i = [], 0
    for section, items in FEEDBACK_SECTIONS:
        for code, label in items:
            i += 1
            value = summary["items"].get(code)
            rows.append([i, section.rstrip("："), label.split(". ", 1)[-1].rstrip("："),
                         value if value is not None else "—", summary["answered"].get(code, 0)])
    tally = lambda d: "　".join(f"{k} {v}" for k, v in d.items())  # noqa: E731
    rows.append(["", "一、安排方面", "活动的时间：" + tally(summary["duration"]), "",
                 sum(summary["duration"].values())])
    rows.append(["", "一、安排方面", "活动设计：" + tally(summary["design"]), "", sum(summary["design"].values())])
    rows.append(["", "六、总评", "总评平均分（满分 10 分）",
                 summary["overall"] if summary["overall"] is not None else "—", ""])
    rows.append(["", "合计", "反馈份数", summary["count"], ""])
    return rows


def feedback_results(user, a: Activity, fmt: str = "pdf") -> Document:
    check(user, a, "feedback_results", fmt)
    summary = feedback_summary(a)
    rows = feedback_rows(summary)
    overall = summary["overall"] if summary["overall"] is not None else "—"
    fields = [("活动名称", a.title), ("活动时间", cn_date(a.starts_at)), ("反馈份数", summary["count"]),
              ("总评平均分", overall)]
    maker = table_xlsx if fmt == "xlsx" else table_pdf
    kw = {"sheet_title": "反馈统计"} if fmt == "xlsx" else {}
    data = maker(FEEDBACK_RESULTS_TITLE, FEEDBACK_COLUMNS, rows, fields=fields, landscape=False, **kw)
    _audit(user, a, "feedback_results", fmt, summary["count"])
    return Document(data, f"活动反馈统计_{a.title[:30]}.{fmt}", f"feedback-results-{a.id}.{fmt}",
                    rows=summary["count"], extra=summary)


# ----------------------------------------------------------------------------------- 附录五 / 附录七
def _photos(a: Activity, limit: int = MAX_PHOTOS) -> list[tuple[bytes, int, int, str]]:
    """Up to ``limit`` photos of ``a`` as (JPEG bytes, width, height, caption), scaled down for print;
    a missing or unreadable file is skipped."""
    from PIL import Image
    from plugins.activities.photos import path_of
    out = []
    for p in Photo.select().where(Photo.activity == a).order_by(Photo.id).limit(limit):
        try:
            with Image.open(path_of(p)) as img:
                img = img.convert("RGB")
                img.thumbnail((1200, 1200))
                buf = io.BytesIO()
                img.save(buf, format="JPEG", quality=82)
                out.append((buf.getvalue(), img.width, img.height, p.caption))
        except (OSError, ValueError):
            continue
    return out


def _label(text, span=1, rowspan=1):
    return Cell(text, span=span, rowspan=rowspan, label=True)


def activity_record(user, a: Activity, fmt: str = "pdf") -> Document:
    """附录五 党员志愿服务活动记录表格, filled from the activity and its outcome (R-ACT-8)."""
    check(user, a, "record", fmt)
    from .pdf import Photos, grid_pdf
    people = participants(a)
    L = _label
    grid = [
        [L("活动时间"), Cell(cn_period(a.starts_at, a.ends_at)), L("活动地点"), Cell(place(a))],
        [L("活动主题"), Cell(a.title), L("主办单位"), Cell(organiser(a))],
        [L("服务参加人数"), Cell(str(len(people))), L("记录人"), Cell(a.recorder)],
        [L("服务参加人员"), Cell("、".join(v.name for v in people), min_height=12)],
        [L("服务对象类型"), Cell(a.beneficiary_types),
         L("服务人次"), Cell("" if a.served_count is None else str(a.served_count))],
        [L("活动内容"), Cell(a.description, min_height=40)],
        [L("活动图片"), Cell(Photos(_photos(a)), min_height=45)],
        [L("活动总结"), Cell(a.summary, min_height=40)],
    ]
    data = grid_pdf(RECORD_TITLE, grid, columns=[1.3, 2.3, 1.3, 2.3])
    _audit(user, a, "activity_record", fmt, len(people))
    return Document(data, f"活动记录表_{a.title[:30]}_{_stamp(a)}.{fmt}", f"activity-record-{a.id}.{fmt}",
                    rows=len(people))


def training_record(user, a: Activity, fmt: str = "pdf") -> Document:
    """附录七 社区党员志愿者培训记录表 of a training (kind == "training"). 培训导师 is left for the pen:
    an activity does not record its trainer."""
    check(user, a, "training_record", fmt)
    from .pdf import Photos, grid_pdf
    people = participants(a)
    L = _label
    grid = [
        [L("培训概况", rowspan=3), L("培训主题"), Cell(a.title), L("培训导师"), Cell("")],
        [L("培训地点"), Cell(place(a)), L("培训时间"), Cell(cn_period(a.starts_at, a.ends_at))],
        [L("培训人员"), Cell("、".join(v.name for v in people)), L("培训人数"), Cell(str(len(people)))],
        [L("培训内容（要点）"), Cell(a.description, min_height=45)],
        [L("培训图片"), Cell(Photos(_photos(a)), min_height=45)],
        [L("培训小结"), Cell(a.summary, min_height=40)],
    ]
    done = a.outcome_submitted_at
    data = grid_pdf(TRAINING_TITLE, grid, columns=[1.1, 1.2, 2.1, 1.2, 2.1], signatures=[
        ("记录员", a.recorder), ("整理时间", cn_date(done) if done else "　　　　年　　月　　日")])
    _audit(user, a, "training_record", fmt, len(people))
    return Document(data, f"培训记录表_{a.title[:30]}_{_stamp(a)}.{fmt}", f"training-record-{a.id}.{fmt}",
                    rows=len(people))


# ----------------------------------------------------------------------------------- R-ACT-10 staffing
STAFFING_COLUMNS = [Column("序号", 0.6, 6, "CENTER"), Column("岗位", 1.8, 18), Column("姓名", 1.2, 12, "CENTER"),
                    Column("志愿者类型 / 时段", 2.2, 24), Column("特长", 2.0, 22),
                    Column("经验", 1.3, 14, "CENTER"), Column("新老结对", 2.2, 26),
                    Column("联系方式", 1.5, 15, "CENTER")]
UNASSIGNED = "（未分配）"


def staffing_rows(a: Activity) -> list[list]:
    """One row per confirmed sign-up, by slot and post: the volunteer, their specialties, their experience
    (confirmed service records before; none = 新手) and their pair — a newcomer's experienced partner
    (SignUp.mentor), a veteran's newcomers. Phones are always masked here."""
    signups = confirmed_signups(a)
    if len(signups) > MAX_ROWS:
        raise _too_many()
    exp = activities.experience({s.volunteer_id for s in signups}) if signups else {}
    by_id = {s.id: s for s in signups}
    mentees: dict[int, list[str]] = {}
    for s in signups:
        if s.mentor_id in by_id:
            mentees.setdefault(s.mentor_id, []).append(s.volunteer.name)
    signups.sort(key=lambda s: (s.shift.starts_at, s.shift_id, s.post == "", s.post, s.id))
    rows = []
    for i, s in enumerate(signups, 1):
        n = exp.get(s.volunteer_id, 0)
        sh = s.shift
        slot = " ".join(x for x in (sh.volunteer_type, cn_period(sh.starts_at, sh.ends_at)) if x)
        pair = []
        if s.mentor_id in by_id:
            pair.append(f"由 {by_id[s.mentor_id].volunteer.name} 带领")
        if s.id in mentees:
            pair.append("带领 " + "、".join(mentees[s.id]))
        rows.append([i, s.post or UNASSIGNED, s.volunteer.name, slot, s.volunteer.specialties,
                     "新手" if n == 0 else f"已服务 {n} 次", "；".join(pair), mask_phone(s.volunteer.phone)])
    return rows


def staffing_chart(user, a: Activity, fmt: str = "pdf") -> Document:
    check(user, a, "staffing", fmt)
    rows = staffing_rows(a)
    fields = [("活动主题", a.title), ("活动时间", cn_period(a.starts_at, a.ends_at)), ("活动地点", place(a))]
    signatures = [("活动负责人", a.contact_name), ("日期", "　　　　年　　月　　日")]
    maker = table_xlsx if fmt == "xlsx" else table_pdf
    kw = {"sheet_title": "岗位安排"} if fmt == "xlsx" else {}
    data = maker(STAFFING_TITLE, STAFFING_COLUMNS, rows, fields=fields, signatures=signatures, **kw)
    _audit(user, a, "staffing_chart", fmt, len(rows))
    return Document(data, f"岗位安排表_{a.title[:30]}_{_stamp(a)}.{fmt}", f"staffing-{a.id}.{fmt}",
                    rows=len(rows))


BUILDERS = {"signin": signin_sheet, "feedback_form": feedback_form, "feedback_results": feedback_results,
            "record": activity_record, "training_record": training_record, "staffing": staffing_chart}


def build(user, a: Activity, doc: str, fmt: str, *, full: bool = False) -> Document:
    """The document ``doc`` of ``a`` for ``user`` (FormError when it may not be had)."""
    if doc not in BUILDERS:
        raise FormError(_l("No such form."), 404)
    if full:
        if not DOCS[doc].maskable:
            raise FormError(_l("No such form."), 404)
        return BUILDERS[doc](user, a, fmt, full=True)
    return BUILDERS[doc](user, a, fmt)
