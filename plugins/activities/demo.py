"""Demo activities: each demo team publishes upcoming activities and a training through the real
services (create → submit → platform review → publish), demo volunteers sign up, and one activity per
team has already taken place: its volunteers checked in and out, the organiser confirmed their hours
— so the time bank shows points and the forms have something to print.

The one step the services cannot take is moving an activity into the past (they refuse a start in
the past): the demo creates that activity a few days ahead, lets volunteers sign up, then moves its
dates back. Everything after that (sign-up, times, confirmation) is the real path.
"""
from __future__ import annotations

import datetime as _dt

DEMO_ACTIVITIES = [  # (title, category code, field code, description, party service)
    ("关爱独居长者上门探访", "category.poverty", "field.care", "探访社区独居长者，帮助打扫卫生、陪伴聊天、检查用电安全。", True),
    ("垃圾分类桶边督导", "category.clean_home", "field.environment", "在小区投放点指导居民正确分类投放，宣传垃圾分类知识。", False),
    ("党群服务中心微笑窗口值守", "category.smile_window", "field.civility", "在党群服务中心设置党员志愿服务岗，为居民提供咨询和指引。", True),
    ("社区长者智能手机学习班", "category.organise", "field.education", "一对一教长者使用智能手机：健康码、视频通话、防范电信诈骗。", False),
]
PAST_TITLE = "周末社区环境清洁行动"


def _cats():
    from .models import Category
    return {c.code: c for c in Category.select()}


def _pick(cats, code, kind):
    c = cats.get(code)
    if c is None:
        c = next(c for c in cats.values() if c.kind == kind)
    return c.id


def load(app):
    from core.db import now
    from plugins.teams.models import Membership, Team
    from plugins.teams.demo import TEAMS
    from plugins.volunteers.models import Volunteer

    from . import services as s
    from .models import Activity, Shift

    cats = _cats()
    teams = [t for t in (Team.get_or_none(Team.name == row[0]) for row in TEAMS[:3]) if t is not None]
    base = now().replace(minute=0, second=0, microsecond=0)
    for n, team in enumerate(teams):
        members = list(Volunteer.select().join(Membership, on=(Membership.volunteer == Volunteer.id)).where(
            (Membership.team == team.id) & (Membership.status == "approved")).order_by(Volunteer.id).limit(12))
        common = {"address": f"{team.district}示例路{n + 1}号社区党群服务中心", "contact_name": f"示例联系人{n + 1}",
                  "contact_phone": f"1380000{9100 + n:04d}", "district": team.district}
        made = []
        for i, (title, cat, fld, desc, party) in enumerate(DEMO_ACTIVITIES):
            if (n + i) % 3 == 2:
                continue
            start = (base + _dt.timedelta(days=3 + 2 * i + n)).replace(hour=9)
            data = dict(common, title=title, description=desc, category=_pick(cats, cat, "category"),
                        field=_pick(cats, fld, "field"), is_party_service="1" if party else "")
            a = s.create_activity(team, data, [
                {"starts_at": start, "ends_at": start + _dt.timedelta(hours=3), "capacity": 8,
                 "volunteer_type": "一般志愿者"},
                {"starts_at": start + _dt.timedelta(hours=4), "ends_at": start + _dt.timedelta(hours=6),
                 "capacity": 4, "volunteer_type": "专业志愿者"}])
            a = s.publish(s.review(s.submit(a), approve=True, reason="演示数据"))
            made.append(a)
        # a training, waiting for the organiser's confirmation of sign-ups
        start = (base + _dt.timedelta(days=6 + n)).replace(hour=14)
        t = s.create_activity(team, dict(common, title="新志愿者岗前培训", description="志愿服务理念、服务礼仪与安全须知。",
                                         category=_pick(cats, "training.general", "training"), auto_confirm=""),
                              [{"starts_at": start, "ends_at": start + _dt.timedelta(hours=2), "capacity": 20,
                                "volunteer_type": "新志愿者"}], kind="training")
        s.publish(s.review(s.submit(t), approve=True, reason="演示数据"))
        for v, a in zip(members[:6], made * 3):
            shift = Shift.select().where(Shift.activity == a).order_by(Shift.starts_at).first()
            try:
                s.sign_up(v, shift)
            except s.ActivityError:
                pass
        # the activity that already took place
        start = (base + _dt.timedelta(days=2)).replace(hour=8)
        past = s.create_activity(team, dict(common, title=PAST_TITLE, description="清理楼道杂物与绿化带垃圾，美化社区环境。",
                                            category=_pick(cats, "category.clean_home", "category"),
                                            field=_pick(cats, "field.environment", "field")),
                                 [{"starts_at": start, "ends_at": start + _dt.timedelta(hours=4), "capacity": 10,
                                   "volunteer_type": "一般志愿者"}])
        past = s.publish(s.review(s.submit(past), approve=True, reason="演示数据"))
        shift = Shift.get(Shift.activity == past.id)
        signed = []
        for v in members[:8]:
            try:
                su = s.sign_up(v, shift)
            except s.ActivityError:
                continue
            if su.status == "confirmed":
                signed.append(su)
        back = _dt.timedelta(days=9 + n)
        for sh in list(Shift.select().where(Shift.activity == past.id)):
            Shift.update(starts_at=sh.starts_at - back, ends_at=sh.ends_at - back).where(Shift.id == sh.id).execute()
        s.refresh_totals(Activity.get_by_id(past.id))
        shift = Shift.get(Shift.activity == past.id)
        done = []
        for k, su in enumerate(signed):
            s.correct_times(su, shift.starts_at + _dt.timedelta(minutes=5 * (k % 3)),
                            shift.ends_at - _dt.timedelta(minutes=30 * (k % 2)), reason="演示数据：扫码签到签退")
            done.append(su.id)
        s.finish_due(shift.ends_at + _dt.timedelta(minutes=1))
        past = Activity.get_by_id(past.id)
        if done:
            s.submit_outcome(past, served_count=60 + 10 * n, beneficiary_types="社区居民、长者",
                             summary="清理楼道杂物二十余处，居民反响良好。", recorder=f"示例联系人{n + 1}")
            s.confirm_hours(past, {sid: None for sid in done})
