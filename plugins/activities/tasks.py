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
