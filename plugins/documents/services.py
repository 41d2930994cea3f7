"""Public API of the documents plugin: printable PDFs with an embedded Chinese font, XLSX workbooks,
and the HTTP response that carries them. Rosters, sign-in sheets and certificates build on it.

PDFs embed a subset of a TrueType CJK font (reportlab ``TTFont``; never a CID font such as STSong-Light,
which is not embedded and prints empty boxes where the reader lacks a Chinese font). The font is, in
order: the ``PDF_FONT_PATH`` setting, Debian's packaged fonts (fonts-wqy-microhei first), fontconfig.
A candidate counts only when reportlab can load it (OpenType/CFF fonts are refused) and it has the
Chinese glyphs we print. With none, :class:`DocumentError` says how to fix it; nothing is produced.

Every cell of a workbook or CSV goes through ``core.exports`` (its one escaping function; SECURITY.md IV8,
NS6): text that a spreadsheet would read as a formula gets a leading ', stored as a string; every
text of a PDF is XML-escaped before reportlab's paragraph markup sees it (no markup injection).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape as _xml_escape

from flask import Response, current_app, has_app_context
from flask_babel import lazy_gettext as _l

from core import exports

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install fonts-wqy-microhei"
CONFIG_KEY = "pdf_font_path"

# Debian/Ubuntu packages with TrueType (not CFF) outlines reportlab can embed, best first.
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",              # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",                # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",                  # fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic/ukai.ttc",                   # fonts-arphic-ukai
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",   # fonts-droid-fallback
]
# a font "has Chinese" when it maps these (common handbook characters, full-width punctuation)
PROBE = "党员志愿者花名册登记表填报单位签字年月日（）：，。"

MIMETYPES = {
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class DocumentError(Exception):
    """A document cannot be produced. ``str(e)`` is a message for the user, in their language,
    that names the fix."""

    def __init__(self, message, *, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self):
        return str(self.message)


def no_font_error(configured: str = "") -> DocumentError:
    msg = _l("PDF documents need a Chinese TrueType font and none was found, so nothing was produced "
             "(a PDF without one prints empty boxes). Fix: %(install)s on the server, or set %(key)s in "
             "the instance config.toml to a .ttf/.ttc font with Chinese characters.",
             install=INSTALL_HINT, key=CONFIG_KEY)
    return DocumentError(msg, detail=f"configured {CONFIG_KEY}={configured!r}" if configured else "")


# ----------------------------------------------------------------------------------- fonts
_loaded: dict[str, str | None] = {}   # font file -> registered reportlab name (None: unusable)
_lock = threading.Lock()


def _load(path: str) -> str | None:
    """Register ``path`` with reportlab (TTC: first face) and return its font name, or None when the
    file is missing, not loadable as TrueType (e.g. CFF outlines) or lacks Chinese glyphs."""
    path = os.path.realpath(path)
    with _lock:
        if path in _loaded:
            return _loaded[path]
        name = None
        if os.path.isfile(path):
            try:
                from reportlab.pdfbase import pdfmetrics
                from reportlab.pdfbase.ttfonts import TTFont
                st = os.stat(path)
                tag = hashlib.sha1(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:8]
                font = TTFont(f"TBCJK-{tag}", path, subfontIndex=0)
                cmap = font.face.charToGlyph
                if all(ord(ch) in cmap for ch in PROBE):
                    pdfmetrics.registerFont(font)
                    name = font.fontName
                else:
                    log.info("font %s has no Chinese glyphs; skipped", path)
            except Exception as e:  # noqa: BLE001 - reportlab raises TTFError, struct errors, …
                log.info("font %s cannot be embedded: %s", path, e)
        _loaded[path] = name
        return name


def _fontconfig_candidates() -> list[str]:
    """Files fontconfig offers for Chinese: the best match first, then every font covering zh."""
    out: list[str] = []
    if not shutil.which("fc-match"):
        return out
    for cmd in (["fc-match", "-f", "%{file}", ":lang=zh"], ["fc-list", ":lang=zh", "-f", "%{file}\n"]):
        if not shutil.which(cmd[0]):
            continue
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        out += [line.strip() for line in r.stdout.splitlines() if line.strip()]
    # TrueType collections and fonts first; .otf last (reportlab refuses CFF outlines)
    return sorted(dict.fromkeys(out), key=lambda p: p.lower().endswith(".otf"))


def configured_font_path() -> str:
    if has_app_context():
        return str(current_app.config.get("PDF_FONT_PATH") or "")
    return ""


def find_font() -> tuple[str, str]:
    """(reportlab font name, file) of the CJK font to embed; raises DocumentError when there is none."""
    configured = configured_font_path()
    if configured:
        name = _load(configured)
        if name:
            return name, os.path.realpath(configured)
        log.warning("%s=%r is missing or has no Chinese glyphs; looking for another font",
                    CONFIG_KEY, configured)
    # the packaged paths first; fontconfig (two subprocesses, ~40 ms) only when none of them loads
    for path in FONT_CANDIDATES:
        name = _load(path)
        if name:
            return name, os.path.realpath(path)
    for path in _fontconfig_candidates():
        name = _load(path)
        if name:
            return name, os.path.realpath(path)
    raise no_font_error(configured)


def font_name() -> str:
    return find_font()[0]


def font_status() -> tuple[bool, str]:
    """(ok, message) for ``timebank check``."""
    try:
        return True, find_font()[1]
    except DocumentError as e:
        return False, str(e)


# ----------------------------------------------------------------------------------- building blocks
@dataclass
class Column:
    """A column of a table document: its heading, relative width in a PDF, width in an XLSX
    (characters; estimated from the content when None) and alignment (LEFT, CENTER, RIGHT)."""
    title: str
    weight: float = 1.0
    xlsx_width: float | None = None
    align: str = "LEFT"


@dataclass
class Para:
    """A paragraph inside a form cell, with its own alignment and size."""
    text: str
    align: str = "LEFT"
    size: float | None = None
    space_before: float = 0


@dataclass
class Cell:
    """A cell of a form grid: text (a string with line breaks, or a list of strings/Para), how many
    columns and rows it spans, whether it is a label (centred), and a minimum height in mm (blank room
    for handwriting)."""
    text: object = ""
    span: int = 1
    rowspan: int = 1
    label: bool = False
    min_height: float = 0
    align: str | None = None


def plain(value) -> str:
    return "" if value is None else str(value)


def _markup(text: str) -> str:
    """Text for a reportlab Paragraph: XML-escaped (no markup injection: ``<img src=…>`` in a name stays
    text), line breaks kept, and ideographic spaces (U+3000, the blanks of "　　年　　月　　日")
    kept as four no-break spaces of about the same width instead of collapsing to one."""
    return (_xml_escape(plain(text)).replace("\n", "<br/>")
            .replace("\u3000", "&nbsp;&nbsp;&nbsp;&nbsp;"))


def _styles(font: str, size: float = 10):
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    align = {"LEFT": TA_LEFT, "CENTER": TA_CENTER, "RIGHT": TA_RIGHT}

    def style(name, sz=size, al="LEFT", **kw):
        return ParagraphStyle(name, fontName=font, fontSize=sz, leading=sz * 1.35, alignment=align[al],
                              wordWrap="CJK", **kw)
    return style


def numbered_canvas(font: str, footer_note: str = ""):
    """A reportlab canvasmaker that prints 第 n 页，共 N 页 on every page (public: other plugins' layouts
    use it with ``doc.build(story, canvasmaker=numbered_canvas(font))``)."""
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        """Draws 第 n 页，共 N 页 on every page once the page count is known."""

        def __init__(self, *a, **kw):
            kw["initialFontName"] = font   # no stray, unembedded Helvetica in the file
            super().__init__(*a, **kw)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                w, _h = self._pagesize
                self.setFont(font, 9)
                self.drawCentredString(w / 2, 10 * 2.834645669, f"第 {self._pageNumber} 页，共 {total} 页")
                if footer_note:
                    self.drawString(15 * 2.834645669, 10 * 2.834645669, footer_note)
                super().showPage()
            super().save()
    return NumberedCanvas


def _doc(buf, title: str, landscape_: bool):
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate
    size = landscape(A4) if landscape_ else A4
    return SimpleDocTemplate(buf, pagesize=size, title=title, author="", creator="timebank",
                             initialFontName=font_name(),
                             subject=title, leftMargin=15 * mm, rightMargin=15 * mm,
                             topMargin=15 * mm, bottomMargin=18 * mm)


def _fields_table(fields, width, style, font):
    """A borderless line of ``label：value`` pairs (e.g. 填报单位（盖章）：…  填报日期：…)."""
    from reportlab.platypus import Paragraph, Table, TableStyle
    fields = [f for f in fields or []]
    if not fields:
        return None
    cells = []
    for i, (label, value) in enumerate(fields):
        al = "RIGHT" if (i == len(fields) - 1 and len(fields) > 1) else "LEFT"
        v = plain(value) or "＿＿＿＿＿＿＿＿"
        cells.append(Paragraph(_markup(f"{label}：{v}"), style(f"f{i}", al=al)))
    t = Table([cells], colWidths=[width / len(cells)] * len(cells))
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return t


def _title(title: str, style, subtitle: str = ""):
    from reportlab.platypus import Paragraph, Spacer
    out = [Paragraph(_markup(title), style("title", 18, "CENTER", spaceAfter=6))]
    if subtitle:
        out.append(Paragraph(_markup(subtitle), style("subtitle", 10, "CENTER", spaceAfter=4)))
    out.append(Spacer(1, 4))
    return out


def _cell(value, width: float, font: str, size: float, pstyle):
    """A plain string when the text fits on one line (drawn directly: fast, and never markup), else a
    Paragraph that wraps Chinese text inside the cell."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph
    text = plain(value)
    if "\n" not in text and "\u3000" not in text and stringWidth(text, font, size) <= width:
        return text
    return Paragraph(_markup(text), pstyle)


def table_pdf(title: str, columns: Sequence[Column], rows: Iterable[Sequence], *,
              fields: Sequence[tuple[str, object]] = (), signatures: Sequence[tuple[str, object]] = (),
              landscape: bool = True, subtitle: str = "", font_size: float = 10,
              empty_text: str = "（无记录）") -> bytes:
    """An A4 table document: title, a line of header fields, a bordered grid whose heading repeats on
    every page and whose Chinese text wraps inside its cells, signature lines, page numbers.

    Rows are laid out page by page here (one table per page) rather than by reportlab splitting one
    long table, whose cost grows with the square of the rows (5,000 rows: 35 s before, ~3 s now)."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle
    font = font_name()
    style = _styles(font, font_size)
    buf = io.BytesIO()
    doc = _doc(buf, title, landscape)
    width = doc.width
    total_w = sum(c.weight for c in columns)
    col_widths = [width * c.weight / total_w for c in columns]
    pad_h, pad_top, pad_bottom = 6, 3, 4
    head = [Paragraph(_markup(c.title), style(f"h{i}", al="CENTER")) for i, c in enumerate(columns)]
    cell_styles = [style(f"c{i}", al=c.align) for i, c in enumerate(columns)]
    body = [[_cell(v, col_widths[i] - 2 * pad_h, font, font_size, cell_styles[i]) for i, v in enumerate(row)]
            for row in rows]
    ts = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
          ("FONTSIZE", (0, 0), (-1, -1), font_size), ("LEADING", (0, 0), (-1, -1), font_size * 1.35),
          ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
          ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
          ("LEFTPADDING", (0, 0), (-1, -1), pad_h), ("RIGHTPADDING", (0, 0), (-1, -1), pad_h),
          ("TOPPADDING", (0, 0), (-1, -1), pad_top), ("BOTTOMPADDING", (0, 0), (-1, -1), pad_bottom)]
    ts += [("ALIGN", (i, 1), (i, -1), c.align) for i, c in enumerate(columns)]
    if not body:
        body = [[Paragraph(_markup(empty_text), style("empty", al="CENTER"))] + [""] * (len(columns) - 1)]
        ts.append(("SPAN", (0, 1), (-1, 1)))
    before = _title(title, style, subtitle)
    ft = _fields_table(fields, width, style, font)
    if ft is not None:
        before += [ft, Spacer(1, 3 * mm)]
    # heights: every row measured once; then as many rows a page as fit under the repeated heading
    frame_h = doc.height - 12   # the frame's own padding
    measure = Table([head] + body, colWidths=col_widths)
    measure.setStyle(TableStyle(ts))
    measure.wrap(width, 10 ** 9)
    heights = measure._rowHeights
    used_first = sum(f.wrap(width - 12, frame_h)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in before)
    pages, current, room = [], [], (frame_h - used_first) * 0.97 - heights[0]
    for row, h in zip(body, heights[1:]):
        if current and h > room:
            pages.append(current)
            current, room = [], frame_h * 0.97 - heights[0]
        current.append(row)
        room -= h
    pages.append(current)
    story = list(before)
    for k, chunk in enumerate(pages):
        table = Table([head] + chunk, colWidths=col_widths, repeatRows=1)
        table.setStyle(TableStyle(ts))
        story.append(table)
        if k < len(pages) - 1:
            story.append(PageBreak())
    st = _fields_table(signatures, width, style, font)
    if st is not None:
        story += [Spacer(1, 8 * mm), st]
    doc.build(story, canvasmaker=numbered_canvas(font))
    return buf.getvalue()


def form_pdf(title: str, grid: Sequence[Sequence[Cell]], *, columns: int | Sequence[float],
             fields: Sequence[tuple[str, object]] = (), signatures: Sequence[tuple[str, object]] = (),
             subtitle: str = "", font_size: float = 10.5, landscape: bool = False) -> bytes:
    """An A4 form: title, header fields, a bordered grid of label and value cells (with column and row
    spans, the way paper forms such as 附录一 are laid out), signature lines, page numbers.

    ``columns`` is the number of grid columns or their relative widths; each row of ``grid`` fills
    the columns left to right, skipping places taken by a row span from above."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
    font = font_name()
    style = _styles(font, font_size)
    buf = io.BytesIO()
    doc = _doc(buf, title, landscape)
    weights = [1.0] * columns if isinstance(columns, int) else list(columns)
    n = len(weights)
    col_widths = [doc.width * w / sum(weights) for w in weights]
    taken: set[tuple[int, int]] = set()
    data: list[list] = []
    ts = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
          ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
          ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
          ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    for r, row in enumerate(grid):
        line: list = [""] * n
        c = 0
        for k, cell in enumerate(row):
            while (r, c) in taken:
                c += 1
            if c >= n:
                raise ValueError(f"form row {r} has more cells than columns")
            span = min(cell.span, n - c)
            if k == len(row) - 1 and not any((r, x) in taken for x in range(c + span, n)):
                span = n - c   # the last cell of a row stretches to the right edge
            al = cell.align or ("CENTER" if cell.label else "LEFT")
            items = cell.text if isinstance(cell.text, list) else [cell.text]
            flow = []
            for i, it in enumerate(items):
                p = it if isinstance(it, Para) else Para(plain(it), al)
                flow.append(Paragraph(_markup(p.text), style(f"p{r}_{c}_{i}", p.size or font_size, p.align,
                                                             spaceBefore=p.space_before)))
            if cell.min_height:
                w = sum(col_widths[c:c + span]) - 8
                used = sum(f.wrap(w, 10000)[1] + f.style.spaceBefore for f in flow)
                if cell.min_height * mm > used:
                    flow.insert(len(flow) - 1 if len(flow) > 1 else 1, Spacer(1, cell.min_height * mm - used))
            line[c] = flow
            if span > 1 or cell.rowspan > 1:
                ts.append(("SPAN", (c, r), (c + span - 1, r + cell.rowspan - 1)))
            if cell.label:
                ts.append(("BACKGROUND", (c, r), (c + span - 1, r + cell.rowspan - 1), colors.HexColor("#f4f4f4")))
            for dr in range(cell.rowspan):
                for dc in range(span):
                    taken.add((r + dr, c + dc))
            c += span
        data.append(line)
    table = Table(data, colWidths=col_widths)
    table.setStyle(TableStyle(ts))
    story = _title(title, style, subtitle)
    ft = _fields_table(fields, doc.width, style, font)
    if ft is not None:
        story += [ft, Spacer(1, 3 * mm)]
    story.append(table)
    st = _fields_table(signatures, doc.width, style, font)
    if st is not None:
        story += [Spacer(1, 8 * mm), st]
    doc.build(story, canvasmaker=numbered_canvas(font))
    return buf.getvalue()


# ----------------------------------------------------------------------------------- workbooks
def _display_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def table_xlsx(title: str, columns: Sequence[Column], rows: Iterable[Sequence], *,
               fields: Sequence[tuple[str, object]] = (), signatures: Sequence[tuple[str, object]] = (),
               sheet_title: str = "", landscape: bool = True) -> bytes:
    """A workbook of one sheet laid out like the paper form: a merged title row, a line of header
    fields, the heading row (frozen and repeated when printed), bordered rows, signature lines.
    Every cell is formula-escaped (IV8); numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    wb = Workbook()
    ws = wb.active
    ws.title = (sheet_title or title)[:31].translate({ord(c): "_" for c in "[]:*?/\\"}) or "Sheet1"
    n = len(columns)
    last = get_column_letter(n)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")

    def put(row, col, value, **style):
        return exports.xlsx_put(ws, row, col, value, **style)   # escaped, text never a formula (IV8)

    r = 1
    put(r, 1, title, font=Font(size=16, bold=True), alignment=Alignment(horizontal="center", vertical="center"))
    ws.merge_cells(f"A{r}:{last}{r}")
    ws.row_dimensions[r].height = 30
    if fields:
        r += 1
        put(r, 1, "    ".join(f"{k}：{plain(v)}" for k, v in fields), alignment=Alignment(vertical="center"))
        ws.merge_cells(f"A{r}:{last}{r}")
    r += 1
    head_row = r
    for i, c in enumerate(columns, 1):
        put(r, i, c.title, font=Font(bold=True), border=box,
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
            fill=PatternFill("solid", fgColor="EEEEEE"))
    widths = [_display_width(c.title) + 2 for c in columns]
    # one named style per alignment: assigning a shared style by name is ~3x faster than setting
    # border and alignment on every cell (openpyxl hashes each style object it is given)
    from openpyxl.styles import NamedStyle
    body_style = {}
    for c in columns:
        name = f"tb_cell_{c.align.lower()}"
        if name not in wb.named_styles:
            wb.add_named_style(NamedStyle(name, border=box, alignment=Alignment(
                horizontal=c.align.lower().replace("left", "general"), vertical="center", wrap_text=True)))
        body_style[c.title] = name
    styles = [body_style[c.title] for c in columns]
    for row in rows:
        r += 1
        for i, v in enumerate(row, 1):
            exports.xlsx_put(ws, r, i, v, style=styles[i - 1])   # escaped, text never a formula (IV8)
            if v is not None:
                widths[i - 1] = max(widths[i - 1], min(_display_width(plain(v)) + 2, 50))
    if signatures:
        r += 2
        per = max(1, n // len(signatures))
        for k, (label, value) in enumerate(signatures):
            col = 1 + k * per
            put(r, col, f"{label}：{plain(value)}", alignment=wrap)
            if per > 1:
                ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=min(n, col + per - 1))
    for i, c in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = c.xlsx_width or widths[i - 1]
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.properties.title = title
    wb.properties.creator = "timebank"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------------- responses
def content_disposition(filename: str, *, inline: bool = False, fallback: str = "") -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 / RFC 5987): a Chinese name for
    every browser, an ASCII ``fallback`` (derived from the name when not given) for the old ones."""
    stem, dot, ext = filename.rpartition(".")
    if not fallback:
        ascii_stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
                             for ch in (stem if dot else filename))
        ascii_stem = "_".join(x for x in ascii_stem.split("_") if x) or "document"
        fallback = f"{ascii_stem}.{ext}" if dot else ascii_stem
    fallback = "".join(ch for ch in fallback if ch.isascii() and ch not in '"\\\r\n;') or "document"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send(data: bytes, filename: str, *, inline: bool = False, fallback: str = "") -> Response:
    """The HTTP response for a generated document: its Content-Type, a Chinese file name and
    ``Cache-Control: no-store`` (documents carry personal data; AC10)."""
    ext = Path(filename).suffix.lower()
    resp = Response(data, mimetype=MIMETYPES.get(ext, "application/octet-stream"))
    resp.headers["Content-Disposition"] = content_disposition(filename, inline=inline, fallback=fallback)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def table_download(title: str, headers: Sequence[str], rows: Iterable[Sequence], stem: str, fmt: str, *,
                   fields: Sequence[tuple[str, object]] = ()) -> Response:
    """A simple table as a download: ``csv`` (UTF-8 with BOM so Excel reads the Chinese, one
    label/value line per header field, formula-escaped cells, IV8) or ``xlsx`` (``table_xlsx``).
    Raises DocumentError for another format."""
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = exports.csv_writer(buf)   # every cell escaped, field values and headers included (IV8, NS6)
        for label, value in fields:
            w.writerow([label, value])
        w.writerow(headers)
        w.writerows(rows)
        return send(buf.getvalue().encode("utf-8"), f"{stem}.csv")
    if fmt == "xlsx":
        return send(table_xlsx(title, [Column(str(h)) for h in headers], rows, fields=fields), f"{stem}.xlsx")
    raise DocumentError(f"unknown table format {fmt!r}")


__all__ = ["table_download", "DocumentError", "Column", "Cell", "Para", "find_font", "font_name", "font_status",
           "table_pdf", "form_pdf", "table_xlsx", "send", "content_disposition", "FONT_CANDIDATES",
           "INSTALL_HINT"]
