"""The consent register and the disclosures without consent (issue 13 points 3 and 6; R-PRIV-4, R-PRIV-6):
tables privacy_purpose, privacy_consent, privacy_disclosure, and the shipped purposes."""


def up(migrator, db):
    from plugins.privacy.consents import Consent, Purpose, load_purposes
    from plugins.privacy.disclosures import Disclosure
    db.create_tables([Purpose, Consent, Disclosure], safe=True)
    load_purposes()
