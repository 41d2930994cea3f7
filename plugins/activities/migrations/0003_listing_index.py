"""The public listing filtered by district and service field (R-ACT-3) reads the activities of that
district *and* field in date order from one index, instead of every published activity of the district
(or a sort of every activity of the field). Measured with bench/activities.py (200,000 activities)."""


COLUMNS = ["status", "district", "field_id", "starts_at"]


def up(migrator, db):
    if COLUMNS in [list(i.columns) for i in db.get_indexes("activities_activity")]:
        return  # in place already (a site created from the model, or a re-run)
    migrator.migrate(migrator.add_index("activities_activity", tuple(COLUMNS), False))
