"""The privacy plugin's logic (issue 13 points 1–2; R-PRIV-1…5, SECURITY.md PR1, PR6, PR7; PIPL 44–47).

It asks every plugin, through the hooks of ``hookspecs.py``, what personal data it declares, holds and
erases for one data subject, and answers itself for the kernel's records (the login account, the inbox,
the subject's own access history in the audit log) through core's public models.
"""
from __future__ import annotations

import contextvars
import datetime as _dt
import hashlib
import io
import json
import secrets
import zipfile

from flask import current_app, render_template
from flask_babel import force_locale, lazy_gettext as _l

from core import audit
from core.db import for_update, now, transaction
from core.errors import FieldErrors
from core.settings import PluginSettings

from .contract import Declaration, ErasePart, ExportPart, Subject, personal_fields, plain
from .models import ExportLink

SETTINGS = PluginSettings(__file__)


class PrivacyError(FieldErrors):
    """A refused privacy action; the messages are in the user's language."""


# ------------------------------------------------------------------ asking the plugins
def _impls(hook_name: str):
    """(plugin name, function) of every plugin answering ``hook_name``, in load order."""
    hook = getattr(current_app.extensions["timebank"].pm.hook, hook_name, None)
    if hook is None:
        return []
    order = {n: i for i, n in enumerate(current_app.extensions["timebank"].loaded)}
    impls = sorted(hook.get_hookimpls(), key=lambda i: order.get(i.plugin_name, -1))
    return [(i.plugin_name, i.function) for i in impls]


def declarations() -> list[Declaration]:
    """Every plugin's declarations, each marked with the plugin that made it."""
    out = []
    for plugin, fn in _impls("personal_data_declarations"):
        for d in fn() or []:
            d.plugin = plugin
            out.append(d)
    return out


def site_models() -> list:
    from core.models import CORE_MODELS
    seen, out = set(), []
    for m in [*CORE_MODELS, *current_app.extensions["timebank"].models]:
        if m not in seen:
            seen.add(m)
            out.append(m)
    return out


def undeclared() -> list[tuple[str, str]]:
    """(table, field) of every field tagged personal (``contract.personal_fields``) that no plugin
    declares: empty on a correct site (the test of issue 13 point 1)."""
    declared = {(d.model._meta.table_name, f) for d in declarations() for f in d.fields}
    return [(m._meta.table_name, f) for m in site_models() for f in personal_fields(m)
            if (m._meta.table_name, f) not in declared]


def subject_for_user(user) -> Subject:
    """The data subject a logged-in person is: a volunteer when they have a volunteer record."""
    vid = None
    if "volunteers" in current_app.extensions["timebank"].loaded:
        from plugins.volunteers.models import Volunteer
        v = Volunteer.get_or_none(Volunteer.user == user.id)
        vid = v.id if v is not None else None
    return Subject(kind="volunteer" if vid else "user", user_id=user.id, volunteer_id=vid)


ACCESS_LABELS = {"pii.viewed": _l("Saw a full ID or phone number"), "volunteer.updated": _l("Changed the record"),
                 "volunteer.registered": _l("Registered the record"), "consent.given": _l("Consent given"),
                 "consent.withdrawn": _l("Consent withdrawn"), "volunteer.applied": _l("Applied to register"),
                 "pii.exported_by_owner": _l("Downloaded by the person")}


def seen_by_others(subject: Subject, limit: int = 200) -> list[dict]:
    """Who has seen or changed my data (PIPL 45; issue 13 point 2): the audit rows about the subject's
    volunteer record made by another account, newest first."""
    from core.models import AuditLog
    if not subject.volunteer_id:
        return []
    q = (AuditLog.select().where((AuditLog.object_type == "volunteers_volunteer")
                                 & (AuditLog.object_id == str(subject.volunteer_id))
                                 & (AuditLog.user_id.is_null() | (AuditLog.user_id != subject.user_id)))
         .order_by(AuditLog.id.desc()).limit(limit))
    return [{"at": a.at, "by": a.username or str(_l("The system")), "action": ACCESS_LABELS.get(a.action, a.action)}
            for a in q]


def export_parts(subject: Subject) -> list[tuple[str, ExportPart]]:
    """(plugin, part) of every plugin's answer for ``subject``."""
    out = []
    for plugin, fn in _impls("personal_data_export"):
        got = fn(subject=subject)
        if got is None:
            continue
        for part in (got if isinstance(got, list) else [got]):
            out.append((plugin, part))
    return out


def build_zip(subject: Subject) -> bytes:
    """One ZIP of every plugin's answer (issue 13 point 2): ``data.json`` for machines and
    ``个人信息.html``, a readable page in Chinese."""
    with force_locale("zh_Hans_CN"):   # the readable page and the titles are in Chinese, whatever the site's language
        parts = export_parts(subject)
        generated = now()
        data = {"generated_at": generated.isoformat(), "subject": plain(vars(subject)),
                "parts": [{"plugin": p, "title": str(part.title), "columns": [str(c) for c in part.columns],
                           "rows": plain(part.rows), "data": plain(part.data)} for p, part in parts]}
        html = render_template("privacy/export.html", parts=parts, generated=generated, subject=subject)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        z.writestr("个人信息.html", html)
        for i, (plugin, part) in enumerate(parts):
            for name, content in part.files:
                z.writestr(f"files/{plugin}/{i}-{name}", content)
    return buf.getvalue()


def erase_subject(subject: Subject, *, actor=None, reason: str = "request") -> list[tuple[str, ErasePart]]:
    """Erase or anonymise the subject in every plugin, in one transaction (PR6, PR7). The plugin that
    owns the subject's record (volunteers) answers last, after the others have used the links; each
    answer says what was removed and what is kept by law. Audited once, with the summary."""
    out = []
    impls = _impls("personal_data_erase")
    impls.sort(key=lambda pf: pf[0] == "volunteers")   # stable: the owner of the record last
    token = _erasing.set(subject.volunteer_id)
    try:
        with transaction():
            _overwrite_freed_space()
            for plugin, fn in impls:
                part = fn(subject=subject, actor=actor)
                if part is not None:
                    out.append((plugin, part))
            audit.log("privacy.erased", ("privacy_subject", subject.volunteer_id or subject.user_id or ""),
                      {"kind": subject.kind, "reason": reason, "plugins": [p for p, _ in out]}, user=actor)
    finally:
        _erasing.reset(token)
    return out


_erasing: contextvars.ContextVar = contextvars.ContextVar("privacy_erasing", default=None)


def volunteer_erased(volunteer_id: int, reason: str):
    """The volunteers plugin erased a record by its own path (a granted deletion request, the retention
    job, an admin): every other plugin erases its part too, through the contract (PR6). Nothing to do
    when the erasure came through ``erase_subject`` (its own event, delivered at its commit)."""
    if _erasing.get() == volunteer_id:
        return
    from plugins.volunteers.models import Volunteer
    v = Volunteer.get_or_none(Volunteer.id == volunteer_id)
    if v is None:
        return
    erase_subject(Subject("volunteer", user_id=v.user_id, volunteer_id=v.id), reason=reason)


def _overwrite_freed_space():
    """SQLite keeps deleted text in freed pages and in the WAL: zero freed cells from here on, and copy
    the WAL into the file after the commit, so that erased data is not left in the database files (PR6).
    PostgreSQL's old row versions go with (auto)vacuum."""
    from core.db import after_commit, db, is_sqlite
    if not is_sqlite():
        return
    db.execute_sql("PRAGMA secure_delete=FAST")
    after_commit(lambda: db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))


# ------------------------------------------------------------------ download links
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_export_link(user) -> str:
    """A single-use link, valid ``export_link_minutes``, for ``user``'s own export. Returns the token
    (shown once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    subject = subject_for_user(user)
    with transaction():
        link = ExportLink.create(token_hash=_hash(token), user=user.id, volunteer_id=subject.volunteer_id,
                                 expires_at=now() + _dt.timedelta(minutes=SETTINGS.get("export_link_minutes")))
        audit.log("privacy.export_prepared", link, user=user)
    return token


def use_export_link(token: str, user) -> bytes:
    """The ZIP for a link's owner, once: another person's link, a used or an expired one is refused
    (PrivacyError) and nothing is built. Audited, the refusal of another person's link too."""
    refused = None
    with transaction():
        link = for_update(ExportLink.select().where(ExportLink.token_hash == _hash(str(token or "")))).first()
        if link is None or link.user_id != user.id:
            refused = {"link": _l("This download link is not valid.")}
        elif link.used_at is not None:
            refused = {"link": _l("This download link has already been used. Prepare a new one.")}
        elif link.expires_at <= now():
            refused = {"link": _l("This download link has expired. Prepare a new one.")}
        else:
            link.used_at = now()
            link.save()
            subject = subject_for_user(user)
            body = build_zip(subject)
            audit.log("privacy.exported", link, {"kind": subject.kind, "bytes": len(body)}, user=user)
    if refused is not None:
        if link is not None and link.user_id != user.id:   # someone tried another person's link (IDOR)
            audit.log("privacy.export_refused", link, {"why": "other user"}, user=user)
        raise PrivacyError(refused)
    return body


def purge_export_links() -> int:
    """Delete the download links that were used or have expired (the nightly job). Returns how many."""
    return ExportLink.delete().where(ExportLink.used_at.is_null(False) | (ExportLink.expires_at <= now())).execute()


# ------------------------------------------------------------------ processing record (point 8)
SUBJECT_LABELS = {"volunteer": _l("Volunteers"), "recipient": _l("Service recipients"), "user": _l("Account holders"),
                  "contact": _l("Contact persons")}
SENSITIVITY_LABELS = {"sensitive": _l("sensitive"), "personal": _l("personal"), "public": _l("public")}
RECORD_HEADERS = (_l("Plugin"), _l("Data table"), _l("Whose data"), _l("Personal data"), _l("Purpose of processing"),
                  _l("Legal basis"), _l("Retention"), _l("Who can see it"))


def processing_record() -> list[list[str]]:
    """The 个人信息处理活动记录 (PIPL 55–56; issue 13 point 8), one row per declared table, generated
    from every plugin's declarations (never written by hand): plugin, table, whose data, the fields with
    their sensitivity, purpose, legal basis, retention, who can see it."""
    kernel = current_app.extensions["timebank"]
    rows = []
    for d in declarations():
        info = kernel.plugins.get(d.plugin)
        title = str(_l(info.manifest.get("title", d.plugin))) if info is not None else d.plugin
        fields = "、".join(f"{d.labels.get(f) or _field_label(d.model, f)}（{SENSITIVITY_LABELS[tag]}）"
                          for f, tag in d.fields.items())
        rows.append([title, d.model._meta.table_name, str(SUBJECT_LABELS[d.subject]), fields, str(d.purpose),
                     str(d.legal_basis), str(d.retention), str(d.access)])
    return rows


# names of fields that no model or admin view labels, as people read them
FIELD_LABELS = {"volunteer": _l("Volunteer"), "user": _l("User"), "ip": _l("Network address"),
                "user_agent": _l("Browser"), "key": _l("Login identifier (hashed when it is a number)"),
                "comments": _l("Comments"), "uploaded_by": _l("Uploaded by"), "caption": _l("Caption"),
                "purpose_other": _l("Other purpose"), "id_hash": _l("ID number index (keyed hash)"),
                "phone_hash": _l("Mobile number index (keyed hash)")}


def _field_label(model, name: str) -> str:
    """A field's label for people: the model's ``LABELS`` if it has them, else the label an admin view of
    the model gives the column (``column_labels``, in the reader's language), else its verbose name."""
    labels = getattr(model, "LABELS", None) or {}
    if name in labels:
        return str(labels[name])
    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            if getattr(view, "model", None) is model and name in (view.column_labels or {}):
                return str(view.column_labels[name])
    f = model._meta.fields[name]
    return str(f.verbose_name or FIELD_LABELS.get(name) or name)


def processing_record_xlsx(user) -> bytes:
    from core.exports import xlsx_bytes
    rows = processing_record()
    audit.log("privacy.record_exported", ("privacy_record", ""), {"rows": len(rows)}, user=user)
    return xlsx_bytes([str(h) for h in RECORD_HEADERS], rows, sheet_title=str(_l("Processing record")))
