"""Scheduled work of the activities plugin (run by `timebank worker`)."""
from flask_babel import gettext as _

from core import messages
from core.models import User, UserRole

from . import services


def send_reminders():
    return services.send_reminders()


def finish_due():
    return services.finish_due()


def flag_overdue_reviews():
    """Tell every platform admin, once per submission of an activity, that its review is overdue
    (R-ACT-1). The key carries the submission time: a resubmitted activity that is late again is a
    new review to flag."""
    late = services.overdue_reviews()
    admins = list(User.select().join(UserRole).where((UserRole.role == "platform_admin") & User.is_active))
    n = 0
    for a in late:
        for u in admins:
            messages.send(u, _("Activity review overdue: %(title)s", title=a.title),
                          _("Submitted %(when)s; the review was due %(due)s.",
                            when=f"{a.submitted_at:%Y-%m-%d %H:%M}", due=f"{a.review_due:%Y-%m-%d}"),
                          category="activities.overdue", dedupe_key=f"activities.overdue:{a.id}:{a.submitted_at:%Y%m%d%H%M%S}")
            n += 1
    return n


def flag_overdue_confirmations():
    """Tell the organising team's admins, once per sign-up, that an applicant has waited longer than
    the confirmation deadline (2 working days for trainings, R-ACT-6)."""
    late = services.pending_confirmations()
    n = 0
    for s in late:
        scope = f"team:{s.activity.team_id}"
        admins = list(User.select().join(UserRole).where(
            (UserRole.role == "team_admin") & (UserRole.scope == scope) & User.is_active))
        for u in admins:
            messages.send(u, _("Sign-up waiting for confirmation: %(title)s", title=s.activity.title),
                          _("%(name)s applied on %(when)s; please confirm or decline with a reason.",
                            name=s.volunteer.name, when=f"{s.created_at:%Y-%m-%d}"),
                          category="activities.overdue", dedupe_key=f"activities.pending:{s.id}")
            n += 1
    return n


def flag_overdue_outcomes():
    """Remind the organisers of activities whose outcome and hours are past their due date (R-ACT-8)
    and past the national hard limit (R-NAT-3), once per activity and threshold."""
    from . import overdue
    return overdue.remind_all()
