"""In-service Party members who reported to the community (在职党员回社区报到, R-PARTY-3): the reporting
date, encrypted like the political status it implies, and its blind index for the yearly targets."""
from core.crypto import BlindIndexField, EncryptedField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("volunteers_volunteer", "in_service_reported_on",
                            EncryptedField(context="volunteer.in_service", default="")),
        migrator.add_column("volunteers_volunteer", "in_service_hash", BlindIndexField(index=True, default="")))
