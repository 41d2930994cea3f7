"""The teams plugin's answers to the privacy plugin's contract (issue 13 point 1): memberships and posts
of a volunteer, and the contact person of a team."""
from flask_babel import lazy_gettext as _l

from .models import Membership, Position, Team


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Membership, {"volunteer": "personal", "reason": "personal"}, "volunteer",
                    _l("Which teams a volunteer serves in (R-TEAM-2)"), _l("Contract (PIPL 13(2))"),
                    _l("While the volunteer record exists; ended on erasure"), _l("Team admins of the team")),
        Declaration(Position, {"holder": "personal"}, "volunteer", _l("Who holds a post in a team"),
                    _l("Contract (PIPL 13(2))"), _l("While the post is held; vacated on erasure"),
                    _l("Team admins; the public team page")),
        Declaration(Team, {"leader_name": "personal", "leader_phone": "sensitive"}, "contact",
                    _l("Reaching the person responsible for a team (附录二)"), _l("Contract (PIPL 13(2))"),
                    _l("While the team is registered"), _l("Platform admins; team admins")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    ms = list(Membership.select(Membership, Team).join(Team).where(Membership.volunteer == subject.volunteer_id)
              .order_by(Membership.id))
    posts = list(Position.select(Position, Team).join(Team).where(Position.holder == subject.volunteer_id))
    return [ExportPart(_l("Team memberships"), [_l("Team"), _l("Status"), _l("Applied"), _l("Decided"), _l("Reason")],
                       [[m.team.name, m.status, m.applied_at, m.decided_at, m.reason] for m in ms],
                       [{"team": m.team.name, "status": m.status, "applied_at": m.applied_at,
                         "decided_at": m.decided_at, "reason": m.reason} for m in ms]),
            ExportPart(_l("Posts held"), [_l("Team"), _l("Post")], [[p.team.name, p.title or p.kind] for p in posts],
                       [{"team": p.team.name, "kind": p.kind, "title": p.title} for p in posts])]


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    from .services import release_volunteer
    if not subject.volunteer_id:
        return None
    release_volunteer(subject.volunteer_id)
    Membership.update(reason="").where(Membership.volunteer == subject.volunteer_id).execute()
    return ErasePart(_l("Team memberships"), removed=[_l("Memberships ended, reasons removed, posts vacated")],
                     kept=[_l("That the volunteer number was a member, for the team's records (R-NAT-6)")])
