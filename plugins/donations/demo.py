"""Demo data (示例…): one open campaign and two people in need for the first approved demo team,
through the public services. No points are minted here: points come only from confirmed hours."""
from __future__ import annotations

import datetime as _dt


def load():
    from core.db import today
    from plugins.teams.models import Team

    from . import services
    from .models import Beneficiary, Campaign

    team = Team.select().where(Team.status == "approved").order_by(Team.id).first()
    if team is None or Campaign.select().exists() or Beneficiary.select().exists():
        return
    services.create_beneficiary(team, name="示例·西湖社区独居长者张阿姨", category="elderly",
                                description="示例：行动不便，需要上门送餐和陪同就医服务。")
    services.create_beneficiary(team, name="示例·都府社区四点半课堂", category="group",
                                description="示例：社区儿童放学后的托管与学业辅导。")
    c = services.create_campaign(team, title="示例·长者饭堂爱心餐积分募集",
                                 purpose="示例：募集时间积分，申请兑换社区长者饭堂爱心餐 200 份。",
                                 goal=200, deadline=today() + _dt.timedelta(days=30))
    services.open_campaign(c)
