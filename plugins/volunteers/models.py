"""Volunteer records (附录一 党员志愿者注册登记表; R-REG-1…4, R-REG-6, R-NAT-1, R-NAT-6).

Sensitive fields (ID number, phone, political status, religion, guardian data) are encrypted at rest
(core.crypto.EncryptedField, SECURITY.md PR1, PR2). Only the ID and phone numbers, unique or nearly so
per person, have keyed-hash blind indexes for exact lookups. The political status, the in-service
reporting, the Party-member pledge and the religion take few values: they are sealed
(core.crypto.SealedField: the same ciphertext length for every row, the empty value encrypted too) and
have no index, so that no column of a dump or backup groups the volunteers by them (NS5); who is a
Party member is found by decrypting the rows in scope (services.political_standing).
"""
import peewee as pw

from core.crypto import BlindIndexField, EncryptedField, SealedDateTimeField, SealedField
from core.db import BaseModel, DateTimeTZField, now
from core.models import User

GENDERS = (("M", "男"), ("F", "女"))
DISTRICTS = ["越秀区", "荔湾区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区",
             "增城区", "从化区", "其他"]
# political status, including the stages of Party membership development (R-REG-1, glossary)
POLITICAL_STATUSES = ["中共党员", "中共预备党员", "发展对象", "入党积极分子", "共青团员", "民主党派",
                      "群众"]
PARTY_MEMBER_STATUSES = ("中共党员", "中共预备党员")
PARTY_TRACK_STATUSES = ("入党积极分子", "发展对象", "中共预备党员")
EDUCATION = ["小学", "初中", "高中/中专", "大专", "本科", "硕士研究生", "博士研究生", "其他"]

# sensitivity tags of every personal field (PR1): "sensitive" = encrypted + masked, "personal" = shown
# to those who manage the volunteer, "public" = may appear on public pages
SENSITIVITY = {
    "name": "personal", "nickname": "personal", "gender": "personal", "id_type": "personal",
    "id_number": "sensitive", "birth_date": "personal", "phone": "sensitive", "email": "personal",
    "political_status": "sensitive", "religion": "sensitive", "ethnicity": "personal",
    "native_place": "personal", "household_place": "personal", "district": "personal",
    "address": "personal", "postcode": "personal", "qq": "personal", "wechat": "personal",
    "education": "personal", "school_major": "personal", "professional_title": "personal",
    "job_title": "personal", "occupation": "personal", "employer": "personal",
    "specialties": "personal", "hobbies": "personal", "service_intention": "personal",
    "resume": "personal", "guardian_name": "sensitive", "guardian_phone": "sensitive",
    "in_service_reported_on": "sensitive", "number": "public",
}


class Volunteer(BaseModel):
    number = pw.CharField(max_length=32, unique=True)           # 志愿者编号, shown instead of the ID
    user = pw.ForeignKeyField(User, null=True, unique=True, backref="volunteer", on_delete="SET NULL")
    name = pw.CharField(max_length=50, index=True)               # 姓名
    nickname = pw.CharField(max_length=50, default="")           # 昵称
    gender = pw.CharField(max_length=1, choices=GENDERS)         # 性别
    id_type = pw.CharField(max_length=20, default="cn_id")       # 证件类型
    id_number = EncryptedField(context="volunteer.id_number")    # 证件号码 (ciphertext)
    id_hash = BlindIndexField(unique=True)                       # HMAC(id_type:number)
    birth_date = pw.DateField(null=True)                         # 出生年月
    phone = EncryptedField(context="volunteer.phone")            # 手机号码 (ciphertext)
    phone_hash = BlindIndexField(index=True)
    email = pw.CharField(max_length=254, default="")
    political_status = SealedField(context="volunteer.political_status", size=32)  # 政治面貌 (≤ 18 bytes)
    religion = SealedField(context="volunteer.religion", size=64)
    # 在职党员回社区报到 (篇5 一(三)2(4), R-PARTY-3): the date (ISO text) an in-service Party member
    # reported to the community; it reveals Party membership, so it is sealed like the political status
    in_service_reported_on = SealedField(context="volunteer.in_service", size=16)
    ethnicity = pw.CharField(max_length=20, default="")          # 民族
    native_place = pw.CharField(max_length=100, default="")      # 籍贯
    household_place = pw.CharField(max_length=100, default="")   # 户籍所在地
    district = pw.CharField(max_length=10, default="", index=True)  # 所属区域
    address = pw.CharField(max_length=255, default="")           # 居住地址 / 详细地址
    postcode = pw.CharField(max_length=10, default="")
    qq = pw.CharField(max_length=20, default="")
    wechat = pw.CharField(max_length=50, default="")
    education = pw.CharField(max_length=20, default="")          # 学历
    school_major = pw.CharField(max_length=200, default="")      # 毕业学校与专业
    professional_title = pw.CharField(max_length=50, default="")  # 职称
    job_title = pw.CharField(max_length=50, default="")          # 职务
    occupation = pw.CharField(max_length=50, default="")         # 职业
    employer = pw.CharField(max_length=200, default="")          # 工作单位及地址
    specialties = pw.CharField(max_length=255, default="")       # 特长
    hobbies = pw.CharField(max_length=255, default="")           # 爱好
    service_intention = pw.CharField(max_length=255, default="")  # 服务意向
    resume = pw.TextField(default="")                            # 个人简历
    remarks = pw.TextField(default="")                           # 备注
    # consents (R-REG-2, R-REG-6, PR3, PR4)
    agreement_version = pw.CharField(max_length=20)
    agreement_accepted_at = DateTimeTZField()
    sensitive_consent_version = pw.CharField(max_length=20, default="")
    sensitive_consent_at = DateTimeTZField(null=True)
    # 党员志愿者承诺: only Party members sign it, so its time is sealed too (None when not signed)
    pledge_accepted_at = SealedDateTimeField(context="volunteer.pledge", size=32, null=True)
    minor_basis = pw.CharField(max_length=10, default="")        # under 16: guardian | group
    guardian_name = EncryptedField(context="volunteer.guardian_name", default="")
    guardian_phone = EncryptedField(context="volunteer.guardian_phone", default="")
    guardian_consent_at = DateTimeTZField(null=True)
    status = pw.CharField(max_length=12, default="active", index=True)  # active | inactive | erased | pending | rejected (R-REG-7)
    registered_at = DateTimeTZField(default=now, index=True)
    updated_at = DateTimeTZField(default=now)
    last_active_at = DateTimeTZField(null=True)                  # activity reported by other plugins

    class Meta:
        table_name = "volunteers_volunteer"

    def __str__(self):
        return f"{self.name}（{self.number}）"

    @property
    def is_party_member(self):
        return self.political_status in PARTY_MEMBER_STATUSES

    @property
    def is_party_track(self):
        return self.political_status in PARTY_TRACK_STATUSES

    @property
    def is_in_service_party_member(self):
        """A Party member who has reported to the community as an in-service Party member (在职党员)."""
        return self.is_party_member and bool(self.in_service_reported_on)


class Sequence(BaseModel):
    """Gap-tolerant counters for numbers handed out to people (volunteer numbers)."""
    name = pw.CharField(max_length=64, primary_key=True)
    value = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "volunteers_sequence"


class DataRequest(BaseModel):
    """A volunteer's request about their own data (PIPL 44–47; PR7, R-NAT-4): export, correction,
    deletion or consent withdrawal, with its outcome and reason."""
    volunteer = pw.ForeignKeyField(Volunteer, backref="data_requests", on_delete="CASCADE")
    kind = pw.CharField(max_length=12)          # export | correction | deletion | withdraw
    details = pw.TextField(default="")
    status = pw.CharField(max_length=12, default="open", index=True)  # open | done | refused
    outcome = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)
    decided_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "volunteers_data_request"


class Application(BaseModel):
    """A public registration waiting for the organisation's review against the basic conditions
    (附录九 第八、九条; R-REG-7), when the ``review_registrations`` setting is on. The volunteer row exists
    with status ``pending`` (no active file, no volunteer role) until a reviewer approves it; a rejection
    keeps the reason, which the applicant is told. ``team_id``: the team the applicant chose, if any
    (its admins may review; kept as a number because this plugin does not depend on ``teams``)."""
    volunteer = pw.ForeignKeyField(Volunteer, unique=True, backref="applications", on_delete="CASCADE")
    team_id = pw.IntegerField(null=True, index=True)
    status = pw.CharField(max_length=12, default="pending", index=True)  # pending | approved | rejected
    reason = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)
    decided_at = DateTimeTZField(null=True)
    decided_by = pw.IntegerField(null=True)

    class Meta:
        table_name = "volunteers_application"

    def __str__(self):
        return str(self.volunteer)
