"""Issue 11 point 2 — formula injection in exports (SECURITY.md IV8, NS6).

Every CSV and XLSX a user can download passes one escaping function (``core.exports.cell``): a cell
that begins with ``= + - @``, tab, CR or NUL is written with a leading ``'`` and, in a workbook, stored as
a string — never as a formula — while numbers stay numbers.

The matrix: a site with every built-in plugin and its demo data, in which every free-text column of every
table (names, titles, team names, display names, reasons, notes …) is overwritten with text that starts
with one of ``=``, ``+``, ``-``, ``@``, tab (rotating over rows and columns). Then

- every admin model view that can export is walked and both its CSV and its XLSX are opened for real
  (``csv`` module, ``openpyxl``): no cell may be a formula or start with one of those characters
  unescaped (a real number excepted), and each export must show escaped cells — relation columns
  (a volunteer's name through a membership, an activity's title through a shift, a parent team, a
  role's user) and headers included;
- the same for every hand-built download (rosters, activity forms, targets, ledger totals and
  statements, donations, the import report and template);
- every download route of the site must be in that matrix, so a new export added later without
  the escaping fails here;
- no plugin writes spreadsheets around the helpers (``csv.writer``, ``tablib``, raw openpyxl cells);
- PDFs print the names as typed (they need no escaping).
"""
from __future__ import annotations

import csv
import datetime as _dt
import decimal
import io
import re
from pathlib import Path

import openpyxl
import peewee as pw
import pytest

from conftest import PASSWORD, database_url, flat, pdf_text
from core import create_app
from fixtures.security_plugins.secsupport import PLUGINS, create_user, logged_in, site_config

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = ["=", "+", "-", "@", "\t"]
RISKY = ("=", "+", "-", "@", "\t", "\r", "\0")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

# Machine columns (codes, states, keys, hashes, JSON): not typed by people, and the code reads them.
MACHINE = {"status", "kind", "code", "number", "token", "key", "idempotency_key", "payload_hash", "path",
           "district", "locale", "role", "scope", "ip", "user_agent", "action", "object_type", "object_id",
           "category", "dedupe_key", "email_status", "channel_log", "term", "items", "duration", "design",
           "rating", "id_type", "gender", "agreement_version", "sensitive_consent_version", "minor_basis",
           "password_hash", "token_hash", "installed_version", "value", "account_code", "reference",
           "seal_file", "stored_name", "content_type", "purpose", "batch_key", "username", "details", "nonce",
           "email", "beneficiary_types", "volunteer_type", "postcode", "qq", "contact_phone", "body"}


def builtin_plugins() -> list[str]:
    from core import plugins as P
    available, _problems = P.discover()
    return sorted(n for n, i in available.items()
                  if i.source == "builtin" and i.manifest.get("installable", True))


def payload(i: int, tag: str, max_length: int | None) -> str:
    text = f"{PREFIXES[i % len(PREFIXES)]}1+1 {tag}"
    return text[:max_length] if max_length else text


def poisoned(field):
    """A peewee condition: the text starts with one of the injected prefixes."""
    import functools
    import operator
    return functools.reduce(operator.or_, [field.startswith(p) for p in PREFIXES])


def _models(app):
    from core import models as core_models
    out = [m for m in vars(core_models).values()
           if isinstance(m, type) and issubclass(m, pw.Model) and m._meta.table_name.startswith("core_")]
    out += list(app.extensions["timebank"].models)
    return list(dict.fromkeys(out))


def _poison(app) -> int:
    """Overwrite the free-text columns of the first rows of every table; returns how many cells."""
    from core.db import db, transaction
    n = 0
    with app.app_context(), transaction():
        for model in _models(app):
            fields = [f for f in model._meta.sorted_fields
                      if type(f) in (pw.CharField, pw.TextField) and not f.primary_key and not f.choices
                      and f.name not in MACHINE and (getattr(f, "max_length", None) or 255) >= 12]
            if not fields:
                continue
            pk = model._meta.primary_key
            try:
                with db.atomic():   # append-only tables (ledger, audit) refuse: their text stays as it is
                    for r, obj in enumerate(model.select().order_by(pk).limit(60)):
                        values = {f: payload(r + j, f"{model._meta.table_name[-4:]}{r}{j}",
                                             getattr(f, "max_length", None)) for j, f in enumerate(fields)}
                        model.update(values).where(pk == obj._pk).execute()
                        n += len(values)
            except pw.DatabaseError:
                continue
    return n


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app(site_config(INSTANCE_PATH=str(tmp / "instance"), DATABASE_URL=database_url(tmp),
                                 TESTING=True, TASKS_IMMEDIATE=True, PUBLIC_URL="https://tb.example",
                                 PLUGINS=builtin_plugins() + PLUGINS))
    from core.cli import load_demo
    with app.app_context():
        load_demo(app)
    create_user(app, "admin", "platform_admin")
    assert _poison(app) > 100
    yield app
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


@pytest.fixture(scope="module")
def admin(site):
    return logged_in(site, "admin")


# ------------------------------------------------------------------------------- reading files
def csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def check_csv(data: bytes, where: str) -> int:
    """Fails on an unescaped formula-looking cell; returns how many escaped cells the file has."""
    escaped = 0
    for c in csv_cells(data):
        if c.startswith(RISKY):
            assert NUMBER.match(c), f"{where}: unescaped cell {c!r}"
        if c[:1] == "'" and c[1:2] in PREFIXES:
            escaped += 1
    return escaped


def check_xlsx(data: bytes, where: str) -> int:
    assert data[:2] == b"PK", where
    wb = openpyxl.load_workbook(io.BytesIO(data))   # not data_only: a formula would read as "=…"
    escaped = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {cell.coordinate} is a formula {cell.value!r}"
                v = cell.value
                if isinstance(v, str):
                    assert cell.data_type == "s", (where, cell.coordinate, cell.data_type)
                    assert not v.startswith(RISKY), f"{where}: {cell.coordinate} unescaped {v!r}"
                    if v[:1] == "'" and v[1:2] in PREFIXES:
                        escaped += 1
                else:
                    assert v is None or isinstance(v, (int, float, decimal.Decimal, bool, _dt.date, _dt.time)), \
                        (where, cell.coordinate, v)
    return escaped


def check(data: bytes, fmt: str, where: str) -> int:
    return check_csv(data, where) if fmt == "csv" else check_xlsx(data, where)


# ------------------------------------------------------------------------------- the escaping unit
@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\0"])
def test_iv8_the_escaping_function_prefixes_every_formula_start(prefix):
    """issue 11 point 2: one function, every formula start; text of any type (a relation's model, a lazy
    translation) is escaped; numbers stay numbers; idempotent."""
    from core.exports import cell

    class Related:
        def __str__(self):
            return prefix + "HYPERLINK(\"http://evil.example\")"

    assert cell(prefix + "1+2") == "'" + prefix.replace("\0", "") + "1+2"
    assert cell(Related()).startswith("'")
    assert cell(cell(prefix + "x")) == cell(prefix + "x")      # escaping twice changes nothing
    assert cell("-1+2") == "'-1+2" and cell(-3) == -3 and cell(decimal.Decimal("-1.5")) == decimal.Decimal("-1.5")
    assert cell(None) == "" and cell("a=b") == "a=b" and cell(True) is True


def test_iv8_csv_writer_and_xlsx_helpers_escape_headers_and_cells():
    """issue 11 point 2: the wrapped csv writer and the XLSX helpers plugin authors use escape every cell,
    headers included; an XLSX text cell is a string, never a formula, and a number a number."""
    from core.exports import csv_bytes, csv_writer, xlsx_bytes
    buf = io.StringIO()
    csv_writer(buf).writerow(["=h", "+1", -5, "@x"])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'=h", "'+1", "-5", "'@x"]
    assert csv_cells(csv_bytes([["\tA", 1]], headers=["-H"])) == ["'-H", "'\tA", "1"]
    data = xlsx_bytes(["=SUM(A1)", "n"], [["=1+2", -7], ["-1+2", 2.5]])
    assert check_xlsx(data, "helper") == 3
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["B2"].value == -7 and ws["B2"].data_type == "n" and ws["A3"].value == "'-1+2"


# ------------------------------------------------------------------------------- the admin walk
def export_views(app):
    from core.admin import SecureModelView
    return [v for v in app.extensions["timebank"].admin._views
            if isinstance(v, SecureModelView) and v.allow_export]


def test_ns6_every_admin_export_escapes_every_cell(site, admin):
    """issue 11 point 2 (NS6): every admin model view that can export, CSV and XLSX, opened for real —
    no formula, no unescaped cell, relation columns and headers included; and each export of a table
    with rows shows escaped cells (so the poisoned data really reached it)."""
    views = export_views(site)
    assert len(views) >= 20
    empty, numbers = [], 0
    for v in views:
        for fmt in ("csv", "xlsx"):
            r = admin.get(f"/admin/{v.endpoint}/export/{fmt}/")
            assert r.status_code == 200, (v.endpoint, fmt, r.status_code)
            n = check(r.get_data(), fmt, f"{v.endpoint}.{fmt}")
            if n == 0:
                empty.append(f"{v.endpoint}.{fmt}")
            if fmt == "xlsx":
                numbers += sum(1 for ws in openpyxl.load_workbook(io.BytesIO(r.get_data())).worksheets
                               for row in ws.iter_rows(min_row=2) for c in row if c.data_type == "n"
                               and isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
    assert numbers > 0      # numbers (points, balances, hours) stay numbers in a workbook
    with site.app_context():
        has_rows = {v.endpoint for v in views if v.get_query().exists()}
    # a table whose exported columns hold no people-typed text at all (numbers, codes, dates) is fine
    assert {e.rsplit(".", 1)[0] for e in empty} & has_rows <= NO_TEXT_VIEWS, sorted(empty)


# views whose exported columns (after the sensitive ones are left out) carry no free text or relation
NO_TEXT_VIEWS: set[str] = set()


def test_ns6_relation_columns_and_headers_are_escaped(site, admin):
    """issue 11 point 2: the reported columns — a volunteer's name through a membership, a parent team, a
    role's user — are escaped in CSV and XLSX, and a header that looks like a formula is escaped too."""
    from core.models import User, UserRole
    from plugins.teams.models import Membership, Team
    from plugins.volunteers.models import Volunteer
    with site.app_context():
        m = Membership.select().join(Volunteer).where(poisoned(Volunteer.name)).first()
        vol_name = m.volunteer.name
        Parent = Team.alias()
        sub = (Team.select().join(Parent, on=(Team.parent == Parent.id))
               .where(poisoned(Parent.name)).first())
        parent_name = sub.parent.name if sub else None
        ur = UserRole.select().join(User).where(poisoned(User.display_name)).first()
        user_name = ur.user.display_name
    assert parent_name is not None
    for endpoint, name in [("teams_member", vol_name), ("teams_membership", vol_name),
                           ("teams_subteam", parent_name), ("teams_team", parent_name),
                           ("core_user_role", user_name)]:
        if name is None or endpoint not in {v.endpoint for v in export_views(site)}:
            continue
        for fmt in ("csv", "xlsx"):
            data = admin.get(f"/admin/{endpoint}/export/{fmt}/").get_data()
            cells = csv_cells(data) if fmt == "csv" else [
                c.value for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets
                for row in ws.iter_rows() for c in row]
            assert any(isinstance(c, str) and c.startswith("'" + name.replace("\0", "")) for c in cells), \
                (endpoint, fmt, name)
            assert name not in cells, (endpoint, fmt)
    # a header: a view whose column label is typed like a formula (a plugin's label, a translation)
    from core.admin import SecureModelView
    view = next(v for v in export_views(site) if v.endpoint == "core_user")
    old = view.column_labels
    try:
        view.column_labels = dict(old or {}, username="=HYPERLINK(\"http://evil.example\")")
        view._refresh_cache()
        for fmt in ("csv", "xlsx"):
            data = admin.get("/admin/core_user/export/%s/" % fmt).get_data()
            assert check(data, fmt, "core_user header") >= 1
            head = csv_cells(data)[0] if fmt == "csv" else \
                openpyxl.load_workbook(io.BytesIO(data)).active["A1"].value
            assert head == "'=HYPERLINK(\"http://evil.example\")", head
    finally:
        view.column_labels = old
        view._refresh_cache()
    assert issubclass(type(view), SecureModelView)


# ------------------------------------------------------------------------------- hand-built downloads
def _activity_with_signups(app):
    from plugins.activities.models import Activity, SignUp
    with app.app_context():
        row = (Activity.select(Activity.id).join(SignUp, on=(SignUp.activity == Activity.id))
               .where(Activity.kind == "service").group_by(Activity.id)
               .order_by(pw.fn.COUNT(SignUp.id).desc()).first())
        return row.id


def _import_report(app, admin):
    """Upload a CSV whose names start like formulas; the per-row report repeats them."""
    lines = ["姓名,性别,证件号码,手机号码,政治面貌"] + [
        f"{p}cmd|' /C calc'!A{i},男,not-an-id,1380000000{i},群众" for i, p in enumerate(PREFIXES)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    r = admin.post("/admin/volunteers_import/", data={"csrf_token": admin.csrf, "dry_run": "1", "team": "",
                                                     "file": (io.BytesIO(data), "=evil.csv")},
                   content_type="multipart/form-data")
    m = re.search(r'href="(/admin/volunteers_import/report/[^"]+\.csv)"', r.get_data(as_text=True))
    assert m, r.get_data(as_text=True)[:2000]
    return m.group(1)


def _resource_application(app) -> int:
    """A funding application whose typed text starts like formulas (resources has no demo data)."""
    import datetime as dt
    from plugins.resources.models import Application, BudgetLine, Output, ScheduleRow
    from plugins.teams.models import Team
    with app.app_context():
        a = Application.select().order_by(Application.id).first()
        if a is None:
            a = Application.create(team=Team.select().order_by(Team.id).first(), activity_name="=1+1 act",
                                   field="+field", target_group="-group", place="@place", summary="\tsum",
                                   period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 5, 1),
                                   requested=1000, total_budget=2000, needs="=needs", goals="+goals")
            ScheduleRow.create(application=a, when="=when", theme="+theme", content="-content")
            Output.create(application=a, indicator="@indicator", planned=3)
            BudgetLine.create(application=a, category="service", detail="=detail", unit_price=1000, quantity=1,
                              amount=1000, note="+note")
        return a.id


def _giving_records(app) -> int:
    """A donor whose name looks like a formula, a money gift with a receipt and a project (giving is not
    in the demo data): the giving exports and the annual report have poisoned text to escape."""
    from plugins.giving import orginfo
    from plugins.giving import services as G
    from plugins.teams.models import Team
    with app.app_context():
        team = Team.select().where(Team.status == "approved").order_by(Team.id).first()
        d = G.save_donor({"team_id": team.id, "kind": "person", "name": "=cmd|' /C calc'!A0"})
        m = G.record_money({"team_id": team.id, "donor_id": d.id, "amount": "10.00", "channel": "bank",
                            "donated_on": _dt.date.today().isoformat(), "purpose": "+1+1 用途"})
        G.issue_receipt(m, handler="@经办")
        orginfo.save_project(team, {"kind": "project", "title": "-2+3 项目", "raised": "1",
                                    "starts_on": _dt.date.today().isoformat()})
        if orginfo.published(team.id) is None:
            orginfo.save_basic_info(team, {"org_name": "=1+1 组织", "registration_no": "@SUM(1)", "address": "+住所",
                                           "principal": "-负责人", "contact": "=020", "purpose_scope": "@宗旨"})
            orginfo.publish_basic_info(team)
        return team.id


def hand_built(app, admin) -> list[tuple[str, str, str, dict | None]]:
    """(endpoint, fmt, url, POST form or None) of every hand-built spreadsheet download."""
    from plugins.donations.models import Campaign, Donation
    aid = _activity_with_signups(app)
    with app.app_context():
        camp = Campaign.select().join(Donation, on=(Donation.campaign == Campaign.id)).first() \
            or Campaign.select().first()
    year = _dt.date.today().year
    out = []
    for doc in ("teams", "volunteers"):
        out.append(("rosters_roster.download", "xlsx", f"/admin/rosters_roster/download/{doc}/xlsx", None))
    for doc in ("signin", "feedback_results", "staffing"):
        out.append(("activity_forms.download", "xlsx", f"/admin/activity_forms/{aid}/{doc}/xlsx", None))
    for y in (year, year - 1):
        out.append(("targets_report.export", "xlsx", f"/admin/targets_report/export.xlsx?year={y}", None))
    for fmt in ("csv", "xlsx"):
        out.append(("ledger_totals.export", fmt, f"/admin/ledger_totals/export.{fmt}?period=year", None))
        out.append(("donations_campaign.export_donations", fmt,
                    f"/admin/donations_campaign/export.{fmt}?id={camp.id}", None))
    # giving (issue 15 point 6): donations, receipts and the annual report, with a donor typed like a formula
    gteam = _giving_records(app)
    for name in ("donations", "receipts"):
        out.append(("giving.export", "xlsx", f"/giving/export/{name}.xlsx", None))
    out.append(("giving.report", "xlsx", f"/giving/report/{gteam}.xlsx?year={year}", None))
    out.append(("volunteers_import.report", "csv", _import_report(app, admin), None))
    out.append(("volunteers_import.template", "xlsx", "/admin/volunteers_import/template.xlsx", None))
    # issue 14 point 4: the 申报书 as a workbook for offline editing (one sheet, the template's sections)
    out.append(("resources_application.export_xlsx", "xlsx",
                f"/admin/resources_application/export.xlsx?id={_resource_application(app)}", None))
    # R-INC-5: the insured list of an activity for the insurer (names and masked ID numbers)
    out.append(("incentives_insurance.insured_xlsx", "xlsx", f"/admin/incentives_insurance/insured.xlsx?activity={aid}",
                None))
    # R-INC-3: the evaluation indicators of the dashboard (every plugin's answer to incentive_indicators)
    out.append(("incentives_indicators.export", "xlsx", f"/admin/incentives_indicators/export.xlsx?from={year}-01-01",
                None))
    return out


def _statement_client(app):
    """A volunteer with a points account (and a poisoned name), given a login: their own statement."""
    from plugins.ledger.models import Account
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        acct_vols = Account.select(Account.owner_id).where(Account.kind == "volunteer")
        v = Volunteer.select().where(Volunteer.id.in_(acct_vols)).order_by(Volunteer.id).first()
        assert v is not None
        uid = v.user_id
    if uid is None:
        uid = create_user(app, "statement_vol", "volunteer")
        with app.app_context():
            Volunteer.update(user=uid).where(Volunteer.id == v.id).execute()
    else:
        from core.models import User
        from core.security import hash_password
        with app.app_context():
            User.update(password_hash=hash_password(PASSWORD), username="statement_vol").where(
                User.id == uid).execute()
    return logged_in(app, "statement_vol")


def test_iv8_every_hand_built_download_escapes_every_cell(site, admin):
    """issue 11 point 2: rosters, activity forms, targets, ledger totals, donations, the import report and
    template (CSV and XLSX) opened for real — no formula, every formula-looking cell escaped — and the
    ones that print people's names or titles show escaped cells."""
    # (the indicators export holds the plugins' labels and numbers only: nothing a user typed)
    no_text = {"volunteers_import.template", "ledger_totals.export", "targets_report.export",
               "incentives_indicators.export"}
    seen = {}
    for endpoint, fmt, url, form in hand_built(site, admin):
        r = admin.post(url, data=dict(form, csrf_token=admin.csrf)) if form else admin.get(url)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
        seen[endpoint] = seen.get(endpoint, 0) + check(r.get_data(), fmt, url)
    assert all(n > 0 for e, n in seen.items() if e not in no_text), seen
    c = _statement_client(site)
    with site.test_request_context():
        from flask import url_for
        urls = {fmt: url_for("ledger.mine_export", fmt=fmt) for fmt in ("csv", "xlsx")}
    for fmt, url in urls.items():
        r = c.get(url)
        assert r.status_code == 200, (fmt, r.status_code)
        check(r.get_data(), fmt, f"statement.{fmt}")   # ledger rows are append-only: not poisoned here


def test_iv8_table_download_escapes_field_values_and_headers(site):
    """issue 11 point 2: ``documents.table_download`` (ledger statements, donations): a header field value
    (a team name) and a heading that look like formulas are escaped in CSV and XLSX alike."""
    from plugins.documents.services import table_download
    with site.test_request_context():
        for fmt in ("csv", "xlsx"):
            r = table_download("=title", ["=head", "n"], [["+a", -3]], "t", fmt, fields=[("@label", "=team")])
            assert check(r.get_data(), fmt, fmt) >= 4


# ------------------------------------------------------------------------------- no export escapes the matrix
SPREADSHEET_ROUTE = re.compile(r"export|\.csv|\.xlsx|<fmt>|<export_type>|download|statement|report")
NOT_SPREADSHEETS = {
    "volunteers.export_me",            # JSON of a person's own data (PR: right of access), not a spreadsheet
    "team_standards_assessment.report",  # an HTML page
    "privacy.download",                  # a person's own ZIP: JSON and a readable HTML page (PR7)
    "archives_document.download",        # a filed document, byte for byte as filed (its SHA-256), not built here
}


def test_ns6_every_download_route_is_in_the_matrix(site, admin):
    """issue 11 point 2 (NS6): every route that can send a CSV or XLSX is either a SecureModelView export
    (walked above) or in the hand-built matrix — a new export added later fails here until it is added
    (and goes through core.exports)."""
    covered = {e for e, *_rest in hand_built(site, admin)} | {"ledger.mine_export"}
    # the processing record (issue 13 point 8) holds the plugins' declarations (code, no text people type),
    # written through core.exports.xlsx_bytes
    covered |= {"privacy_record.export"}
    # the recipients' quarterly filing: names masked, every cell through core.exports.xlsx_bytes
    # (tests/test_recipients.py reads it back with openpyxl)
    covered |= {"recipients_quarter.export"}
    from core.admin import SecureModelView  # every model view exports through the kernel (or refuses)
    model_exports = {f"{v.endpoint}.export" for v in site.extensions["timebank"].admin._views
                     if isinstance(v, SecureModelView)}
    missing = []
    for rule in site.url_map.iter_rules():
        if not SPREADSHEET_ROUTE.search(rule.rule) or rule.endpoint in covered | model_exports:
            continue
        if rule.rule.endswith(".pdf") or "/pdf/" in rule.rule or "registration" in rule.rule:
            continue   # PDFs: no formulas (test_iv8_pdfs_print_names_as_typed)
        if rule.endpoint in NOT_SPREADSHEETS or rule.endpoint.endswith((".index", "_view")):
            continue
        missing.append((rule.endpoint, rule.rule))
    assert not missing, missing


def test_ns6_no_plugin_writes_spreadsheets_around_the_helpers():
    """issue 11 point 2 (NS6): outside ``core/exports.py`` no code of the kernel or the built-in plugins
    calls ``csv.writer``/``DictWriter`` or tablib, or writes openpyxl cells itself (``ws.append``,
    ``ws.cell(..., value=…)``, ``cell.value = …``): they use ``core.exports`` (or plugins/documents)."""
    bad = []
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "plugins").rglob("*.py")):
        if path == ROOT / "core" / "exports.py" or "/tests/" in str(path):
            continue
        src = path.read_text(encoding="utf-8")
        for pat in (r"csv\.writer\(", r"csv\.DictWriter\(", r"\btablib\b", r"\bws\.append\(",
                    r"\.cell\([^)]*value=", r"\bcell\.value\s*="):
            if re.search(pat, src):
                bad.append((str(path.relative_to(ROOT)), pat))
    assert not bad, bad


# ------------------------------------------------------------------------------- PDFs are not touched
def test_iv8_pdfs_print_names_as_typed(site, admin):
    """issue 11 point 2: a PDF runs no formulas, so it prints a name that starts with = as typed (no ')."""
    from plugins.volunteers.models import Volunteer
    with site.app_context():
        v = Volunteer.select().where(Volunteer.name.startswith("=")).order_by(Volunteer.id).first()
        name = v.name
    r = admin.get("/admin/rosters_roster/download/volunteers/pdf")
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    text = flat(pdf_text(r.get_data()))
    assert flat(name) in text and "'" + flat(name) not in text
