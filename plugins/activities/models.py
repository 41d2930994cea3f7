"""Activities and trainings (R-ACT-1…8, 10, 11; 附录四 五 七).

An Activity belongs to a team and has time slots (Shift) with a volunteer type and a headcount. A SignUp
claims a place in one slot with one guarded statement (SECURITY.md CC4); the slot's ``confirmed`` counter
is backed by a CHECK constraint. After the activity, each attended sign-up becomes a ServiceRecord with
confirmed minutes; that record is what the time bank and certificates build on.
"""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

KINDS = ("service", "training")
STATUSES = ("draft", "submitted", "approved", "rejected", "published", "finished", "closed", "cancelled")
SIGNUP_STATUSES = ("pending", "confirmed", "waitlisted", "declined", "cancelled")


class Category(BaseModel):
    """Reference data: the 7+1 categories, the 11 service fields and the 5 training categories."""
    code = pw.CharField(max_length=32, unique=True)
    kind = pw.CharField(max_length=12, index=True)   # category | field | training
    name = pw.CharField(max_length=50)
    description = pw.TextField(default="")
    order = pw.IntegerField(default=0)

    class Meta:
        table_name = "activities_category"

    def __str__(self):
        return self.name


class Activity(BaseModel):
    team = pw.ForeignKeyField(Team, backref="activities", on_delete="RESTRICT")
    kind = pw.CharField(max_length=10, default="service", index=True)
    title = pw.CharField(max_length=200)
    category = pw.ForeignKeyField(Category, null=True, backref="+", on_delete="SET NULL")  # 7+1
    field = pw.ForeignKeyField(Category, null=True, backref="+", on_delete="SET NULL")     # 服务领域
    district = pw.CharField(max_length=10, default="", index=True)
    address = pw.CharField(max_length=255, default="")
    latitude = pw.DoubleField(null=True)
    longitude = pw.DoubleField(null=True)
    description = pw.TextField(default="")
    more_info = pw.TextField(default="")       # 更多介绍
    contact_name = pw.CharField(max_length=50, default="")
    contact_phone = pw.CharField(max_length=20, default="")
    auto_confirm = pw.BooleanField(default=True)   # first come, first served without the organiser
    is_party_service = pw.BooleanField(default=False)  # 党员志愿服务 (counts for R-PARTY-3)
    status = pw.CharField(max_length=10, default="draft", index=True)
    starts_at = DateTimeTZField(null=True, index=True)
    ends_at = DateTimeTZField(null=True)
    capacity = pw.IntegerField(default=0)          # sum of slot headcounts
    confirmed = pw.IntegerField(default=0)         # sum of slot confirmations (for "most needed")
    submitted_at = DateTimeTZField(null=True)
    review_due = DateTimeTZField(null=True, index=True)
    reviewed_at = DateTimeTZField(null=True)
    reviewed_by = pw.IntegerField(null=True)
    review_reason = pw.TextField(default="")
    published_at = DateTimeTZField(null=True, index=True)
    # after the activity (R-ACT-8, 附录五)
    outcome_due = DateTimeTZField(null=True)
    served_count = pw.IntegerField(null=True)      # 服务人次
    beneficiary_types = pw.CharField(max_length=200, default="")  # 服务对象类型
    summary = pw.TextField(default="")             # 活动总结
    recorder = pw.CharField(max_length=50, default="")
    outcome_submitted_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)
    created_by = pw.IntegerField(null=True)

    PERSONAL_FIELDS = ("contact_name", "contact_phone")   # the privacy plugin's tag (issue 13 point 1)

    class Meta:
        table_name = "activities_activity"
        # (status, district, field, starts_at): the public listing filtered by district and field
        # (migrations/0003_listing_index.py)
        indexes = ((("status", "starts_at"), False), (("status", "district", "starts_at"), False),
                   (("status", "district", "field", "starts_at"), False))

    def __str__(self):
        return self.title


class Shift(BaseModel):
    """A time slot for one volunteer type with a headcount (志愿者类型 + 活动时间)."""
    activity = pw.ForeignKeyField(Activity, backref="shifts", on_delete="CASCADE")
    volunteer_type = pw.CharField(max_length=50, default="")
    starts_at = DateTimeTZField()
    ends_at = DateTimeTZField()
    capacity = pw.IntegerField()
    confirmed = pw.IntegerField(default=0, constraints=[pw.Check("confirmed >= 0")])

    class Meta:
        table_name = "activities_shift"
        constraints = [pw.SQL("CHECK (confirmed <= capacity)"), pw.SQL("CHECK (capacity > 0)")]

    def __str__(self):
        return f"{self.volunteer_type} {self.starts_at:%m-%d %H:%M}–{self.ends_at:%H:%M}"


class SignUp(BaseModel):
    shift = pw.ForeignKeyField(Shift, backref="signups", on_delete="CASCADE")
    activity = pw.ForeignKeyField(Activity, backref="signups", on_delete="CASCADE")
    volunteer = pw.ForeignKeyField(Volunteer, backref="signups", on_delete="CASCADE")
    status = pw.CharField(max_length=12, default="pending", index=True)
    reason = pw.TextField(default="")            # why declined / cancelled
    created_at = DateTimeTZField(default=now, index=True)
    decided_at = DateTimeTZField(null=True)
    check_in_at = DateTimeTZField(null=True)
    check_out_at = DateTimeTZField(null=True)
    time_note = pw.TextField(default="")         # reason of a manual time correction
    post = pw.CharField(max_length=100, default="")  # staffing (R-ACT-10)
    mentor = pw.ForeignKeyField("self", null=True, backref="mentees", on_delete="SET NULL")

    class Meta:
        table_name = "activities_signup"
        indexes = ((("shift", "volunteer"), True), (("activity", "status"), False))

    def __str__(self):
        return f"{self.volunteer.number} @ {self.activity.title}"


class ServiceRecord(BaseModel):
    """Confirmed hours of one volunteer in one activity or training (R-NAT-1, R-NAT-2): the record the
    time bank mints points from (once) and certificates list."""
    signup = pw.ForeignKeyField(SignUp, unique=True, backref="records", on_delete="RESTRICT")
    volunteer = pw.ForeignKeyField(Volunteer, backref="service_records", on_delete="RESTRICT")
    activity = pw.ForeignKeyField(Activity, backref="records", on_delete="RESTRICT")
    team = pw.ForeignKeyField(Team, backref="service_records", on_delete="RESTRICT")
    kind = pw.CharField(max_length=10, index=True)            # service | training
    service_date = pw.DateField(index=True)
    minutes = pw.IntegerField(constraints=[pw.Check("minutes >= 0")])
    version = pw.IntegerField(default=1)                      # bumped on each correction
    confirmed_at = DateTimeTZField(default=now)
    confirmed_by = pw.IntegerField(null=True)
    change_reason = pw.TextField(default="")

    class Meta:
        table_name = "activities_service_record"
        # (volunteer, service_date, kind, minutes, activity) covers the yearly totals per volunteer
        # (services.service_totals, the targets plugin) without reading table rows; it replaces the
        # plain (volunteer, service_date) index, its prefix (migrations/0002)
        indexes = ((("volunteer", "service_date", "kind", "minutes", "activity"), False),
                   (("team", "service_date"), False))

    @property
    def hours(self) -> float:
        return self.minutes / 60


class _WithoutRowidOnSqlite(pw.Metadata):
    """``WITHOUT ROWID`` on SQLite, where the table is then stored as its primary key alone (half the
    size of a rowid table with its key index); PostgreSQL has no such clause."""

    @property
    def without_rowid(self):
        from core.db import is_sqlite
        return is_sqlite(self.database.obj if isinstance(self.database, pw.DatabaseProxy) else self.database)

    @without_rowid.setter
    def without_rowid(self, value):
        pass


class SearchTerm(BaseModel):
    """The keyword index of the public listing (R-ACT-3): every two-character piece of a published
    activity's title, description and address (and of 党员志愿服务 when it is marked as such) that has
    no white space and no letter with a case. Chinese keywords are mostly two characters (敬老, 独居),
    below what PostgreSQL's pg_trgm or SQLite's FTS5 trigram index can serve. The listing looks a rare
    keyword's activities up here instead of reading every published activity, then checks the text
    itself, so the index only ever narrows (services.listing). Written when an activity is published
    (published activities cannot be edited); no foreign key, so that deleting an activity never scans
    this table: a stale row only adds a candidate that the text check drops."""
    term = pw.CharField(max_length=2)
    activity_id = pw.IntegerField()

    class Meta:
        table_name = "activities_search_term"
        primary_key = pw.CompositeKey("term", "activity_id")
        model_metadata_class = _WithoutRowidOnSqlite


class UsedToken(BaseModel):
    """Nonces of single-use check-in codes, so a replayed code is refused."""
    nonce = pw.CharField(max_length=40, primary_key=True)
    used_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "activities_used_token"


class Feedback(BaseModel):
    """附录四 套表2 活动反馈表: 5-point items (1 best … 5 worst as printed: 极好 … 极差) and 0–10 overall."""
    activity = pw.ForeignKeyField(Activity, backref="feedback", on_delete="CASCADE")
    volunteer = pw.ForeignKeyField(Volunteer, null=True, backref="+", on_delete="SET NULL")
    items = pw.TextField(default="{}")       # JSON {item_code: 1..5}
    duration = pw.CharField(max_length=10, default="")   # 太长 适中 太短
    design = pw.CharField(max_length=10, default="")     # 很好 普通 不好
    overall = pw.IntegerField(null=True, constraints=[pw.Check("overall BETWEEN 0 AND 10")])
    comments = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "activities_feedback"
        indexes = ((("activity", "volunteer"), True),)


class Photo(BaseModel):
    activity = pw.ForeignKeyField(Activity, backref="photos", on_delete="CASCADE")
    stored_name = pw.CharField(max_length=64, unique=True)
    content_type = pw.CharField(max_length=40)
    size = pw.IntegerField()
    caption = pw.CharField(max_length=200, default="")
    uploaded_at = DateTimeTZField(default=now)
    uploaded_by = pw.IntegerField(null=True)
    # R-PRIV-3 (issue 13 point 5): marked by the uploader as showing service recipients; then a copy with
    # the faces blurred is stored at upload (``blurred_name``) and public pages serve it unless every
    # recipient named on the photo (PhotoRecipient) has consented (photos.public_file)
    shows_recipients = pw.BooleanField(default=False)
    blurred_name = pw.CharField(max_length=64, null=True)
    faces_found = pw.IntegerField(null=True)

    class Meta:
        table_name = "activities_photo"


class PhotoRecipient(BaseModel):
    """A service recipient named on a photo (R-PRIV-3). ``recipient_id`` is the id of the recipients
    plugin's record, kept as a plain integer: that plugin may be disabled or absent (no foreign key)."""
    PERSONAL_FIELDS = ("recipient_id",)
    photo = pw.ForeignKeyField(Photo, backref="recipients", on_delete="CASCADE")
    recipient_id = pw.IntegerField(index=True)

    class Meta:
        table_name = "activities_photo_recipient"
        indexes = ((("photo", "recipient_id"), True),)
