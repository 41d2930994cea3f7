"""Registration review (附录九 第八、九条; R-REG-7, issue 11 point 18): the applications table."""


def up(migrator, db):
    from plugins.volunteers.models import Application
    db.create_tables([Application], safe=True)
