{
    "name": "team_standards",
    "version": "1.0.0",
    "title": "Team standards checklist",
    "summary": "Score teams on the 34 items of the daily-management standard (the seven 'haves')",
    "category": "People",
    "depends": ["teams"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
}
