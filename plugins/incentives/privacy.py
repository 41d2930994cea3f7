"""The incentives plugin's answers to the privacy plugin's contract: star ratings and their history,
evaluations, greetings sent and contacts recorded, each linked to a volunteer."""
from flask_babel import lazy_gettext as _l

from .models import Contact, Evaluation, Greeting, Nomination, Star, StarChange

STAFF = _l("The volunteer; platform admins; the admins of the volunteer's teams")


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Star, {"volunteer": "personal"}, "volunteer", _l("Star rating from confirmed hours (R-INC-1)"),
                    _l("Contract (PIPL 13(2))"), _l("As long as the volunteer record"), STAFF),
        Declaration(StarChange, {"volunteer": "personal"}, "volunteer",
                    _l("Star history in the volunteer's record (R-NAT-1)"), _l("Contract (PIPL 13(2))"),
                    _l("As long as the volunteer record"), STAFF),
        Declaration(Evaluation, {"volunteer": "personal", "comment": "personal"}, "volunteer",
                    _l("Performance evaluations (R-INC-6)"), _l("Contract (PIPL 13(2))"),
                    _l("As long as the volunteer record"), STAFF, labels={"comment": _l("Staff comment")}),
        Declaration(Greeting, {"volunteer": "personal"}, "volunteer",
                    _l("Greetings sent, so each is sent once (R-INC-4)"), _l("Contract (PIPL 13(2))"),
                    _l("As long as the volunteer record"), _l("Platform admins")),
        Declaration(Contact, {"volunteer": "personal", "note": "personal"}, "volunteer",
                    _l("Regular contact with volunteers (R-INC-4)"), _l("Contract (PIPL 13(2))"),
                    _l("As long as the volunteer record"), STAFF, labels={"note": _l("Note")}),
        Declaration(Nomination, {"volunteer": "personal", "reason": "personal"}, "volunteer",
                    _l("Nominations and awards in the volunteer's record (R-INC-2, R-NAT-1); published awards "
                       "name the volunteer on the public honour roll"), _l("Contract (PIPL 13(2))"),
                    _l("As long as the volunteer record"), STAFF, labels={"reason": _l("Reason for the nomination")},
                    public=True),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    vid = subject.volunteer_id
    star = Star.get_or_none(Star.volunteer == vid)
    changes = list(StarChange.select().where(StarChange.volunteer == vid).order_by(StarChange.id))
    evals = list(Evaluation.select().where(Evaluation.volunteer == vid).order_by(Evaluation.period_start))
    contacts = list(Contact.select().where(Contact.volunteer == vid).order_by(Contact.contacted_on))
    greetings = list(Greeting.select().where(Greeting.volunteer == vid).order_by(Greeting.id))
    noms = list(Nomination.select().where(Nomination.volunteer == vid).order_by(Nomination.id))
    rows = [[_l("Star rating"), star.stars if star else 0, ""]]
    rows += [[_l("Star change"), f"{c.from_stars} → {c.to_stars}", c.changed_at] for c in changes]
    rows += [[_l("Performance evaluation"), f"{e.period_start} – {e.period_end}: {e.grade}", e.comment]
             for e in evals]
    rows += [[_l("Contact"), c.contacted_on, c.note] for c in contacts]
    rows += [[_l("Greeting"), g.occasion, g.year] for g in greetings]
    rows += [[_l("Nomination"), f"{n.scheme.name} {n.period_start} – {n.period_end}: {n.status}", n.reason]
             for n in noms]
    return ExportPart(_l("Incentives and retention"), [_l("Kind"), _l("Value"), _l("Details")], rows, {
        "stars": star.stars if star else 0,
        "star_history": [{"from": c.from_stars, "to": c.to_stars, "minutes": c.minutes, "at": c.changed_at}
                         for c in changes],
        "evaluations": [{"from": e.period_start, "to": e.period_end, "minutes": e.minutes, "grade": e.grade,
                         "comment": e.comment, "status": e.status} for e in evals],
        "contacts": [{"on": c.contacted_on, "note": c.note} for c in contacts],
        "greetings": [{"occasion": g.occasion, "year": g.year} for g in greetings],
        "nominations": [{"award": n.scheme.name, "from": n.period_start, "to": n.period_end, "status": n.status,
                         "reason": n.reason, "decided_on": n.decided_on} for n in noms]})


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.volunteer_id:
        return None
    vid = subject.volunteer_id
    Contact.delete().where(Contact.volunteer == vid).execute()
    Greeting.delete().where(Greeting.volunteer == vid).execute()
    Evaluation.update(comment="").where(Evaluation.volunteer == vid).execute()
    from .models import Nomination as N
    N.delete().where((N.volunteer == vid) & N.status.not_in(("awarded", "published"))).execute()
    N.update(reason="").where(N.volunteer == vid).execute()
    return ErasePart(_l("Incentives and retention"),
                     removed=[_l("Contacts and their notes"), _l("Greetings sent"), _l("Staff comments on evaluations"),
                              _l("Nominations not awarded and the reasons of all nominations")],
                     kept=[_l("Star rating, its history and evaluation figures, derived from the service hours "
                              "that are kept"), _l("Awards (the record keeps awards, R-NAT-1)")])
