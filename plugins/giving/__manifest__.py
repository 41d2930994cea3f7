{
    "name": "giving",
    "version": "0.1.0",
    "title": "Donations and receipts",
    "summary": "Money and goods given to a team under the Charity Law: donors, safety check of goods, "
               "numbered receipts, written agreements",
    "category": "Service",
    "depends": ["teams", "documents"],
    "author": "Time Bank team",
    "license": "AGPL-3.0-or-later",
    "default_enabled": False,
    "installable": True,
    "settings": {"receipt_prefix": "JZ", "basic_info_publish_days": 30, "max_goods_quantity": 1000000,
                 "receipt_due_workdays": 10},
    "settings_meta": {
        "receipt_prefix": {"label": "Donation receipt number prefix",
                           "help": "Letters in front of every donation receipt number.", "max_length": 8},
        "basic_info_publish_days": {"label": "Days to publish a change of basic information",
                                    "help": "R-DON-4: a change of the organisation's basic information is "
                                            "published within this many days.", "min": 1, "max": 365},
        "max_goods_quantity": {"label": "Largest quantity of goods in one donation", "min": 1,
                               "max": 1000000000},
        "receipt_due_workdays": {"label": "Working days to issue or waive a donation receipt",
                                 "help": "timebank check flags an accepted donation (not anonymous) that has "
                                         "neither a valid nor a waived receipt after this many working days.",
                                 "min": 1, "max": 365},
    },
}
