{
    "name": "donations",
    "version": "1.0.0",
    "title": "Points donations and campaigns",
    "summary": "Volunteers donate time points to people in need or to a team's campaign (积分募集) for resources",
    "category": "Time bank",
    "depends": ["ledger", "volunteers", "teams", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"needs_redemption_threshold": False, "max_points_per_donation": 100000},
    "settings_meta": {
        "needs_redemption_threshold": {"label": "Donating needs the redemption threshold",
                                       "help": "Yes: only volunteers who may redeem points may donate them."},
        "max_points_per_donation": {"label": "Most points in one donation", "min": 1, "max": 1000000},
    },
}
