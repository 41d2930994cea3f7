{
    "name": "resources",
    "version": "0.1.0",
    "title": "Resource links",
    "summary": "The funding programmes and resource accounts of the handbook, searchable, with what opens soon",
    "category": "Resources",
    "depends": ["teams"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": False,
    "installable": True,
    "settings": {"upcoming_days": 60, "reminder_days_ahead": 14},
    "settings_meta": {
        "upcoming_days": {"label": "Days ahead for 'open soon'",
                          "help": "The catalogue lists the programmes whose application window opens "
                                  "within this many days (handbook: plan ahead; issue 14: 60).",
                          "min": 1, "max": 366},
        "reminder_days_ahead": {"label": "Reminder days before a window opens",
                                "help": "Teams get a reminder this many days before a programme's "
                                        "application window opens.",
                                "min": 1, "max": 180},
    },
}
