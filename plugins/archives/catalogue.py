"""Kinds, files and documents (R-ARC-1, R-ARC-3): numbers from core.numbering, documents stored once with
their SHA-256 (storage.py), the catalogue's prefix search (an index range scan, never a full scan), the
cover sheet (案卷封面) and contents list (卷内目录) as PDF, and the integrity check of ``timebank check``."""
from __future__ import annotations

import datetime as _dt
import uuid

from flask_babel import lazy_gettext as _l

from core import audit, numbering
from core.db import now, today, transaction
from core.errors import FieldErrors
from core.settings import PluginSettings

from . import storage
from .models import ArchiveFile, ChronicleEntry, Document, Kind

SETTINGS = PluginSettings(__file__)

# the kinds of 附录十 / R-ARC-1; a site adds more as rows (档案管理 → 档案类别), not code
DEFAULT_KINDS = [
    ("personnel", "人事档案", "01", "permanent", "党员志愿者的人事资料"),
    ("work", "工作档案", "02", "long", "工作计划、总结、制度、会议记录及团队大事记"),
    ("activity", "活动档案", "03", "long", "活动的策划、准备、过程与结果、新闻报道、照片"),
]
RETENTION_LABELS = {"permanent": "永久", "long": "长期", "short": "短期"}


def load_kinds():
    """The handbook's three kinds (idempotent; a kind renamed by the site keeps its name)."""
    for code, name, cat, retention, desc in DEFAULT_KINDS:
        Kind.insert(code=code, name=name, catalogue_no=cat, retention=retention, description=desc) \
            .on_conflict_ignore().execute()


def kind(code: str) -> Kind:
    k = Kind.get_or_none(Kind.code == code)
    if k is None:
        load_kinds()
        k = Kind.get(Kind.code == code)
    return k


def disposal_date(retention: str, start: _dt.date | None) -> _dt.date | None:
    """永久: never; 长期 / 短期: the years of the settings after the file's last date."""
    if retention == "permanent":
        return None
    years = SETTINGS.get("long_years" if retention == "long" else "short_years")
    d = start or today()
    try:
        return d.replace(year=d.year + years)
    except ValueError:                      # 29 February
        return d.replace(year=d.year + years, day=28)


def fonds_no() -> str:
    return (SETTINGS.get("fonds_no") or "0001").strip()


def check_file(f: ArchiveFile) -> None:
    """The rules between a file's fields (FieldErrors beside each field, nothing written)."""
    errors = {}
    if not (f.title or "").strip():
        errors["title"] = _l("This field is required.")
    if f.retention not in RETENTION_LABELS:
        errors["retention"] = _l("Choose permanent, long-term or short-term.")
    if f.date_from and f.date_to and f.date_to < f.date_from:
        errors["date_to"] = _l("The last date is not before the first.")
    if errors:
        raise FieldErrors(errors)


def number_file(f: ArchiveFile) -> None:
    """Gives a new file its number 全宗号-目录号-案卷号 (inside the caller's transaction: the 案卷号 is taken
    under core.numbering's row lock, gap-free, and given back if the file rolls back) and disposal date."""
    fonds, cat = fonds_no(), f.kind.catalogue_no
    seq = numbering.next_seq("archives.file", scope=f"{fonds}-{cat}", yearly=False)
    f.fonds_no, f.catalogue_no, f.seq, f.number = fonds, cat, seq, f"{fonds}-{cat}-{seq:04d}"
    f.disposal_date = disposal_date(f.retention, f.date_to or f.date_from)


def create_file(team, kind_: Kind, title: str, *, date_from=None, date_to=None, responsible=None,
                retention: str | None = None, activity_id: int | None = None, due_at=None, actor=None,
                note: str = "") -> ArchiveFile:
    """A new file numbered 全宗号-目录号-案卷号 (gap-free per fonds and kind, core.numbering)."""
    f = ArchiveFile(team=team, kind=kind_, title=(title or "").strip()[:200], date_from=date_from,
                    date_to=date_to, responsible=responsible, retention=retention or kind_.retention,
                    activity_id=activity_id, due_at=due_at, note=note)
    check_file(f)
    with transaction():
        number_file(f)
        f.save(force_insert=True)
        audit.log("archives.file_created", f, {"number": f.number}, user=actor)
    return f


def add_document(f: ArchiveFile, title: str, filename: str, data: bytes, *, content_type: str = "",
                 source: str = "", replaces: Document | None = None, actor=None) -> Document:
    """Store ``data`` once (hashed) and give it the file's next 页号 (gap-free, core.numbering)."""
    if f.status == "closed":
        raise FieldErrors({"file": _l("The file is closed: no documents are added to it.")})
    if not data:
        raise FieldErrors({"data": _l("The document is empty.")})
    if len(data) > SETTINGS.get("max_document_mb") * 1024 * 1024:
        raise FieldErrors({"data": _l("The document is larger than %(n)s MB.", n=SETTINGS.get("max_document_mb"))})
    digest = storage.sha256(data)
    store = storage.backend()
    key = f"{f.fonds_no}/{f.catalogue_no}/{f.seq:04d}/{uuid.uuid4().hex}-{digest[:16]}"
    store.put(key, data)                   # before the row: a row never points to bytes not written
    with transaction():
        page = numbering.next_seq("archives.page", scope=f"file:{f.id}", yearly=False)
        d = Document.create(file=f, page=page, title=(title or filename)[:200], filename=filename[:200],
                            content_type=content_type or "application/octet-stream", size=len(data),
                            sha256=digest, storage=store.name, key=key, source=source[:50], replaces=replaces)
        audit.log("archives.document_added", d, {"file": f.number, "page": page, "sha256": digest}, user=actor)
    return d


def read(d: Document) -> bytes | None:
    return storage.backend(d.storage).get(d.key)


def close_file(f: ArchiveFile, *, actor=None) -> ArchiveFile:
    """The archivist completes and closes a file (it must hold at least one document)."""
    if f.status == "closed":
        raise FieldErrors({"__all__": _l("The file is already closed.")})
    if not Document.select().where(Document.file == f).exists():
        raise FieldErrors({"__all__": _l("A file without documents cannot be closed.")})
    with transaction():
        ArchiveFile.update(status="closed", closed_at=now()).where(ArchiveFile.id == f.id).execute()
        audit.log("archives.file_closed", f, {"number": f.number}, user=actor)
    return ArchiveFile.get_by_id(f.id)


def add_chronicle(team, day: _dt.date, text: str, *, actor=None) -> ChronicleEntry:
    if not (text or "").strip():
        raise FieldErrors({"text": _l("This field is required.")})
    with transaction():
        e = ChronicleEntry.create(team=team, day=day, text=text.strip())
        audit.log("archives.chronicle_added", e, user=actor)
    return e


# ----------------------------------------------------------------------------------- search
def prefix_filter(query, term: str):
    """Files whose number or title starts with ``term``: a range on the unique/indexed column (an index
    lookup on SQLite and PostgreSQL) and the exact prefix test on the rows of that range."""
    term = (term or "").strip()[:100]
    if not term:
        return query
    hi = term + "\uffff"
    by_number = (ArchiveFile.number >= term) & (ArchiveFile.number < hi)
    by_title = (ArchiveFile.title >= term) & (ArchiveFile.title < hi)
    return query.where((by_number | by_title)
                       & (ArchiveFile.number.startswith(term) | ArchiveFile.title.startswith(term)))


def search(term: str, query=None):
    return prefix_filter(query if query is not None else ArchiveFile.select(), term).order_by(ArchiveFile.number)


def overdue(query=None):
    q = query if query is not None else ArchiveFile.select()
    return q.where((ArchiveFile.status == "draft") & ArchiveFile.due_at.is_null(False) & (ArchiveFile.due_at < now()))


# ----------------------------------------------------------------------------------- PDFs
def _period(f: ArchiveFile) -> str:
    a = f.date_from.strftime("%Y年%m月%d日") if f.date_from else ""
    b = f.date_to.strftime("%Y年%m月%d日") if f.date_to else ""
    return f"{a} 至 {b}" if a and b and a != b else (a or b)


def cover_pdf(f: ArchiveFile) -> bytes:
    """案卷封面: the file's number in its three parts, title, dates, retention, unit, responsible person."""
    from plugins.documents.services import Cell, form_pdf
    docs = Document.select().where(Document.file == f)
    L = lambda t: Cell(t, label=True)            # noqa: E731
    grid = [
        [L("全宗号"), Cell(f.fonds_no), L("目录号"), Cell(f.catalogue_no), L("案卷号"), Cell(f"{f.seq:04d}")],
        [L("档号"), Cell(f.number, span=5)],
        [L("案卷题名"), Cell(f.title, span=5, min_height=30)],
        [L("档案类别"), Cell(f.kind.name, span=2), L("立卷单位"), Cell(f.team.name, span=2)],
        [L("起止日期"), Cell(_period(f), span=5)],
        [L("保管期限"), Cell(RETENTION_LABELS.get(f.retention, f.retention), span=2),
         L("销毁日期"), Cell(f.disposal_date.strftime("%Y年%m月%d日") if f.disposal_date else "—", span=2)],
        [L("责任人"), Cell(_responsible(f), span=2), L("件数/页数"), Cell(f"{docs.count()}", span=2)],
        [L("状态"), Cell("已归档" if f.status == "closed" else "整理中", span=5)],
    ]
    return form_pdf("案卷封面", grid, columns=[1.2, 1.4, 1.2, 1.4, 1.2, 1.4])


def _responsible(f: ArchiveFile) -> str:
    u = f.responsible
    return (getattr(u, "display_name", "") or u.username) if u else ""


def contents_pdf(f: ArchiveFile) -> bytes:
    """卷内目录: every document by 页号 with its title, date, size and the start of its SHA-256."""
    from plugins.documents.services import Column, table_pdf
    cols = [Column("页号", 0.6, align="CENTER"), Column("文件题名", 3), Column("文件名", 2.2),
            Column("日期", 1.1, align="CENTER"), Column("大小（字节）", 1, align="RIGHT"), Column("SHA-256", 1.6)]
    rows = [[str(d.page), d.title, d.filename, d.created_at.strftime("%Y-%m-%d") if d.created_at else "",
             str(d.size), d.sha256[:16]]
            for d in Document.select().where(Document.file == f).order_by(Document.page)]
    return table_pdf("卷内目录", cols, rows, fields=[("档号", f.number), ("案卷题名", f.title)])


# ----------------------------------------------------------------------------------- integrity
def verify(limit_names: int = 20) -> tuple[bool, str]:
    """Every stored document read back and hashed: those whose bytes changed or went missing, named."""
    changed, missing, n = [], [], 0
    for d in Document.select(Document, ArchiveFile).join(ArchiveFile).order_by(Document.id).iterator():
        n += 1
        try:
            data = read(d)
        except Exception:                      # noqa: BLE001 (an unreachable bucket is a missing document)
            data = None
        name = f"{d.file.number} 页{d.page} {d.filename}"
        if data is None:
            missing.append(name)
        elif storage.sha256(data) != d.sha256:
            changed.append(name)
    if not changed and not missing:
        return True, f"{n} documents match their SHA-256"
    parts = []
    if changed:
        parts.append("changed: " + "; ".join(changed[:limit_names]))
    if missing:
        parts.append("missing: " + "; ".join(missing[:limit_names]))
    return False, " | ".join(parts)
