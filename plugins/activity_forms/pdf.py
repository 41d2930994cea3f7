"""A paper form with photos in it (附录五 活动图片, 附录七 培训图片).

``plugins.documents.services.form_pdf`` lays out text cells only; this is the same kind of grid (the
documents plugin's ``Cell``: spans, labels, room for handwriting) where a cell may also hold
``Photos``. The font is the documents plugin's embedded CJK TrueType font; every text is XML-escaped
before reportlab's paragraph markup sees it (a name like ``<img src=…>`` prints as text). Long text is
cut into rows of at most ``CHUNK`` characters so that no row is taller than a page.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Sequence
from xml.sax.saxutils import escape as _xml_escape

from plugins.documents.services import Cell, font_name, numbered_canvas

CHUNK = 700
MM = 2.834645669


@dataclass
class Photos:
    """Images for one cell: (JPEG bytes, width px, height px, caption)."""
    images: list = field(default_factory=list)


def markup(text) -> str:
    return (_xml_escape("" if text is None else str(text)).replace("\n", "<br/>")
            .replace("\u3000", "&nbsp;&nbsp;&nbsp;&nbsp;"))


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut after a line or a sentence when possible."""
    text = (text or "").strip()
    if len(text) <= size:
        return [text]
    out, rest = [], text
    while len(rest) > size:
        head = rest[:size]
        cut = max(head.rfind("\n"), *(head.rfind(p) for p in "。！？；、.!?;,"))
        cut = cut + 1 if cut >= size // 2 else size
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out.append(rest)
    return out


def _photo_table(photos: Photos, width: float, style, font: str):
    """Two photos a row, each scaled into half the cell (at most 62 mm high), caption below."""
    from reportlab.platypus import Image, Paragraph, Table, TableStyle
    per_row = 2 if len(photos.images) > 1 else 1
    w_max, h_max = (width - 6) / per_row - 6, 62 * MM
    cells = []
    for data, w, h, caption in photos.images:
        k = min(w_max / w, h_max / h)
        item = [Image(io.BytesIO(data), width=w * k, height=h * k)]
        if caption:
            item.append(Paragraph(markup(caption), style))
        cells.append(item)
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    if len(rows[-1]) < per_row:
        rows[-1] = rows[-1] + [""] * (per_row - len(rows[-1]))
    t = Table(rows, colWidths=[(width - 2) / per_row] * per_row)
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    return t


def split_long(grid: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """Rows of one label and one long text become several rows (the label on the first, （续） after)."""
    out = []
    for row in grid:
        if len(row) == 2 and row[0].label and isinstance(row[1].text, str) and len(row[1].text) > CHUNK:
            parts = chunks(row[1].text)
            for i, part in enumerate(parts):
                label = Cell(row[0].text if i == 0 else f"{row[0].text}（续）", span=row[0].span, label=True)
                last = i == len(parts) - 1
                out.append([label, Cell(part, span=row[1].span, min_height=row[1].min_height if last else 0)])
        else:
            out.append(list(row))
    return out


def grid_pdf(title: str, grid: Sequence[Sequence[Cell]], *, columns: Sequence[float],
             signatures: Sequence[tuple[str, object]] = (), font_size: float = 10.5) -> bytes:
    """An A4 portrait form: the title, a bordered grid (label cells shaded and centred, spans, minimum
    heights for handwriting, ``Photos`` cells), signature lines, page numbers."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    font = font_name()

    def style(name, size=font_size, center=False, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.4, wordWrap="CJK",
                              alignment=TA_CENTER if center else TA_LEFT, **kw)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author="", creator="timebank", subject=title,
                            initialFontName=font, leftMargin=15 * MM, rightMargin=15 * MM,
                            topMargin=15 * MM, bottomMargin=18 * MM)
    weights = list(columns)
    n = len(weights)
    col_widths = [doc.width * w / sum(weights) for w in weights]
    grid = split_long(grid)
    taken: set[tuple[int, int]] = set()
    data, ts = [], [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5), ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    body = style("body")
    label_style = style("label", center=True)
    caption = style("caption", 9, center=True)
    for r, row in enumerate(grid):
        line: list = [""] * n
        c = 0
        for k, cell in enumerate(row):
            while (r, c) in taken:
                c += 1
            span = min(cell.span, n - c)
            if k == len(row) - 1 and not any((r, x) in taken for x in range(c + span, n)):
                span = n - c
            w = sum(col_widths[c:c + span]) - 8
            if isinstance(cell.text, Photos):
                flow = [_photo_table(cell.text, w, caption, font)] if cell.text.images else []
            else:
                st = label_style if cell.label and not cell.align else (
                    style(f"a{r}_{c}", center=True) if cell.align == "CENTER" else body)
                flow = [Paragraph(markup(cell.text), st)]
            if cell.min_height:
                used = sum(f.wrap(w, 10 ** 6)[1] for f in flow)
                if cell.min_height * MM > used:
                    flow.append(Spacer(1, cell.min_height * MM - used))
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
    story = [Paragraph(markup(title), style("title", 18, center=True, spaceAfter=8)), Spacer(1, 4), table]
    if signatures:
        cells = [Paragraph(markup(f"{k}：{v or '＿＿＿＿＿＿＿＿'}"), body) for k, v in signatures]
        sig = Table([cells], colWidths=[doc.width / len(cells)] * len(cells))
        sig.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story += [Spacer(1, 8 * MM), sig]
    doc.build(story, canvasmaker=numbered_canvas(font))
    return buf.getvalue()
