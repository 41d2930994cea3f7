{
    "name": "exchange",
    "version": "1.0.0",
    "title": "Points exchange",
    "summary": "Partners offer services and goods for time points; redemption debits points and stock together",
    "category": "Time bank",
    "depends": ["ledger", "volunteers", "teams", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"receipt_prefix": "DH", "max_quantity": 99},
    "settings_meta": {
        "receipt_prefix": {"label": "Receipt number prefix",
                           "help": "Letters in front of every exchange receipt number.", "max_length": 8},
        "max_quantity": {"label": "Most items in one exchange", "min": 1, "max": 1000},
    },
}
