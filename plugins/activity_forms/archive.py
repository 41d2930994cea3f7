"""What an activity's 活动档案 holds (R-ARC-2, R-ACT-11), for the archives plugin's declared hook
``archive_documents(activity)``: the plan, the recruitment notice, the sign-in sheet (masked phones), the
activity record (附录五, with the outcome), the outcome text, the hours list and the photos — built from
what the activities plugin holds, without anyone typing."""
from __future__ import annotations

from plugins.activities.models import Activity, Photo, ServiceRecord, Shift
from plugins.documents.services import Cell, Column, form_pdf, table_pdf

from . import services as S


def _item(title, filename, data, content_type="application/pdf"):
    return {"title": title, "filename": filename, "data": data, "content_type": content_type}


def plan_pdf(a: Activity) -> bytes:
    L = lambda t: Cell(t, label=True)            # noqa: E731
    grid = [[L("活动主题"), Cell(a.title, span=3)],
            [L("活动时间"), Cell(S.cn_period(a.starts_at, a.ends_at)), L("活动地点"), Cell(S.place(a))],
            [L("主办单位"), Cell(S.organiser(a)), L("联系人"), Cell(a.contact_name)],
            [L("活动内容"), Cell(a.description, span=3, min_height=50)],
            [L("更多介绍"), Cell(a.more_info, span=3, min_height=30)]]
    return form_pdf("活动策划方案", grid, columns=[1.2, 2.4, 1.2, 2.4])


def notice_pdf(a: Activity) -> bytes:
    shifts = list(Shift.select().where(Shift.activity == a).order_by(Shift.id))
    cols = [Column("岗位/时段", 3), Column("开始", 2), Column("结束", 2), Column("招募人数", 1, align="RIGHT")]
    rows = [[s.volunteer_type or f"时段{i}", S.local(s.starts_at).strftime("%Y-%m-%d %H:%M"),
             S.local(s.ends_at).strftime("%Y-%m-%d %H:%M"), str(s.capacity)] for i, s in enumerate(shifts, 1)]
    return table_pdf("志愿者招募通知", cols, rows, landscape=False,
                     fields=[("活动主题", a.title), ("活动地点", S.place(a)),
                             ("活动时间", S.cn_period(a.starts_at, a.ends_at)), ("联系人", a.contact_name)])


def hours_pdf(a: Activity) -> bytes:
    recs = list(ServiceRecord.select().where(ServiceRecord.activity == a).order_by(ServiceRecord.id))
    cols = [Column("序号", 0.6, align="CENTER"), Column("姓名", 2), Column("服务日期", 1.6, align="CENTER"),
            Column("服务时数（小时）", 1.4, align="RIGHT")]
    rows = [[str(i), r.volunteer.name, r.service_date.isoformat(), f"{r.minutes / 60:.2f}"]
            for i, r in enumerate(recs, 1)]
    return table_pdf("服务时数清单", cols, rows, landscape=False, fields=[("活动主题", a.title)])


def photo_bytes(p: Photo) -> bytes | None:
    """The photo as published (R-PRIV-3): ``plugins.activities.photos.published_bytes`` — the original, or
    the copy with the faces blurred for a photo showing service recipients who did not all consent; None
    (not filed) when the photo is not published. The private original is never filed."""
    from plugins.activities import photos
    return photos.published_bytes(p)


def documents(a: Activity) -> list[dict]:
    out = [_item("活动策划方案", f"活动策划方案_{a.id}.pdf", plan_pdf(a)),
           _item("志愿者招募通知", f"招募通知_{a.id}.pdf", notice_pdf(a))]
    if "signin" in S.DOCS and a.kind in S.DOCS["signin"].kinds:
        out.append(_item("签到表", f"签到表_{a.id}.pdf", S.signin_sheet(S.FOR_ARCHIVE, a, "pdf").data))
    if a.kind == "service":
        out.append(_item("活动记录表", f"活动记录表_{a.id}.pdf", S.activity_record(S.FOR_ARCHIVE, a, "pdf").data))
    elif a.kind == "training":
        out.append(_item("培训记录表", f"培训记录表_{a.id}.pdf", S.training_record(S.FOR_ARCHIVE, a, "pdf").data))
    if (a.summary or "").strip():
        out.append(_item("活动总结", f"活动总结_{a.id}.txt", a.summary.encode("utf-8"), "text/plain; charset=utf-8"))
    out.append(_item("服务时数清单", f"服务时数清单_{a.id}.pdf", hours_pdf(a)))
    for i, p in enumerate(Photo.select().where(Photo.activity == a).order_by(Photo.id), 1):
        data = photo_bytes(p)
        if data:
            ext = "png" if "png" in p.content_type else "jpg"
            out.append(_item(p.caption or f"活动照片{i}", f"活动照片_{a.id}_{i}.{ext}", data, p.content_type))
    return out
