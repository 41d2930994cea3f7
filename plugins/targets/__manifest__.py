{
    "name": "targets",
    "version": "1.0.0",
    "title": "Yearly service targets",
    "summary": "Yearly service targets of Party-track volunteers, in-service Party members and registered volunteers (hours and services are settings); who is on track, who is behind, XLSX",
    "category": "Service",
    "depends": ["volunteers", "teams", "activities", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"party_track_hours": 40, "in_service_services": 2, "registered_hours": 20},
    "settings_meta": {
        "party_track_hours": {"label": "Yearly hours of a Party-track volunteer", "min": 0, "max": 1000},
        "in_service_services": {"label": "Yearly Party volunteer services of an in-service Party member",
                                "min": 0, "max": 100},
        "registered_hours": {"label": "Yearly hours of a registered volunteer", "min": 0, "max": 1000},
    },
}
