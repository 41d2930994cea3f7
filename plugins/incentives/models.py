"""The incentives plugin's tables (``incentives_*``). Each links to a volunteer (personal data: declared
to the privacy plugin in privacy.py) or to an activity."""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from plugins.activities.models import Activity
from plugins.volunteers.models import Volunteer


class Star(BaseModel):
    """A volunteer's current star rating (R-INC-1) and the confirmed service minutes it was computed from.
    One row a volunteer: the row is locked while a rating is recomputed, so two workers cannot both promote."""
    volunteer = pw.ForeignKeyField(Volunteer, primary_key=True, backref="+", on_delete="CASCADE")
    stars = pw.SmallIntegerField(default=0, constraints=[pw.Check("stars BETWEEN 0 AND 5")])
    minutes = pw.BigIntegerField(default=0)
    updated_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "incentives_star"


class StarChange(BaseModel):
    """One change of a star rating: the star history of the volunteer's record (R-NAT-1 evaluations)."""
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="CASCADE")
    from_stars = pw.SmallIntegerField()
    to_stars = pw.SmallIntegerField()
    minutes = pw.BigIntegerField()
    source = pw.CharField(max_length=60, default="")      # the event key, or "recompute"
    changed_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "incentives_star_change"
        indexes = ((("volunteer", "changed_at"), False),)


class Evaluation(BaseModel):
    """A periodic performance evaluation (绩效评价, R-INC-6): hours, attendance, feedback, staff comment and
    grade for one volunteer and period; shown to the volunteer once published."""
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="CASCADE")
    period_start = pw.DateField()
    period_end = pw.DateField()
    minutes = pw.BigIntegerField(default=0)
    signups = pw.IntegerField(default=0)          # confirmed sign-ups for activities that ended in the period
    no_shows = pw.IntegerField(default=0)         # of which no confirmed hours
    feedback_score = pw.DecimalField(max_digits=4, decimal_places=1, null=True)   # 0–10, where feedback exists
    grade = pw.CharField(max_length=12, default="")
    comment = pw.TextField(default="")
    status = pw.CharField(max_length=10, default="draft")    # draft | published
    created_at = DateTimeTZField(default=now)
    published_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "incentives_evaluation"
        indexes = ((("volunteer", "period_start", "period_end"), True),)

    def __str__(self):
        return f"{self.period_start} – {self.period_end}"


class GreetingTemplate(BaseModel):
    """The text of a greeting for one occasion, editable in Chinese by the platform admin (R-INC-4)."""
    occasion = pw.CharField(max_length=30, unique=True)
    subject = pw.CharField(max_length=200)
    body = pw.TextField()
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "incentives_greeting_template"

    def __str__(self):
        return self.occasion


class Greeting(BaseModel):
    """One greeting sent: inserted before sending, unique per (occasion, year, volunteer), so two workers
    never greet the same person twice for the same occasion (R-INC-4)."""
    occasion = pw.CharField(max_length=30)
    year = pw.IntegerField()
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="CASCADE")
    sent_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "incentives_greeting"
        indexes = ((("occasion", "year", "volunteer"), True),)


class Contact(BaseModel):
    """A call or visit of a volunteer by staff (regular contact, R-INC-4)."""
    volunteer = pw.ForeignKeyField(Volunteer, backref="+", on_delete="CASCADE")
    contacted_on = pw.DateField()
    note = pw.TextField(default="")
    by_user = pw.IntegerField(null=True)

    class Meta:
        table_name = "incentives_contact"
        indexes = ((("volunteer", "contacted_on"), False),)


class InsuranceCheck(BaseModel):
    """The insurance checklist of an activity before it starts (R-INC-5)."""
    activity = pw.ForeignKeyField(Activity, primary_key=True, backref="+", on_delete="CASCADE")
    insured = pw.BooleanField(default=False)
    policy_number = pw.CharField(max_length=60, default="")
    insurer = pw.CharField(max_length=100, default="")
    checked_at = DateTimeTZField(default=now)
    checked_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "incentives_insurance_check"


MODELS = [Star, StarChange, Evaluation, GreetingTemplate, Greeting, Contact, InsuranceCheck]


# ------------------------------------------------------------------ commendations (R-INC-2)
from plugins.teams.models import Team  # noqa: E402


class Scheme(BaseModel):
    """An award scheme (表彰嘉许 奖项) as data: who it is for (target), how often (period) and its theme
    (雷锋月, 暑期, 长者服务…). ``party_only``: only Party members may be nominated (年度优秀党员志愿者)."""
    code = pw.CharField(max_length=40, unique=True)
    name = pw.CharField(max_length=100)
    target = pw.CharField(max_length=12)          # individual | leader | mentor | team | partner
    period = pw.CharField(max_length=10)          # annual | quarterly | daily
    theme = pw.CharField(max_length=60, default="")
    granting_body = pw.CharField(max_length=100, default="")
    party_only = pw.BooleanField(default=False)
    builtin = pw.BooleanField(default=False)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "incentives_scheme"

    def __str__(self):
        return self.name


class Nomination(BaseModel):
    """A nomination for a scheme and period, reviewed and decided through core.workflow (nominated →
    reviewed → awarded → published, or rejected with a reason). An award is a published or awarded
    nomination: it belongs to the volunteer's record (R-NAT-1: name, date, granting body)."""
    scheme = pw.ForeignKeyField(Scheme, backref="+", on_delete="RESTRICT")
    volunteer = pw.ForeignKeyField(Volunteer, null=True, backref="+", on_delete="CASCADE")
    team = pw.ForeignKeyField(Team, null=True, backref="+", on_delete="CASCADE")
    partner = pw.CharField(max_length=100, default="")      # a partner company or a media outlet
    period_start = pw.DateField()
    period_end = pw.DateField()
    source = pw.CharField(max_length=20, default="team")   # team | top_hours | targets_met | party_annual
    reason = pw.TextField(default="")
    minutes = pw.BigIntegerField(default=0)                # the service minutes the nomination was made on
    feedback_score = pw.DecimalField(max_digits=4, decimal_places=1, null=True)
    status = pw.CharField(max_length=12, default="nominated")
    due_at = DateTimeTZField(null=True)
    decided_on = pw.DateField(null=True)
    rejection = pw.TextField(default="")
    nominated_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "incentives_nomination"
        indexes = ((("scheme", "period_start", "volunteer"), False), (("status",), False))


class IndicatorValue(BaseModel):
    """A value entered by hand for an indicator without data in the system (media reports, clicks,
    awards from outside; R-INC-3), for a team (or the whole site) and a period."""
    code = pw.CharField(max_length=40)
    team = pw.ForeignKeyField(Team, null=True, backref="+", on_delete="CASCADE")
    period_start = pw.DateField()
    period_end = pw.DateField()
    value = pw.DecimalField(max_digits=14, decimal_places=2)
    note = pw.CharField(max_length=200, default="")
    entered_by = pw.IntegerField(null=True)
    entered_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "incentives_indicator_value"
        indexes = ((("code", "period_start"), False),)


MODELS += [Scheme, Nomination, IndicatorValue]
