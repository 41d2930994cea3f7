import peewee as pw

from core.db import BaseModel, DateTimeTZField, now, today
from plugins.teams.models import Team

RATINGS = ("met", "partly", "not")
KINDS = ("self", "platform")


class Item(BaseModel):
    """One of the 34 checklist items (reference data, handbook 篇3 二)."""
    number = pw.IntegerField(unique=True)
    section_no = pw.IntegerField(index=True)
    section = pw.CharField(max_length=100)
    project = pw.CharField(max_length=100)
    standard = pw.TextField()

    class Meta:
        table_name = "team_standards_item"

    def __str__(self):
        return f"{self.number}. {self.project}"


class Assessment(BaseModel):
    team = pw.ForeignKeyField(Team, backref="standard_assessments", on_delete="CASCADE", index=True)
    assessed_on = pw.DateField(default=today, index=True)
    kind = pw.CharField(max_length=10, choices=[(k, k) for k in KINDS], default="self")
    assessor_id = pw.IntegerField(null=True)
    note = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "team_standards_assessment"

    def __str__(self):
        return f"{self.team.name} {self.assessed_on}"


class Result(BaseModel):
    assessment = pw.ForeignKeyField(Assessment, backref="results", on_delete="CASCADE")
    item = pw.ForeignKeyField(Item, on_delete="CASCADE")
    rating = pw.CharField(max_length=10, choices=[(r, r) for r in RATINGS])
    note = pw.TextField(default="")

    class Meta:
        table_name = "team_standards_result"
        indexes = ((("assessment", "item"), True),)
