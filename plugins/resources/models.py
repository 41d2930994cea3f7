"""Resource links (资源链接; RULES R-RES-1): the catalogue of funding programmes and resource accounts."""
import peewee as pw

from core.crypto import EncryptedField
from core.db import BaseModel, DateTimeTZField, now
from core.money import MoneyField
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer


class Programme(BaseModel):
    """A funding programme (handbook 篇4 二(一)1, 17 rows as reference data). ``months`` holds the months of
    its application window as "3,4" ("" = 不定期 or none printed); amounts are fen."""
    number = pw.IntegerField(unique=True)
    name = pw.CharField(max_length=200)
    organiser = pw.CharField(max_length=200, default="")
    window_text = pw.CharField(max_length=100, default="")
    months = pw.CharField(max_length=40, default="")
    funding_text = pw.CharField(max_length=100, default="")
    funding_min = MoneyField(null=True)
    funding_max = MoneyField(null=True)
    email = pw.CharField(max_length=200, default="")
    channel = pw.TextField(default="")
    url = pw.CharField(max_length=300, default="")
    district = pw.CharField(max_length=20, default="", index=True)
    resource_types = pw.CharField(max_length=200, default="")
    notes = pw.TextField(default="")
    active = pw.BooleanField(default=True)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_programme"

    def month_list(self) -> list[int]:
        return [int(m) for m in self.months.split(",") if m.strip().isdigit()]

    def __str__(self):
        return self.name


class Account(BaseModel):
    """A public account offering resources (handbook 篇4 二(一)2): WeChat id and resource types as printed."""
    number = pw.IntegerField(unique=True)
    name = pw.CharField(max_length=200)
    wechat_id = pw.CharField(max_length=100, default="")
    resource_types = pw.CharField(max_length=200, default="")
    district = pw.CharField(max_length=20, default="", index=True)
    notes = pw.TextField(default="")
    active = pw.BooleanField(default=True)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_account"

    def __str__(self):
        return self.name


# budget line categories of the 申报书 template (活动预算); the caps of R-RES-3 apply per group
CATEGORIES = ("service", "publicity", "transport", "meals", "trainer", "training_material", "other")
GROUPS = {"publicity": ("publicity",), "allowance": ("transport", "meals"),
          "training": ("trainer", "training_material")}
EVALUATION_METHODS = ("phone", "survey", "follow_up", "summary", "other")


class Application(BaseModel):
    """A team's funding application (申报书, R-RES-2/3/5). Amounts in fen; the leader is a registered
    volunteer (their contact is read from the volunteer record, never copied). ``status`` follows
    services.FLOW (core.workflow)."""
    team = pw.ForeignKeyField(Team, backref="resource_applications", on_delete="CASCADE", index=True)
    programme = pw.ForeignKeyField(Programme, null=True, on_delete="SET NULL")
    status = pw.CharField(max_length=20, default="draft", index=True)
    due_at = DateTimeTZField(null=True, index=True)
    leader = pw.ForeignKeyField(Volunteer, null=True, on_delete="SET NULL")
    activity_name = pw.CharField(max_length=100)
    field = pw.CharField(max_length=100, default="")
    target_group = pw.CharField(max_length=200, default="")
    period_start = pw.DateField()
    period_end = pw.DateField()
    place = pw.CharField(max_length=200, default="")
    total_budget = MoneyField(default=0)
    requested = MoneyField(default=0)
    summary = pw.TextField(default="")
    background = pw.TextField(default="")
    needs = pw.TextField(default="")
    goals = pw.TextField(default="")
    content = pw.TextField(default="")
    # 负责人联系电话 (R-RES-5): encrypted at rest and masked on screen like a volunteer's phone
    leader_phone = EncryptedField(context="resources.application.leader_phone", default="")
    # R-RES-4 评估方法: keys of EVALUATION_METHODS as "phone,survey"; ``evaluation_other`` the text of 其他
    evaluation_methods = pw.CharField(max_length=100, default="")
    evaluation_other = pw.CharField(max_length=200, default="")
    # 末期评估: the results of each evaluation method and the conclusion
    method_results = pw.TextField(default="")
    conclusion = pw.TextField(default="")
    created_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_application"

    def __str__(self):
        return self.activity_name


class Member(BaseModel):
    """A team member of the application (≤ max_members) and their division of work."""
    application = pw.ForeignKeyField(Application, backref="members", on_delete="CASCADE", index=True)
    volunteer = pw.ForeignKeyField(Volunteer, on_delete="CASCADE")
    duty = pw.CharField(max_length=100, default="")
    responsibility = pw.TextField(default="")

    class Meta:
        table_name = "resources_member"


class BudgetLine(BaseModel):
    """One line of 活动预算: category, detail, unit price (fen) × quantity = amount (fen)."""
    application = pw.ForeignKeyField(Application, backref="lines", on_delete="CASCADE", index=True)
    position = pw.IntegerField(default=0)
    category = pw.CharField(max_length=20)
    detail = pw.CharField(max_length=200, default="")
    unit_price = MoneyField()
    quantity = pw.IntegerField()
    amount = MoneyField()
    note = pw.CharField(max_length=200, default="")
    spent = MoneyField(null=True)      # 末期评估: money actually spent on this line (fen)

    class Meta:
        table_name = "resources_budget_line"


class ScheduleRow(BaseModel):
    """One row of 活动进度安排 (R-RES-5): 时间, 地点, 主题, 内容, 所需物资, 负责人."""
    application = pw.ForeignKeyField(Application, backref="schedule", on_delete="CASCADE", index=True)
    position = pw.IntegerField(default=0)
    when = pw.CharField(max_length=100)
    place = pw.CharField(max_length=200, default="")
    theme = pw.CharField(max_length=200)
    content = pw.TextField(default="")
    materials = pw.CharField(max_length=200, default="")
    person = pw.CharField(max_length=50, default="")

    class Meta:
        table_name = "resources_schedule_row"


class Output(BaseModel):
    """One 预期产出 (R-RES-5): an indicator name and the planned number; ``achieved`` at 末期评估."""
    application = pw.ForeignKeyField(Application, backref="outputs", on_delete="CASCADE", index=True)
    position = pw.IntegerField(default=0)
    indicator = pw.CharField(max_length=100)
    planned = pw.IntegerField()
    achieved = pw.IntegerField(null=True)

    class Meta:
        table_name = "resources_output"


CRITERIA = ("significance", "feasibility", "participation", "innovation", "detail", "funding")


class Review(BaseModel):
    """A reviewer assigned to an application (评审) and their scores on the six criteria of 篇4 二(一)3(2),
    comment and decision (fund / reject / changes). ``reviewer`` is a user id."""
    application = pw.ForeignKeyField(Application, backref="reviews", on_delete="CASCADE", index=True)
    reviewer = pw.IntegerField(index=True)
    significance = pw.IntegerField(null=True)
    feasibility = pw.IntegerField(null=True)
    participation = pw.IntegerField(null=True)
    innovation = pw.IntegerField(null=True)
    detail = pw.IntegerField(null=True)
    funding = pw.IntegerField(null=True)
    comment = pw.TextField(default="")
    decision = pw.CharField(max_length=10, default="")
    scored_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_review"
        indexes = ((("application", "reviewer"), True),)

    def total(self):
        vals = [getattr(self, c) for c in CRITERIA]
        return None if any(v is None for v in vals) else sum(vals)


class Objection(BaseModel):
    """An objection raised during 公示, by the public (name and contact, encrypted) or by staff."""
    application = pw.ForeignKeyField(Application, backref="objections", on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=50, default="")
    contact = EncryptedField(context="resources.objection.contact", default="")
    text = pw.TextField()
    by_user = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_objection"


class Attendance(BaseModel):
    """见面会及培训: whether a member of the application attended."""
    application = pw.ForeignKeyField(Application, backref="attendance", on_delete="CASCADE", index=True)
    volunteer = pw.ForeignKeyField(Volunteer, on_delete="CASCADE")
    present = pw.BooleanField(default=False)
    recorded_by = pw.IntegerField(null=True)
    recorded_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_attendance"
        indexes = ((("application", "volunteer"), True),)


class ActivityLink(BaseModel):
    """A funded activity published through the activities plugin (its id; no cross-plugin foreign key)."""
    application = pw.ForeignKeyField(Application, backref="activity_links", on_delete="CASCADE", index=True)
    activity_id = pw.IntegerField(index=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_activity_link"


class Reminder(BaseModel):
    """A reminder sent to a team that a programme's application window opens soon (issue 14 point 1):
    one row per programme, team and window (its first day), unique, so each is sent exactly once."""
    programme = pw.ForeignKeyField(Programme, on_delete="CASCADE", index=True)
    team = pw.ForeignKeyField(Team, on_delete="CASCADE", index=True)
    window_start = pw.DateField()
    recipients = pw.IntegerField(default=0)
    sent_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_reminder"
        indexes = ((("programme", "team", "window_start"), True),)


class PointsUse(BaseModel):
    """Time points raised by a team's campaign (积分募集, donations plugin) applied to this application
    (R-TB-4): the ledger transfer's id (kind ``campaign_spend``; no cross-plugin foreign key), the campaign's
    id and the points. The points themselves live in the ledger only."""
    application = pw.ForeignKeyField(Application, backref="points_uses", on_delete="CASCADE", index=True)
    campaign_id = pw.IntegerField(index=True)
    transfer_id = pw.BigIntegerField(unique=True)
    points = pw.IntegerField()
    created_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "resources_points_use"


MODELS = [Programme, Account, Application, Member, BudgetLine, ScheduleRow, Output, Review, Objection,
          Attendance, ActivityLink, Reminder, PointsUse]
