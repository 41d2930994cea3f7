"""Teams (R-REG-5, R-TEAM-1…5): registration and platform review, membership applications, the
sub-team hierarchy (a materialised path, so "my team and its sub-teams" is one indexed prefix match),
and the four positions with their A/B/C/D rating."""
import peewee as pw

from core.crypto import EncryptedField
from core.db import BaseModel, DateTimeTZField, now
from plugins.volunteers.models import Volunteer

TEAM_STATUSES = ("draft", "pending", "approved", "rejected")
POSITION_KINDS = ("admin", "publicity", "logistics", "planning")   # 行政管理 宣传推广 后勤保障 活动策划
RATINGS = ("A", "B", "C", "D")


class Team(BaseModel):
    name = pw.CharField(max_length=100, unique=True)          # 志愿队伍名称
    leader_name = pw.CharField(max_length=50)                 # 负责人姓名
    leader_phone = EncryptedField(context="team.leader_phone")  # 联系电话 (ciphertext)
    declared_size = pw.IntegerField(default=0)                # 队伍人数 (as registered)
    service_direction = pw.CharField(max_length=200, default="")  # 服务方向
    registered_on = pw.DateField()                            # 登记日期
    district = pw.CharField(max_length=10, default="", index=True)
    address = pw.CharField(max_length=255, default="")
    organisation = pw.CharField(max_length=200, default="")   # 单位（社区）
    intro = pw.TextField(default="")
    status = pw.CharField(max_length=10, default="draft", index=True)
    review_reason = pw.TextField(default="")
    reviewed_at = DateTimeTZField(null=True)
    reviewed_by = pw.IntegerField(null=True)
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    path = pw.CharField(max_length=255, index=True, default="")  # "/1/5/9/": ancestors and self
    created_at = DateTimeTZField(default=now)
    created_by = pw.IntegerField(null=True)

    PERSONAL_FIELDS = ("leader_name",)   # the privacy plugin's tag (issue 13 point 1)

    class Meta:
        table_name = "teams_team"

    def __str__(self):
        return self.name


class Membership(BaseModel):
    """A volunteer's application to join a team and its outcome (R-TEAM-2)."""
    team = pw.ForeignKeyField(Team, backref="memberships", on_delete="CASCADE")
    volunteer = pw.ForeignKeyField(Volunteer, backref="memberships", on_delete="CASCADE")
    status = pw.CharField(max_length=10, default="pending", index=True)  # pending approved rejected left
    reason = pw.TextField(default="")
    applied_at = DateTimeTZField(default=now)
    decided_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "teams_membership"
        indexes = ((("team", "volunteer"), True),)

    def __str__(self):
        return f"{self.volunteer.number} → {self.team.name}"


class SubTeamRequest(BaseModel):
    """A team's application to join a parent team (R-TEAM-3)."""
    child = pw.ForeignKeyField(Team, backref="parent_requests", on_delete="CASCADE")
    parent = pw.ForeignKeyField(Team, backref="child_requests", on_delete="CASCADE")
    status = pw.CharField(max_length=10, default="pending", index=True)
    reason = pw.TextField(default="")
    applied_at = DateTimeTZField(default=now)
    decided_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "teams_subteam_request"

    def __str__(self):
        return f"{self.child.name} → {self.parent.name}"


class Position(BaseModel):
    """A post in the team (篇3 一(二)): kind, importance × workload → rating A/B/C/D, holder."""
    team = pw.ForeignKeyField(Team, backref="positions", on_delete="CASCADE")
    kind = pw.CharField(max_length=12)
    title = pw.CharField(max_length=100, default="")
    important = pw.BooleanField(default=True)
    heavy = pw.BooleanField(default=True)
    rating = pw.CharField(max_length=1, default="A")
    holder = pw.ForeignKeyField(Volunteer, null=True, backref="positions", on_delete="SET NULL")
    duties = pw.TextField(default="")

    class Meta:
        table_name = "teams_position"

    def __str__(self):
        return f"{self.team.name} · {self.title or self.kind}"


def rating_for(important: bool, heavy: bool) -> str:
    """A: important and heavy; B: important, light; C: less important, heavy; D: neither."""
    return {(True, True): "A", (True, False): "B", (False, True): "C", (False, False): "D"}[
        (bool(important), bool(heavy))]
