"""The archives' tables: kinds (data a site extends), files (案卷) with their numbers, documents (页) with
their SHA-256, and the team's chronicle (大事记). Numbers come from core.numbering (gap-free, LG7)."""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from core.models import User
from plugins.teams.models import Team

RETENTIONS = (("permanent", "永久"), ("long", "长期"), ("short", "短期"))
STATUSES = (("draft", "草稿"), ("closed", "已归档"), ("destroyed", "已销毁"))


class Kind(BaseModel):
    """An archive kind (人事档案, 工作档案, 活动档案, or one a site adds); its 目录号 numbers its files."""
    code = pw.CharField(max_length=30, unique=True)
    name = pw.CharField(max_length=50)
    catalogue_no = pw.CharField(max_length=10, unique=True)     # 目录号
    retention = pw.CharField(max_length=10, default="long", choices=RETENTIONS)
    description = pw.TextField(default="")

    class Meta:
        table_name = "archives_kind"

    def __str__(self):
        return self.name


class ArchiveFile(BaseModel):
    """One file (案卷): number 全宗号-目录号-案卷号, title, date range, responsible person, retention."""
    PERSONAL_FIELDS = ("responsible",)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    kind = pw.ForeignKeyField(Kind, backref="files", on_delete="RESTRICT")
    fonds_no = pw.CharField(max_length=20)                        # 全宗号
    catalogue_no = pw.CharField(max_length=10)                    # 目录号
    seq = pw.IntegerField()                                       # 案卷号
    number = pw.CharField(max_length=60, unique=True)             # indexed: prefix search is a range scan
    title = pw.CharField(max_length=200, index=True)
    date_from = pw.DateField(null=True)
    date_to = pw.DateField(null=True)
    responsible = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    retention = pw.CharField(max_length=10, default="long", choices=RETENTIONS)
    disposal_date = pw.DateField(null=True, index=True)
    status = pw.CharField(max_length=10, default="draft", choices=STATUSES, index=True)
    activity_id = pw.IntegerField(null=True, unique=True)        # the activity an 活动档案 files
    due_at = DateTimeTZField(null=True, index=True)
    closed_at = DateTimeTZField(null=True)
    note = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_file"
        indexes = ((("fonds_no", "catalogue_no", "seq"), True),)

    def __str__(self):
        return f"{self.number} {self.title}"


class Document(BaseModel):
    """One document of a file, page 页号 in order; stored once with its SHA-256, never overwritten (a new
    version is a new document pointing to the one it replaces)."""
    PERSONAL_FIELDS = ("title",)
    file = pw.ForeignKeyField(ArchiveFile, backref="documents", on_delete="RESTRICT")
    page = pw.IntegerField()                                       # 页号
    title = pw.CharField(max_length=200)
    filename = pw.CharField(max_length=200)
    content_type = pw.CharField(max_length=100, default="application/octet-stream")
    size = pw.IntegerField(default=0)
    sha256 = pw.CharField(max_length=64)
    storage = pw.CharField(max_length=10, default="folder")
    key = pw.CharField(max_length=255, unique=True)
    source = pw.CharField(max_length=50, default="")                # which plugin gave it
    replaces = pw.ForeignKeyField("self", null=True, backref="+", on_delete="RESTRICT")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_document"
        indexes = ((("file", "page"), True),)

    def __str__(self):
        return f"{self.page} {self.title}"


class ChronicleEntry(BaseModel):
    """The team's chronicle (大事记), part of its 工作档案: dated entries."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    day = pw.DateField(index=True)
    text = pw.TextField()
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_chronicle"

    def __str__(self):
        return f"{self.day} {self.text[:30]}"


LOAN_STATES = (("requested", "待审批"), ("on_loan", "借出中"), ("returned", "已归还"), ("rejected", "未批准"))
DESTRUCTION_STATES = (("applied", "已申请"), ("reviewed", "档案员已审核"), ("appraised", "监督小组已鉴定"),
                      ("approved", "队长已批准"), ("destroyed", "已销毁"), ("rejected", "已驳回"))


class Loan(BaseModel):
    """The borrowing register (R-ARC-4, 附录十): number, content, recorder, borrow and return time, borrower,
    contact. A loan by another team or with copying waits for the team leader's approval (core.workflow)."""
    PERSONAL_FIELDS = ("borrower", "contact", "borrower_user", "recorder", "approved_by")
    number = pw.CharField(max_length=40, unique=True)              # JY2026000001 (core.numbering)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")       # the file's team (the lender)
    file = pw.ForeignKeyField(ArchiveFile, backref="loans", on_delete="RESTRICT")
    document = pw.ForeignKeyField(Document, null=True, backref="loans", on_delete="SET NULL")
    content = pw.CharField(max_length=200)
    borrower = pw.CharField(max_length=50)
    borrower_user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    borrower_team = pw.ForeignKeyField(Team, null=True, backref="+", on_delete="SET NULL")
    contact = pw.CharField(max_length=30)
    copying = pw.BooleanField(default=False)
    recorder = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    status = pw.CharField(max_length=10, default="requested", choices=LOAN_STATES, index=True)
    approved_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    borrowed_at = DateTimeTZField(null=True)
    due_at = DateTimeTZField(null=True, index=True)
    returned_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_loan"

    def __str__(self):
        return self.number


class Destruction(BaseModel):
    """A destruction (R-ARC-5) and, once done, its line in the destruction register: application, the
    archivist's review, the supervision group's appraisal, the team leader's approval, 2–3 witnesses. What
    was destroyed (number, title, the documents' list) is copied here: the file's documents are gone."""
    PERSONAL_FIELDS = ("witnesses", "contents", "applicant", "reviewed_by", "appraised_by", "approved_by",
                       "destroyed_by")
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    file = pw.ForeignKeyField(ArchiveFile, backref="destructions", on_delete="RESTRICT")
    file_number = pw.CharField(max_length=60)
    file_title = pw.CharField(max_length=200)
    reason = pw.TextField(default="")
    status = pw.CharField(max_length=10, default="applied", choices=DESTRUCTION_STATES, index=True)
    applicant = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reviewed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    appraised_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    approved_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    destroyed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    witnesses = pw.TextField(default="")                 # one name a line
    signature_key = pw.CharField(max_length=255, default="")     # the signed sheet (upload), kept
    signature_storage = pw.CharField(max_length=10, default="")
    signature_sha256 = pw.CharField(max_length=64, default="")
    contents = pw.TextField(default="")                  # the destroyed documents: 页号 题名 SHA-256, a line each
    document_count = pw.IntegerField(default=0)
    destroyed_at = DateTimeTZField(null=True)
    due_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_destruction"

    def __str__(self):
        return f"{self.file_number} {self.file_title}"


class LossReport(BaseModel):
    """Confidential material lost (R-ARC-6, 附录十一 第十六条): what, when, the remedy taken; reported at once."""
    PERSONAL_FIELDS = ("reporter",)
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    file = pw.ForeignKeyField(ArchiveFile, null=True, backref="+", on_delete="SET NULL")
    what = pw.CharField(max_length=200)
    lost_on = pw.DateField()
    remedy = pw.TextField()
    reporter = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reported_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_loss"

    def __str__(self):
        return f"{self.lost_on} {self.what}"


class Handover(BaseModel):
    """Archives handed over when the archivist changes (R-ARC-6): the files, both parties, the date."""
    PERSONAL_FIELDS = ("from_user", "to_user", "recorded_by")
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    from_user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    to_user = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    day = pw.DateField()
    files = pw.TextField(default="")                     # the file numbers handed over, a line each
    note = pw.TextField(default="")
    recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "archives_handover"

    def __str__(self):
        return f"{self.day} {len(self.files.splitlines())}"


MODELS = [Kind, ArchiveFile, Document, ChronicleEntry, Loan, Destruction, LossReport, Handover]
