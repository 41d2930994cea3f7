{
    "name": "sms",
    "version": "1.0.0",
    "title": "SMS gateway",
    "summary": "Sends inbox messages as text messages through an HTTP SMS gateway",
    "category": "Communication",
    "depends": [],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": False,
    "installable": True,
}
