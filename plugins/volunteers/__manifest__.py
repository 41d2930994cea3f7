{
    "name": "volunteers",
    "version": "1.0.0",
    "title": "Volunteers",
    "summary": "Volunteer registration (附录一), personal data encrypted and masked, self-service and data requests",
    "category": "People",
    "depends": [],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"agreement_version": "2024-01", "privacy_notice_version": "2024-01",
                 "min_age": 16, "guardian_consent_age": 14, "number_prefix": "GZ"},
}
