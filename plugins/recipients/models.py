"""The service recipients register (服务对象; R-REC-1, R-PRIV-6; 附录九 第十三条, 附录十一).

Minimal fields only. The ID number, the phone and the guardian's name and phone are encrypted at rest
(core.crypto.EncryptedField, PR1) and masked on screen; the ID and phone numbers have keyed-hash blind
indexes for exact lookups, as in the volunteers plugin. Every row belongs to a team (team-scoped)."""
import peewee as pw
from flask_babel import lazy_gettext as _l

from core.crypto import BlindIndexField, EncryptedField
from core.db import BaseModel, DateTimeTZField, now
from plugins.teams.models import Team

FILE_KINDS = {"long": _l("Long-term file"), "short": _l("Short-term file")}
CATEGORIES = {"elder_alone": _l("Elder living alone"), "elder": _l("Elder"), "disabled": _l("Person with a disability"),
              "child": _l("Child"), "in_need": _l("Person in need"), "other": _l("Other")}
SHORT_CATEGORIES = {"elder_alone": _l("elder"), "elder": _l("elder"), "disabled": _l("disabled"),
                    "child": _l("child"), "in_need": _l("in need"), "other": _l("recipient")}
CONSENT_BY = {"self": _l("The recipient"), "guardian": _l("The guardian")}

SENSITIVITY = {"name": "personal", "id_number": "sensitive", "id_hash": "sensitive", "phone": "sensitive",
               "phone_hash": "sensitive", "guardian_name": "sensitive", "guardian_relation": "personal",
               "guardian_phone": "sensitive", "community": "personal", "address": "personal",
               "needs": "personal", "notes": "personal", "consent_giver": "personal"}


class Recipient(BaseModel):
    PERSONAL_FIELDS = ("name", "guardian_relation", "community", "address", "needs", "notes", "consent_giver")
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT", index=True)   # owning team
    file_kind = pw.CharField(max_length=8, default="long", index=True)             # 长期 / 短期
    category = pw.CharField(max_length=16, default="other", index=True)
    name = pw.CharField(max_length=50)
    id_number = EncryptedField(context="recipient.id_number", default="")
    id_hash = BlindIndexField(default="", index=True)
    phone = EncryptedField(context="recipient.phone", default="")
    phone_hash = BlindIndexField(default="", index=True)
    guardian_name = EncryptedField(context="recipient.guardian_name", default="")
    guardian_relation = pw.CharField(max_length=20, default="")
    guardian_phone = EncryptedField(context="recipient.guardian_phone", default="")
    community = pw.CharField(max_length=100, default="")
    address = pw.CharField(max_length=255, default="")
    needs = pw.TextField(default="")
    notes = pw.TextField(default="")
    # the registration consent (R-PRIV-6 第十条: the notice shown and its version; who gave it)
    notice_version = pw.CharField(max_length=20, default="")
    consent_by = pw.CharField(max_length=10, default="self")      # self | guardian
    consent_giver = pw.CharField(max_length=50, default="")       # who signed (the guardian's name is encrypted)
    consent_at = DateTimeTZField(null=True)
    # consent to refer the file to another body (第十二条), kept here when the privacy plugin is off
    referral_consent_at = DateTimeTZField(null=True)
    # confidentiality agreement for one-to-one service (第七条)
    confidentiality_on = pw.DateField(null=True)
    confidentiality_version = pw.CharField(max_length=20, default="")
    status = pw.CharField(max_length=10, default="active", index=True)   # active | closed | erased
    created_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now, index=True)

    class Meta:
        table_name = "recipients_recipient"

    def __str__(self):
        from core.pii import mask_name
        return f"{mask_name(self.name)}（{SHORT_CATEGORIES.get(self.category, '')}）"


class FollowUp(BaseModel):
    """A regular follow-up visit (定期回访)."""
    PERSONAL_FIELDS = ("notes",)
    recipient = pw.ForeignKeyField(Recipient, backref="follow_ups", on_delete="CASCADE")
    visited_on = pw.DateField(index=True)
    visited_by = pw.CharField(max_length=50)
    notes = pw.TextField(default="")
    created_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "recipients_followup"


class Wish(BaseModel):
    """A 微心愿 collected from a recipient and, later, fulfilled by a volunteer or a team."""
    PERSONAL_FIELDS = ("wish",)
    recipient = pw.ForeignKeyField(Recipient, backref="wishes", on_delete="CASCADE")
    wish = pw.CharField(max_length=200)
    collected_on = pw.DateField()
    fulfilled_by = pw.CharField(max_length=100, default="")     # a volunteer or a team, as written
    fulfilled_on = pw.DateField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "recipients_wish"


class ServiceRequest(BaseModel):
    """A service on the recipient's application (申请服务)."""
    PERSONAL_FIELDS = ("service", "outcome")
    recipient = pw.ForeignKeyField(Recipient, backref="service_requests", on_delete="CASCADE")
    service = pw.CharField(max_length=200)
    applied_on = pw.DateField()
    status = pw.CharField(max_length=10, default="open", index=True)   # open | done | refused
    outcome = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "recipients_service_request"


class Referral(BaseModel):
    """The recipient's file given to another body (e.g. a 社工站) with their prior consent (第十二条)."""
    PERSONAL_FIELDS = ("to_body", "reason")
    recipient = pw.ForeignKeyField(Recipient, backref="referrals", on_delete="CASCADE")
    to_body = pw.CharField(max_length=200)
    reason = pw.TextField()
    referred_on = pw.DateField()
    referred_by = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "recipients_referral"
