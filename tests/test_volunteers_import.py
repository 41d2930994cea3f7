"""Bulk import of volunteers (issue 3 point 6): XLSX and CSV through the CLI and the admin page.

Rules checked: the registration rules per row (IV1 check digit, IV3 gender, IV4 mobile, R-REG-4 age),
encryption at rest with blind indexes (PR1, PR2), sensitive data only with consent (PR3), formula
cells stored as text and escaped on export (IV8), each row all-or-nothing even when the database
refuses one mid-file (CC5), idempotent re-runs, team admins only into their own teams (AC6), CSRF
on the upload (AC5). The database is the real one (SQLite, or PostgreSQL with
TIMEBANK_TEST_DATABASE_URL); nothing of ours is mocked.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from stdnum.cn import ric

from conftest import PASSWORD, csrf_from, login
from core.pii import validate_id

PLUGINS = ["volunteers", "teams"]
FORMULA = "=cmd|' /C calc'!A0"


def idn(n: int, *, year: int = 1985, region: str = "440104", male: bool = True) -> str:
    """A valid ID number (GB 11643 check digit via stdnum), distinct for each n < 500."""
    seq = (2 * n + (1 if male else 0)) % 1000
    body = f"{region}{year}0315{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def site(make_app, tmp_path):
    app = make_app(plugins=PLUGINS)
    url = app.config["DATABASE_URL"]
    teams = {}
    with app.test_request_context():
        from plugins.teams import services as ts
        for key, name in (("a", "越秀区·测试甲队"), ("b", "天河区·测试乙队"), ("draft", "未审核队")):
            t = ts.register_team({"name": name, "leader_name": "队长", "leader_phone": "13800009999",
                                  "service_direction": "社区服务", "district": "越秀区",
                                  "address": "示例路1号", "intro": "测试"})
            if key != "draft":
                ts.submit_for_review(t)
                t = ts.review_team(t, approve=True)
            teams[key] = t
    env = {"TIMEBANK_INSTANCE_PATH": app.config["INSTANCE_PATH"], "TIMEBANK_DATABASE_URL": url}
    return {"app": app, "teams": teams, "env": env, "tmp": tmp_path}


def make_user(site, username, role, scope=""):
    """An account with a role on this site's app (the conftest ``make_user`` builds its own app)."""
    from core.models import User
    from core.security import grant_role, hash_password
    with site["app"].app_context():
        u = User.create(username=username, password_hash=hash_password(PASSWORD))
        grant_role(u, role, scope)
        return u


def client_as(site, username):
    c = site["app"].test_client()
    assert login(c, username).status_code == 302
    return c


def run_cli(site, *args):
    from core.cli import main
    return CliRunner().invoke(main, ["volunteers", "import", *map(str, args)], env=site["env"],
                              catch_exceptions=False)


def write_csv(path: Path, header: list, rows: list) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_report(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def report_of(output: str) -> Path:
    return Path(re.findall(r"(/\S+\.csv)", output)[-1])


def db_rows(site, sql, params=()):
    from core.db import db
    with site["app"].app_context():
        return db.execute_sql(sql.replace("?", db.obj.param), params).fetchall()


def volunteers(site):
    from plugins.volunteers.models import Volunteer
    with site["app"].app_context():
        return {v.name: v for v in Volunteer.select()}


def members(site, team_key):
    from plugins.teams.models import Membership
    with site["app"].app_context():
        return {(m.volunteer.name, m.status) for m in
                Membership.select().where(Membership.team == site["teams"][team_key].id)}


HEADER = ["姓名", "性别", "证件类型", "证件号码", "手机号码", "政治面貌", "敏感信息同意", "党员承诺", "所属区域",
          "详细地址", "工作单位", "特长", "所属志愿队伍"]


def good_rows():
    return [
        ["张示例", "男", "居民身份证", idn(1), "138 0000 0001", "", "", "", "越秀", "北京路1号", "示例公司", "摄影", ""],
        ["李示例", "女", "身份证", idn(2, male=False), "+86 13800000002", "中共党员", "是", "是", "越秀区", "", "", "",
         ""],
        ["王示例", "", "", idn(3).lower(), "13800000003", "入党积极分子", "", "", "天河区", "", "", "", ""],
    ]


def bad_rows():
    return [
        ["错校验", "男", "", bad_check_digit(idn(4)), "13800000004", "", "", "", "", "", "", "", ""],   # IV1
        ["错性别", "女", "", idn(5, male=True), "13800000005", "", "", "", "", "", "", "", ""],          # IV3
        ["错手机", "男", "", idn(6), "12345", "", "", "", "", "", "", "", ""],                           # IV4
        ["重复人", "男", "", idn(1), "13800000007", "", "", "", "", "", "", "", ""],                     # in file
        ["少年", "男", "", idn(8, year=2016), "13800000008", "", "", "", "", "", "", "", ""],            # R-REG-4
        ["党员无承诺", "男", "", idn(9), "13800000009", "中共党员", "是", "", "", "", "", "", ""],       # R-REG-6
    ]


# ------------------------------------------------------------------ CLI: CSV
def test_csv_import_cli_writes_good_rows_encrypted_and_reports_bad_ones(site):
    f = write_csv(site["tmp"] / "社区名册.csv", HEADER, good_rows() + bad_rows())
    r = run_cli(site, f, "--team", site["teams"]["a"].name)
    assert r.exit_code == 0, r.output
    vols = volunteers(site)
    assert set(vols) == {"张示例", "李示例", "王示例"}
    zhang, li, wang = vols["张示例"], vols["李示例"], vols["王示例"]
    # values normalised exactly like a registration (IV1 upper-case X, IV4 +86 stripped)
    assert li.id_number == idn(2, male=False) and li.phone == "13800000002"
    assert wang.id_number == idn(3).upper() and zhang.phone == "13800000001" and zhang.district == "越秀区"
    assert zhang.gender == "M" and li.gender == "F" and zhang.birth_date.isoformat() == "1985-03-15"
    # R-REG-2: the agreement is recorded; R-REG-3: numbers unique; PR3: consented sensitive data kept
    assert all(v.agreement_accepted_at is not None and v.user_id is None for v in vols.values())
    assert len({v.number for v in vols.values()}) == 3
    assert li.political_status == "中共党员" and li.sensitive_consent_at and li.pledge_accepted_at
    assert wang.political_status == "" and wang.sensitive_consent_at is None  # no consent: not stored
    # PR1/PR2: the raw database holds ciphertext and keyed hashes only
    raw = db_rows(site, "SELECT id_number, phone, political_status, id_hash FROM volunteers_volunteer")
    flat = " ".join(str(c) for row in raw for c in row)
    for plain in (idn(1), idn(2, male=False), "13800000001", "中共党员"):
        assert plain not in flat
    assert all(row[0].startswith("v1:") and row[1].startswith("v1:") and len(row[3]) == 64 for row in raw)
    # exact lookup still works through the blind index
    from plugins.volunteers import services
    with site["app"].app_context():
        assert services.find_by_id_number("cn_id", idn(2, male=False)).name == "李示例"
    # approved members of the team, audited as an import by the command line
    assert members(site, "a") == {("张示例", "approved"), ("李示例", "approved"), ("王示例", "approved")}
    audits = db_rows(site, "SELECT username, details FROM core_audit_log WHERE action = ?",
                     ("volunteer.registered",))
    assert len(audits) == 3 and all(u.startswith("cli:") and json.loads(d)["via"] == "import"
                                    for u, d in audits)
    assert not any(idn(1) in d for _u, d in audits)  # no plain personal data in the audit log
    # the report: one line per row, bad ones with a reason, ID numbers masked
    assert report_of(r.output).stat().st_mode & 0o077 == 0  # names inside: owner only
    rep = read_report(report_of(r.output))
    body = {int(line[0]): line for line in rep[1:]}
    assert sorted(body) == list(range(2, 11))
    assert [body[n][2] != "" for n in (2, 3, 4)] == [True, True, True]
    assert body[4][6]  # a note says political status was left out (no consent)
    reasons = {n: body[n][6] for n in range(5, 11)}
    assert all(reasons.values()), reasons
    assert "2" in reasons[8]  # the duplicate names the row it repeats
    assert all(idn(n) not in " ".join(line) for line in rep for n in range(1, 10))
    assert body[5][4] == bad_check_digit(idn(4))[:6] + "********" + bad_check_digit(idn(4))[-4:]


def test_reasons_are_the_registration_messages(site):
    """The report's reasons are the same messages as the registration form's, in the user's language."""
    rows = bad_rows()[:3] + bad_rows()[4:]  # without the duplicate (it has no twin in this file)
    f = write_csv(site["tmp"] / "bad.csv", HEADER, rows)
    from plugins.volunteers import import_
    with site["app"].test_request_context():
        res = import_.import_file(f.read_bytes(), f.name)
        from plugins.volunteers import services
        expected = {}
        for row in rows:
            data = dict(zip(["name", "gender", "id_type", "id_number", "phone", "political_status",
                             "sensitive_consent", "pledge"], row))
            data["gender"] = {"男": "M", "女": "F"}.get(data["gender"], "")
            data["sensitive_consent"] = "1" if data["sensitive_consent"] else ""
            try:
                services.clean_registration({**data, "agreement": "1"})
            except services.RegistrationError as e:
                expected[data["name"]] = {str(m) for m in e.errors.values()}
    got = {o.name: o.message for o in res.rows}
    assert res.count("skipped") == 5 and res.count("imported") == 0
    for name, msgs in expected.items():
        assert msgs and all(m in got[name] for m in msgs), (name, got[name])


# ------------------------------------------------------------------ CLI: XLSX shaped like 附录三
def roster_xlsx(path: Path, rows: list) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位（社区）登记注册党员志愿者花名册"])
    ws.append(["填报单位（盖章）：示例社区"])
    ws.append(["序号", "姓名", "性别", "年龄", "证件号码", "联系电话", "特长", "所属志愿队伍", "备注"])
    for i, r in enumerate(rows, 1):
        ws.append([i, *r])
    ws.append([len(rows) + 1])          # the numbered empty lines of the paper form
    ws.append(["填报人："])
    wb.save(path)
    return path


def test_xlsx_roster_import_cli_formula_cells_are_text_and_escaped_on_export(site):
    team_b = site["teams"]["b"].name
    rows = [
        [FORMULA, "男", 41, idn(11), "13800000011", "@SUM(1+1)", team_b, "=HYPERLINK(\"http://x\")"],
        ["赵示例", "女", 41, idn(12, male=False), 13800000012, "唱歌", team_b, ""],
        ["数字证件", "男", 41, int(idn(13)), "13800000013", "", team_b, ""],   # Excel kept 15 digits
        ["无此队", "男", 41, idn(14), "13800000014", "", "不存在的队", ""],
        ["草稿队", "男", 41, idn(15), "13800000015", "", site["teams"]["draft"].name, ""],
    ]
    f = roster_xlsx(site["tmp"] / "roster.xlsx", rows)
    r = run_cli(site, f)
    assert r.exit_code == 0, r.output
    vols = volunteers(site)
    assert set(vols) == {FORMULA, "赵示例"}
    # IV8: stored exactly as typed (text), never evaluated
    assert vols[FORMULA].specialties == "@SUM(1+1)" and vols[FORMULA].remarks == "=HYPERLINK(\"http://x\")"
    assert vols["赵示例"].phone == "13800000012"  # a numeric phone cell is fine
    assert members(site, "b") == {(FORMULA, "approved"), ("赵示例", "approved")}
    rep = {int(line[0]): line for line in read_report(report_of(r.output))[1:]}
    assert rep[4][3] == "'" + FORMULA  # the report escapes the formula (IV8)
    assert "15" in rep[6][6]           # numeric ID cell: told why, not stored with lost digits
    assert rep[7][6] and rep[8][6]     # unknown team, team not approved
    assert set(rep) == {4, 5, 6, 7, 8}  # title rows, empty numbered lines and the footer are not rows
    # IV8 on export: the platform admin's CSV export of volunteers escapes the cell
    make_user(site, "boss", "platform_admin")
    out = client_as(site, "boss").get("/admin/volunteers_volunteer/export/csv/").get_data(as_text=True)
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert "'" + FORMULA in cells and FORMULA not in cells


# ------------------------------------------------------------------ idempotence, dry run
def test_rerun_is_idempotent_and_dry_run_writes_nothing(site):
    f = write_csv(site["tmp"] / "x.csv", HEADER, good_rows())
    before = db_rows(site, "SELECT COUNT(*) FROM core_audit_log")[0][0]
    r = run_cli(site, f, "--team", site["teams"]["a"].name, "--dry-run")
    assert r.exit_code == 0, r.output
    assert volunteers(site) == {} and members(site, "a") == set()
    assert db_rows(site, "SELECT COUNT(*) FROM volunteers_sequence")[0][0] == 0  # no number used
    assert db_rows(site, "SELECT COUNT(*) FROM core_audit_log")[0][0] == before
    rep = read_report(report_of(r.output))
    assert len(rep) == 4 and all(line[2] == "" for line in rep[1:])

    assert run_cli(site, f, "--team", site["teams"]["a"].name).exit_code == 0
    first = {n: v.number for n, v in volunteers(site).items()}
    r = run_cli(site, f, "--team", site["teams"]["a"].name)
    assert r.exit_code == 0
    assert {n: v.number for n, v in volunteers(site).items()} == first  # nothing new, nothing changed
    assert len(members(site, "a")) == 3
    rep = read_report(report_of(r.output))
    from plugins.volunteers.import_ import STATUS_LABELS
    with site["app"].test_request_context():
        already = str(STATUS_LABELS["exists"])
    assert [line[1] for line in rep[1:]] == [already] * 3


def test_english_field_names_and_no_team_column(site):
    f = write_csv(site["tmp"] / "en.csv", ["name", "gender", "id_number", "phone", "district", "employer"],
                  [["Example One", "M", idn(21), "13800000021", "海珠区", "=1+2"]])
    assert run_cli(site, f).exit_code == 0
    v = volunteers(site)["Example One"]
    assert v.employer == "=1+2" and v.district == "海珠区" and validate_id("cn_id", v.id_number)


def test_file_level_problems_stop_before_anything_is_written(site):
    f = write_csv(site["tmp"] / "nocols.csv", ["姓名", "性别"], [["甲", "男"]])
    r = run_cli(site, f)
    assert r.exit_code == 1 and volunteers(site) == {}
    f2 = write_csv(site["tmp"] / "ok.csv", HEADER, good_rows())
    r = run_cli(site, f2, "--team", site["teams"]["draft"].name)
    assert r.exit_code == 1 and volunteers(site) == {}
    xls = site["tmp"] / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert run_cli(site, xls).exit_code == 1


# ------------------------------------------------------------------ no partial rows (CC5)
def _install_failing_trigger(app):
    """A real database constraint the validation cannot know: memberships of anyone named 故障注入 are
    refused. The volunteer row of that person is inserted first, so only a rollback removes it."""
    from core.db import db, is_sqlite
    with app.app_context():
        if is_sqlite():
            db.execute_sql(
                "CREATE TRIGGER fail_injected BEFORE INSERT ON teams_membership WHEN (SELECT name FROM "
                "volunteers_volunteer WHERE id = NEW.volunteer_id) = '故障注入' "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
        else:
            db.execute_sql(
                "CREATE FUNCTION fail_injected() RETURNS trigger AS $$ BEGIN IF (SELECT name FROM "
                "volunteers_volunteer WHERE id = NEW.volunteer_id) = '故障注入' THEN RAISE EXCEPTION "
                "'injected failure'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql")
            db.execute_sql("CREATE TRIGGER fail_injected BEFORE INSERT ON teams_membership "
                           "FOR EACH ROW EXECUTE FUNCTION fail_injected()")


def test_database_failure_mid_file_leaves_no_partial_row(site):
    _install_failing_trigger(site["app"])
    rows = [[f"好人{i}", "男", "", idn(30 + i), f"138000000{30 + i}", "", "", "", "", "", "", "", ""]
            for i in range(5)]
    rows[2][0] = "故障注入"
    f = write_csv(site["tmp"] / "fail.csv", HEADER, rows)
    r = run_cli(site, f, "--team", site["teams"]["a"].name, "--batch-size", "10")
    assert r.exit_code == 0, r.output
    vols = volunteers(site)
    assert set(vols) == {"好人0", "好人1", "好人3", "好人4"}  # the batch was retried row by row
    assert members(site, "a") == {(n, "approved") for n in vols}
    # nothing of the refused row: no volunteer, no membership, no audit row, no used identity
    assert db_rows(site, "SELECT COUNT(*) FROM volunteers_volunteer WHERE name = ?", ("故障注入",))[0][0] == 0
    audited = db_rows(site, "SELECT object_id FROM core_audit_log WHERE action = ?", ("volunteer.registered",))
    assert sorted(int(a[0]) for a in audited) == sorted(v.id for v in vols.values())
    rep = {int(line[0]): line for line in read_report(report_of(r.output))[1:]}
    assert rep[4][2] == "" and rep[4][6]  # refused, with a reason
    numbers = [v.number for v in vols.values()]
    assert len(set(numbers)) == 4


def test_crash_mid_file_keeps_complete_rows_and_the_report_says_where(site):
    from plugins.volunteers import import_
    rows = [[f"批量{i}", "男", "", idn(60 + i), f"138000001{i:02d}", "", "", "", "", "", "", "", ""]
            for i in range(10)]
    f = write_csv(site["tmp"] / "crash.csv", HEADER, rows)
    seen = []

    def crash(n):  # the operator presses Ctrl-C while row 9 (the 8th data row) is being read
        seen.append(n)
        if len(seen) == 8:
            raise KeyboardInterrupt

    report = site["tmp"] / "crash-report.csv"
    with site["app"].test_request_context():
        with pytest.raises(KeyboardInterrupt):
            import_.import_file(f.read_bytes(), f.name, report_path=report, batch_size=3,
                                team=site["teams"]["a"].name, progress=crash)
    vols = volunteers(site)
    # two full batches (rows 2–7) are in, each with its membership; nothing of the third batch
    assert set(vols) == {f"批量{i}" for i in range(6)}
    assert members(site, "a") == {(n, "approved") for n in vols}
    rep = read_report(report)
    # rows 2–7 imported; rows 8–9 (read, not yet written) marked as not imported; then the stop line
    assert [int(line[0]) for line in rep[1:-1]] == list(range(2, 10))
    assert all(line[2] for line in rep[1:7]) and not any(line[2] for line in rep[7:])
    assert rep[7][1] == rep[8][1] == rep[9][1]
    assert rep[-1][0] == "8" and "8" in rep[-1][6]  # the report says where it stopped
    # running it again completes the file: earlier rows are recognised, not duplicated
    with site["app"].test_request_context():
        res = import_.import_file(f.read_bytes(), f.name, batch_size=3, team=site["teams"]["a"].name)
    assert res.count("exists") == 6 and res.count("imported") == 4 and res.stopped_at is None
    assert len(volunteers(site)) == 10 and len(members(site, "a")) == 10


def test_an_error_mid_file_is_reported_not_raised(site):
    from plugins.volunteers import import_
    rows = [[f"错误{i}", "男", "", idn(80 + i), "13800000080", "", "", "", "", "", "", "", ""]
            for i in range(5)]
    f = write_csv(site["tmp"] / "err.csv", HEADER, rows)

    def boom(n, state=[0]):
        state[0] += 1
        if state[0] == 4:
            raise RuntimeError("disk full")

    with site["app"].test_request_context():
        res = import_.import_file(f.read_bytes(), f.name, batch_size=2, progress=boom)
    assert res.stopped_at == 4 and "disk full" in res.error
    assert res.count("imported") == 2 and len(volunteers(site)) == 2
    assert "4" in res.summary()


# ------------------------------------------------------------------ admin page
def upload(client, page_url, data: bytes, filename: str, **fields):
    page = client.get(page_url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(page_url, data={"csrf_token": token, "file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


URL = "/admin/volunteers_import/"


def test_admin_page_imports_and_offers_the_report(site):
    make_user(site, "boss", "platform_admin")
    make_user(site, "other", "platform_admin")
    client = client_as(site, "boss")
    data = write_csv(site["tmp"] / "w.csv", HEADER, good_rows() + bad_rows()[:1]).read_bytes()
    r = upload(client, URL, data, "社区.csv", team=site["teams"]["b"].name)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert 'id="import-report"' in html and "错校验" in html
    assert idn(1) not in html  # masked on screen (PR5)
    assert members(site, "b") == {("张示例", "approved"), ("李示例", "approved"), ("王示例", "approved")}
    link = html.split('href="/admin/volunteers_import/report/')[1].split('"')[0]
    rep = client.get("/admin/volunteers_import/report/" + link)
    assert rep.status_code == 200 and rep.headers["Cache-Control"] == "no-store"
    lines = list(csv.reader(io.StringIO(rep.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(lines) == 5 and lines[4][1] and lines[4][6]
    # another user cannot fetch it; an invented token is a 404 too
    other = client_as(site, "other")
    assert other.get("/admin/volunteers_import/report/" + link).status_code == 404
    assert client.get("/admin/volunteers_import/report/" + "A" * 24 + ".csv").status_code == 404
    # the template download carries the headers
    t = client.get(URL + "template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(t.data))
    assert [c.value for c in next(wb.active.iter_rows())][:5] == ["姓名", "性别", "证件类型", "证件号码", "手机号码"]


def test_admin_page_refuses_bad_uploads_and_missing_csrf(site):
    make_user(site, "boss", "platform_admin")
    client = client_as(site, "boss")
    ok = write_csv(site["tmp"] / "a.csv", HEADER, good_rows()).read_bytes()
    assert upload(client, URL, b"MZ\x90\x00" * 10, "evil.exe").status_code == 400
    assert upload(client, URL, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls").status_code == 400
    assert upload(client, URL, b"PK\x03\x04garbage", "fake.xlsx").status_code == 400
    assert upload(client, URL, ok, "big.csv", dry_run="1").status_code == 200  # a dry run is fine
    from plugins.volunteers.import_ import WEB_MAX_BYTES
    big = ok + b"\n" * (WEB_MAX_BYTES + 1 - len(ok))
    assert upload(client, URL, big, "big.csv").status_code in (400, 413)
    # AC5: no CSRF token, no import
    r = client.post(URL, data={"file": (io.BytesIO(ok), "a.csv")}, content_type="multipart/form-data")
    assert r.status_code == 400
    assert volunteers(site) == {}


def test_team_admin_imports_only_into_own_teams(site):
    a, b = site["teams"]["a"], site["teams"]["b"]
    make_user(site, "ta", "team_admin", scope=f"team:{a.id}")
    make_user(site, "vol", "volunteer")
    client = client_as(site, "ta")
    page = client.get(URL).get_data(as_text=True)
    assert a.name in page and b.name not in page  # only their own team is offered
    data = write_csv(site["tmp"] / "t.csv", HEADER, good_rows()).read_bytes()
    # another team's name posted by hand: refused, audited, nothing written
    r = upload(client, URL, data, "t.csv", team=b.name)
    assert r.status_code == 400 and volunteers(site) == {}
    denied = db_rows(site, "SELECT COUNT(*) FROM core_audit_log WHERE action = ?", ("access.denied",))[0][0]
    assert denied >= 1
    # no team at all: a team admin's volunteers must land in a team they manage
    assert upload(client, URL, data, "t.csv").status_code == 400 and volunteers(site) == {}
    # rows naming another team in the team column are skipped; the others join team A
    rows = good_rows()
    rows[1][-1] = b.name
    data = write_csv(site["tmp"] / "t2.csv", HEADER, rows).read_bytes()
    r = upload(client, URL, data, "t2.csv", team=a.name)
    assert r.status_code == 200
    assert members(site, "a") == {("张示例", "approved"), ("王示例", "approved")}
    assert members(site, "b") == set() and "李示例" not in volunteers(site)
    # the same service refuses it too, whoever calls it
    from core.models import User
    from plugins.volunteers import import_
    with site["app"].test_request_context():
        ta = User.get(User.username == "ta")
        with pytest.raises(import_.ImportFileError):
            import_.Importer(actor=ta, team=b.name)
        with pytest.raises(import_.ImportFileError):  # a plain volunteer may not import at all
            import_.Importer(actor=User.get(User.username == "vol"))
    # and a volunteer cannot open the page
    assert client_as(site, "vol").get(URL).status_code == 403
    assert site["app"].test_client().get(URL).status_code == 302  # anonymous: to the login page


def test_birth_month_column_and_date_cells(site):
    """附录一's 出生年月 is year and month: accepted when the ID number agrees, reported when not (IV3);
    a spreadsheet date cell is read as a date."""
    import datetime as _dt

    from plugins.volunteers import import_
    records = [{"name": "年月对", "id_number": idn(90), "phone": "13800000090", "birth_date": "1985年3月"},
               {"name": "年月错", "id_number": idn(91), "phone": "13800000091", "birth_date": "1985.04"},
               {"name": "日期格", "id_number": idn(92), "phone": "13800000092",
                "birth_date": _dt.datetime(1985, 3, 15)}]
    with site["app"].test_request_context():
        res = import_.import_records(records)
    got = {o.name: o for o in res.rows}
    assert got["年月对"].status == got["日期格"].status == "imported"
    assert got["年月错"].status == "skipped" and got["年月错"].messages
    assert volunteers(site)["年月对"].birth_date == _dt.date(1985, 3, 15)
