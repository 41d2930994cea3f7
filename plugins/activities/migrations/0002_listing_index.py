"""The public listing filtered by district and service field (R-ACT-3) reads the activities of that
district *and* field in date order from one index, instead of every published activity of the district
(or a sort of every activity of the field). Measured with bench/activities.py (200,000 activities)."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("activities_activity", ("status", "district", "field_id", "starts_at"),
                                        False))
