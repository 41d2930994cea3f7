"""The resources plugin's answers to the privacy plugin's contract: the volunteers named on a funding
application (its leader and team members, with their division of work). Their contact details stay in the
volunteer record and are never copied here."""
from flask_babel import lazy_gettext as _l

from .models import Application, Attendance, Member, Objection


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(Application, {"leader": "personal", "leader_phone": "sensitive"}, "volunteer",
                    _l("The leader named on a funding application"), _l("Contract (PIPL 13(2))"),
                    _l("Kept with the application; the link is removed on erasure"),
                    _l("Platform admins; the team's admins")),
        Declaration(Member, {"volunteer": "personal", "responsibility": "personal"}, "volunteer",
                    _l("Team members named on a funding application and their division of work"),
                    _l("Contract (PIPL 13(2))"), _l("Kept with the application; removed on erasure"),
                    _l("Platform admins; the team's admins")),
        Declaration(Attendance, {"volunteer": "personal"}, "volunteer",
                    _l("Attendance of the application's members at the meeting and training"),
                    _l("Contract (PIPL 13(2))"), _l("Kept with the application; removed on erasure"),
                    _l("Platform admins; the team's admins")),
        Declaration(Objection, {"name": "personal", "contact": "sensitive"}, "contact",
                    _l("People who object to an application during its public announcement, to call them back"),
                    _l("Legal duty of the public announcement (PIPL 13(3))"),
                    _l("Kept with the application"), _l("Platform admins")),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    if not subject.volunteer_id:
        return None
    led = list(Application.select().where(Application.leader == subject.volunteer_id).order_by(Application.id))
    ms = list(Member.select(Member, Application).join(Application)
              .where(Member.volunteer == subject.volunteer_id).order_by(Member.id))
    rows = [[a.activity_name, str(_l("Leader")), ""] for a in led] + \
           [[m.application.activity_name, m.duty, m.responsibility] for m in ms]
    return ExportPart(_l("Funding applications"), [_l("Activity"), _l("Role"), _l("Responsibility")], rows,
                      [{"activity": r[0], "role": str(r[1]), "responsibility": r[2]} for r in rows])


def erase(subject, actor):
    from plugins.privacy.contract import ErasePart
    if not subject.volunteer_id:
        return None
    Application.update(leader=None, leader_phone="").where(Application.leader == subject.volunteer_id).execute()
    Attendance.delete().where(Attendance.volunteer == subject.volunteer_id).execute()
    Member.delete().where(Member.volunteer == subject.volunteer_id).execute()
    return ErasePart(_l("Funding applications"),
                     removed=[_l("The person as leader or member of funding applications")],
                     kept=[_l("The applications themselves, which belong to the team")])
