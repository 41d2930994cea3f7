"""Stock and use (issue 15 point 4): tables giving_restriction, giving_stock_item, giving_stock_movement,
giving_allocation; the movements and allocations are append-only (LG1); goods accepted before this version
go into stock with their ``in`` movement, so that ``timebank check`` reconciles from the start."""


def up(migrator, db):
    from core.db import append_only
    from plugins.giving.models import Donation
    from plugins.giving.stock import APPEND_ONLY, MODELS, StockItem, StockMovement
    db.create_tables(MODELS, safe=True)
    for table in APPEND_ONLY:
        append_only(table)
    have = {i.donation_id for i in StockItem.select(StockItem.donation)}
    for d in Donation.select().where((Donation.kind == "goods") & (Donation.status == "accepted")):
        if d.id in have:
            continue
        item = StockItem.create(donation=d.id, team=d.team_id, property_type=d.property_type,
                                description=d.description, unit=d.unit, expiry_on=d.expiry_on,
                                received=d.quantity, on_hand=d.quantity)
        StockMovement.create(item=item, team=d.team_id, kind="in", change=d.quantity, purpose=d.purpose)
