"""The archives' tables: kinds (data a site extends), files (案卷) with their numbers, documents (页) with
their SHA-256, and the team's chronicle (大事记). Numbers come from core.numbering (gap-free, LG7)."""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from core.models import User
from plugins.teams.models import Team

RETENTIONS = (("permanent", "永久"), ("long", "长期"), ("short", "短期"))
STATUSES = (("draft", "草稿"), ("closed", "已归档"))


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


MODELS = [Kind, ArchiveFile, Document, ChronicleEntry]
