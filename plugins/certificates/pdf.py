"""The certificate laid out as 附录六 党员志愿者个人服务时数记录证明 (R-CERT-3).

A4 portrait: the title and its English line, 编号 (No.), then one grid of six columns — 志愿者信息
(姓名, 志愿编号, 身份证件类型 / 证件号码), 志愿服务时间, the 志愿服务内容 rows (服务日期, 活动名称,
服务内容, 服务组织单位, 服务时数) with their total, 其他需要说明的事项 (attachments yes/no, the purpose),
盖章 with the issuing unit's name, 志愿服务证明专用章, the seal image drawn over it and the date — then
经办人, 联系电话 and a QR code with the address of the public verification page.

The font is the documents plugin's embedded CJK TrueType font; every text is XML-escaped before
reportlab's paragraph markup sees it. The record rows repeat their heading on every page when a
certificate runs over one page. A revoked certificate prints with 已作废 across every page.
"""
from __future__ import annotations

import io
from xml.sax.saxutils import escape as _xml_escape

from plugins.documents.services import font_name, numbered_canvas

MM = 2.834645669
TITLE = "党员志愿者个人服务时数记录证明"
SUBTITLE = "( Certificate of Voluntary Service )"
ID_TYPE_TEXT = {"cn_id": "居民身份证", "hmt_permit": "港澳台居民居住证",
                "hk_macau_pass": "港澳居民来往内地通行证", "tw_pass": "台湾居民来往大陆通行证",
                "passport": "护照", "foreign_permit": "外国人永久居留身份证"}
WIDTHS = [19, 19, 26, 23, 26, 13]       # relative column widths of the grid
CHECKED, UNCHECKED = "■", "□"


def markup(text) -> str:
    return _xml_escape("" if text is None else str(text)).replace("\n", "<br/>")


def cn_date(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def hours_text(minutes: int) -> str:
    h = minutes / 60
    return f"{h:.1f}".rstrip("0").rstrip(".") if h != int(h) else str(int(h))


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of a QR code of ``data`` (error correction M, no border). The mask pattern is fixed
    (any of the eight is valid): letting the pure-Python qrcode library score all eight took ~30 ms, a
    quarter of a certificate's cost, for no gain on a code printed this large."""
    import qrcode
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def _flowables():
    from reportlab.platypus import Flowable

    class QR(Flowable):
        """A QR code drawn as vector squares (sharp at any zoom, decodes from a 150 dpi scan), with the
        four-module quiet zone the standard asks for."""

        def __init__(self, data: str, size: float):
            super().__init__()
            self.matrix = qr_matrix(data)
            self.size = size

        def wrap(self, aw, ah):
            return self.size, self.size

        def draw(self):
            n = len(self.matrix) + 8
            c = self.canv
            c.saveState()
            c.scale(self.size / n, self.size / n)      # one module = one unit: integer coordinates
            c.setFillColorRGB(0, 0, 0)
            path = c.beginPath()
            for y, row in enumerate(self.matrix):
                x = 0
                while x < len(row):                     # one rectangle per horizontal run of dark modules
                    if row[x]:
                        end = x
                        while end < len(row) and row[end]:
                            end += 1
                        path.rect(x + 4, n - y - 5, end - x, 1)
                        x = end
                    else:
                        x += 1
            c.drawPath(path, stroke=0, fill=1)
            c.restoreState()

    class SealBlock(Flowable):
        """The 盖章 cell: the unit's name with 志愿服务证明专用章, the date on the right, and the seal
        image (if any) drawn over the unit's name, as a stamp is pressed on paper."""

        def __init__(self, unit: str, date_text: str, seal: bytes | None, font: str, height: float):
            super().__init__()
            self.unit, self.date_text, self.seal, self.font, self.height = unit, date_text, seal, font, height

        def wrap(self, aw, ah):
            self.width = aw
            return aw, self.height

        def draw(self):
            from reportlab.lib.utils import ImageReader
            from reportlab.pdfbase.pdfmetrics import stringWidth
            c = self.canv
            size = 10.5
            mid = self.width * 0.42
            lines = [self.unit, "志愿服务证明专用章"]
            # shrink the unit's name until it fits its half of the cell
            while size > 6 and max(stringWidth(s, self.font, size) for s in lines) > self.width * 0.62:
                size -= 0.5
            c.setFont(self.font, size)
            y = self.height / 2 + 2
            for i, s in enumerate(lines):
                c.drawCentredString(mid, y - i * size * 1.5, s)
            c.setFont(self.font, 10.5)
            c.drawRightString(self.width - 4, 6, self.date_text)
            if self.seal:
                img = ImageReader(io.BytesIO(self.seal))
                w, h = img.getSize()
                side = self.height * 0.95
                k = side / max(w, h)
                c.drawImage(img, mid - w * k / 2, (self.height - h * k) / 2, w * k, h * k, mask="auto")

    return QR, SealBlock


def build(cert, lines, *, full_id: bool, seal: bytes | None, url: str) -> bytes:
    """The PDF of ``cert`` (a Certificate) with its ``lines`` (CertificateLine rows)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from core.pii import mask_id
    QR, SealBlock = _flowables()
    font = font_name()
    v = cert.volunteer

    def style(name, size=10.5, center=False, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.4, wordWrap="CJK",
                              alignment=TA_CENTER if center else TA_LEFT, **kw)
    body, centre, small = style("body"), style("centre", center=True), style("small", 9.5, center=True)

    def p(text, st=body):
        return Paragraph(markup(text), st)

    buf = io.BytesIO()
    title = f"{TITLE} {cert.number or ''}".strip()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author="", creator="timebank", subject=TITLE,
                            initialFontName=font, leftMargin=18 * MM, rightMargin=18 * MM,
                            topMargin=16 * MM, bottomMargin=18 * MM)
    cw = [doc.width * w / sum(WIDTHS) for w in WIDTHS]
    L = colors.HexColor("#f4f4f4")
    base = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5), ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4), ("FONTSIZE", (0, 0), (-1, -1), 10.5),
            ("LEADING", (0, 0), (-1, -1), 14.7)]

    def q(text, first, last=None, st=body):
        """A cell spanning columns first..last: the plain string when it fits on one line (drawn
        directly, several times faster than a Paragraph), else a Paragraph that wraps."""
        text = "" if text is None else str(text)
        room = sum(cw[first:(last if last is not None else first) + 1]) - 9
        if "\n" not in text and stringWidth(text, font, 10.5) <= room:
            return text
        return p(text, st)
    id_number = v.id_number if full_id else mask_id(v.id_number)
    head = [
        [q("志愿者信息", 0, st=centre), q("姓名", 1, st=centre), q(v.name, 2, 5), "", "", ""],
        ["", q("志愿编号", 1, st=centre), q(v.number, 2, 5), "", "", ""],
        ["", q("身份证件类型", 1, st=centre), q(ID_TYPE_TEXT.get(v.id_type, v.id_type), 2),
         q("证件号码", 3, st=centre), q(id_number, 4, 5), ""],
        [q("志愿服务时间", 0, st=centre), q(f"{cn_date(cert.period_start)} 至 {cn_date(cert.period_end)}", 1, 5),
         "", "", "", ""],
    ]
    head_style = base + [("SPAN", (0, 0), (0, 2)), ("SPAN", (2, 0), (5, 0)), ("SPAN", (2, 1), (5, 1)),
                         ("SPAN", (4, 2), (5, 2)), ("SPAN", (1, 3), (5, 3)),
                         ("BACKGROUND", (0, 0), (1, 2), L), ("BACKGROUND", (3, 2), (3, 2), L),
                         ("BACKGROUND", (0, 3), (0, 3), L), ("ALIGN", (0, 0), (1, 2), "CENTER"),
                         ("ALIGN", (3, 2), (3, 2), "CENTER"), ("ALIGN", (0, 3), (0, 3), "CENTER")]
    rows = [[q(t, i, st=centre) for i, t in enumerate(("志愿服务内容", "服务日期", "活动名称", "服务内容",
                                                        "服务组织单位", "服务时数"))]]
    for ln in lines:
        rows.append(["", q(f"{ln.service_date:%Y-%m-%d}", 1, st=small), q(ln.activity_title, 2),
                     q(ln.content, 3), q(ln.organiser, 4), q(hours_text(ln.minutes), 5, st=centre)])
    rows.append(["", q("合计", 1, 4, st=centre), "", "", "", q(f"{hours_text(cert.total_minutes)} 小时", 5, st=centre)])
    n = len(rows)
    rows_style = base + [("BACKGROUND", (0, 0), (-1, 0), L), ("SPAN", (1, n - 1), (4, n - 1)),
                         ("LINEBELOW", (0, 1), (0, n - 2), 0.6, colors.white),
                         ("BACKGROUND", (0, 1), (0, -1), colors.white), ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                         ("ALIGN", (1, 1), (1, -1), "CENTER"), ("ALIGN", (5, 1), (5, -1), "CENTER")]
    yes, no = (CHECKED, UNCHECKED) if cert.has_attachments else (UNCHECKED, CHECKED)
    unit = cert.team.name
    if cert.team.organisation and cert.team.organisation not in unit:
        unit = f"{cert.team.organisation} {unit}"
    foot = [
        [q("其他需要说明的事项", 0, st=centre),
         [p(f"是否有附件？ 是 {yes}　　否 {no}"), p(f"证明用途：{cert.purpose_text}")], "", "", "", ""],
        [q("盖章：", 0, st=centre), SealBlock(unit, cn_date(cert.issued_on) or "　　年　　月　　日", seal, font, 38 * MM),
         "", "", "", ""],
    ]
    foot_style = base + [("SPAN", (1, 0), (5, 0)), ("SPAN", (1, 1), (5, 1)), ("BACKGROUND", (0, 0), (0, -1), L),
                         ("ALIGN", (0, 0), (0, -1), "CENTER")]

    def table(data, st, repeat=0):
        t = Table(data, colWidths=cw, repeatRows=repeat)
        t.setStyle(TableStyle(st))
        return t

    qr_side = 30 * MM
    sign = Table([[[p(f"经办人：{cert.handler_name or '＿＿＿＿＿＿'}"),
                    p(f"联系电话：{cert.handler_phone or '＿＿＿＿＿＿'}"), Spacer(1, 4 * MM),
                    p(f"证书编号：{cert.number or ''}", style("n", 9)),
                    p("扫描二维码或访问以下网址核验本证明：", style("v", 9)), p(url, style("u", 8))],
                   QR(url, qr_side)]], colWidths=[doc.width - qr_side - 4, qr_side + 4])
    sign.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story = [p(TITLE, style("title", 18, center=True, spaceAfter=2)),
             p(SUBTITLE, style("sub", 10.5, center=True, spaceAfter=6)),
             p(f"编号 (No.)：{cert.number or ''}", style("no", 10.5, spaceAfter=4)),
             table(head, head_style), table(rows, rows_style, repeat=1), table(foot, foot_style),
             Spacer(1, 6 * MM), sign]
    revoked = cert.status == "revoked"

    def on_page(canvas, _doc):
        if revoked:
            canvas.saveState()
            canvas.setFont(font, 72)
            canvas.setFillColorRGB(0.85, 0.1, 0.1, alpha=0.35)
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, "已作废")
            canvas.restoreState()
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=numbered_canvas(font))
    return buf.getvalue()
