"""Rosters and forms (R-TEAM-7; handbook 附录一～三) on SQLite and PostgreSQL.

Every document is read back the way a person would get it: PDFs through pypdf (the Chinese text, and
the proof that the font is embedded), workbooks through openpyxl. Masking and audit follow PR5,
formula escaping IV8, team isolation AC6. One site serves the read-only checks; the tests that change
the configuration (no font) build their own.
"""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from stdnum.cn import ric

from conftest import PASSWORD, csrf_from, database_url, flat, login, pdf_text
from core import create_app

PLUGINS = ["documents", "volunteers", "teams", "rosters"]
TEAM_A, TEAM_A1, TEAM_B, TEAM_C = ("越秀区北京街党员志愿服务队", "北京街青年突击分队",
                                   "天河区石牌街党员志愿服务队", "海珠区待审核志愿队")
PHONE_1, PHONE_2, PHONE_3 = "13812345678", "13698765432", "15011112222"
LEADER_A, LEADER_B = "13900001111", "13700002222"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"点我\")"
PLEDGE_SENTENCE = "我愿意成为一名光荣的党员志愿者。"
TEAM_TITLE = "单位（社区）登记注册党员志愿队伍花名册"
VOLUNTEER_TITLE = "单位（社区）登记注册党员志愿者花名册"


def make_id(seq: int, birth: str = "19900101", region: str = "440103") -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


ID_1, ID_2, ID_3 = make_id(11), make_id(22, "19851203"), make_id(33, "19770615")




def fonts_of(data: bytes) -> list[dict]:
    """Every font of every page, with whether its program is embedded (FontFile2 = TrueType)."""
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for name, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            desc = font.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            out.append({"name": name, "subtype": font["/Subtype"], "base": str(font.get("/BaseFont")),
                        "embedded": "/FontFile2" in desc})
    return out


def sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def sheet_rows(data: bytes) -> list[tuple]:
    return list(sheet(data).iter_rows(values_only=True))


def table_body(rows: list[tuple], first_heading: str = "序号") -> tuple[tuple, list[tuple]]:
    """(heading row, data rows) of a roster sheet: the rows after the heading that start with a number."""
    i = next(k for k, r in enumerate(rows) if r and r[0] == first_heading)
    body = [r for r in rows[i + 1:] if r and isinstance(r[0], int)]
    return rows[i], body


def audit_rows(app, action: str) -> list:
    from core.models import AuditLog
    with app.app_context():
        return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def logged_in(app, username, password=PASSWORD):
    c = app.test_client()
    r = login(c, username, password)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return c


def post(client, url, data):
    """POST from the rosters page, with its CSRF token."""
    token = csrf_from(client.get("/admin/rosters_roster/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def build_world(app):
    """Teams A (with sub-team A1), B (all approved) and C (pending); volunteers in each; admins."""
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.teams import services as T
    from plugins.volunteers import services as V
    with app.test_request_context():
        admin = User.create(username="admin", password_hash=hash_password(PASSWORD), display_name="平台管理员")
        grant_role(admin, PLATFORM_ADMIN)

        def team(name, leader, phone, direction):
            t = T.register_team({"name": name, "leader_name": leader, "leader_phone": phone,
                                 "service_direction": direction, "district": "越秀区",
                                 "address": "广州市某街道1号", "intro": "党员志愿服务",
                                 "organisation": name[:3] + "街道社区", "declared_size": "12"}, actor=admin)
            T.submit_for_review(t, actor=admin)
            return T.review_team(t, approve=True, actor=admin)
        a = team(TEAM_A, "陈队长", LEADER_A, "扶贫助困、洁净家园")
        a1 = team(TEAM_A1, "黄组长", "13911112222", "文明出行")
        b = team(TEAM_B, "林队长", LEADER_B, "守护平安")
        c = T.register_team({"name": TEAM_C, "leader_name": "周某", "leader_phone": "13300003333"})
        req = T.apply_subteam(a1, a, actor=admin)
        T.decide_subteam(req, approve=True, actor=admin)

        def volunteer(name, id_number, phone, **extra):
            data = {"name": name, "id_type": "cn_id", "id_number": id_number, "phone": phone,
                    "agreement": True, "password": PASSWORD, **extra}
            return V.register(data, actor=admin)
        v1 = volunteer("张三", ID_1, PHONE_1, political_status="中共党员", sensitive_consent=True, pledge=True,
                       address="越秀区北京路100号", employer="广州市某公司", specialties=FORMULA,
                       ethnicity="汉族", education="本科", email="zhang@example.com", qq="10001",
                       resume="2010年参加工作；2015年入党。")
        v2 = volunteer("李四", ID_2, PHONE_2, employer="北京街社区居委会", specialties="摄影")
        v3 = volunteer("王五", ID_3, PHONE_3, address="天河区石牌东路8号", specialties="法律咨询")
        for v, t in ((v1, a), (v2, a1), (v3, b), (v1, b)):
            T.decide_memberships([T.apply_to_join(v, t)], approve=True, actor=admin)

        def team_admin(username, t):
            u = User.create(username=username, password_hash=hash_password(PASSWORD), display_name=username)
            grant_role(u, TEAM_ADMIN, f"team:{t.id}")
        team_admin("ta", a)
        team_admin("ta1", a1)
        team_admin("tb", b)
        return {"a": a.id, "a1": a1.id, "b": b.id, "c": c.id, "v1": v1.id, "v2": v2.id, "v3": v3.id,
                "n1": v1.number, "n2": v2.number, "n3": v3.number}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rosters")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": PLUGINS,
                      "DEFAULT_LOCALE": "en"})
    ids = build_world(app)
    clients = {u: logged_in(app, u) for u in ("admin", "ta", "ta1", "tb")}
    clients["v1"] = logged_in(app, ids["n1"])
    yield {"app": app, "ids": ids, "c": clients}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def get_ok(client, url, kind):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    ctype = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf"}[kind]
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Cache-Control"] == "no-store"   # AC10: personal data is not cached
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    return r


# ------------------------------------------------------------------ 附录二 team roster
def test_team_roster_xlsx_lists_approved_teams_masked(world):
    """R-TEAM-7 / 附录二: heading, one row per approved team (tree order), leader phones masked (PR5)."""
    r = get_ok(world["c"]["admin"], "/admin/rosters_roster/download/teams/xlsx", "xlsx")
    assert "%E8%8A%B1%E5%90%8D%E5%86%8C" in r.headers["Content-Disposition"]   # 花名册 in filename*
    rows = sheet_rows(r.data)
    assert rows[0][0] == TEAM_TITLE
    head, body = table_body(rows)
    assert list(head) == ["序号", "志愿队伍名称", "负责人姓名", "联系电话", "队伍人数", "服务方向",
                          "登记日期", "备注"]
    by_name = {row[1]: row for row in body}
    assert set(by_name) == {TEAM_A, TEAM_A1, TEAM_B}          # the pending team C is not registered yet
    assert [row[1] for row in body] == [TEAM_A, TEAM_A1, TEAM_B]   # a parent before its sub-team
    assert [row[0] for row in body] == [1, 2, 3]
    assert by_name[TEAM_A][2] == "陈队长"
    assert by_name[TEAM_A][3] == "139****1111"
    assert by_name[TEAM_A][4] == 1 and by_name[TEAM_B][4] == 2   # approved members
    assert by_name[TEAM_A1][7] == f"隶属：{TEAM_A}"
    flat_cells = json.dumps(rows, ensure_ascii=False, default=str)
    assert LEADER_A not in flat_cells and LEADER_B not in flat_cells
    assert any(f"填报单位" in str(c) for row in rows for c in row if c)


def test_team_roster_pdf_text_and_embedded_font(world):
    """附录二 as PDF: the Chinese text comes back out, and the font travels inside the file."""
    r = get_ok(world["c"]["admin"], "/admin/rosters_roster/download/teams/pdf", "pdf")
    text = pdf_text(r.data)
    assert TEAM_TITLE in text
    for name in (TEAM_A, TEAM_A1, TEAM_B):
        assert name in flat(text)
    assert TEAM_C not in flat(text)
    assert "139****1111" in text and LEADER_A not in text
    assert "第 1 页，共 1 页" in text
    fonts = fonts_of(r.data)
    assert fonts and all(f["embedded"] and f["subtype"] == "/TrueType" for f in fonts), fonts
    assert "STSong" not in str(fonts)


# ------------------------------------------------------------------ 附录三 volunteer roster
def test_volunteer_roster_xlsx_masked_and_formula_escaped(world):
    """附录三: headings, members with their teams, phones masked (PR5), formula text escaped (IV8)."""
    r = get_ok(world["c"]["admin"], "/admin/rosters_roster/download/volunteers/xlsx", "xlsx")
    ws = sheet(r.data)
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == VOLUNTEER_TITLE
    head, body = table_body(rows)
    assert list(head) == ["序号", "姓名", "性别", "年龄", "家庭住址或工作单位", "联系电话", "特长",
                          "所属志愿队伍", "备注"]
    by_name = {row[1]: row for row in body}
    assert set(by_name) == {"张三", "李四", "王五"}
    z = by_name["张三"]
    assert z[2] == "男" and isinstance(z[3], int) and z[3] >= 30
    assert z[4] == "越秀区北京路100号；广州市某公司"
    assert z[5] == "138****5678"
    assert z[6] == "'" + FORMULA                    # IV8: a formula is text, prefixed with '
    assert set(z[7].split("、")) == {TEAM_A, TEAM_B}
    assert z[8] == world["ids"]["n1"]
    assert by_name["李四"][7] == TEAM_A1 and by_name["李四"][5] == "136****5432"
    # no cell of the workbook is a formula, and no full phone is in it
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not any(isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")) for c in cells)
    dump = json.dumps(rows, ensure_ascii=False, default=str)
    assert PHONE_1 not in dump and PHONE_2 not in dump and PHONE_3 not in dump
    assert any("负责人签字" in str(c) for row in rows for c in row if c)


def test_volunteer_roster_pdf(world):
    r = get_ok(world["c"]["admin"], "/admin/rosters_roster/download/volunteers/pdf", "pdf")
    text = pdf_text(r.data)
    assert VOLUNTEER_TITLE in text
    for s in ("张三", "李四", "王五", "138****5678", "填报人", "负责人签字"):
        assert s in text, s
    assert PHONE_1 not in text
    assert all(f["embedded"] for f in fonts_of(r.data))


# ------------------------------------------------------------------ 附录一 registration form
def test_registration_form_pdf(world):
    """附录一 filled for one volunteer: every section, the pledge to copy, a signature line; ID and
    phone masked by default (PR5)."""
    ids = world["ids"]
    r = get_ok(world["c"]["admin"], f"/admin/rosters_roster/registration/{ids['v1']}", "pdf")
    text = pdf_text(r.data)
    f = flat(text)
    assert "党员志愿者注册登记表" in text
    assert PLEDGE_SENTENCE in f
    assert "接受社区党组织和人民群众监督" in f
    assert "申请人签字" in f
    for label in ("姓名", "性别", "出生年月", "民族", "政治面貌", "身份证号码", "联系电话", "服务意向",
                  "个人简历", "申请人承诺", "备注", "毕业学校与专业", "工作单位及地址"):
        assert label in f, label
    assert "张三" in f and ids["n1"] in f and "1990年1月" in f and "汉族" in f
    assert ID_1[:6] + "********" + ID_1[-4:] in text and ID_1 not in f
    assert "138****5678" in text and PHONE_1 not in f
    assert "中共党员" not in f                       # political status is sensitive (PR1): masked
    assert all(f_["embedded"] for f_ in fonts_of(r.data))


def test_full_values_need_the_permission_and_are_audited(world):
    """PR5: unmasked exports only for a role with the sensitive-data permission, asked for with the
    form (POST + CSRF); each one writes pii.exported without the personal data itself."""
    app, ids, c = world["app"], world["ids"], world["c"]
    before = len(audit_rows(app, "pii.exported"))
    # a link cannot ask for full values
    assert c["admin"].get("/admin/rosters_roster/download/volunteers/xlsx?full=1").status_code == 400
    # a team admin has no volunteers.volunteer.sensitive: refused and audited
    denied = len(audit_rows(app, "access.denied"))
    for url in ("/admin/rosters_roster/download/volunteers/xlsx", "/admin/rosters_roster/download/teams/pdf",
                f"/admin/rosters_roster/registration/{ids['v1']}"):
        r = post(c["ta"], url, {"full": "1"})
        assert r.status_code == 403, url
        assert PHONE_1.encode() not in r.data
    assert len(audit_rows(app, "access.denied")) >= denied + 3
    assert len(audit_rows(app, "pii.exported")) == before
    # masked exports are logged as plain exports, not pii.exported
    exports = len(audit_rows(app, "export"))
    get_ok(c["admin"], "/admin/rosters_roster/download/volunteers/xlsx", "xlsx")
    assert len(audit_rows(app, "pii.exported")) == before
    last = audit_rows(app, "export")[exports:]
    assert [json.loads(x.details)["document"] for x in last] == ["volunteer_roster"]
    # the platform admin asks explicitly
    r = post(c["admin"], "/admin/rosters_roster/download/volunteers/xlsx", {"full": "1"})
    assert r.status_code == 200
    _, body = table_body(sheet_rows(r.data))
    assert {row[5] for row in body} == {PHONE_1, PHONE_2, PHONE_3}
    r = post(c["admin"], f"/admin/rosters_roster/registration/{ids['v1']}", {"full": "1"})
    text = flat(pdf_text(r.data))
    assert ID_1 in text and PHONE_1 in text and "中共党员" in text
    r = post(c["admin"], "/admin/rosters_roster/download/teams/pdf", {"full": "1", "team": str(ids["a"])})
    assert LEADER_A in pdf_text(r.data)
    rows = audit_rows(app, "pii.exported")[before:]
    assert [json.loads(x.details)["document"] for x in rows] == ["volunteer_roster", "registration_form",
                                                                  "team_roster"]
    assert all(x.username == "admin" for x in rows)
    assert rows[0].object_type == "volunteer_roster" and json.loads(rows[0].details)["rows"] == 3
    assert rows[1].object_type == "volunteers_volunteer" and rows[1].object_id == str(ids["v1"])
    assert json.loads(rows[2].details)["team"] == ids["a"]
    for x in rows:   # AU1: no plain personal data in the audit log
        assert PHONE_1 not in x.details and ID_1 not in x.details and LEADER_A not in x.details


# ------------------------------------------------------------------ AC6 team isolation
BAD_TEAM_PARAMS = ["{b}", " {b} ", "{b}.0", "-{b}", "0", "99999999", "abc", "{b} OR 1=1", "{b}/", "1e3",
                   "99999999999999999999999", "\x00{b}"]


@pytest.mark.parametrize("doc", ["teams", "volunteers"])
@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_team_admin_cannot_reach_another_team(world, doc, fmt):
    """AC6 / R-TEAM-7: team A's admin gets A's tree only; B by any parameter, GET or POST, is a 404
    with none of B's data, and the probe is audited."""
    app, ids, ta = world["app"], world["ids"], world["c"]["ta"]
    url = f"/admin/rosters_roster/download/{doc}/{fmt}"
    denied = len(audit_rows(app, "access.denied"))
    for raw in BAD_TEAM_PARAMS:
        param = raw.format(b=ids["b"])
        for r in (ta.get(url, query_string={"team": param}), post(ta, url, {"team": param})):
            assert r.status_code in (404, 400), (param, r.status_code)
            body = r.get_data(as_text=True)
            assert TEAM_B not in body and "王五" not in body and LEADER_B not in body
    assert len(audit_rows(app, "access.denied")) > denied
    # parameters the view does not read cannot widen the scope either
    r = ta.get(url, query_string={"team_id": ids["b"], "path": "/", "scope": "all", "user": "admin"})
    assert r.status_code == 200
    text = pdf_text(r.data) if fmt == "pdf" else json.dumps(sheet_rows(r.data), ensure_ascii=False,
                                                            default=str)
    assert TEAM_B not in flat(text) and "王五" not in text and "137****2222" not in text
    assert (TEAM_A in flat(text)) if doc == "teams" else ("张三" in text)


def test_team_admin_sees_own_tree_only(world):
    ids, c = world["ids"], world["c"]
    _, body = table_body(sheet_rows(c["ta"].get("/admin/rosters_roster/download/teams/xlsx").data))
    assert [row[1] for row in body] == [TEAM_A, TEAM_A1]
    _, body = table_body(sheet_rows(c["ta"].get("/admin/rosters_roster/download/volunteers/xlsx").data))
    by_name = {row[1]: row for row in body}
    assert set(by_name) == {"张三", "李四"}
    assert by_name["张三"][7] == TEAM_A          # 张三 is also in B: B's name stays out of A's roster
    # filtering by the sub-team gives the sub-team only
    _, body = table_body(sheet_rows(c["ta"].get(f"/admin/rosters_roster/download/volunteers/xlsx?team={ids['a1']}").data))
    assert [row[1] for row in body] == ["李四"]
    # the sub-team's admin cannot climb to the parent
    assert c["ta1"].get(f"/admin/rosters_roster/download/teams/xlsx?team={ids['a']}").status_code == 404
    _, body = table_body(sheet_rows(c["ta1"].get("/admin/rosters_roster/download/teams/xlsx").data))
    assert [row[1] for row in body] == [TEAM_A1]
    # team B's admin gets B and nothing of A's volunteers but the shared member
    _, body = table_body(sheet_rows(c["tb"].get("/admin/rosters_roster/download/volunteers/xlsx").data))
    assert {row[1]: row[7] for row in body} == {"张三": TEAM_B, "王五": TEAM_B}
    # the page offers only the own tree
    page = c["ta"].get("/admin/rosters_roster/").get_data(as_text=True)
    assert TEAM_A in page and TEAM_A1 in page and TEAM_B not in page and "王五" not in page


def test_registration_form_isolation(world):
    """AC6: a team admin prints 附录一 only for volunteers of their tree; other ids are 404."""
    ids, c = world["ids"], world["c"]
    assert c["ta"].get(f"/admin/rosters_roster/registration/{ids['v2']}").status_code == 200
    for vid in (ids["v3"], "abc", "-1", "0", "99999999", f"{ids['v3']} ", "1e3"):
        r = c["ta"].get(f"/admin/rosters_roster/registration/{vid}")
        assert r.status_code == 404, vid
        assert "王五" not in r.get_data(as_text=True)
    assert c["tb"].get(f"/admin/rosters_roster/registration/{ids['v2']}").status_code == 404
    # an erased volunteer (PR7) has no form left to print, even for the platform admin
    from plugins.volunteers import services as V
    with world["app"].test_request_context():
        gone = V.register({"name": "赵六", "id_type": "cn_id", "id_number": make_id(44), "phone": "13533334444",
                           "agreement": True}, create_account=False)
        V.erase(gone)
    assert c["admin"].get(f"/admin/rosters_roster/registration/{gone.id}").status_code == 404
    found = c["ta"].get("/admin/rosters_roster/?q=王五").get_data(as_text=True)   # the search stays in scope
    assert f"/admin/rosters_roster/registration/{ids['v3']}" not in found and ids["n3"] not in found


def test_volunteer_gets_only_their_own_form(world):
    """A volunteer reaches their own 附录一 at /rosters/me/registration.pdf — there is no id to
    change — and none of the admin rosters."""
    ids, v1 = world["ids"], world["c"]["v1"]
    r = get_ok(v1, "/rosters/me/registration.pdf", "pdf")
    text = flat(pdf_text(r.data))
    assert "张三" in text and ids["n1"] in text and "李四" not in text and "138****5678" in text
    # an id in the URL is ignored: still the volunteer's own form
    other = flat(pdf_text(v1.get(f"/rosters/me/registration.pdf?id={ids['v2']}&volunteer={ids['v2']}").data))
    assert "张三" in other and "李四" not in other
    for url in ("/admin/rosters_roster/", "/admin/rosters_roster/download/volunteers/xlsx",
                f"/admin/rosters_roster/registration/{ids['v2']}", f"/admin/rosters_roster/registration/{ids['v1']}"):
        assert v1.get(url).status_code == 403, url
    # the volunteer's page links to the form; full values are not theirs to ask for (PR5)
    me = v1.get("/me")
    assert me.status_code == 200
    html = me.get_data(as_text=True)
    assert "/rosters/me/registration.pdf" in html
    r = v1.post("/rosters/me/registration.pdf", data={"csrf_token": csrf_from(html), "full": "1"})
    assert r.status_code == 403 and PHONE_1.encode() not in r.data
    # a user without a volunteer record gets a 404, not someone's form
    assert world["c"]["ta"].get("/rosters/me/registration.pdf").status_code == 404


def test_anonymous_is_sent_to_login(world):
    c = world["app"].test_client()
    for url in ("/admin/rosters_roster/", "/admin/rosters_roster/download/teams/xlsx", "/rosters/me/registration.pdf"):
        r = c.get(url)
        assert r.status_code in (302, 401), url
        assert "login" in r.headers.get("Location", "")


def test_volunteer_panel_links_to_the_right_form(world):
    """The volunteer_panels slot: the volunteer's own link on /me; for an admin looking at someone
    in scope, the admin link; for an admin of another team, nothing."""
    from core.models import User
    from plugins.rosters import volunteer_panels
    from plugins.volunteers.models import Volunteer
    app, ids = world["app"], world["ids"]
    with app.test_request_context():
        v1, v3 = Volunteer.get_by_id(ids["v1"]), Volunteer.get_by_id(ids["v3"])
        own = volunteer_panels(v1, v1.user)
        assert "/rosters/me/registration.pdf" in str(own[0].html)
        ta = User.get(User.username == "ta")
        assert f"/admin/rosters_roster/registration/{ids['v1']}" in str(volunteer_panels(v1, ta)[0].html)
        assert volunteer_panels(v3, ta) == []


def test_rosters_page(world):
    page = world["c"]["admin"].get("/admin/rosters_roster/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert TEAM_TITLE in html and VOLUNTEER_TITLE in html and TEAM_B in html
    assert 'name="full"' in html                       # the platform admin may ask for full values
    assert 'name="full"' not in world["c"]["ta"].get("/admin/rosters_roster/").get_data(as_text=True)
    assert f"/admin/rosters_roster/registration/{world['ids']['v1']}" in html


def test_a_roster_too_long_for_one_file_says_so(world, monkeypatch):
    """Beyond the row limit of a format the user is told to choose a team (a flash on the rosters
    page), instead of waiting minutes for a file."""
    from plugins.rosters import services as R
    monkeypatch.setitem(R.MAX_ROWS, "pdf", 2)
    c = world["c"]["admin"]
    r = c.get("/admin/rosters_roster/download/volunteers/pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/rosters_roster/")
    assert "more than 2 rows" in c.get("/admin/rosters_roster/").get_data(as_text=True)
    r = c.get("/admin/rosters_roster/download/teams/pdf")
    assert r.status_code == 302
    # a team filter brings it under the limit
    get_ok(c, f"/admin/rosters_roster/download/volunteers/pdf?team={world['ids']['a1']}", "pdf")
    get_ok(c, "/admin/rosters_roster/download/volunteers/xlsx", "xlsx")


# ------------------------------------------------------------------ no font: a clear error, no 500
# (these build their own site, which re-points the kernel's global database: keep them last)
@pytest.fixture
def fontless(make_app, make_user, monkeypatch):
    """A site whose configured font is missing and whose fallback lookups find nothing."""
    from plugins.documents import services as D
    monkeypatch.setattr(D, "FONT_CANDIDATES", ["/nonexistent/wqy-microhei.ttc",
                                               "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"])
    monkeypatch.setattr(D, "_fontconfig_candidates", lambda: [])
    app = make_app(plugins=PLUGINS, PDF_FONT_PATH="/nonexistent/font.ttf", DEFAULT_LOCALE="en")
    ids = build_world(app)
    return app, ids


def test_no_font_gives_a_clear_message_naming_the_fix(fontless):
    app, ids = fontless
    admin = logged_in(app, "admin")
    # admin: back to the rosters page with the message, not a 500 and not a PDF of empty boxes
    r = admin.get("/admin/rosters_roster/download/volunteers/pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/rosters_roster/")
    page = admin.get("/admin/rosters_roster/").get_data(as_text=True)
    assert "apt-get install fonts-wqy-microhei" in page and "pdf_font_path" in page
    r = admin.get(f"/admin/rosters_roster/registration/{ids['v1']}")
    assert r.status_code == 302
    # the volunteer's own form: an error page saying the same, status 503
    v1 = logged_in(app, ids["n1"])
    r = v1.get("/rosters/me/registration.pdf")
    assert r.status_code == 503
    assert r.headers["Content-Type"].startswith("text/html")
    body = r.get_data(as_text=True)
    assert "apt-get install fonts-wqy-microhei" in body and "pdf_font_path" in body
    # workbooks need no font
    get_ok(admin, "/admin/rosters_roster/download/volunteers/xlsx", "xlsx")

