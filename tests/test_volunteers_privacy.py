"""Personal data at rest and on screen (issue 3 point 3; SECURITY PR1, PR2, PR5, AC9, IV7, IV8, AU1;
RULES R-PRIV-1, R-PRIV-2, R-NAT-6).

- The raw database (SQLite files with their WAL, or PostgreSQL's raw columns and a dump) and a
  ``timebank backup`` file hold no plain ID number or phone number; lookups go through the blind index.
- ``timebank keys rotate`` moves every ciphertext to the new key and keeps every value readable.
- The admin shows masked values to the platform admin and to a team admin; only the platform admin's
  audited "Show full" returns a full value; sensitive columns stay out of lists and exports.
- Text fields are escaped on every screen (IV7) and formula-escaped in exports (IV8).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from conftest import PASSWORD, PG_URL, csrf_from, login
from plugins.volunteers import fakes

PLUGINS = ["volunteers", "teams"]
ID_F = "11010519491231002X"
PHONE = "13800001234"
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


# ------------------------------------------------------------------ helpers
@pytest.fixture
def vapp(make_app):
    return make_app(plugins=PLUGINS)


def register(app, **over):
    """Register through the public page; returns the volunteer number."""
    c = app.test_client()
    page = c.get("/register").get_data(as_text=True)
    data = {"name": "李小红", "gender": "F", "id_type": "cn_id", "id_number": ID_F, "phone": PHONE,
            "password": PASSWORD, "agreement": "1", "csrf_token": csrf_from(page)}
    data.update(over)
    r = c.post("/register", data={k: v for k, v in data.items() if v is not None})
    html = r.get_data(as_text=True)
    m = re.search(r'class="vol-number">([^<]+)<', html)
    assert r.status_code == 201 and m, re.findall(r'id="err-([a-z_]+)"[^>]*>([^<]*)', html) or html[-1500:]
    return m.group(1)


def volunteer(app, number):
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return Volunteer.get(Volunteer.number == number)


def audit_rows(app, action):
    from core.models import AuditLog
    with app.app_context():
        return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def cli(*args, ok=True):
    from core.cli import main
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if ok:
        assert r.exit_code == 0, r.output
    return r


@pytest.fixture
def site_env(vapp, monkeypatch, tmp_path):
    """Environment for ``timebank …`` commands to reach the same site as ``vapp``."""
    monkeypatch.setenv("TIMEBANK_INSTANCE_PATH", vapp.config["INSTANCE_PATH"])
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", vapp.config["DATABASE_URL"])
    monkeypatch.setenv("TIMEBANK_PLUGINS", ",".join(PLUGINS))
    monkeypatch.delenv("TIMEBANK_DATA_KEYS", raising=False)
    return vapp


def admin_client(app, make_user, name="admin"):
    make_user(name, "platform_admin")
    c = app.test_client()
    assert login(c, name).status_code == 302
    return c


@pytest.fixture
def teams(vapp, make_user):
    """Two approved teams, each with its own team admin; returns a function adding a member to team A."""
    from plugins.teams import services as T
    with vapp.test_request_context():
        out = {}
        for key, name in (("a", "天河党员志愿队"), ("b", "海珠党员志愿队")):
            t = T.register_team({"name": name, "leader_name": "王队长", "leader_phone": "13700000000",
                                 "service_direction": "长者服务", "district": "天河区", "address": "天河路 1 号",
                                 "intro": "社区党员志愿服务队"}, username=f"lead_{key}", password=PASSWORD)
            T.submit_for_review(t)
            out[key] = T.review_team(t, approve=True)

    def join(number, key="a"):
        with vapp.test_request_context():
            from plugins.volunteers.models import Volunteer
            v = Volunteer.get(Volunteer.number == number)
            m = T.apply_to_join(v, out[key])
            T.decide_memberships([m], approve=True)
    out["join"] = join
    return out


def team_client(app, key="a"):
    c = app.test_client()
    assert login(c, f"lead_{key}").status_code == 302
    return c


# ------------------------------------------------------------------ PR2: nothing plain at rest
def _seed_everything(app, make_user):
    """Touch every path that handles an ID or a phone number: registration (with the +86 form),
    a refused duplicate, a minor with a guardian, failed and successful logins by phone and by ID,
    a correction, the owner's export, a full view and an export in the admin."""
    n1 = register(app, phone="+86 138-0000-1234", political_status="中共预备党员", religion="佛教",
                  sensitive_consent="1", pledge="1")
    minor_id = fakes.id_number(fakes.birth_for_age(12), gender="M", seq=931)
    register(app, name="李小明", gender="M", id_number=minor_id, phone="13800004321", minor_basis="guardian",
             guardian_name="李大明", guardian_phone="13900000001", guardian_consent="1")
    c = app.test_client()
    page = c.get("/register").get_data(as_text=True)
    r = c.post("/register", data={"name": "重复", "id_type": "cn_id", "id_number": ID_F, "phone": "13700007777",
                                  "password": PASSWORD, "agreement": "1", "csrf_token": csrf_from(page)})
    assert r.status_code == 400
    for ident in ("13800001234", "+86 138 0000 1234", ID_F, minor_id):     # failed logins
        assert login(app.test_client(), ident, password="not the password").status_code == 401
    vc = app.test_client()
    assert login(vc, "13800001234").status_code == 302
    page = vc.get("/me").get_data(as_text=True)
    assert vc.post("/me", data={"phone": "13900005678", "csrf_token": csrf_from(page)}).status_code == 302
    assert vc.get("/me/export.json").status_code == 200
    admin = admin_client(app, make_user)
    v = volunteer(app, n1)
    details = admin.get(f"/admin/volunteers_volunteer/details/?id={v.id}").get_data(as_text=True)
    r = admin.post(f"/admin/volunteers_volunteer/reveal/?id={v.id}&field=id_number",
                   headers={"X-CSRFToken": csrf_from(details)})
    assert r.status_code == 200 and r.get_json()["value"] == ID_F
    assert admin.get("/admin/volunteers_volunteer/export/csv/").status_code == 200
    return {"n1": n1, "minor_id": minor_id}


def _needles(minor_id):
    """Plain values that must never be stored (and their common spellings)."""
    values = [ID_F, ID_F.lower(), minor_id, "13800001234", "13900005678", "13900000001", "13800004321",
              "13700007777", "138-0000-1234", "138 0000 1234"]
    out = {}
    for v in values:
        out[v] = [v.encode("utf-8"), v.encode("utf-16-le")]
    for v in ("中共预备党员", "佛教", "李大明"):   # sensitive: political status, religion, guardian (PR1)
        out[v] = [v.encode("utf-8")]
    return out


def _scan(blob: bytes, needles: dict) -> list[str]:
    return [name for name, forms in needles.items() if any(f in blob for f in forms)]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite files; the PostgreSQL variant is below")
def test_sqlite_files_wal_and_backup_hold_no_plain_id_or_phone_PR2(site_env, make_user, tmp_path):
    app = site_env
    seeded = _seed_everything(app, make_user)
    needles = _needles(seeded["minor_id"])
    db_file = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    files = [p for p in (db_file, db_file + "-wal") if os.path.exists(p)]
    assert os.path.exists(db_file + "-wal"), "the site runs in WAL mode: the -wal file is part of the data"
    backup = tmp_path / "backup.sqlite"
    cli("backup", str(backup))
    assert backup.exists()
    files.append(str(backup))
    # every other file the site wrote in its instance folder (task queue, uploads, …)
    inst = app.config["INSTANCE_PATH"]
    files += [os.path.join(d, f) for d, _, fs in os.walk(inst) for f in fs if f != "keys.json"]
    for path in files:
        blob = open(path, "rb").read()
        assert _scan(blob, needles) == [], f"plain personal data in {path}"
    # the scan is able to see plain text: the volunteer number (public, R-NAT-6) is there
    assert seeded["n1"].encode() in open(db_file, "rb").read() + open(db_file + "-wal", "rb").read()
    assert seeded["n1"].encode() in backup.read_bytes()


def test_raw_columns_hold_ciphertext_and_keyed_hashes_PR2(vapp, make_user):
    """On both databases: the raw columns are AES-GCM tokens and HMACs, never the plain value."""
    from core.db import db
    seeded = _seed_everything(vapp, make_user)
    needles = _needles(seeded["minor_id"])
    with vapp.app_context():
        rows = db.execute_sql(
            "SELECT number, id_number, id_hash, phone, phone_hash, political_status, religion, guardian_name, "
            "guardian_phone FROM volunteers_volunteer ORDER BY id").fetchall()
    assert len(rows) == 2
    for number, id_number, id_hash, phone, phone_hash, political, religion, gname, gphone in rows:
        for token in (id_number, phone):
            assert re.fullmatch(r"v1:k\d+:[A-Za-z0-9_=-]+", token), token
        assert re.fullmatch(r"[0-9a-f]{64}", id_hash) and re.fullmatch(r"[0-9a-f]{64}", phone_hash)
        for token in (political, religion, gname, gphone):
            assert token == "" or token.startswith("v1:")
        joined = "|".join(str(x) for x in (id_number, id_hash, phone, phone_hash, political, religion, gname, gphone))
        assert _scan(joined.encode(), needles) == []
    # the same plain value encrypts differently each time (random nonce): no equality leaks
    assert rows[0][3] != rows[1][3]
    with vapp.app_context():
        from core.models import AuditLog, LoginFailure
        dump = "\n".join(f"{a.object_id} {a.details}" for a in AuditLog.select())
        dump += "\n".join(f.key for f in LoginFailure.select())
    assert _scan(dump.encode(), needles) == [], "plain identifiers in the audit log or login throttling"


@pytest.mark.skipif(bool(PG_URL), reason="SQLite files")
def test_erased_volunteer_leaves_no_trace_in_sqlite_files_PR6(vapp, make_user):
    """An erasure (granted deletion request) leaves neither the old row in freed page space nor old
    page versions in the WAL; another volunteer's data is still there (the scan sees plain text)."""
    keep = register(vapp, name="留存志愿者", address="留存路 8 号", id_number=fakes.id_number(seq=941), gender="M",
                    phone="13800008888")
    gone = register(vapp, name="注销志愿者", address="注销路 9 号", hobbies="独一无二的爱好")
    from plugins.volunteers import services
    with vapp.test_request_context():
        req = services.request_action(volunteer(vapp, gone), "deletion", "请删除")
        services.decide_request(req, done=True, outcome="已删除", actor=None)
    assert volunteer(vapp, gone).status == "erased"
    db_file = vapp.config["DATABASE_URL"].removeprefix("sqlite:///")
    blob = b"".join(open(p, "rb").read() for p in (db_file, db_file + "-wal") if os.path.exists(p))
    for text in ("注销志愿者", "注销路 9 号", "独一无二的爱好", "请删除"):
        assert text.encode() not in blob, text
    assert "留存路 8 号".encode() in blob and keep.encode() in blob


@pytest.mark.skipif(not PG_URL, reason="needs TIMEBANK_TEST_DATABASE_URL (PostgreSQL)")
def test_postgres_dump_and_backup_hold_no_plain_id_or_phone_PR2(site_env, make_user, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore not installed")
    app = site_env
    seeded = _seed_everything(app, make_user)
    needles = _needles(seeded["minor_id"])
    dump = subprocess.run(["pg_dump", "--data-only", "--inserts", PG_URL], capture_output=True, check=True).stdout
    assert seeded["n1"].encode() in dump
    assert _scan(dump, needles) == []
    backup = tmp_path / "backup.pgdump"
    cli("backup", str(backup))
    sql = subprocess.run(["pg_restore", "-f", "-", str(backup)], capture_output=True, check=True).stdout
    assert seeded["n1"].encode() in sql
    assert _scan(sql, needles) == []


def test_blind_index_lookup_PR2(vapp):
    from core.db import db
    from plugins.volunteers import services
    n = register(vapp, phone="+86 138 0000 1234")
    with vapp.app_context():
        v = volunteer(vapp, n)
        assert services.find_by_id_number("cn_id", ID_F).id == v.id
        assert services.find_by_id_number("cn_id", ID_F.lower()).id == v.id
        assert services.find_by_id_number("cn_id", " 1101 0519 4912 3100 2X ").id == v.id
        assert services.find_by_id_number("hmt_permit", ID_F) is None           # another ID type
        assert services.find_by_id_number("cn_id", "110105194912310021") is None  # invalid
        assert services.find_by_id_number("cn_id", fakes.id_number()) is None     # valid, unknown
        for p in ("13800001234", "+86 138-0000-1234", "0086 13800001234"):
            assert [x.id for x in services.find_by_phone(p)] == [v.id]
        assert services.find_by_phone("13800009999") == [] and services.find_by_phone("garbage") == []
        # the lookups are index lookups: unique on the ID's hash, an index on the phone's
        idx = {tuple(i.columns): i.unique for i in db.obj.get_indexes("volunteers_volunteer")}
        assert idx.get(("id_hash",)) is True and ("phone_hash",) in idx
        # the hash is keyed: a plain SHA-256 of the number is not it
        import hashlib
        raw = db.execute_sql("SELECT id_hash FROM volunteers_volunteer").fetchone()[0]
        assert raw not in (hashlib.sha256(ID_F.encode()).hexdigest(),
                           hashlib.sha256(f"cn_id:{ID_F}".encode()).hexdigest())


# ------------------------------------------------------------------ key rotation
def _raw_tokens(app):
    from core.db import db
    with app.app_context():
        rows = db.execute_sql("SELECT id_number, phone, political_status, religion, guardian_name, "
                              "guardian_phone FROM volunteers_volunteer").fetchall()
        team = db.execute_sql("SELECT leader_phone FROM teams_team").fetchall()
    return [t for row in rows + team for t in row if t]


def _plain(app):
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        return sorted((v.number, v.id_number, v.phone, v.political_status, v.religion, v.guardian_name,
                       v.guardian_phone) for v in Volunteer.select())


def test_key_rotation_reencrypts_everything_and_keeps_it_readable_PR2(site_env, teams):
    from core import create_app
    app = site_env
    register(app, political_status="中共党员", religion="无", sensitive_consent="1", pledge="1")
    register(app, name="李小明", gender="M", id_number=fakes.id_number(fakes.birth_for_age(12), seq=933),
             phone="13800004321", minor_basis="guardian", guardian_name="李大明", guardian_phone="13900000001",
             guardian_consent="1")
    before = _plain(app)
    tokens = _raw_tokens(app)
    assert tokens and {t.split(":")[1] for t in tokens} == {"k1"}
    keys_file = os.path.join(app.config["INSTANCE_PATH"], "keys.json")
    out = cli("keys", "rotate").output
    assert "k2" in out
    ring = json.load(open(keys_file))
    assert ring["primary"] == "k2" and set(ring["keys"]) == {"k1", "k2"}
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    after_tokens = _raw_tokens(app)
    assert len(after_tokens) == len(tokens)
    assert {t.split(":")[1] for t in after_tokens} == {"k2"}, "every ciphertext moved to the new key"
    assert not set(after_tokens) & set(tokens)
    assert _plain(app) == before
    rows = audit_rows(app, "keys.rotated")
    assert len(rows) == 1 and json.loads(rows[0].details)["rows"] >= 2
    # lookups still work (the blind-index key is separate and unchanged)
    from plugins.volunteers import services
    with app.app_context():
        assert services.find_by_id_number("cn_id", ID_F) is not None
    # retire the old key: a fresh start with only k2 reads everything
    ring["keys"].pop("k1")
    with open(keys_file, "w") as fh:
        json.dump(ring, fh)
    app2 = create_app({"INSTANCE_PATH": app.config["INSTANCE_PATH"], "DATABASE_URL": app.config["DATABASE_URL"],
                       "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS})
    assert _plain(app2) == before
    # a second rotation goes on to k3
    assert "k3" in cli("keys", "rotate").output
    assert {t.split(":")[1] for t in _raw_tokens(app2)} == {"k3"}
    assert _plain(app2) == before


def test_rotation_refuses_keys_given_in_the_environment(site_env, monkeypatch):
    """With TIMEBANK_DATA_KEYS the keys live outside the instance: writing a new key to keys.json would
    encrypt data under a key the next start does not load. The command refuses and changes nothing."""
    from core import crypto
    app = site_env
    register(app)
    ring = crypto.keyring().to_dict()
    monkeypatch.setenv("TIMEBANK_DATA_KEYS", json.dumps(ring))
    tokens = _raw_tokens(app)
    r = cli("keys", "rotate", ok=False)
    assert r.exit_code != 0 and "TIMEBANK_DATA_KEYS" in r.output
    assert _raw_tokens(app) == tokens


def test_unknown_key_id_is_a_clear_error():
    from core.crypto import Keyring, KeyError_, new_key
    ring = Keyring({"k1": new_key()}, "k1", b"x" * 32)
    token = ring.encrypt("secret", "ctx")
    other = Keyring({"k2": new_key()}, "k2", b"x" * 32)
    with pytest.raises(KeyError_, match="k1"):
        other.decrypt(token, "ctx")
    assert ring.decrypt(token, "ctx") == "secret"


# ------------------------------------------------------------------ PR5: masked on screen, audited full view
def test_admin_list_details_and_export_are_masked_for_both_roles_PR5_AC9(vapp, make_user, teams):
    n = register(vapp, phone="13800001234", political_status="中共党员", religion="佛教", sensitive_consent="1",
                 pledge="1")
    teams["join"](n)
    v = volunteer(vapp, n)
    for who, c in (("platform", admin_client(vapp, make_user)), ("team", team_client(vapp))):
        lst = c.get("/admin/volunteers_volunteer/")
        assert lst.status_code == 200, who
        html = lst.get_data(as_text=True)
        assert n in html
        assert ID_F not in html and PHONE not in html and "110105********002X" not in html  # AC9: not listed
        d = c.get(f"/admin/volunteers_volunteer/details/?id={v.id}").get_data(as_text=True)
        assert "110105********002X" in d and "138****1234" in d, who
        assert ID_F not in d and PHONE not in d and "中共党员" not in d and "佛教" not in d, who
        has_button = f"reveal/?id={v.id}" in d
        assert has_button == (who == "platform"), who
        for kind in ("csv", "xlsx"):
            r = c.get(f"/admin/volunteers_volunteer/export/{kind}/")
            assert r.status_code == 200, (who, kind)
            text = _export_text(r.data, kind)
            assert n in text
            assert ID_F not in text and PHONE not in text and "110105" not in text and "1234" not in text
            assert "中共党员" not in text and "佛教" not in text
        assert audit_rows(vapp, "pii.viewed") == []
    assert len(audit_rows(vapp, "export")) == 4


def _export_text(data: bytes, kind: str) -> str:
    if kind == "csv":
        return data.decode("utf-8-sig")
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join("|".join("" if c is None else str(c) for c in row) for row in wb.active.iter_rows(values_only=True))


def test_sensitive_columns_not_in_list_or_export_AC9(vapp):
    from plugins.volunteers.models import SENSITIVITY
    views = [v for v in vapp.extensions["admin"][0]._views
             if getattr(v, "endpoint", "").startswith("volunteers_") and hasattr(v, "_list_columns")]
    assert {v.endpoint for v in views} >= {"volunteers_volunteer", "volunteers_data_request"}
    sensitive = {f for f, tag in SENSITIVITY.items() if tag == "sensitive"}
    for view in views:
        listed = {c for c, _ in view._list_columns}
        exported = {c for c, _ in view._export_columns}
        assert not listed & sensitive, view.endpoint
        assert not exported & sensitive, view.endpoint
        assert not {"id_hash", "phone_hash", "political_hash"} & (listed | exported)


def _reveal(c, vid, field="id_number", token=True):
    headers = {"X-CSRFToken": csrf_from(c.get("/", follow_redirects=True).get_data(as_text=True))} if token else {}
    return c.post(f"/admin/volunteers_volunteer/reveal/?id={vid}&field={field}", headers=headers)


def test_platform_admin_show_full_is_audited_PR5_AU1(vapp, make_user):
    n = register(vapp)
    v = volunteer(vapp, n)
    admin = admin_client(vapp, make_user)
    r = _reveal(admin, v.id)
    assert r.status_code == 200 and r.get_json() == {"field": "id_number", "value": ID_F}
    assert r.headers["Cache-Control"] == "no-store"
    r = _reveal(admin, v.id, "phone")
    assert r.get_json()["value"] == PHONE
    rows = audit_rows(vapp, "pii.viewed")
    assert [(json.loads(a.details)["field"], a.username, a.object_type, a.object_id) for a in rows] == [
        ("id_number", "admin", "volunteers_volunteer", str(v.id)), ("phone", "admin", "volunteers_volunteer", str(v.id))]
    assert all(ID_F not in a.details and PHONE not in a.details for a in rows)
    # no CSRF token: 400 and nothing shown or logged (AC5); GET is not allowed; a plain field is not "revealed"
    assert _reveal(admin, v.id, token=False).status_code == 400
    assert admin.get(f"/admin/volunteers_volunteer/reveal/?id={v.id}&field=id_number").status_code == 405
    assert _reveal(admin, v.id, "name").status_code == 404
    assert _reveal(admin, 999999).status_code == 404
    assert _reveal(admin, "abc").status_code == 404
    assert len(audit_rows(vapp, "pii.viewed")) == 2


def test_team_admin_cannot_show_full_PR5_AC6(vapp, make_user, teams):
    n = register(vapp)
    teams["join"](n)
    v = volunteer(vapp, n)
    before = len(audit_rows(vapp, "access.denied"))
    r = _reveal(team_client(vapp, "a"), v.id)
    assert r.status_code == 403 and ID_F not in r.get_data(as_text=True)
    denied = audit_rows(vapp, "access.denied")[before:]
    assert len(denied) == 1 and denied[0].username == "lead_a"
    assert json.loads(denied[0].details)["permission"] == "volunteers.volunteer.sensitive"
    # another team's admin does not even learn the record exists: 404, refusal audited too
    r = _reveal(team_client(vapp, "b"), v.id)
    assert r.status_code == 404 and ID_F not in r.get_data(as_text=True)
    assert len(audit_rows(vapp, "access.denied")) == before + 2
    assert audit_rows(vapp, "pii.viewed") == []
    # a volunteer (no admin access) and an anonymous visitor get nowhere either
    vc = vapp.test_client()
    login(vc, n)
    assert _reveal(vc, v.id).status_code in (403, 404)
    assert vapp.test_client().post(f"/admin/volunteers_volunteer/reveal/?id={v.id}&field=id_number").status_code \
        in (302, 400, 403)
    assert audit_rows(vapp, "pii.viewed") == []


# ------------------------------------------------------------------ IV7, IV8
def test_xss_payload_shows_escaped_everywhere_IV7(vapp, make_user, teams):
    n = register(vapp, name=XSS, address=XSS, specialties=XSS, employer=XSS)
    teams["join"](n)
    v = volunteer(vapp, n)
    vc = vapp.test_client()
    login(vc, n)
    with vapp.test_request_context():
        from plugins.volunteers import services
        services.request_action(v, "correction", XSS)
    pages = {"/me": vc}
    admin = admin_client(vapp, make_user)
    for url in ("/admin/volunteers_volunteer/", f"/admin/volunteers_volunteer/details/?id={v.id}",
                f"/admin/volunteers_volunteer/edit/?id={v.id}", "/admin/volunteers_data_request/",
                "/admin/volunteers_data_request/details/?id=1"):
        pages[url] = admin
    pages["/admin/volunteers_volunteer/ "] = team_client(vapp)
    pages[f"/admin/volunteers_volunteer/details/?id={v.id} "] = team_client(vapp)
    for url, c in pages.items():
        r = c.get(url.strip())
        html = r.get_data(as_text=True)
        assert r.status_code == 200, url
        assert XSS not in html, f"unescaped payload on {url}"
        assert XSS_ESCAPED in html or XSS_ESCAPED.replace("=", "&#61;") in html, f"payload not shown on {url}"


def test_export_cells_are_formula_escaped_IV8(vapp, make_user):
    register(vapp, name="=1+2", employer="@SUM(A1)", specialties="-2+3", service_intention="+cmd|' /C calc'!A0")
    admin = admin_client(vapp, make_user)
    r = admin.get("/admin/volunteers_volunteer/export/csv/")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert "'=1+2" in cells and "'@SUM(A1)" in cells and "'-2+3" in cells
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    import openpyxl
    r = admin.get("/admin/volunteers_volunteer/export/xlsx/")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    values = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in values)
    assert "'=1+2" in [c.value for c in values] and "'@SUM(A1)" in [c.value for c in values]


# ------------------------------------------------------------------ the admin's own registration form
def counts(app):
    from core.db import db
    with app.app_context():
        return {t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in ("volunteers_volunteer", "core_user", "core_audit_log")}


def invalid_fields(html: str) -> set[str]:
    """Fields that Flask-Admin (bootstrap4) marks invalid, i.e. with their error shown beside them."""
    out = set()
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if "is-invalid" in tag:
            out.add(re.search(r'name="([a-z_]+)"', tag).group(1))
    return out


def test_admin_create_form_shows_errors_beside_fields_and_writes_nothing_R_REG_1(vapp, make_user):
    admin = admin_client(vapp, make_user)
    page = admin.get("/admin/volunteers_volunteer/new/")
    html = page.get_data(as_text=True)
    # every 附录一 field can be entered in the admin too
    for name in ("name", "gender", "id_type", "id_number", "birth_date", "phone", "email", "nickname",
                 "political_status", "religion", "ethnicity", "native_place", "household_place", "district",
                 "address", "postcode", "qq", "wechat", "education", "school_major", "professional_title",
                 "job_title", "occupation", "employer", "specialties", "hobbies", "service_intention", "resume",
                 "remarks", "minor_basis", "guardian_name", "guardian_phone", "agreement", "sensitive_consent",
                 "pledge", "guardian_consent"):
        assert f'name="{name}"' in html, name
    before = counts(vapp)
    r = admin.post("/admin/volunteers_volunteer/new/", data={
        "csrf_token": csrf_from(html), "name": "王五", "gender": "M", "id_type": "cn_id",
        "id_number": "110105194912310021", "phone": "1234", "political_status": "中共党员"})
    assert r.status_code == 200
    errs = invalid_fields(r.get_data(as_text=True))
    assert {"id_number", "phone", "agreement", "sensitive_consent", "pledge"} <= errs, errs
    assert counts(vapp) == before
    r = admin.post("/admin/volunteers_volunteer/new/", data={
        "csrf_token": csrf_from(html), "name": "王五", "gender": "", "id_type": "cn_id", "id_number": ID_F,
        "phone": "+86 13800001234", "political_status": "中共党员", "agreement": "y", "sensitive_consent": "y",
        "pledge": "y", "remarks": "纸质登记表已存档"})
    assert r.status_code == 302, invalid_fields(r.get_data(as_text=True))
    from plugins.volunteers.models import Volunteer
    with vapp.app_context():
        v = Volunteer.get()
        assert (v.id_number, v.phone, v.gender, v.remarks) == (ID_F, PHONE, "F", "纸质登记表已存档")
        assert v.agreement_accepted_at and v.pledge_accepted_at and v.sensitive_consent_at
    reg = audit_rows(vapp, "volunteer.registered")
    assert json.loads(reg[-1].details)["by"] == "admin"
    # the same person again: the error is beside the ID number
    r = admin.post("/admin/volunteers_volunteer/new/", data={
        "csrf_token": csrf_from(html), "name": "王五", "id_type": "cn_id", "id_number": ID_F.lower(),
        "phone": "13800001111", "agreement": "y"})
    assert r.status_code == 200 and "id_number" in invalid_fields(r.get_data(as_text=True))


def test_admin_edit_keeps_masked_phone_and_validates_PR5(vapp, make_user):
    n = register(vapp)
    v = volunteer(vapp, n)
    admin = admin_client(vapp, make_user)
    page = admin.get(f"/admin/volunteers_volunteer/edit/?id={v.id}")
    html = page.get_data(as_text=True)
    assert PHONE not in html and ID_F not in html and "138****1234" in html
    form = {"csrf_token": csrf_from(html), "phone": "138****1234", "address": "越秀路 3 号", "district": "越秀区"}
    assert admin.post(f"/admin/volunteers_volunteer/edit/?id={v.id}", data=form).status_code == 302
    v = volunteer(vapp, n)
    assert (v.phone, v.address, v.district) == (PHONE, "越秀路 3 号", "越秀区")
    r = admin.post(f"/admin/volunteers_volunteer/edit/?id={v.id}", data={**form, "phone": "999"})
    assert r.status_code == 200 and "phone" in invalid_fields(r.get_data(as_text=True))
    assert volunteer(vapp, n).phone == PHONE


def test_team_admin_cannot_create_or_edit_volunteers(vapp, teams):
    n = register(vapp)
    teams["join"](n)
    v = volunteer(vapp, n)
    c = team_client(vapp)
    assert c.get("/admin/volunteers_volunteer/new/").status_code == 403
    assert c.get(f"/admin/volunteers_volunteer/edit/?id={v.id}").status_code == 403


def test_without_teams_a_team_admin_reaches_no_volunteer_AC6(make_app, make_user):
    """With the teams plugin off there is no team tree to scope by: a team admin sees no volunteer in
    any list, export or by direct URL, while the platform admin still sees them all."""
    app = make_app(plugins=["volunteers"])
    from plugins.volunteers import services
    with app.test_request_context():
        v = services.register({"name": "孤立", "gender": "F", "id_type": "cn_id", "id_number": "11010519491231002X",
                               "phone": "13800138000", "agreement": "1"}, create_account=False)
    make_user("ta", "team_admin", scope="team:1")
    make_user("pa", "platform_admin")
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    assert v.number not in c.get("/admin/volunteers_volunteer/").get_data(as_text=True)
    assert c.get(f"/admin/volunteers_volunteer/details/?id={v.id}").status_code == 404
    assert v.number not in c.get("/admin/volunteers_volunteer/export/csv/").get_data(as_text=True)
    c2 = app.test_client()
    assert login(c2, "pa").status_code == 302
    assert v.number in c2.get("/admin/volunteers_volunteer/").get_data(as_text=True)
