"""Retention (issue 13 point 7; RULES R-PRIV-5, SECURITY PR6): a schedule per data kind as labelled
settings, a nightly job that lists what is past its date, a reviewer who confirms destruction or keeps it
longer with a reason (core.workflow), a destruction record, and nothing personal kept past its date
without a recorded reason. The clock is moved by giving the job a later ``at``."""
from __future__ import annotations

import datetime as _dt

import pytest

from conftest import csrf_from

PLUGINS = ["volunteers", "privacy"]


@pytest.fixture
def site(make_app, make_user):
    app = make_app(plugins=PLUGINS)
    make_user("admin", "platform_admin")
    make_user("alice")
    with app.app_context():
        from core.messages import send
        from core.models import User
        alice = User.get(User.username == "alice")
        send(alice, "欢迎", "张三你好")
    return app


def _later(days):
    from core.db import now
    return now() + _dt.timedelta(days=days)


def test_r_priv_5_schedule_is_labelled_settings(site):
    """issue 13 point 7: every kind's days is a labelled, bounded privacy setting; the scan reads it."""
    import ast
    from pathlib import Path
    m = ast.literal_eval((Path(__file__).resolve().parents[1] / "plugins/privacy/__manifest__.py").read_text())
    from plugins.privacy.retention import KINDS
    for k in KINDS.values():
        assert k.setting in m["settings"], k.key
        meta = m["settings_meta"][k.setting]
        assert meta["label"] and "min" in meta and "max" in meta


def test_r_priv_5_nightly_job_lists_what_is_due_once(site):
    """issue 13 point 7: before the date nothing is listed; after it the message is listed once, with a
    reviewer's due time in working days, and kept_without_reason() is empty."""
    from plugins.privacy import retention as R
    with site.app_context():
        assert R.scan() == 0
        assert R.kept_without_reason(at=_later(731)) == [("inbox_messages", R.KINDS["inbox_messages"].due(
            _later(1))[0][1])]
        assert R.scan(at=_later(731)) == 1
        assert R.scan(at=_later(732)) == 0                     # not listed twice
        item = R.RetentionItem.get()
        assert item.kind == "inbox_messages" and item.status == "due" and item.due_at is not None
        assert "张三" not in item.summary
        assert R.kept_without_reason(at=_later(731)) == []


def test_r_priv_5_destruction_is_recorded_and_removes_the_row(site):
    """issue 13 point 7: the reviewer confirms destruction: the message is gone, the item is the
    destruction record (who, when), one audit row."""
    from core.models import AuditLog, Message, User
    from plugins.privacy import retention as R
    with site.app_context():
        R.scan(at=_later(731))
        admin = User.get(User.username == "admin")
        item = R.destroy(R.RetentionItem.get(), admin)
        assert item.status == "destroyed" and item.decided_by_id == admin.id and item.decided_at
        assert Message.select().count() == 0
        assert AuditLog.select().where(AuditLog.action == "privacy.retention.destroy").count() == 1
        assert R.scan(at=_later(800)) == 0 and R.kept_without_reason(at=_later(800)) == []


def test_r_priv_5_keep_longer_needs_a_reason_and_a_date(site):
    """issue 13 point 7: keeping data longer without a reason or with a bad date is refused in Chinese and
    writes nothing; with both, it is kept, and when the date passes it comes back for review."""
    from flask_babel import force_locale
    from core.errors import FieldErrors
    from core.models import AuditLog, User
    from plugins.privacy import retention as R
    with site.test_request_context():
        R.scan(at=_later(731))
        admin = User.get(User.username == "admin")
        item = R.RetentionItem.get()
        with force_locale("zh_Hans_CN"):
            with pytest.raises(FieldErrors) as e:
                R.extend(item, admin, "  ", "2099-01-01")
            assert "reason" in e.value.errors and "原因" in str(e.value.errors["reason"])
            with pytest.raises(FieldErrors) as e:
                R.extend(item, admin, "诉讼保全", "not a date")
            assert "kept_until" in e.value.errors
        assert R.RetentionItem.get().status == "due"
        assert AuditLog.select().where(AuditLog.action.startswith("privacy.retention.")).count() == 0
        until = (_later(60)).date().isoformat()
        item = R.extend(item, admin, "诉讼保全", until)
        assert item.status == "extended" and item.reason == "诉讼保全"
        assert R.kept_without_reason(at=_later(740)) == []
        R.scan(at=_later(800))                                  # the kept-until date has passed
        assert R.RetentionItem.get().status == "due"


def test_r_priv_5_reviewer_permission_and_admin_page(site):
    """issue 13 point 7: only a holder of privacy.retention.review sees the page or takes a step; the
    admin page destroys through the workflow."""
    from core.testing import login
    from core.models import Message
    from plugins.privacy import retention as R
    with site.app_context():
        R.scan(at=_later(731))
        item_id = R.RetentionItem.get().id
    c = site.test_client()
    login(c, "alice")
    assert c.get("/admin/privacy_retention/").status_code == 403
    assert c.post(f"/admin/privacy_retention/{item_id}/destroy").status_code in (400, 403)
    c = site.test_client()
    login(c, "admin")
    page = c.get("/admin/privacy_retention/")
    assert page.status_code == 200
    r = c.post(f"/admin/privacy_retention/{item_id}/destroy", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 302
    with site.app_context():
        assert Message.select().count() == 0
        assert R.RetentionItem.get_by_id(item_id).status == "destroyed"


def test_r_priv_5_dashboard_flags_overdue_reviews(site):
    """issue 13 point 7: the dashboard widget counts items waiting and overdue, with a link."""
    from core.models import User
    from plugins.privacy import retention as R
    from plugins.privacy import retention_dashboard_widgets  # noqa: E402
    with site.test_request_context():
        R.scan(at=_later(731))
        R.RetentionItem.update(due_at=_later(-1)).execute()
        admin = User.get(User.username == "admin")
        w = retention_dashboard_widgets(admin)
        assert w and "/admin/privacy_retention/" in str(w[0].html) and ">1<" in str(w[0].html)
        assert R.REVIEW.overdue().count() == 1
        assert retention_dashboard_widgets(User.get(User.username == "alice")) == []


def test_r_priv_5_migration_0003_creates_its_tables_on_a_site_of_the_previous_version(site):
    """issue 13 points 2 and 7: a site where privacy was enabled before these tables existed (and without
    the consent register's 0002) gets them from 0003; a second run changes nothing."""
    from core import plugins as P
    from core.db import db
    from plugins.privacy.requests import SubjectRequest
    from plugins.privacy.retention import RetentionItem
    with site.app_context():
        db.obj.drop_tables([SubjectRequest, RetentionItem])
        ph = "%s" if db.obj.param == "%s" else "?"
        db.execute_sql(f'DELETE FROM "migrations_privacy" WHERE name = {ph}', ("0003_requests_retention",))
        info = P.discover()[0]["privacy"]
        assert "0003_requests_retention" in P.migrate_plugin(info)
        assert SubjectRequest.table_exists() and RetentionItem.table_exists()
        assert P.migrate_plugin(info) == []
