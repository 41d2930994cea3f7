"""The kernel's own tables. They know no feature: accounts, sessions, plugin state, settings,
the audit log and the message inbox. Every plugin's models build on these."""
from __future__ import annotations

import peewee as pw

from .db import BaseModel, DateTimeTZField, now


class User(BaseModel):
    username = pw.CharField(max_length=64, unique=True)
    display_name = pw.CharField(max_length=100, default="")
    email = pw.CharField(max_length=254, default="")
    password_hash = pw.CharField(max_length=255)
    locale = pw.CharField(max_length=16, default="")
    is_active = pw.BooleanField(default=True)
    must_change_password = pw.BooleanField(default=False)
    created_at = DateTimeTZField(default=now)
    last_login_at = DateTimeTZField(null=True)
    password_changed_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "core_user"

    def __str__(self):
        return self.display_name or self.username

    # Flask-Login protocol
    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return str(self.id)


class UserRole(BaseModel):
    """A role held by a user, optionally limited to a scope (e.g. ``team:12`` for a team admin)."""
    user = pw.ForeignKeyField(User, backref="role_links", on_delete="CASCADE")
    role = pw.CharField(max_length=64)
    scope = pw.CharField(max_length=64, default="")

    class Meta:
        table_name = "core_user_role"
        indexes = ((("user", "role", "scope"), True),)

    def __str__(self):
        return f"{self.role}{'@' + self.scope if self.scope else ''}"


class LoginSession(BaseModel):
    """Server-side record of a login; the cookie holds only its random id. Logout, deactivation and
    password change revoke it, so a replayed cookie is refused (SECURITY.md AC4)."""
    token_hash = pw.CharField(max_length=64, unique=True)
    user = pw.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeTZField(default=now)
    last_seen_at = DateTimeTZField(default=now)
    revoked_at = DateTimeTZField(null=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=255, default="")

    class Meta:
        table_name = "core_login_session"


class LoginFailure(BaseModel):
    """Failed login attempts, shared by every worker through the database (AC2)."""
    key = pw.CharField(max_length=200, index=True)  # "user:<name>" or "ip:<addr>"
    at = DateTimeTZField(default=now, index=True)

    class Meta:
        table_name = "core_login_failure"


class PluginState(BaseModel):
    name = pw.CharField(max_length=64, primary_key=True)
    enabled = pw.BooleanField(default=False)
    installed_version = pw.CharField(max_length=32, default="")
    installed_at = DateTimeTZField(null=True)
    data_loaded = pw.BooleanField(default=False)
    demo_loaded = pw.BooleanField(default=False)
    changed_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "core_plugin_state"


class Setting(BaseModel):
    """Site settings as key/value pairs (plugin defaults come from manifests)."""
    key = pw.CharField(max_length=128, primary_key=True)
    value = pw.TextField(default="")

    class Meta:
        table_name = "core_setting"


class AuditLog(BaseModel):
    """Append-only record of who did what to which object, when and from where (AU1, AU2)."""
    at = DateTimeTZField(default=now, index=True)
    user_id = pw.IntegerField(null=True, index=True)
    username = pw.CharField(max_length=64, default="")
    action = pw.CharField(max_length=64, index=True)
    object_type = pw.CharField(max_length=64, default="", index=True)
    object_id = pw.CharField(max_length=64, default="")
    ip = pw.CharField(max_length=64, default="")
    details = pw.TextField(default="")

    class Meta:
        table_name = "core_audit_log"


class Message(BaseModel):
    """One message to one user: the in-app inbox row; channels record their delivery on it."""
    recipient = pw.ForeignKeyField(User, backref="messages", on_delete="CASCADE")
    subject = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    category = pw.CharField(max_length=64, default="")
    dedupe_key = pw.CharField(max_length=200, null=True)
    created_at = DateTimeTZField(default=now, index=True)
    read_at = DateTimeTZField(null=True)
    email_status = pw.CharField(max_length=32, default="")
    channel_log = pw.TextField(default="")

    class Meta:
        table_name = "core_message"
        indexes = ((("recipient", "dedupe_key"), True),)


from .workdays import CalendarDay  # noqa: E402
from .numbering import IssuedNumber, NumberSequence  # noqa: E402

CORE_MODELS = [User, UserRole, LoginSession, LoginFailure, PluginState, Setting, AuditLog, Message,
               CalendarDay, NumberSequence, IssuedNumber]
