"""The archives plugin's answers to the privacy plugin's contract: the account named responsible for a
file, and the documents themselves (sign-in sheets, hours lists and photos name people). Archives are the
organisation's record (附录十): on erasure the person's link as responsible is removed; filed documents are
kept until their disposal date (R-ARC-5 destroys them)."""
from flask_babel import lazy_gettext as _l

from .models import ArchiveFile, Destruction, Document, Handover, Loan, LossReport


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(ArchiveFile, {"responsible": "personal"}, "user",
                    _l("The person responsible for an archive file"), _l("Legal obligation (PIPL 13(3))"),
                    _l("Kept with the file; the link is removed on erasure"),
                    _l("Platform admins; the team's admins")),
        Declaration(Document, {"title": "personal"}, "volunteer",
                    _l("Filed documents that name volunteers (sign-in sheets, hours lists, photos)"),
                    _l("Legal obligation (PIPL 13(3))"),
                    _l("Until the file's disposal date (permanent, long-term or short-term)"),
                    _l("Platform admins; the team's admins")),
        Declaration(Loan, {"borrower": "personal", "contact": "personal", "borrower_user": "personal",
                           "recorder": "personal", "approved_by": "personal"}, "user",
                    _l("Borrowers of archives and their contact numbers (borrowing register, masked)"),
                    _l("Legal obligation (PIPL 13(3))"), _l("Kept with the borrowing register"),
                    _l("Platform admins; the team's admins and archivist")),
        Declaration(Destruction, {"witnesses": "personal", "contents": "personal", "applicant": "personal",
                                  "reviewed_by": "personal", "appraised_by": "personal", "approved_by": "personal",
                                  "destroyed_by": "personal"}, "user",
                    _l("Witnesses of a destruction and the list of destroyed documents"),
                    _l("Legal obligation (PIPL 13(3))"), _l("Kept with the destruction register"),
                    _l("Platform admins; the team's admins, archivist and supervision group")),
        Declaration(LossReport, {"reporter": "personal"}, "user", _l("Who reported a loss of confidential material"),
                    _l("Legal obligation (PIPL 13(3))"), _l("Kept with the loss report"),
                    _l("Platform admins; the team's admins and archivist")),
        Declaration(Handover, {"from_user": "personal", "to_user": "personal", "recorded_by": "personal"}, "user",
                    _l("The archivists who handed over and took over the archives"),
                    _l("Legal obligation (PIPL 13(3))"), _l("Kept with the handover record"),
                    _l("Platform admins; the team's admins and archivist")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.user_id:
        return None
    rows = [[f.number, f.title, str(_l("Responsible"))]
            for f in ArchiveFile.select().where(ArchiveFile.responsible == subject.user_id).order_by(ArchiveFile.id)]
    if not rows:
        return None
    return ExportPart(_l("Archives"), [_l("File number"), _l("Title"), _l("Role")], rows,
                      [{"number": r[0], "title": r[1]} for r in rows])


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.user_id:
        return None
    ArchiveFile.update(responsible=None).where(ArchiveFile.responsible == subject.user_id).execute()
    return ErasePart(_l("Archives"), removed=[_l("The person as responsible for archive files")],
                     kept=[_l("Filed documents, kept until their disposal date")])
