{
    "name": "certificates",
    "version": "1.0.0",
    "title": "Service certificates",
    "summary": "附录六 certificates of volunteer service hours: apply, review, numbered PDF with seal and a "
               "QR code to a public verification page, batch issuance for an activity",
    "category": "Documents",
    "depends": ["volunteers", "teams", "documents", "activities"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"number_prefix": "ZM", "max_records": 200, "seal_max_bytes": 2097152},
    "settings_meta": {
        "number_prefix": {"label": "Certificate number prefix",
                          "help": "Letters in front of every certificate number.", "max_length": 8},
        "max_records": {"label": "Most service records on one certificate", "min": 1, "max": 1000},
        "seal_max_bytes": {"label": "Largest seal image (bytes)", "min": 10240, "max": 10485760},
    },
}
