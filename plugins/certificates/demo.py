"""Demo certificates: for the demo activity that already took place (plugins/activities/demo.py) the
recording team issues certificates to its volunteers in one batch (purpose 实践证明), and one volunteer
has an application of their own waiting for review — through the real services."""
from __future__ import annotations


def load(app):
    from plugins.activities.demo import PAST_TITLE
    from plugins.activities.models import Activity, ServiceRecord

    from . import services
    past = list(Activity.select().where((Activity.title == PAST_TITLE) & (Activity.status == "closed"))
                .order_by(Activity.id))
    if not past:
        return
    services.issue_for_activity(past[0])
    if len(past) > 1:
        rec = ServiceRecord.select().where(ServiceRecord.activity == past[1]).order_by(ServiceRecord.id).first()
        if rec is not None:
            services.apply(rec.volunteer, [rec.id], purpose="schooling")
