"""Demo partners and items (积分兑换): a community health station and a charity supermarket managed
by demo teams (when the teams demo is loaded) and one platform partner. Through the public services,
so the demo is what a real site would hold."""
from __future__ import annotations

# (partner, contact, team name or None, [(item, kind, price, stock, limit per volunteer, description)])
PARTNERS = [
    ("北京街社区卫生服务站", "王医生 020-83000000", "越秀区·北京街党员志愿服务队", [
        ("基础健康体检（血压、血糖、心电图）", "service", 20, 30, 1, "凭兑换凭证预约，工作日上午"),
        ("中医推拿理疗（30 分钟）", "service", 30, 20, 2, "需提前一天电话预约"),
    ]),
    ("五山街爱心超市", "李店长 020-87000000", "天河区·五山街党员志愿服务队", [
        ("大米 5 公斤", "goods", 15, 50, 2, "凭兑换凭证到店领取"),
        ("食用油 1.8 升", "goods", 12, 40, 2, ""),
        ("环保购物袋", "goods", 2, 200, None, ""),
    ]),
    ("广州公益时间银行", "平台服务热线", None, [
        ("志愿服务纪念徽章", "goods", 5, 100, 1, "社工站领取"),
    ]),
]


def load(app):
    from plugins.teams.models import Team
    from .models import Partner
    from .services import save_item, save_partner
    for name, contact, team_name, items in PARTNERS:
        if Partner.select().where(Partner.name == name).exists():
            continue
        team = Team.get_or_none(Team.name == team_name) if team_name else None
        p = save_partner({"name": name, "contact": contact, "team_id": team.id if team else None,
                          "description": "", "active": True})
        for item, kind, price, stock, limit, desc in items:
            save_item({"partner_id": p.id, "name": item, "kind": kind, "price": price, "stock": stock,
                       "per_volunteer_limit": limit, "description": desc, "active": True})
