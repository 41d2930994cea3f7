"""The listing's keyword index (models.SearchTerm, R-ACT-3): the table, and the terms of every activity
published before it existed. A rare Chinese keyword was matched by reading every published activity;
with the index it reads only the activities that contain it (bench/activities.py, "rare keyword")."""


def up(migrator, db):
    from plugins.activities.models import SearchTerm
    from plugins.activities.services import index_search_terms
    SearchTerm.create_table(safe=True)
    index_search_terms()
