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
    "settings": {"export_link_minutes": 30,
                 # retention (issue 13 point 7, R-PRIV-5)
                 "retention_days_inbox": 730, "retention_days_sessions": 180, "retention_days_photos": 1095,
                 "retention_days_signups": 365,
                 "retention_review_workdays": 10,
                 # subject requests (issue 13 point 2)
                 "request_workdays": 15,
                 # processing record and impact assessments (issue 13 point 8, PIPL 56)
                 "record_keep_years": 3},
    "settings_meta": {
        "export_link_minutes": {"label": "Minutes a personal-data download link stays valid",
                                "help": "A volunteer's download of everything held about them works once, "
                                        "within this many minutes of preparing it.",
                                "min": 1, "max": 1440},
        # retention (issue 13 point 7, R-PRIV-5)
        "retention_days_inbox": {"label": "Days to keep inbox messages",
                                 "help": "After this many days a message is listed for review: a reviewer "
                                         "destroys it or keeps it longer with a reason.",
                                 "min": 30, "max": 3650},
        "retention_days_sessions": {"label": "Days to keep logins (address and browser)",
                                    "help": "Counted from the login's last use; at least six months "
                                            "(Cybersecurity Law 21).",
                                    "min": 180, "max": 3650},
        "retention_days_photos": {"label": "Days to keep activity photos",
                                  "help": "Counted from the upload; then the photo is listed for review.",
                                  "min": 30, "max": 7300},
        "retention_days_signups": {"label": "Days to keep sign-ups and check-ins without a service record",
                                   "help": "Counted from the end of the shift; a sign-up that became a "
                                           "service record is kept with the hours.",
                                   "min": 30, "max": 3650},
        "retention_review_workdays": {"label": "Working days a reviewer has to decide on data past its date",
                                      "help": "After this many working days an undecided item is shown as "
                                              "overdue on the dashboard.",
                                      "min": 1, "max": 60},
        # subject requests (issue 13 point 2, PIPL 44-47)
        "request_workdays": {"label": "Working days to answer a request about personal data",
                             "help": "A request (access, correction, deletion, consent withdrawal, who has "
                                     "seen my data) is due at the end of this many working days after it is filed; "
                                     "then it is flagged overdue on the dashboard.",
                             "min": 1, "max": 30},
        "record_keep_years": {"label": "Years to keep each copy of the processing record and of an impact assessment",
                              "help": "A dated copy is stored on every change; none is deleted before this many "
                                      "years (PIPL 56: at least three).",
                              "min": 3, "max": 30},
    },
}
