{
    "name": "ledger",
    "version": "1.0.0",
    "title": "Time bank points ledger",
    "summary": "Confirmed service hours become time points (1:1) in a double-entry, append-only ledger",
    "category": "Time bank",
    "depends": ["volunteers", "teams", "activities", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"points_per_hour": 1, "volunteer_cap": 1500, "redemption_threshold_hours": 100,
                 "convert_training": False},
}
