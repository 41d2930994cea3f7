"""The rest of privacy (issue 13): sign-ups without a service record in the retention schedule (point 7),
volunteers' /me/requests filed as privacy requests (point 2), the impact assessment and the kept copies
of the processing record (point 8), erasure in append-only tables (Done means).
RULES R-PRIV-5, SECURITY PR6, PR7; PIPL 44–47, 55–56."""
from __future__ import annotations

import datetime as _dt

import pytest

from test_hardening_privacy import PLUGINS, world  # noqa: F401  (the fixture)


def _later(days):
    from core.db import now
    return now() + _dt.timedelta(days=days)


def test_r_priv_5_1_signups_without_a_service_record_are_listed_reviewed_and_destroyed(world):
    """issue 13 point 7: a sign-up (with its check-in times) that never became a service record is listed
    once its shift ended longer ago than ``retention_days_signups`` (default 365), reviewed and destroyed;
    sign-ups with service records (the books' hours) are never listed; nothing is past its date without
    a recorded reason."""
    app, ids = world
    from core.models import AuditLog, User
    from plugins.activities.models import ServiceRecord, SignUp
    from plugins.privacy import retention as R
    from plugins.privacy.retention import SETTINGS
    with app.test_request_context():
        assert SETTINGS.get("retention_days_signups") == 365
        orphan = SignUp.get((SignUp.volunteer == ids["v3"]) & (SignUp.activity == ids["a1"]))
        assert not ServiceRecord.select().where(ServiceRecord.signup == orphan.id).exists()
        records_before = ServiceRecord.select().count()
        assert R.scan(at=_later(300)) == 0 or not R.RetentionItem.select().where(
            R.RetentionItem.kind == "activity_signups").exists()
        late = _later(365 + 10)
        missing = [oid for kind, oid in R.kept_without_reason(at=late) if kind == "activity_signups"]
        assert missing == [str(orphan.id)]                      # the check sees it before the scan
        R.scan(at=late)
        items = list(R.RetentionItem.select().where(R.RetentionItem.kind == "activity_signups"))
        assert [i.object_id for i in items] == [str(orphan.id)]
        assert "王五" not in items[0].summary
        assert [k for k, _ in R.kept_without_reason(at=late) if k == "activity_signups"] == []
        admin = User.get(User.username == "admin")
        R.destroy(items[0], admin)
        assert SignUp.get_or_none(SignUp.id == orphan.id) is None
        assert ServiceRecord.select().count() == records_before          # the hours are kept
        assert AuditLog.select().where(AuditLog.action == "privacy.retention.destroy").count() == 1
        assert R.scan(at=_later(800)) == 0 or all(
            i.kind != "activity_signups" for i in R.RetentionItem.select().where(R.RetentionItem.status == "due"))
        assert [k for k, _ in R.kept_without_reason(at=_later(800)) if k == "activity_signups"] == []


def test_r_priv_5_1_signup_retention_follows_the_setting(world):
    """issue 13 point 7: the days are a setting: at 30 days the same sign-up is due a year earlier."""
    app, ids = world
    from plugins.privacy import retention as R
    from plugins.privacy.retention import SETTINGS
    with app.test_request_context():
        assert [k for k, _ in R.kept_without_reason(at=_later(40)) if k == "activity_signups"] == []
        from core.settings import change
        change("privacy", {"retention_days_signups": "30"})
        assert [k for k, _ in R.kept_without_reason(at=_later(40)) if k == "activity_signups"] == [
            "activity_signups"]
