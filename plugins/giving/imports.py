"""Issue 15 point 6: donations imported from a bank or platform statement (CSV).

- Columns are found by their heading (Chinese or English aliases, see ``COLUMNS``): date, amount, payer,
  reference, channel. Files in UTF-8 (with or without BOM) and GBK/GB18030 (what Chinese online banking
  exports) are both read.
- Amounts go through ``core.money.parse`` (exact fen, never float); dates through ``core.inputs.parse_date``.
- **Idempotent by the statement reference** (交易流水号): a reference already imported for the team is
  skipped, also when the same file is uploaded again; a ``giving_statement_line`` row (unique per team and
  reference) records which donation each reference became.
- **Per row, not all-or-nothing**: each row is checked, then written in its own transaction (donor if new,
  donation, statement line, audit); a bad row is refused with its reason in Chinese and writes nothing,
  the good rows of the same file are kept. A statement is a list of independent bank transfers: refusing
  a whole file for one bad line would make staff re-upload it, and idempotency makes a corrected re-upload
  of the same file safe (imported rows are skipped).
"""
from __future__ import annotations

import csv
import io
import re

import peewee as pw
from flask_babel import lazy_gettext as _l

from core import audit, inputs, money
from core.db import BaseModel, DateTimeTZField, now, today, transaction
from plugins.teams.models import Team

from .models import Donation, Donor

COLUMNS = {
    "date": ("日期", "交易日期", "入账日期", "记账日期", "交易时间", "date"),
    "amount": ("金额", "收入金额", "贷方金额", "入账金额", "交易金额", "amount"),
    "payer": ("付款人", "对方户名", "对方账户名", "付款方", "捐赠人", "payer"),
    "reference": ("流水号", "交易流水号", "交易单号", "参考号", "凭证号", "订单号", "reference"),
    "channel": ("渠道", "交易渠道", "支付方式", "channel"),
    "purpose": ("用途", "摘要", "附言", "purpose"),
}
REQUIRED = ("date", "amount", "reference")
CHANNEL_WORDS = (("cash", ("现金", "cash")), ("online", ("支付宝", "微信", "平台", "网银", "online", "alipay", "wechat")),
                 ("bank", ("银行", "转账", "bank")))
ORG_WORDS = ("公司", "有限", "协会", "基金会", "中心", "银行", "集团", "商会", "学校", "医院", "委员会", "社")
MAX_BYTES = 5 * 1024 * 1024


class StatementLine(BaseModel):
    """One imported statement row: its reference is imported once per team (idempotency)."""
    team = pw.ForeignKeyField(Team, backref="+", on_delete="RESTRICT")
    reference = pw.CharField(max_length=100)
    donation = pw.ForeignKeyField(Donation, backref="+", on_delete="RESTRICT", index=True)
    imported_at = DateTimeTZField(default=now)
    imported_by = pw.IntegerField(null=True)
    filename = pw.CharField(max_length=200, default="")

    class Meta:
        table_name = "giving_statement_line"
        indexes = ((("team", "reference"), True),)


MODELS = [StatementLine]


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030 (a superset of GBK)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("undecodable")


def _map(header: list[str]) -> dict[str, int]:
    found = {}
    for i, h in enumerate(header):
        h = inputs.normalize(h or "").strip().lower()
        for key, aliases in COLUMNS.items():
            if key not in found and h in aliases:
                found[key] = i
    return found


def _date(raw: str):
    s = inputs.normalize(raw or "").strip().split(" ")[0].replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        s = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return inputs.parse_date(s, max=today(), field="date")


def _channel(raw: str, default: str) -> str:
    s = (raw or "").strip().lower()
    if not s:
        return default
    for key, words in CHANNEL_WORDS:
        if any(w in s for w in words):
            return key
    return "other"


def _donor(team_id: int, payer: str, user_id) -> Donor:
    if not payer:
        d = Donor.select().where((Donor.team == team_id) & (Donor.kind == "anonymous")).first()
        return d or Donor.create(team=team_id, kind="anonymous", name="")
    d = Donor.select().where((Donor.team == team_id) & (Donor.name == payer)
                             & (Donor.kind != "anonymous")).order_by(Donor.id).first()
    if d is not None:
        return d
    kind = "organisation" if any(w in payer for w in ORG_WORDS) else "person"
    d = Donor.create(team=team_id, kind=kind, name=payer)
    audit.log("giving.donor.created", d, {"team_id": team_id, "kind": kind, "source": "statement"})
    return d


def import_statement(team: Team, data: bytes, user=None, *, filename: str = "", default_channel: str = "bank",
                     purpose: str = "") -> dict:
    """Import a statement file for ``team``. Returns ``{"rows": [{line, reference, status, reason,
    donation_id}], "imported": n, "skipped": n, "refused": n}``; status is imported / skipped / refused.
    A file that cannot be read at all (encoding, no heading, a required column missing) raises
    ``FieldErrors`` on ``file`` and writes nothing."""
    from core.errors import FieldErrors
    from .services import _require_team, _user
    _require_team(user, team.id)
    if not data:
        raise FieldErrors({"file": _l("Choose a CSV file.")})
    if len(data) > MAX_BYTES:
        raise FieldErrors({"file": _l("The file is larger than 5 MB.")})
    try:
        text = decode(data)
    except ValueError:
        raise FieldErrors({"file": _l("The file is neither UTF-8 nor GBK text.")}) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise FieldErrors({"file": _l("The file is empty.")})
    cols = _map(rows[0])
    missing = [k for k in REQUIRED if k not in cols]
    if missing:
        raise FieldErrors({"file": _l("The heading lacks the columns: %(cols)s.",
                                      cols="、".join(COLUMNS[k][0] for k in missing))})
    u = _user(user)
    uid = getattr(u, "id", None)
    report = {"rows": [], "imported": 0, "skipped": 0, "refused": 0}
    seen = set()

    def cell(r, key):
        i = cols.get(key)
        return inputs.normalize(r[i]).strip() if i is not None and i < len(r) else ""

    for line, r in enumerate(rows[1:], start=2):
        ref = cell(r, "reference")
        entry = {"line": line, "reference": ref, "status": "refused", "reason": "", "donation_id": None}
        report["rows"].append(entry)
        problems = []
        if not ref:
            problems.append(str(_l("The statement reference is empty.")))
        elif len(ref) > 100:
            problems.append(str(_l("The statement reference is longer than 100 characters.")))
        amount = donated_on = None
        try:
            amount = money.parse(cell(r, "amount").replace(",", ""), min=1, field="amount")
        except inputs.InputError as e:
            problems.append(str(_l("Amount: %(msg)s", msg=" ".join(str(v) for v in e.errors.values()))))
        try:
            donated_on = _date(cell(r, "date"))
        except inputs.InputError as e:
            problems.append(str(_l("Date: %(msg)s", msg=" ".join(str(v) for v in e.errors.values()))))
        payer = cell(r, "payer")[:200]
        if problems:
            entry["reason"] = "；".join(problems)
            report["refused"] += 1
            continue
        if ref in seen or StatementLine.select().where((StatementLine.team == team.id)
                                                      & (StatementLine.reference == ref)).exists():
            entry.update(status="skipped", reason=str(_l("Imported already (same statement reference).")))
            report["skipped"] += 1
            continue
        try:
            with transaction():            # the row, its donor and its line, or nothing
                donor = _donor(team.id, payer, uid)
                d = Donation.create(team=team.id, donor=donor, kind="money", amount=amount,
                                    channel=_channel(cell(r, "channel"), default_channel), donated_on=donated_on,
                                    property_type=str(_l("Money")), status="accepted",
                                    purpose=(cell(r, "purpose") or purpose)[:300], created_by=uid)
                StatementLine.create(team=team.id, reference=ref, donation=d, imported_by=uid,
                                     filename=filename[:200])
                audit.log("giving.donation.recorded", d, {"kind": "money", "amount_fen": amount,
                                                          "team_id": team.id, "statement_reference": ref},
                          user=u)
        except pw.IntegrityError:          # imported by someone else at the same moment
            entry.update(status="skipped", reason=str(_l("Imported already (same statement reference).")))
            report["skipped"] += 1
            continue
        seen.add(ref)
        entry.update(status="imported", donation_id=d.id)
        report["imported"] += 1
    audit.log("giving.statement.imported", None, {"team_id": team.id, "filename": filename[:200],
                                                  "imported": report["imported"], "skipped": report["skipped"],
                                                  "refused": report["refused"]}, user=u)
    return report
