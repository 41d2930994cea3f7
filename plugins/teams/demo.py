"""Demo teams (issue 3 point 7): a few districts' Party-member volunteer teams, approved, with
sub-teams, members (approved and a few pending), the four positions rated A–D and a team-admin
account each. Everything goes through the public services, so the demo is what a real site would
hold after registration (R-REG-5), review (R-TEAM-1), joining (R-TEAM-2), the hierarchy (R-TEAM-3)
and positions (R-TEAM-5).

The team admins' passwords are random and written to ``instance/demo_accounts.txt`` (mode 600).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ACCOUNTS_FILE = "demo_accounts.txt"

# (name, district, parent index or None, service direction, username, organisation)
TEAMS = [
    ("越秀区·北京街党员志愿服务队", "越秀区", None, "社区治理、文明劝导、关爱长者", "demo_beijingjie", "北京街道"),
    ("北京街·西湖社区党员志愿服务分队", "越秀区", 0, "邻里互助、垃圾分类", "demo_xihu", "西湖社区"),
    ("北京街·都府社区党员志愿服务分队", "越秀区", 0, "助老助残、政策宣传", "demo_dufu", "都府社区"),
    ("天河区·五山街党员志愿服务队", "天河区", None, "科技助老、法律咨询", "demo_wushan", "五山街道"),
    ("五山街·华工社区党员志愿服务分队", "天河区", 3, "学业辅导、心理疏导", "demo_huagong", "华工社区"),
    ("海珠区·南华西街党员志愿服务队", "海珠区", None, "文化传承、环境保护", "demo_nanhuaxi", "南华西街道"),
]
PENDING_PER_TEAM = 3
POSITIONS = [  # (kind, title, important, heavy) -> ratings A, B, C, D
    ("admin", "行政管理（队长助理）", True, True),
    ("publicity", "宣传推广", True, False),
    ("logistics", "后勤保障", False, True),
    ("planning", "活动策划", False, False),
]


def _write_accounts(app, lines):
    path = Path(app.config["INSTANCE_PATH"]) / ACCOUNTS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for line in lines:
            fh.write("\t".join(line) + "\n")
    return path


def load(app):
    import click
    from core.models import User
    from plugins.volunteers.demo import NAME_PREFIX
    from plugins.volunteers.models import Volunteer

    from . import services
    from .models import Team

    teams, accounts = [], []
    for name, district, parent, direction, username, org in TEAMS:
        team = Team.get_or_none(Team.name == name)
        if team is None:
            new_user = not User.select().where(User.username == username).exists()
            password = secrets.token_urlsafe(12) if new_user else None
            team = services.register_team(
                {"name": name, "leader_name": f"示例队长{len(teams) + 1}",
                 "leader_phone": f"1380000{9000 + len(teams):04d}", "declared_size": 50,
                 "service_direction": direction, "district": district, "address": f"{district}示例路1号",
                 "organisation": org, "intro": f"{name}（演示数据）"},
                username=username if new_user else None, password=password)
            services.submit_for_review(team)
            team = services.review_team(team, approve=True, reason="演示数据")
            if password:
                accounts.append((username, password, name))
        teams.append(team)
    for (name, *_rest), team in zip(TEAMS, teams):
        parent = _rest[1]
        if parent is not None and team.parent_id is None:
            req = services.apply_subteam(team, teams[parent])
            services.decide_subteam(req, approve=True)

    # members: the demo volunteers, shared out; the last few of each team still wait for a decision
    vols = list(Volunteer.select().where(Volunteer.name.startswith(NAME_PREFIX)).order_by(Volunteer.id))
    if vols:
        share = max(len(vols) // len(teams), 1)
        for n, team in enumerate(teams):
            team = Team.get_by_id(team.id)
            mine = vols[n * share:(n + 1) * share]
            if not mine:
                continue
            apps = [services.apply_to_join(v, team) for v in mine]
            keep = max(len(apps) - PENDING_PER_TEAM, 0)
            services.decide_memberships(apps[:keep], approve=True, reason="")
            if n < 3 and keep >= len(POSITIONS):  # the top teams and one sub-team fill their posts
                for (kind, title, important, heavy), holder in zip(POSITIONS, mine):
                    services.set_position(team, kind, title=title, important=important, heavy=heavy,
                                          holder=holder, duties="演示岗位")
    if accounts:
        path = _write_accounts(app, accounts)
        click.echo(f"示例团队管理员账号 / demo team-admin accounts: {path}")
        for username, password, name in accounts:
            click.echo(f"  {username} / {password}  ({name})")
