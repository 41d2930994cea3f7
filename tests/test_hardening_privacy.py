"""The privacy plugin's contract and the one-ZIP download (issue 13 points 1–2; RULES R-PRIV-1…5,
SECURITY PR1, PR6, PR7; PIPL 44–47).

- Every field tagged personal (a core.crypto field or a link to a volunteer or a user) on a site with every
  built-in plugin is declared by a plugin that also answers export and erase.
- A volunteer downloads from /me one ZIP (data.json + a Chinese HTML page, photos) assembled from every
  plugin's answer; the link is single-use, expires, works only for its requester; all audited.
- Erasure through the contract leaves ``timebank ledger verify`` passing and no plain name, ID number or
  phone of the volunteer in the SQLite files.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
import zipfile

import pytest
from PIL import Image

from conftest import csrf_from, database_url
from core import create_app
from test_certificates import NAME_1, NAME_2, PUBLIC, build_world, logged_in

PLUGINS = ["volunteers", "teams", "documents", "activities", "certificates", "ledger", "donations",
           "exchange", "privacy"]


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url(tmp_path),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS, "PUBLIC_URL": PUBLIC})
    ids = build_world(app)
    from core.models import User
    from plugins.activities import photos
    from plugins.activities.models import Activity
    from plugins.certificates import services as C
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        admin = User.get(User.username == "admin")
        v1 = Volunteer.get_by_id(ids["v1"])
        cert = C.apply(v1, [ids["r1a1"], ids["r1a2"]], purpose="settlement")
        cert = C.approve(cert, actor=admin)
        buf = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "JPEG")
        buf.seek(0)
        photos.store(Activity.get_by_id(ids["a1"]), buf, caption="张三丰在探访", actor=v1.user)
        ids["cert"] = cert.number
    yield app, ids
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def test_r_priv_1_every_personal_field_is_declared_by_a_plugin_that_answers(world):
    """issue 13 point 1: on a site with every built-in plugin that stores personal data, no field tagged
    personal is left without a declaration, and every declaring plugin answers export and erase."""
    app, _ = world
    from plugins.privacy import services
    with app.test_request_context():
        assert services.undeclared() == []
        declaring = {d.plugin for d in services.declarations()}
        assert {"privacy", "volunteers", "teams", "activities", "ledger", "certificates", "donations",
                "exchange"} <= declaring
        for hook in ("personal_data_export", "personal_data_erase"):
            assert declaring <= {p for p, _ in services._impls(hook)}, hook


def test_r_priv_1_a_personal_field_nobody_declares_is_found(world):
    """issue 13 point 1: a model with an encrypted field, or a plain field listed in its
    ``PERSONAL_FIELDS``, that no plugin declares makes the check fail (here a model added to the site's
    models without a declaration); an untagged field does not."""
    import peewee as pw
    from core.crypto import EncryptedField
    from core.db import BaseModel
    from plugins.privacy import services

    class Stray(BaseModel):
        secret_phone = EncryptedField(context="stray.phone")
        note = pw.CharField(default="")
        other = pw.CharField(default="")
        PERSONAL_FIELDS = ("note",)   # a plain field tagged by its model

        class Meta:
            table_name = "stray_table"
    app, _ = world
    kernel = app.extensions["timebank"]
    kernel.models.append(Stray)
    try:
        with app.test_request_context():
            assert services.undeclared() == [("stray_table", "secret_phone"), ("stray_table", "note")]
    finally:
        kernel.models.remove(Stray)


def _prepare_link(client) -> str:
    page = client.get("/me/privacy").get_data(as_text=True)
    r = client.post("/me/privacy", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    m = re.search(r'href="(/me/privacy/download/[^"]+)"', r.get_data(as_text=True))
    assert m, r.get_data(as_text=True)[-800:]
    return m.group(1)


def test_pr7_one_zip_from_every_plugin_single_use_audited(world):
    """issue 13 point 2: the volunteer's /me leads to one ZIP holding their record, sign-ups, service
    records, points, certificate, inbox, access history and the photo they uploaded, as JSON and as a
    Chinese HTML page; the link works once; both steps are audited."""
    app, ids = world
    c = logged_in(app, ids["u1"])
    me = c.get("/me").get_data(as_text=True)
    assert "/me/privacy" in me
    link = _prepare_link(c)
    r = c.get(link)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.data))
    names = z.namelist()
    data = json.loads(z.read("data.json"))
    html = z.read("个人信息.html").decode()
    plugins = {p["plugin"] for p in data["parts"]}
    assert {"volunteers", "teams", "activities", "ledger", "certificates", "privacy"} <= plugins
    text = json.dumps(data, ensure_ascii=False)
    assert NAME_1 in text and ids["cert"] in text and "关爱独居老人上门探访" in text
    ledger = next(p for p in data["parts"] if p["plugin"] == "ledger")
    assert ledger["data"]["balance"] > 0
    assert any(n.startswith("files/activities/") for n in names)
    for title in ("志愿者档案", "服务记录", "时间积分", "服务证明", "站内信", "访问记录"):
        assert title in html, title
    assert NAME_2 not in text and NAME_2 not in html        # nobody else's data
    # single use
    again = c.get(link)
    assert again.status_code == 302
    assert "已经使用" in c.get(again.headers["Location"]).get_data(as_text=True)
    from core.models import AuditLog
    with app.app_context():
        actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert "privacy.export_prepared" in actions and actions.count("privacy.exported") == 1


def test_pr7_idor_another_volunteers_link_is_refused_and_builds_nothing(world):
    """issue 13 point 2 (Security): a link prepared by volunteer 1 gives volunteer 2 nothing, and stays
    unused for its owner; the refusal is audited."""
    app, ids = world
    c1, c2 = logged_in(app, ids["u1"]), logged_in(app, ids["u2"])
    link = _prepare_link(c1)
    r = c2.get(link)
    assert r.status_code == 302 and r.mimetype != "application/zip"
    assert "无效" in c2.get(r.headers["Location"]).get_data(as_text=True)
    from core.models import AuditLog
    with app.app_context():
        assert AuditLog.select().where(AuditLog.action == "privacy.exported").count() == 0
        assert AuditLog.select().where(AuditLog.action == "privacy.export_refused").count() == 1
    ok = c1.get(link)
    assert ok.status_code == 200 and zipfile.is_zipfile(io.BytesIO(ok.data))
    assert c2.get("/me/privacy/download/not-a-token").status_code == 302


def test_pr7_an_expired_link_is_refused(world):
    """issue 13 point 2: the link expires after the setting ``export_link_minutes``."""
    app, ids = world
    c = logged_in(app, ids["u1"])
    link = _prepare_link(c)
    from core.db import now
    from plugins.privacy.models import ExportLink
    with app.app_context():
        ExportLink.update(expires_at=now() - _dt.timedelta(seconds=1)).execute()
    r = c.get(link)
    assert r.status_code == 302
    assert "已过期" in c.get(r.headers["Location"]).get_data(as_text=True)
    fresh = _prepare_link(c)
    from plugins.privacy import services
    with app.app_context():   # the nightly job deletes the expired link, not the fresh one
        assert services.purge_export_links() == 1
        assert ExportLink.select().count() == 1
    assert c.get(fresh).status_code == 200


def test_pr6_erasure_through_the_contract_keeps_the_ledger_and_leaves_no_plain_data(world):
    """issue 13 point 2: erasing a volunteer through every plugin's answer leaves ``timebank ledger
    verify`` passing and neither the name, the ID number nor the phone in the SQLite files; each plugin
    says what it kept."""
    app, ids = world
    from plugins.privacy import services
    from plugins.privacy.contract import Subject
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        phone = Volunteer.get_by_id(ids["v1"]).phone
    from core import security
    from core.models import LoginFailure
    with app.test_request_context():   # a failed account claim keeps the typed number for the lockout window
        security.record_failure(phone)
        assert LoginFailure.select().where(LoginFailure.key == f"user:{phone}").count() == 1
    with app.test_request_context():
        v = Volunteer.get_by_id(ids["v1"])
        out = services.erase_subject(Subject("volunteer", user_id=v.user_id, volunteer_id=v.id))
        assert [p for p, _ in out][-1] == "volunteers"
        assert all(part.kept or part.removed for _, part in out)
        assert Volunteer.get_by_id(ids["v1"]).status == "erased"
    r = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert r.exit_code == 0, r.output
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        db_file = url.removeprefix("sqlite:///")
        blob = b"".join(open(p, "rb").read() for p in (db_file, db_file + "-wal") if os.path.exists(p))
        for text in (NAME_1, ids["id1"], phone):
            at = [blob[max(0, m.start() - 100):m.start() + 40] for m in re.finditer(re.escape(text.encode()), blob)]
            assert not at, (text, at)
        assert NAME_2.encode() in blob
    else:
        from core.db import db
        with app.app_context():
            for table in ("volunteers_volunteer", "ledger_account", "core_message", "core_user"):
                rows = db.execute_sql(f"SELECT * FROM {table}").fetchall()
                assert NAME_1 not in repr(rows), table


def test_r_priv_5_processing_record_page_and_xlsx_from_the_declarations(world):
    """issue 13 point 8: the 个人信息处理活动记录 is generated from every plugin's declarations, as an
    admin page and an XLSX, for those with the permission only; views and exports are audited."""
    from openpyxl import load_workbook
    app, ids = world
    admin = logged_in(app, "admin")
    page = admin.get("/admin/privacy_record/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "个人信息处理活动记录" in html
    from plugins.privacy import services
    with app.test_request_context():
        tables = [d.model._meta.table_name for d in services.declarations()]
    for table in tables:
        assert table in html, table
    assert "志愿者" in html and "服务对象" in html and "证件号码（敏感）" in html
    x = admin.get("/admin/privacy_record/export.xlsx")
    assert x.status_code == 200 and x.headers["Cache-Control"] == "no-store"
    ws = load_workbook(io.BytesIO(x.data)).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0][:3] == ["插件", "数据表", "信息主体"]
    assert sorted(r[1] for r in values[1:]) == sorted(tables)
    team_admin = logged_in(app, "ta")
    assert team_admin.get("/admin/privacy_record/").status_code == 403
    assert team_admin.get("/admin/privacy_record/export.xlsx").status_code == 403
    from core.models import AuditLog
    with app.app_context():
        actions = {a.action for a in AuditLog.select()}
    assert {"privacy.record_viewed", "privacy.record_exported"} <= actions


def test_pr6_a_granted_deletion_request_erases_in_every_plugin(world):
    """issue 13 point 1: the volunteers plugin's own erasure paths (here a granted deletion request; the
    retention job takes the same path) reach every other plugin through the contract: the inbox is
    emptied, the points account loses the name, the feedback comments go; audited once."""
    app, ids = world
    from core import messages
    from core.models import AuditLog, Message, User
    from plugins.activities.models import Feedback
    from plugins.ledger.models import Account
    from plugins.volunteers import services as V
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        v = Volunteer.get_by_id(ids["v2"])
        messages.send(User.get_by_id(v.user_id), "活动提醒", "李四您好，明天的活动请准时到达。")
        Feedback.create(activity=ids["a1"], volunteer=v.id, comments="李四的意见：很好")
        assert Account.get(Account.code == f"volunteer:{v.id}").name.startswith(NAME_2)
        req = V.request_action(v, "deletion", "请删除我的信息")
        V.decide_request(req, done=True, outcome="已删除", actor=User.get(User.username == "admin"))
    with app.app_context():
        assert Volunteer.get_by_id(ids["v2"]).status == "erased"
        assert Message.select().where(Message.recipient == v.user_id).count() == 0
        assert NAME_2 not in Account.get(Account.code == f"volunteer:{v.id}").name
        fb = Feedback.get(Feedback.activity == ids["a1"], Feedback.comments == "")
        assert fb.volunteer_id is None
        rows = list(AuditLog.select().where(AuditLog.action == "privacy.erased"))
        assert len(rows) == 1 and json.loads(rows[0].details)["reason"] == "request"


def test_r_priv_1_every_builtin_plugin_enabled_no_personal_field_undeclared(make_app):
    """issue 13 point 1: with every built-in plugin enabled (not only those of the other tests), no field
    tagged personal is undeclared."""
    from core import plugins as P
    available, _ = P.discover()
    builtin = sorted(n for n, i in available.items() if i.module.startswith("plugins.") and i.manifest.get("installable", True))
    app = make_app(plugins=builtin)
    from plugins.privacy import services
    with app.test_request_context():
        assert set(builtin) <= set(app.extensions["timebank"].loaded)
        assert services.undeclared() == []


def test_pr5_who_has_seen_my_data_only_mine(world):
    """issue 13 point 2 ("who has seen my data", from the audit log): a platform admin's audited view of
    volunteer 1's full phone number is listed on volunteer 1's privacy page, not on volunteer 2's."""
    app, ids = world
    from core.models import User
    from plugins.volunteers import services as V
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():
        V.reveal(Volunteer.get_by_id(ids["v1"]), "phone", viewer=User.get(User.username == "admin"))
    mine = logged_in(app, ids["u1"]).get("/me/privacy").get_data(as_text=True)
    other = logged_in(app, ids["u2"]).get("/me/privacy").get_data(as_text=True)
    assert "谁查看或修改过我的信息" in mine
    seen = mine.split('id="privacy-seen"')[1]
    assert "查看了完整的证件号码或手机号码" in seen and "admin" in seen
    assert "查看了完整的证件号码或手机号码" not in other
