"""The privacy plugin's own records (issue 13 point 2): single-use, expiring download links for a data
subject's export. Only a keyed hash of the link's token is stored."""
import peewee as pw

from core.db import BaseModel, DateTimeTZField, now
from core.models import User


class ExportLink(BaseModel):
    """One prepared download of everything held about a subject (PIPL 45, PR7): for ``user`` only,
    usable once (``used_at``) before ``expires_at``."""
    token_hash = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    volunteer_id = pw.IntegerField(null=True)
    created_at = DateTimeTZField(default=now)
    expires_at = DateTimeTZField()
    used_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "privacy_export_link"
