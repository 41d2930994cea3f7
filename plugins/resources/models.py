"""Resource links (资源链接; RULES R-RES-1): the catalogue of funding programmes and resource accounts."""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from core.money import MoneyField


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


MODELS = [Programme, Account]
