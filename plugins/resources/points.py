"""Points for resources (R-TB-4; issue 14 point 5): with the ``donations`` plugin on, the time points a
team raised in a campaign (积分募集) can be applied to one of its funding applications. The points move
only through the donations plugin's public API (``use_campaign_points``: a ``campaign_spend`` transfer
from the campaign's ledger account to ``system:redemption``, its purpose naming the application, so the
ledger and the campaign's statement show it); this plugin keeps the transfer's id (``PointsUse``).
Refused, nothing written, with a message beside the field: beyond the campaign's balance, another team's
campaign, a closed or rejected application, the donations plugin off. Audited. Public API:
``donations_on``, ``campaigns_for``, ``apply_campaign_points``, ``uses``."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, security
from core.db import transaction
from core.errors import FieldErrors

from .models import PointsUse

CLOSED = ("closed", "rejected")


def donations_on() -> bool:
    return "donations" in current_app.blueprints


def _donations():
    if not donations_on():
        raise FieldErrors(_l("The points donations plugin is not enabled."))
    from plugins.donations import services
    return services


def campaigns_for(application) -> list[tuple[object, int]]:
    """(campaign, points it holds) for the application's team's open or closed campaigns."""
    if not donations_on():
        return []
    d = _donations()
    rows = (d.Campaign.select().where((d.Campaign.team == application.team_id)
                                      & d.Campaign.status.in_(("open", "closed"))).order_by(d.Campaign.id))
    return [(c, d.held(c)) for c in rows]


def purpose(application) -> str:
    return f"资助申报「{application.activity_name}」（申报书编号 {application.id:06d}）"


def apply_campaign_points(application, campaign_id, points, *, actor=None, key: str | None = None) -> PointsUse:
    """Apply ``points`` of the team's campaign ``campaign_id`` to ``application``. The actor must hold
    ``resources.application.edit`` on the application (the team's admins, AC6) and the donations plugin
    checks its own ``donations.campaign.use`` on the campaign; ``key`` makes a replay (double submit) return
    the first use."""
    d = _donations()
    if actor is not None and not security.can("resources.application.edit", application, user=actor):
        audit.log("access.denied", application, {"permission": "resources.application.edit"}, user=actor)
        raise FieldErrors(_l("You may not change another team's application."))
    if application.status in CLOSED:
        raise FieldErrors(_l("Points can no longer be applied to a closed or rejected application."))
    from core.inputs import parse_id
    cid = parse_id(campaign_id)
    campaign = d.Campaign.get_or_none(d.Campaign.id == cid) if cid else None
    if campaign is None or campaign.team_id != application.team_id:
        raise FieldErrors({"campaign": _l("Choose one of this team's campaigns.")})
    with transaction():
        t = d.use_campaign_points(campaign, points, purpose=purpose(application), actor=actor,
                                  key=f"resources:{application.id}:{key}" if key else None)
        use = PointsUse.get_or_none(PointsUse.transfer_id == t.id)
        if use is None:
            use = PointsUse.create(application=application, campaign_id=campaign.id, transfer_id=t.id,
                                   points=t.amount, created_by=getattr(actor, "id", None))
            audit.log("resources.application.points_applied", application,
                      {"campaign": campaign.id, "points": t.amount, "transfer": t.id}, user=actor)
    return use


def uses(application) -> list[PointsUse]:
    return list(PointsUse.select().where(PointsUse.application == application).order_by(PointsUse.id))
