"""R-PRIV-3 (issue 13 point 5): the shipped purpose ``recipient_photos`` — a service recipient's consent
to activity photos showing their face unblurred — on sites made before it existed."""


def up(migrator, db):
    from plugins.privacy.consents import load_purposes
    load_purposes()   # idempotent: only the missing shipped purposes are created
