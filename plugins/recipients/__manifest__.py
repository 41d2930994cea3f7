{
    "name": "recipients",
    "version": "1.0.0",
    "title": "Service recipients",
    "summary": "The register of people served (服务对象, R-REC-1): files, consent, follow-up, wishes, quarterly filing",
    "category": "People",
    "depends": ["teams", "volunteers"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": False,
    "installable": True,
    "settings": {"notice_version": "2024-01", "confidentiality_version": "2024-01", "follow_up_days": 30},
    "settings_meta": {
        "notice_version": {"label": "Recipients' privacy notice version",
                           "help": "The notice telling recipients why their data is collected (附录十一 第十条); "
                                   "its version is stored with each consent.", "max_length": 20},
        "confidentiality_version": {"label": "Confidentiality agreement version",
                                    "help": "The agreement made with recipients of one-to-one service "
                                            "(附录十一 第七条).", "max_length": 20},
        "follow_up_days": {"label": "Working days without a follow-up visit before a recipient is listed",
                           "help": "Recipients not visited for this many working days (Chinese holiday calendar) "
                                   "appear on the follow-up list (R-REC-1).", "min": 1, "max": 365},
    },
}
