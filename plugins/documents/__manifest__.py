{
    "name": "documents",
    "version": "1.0.0",
    "title": "Documents",
    "summary": "Printable A4 PDF forms and tables with an embedded Chinese font, XLSX workbooks, downloads",
    "category": "Documents",
    "depends": [],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
}
