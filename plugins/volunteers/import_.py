"""Bulk import of volunteers from XLSX or CSV spreadsheets (issue 3 point 6).

Communities keep their volunteers in spreadsheets shaped like 附录一 (注册登记表) or 附录三 (志愿者花名册).
This module reads such a file, validates every row with the registration rules
(``services.clean_registration``: IV1–IV4, R-REG-1…4, R-REG-6, PR3, PR4), encrypts the personal data
(PR1, PR2), gives each volunteer a number (R-REG-3) and optionally an approved membership of a team.

How a file goes in:

1. ``read_table`` finds the header row (Chinese headers of 附录一/附录三 or English field names; title
   rows above it are skipped) and yields the data rows with their spreadsheet row numbers.
2. ``Importer.prepare`` turns a row into clean values, or an outcome "skipped" with the reasons in the
   user's language. Political status and religion are kept only when the row's consent column says
   so (PR3); without it they are left out and the report says so. The paper 服务协议 is recorded as
   accepted through the import, with the importer named in the audit log (R-REG-2).
3. Prepared rows are written in batches, one transaction each (CC5): a block of volunteer numbers is
   taken from the sequence, then volunteers, memberships and audit rows go in with ``executemany``
   (SQLite) or ``execute_values`` (PostgreSQL) — the raw fast path (DESIGN.md "Measured here").
   A batch the database refuses is retried row by row, so each row is all-or-nothing and the good
   rows of that batch still go in.
4. A row whose ID number is already registered is reported "already registered" and left alone, so
   a re-run after a failure continues where the last one stopped. When the import stops (an error,
   Ctrl-C), every committed batch is complete and the report says at which row it stopped.

The report (one line per row) is a CSV with formula escaping (IV8); ID numbers in it are masked (PR5).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import logging
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import peewee as pw
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, events
from core import exports
from core.crypto import EncryptedField
from core.db import db, is_postgres, now, transaction
from core.pii import mask_id

from . import services
from .models import Volunteer

log = logging.getLogger("timebank.volunteers.import")

BATCH_SIZE = 500
WEB_MAX_BYTES = 5 * 1024 * 1024          # uploads through the admin page
WEB_MAX_ROWS = 20000                      # larger files: the CLI
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # zip-bomb guard
HEADER_SCAN_ROWS = 15

# ------------------------------------------------------------------ headers
# Normalised header (spaces, "*" and bracketed notes removed, lower case) -> field. English field
# names of the registration form are accepted as they are.
HEADERS = {
    "姓名": "name", "名字": "name", "昵称": "nickname",
    "性别": "gender",
    "证件类型": "id_type", "证件种类": "id_type",
    "证件号码": "id_number", "证件号": "id_number", "身份证号码": "id_number", "身份证号": "id_number",
    "公民身份号码": "id_number", "身份证": "id_number", "其他有效证件号": "id_number",
    "出生年月": "birth_date", "出生日期": "birth_date",
    "手机号码": "phone", "手机号": "phone", "手机": "phone", "联系电话": "phone", "电话": "phone",
    "移动电话": "phone",
    "政治面貌": "political_status", "宗教信仰": "religion", "民族": "ethnicity", "籍贯": "native_place",
    "户籍所在地": "household_place", "户籍": "household_place",
    "所属区域": "district", "所在区域": "district", "区域": "district", "所属区": "district",
    "区": "district",
    "详细地址": "address", "居住地址": "address", "家庭住址": "address", "联系地址": "address",
    "家庭住址或工作单位": "address", "地址": "address",
    "邮编": "postcode", "邮政编码": "postcode", "qq": "qq", "微信": "wechat", "微信号": "wechat",
    "email": "email", "电子邮箱": "email", "邮箱": "email", "e-mail": "email",
    "学历": "education", "毕业学校与专业": "school_major", "职称": "professional_title",
    "职务": "job_title", "职业": "occupation",
    "工作单位": "employer", "工作单位及地址": "employer", "单位": "employer",
    "特长": "specialties", "爱好": "hobbies", "服务意向": "service_intention",
    "个人简历": "resume", "简历": "resume", "备注": "remarks",
    "所属志愿队伍": "team", "所属队伍": "team", "志愿队伍": "team", "队伍": "team",
    "所属团队": "team", "团队": "team",
    "敏感信息同意": "sensitive_consent", "同意处理敏感个人信息": "sensitive_consent",
    "敏感个人信息同意": "sensitive_consent", "单独同意": "sensitive_consent",
    "党员承诺": "pledge", "党员志愿者承诺": "pledge", "申请人承诺": "pledge",
    "未满16周岁依据": "minor_basis", "未成年人依据": "minor_basis",
    "监护人": "guardian_name", "监护人姓名": "guardian_name", "监护人电话": "guardian_phone",
    "监护人手机": "guardian_phone", "监护人同意": "guardian_consent",
    # read but not used: derived from the ID number or the position in the file
    "序号": "_ignore", "编号": "_ignore", "年龄": "_ignore", "志愿者编号": "_ignore",
}
FIELDS = ["name", "nickname", "gender", "id_type", "id_number", "birth_date", "phone", "email",
          "political_status", "religion", "ethnicity", "native_place", "household_place", "district",
          "address", "postcode", "qq", "wechat", "education", "school_major", "professional_title",
          "job_title", "occupation", "employer", "specialties", "hobbies", "service_intention",
          "resume", "remarks", "team", "sensitive_consent", "pledge", "minor_basis", "guardian_name",
          "guardian_phone", "guardian_consent"]
HEADERS.update({f: f for f in FIELDS})
REQUIRED = ("name", "id_number", "phone")

ID_TYPE_NAMES = {
    "居民身份证": "cn_id", "身份证": "cn_id", "中华人民共和国居民身份证": "cn_id", "": "cn_id",
    "港澳台居民居住证": "hmt_permit", "居住证": "hmt_permit",
    "港澳居民来往内地通行证": "hk_macau_pass", "回乡证": "hk_macau_pass",
    "台湾居民来往大陆通行证": "tw_pass", "台胞证": "tw_pass",
    "护照": "passport", "外国人永久居留身份证": "foreign_permit",
}
GENDER_NAMES = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F",
                "female": "F"}
POLITICAL_NAMES = {"党员": "中共党员", "中国共产党党员": "中共党员", "共产党员": "中共党员",
                   "预备党员": "中共预备党员", "积极分子": "入党积极分子", "团员": "共青团员",
                   "中国共产主义青年团团员": "共青团员", "无党派人士": "群众", "无": ""}
EDUCATION_NAMES = {"本科": "本科", "大学本科": "本科", "大学": "本科", "专科": "大专", "大专": "大专",
                   "高中": "高中/中专", "中专": "高中/中专", "职高": "高中/中专", "技校": "高中/中专",
                   "研究生": "硕士研究生", "硕士": "硕士研究生", "博士": "博士研究生"}
MINOR_BASIS_NAMES = {"监护人": "guardian", "监护人陪同": "guardian", "guardian": "guardian",
                     "团体": "group", "组织": "group", "有组织团体": "group", "group": "group"}
YES = {"1", "是", "y", "yes", "true", "on", "同意", "已同意", "已签", "已签署", "√", "✓", "✔", "对"}

# labels of the fields in messages (those of the admin, plus the consents)
EXTRA_LABELS = {"agreement": _l("Service agreement"), "sensitive_consent": _l("Sensitive-data consent"),
                "pledge": _l("Party-member pledge"), "guardian_consent": _l("Guardian consent"),
                "team": _l("Team"), "password": _l("Password")}

STATUS_LABELS = {"imported": _l("Imported"), "exists": _l("Already registered"),
                 "skipped": _l("Skipped"), "ok": _l("Would be imported"),
                 "stopped": _l("Not imported: the import stopped")}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``str(e)`` is a message in the user's language."""


@dataclass
class RowOutcome:
    row: int
    status: str                      # imported | exists | skipped | ok (dry run) | stopped
    name: str = ""
    masked_id: str = ""
    number: str = ""
    team: str = ""
    messages: list = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def message(self) -> str:
        return "；".join(str(m) for m in self.messages)


@dataclass
class ImportResult:
    filename: str = ""
    dry_run: bool = False
    rows: list = field(default_factory=list)
    ignored_columns: list = field(default_factory=list)
    stopped_at: int | None = None    # first row that was not finished when the import stopped
    error: str = ""
    report_path: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self) -> dict:
        return {s: self.count(s) for s in STATUS_LABELS}

    def summary(self) -> str:
        c = self.counts
        if self.dry_run:
            text = _("Check only, nothing was written: %(ok)s rows would be imported, %(exists)s are "
                     "already registered, %(skipped)s would be skipped.", ok=c["ok"], exists=c["exists"],
                     skipped=c["skipped"])
        else:
            text = _("Imported %(imported)s, already registered %(exists)s, skipped %(skipped)s.",
                     imported=c["imported"], exists=c["exists"], skipped=c["skipped"])
        if self.stopped_at is not None:
            text += " " + stopped_message(self.stopped_at, self.error)
        return text


def stopped_message(row: int, error: str) -> str:
    return _("The import stopped at row %(row)s (%(error)s). Every row before it is complete; run the "
             "same import again to continue: rows already imported are recognised.",
             row=row, error=error or _("interrupted"))


# ------------------------------------------------------------------ reading files
def _norm_header(h) -> str:
    s = unicodedata.normalize("NFKC", str(h or ""))
    s = re.sub(r"[(\[【].*?[)\]】]", "", s)       # "手机号码（必填）", "性别(男/女)"
    s = re.sub(r"[\s*:：]", "", s).lower()
    return s


def _detect_kind(data: bytes, filename: str) -> str:
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        if not name.endswith((".xlsx", ".xlsm")) and name.endswith((".csv", ".txt")):
            raise ImportFileError(_("The file is a spreadsheet (XLSX) but named like a CSV file."))
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise ImportFileError(_("Old Excel files (.xls) cannot be read: save the file as .xlsx or .csv."))
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(_("The file is not a valid XLSX spreadsheet."))
    if b"\x00" in data[:65536]:
        raise ImportFileError(_("Only XLSX and CSV files can be imported."))
    return "csv"


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    import openpyxl
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            raise ImportFileError(_("The file is not a valid XLSX spreadsheet."))
        if sum(i.file_size for i in zf.infolist()) > XLSX_MAX_UNCOMPRESSED:
            raise ImportFileError(_("The spreadsheet is too large once unpacked."))
        # read_only streams the rows; data_only=False: a formula is read as its text, never evaluated
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - any parse failure means "not a readable XLSX"
        raise ImportFileError(_("The file is not a valid XLSX spreadsheet.")) from None
    ws = wb.worksheets[0]
    try:
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, list(row)
    finally:
        wb.close()


def _decode_csv(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):  # Excel saves Chinese CSV as GBK unless told UTF-8
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text."))


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    text = _decode_csv(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for i, row in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
        yield i, row


@dataclass
class Table:
    columns: list              # field (or None) per column
    ignored: list              # headers that name no field
    rows: Iterator             # (row number, cells)
    total: int                 # data rows, approximately (for a progress bar)


def read_table(data: bytes, filename: str) -> Table:
    """Open an XLSX or CSV file held in memory; raise ImportFileError when it cannot be imported."""
    kind = _detect_kind(data, filename)
    rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    total_lines = None
    if kind == "csv":
        total_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    header_no, columns, ignored = None, None, []
    for i, cells in rows:
        mapped = [HEADERS.get(_norm_header(c)) if c not in (None, "") else None for c in cells]
        known = [m for m in mapped if m and m != "_ignore"]
        if "name" in known and len(set(known)) >= 2:
            header_no, columns = i, mapped
            ignored = [str(c).strip() for c, m in zip(cells, mapped) if m is None and c not in (None, "")]
            break
        if i >= HEADER_SCAN_ROWS:
            break
    if columns is None:
        raise ImportFileError(_("No header row found: the first rows must name the columns, e.g. "
                                "姓名, 性别, 证件号码, 手机号码."))
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        from .admin import LABELS
        raise ImportFileError(_("Required columns are missing: %(cols)s.",
                                cols=", ".join(str(LABELS.get(f, f)) for f in missing)))
    if kind == "xlsx":
        total = 0
        try:
            import openpyxl
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            total = max((wb.worksheets[0].max_row or 0) - header_no, 0)
            wb.close()
        except Exception:  # noqa: BLE001 - only for the progress bar
            total = 0
    else:
        total = max((total_lines or 0) - header_no, 0)
    return Table(columns, ignored, rows, total)


# ------------------------------------------------------------------ cleaning cells
_SPACES = re.compile(r"[\u3000\xa0]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff]")
_NFKC_FIELDS = frozenset({"id_number", "phone", "guardian_phone", "email", "qq", "postcode", "gender",
                          "id_type", "birth_date", "sensitive_consent", "pledge", "guardian_consent",
                          "minor_basis"})


def _cell_text(value, fld: str) -> str:
    """A cell as the text a form would send: dates as ISO dates, whole numbers without ".0",
    full-width spaces and invisible characters removed; full-width digits made ASCII (NFKC) in
    numbers and codes."""
    if value.__class__ is not str:
        if value is None:
            return ""
        if isinstance(value, _dt.datetime):
            return value.date().isoformat()
        if isinstance(value, _dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return "1" if value else ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    s = value
    if not s.isascii():
        s = _INVISIBLE.sub("", _SPACES.sub(" ", s))
        if fld in _NFKC_FIELDS:
            s = unicodedata.normalize("NFKC", s)
    return s.strip()


def _birth_date(s: str) -> str:
    """'1990-01-02', '1990/1/2', '1990.1.2', '1990年1月2日', '19900102' -> ISO; '1990-01' -> '1990-01'."""
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?\s*月?", s) or \
        re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", s)
    if not m:
        return s
    y, mo, d = m.group(1), int(m.group(2)), m.group(3)
    return f"{y}-{mo:02d}-{int(d):02d}" if d else f"{y}-{mo:02d}"


def normalise(raw: dict) -> tuple[dict, list]:
    """Spreadsheet words -> the values the registration form sends. Returns (data, problems)."""
    problems = []
    d = dict(raw)
    idn = d.get("id_number", "")
    if isinstance(raw.get("_id_numeric"), bool) and raw["_id_numeric"]:
        problems.append(("id_number", _l("The ID number is stored as a number in the spreadsheet, which keeps "
                                         "only 15 digits: format the column as text and enter it again.")))
    elif re.fullmatch(r"\d(\.\d+)?[eE]\+\d+", idn):
        problems.append(("id_number", _l("The ID number was saved in scientific notation (e.g. 4.4E+17) "
                                         "and lost its digits: format the column as text and enter it "
                                         "again.")))
    d.pop("_id_numeric", None)
    t = d.get("id_type", "")
    d["id_type"] = ID_TYPE_NAMES.get(t, t)
    g = d.get("gender", "")
    d["gender"] = GENDER_NAMES.get(g.lower(), g)
    ps = d.get("political_status", "")
    d["political_status"] = POLITICAL_NAMES.get(ps, ps)
    ed = d.get("education", "")
    d["education"] = EDUCATION_NAMES.get(ed, ed)
    dist = re.sub(r"^(广东省)?广州市?", "", d.get("district", ""))
    if dist and not dist.endswith("区") and dist != "其他":
        dist += "区"
    d["district"] = dist
    mb = d.get("minor_basis", "")
    d["minor_basis"] = MINOR_BASIS_NAMES.get(mb.lower(), mb)
    for k in ("sensitive_consent", "pledge", "guardian_consent"):
        d[k] = "1" if d.get(k, "").lower() in YES else ""
    if d.get("birth_date"):
        b = d["birth_date"] = _birth_date(d["birth_date"])
        # 附录一 asks for 出生年月 (year and month): when the ID number carries the birth date and agrees
        # with it, the ID's full date is used (a different month is still reported as a mismatch)
        if len(b) == 7 and d["id_type"] in ("cn_id", "hmt_permit") and idn[6:12] == b.replace("-", ""):
            d.pop("birth_date")
    return d, problems


# ------------------------------------------------------------------ the importer
@dataclass
class Prepared:
    row: int
    clean: dict
    id_hash: str
    team_id: int | None
    team_name: str
    outcome: RowOutcome


def _field_label(f: str) -> str:
    from .admin import LABELS
    return str(LABELS.get(f) or EXTRA_LABELS.get(f) or f)


def teams_enabled() -> bool:
    return "teams" in current_app.extensions["timebank"].loaded


class Importer:
    """One import run. ``actor`` is the user importing (None: the command line or the demo loader,
    which may import into any team). Use ``run(rows)`` with rows from ``read_table`` or dicts."""

    def __init__(self, *, actor=None, actor_name: str = "", team: str | None = None,
                 dry_run: bool = False, batch_size: int = BATCH_SIZE, source: str = "",
                 progress: Callable[[int], None] | None = None,
                 on_flush: Callable[[list], None] | None = None):
        self.actor = actor
        self.actor_name = actor_name or getattr(actor, "username", "") or "system"
        self.dry_run = dry_run
        self.batch_size = max(1, int(batch_size))
        self.source = source
        self.progress = progress
        self.on_flush = on_flush
        self.result = ImportResult(filename=source, dry_run=dry_run)
        self._seen: dict[str, int] = {}
        self._teams: dict[str, object] = {}
        self._flushed = 0
        self.allowed_team_ids = self._allowed_teams()
        self.default_team = None
        if team:
            t, problem = self._team(team)
            if problem:
                raise ImportFileError(problem)
            self.default_team = t

    # ---------------------------------------------------------------- who may import where
    def _allowed_teams(self):
        """None: any team, a volunteer may also be imported without a team. A list: only these teams,
        and every row needs one (a team admin's volunteers must land in a team they manage)."""
        if self.actor is None:
            return None
        from core import security
        may_create = security.can("volunteers.volunteer.create", user=self.actor)
        may_import = security.can("volunteers.volunteer.import", user=self.actor)
        if not (may_create or may_import):
            raise ImportFileError(_("You may not import volunteers."))
        if not teams_enabled():
            if may_create:
                return None
            raise ImportFileError(_("You may not import volunteers."))
        from plugins.teams.services import admin_team_ids
        ids = admin_team_ids(self.actor)
        if ids is None and may_create:
            return None
        return list(ids or [])

    def _team(self, name: str):
        """(team, problem) for a team named in the file or on the command line."""
        name = name.strip()
        if name in self._teams:
            return self._teams[name]
        if not teams_enabled():
            found = (None, _("Teams are not enabled on this site."))
        else:
            from plugins.teams.models import Team
            t = Team.get_or_none(Team.name == name)
            if t is None:
                found = (None, _("There is no team named “%(name)s”.", name=name))
            elif self.allowed_team_ids is not None and t.id not in self.allowed_team_ids:
                found = (None, _("You may only import volunteers into teams you manage."))
            elif t.status != "approved":
                found = (None, _("The team “%(name)s” is not approved yet and cannot take members.",
                                 name=name))
            else:
                found = (t, None)
        self._teams[name] = found
        return found

    # ---------------------------------------------------------------- one row
    def prepare(self, rownum: int, raw: dict) -> Prepared | None:
        """Validate one row. Returns a Prepared row, or None after recording a skip or a known row."""
        data, problems = normalise(raw)
        name = data.get("name", "")
        outcome = RowOutcome(row=rownum, status="skipped", name=name[:100],
                             masked_id=mask_id(data.get("id_number", "")))
        notes = []
        if (data.get("political_status") or data.get("religion")) and not data.get("sensitive_consent"):
            # PR3: sensitive data only with the separate consent; the rest of the row still counts
            data["political_status"] = data["religion"] = ""
            data["pledge"] = ""
            notes.append(_l("Political status and religion were not stored: the row has no separate "
                            "consent to sensitive data."))
        data["agreement"] = "1"  # the paper 服务协议, signed; the import records who vouches for it
        errors = {}
        try:
            clean = services.clean_registration({k: v for k, v in data.items() if k != "team"})
        except services.RegistrationError as e:
            errors.update(e.errors)
            clean = None
        for f, msg in problems:
            errors[f] = msg
        team, team_name = self.default_team, getattr(self.default_team, "name", "")
        if data.get("team"):
            team, problem = self._team(data["team"])
            team_name = data["team"]
            if problem:
                errors["team"] = problem
        elif self.allowed_team_ids is not None and team is None:
            errors["team"] = _l("Choose one of your teams for these volunteers.")
        outcome.team = team_name
        if errors:
            outcome.messages = [f"{_field_label(f)}: {m}" for f, m in errors.items()]
            self.result.rows.append(outcome)
            return None
        h = services.id_hash(clean["id_type"], clean["id_number"])
        if h in self._seen:
            outcome.messages = [_("The same ID number is on row %(row)s.", row=self._seen[h])]
            self.result.rows.append(outcome)
            return None
        self._seen[h] = rownum
        outcome.messages = notes
        outcome.masked_id = mask_id(clean["id_number"])
        outcome.status = "pending"
        self.result.rows.append(outcome)
        return Prepared(rownum, clean, h, getattr(team, "id", None), team_name, outcome)

    # ---------------------------------------------------------------- the run
    def run(self, rows: Iterable[tuple[int, dict]]) -> ImportResult:
        """Import ``(row number, {field: cell})`` pairs. Errors stop the run with every committed batch
        complete; ``result.stopped_at`` says where. Ctrl-C does the same and is then re-raised."""
        batch: list[Prepared] = []
        current = None
        try:
            with services.settings_cached():
                for rownum, raw in rows:
                    current = rownum
                    p = self.prepare(rownum, raw)
                    if p is not None:
                        batch.append(p)
                    if self.progress:
                        self.progress(1)
                    if len(batch) >= self.batch_size:
                        self._commit(batch)
                        batch = []
                        self._flush()
                if batch:
                    current = batch[0].row
                    self._commit(batch)
                    batch = []
                self._flush()
        except BaseException as e:  # noqa: BLE001 - stop cleanly on anything, even Ctrl-C
            stop = batch[0].row if batch else current
            self._stop(stop, e)
            if not isinstance(e, Exception):
                raise
        finally:
            if self.result.rows and not self.dry_run:
                self._audit_summary()
        return self.result

    def _stop(self, row, exc):
        if isinstance(exc, Exception):
            log.error("volunteer import stopped at row %s", row, exc_info=exc)
        self.result.stopped_at = row
        self.result.error = (type(exc).__name__ if not str(exc) else
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        for o in self.result.rows:
            if o.status == "pending":
                o.status = "stopped"
                o.messages = []
        self._flush(final=True)

    def _flush(self, final=False):
        """Hand the finished outcomes to ``on_flush`` (the report file is written as the run goes, so
        even a killed process leaves a report of everything committed)."""
        done = self.result.rows[self._flushed:]
        if not final:
            # everything up to the first row still waiting for its batch
            for i, o in enumerate(done):
                if o.status == "pending":
                    done = done[:i]
                    break
        self._flushed += len(done)
        if self.on_flush and (done or final):
            self.on_flush(done, final)

    def rows_from_table(self, table: Table) -> Iterator[tuple[int, dict]]:
        cols = table.columns
        self.result.ignored_columns = table.ignored
        for rownum, cells in table.rows:
            raw, any_value = {}, False
            for fld, cell in zip(cols, cells):
                if not fld or fld == "_ignore" or cell in (None, ""):
                    continue
                if fld == "id_number" and isinstance(cell, (int, float)) and len(str(int(cell))) > 15:
                    raw["_id_numeric"] = True
                text = _cell_text(cell, fld)
                if text:
                    any_value = True
                    raw.setdefault(fld, text)   # the first non-empty column of a field wins
            if any_value:
                yield rownum, raw

    # ---------------------------------------------------------------- writing
    def _commit(self, batch: list[Prepared]):
        existing = set()
        hashes = [p.id_hash for p in batch]
        for i in range(0, len(hashes), 500):
            existing.update(v.id_hash for v in Volunteer.select(Volunteer.id_hash)
                            .where(Volunteer.id_hash.in_(hashes[i:i + 500])))
        todo = []
        for p in batch:
            if p.id_hash in existing:
                p.outcome.status = "exists"
                p.outcome.messages = [_l("A volunteer with this ID number is already registered.")]
            else:
                todo.append(p)
        if not todo:
            return
        if self.dry_run:
            for p in todo:
                p.outcome.status = "ok"
            return
        try:
            with transaction():
                done = self._insert(todo)
            self._done(done)
        except pw.DatabaseError:
            if len(todo) == 1:
                self._refused(todo[0])
                return
            # one row spoiled the batch: go row by row, each all-or-nothing (CC5)
            for p in todo:
                try:
                    with transaction():
                        done = self._insert([p])
                    self._done(done)
                except pw.DatabaseError:
                    self._refused(p)

    @staticmethod
    def _done(done):
        """Outcomes are marked only once their transaction has committed."""
        for p, number in done:
            p.outcome.number = number
            p.outcome.status = "imported"

    def _refused(self, p: Prepared):
        if Volunteer.select().where(Volunteer.id_hash == p.id_hash).exists():
            p.outcome.status = "exists"   # registered meanwhile by someone else
            p.outcome.messages = [_l("A volunteer with this ID number is already registered.")]
        else:
            p.outcome.status = "skipped"
            p.outcome.messages = [_l("The database refused this row; nothing of it was saved.")]
        log.warning("import row %s refused by the database", p.row, exc_info=True)

    def _insert(self, rows: list[Prepared]) -> list:
        """Volunteers, memberships and audit rows of ``rows`` in the current transaction; returns
        (row, volunteer number) pairs."""
        t = now()
        numbers = number_block(len(rows))
        agreement = services.setting("agreement_version")
        notice = services.setting("privacy_notice_version")
        records = []
        for p, number in zip(rows, numbers):
            c = p.clean
            rec = {k: c[k] for k in VOLUNTEER_FIELDS if k in c and c[k] is not None}
            rec.update(number=number, user=None, id_hash=p.id_hash,
                       phone_hash=services.phone_hash(c["phone"]),
                       agreement_version=agreement, agreement_accepted_at=t, registered_at=t,
                       updated_at=t)
            if c.get("sensitive_consent"):
                rec.update(sensitive_consent_at=t, sensitive_consent_version=notice)
            if c.get("pledge"):
                rec["pledge_accepted_at"] = t
            if c.get("guardian_consent"):
                rec["guardian_consent_at"] = t
            records.append(rec)
        ids = bulk_insert(Volunteer, records, key="id_hash")
        uid = getattr(self.actor, "id", None)
        audit_rows, memberships = [], []
        for p, rec in zip(rows, records):
            vid = ids[rec["id_hash"]]
            # the pledge is not named in the audit log (only Party members sign it; NS5)
            consents = ["agreement"] + [k for k in ("sensitive_consent", "guardian_consent")
                                        if p.clean.get(k)]
            audit_rows.append(self._audit_row("volunteer.registered", "volunteers_volunteer", vid, t, {
                "by": self.actor_name, "via": "import", "file": self.source[:100], "row": p.row,
                "consents": consents}))
            if p.team_id is not None:
                memberships.append({"team": p.team_id, "volunteer": vid, "status": "approved",
                                    "applied_at": t, "decided_at": t, "decided_by": uid})
        if memberships:
            from plugins.teams.models import Membership
            mids = bulk_insert(Membership, memberships, key="volunteer")
            for m in memberships:
                audit_rows.append(self._audit_row("membership.approved", "teams_membership",
                                                  mids[m["volunteer"]], t,
                                                  {"by": self.actor_name, "via": "import"}))
        from core.models import AuditLog
        bulk_insert(AuditLog, audit_rows)
        # domain events, delivered after the commit like those of a single registration
        for rec in records:
            events.emit(services.VolunteerRegistered(volunteer_id=ids[rec["id_hash"]], actor_id=uid))
        if memberships:
            from plugins.teams.services import MembershipDecided
            for m in memberships:
                events.emit(MembershipDecided(membership_id=mids[m["volunteer"]], team_id=m["team"],
                                              volunteer_id=m["volunteer"], approved=True, actor_id=uid))
        return [(p, rec["number"]) for p, rec in zip(rows, records)]

    def _audit_row(self, action, otype, oid, at, details) -> dict:
        ip = (request.remote_addr or "")[:64] if has_request_context() and request.remote_addr else ""
        return {"at": at, "user_id": getattr(self.actor, "id", None), "username": self.actor_name[:64],
                "action": action, "object_type": otype, "object_id": str(oid), "ip": ip,
                "details": json.dumps(details, ensure_ascii=False)}

    def _audit_summary(self):
        c = self.result.counts
        try:
            audit.log("volunteers.imported", ("import", self.source[:64]),
                      {"by": self.actor_name, "imported": c["imported"], "exists": c["exists"],
                       "skipped": c["skipped"], "stopped_at": self.result.stopped_at,
                       "team": getattr(self.default_team, "id", None)}, user=self.actor)
        except Exception:  # noqa: BLE001 - the rows are in; a failing summary must not hide that
            log.exception("could not audit the import summary")


VOLUNTEER_FIELDS = ("name", "gender", "id_type", "id_number", "birth_date", "phone", "district",
                    "education", "political_status", "minor_basis", "guardian_name", "guardian_phone",
                    *services.OPTIONAL_TEXT)


def number_block(n: int) -> list[str]:
    """``n`` volunteer numbers in one step inside the caller's transaction (``services.allocate_numbers``:
    same sequence, same format, numbers taken as login names skipped)."""
    return services.allocate_numbers(n)


# ------------------------------------------------------------------ raw fast path
# the kernel's bulk insert (core.db); names kept here for the benchmark and older callers
from core.db import bulk_insert, insert_columns, row_tuples  # noqa: E402,F401


# ------------------------------------------------------------------ reports
REPORT_HEADER = [_l("Row"), _l("Result"), _l("Volunteer number"), _l("Name"), _l("ID number (masked)"),
                 _l("Team"), _l("Notes")]


def report_line(o: RowOutcome) -> list:
    return [o.row, o.status_label, o.number, o.name, o.masked_id, o.team, o.message]


class ReportWriter:
    """Writes the report CSV as the import goes (UTF-8 with BOM so Excel shows the Chinese; formula
    escaping on every cell, IV8). Use as the ``on_flush`` of an Importer."""

    def __init__(self, path: Path, result: ImportResult | None = None):
        self.path = Path(path)
        self.result = result
        # names are personal data: the report is readable by its owner only
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self.w = exports.csv_writer(self.fh)   # every cell escaped, the header too (IV8, NS6)
        self.w.writerow(REPORT_HEADER)
        self.fh.flush()

    def __call__(self, outcomes: list, final: bool = False):
        for o in outcomes:
            self.w.writerow(report_line(o))
        if final and self.result is not None and self.result.stopped_at is not None:
            self.w.writerow([self.result.stopped_at, STATUS_LABELS["stopped"], "", "", "", "",
                             stopped_message(self.result.stopped_at, self.result.error)])
        self.fh.flush()

    def close(self):
        if not self.fh.closed:
            self.fh.close()


def import_file(data: bytes, filename: str, *, report_path: Path | None = None, max_rows: int | None = None,
                **options) -> ImportResult:
    """Import a file held in memory (admin page, CLI, tests). ``options`` go to ``Importer``. Raises
    ImportFileError when the file as a whole is refused; row problems are in the result."""
    table = read_table(data, filename)
    if max_rows is not None and table.total > max_rows:
        raise ImportFileError(_("The file has more than %(n)s rows: import it with the command "
                                "`timebank volunteers import`.", n=max_rows))
    imp = Importer(source=Path(filename).name, **options)
    writer = None
    if report_path is not None:
        writer = ReportWriter(report_path, imp.result)
        user_flush = imp.on_flush

        def both(done, final=False):
            writer(done, final)
            if user_flush:
                user_flush(done, final)
        imp.on_flush = both
        imp.result.report_path = Path(report_path)
    try:
        return imp.run(imp.rows_from_table(table))
    finally:
        if writer is not None:
            writer.close()


def import_records(records: Iterable[dict], **options) -> ImportResult:
    """Import dicts keyed by field name (demo data, other plugins); rows are numbered from 1."""
    imp = Importer(**options)
    return imp.run((i, {k: _cell_text(v, k) for k, v in r.items() if v not in (None, "")})
                   for i, r in enumerate(records, start=1))


# ------------------------------------------------------------------ command line
def register_cli(cli):
    import click
    from flask.cli import AppGroup

    group = AppGroup("volunteers", help="Volunteers: bulk import from spreadsheets.")

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--team", default=None, help="Name of the team the volunteers join (approved member).")
    @click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
    @click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1, 10000))
    @click.option("--report", "report", type=click.Path(dir_okay=False), default=None,
                  help="Where to write the report CSV (default: next to FILE).")
    def import_cmd(file, team, dry_run, batch_size, report):
        """Import volunteers from an XLSX or CSV file (附录一/附录三 headers or field names).

        Each row is validated like a registration, encrypted, numbered and optionally added to TEAM.
        Rows already registered are reported, not duplicated, so the command can be run again."""
        import getpass
        src = Path(file)
        stamp = now().strftime("%Y%m%d-%H%M%S")
        rpath = Path(report) if report else src.with_name(f"{src.stem}.report-{stamp}.csv")
        try:
            who = getpass.getuser()
        except Exception:  # noqa: BLE001
            who = "?"
        with current_app.test_request_context():
            try:
                table = read_table(src.read_bytes(), src.name)
                imp = Importer(team=team, dry_run=dry_run, batch_size=batch_size, source=src.name,
                               actor_name=f"cli:{who}"[:64])
            except ImportFileError as e:
                from core.cli import fail
                fail(str(e))
            writer = ReportWriter(rpath, imp.result)
            imp.on_flush = writer
            imp.result.report_path = rpath
            interrupted = False
            try:
                with click.progressbar(length=table.total or 1, label=_("Importing"),
                                       file=click.get_text_stream("stderr")) as bar:
                    pending = [0]

                    def tick(n):
                        pending[0] += n
                        if pending[0] >= 200:
                            bar.update(pending[0])
                            pending[0] = 0
                    imp.progress = tick
                    try:
                        imp.run(imp.rows_from_table(table))
                    except KeyboardInterrupt:
                        interrupted = True
            finally:
                writer.close()
            res = imp.result
            for col in res.ignored_columns:
                click.echo(_("Column ignored: %(col)s", col=col))
            for o in res.rows:
                if o.status == "skipped":
                    click.echo(f"{_('Row')} {o.row}: {o.message}")
            click.echo(res.summary())
            click.echo(_("Report: %(path)s", path=str(rpath)))
        if interrupted:
            raise SystemExit(130)
        if res.stopped_at is not None:
            raise SystemExit(1)

    cli.add_command(group)


# ------------------------------------------------------------------ admin page
REPORT_DAYS = 7
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,40}")


def _reports_dir() -> Path:
    d = Path(current_app.config["INSTANCE_PATH"]) / "import_reports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _prune_reports(d: Path):
    import time
    limit = time.time() - REPORT_DAYS * 86400
    for f in d.iterdir():
        try:
            if f.stat().st_mtime < limit:
                f.unlink()
        except OSError:
            pass


def make_admin_view():
    """The admin page "Import volunteers" (built lazily: Flask-Admin is only imported by the admin)."""
    import secrets

    from flask import abort, redirect, send_file, url_for
    from flask_admin import BaseView, expose
    from flask_login import current_user

    from core import security

    class ImportView(BaseView):
        """Upload an XLSX/CSV file, see the per-row report, download it. Team admins import only into
        the teams they manage (AC6); everyone needs volunteers.volunteer.create or .import."""

        def is_accessible(self):
            return current_user.is_authenticated and (
                security.can("volunteers.volunteer.create") or security.can("volunteers.volunteer.import"))

        def inaccessible_callback(self, name, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("site.login", next=request.full_path))
            audit.log("access.denied", None, {"permission": "volunteers.volunteer.import",
                                              "path": request.path})
            abort(403)

        def _team_choices(self, user):
            """Approved teams the user may import into; (names, team required?)."""
            if not teams_enabled():
                return [], False
            from plugins.teams.models import Team
            from plugins.teams.services import admin_team_ids
            q = Team.select(Team.name).where(Team.status == "approved").order_by(Team.path)
            ids = admin_team_ids(user)
            site_wide = ids is None and security.can("volunteers.volunteer.create", user=user)
            if not site_wide:
                q = q.where(Team.id.in_(ids or [-1]))
            return [t.name for t in q], not site_wide

        @expose("/", methods=("GET", "POST"))
        def index(self):
            user = current_user._get_current_object()
            teams, team_required = self._team_choices(user)
            result, error, token = None, None, None
            form = {"team": request.form.get("team", ""), "dry_run": bool(request.form.get("dry_run"))}
            if request.method == "POST":
                upload = request.files.get("file")
                name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1] if upload else ""
                data = upload.stream.read(WEB_MAX_BYTES + 1) if upload and name else b""
                if not name:
                    error = _("Choose a file to import.")
                elif len(data) > WEB_MAX_BYTES:
                    error = _("The file is larger than %(mb)s MB: import it with the command "
                              "`timebank volunteers import`.", mb=WEB_MAX_BYTES // (1024 * 1024))
                elif not name.lower().endswith((".xlsx", ".csv")):
                    error = _("Only XLSX and CSV files can be imported.")
                elif not data:
                    error = _("The file is empty.")
                elif form["team"] and form["team"] not in teams:
                    audit.log("access.denied", ("teams_team", form["team"][:64]),
                              {"permission": "volunteers.volunteer.import", "path": request.path})
                    error = _("You may only import volunteers into teams you manage.")
                elif team_required and not form["team"]:
                    error = _("Choose one of your teams for these volunteers.")
                else:
                    rdir = _reports_dir()
                    _prune_reports(rdir)
                    token = secrets.token_urlsafe(18)
                    rpath = rdir / f"{token}.csv"
                    try:
                        result = import_file(data, name, report_path=rpath, max_rows=WEB_MAX_ROWS,
                                             actor=user, team=form["team"] or None,
                                             dry_run=form["dry_run"])
                    except ImportFileError as e:
                        error, token = str(e), None
                        rpath.unlink(missing_ok=True)
                    else:
                        (rdir / f"{token}.json").write_text(json.dumps(
                            {"user_id": user.id, "file": name, "at": now().isoformat()}))
            resp = current_app.make_response(self.render(
                "volunteers/admin_import.html", teams=teams, team_required=team_required, form=form,
                result=result, error=error, token=token, max_mb=WEB_MAX_BYTES // (1024 * 1024),
                max_rows=WEB_MAX_ROWS, header=[str(h) for h in REPORT_HEADER], shown=500))
            resp.headers["Cache-Control"] = "no-store"
            return resp, (400 if error else 200)

        @expose("/report/<token>.csv")
        def report(self, token):
            """The report of one of the user's own imports (names and masked ID numbers: PR5)."""
            if not TOKEN_RE.fullmatch(token):
                abort(404)
            rdir = _reports_dir()
            meta_f, csv_f = rdir / f"{token}.json", rdir / f"{token}.csv"
            if not meta_f.exists() or not csv_f.exists():
                abort(404)
            meta = json.loads(meta_f.read_text())
            if meta.get("user_id") != current_user.id:
                audit.log("access.denied", ("import_report", token[:8]), {"path": request.path})
                abort(404)
            audit.log("export", ("import_report", token[:8]), {"type": "csv", "file": meta.get("file")})
            resp = send_file(csv_f, mimetype="text/csv", as_attachment=True,
                             download_name=f"import-report-{Path(meta.get('file', 'file')).stem}.csv")
            resp.headers["Cache-Control"] = "no-store"
            return resp

        @expose("/template.xlsx")
        def template(self):
            """An empty spreadsheet with the accepted headers (附录一/附录三 names)."""
            import openpyxl
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "志愿者"
            exports.xlsx_append(ws, TEMPLATE_HEADERS)   # through the export escaping (IV8, NS6)
            for col in ("D", "E"):  # ID number and phone as text, or Excel drops digits
                for cell in ws[col]:
                    cell.number_format = "@"
            buf = io.BytesIO()
            wb.save(buf)
            buf.seek(0)
            return send_file(buf, as_attachment=True, download_name="volunteers-import-template.xlsx",
                             mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    return ImportView


TEMPLATE_HEADERS = ["姓名", "性别", "证件类型", "证件号码", "手机号码", "政治面貌", "敏感信息同意", "党员承诺",
                    "所属区域", "详细地址", "工作单位", "学历", "特长", "服务意向", "所属志愿队伍", "备注"]
