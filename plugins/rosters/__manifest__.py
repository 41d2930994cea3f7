{
    "name": "rosters",
    "version": "1.0.0",
    "title": "Rosters and forms",
    "summary": "附录二 team roster and 附录三 volunteer roster as XLSX and PDF; the 附录一 registration form "
               "as a filled PDF for signature",
    "category": "Documents",
    "depends": ["documents", "volunteers", "teams"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
}
