{
    "name": "activities",
    "version": "1.0.0",
    "title": "Activities and trainings",
    "summary": "Publish and review activities, sign up by slot, check in by QR code, confirm service hours",
    "category": "Service",
    "depends": ["volunteers", "teams", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": True,
    "installable": True,
    "settings": {"review_workdays": 2, "training_confirm_workdays": 2, "outcome_workdays": 5,
                 "reminder_hours": 24, "rounding_minutes": 30, "rounding": "down",
                 "checkin_token_seconds": 90, "max_hours_per_record": 24,
                 "checkin_opens_minutes_before": 60, "checkout_closes_minutes_after": 180,
                 "outcome_hard_limit_workdays": 10, "photo_max_mb": 8, "photo_max_megapixels": 50,
                 "photo_blur_margin_percent": 20,
                 "map_tile_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                 "map_attribution": "© OpenStreetMap contributors"},
    "settings_meta": {
        "review_workdays": {"label": "Working days for the platform's review of an activity",
                            "help": "An activity submitted for review is flagged after this many working days "
                                    "(R-ACT-1).", "min": 1, "max": 30},
        "training_confirm_workdays": {"label": "Working days to confirm a training sign-up",
                                      "help": "Team admins are reminded of applicants waiting longer (R-ACT-6).",
                                      "min": 1, "max": 30},
        "outcome_workdays": {"label": "Working days to record the outcome and confirm hours",
                             "help": "After an activity ends the organiser records its outcome and confirms "
                                     "the hours within this many working days (R-ACT-8).", "min": 1, "max": 30},
        "outcome_hard_limit_workdays": {"label": "Hard limit for confirming hours, in working days",
                                        "help": "The national rule's limit (R-NAT-3): past it the organiser "
                                                "is reminded again and the activity is marked as late. Not "
                                                "below the days to record the outcome.", "min": 1, "max": 60},
        "reminder_hours": {"label": "Hours before a slot to remind volunteers",
                           "help": "Confirmed volunteers get a reminder this long before their slot (R-ACT-5).",
                           "min": 1, "max": 168},
        "rounding_minutes": {"label": "Round service time to (minutes)",
                             "help": "1 counts every minute.", "min": 1, "max": 120},
        "rounding": {"label": "Rounding of service time",
                     "choices": [["down", "Round down"], ["nearest", "Round to the nearest"], ["up", "Round up"]]},
        "checkin_token_seconds": {"label": "Seconds a check-in QR code stays valid",
                                  "help": "The code on the organiser's screen changes before it expires.",
                                  "min": 30, "max": 3600},
        "max_hours_per_record": {"label": "Most hours in one slot or one record",
                                 "min": 1, "max": 24},
        "photo_max_mb": {"label": "Largest outcome photo (MB)", "min": 1, "max": 50},
        "photo_blur_margin_percent": {"label": "Margin blurred around each face, in per cent of its size",
                                      "help": "In a photo showing service recipients, each face found is "
                                              "blurred with this much of its width and height added on "
                                              "every side (R-PRIV-3). Applies to photos uploaded afterwards.",
                                      "min": 0, "max": 100},
        "photo_max_megapixels": {"label": "Largest outcome photo (megapixels)",
                                 "help": "The pixel count is read from the photo's header and checked before it is "
                                         "decoded: a larger photo is refused (a 20000×20000 image is a few KB on "
                                         "disk and 1.6 GB decoded).", "min": 1, "max": 200},
        "checkin_opens_minutes_before": {"label": "Minutes before a slot that check-in opens",
                                         "help": "Scans outside this window are refused with the reason (R-ACT-7).",
                                         "min": 0, "max": 1440},
        "checkout_closes_minutes_after": {"label": "Minutes after a slot that check-out closes",
                                          "help": "Scans outside this window are refused with the reason (R-ACT-7).",
                                          "min": 0, "max": 1440},
        "map_tile_url": {"label": "Map tile server (URL template)",
                         "help": "The service map on the activity listing loads its map images from here "
                                 "(R-MAP-1): an http(s) address with {z}, {x} and {y}, e.g. a 天地图 "
                                 "(Tianditu) address with your key. The page's security policy allows "
                                 "images from this server only on the listing.", "max_length": 300},
        "map_attribution": {"label": "Map attribution",
                            "help": "The credit the tile server requires, shown in the map's corner as text.",
                            "max_length": 200},
    },
}
