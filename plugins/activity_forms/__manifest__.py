{
    "name": "activity_forms",
    "version": "1.0.0",
    "title": "Activity forms",
    "summary": "附录四 sign-in sheet and feedback form, 附录五 activity record, 附录七 training record and the "
               "staffing chart of one activity, as PDF (and XLSX where it is a list)",
    "category": "Documents",
    "depends": ["activities", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
}
