"""Destruction (R-ARC-5, 附录十): files past their disposal date are listed; a destruction is applied for,
reviewed by the archivist, appraised by the supervision group, approved by the team leader and carried out
before 2–3 witnesses, in that order (core.workflow ``archives.destruction``, one permission per step, one
audit row per step). The same person may not take two steps of one destruction (enforced: a
``WorkflowError`` beside the step). A permanent file is never destroyed.

Carrying it out removes the documents' stored bytes (folder or S3) and their rows; on SQLite the deleting
statements run with ``PRAGMA secure_delete=ON`` and the WAL is checkpointed after the commit, so the
destroyed documents' text is not left in freed pages of the database file. The destruction register (this
table) keeps what was destroyed (number, title, the documents' list), when, by whom and before whom."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l

from core import audit
from core.db import now, today, transaction
from core.errors import FieldErrors
from core.settings import PluginSettings
from core.workflow import Step, Workflow, WorkflowError

from . import storage
from .models import ArchiveFile, Destruction, Document, Loan

SETTINGS = PluginSettings(__file__)

DESTRUCTION = Workflow(
    "archives.destruction", Destruction,
    states={"applied": _l("Applied for"), "reviewed": _l("Reviewed by the archivist"),
            "appraised": _l("Appraised by the supervision group"), "approved": _l("Approved by the team leader"),
            "destroyed": _l("Destroyed"), "rejected": _l("Refused")},
    steps=[Step("review", "applied", "reviewed", "archives.destruction.review", _l("Review (archivist)")),
           Step("appraise", "reviewed", "appraised", "archives.destruction.appraise",
                _l("Appraise (supervision group)")),
           Step("approve", "appraised", "approved", "archives.destruction.approve", _l("Approve (team leader)")),
           Step("destroy", "approved", "destroyed", "archives.destruction.destroy", _l("Destroy before witnesses")),
           Step("reject", ("applied", "reviewed", "appraised", "approved"), "rejected",
                "archives.destruction.review", _l("Refuse"), reason=True)],
)
BY = {"review": "reviewed_by", "appraise": "appraised_by", "approve": "approved_by", "destroy": "destroyed_by"}
OPEN = ("applied", "reviewed", "appraised", "approved")


def due_files(query=None):
    """Files past their disposal date, not permanent, not destroyed and without a destruction under way."""
    q = query if query is not None else ArchiveFile.select()
    busy = Destruction.select(Destruction.file).where(Destruction.status.in_(OPEN))
    return q.where(ArchiveFile.disposal_date.is_null(False) & (ArchiveFile.disposal_date <= today())
                   & (ArchiveFile.retention != "permanent") & (ArchiveFile.status != "destroyed")
                   & ArchiveFile.id.not_in(busy)).order_by(ArchiveFile.disposal_date, ArchiveFile.number)


def apply(file: ArchiveFile, *, reason: str = "", actor=None) -> Destruction:
    """The application (step 1 of 5)."""
    if file.retention == "permanent" or file.disposal_date is None:
        raise FieldErrors({"file": _l("A permanent file is kept for ever: it cannot be destroyed.")})
    if file.status == "destroyed":
        raise FieldErrors({"file": _l("This file was destroyed.")})
    if file.disposal_date > today():
        raise FieldErrors({"file": _l("The file may be destroyed from %(d)s, its disposal date.",
                                      d=file.disposal_date.isoformat())})
    if Loan.select().where((Loan.file == file) & (Loan.status == "on_loan")).exists():
        raise FieldErrors({"file": _l("The file is on loan: it is destroyed after it comes back.")})
    if Destruction.select().where((Destruction.file == file) & Destruction.status.in_(OPEN)).exists():
        raise FieldErrors({"file": _l("A destruction of this file is already under way.")})
    with transaction():
        d = Destruction.create(team=file.team_id, file=file, file_number=file.number, file_title=file.title,
                               reason=" ".join((reason or "").split())[:2000], applicant=getattr(actor, "id", actor))
        audit.log("archives.destruction.apply", d, {"file": file.number}, user=actor)
    return d


def _actors(d: Destruction) -> set:
    return {x for x in (d.applicant_id, d.reviewed_by_id, d.appraised_by_id, d.approved_by_id, d.destroyed_by_id) if x}


def _one_step_each(d: Destruction, actor):
    if actor is not None and actor.id in _actors(d):
        raise WorkflowError({"__all__": _l("You already took a step of this destruction: another person "
                                           "takes this one.")})


def step(d: Destruction, name: str, *, actor, reason: str = "") -> Destruction:
    """review / appraise / approve (steps 2–4), or reject."""
    if name not in ("review", "appraise", "approve", "reject"):
        raise WorkflowError(_l("This step does not exist."))
    if name != "reject":
        _one_step_each(d, actor)
    values = {BY[name]: actor.id} if name in BY else None
    return DESTRUCTION.move(d, name, actor=actor, reason=reason, values=values)


def witnesses_of(text: str) -> list[str]:
    return [" ".join(w.split()) for w in (text or "").replace("，", "\n").replace(",", "\n").splitlines()
            if w.strip()]


def destroy(d: Destruction, *, witnesses, signature: bytes, signature_name: str = "signatures.pdf",
            actor) -> Destruction:
    """Step 5: before 2–3 witnesses (names; their signatures as an upload or a signed PDF) the documents'
    bytes are removed from the store and their rows deleted; the register keeps what was destroyed."""
    from core.db import after_commit, db, is_sqlite
    names = witnesses_of(witnesses) if isinstance(witnesses, str) else [w.strip() for w in witnesses if w.strip()]
    lo, hi = SETTINGS.get("destruction_min_witnesses"), SETTINGS.get("destruction_max_witnesses")
    errors = {}
    if not lo <= len(names) <= hi:
        errors["witnesses"] = _l("Name %(lo)s to %(hi)s witnesses.", lo=lo, hi=hi)
    elif len(set(names)) != len(names):
        errors["witnesses"] = _l("Each witness is a different person.")
    if not signature:
        errors["signature"] = _l("Upload the witnesses' signatures (a scan or a signed PDF).")
    if errors:
        raise FieldErrors(errors)
    _one_step_each(d, actor)
    from core.security import can
    if not can("archives.destruction.destroy", d, user=actor):
        audit.log("access.denied", d, {"step": "archives.destruction.destroy"}, user=actor)
        raise WorkflowError(_l("You may not take this step."), code=403)
    if d.status != "approved":
        raise WorkflowError(_l("This cannot be done while the item is %(state)s.",
                               state=DESTRUCTION.label(d.status)))
    store = storage.backend()
    key = f"destruction/{d.id}/{uuid.uuid4().hex}-{storage.sha256(signature)[:16]}"
    store.put(key, signature)                                 # the signatures are the register's evidence
    docs = list(Document.select().where(Document.file == d.file_id).order_by(Document.page))
    contents = "\n".join(f"{x.page}\t{x.title}\t{x.filename}\t{x.sha256}" for x in docs)
    sqlite = is_sqlite()
    before = db.execute_sql("PRAGMA secure_delete").fetchone()[0] if sqlite else None
    with transaction():
        if sqlite:
            db.execute_sql("PRAGMA secure_delete=ON")        # the deleted rows' cells are zeroed in place
            after_commit(lambda: db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))
        try:
            row = DESTRUCTION.move(d, "destroy", actor=actor, values={
                "destroyed_by": actor.id, "destroyed_at": now(), "witnesses": "\n".join(names),
                "signature_key": key, "signature_storage": store.name,
                "signature_sha256": storage.sha256(signature), "contents": contents, "document_count": len(docs)})
            ids = [x.id for x in docs]
            if ids:
                Loan.update(document=None).where(Loan.document.in_(ids)).execute()
                Document.update(replaces=None).where(Document.id.in_(ids)).execute()
                Document.delete().where(Document.id.in_(ids)).execute()
            ArchiveFile.update(status="destroyed").where(ArchiveFile.id == d.file_id).execute()
            audit.log("archives.file_destroyed", ("archives_file", str(d.file_id)),
                      {"number": d.file_number, "documents": len(docs), "witnesses": len(names)}, user=actor)
        finally:
            if sqlite:
                db.execute_sql("PRAGMA secure_delete=" + {0: "OFF", 1: "ON"}.get(before, "FAST"))
    for x in docs:                                              # after the commit: the bytes go
        storage.backend(x.storage).delete(x.key)
    return row


def signature(d: Destruction) -> bytes | None:
    return storage.backend(d.signature_storage).get(d.signature_key) if d.signature_key else None
