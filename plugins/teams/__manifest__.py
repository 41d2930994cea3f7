{
    "name": "teams",
    "version": "1.0.0",
    "title": "Teams",
    "summary": "Team registration and review, joining, sub-team hierarchy, positions and team admins",
    "category": "People",
    "depends": ["volunteers"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"squad_min_members": 10},
    "settings_meta": {
        "squad_min_members": {"label": "Members a team needs to count as a squad", "min": 1, "max": 1000},
    },
}
