"""Borrowing (R-ARC-4, 附录十): the borrowing register (number, content, recorder, borrow and return time,
borrower, contact), a loan of at most ``loan_workdays`` (3) working days, overdue loans chased by inbox
message every day until returned, copying and borrowing by another team only after the team leader's
approval (core.workflow ``archives.loan``).

Working days, not calendar days: the archive room is open on working days only (a loan handed out on the
Friday before the National Day holiday cannot come back until the room opens again), and the house rule
for every time rule is the Chinese working-day calendar (core.workdays)."""
from __future__ import annotations

import datetime as _dt

from flask_babel import lazy_gettext as _l

from core import audit, messages, numbering
from core.db import now, transaction
from core.errors import FieldErrors
from core.pii import PIIError, validate_contact_phone
from core.settings import PluginSettings
from core.workdays import deadline
from core.workflow import Step, Workflow

from .models import ArchiveFile, Document, Loan

SETTINGS = PluginSettings(__file__)

LOANS = Workflow(
    "archives.loan", Loan,
    states={"requested": _l("Awaiting approval"), "on_loan": _l("On loan"), "returned": _l("Returned"),
            "rejected": _l("Not approved")},
    steps=[Step("approve", "requested", "on_loan", "archives.loan.approve", _l("Approve the loan")),
           Step("reject", "requested", "rejected", "archives.loan.approve", _l("Refuse the loan"), reason=True),
           Step("return", "on_loan", "returned", "archives.loan.edit", _l("Returned"))],
    due={"on_loan": lambda: SETTINGS.get("loan_workdays")},
)


def lend(file: ArchiveFile, *, borrower: str, contact: str, content: str = "", document: Document | None = None,
         borrower_user=None, borrower_team=None, copying: bool = False, actor=None,
         borrowed_at: _dt.datetime | None = None) -> Loan:
    """Registers a loan. Within the file's own team and without copying it is on loan at once; a loan to
    another team, or one that allows copying, waits for the team leader's approval."""
    errors = {}
    borrower = " ".join((borrower or "").split())[:50]
    if not borrower:
        errors["borrower"] = _l("Name the borrower.")
    try:
        contact = validate_contact_phone((contact or "").strip())
    except PIIError as e:
        errors["contact"] = str(e)
    if file.status == "destroyed":
        errors["file"] = _l("This file was destroyed.")
    if document is not None and document.file_id != file.id:
        errors["document"] = _l("The document is not in this file.")
    bt = getattr(borrower_team, "id", borrower_team)
    if errors:
        raise FieldErrors(errors)
    needs_approval = bool(copying) or (bt is not None and bt != file.team_id)
    t = borrowed_at or now()
    with transaction():
        number = numbering.take("archives.loan", pattern="JY{year}{seq:06d}")
        loan = Loan.create(
            number=number, team=file.team_id, file=file, document=document,
            content=(content or (document.title if document is not None else file.title))[:200],
            borrower=borrower, borrower_user=getattr(borrower_user, "id", borrower_user), borrower_team=bt,
            contact=contact, copying=bool(copying), recorder=getattr(actor, "id", actor),
            status="requested" if needs_approval else "on_loan",
            borrowed_at=None if needs_approval else t,
            due_at=None if needs_approval else deadline(t, SETTINGS.get("loan_workdays")))
        audit.log("archives.loan_registered", loan, {"number": number, "file": file.number,
                                                      "copying": bool(copying), "status": loan.status}, user=actor)
    if needs_approval:
        from plugins.teams.services import team_admin_users
        for u in team_admin_users(file.team_id):
            messages.send(u, str(_l("Loan %(n)s of %(f)s awaits your approval", n=number, f=file.number)),
                          category="archives", dedupe_key=f"archives.loan_request:{loan.id}")
    return loan


def approve(loan: Loan, *, actor) -> Loan:
    """The team leader approves copying / another team's loan: on loan from now, the approver recorded."""
    t = now()
    return LOANS.move(loan, "approve", actor=actor, values={"approved_by": actor.id, "borrowed_at": t})


def reject(loan: Loan, *, reason: str, actor) -> Loan:
    return LOANS.move(loan, "reject", actor=actor, reason=reason, values={"approved_by": actor.id})


def give_back(loan: Loan, *, actor) -> Loan:
    return LOANS.move(loan, "return", actor=actor, values={"returned_at": now()})


def current(file: ArchiveFile):
    """The loans of a file (or its documents) still out: who has it."""
    return Loan.select().where((Loan.file == file) & (Loan.status == "on_loan")).order_by(Loan.id)


def overdue(query=None, *, at=None):
    return LOANS.overdue(query, at=at)


def chase(at: _dt.datetime | None = None) -> int:
    """The daily chase: every overdue loan gets one inbox message a day (to the borrower's account, else the
    recorder, and the team's admins) until it is returned. The dedupe key holds the loan and the day, so two
    workers running the task at once send it once."""
    from plugins.teams.services import team_admin_users
    at = at or now()
    day = at.date().isoformat()
    n = 0
    for loan in overdue(at=at).order_by(Loan.id):
        recipients = {u.id: u for u in team_admin_users(loan.team_id)}
        for uid in (loan.borrower_user_id, loan.recorder_id):
            if uid:
                recipients.setdefault(uid, uid)
        days = (at.date() - loan.borrowed_at.date()).days if loan.borrowed_at else 0
        for u in recipients.values():
            messages.send(u, str(_l("Loan %(n)s is overdue: please return %(c)s", n=loan.number, c=loan.content)),
                          str(_l("Borrowed by %(b)s %(d)s days ago; due %(due)s.", b=loan.borrower, d=days,
                                 due=loan.due_at.strftime("%Y-%m-%d"))),
                          category="archives", dedupe_key=f"archives.loan_overdue:{loan.id}:{day}")
        n += 1
    return n
