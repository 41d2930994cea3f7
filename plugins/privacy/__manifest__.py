{
    "name": "privacy",
    "version": "0.1.0",
    "title": "Privacy",
    "summary": "One contract through which every plugin declares, exports and erases personal data "
               "(R-PRIV-1…5, PIPL 44–47)",
    "category": "People",
    "depends": [],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"export_link_minutes": 30},
    "settings_meta": {
        "export_link_minutes": {"label": "Minutes a personal-data download link stays valid",
                                "help": "A volunteer's download of everything held about them works once, "
                                        "within this many minutes of preparing it.",
                                "min": 1, "max": 1440},
    },
}
