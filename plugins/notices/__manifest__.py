{
    "name": "notices",
    "version": "1.0.0",
    "title": "Notice board",
    "summary": "Platform and team notices on the dashboard and a public page",
    "category": "Communication",
    "depends": [],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
}
