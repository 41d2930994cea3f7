"""Service certificates (党员志愿者个人服务时数记录证明, 附录六; R-CERT-1…3, R-NAT-5…7, LG7).

A Certificate is asked for by a volunteer (or issued in a batch for an activity) and lists some of the
volunteer's confirmed service records, all kept by one team: the issuing unit. Each listed record is
copied into a CertificateLine when the certificate is applied for, so a printed certificate never
changes afterwards (a later correction of a record gives a new record version, not a new certificate).

The number (ZM2026000001) and the verification token are given at approval from ``core.numbering``
(one sequence a year, locked while a number is taken; migration 0002 moved the old counter there):
numbers are sequential without gaps, unique, and never reused; a revoked certificate keeps its number with status ``revoked`` and is never deleted (LG7).
"""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from plugins.activities.models import Activity, ServiceRecord
from plugins.teams.models import Team
from plugins.volunteers.models import Volunteer

PURPOSES = ("settlement", "schooling", "housing", "practice", "other")
# the handbook's own words (篇2 二(二)3): printed on the certificate, shown in Chinese everywhere
PURPOSE_TEXT = {"settlement": "积分入户", "schooling": "积分入学", "housing": "申请公租房",
                "practice": "实践证明", "other": "其他"}
STATUSES = ("pending", "approved", "rejected", "revoked")


class Certificate(BaseModel):
    volunteer = pw.ForeignKeyField(Volunteer, backref="certificates", on_delete="RESTRICT")
    team = pw.ForeignKeyField(Team, backref="certificates", on_delete="RESTRICT")   # the issuing unit
    purpose = pw.CharField(max_length=12)
    purpose_other = pw.CharField(max_length=100, default="")
    has_attachments = pw.BooleanField(default=False)
    status = pw.CharField(max_length=10, default="pending", index=True)
    reason = pw.TextField(default="")                       # why rejected / revoked
    number = pw.CharField(max_length=20, null=True, unique=True)   # given at approval (LG7)
    token = pw.CharField(max_length=64, null=True, unique=True)    # for the public verification page
    total_minutes = pw.IntegerField(default=0)
    period_start = pw.DateField(null=True)
    period_end = pw.DateField(null=True)
    batch_key = pw.CharField(max_length=64, null=True, unique=True)  # "activity:<id>:volunteer:<id>"
    handler_name = pw.CharField(max_length=50, default="")   # 经办人
    handler_phone = pw.CharField(max_length=30, default="")  # 联系电话 (of the unit)
    issued_on = pw.DateField(null=True)
    created_at = DateTimeTZField(default=now, index=True)
    created_by = pw.IntegerField(null=True)
    decided_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)
    revoked_at = DateTimeTZField(null=True)
    revoked_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "certificates_certificate"
        indexes = ((("team", "status"), False), (("volunteer", "status"), False))

    def __str__(self):
        return self.number or f"#{self.id}"

    @property
    def hours(self) -> float:
        return self.total_minutes / 60

    @property
    def purpose_text(self) -> str:
        if self.purpose == "other" and self.purpose_other:
            return self.purpose_other
        return PURPOSE_TEXT.get(self.purpose, self.purpose)


class CertificateLine(BaseModel):
    """One row of 志愿服务内容, copied from the service record when the certificate was applied for."""
    certificate = pw.ForeignKeyField(Certificate, backref="lines", on_delete="RESTRICT")
    record = pw.ForeignKeyField(ServiceRecord, backref="+", on_delete="RESTRICT")
    record_version = pw.IntegerField(default=1)
    activity = pw.ForeignKeyField(Activity, backref="+", on_delete="RESTRICT")
    service_date = pw.DateField()
    activity_title = pw.CharField(max_length=200)
    content = pw.CharField(max_length=200, default="")      # 服务内容
    organiser = pw.CharField(max_length=300, default="")    # 服务组织单位
    minutes = pw.IntegerField()

    class Meta:
        table_name = "certificates_line"
        indexes = ((("certificate", "record"), True),)

    @property
    def hours(self) -> float:
        return self.minutes / 60


class Issuer(BaseModel):
    """How a team signs its certificates: the seal image (optional), 经办人 and 联系电话."""
    team = pw.ForeignKeyField(Team, unique=True, backref="+", on_delete="CASCADE")
    handler_name = pw.CharField(max_length=50, default="")
    contact_phone = pw.CharField(max_length=30, default="")
    seal_file = pw.CharField(max_length=64, default="")      # random stored name under uploads/certificates
    seal_size = pw.IntegerField(default=0)
    updated_at = DateTimeTZField(default=now)
    updated_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "certificates_issuer"

    def __str__(self):
        return str(self.team)
