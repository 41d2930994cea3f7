"""The documents plugin's public API (plugins.documents.services): the embedded CJK font, A4 table and
form PDFs, XLSX workbooks with formula escaping (SECURITY.md IV8), download responses (AC10), and the
clear error when no usable font exists."""
from __future__ import annotations

import io
import re
import shutil

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
needs_wqy = pytest.mark.skipif(not __import__("os").path.exists(WQY),
                               reason="fonts-wqy-microhei is not installed (apt-get install fonts-wqy-microhei)")


@pytest.fixture
def docs_app(make_app):
    return make_app(plugins=["documents"], DEFAULT_LOCALE="en")


@pytest.fixture
def D():
    from plugins.documents import services
    return services


@pytest.fixture
def no_fallback(D, monkeypatch):
    """Make the built-in lookups find nothing usable (a missing file, a font without Chinese)."""
    monkeypatch.setattr(D, "FONT_CANDIDATES", ["/nonexistent/wqy-microhei.ttc", DEJAVU])
    monkeypatch.setattr(D, "_fontconfig_candidates", lambda: [])


def pdf_pages(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def page_fonts(data: bytes):
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            desc = font.get("/FontDescriptor")
            yield str(font["/BaseFont"]), font["/Subtype"], "/FontFile2" in (desc.get_object() if desc else {})


COLUMNS_SPEC = [("序号", 0.5, "CENTER"), ("志愿队伍名称", 3, "LEFT"), ("服务方向", 2, "LEFT")]


def columns(D):
    return [D.Column(t, w, align=a) for t, w, a in COLUMNS_SPEC]


# ------------------------------------------------------------------ the font
@needs_wqy
def test_finds_debian_font_and_embeds_a_truetype_subset(docs_app, D):
    with docs_app.app_context():
        name, path = D.find_font()
        assert path == WQY
        data = D.table_pdf("测试花名册", columns(D), [[1, "越秀区北京街党员志愿服务队", "扶贫助困"]])
    fonts = list(page_fonts(data))
    assert fonts, "no font resources"
    # every font on the page is a TrueType subset with its program inside the file (not STSong-Light,
    # not an unembedded Helvetica): it prints the same on a machine without Chinese fonts
    for base, subtype, embedded in fonts:
        assert subtype == "/TrueType" and embedded and re.match(r"/[A-Z]{6}\+", base), fonts
    assert "越秀区北京街党员志愿服务队" in pdf_pages(data)[0]


@needs_wqy
def test_configured_font_path_wins(make_app, D, tmp_path):
    mine = tmp_path / "mine.ttc"
    shutil.copy(WQY, mine)
    app = make_app(plugins=["documents"], PDF_FONT_PATH=str(mine))
    with app.app_context():
        assert D.find_font()[1] == str(mine.resolve())


@needs_wqy
def test_a_font_without_chinese_glyphs_is_never_used(make_app, D, monkeypatch):
    """fontconfig happily answers :lang=zh with DejaVu when no CJK font is installed; using it would
    print empty boxes. Such a font is skipped, the configured one included."""
    app = make_app(plugins=["documents"], PDF_FONT_PATH=DEJAVU)
    with app.app_context():
        assert D.find_font()[1] == WQY
        monkeypatch.setattr(D, "FONT_CANDIDATES", [])
        monkeypatch.setattr(D, "_fontconfig_candidates", lambda: [DEJAVU])
        with pytest.raises(D.DocumentError):
            D.find_font()


def test_no_font_raises_a_clear_error(make_app, D, no_fallback):
    app = make_app(plugins=["documents"], PDF_FONT_PATH="/nonexistent/font.ttf", DEFAULT_LOCALE="en")
    with app.test_request_context():
        with pytest.raises(D.DocumentError) as e:
            D.table_pdf("花名册", columns(D), [])
        msg = str(e.value)
        assert "apt-get install fonts-wqy-microhei" in msg and "pdf_font_path" in msg
        # workbooks need no font
        assert D.table_xlsx("花名册", columns(D), [[1, "x", "y"]])[:2] == b"PK"
        # timebank check names the problem too
        from core.backup import run_checks
        checks = {n: (ok, m) for n, ok, m in run_checks(app)}
        assert checks["documents.cjk_font"][0] is False
        assert "fonts-wqy-microhei" in checks["documents.cjk_font"][1]


@needs_wqy
def test_timebank_check_reports_the_font(docs_app):
    from core.backup import run_checks
    with docs_app.app_context():
        checks = {n: (ok, m) for n, ok, m in run_checks(docs_app)}
    assert checks["documents.cjk_font"] == (True, WQY)


def test_document_error_page_is_a_503_not_a_500(docs_app, D, no_fallback):
    """A DocumentError raised by any view becomes a page naming the fix (the error handler of the
    documents plugin), with the site's layout, status 503."""
    def boom():
        return D.send(D.table_pdf("花名册", columns(D), []), "花名册.pdf")
    docs_app.add_url_rule("/_test_pdf", "test_pdf", boom)
    r = docs_app.test_client().get("/_test_pdf", headers={"Referer": "http://localhost/notices/"})
    assert r.status_code == 503
    html = r.get_data(as_text=True)
    assert "apt-get install fonts-wqy-microhei" in html and "The document could not be produced" in html
    assert 'href="/notices/"' in html                    # back to where the user came from
    r = docs_app.test_client().get("/_test_pdf", headers={"Referer": "http://evil.example/x"})
    assert "evil.example" not in r.get_data(as_text=True)


# ------------------------------------------------------------------ PDFs
@needs_wqy
def test_table_pdf_pages_heading_wrapping_and_numbers(docs_app, D):
    long = "越秀区北京街党员志愿服务队第{}分队（负责社区环境整治、长者探访与政策宣传等多项长期志愿服务工作）"
    rows = [[i, long.format(i), "扶贫助困、洁净家园、守护平安"] for i in range(1, 121)]
    with docs_app.app_context():
        data = D.table_pdf("单位（社区）登记注册党员志愿队伍花名册", columns(D), rows,
                           fields=[("填报单位（盖章）", "北京街道"), ("填报日期", "2024年5月1日")],
                           signatures=[("填报人", "李四"), ("负责人签字", ""), ("日期", "　　年　　月　　日")])
    pages = pdf_pages(data)
    n = len(pages)
    assert n >= 3
    for i, text in enumerate(pages, 1):
        assert f"第 {i} 页，共 {n} 页" in text
        assert "志愿队伍名称" in text                 # the heading repeats on every page
    flat = re.sub(r"\s+", "", "".join(pages))
    assert long.format(120) in flat                    # wrapped, nothing cut off
    assert "单位（社区）登记注册党员志愿队伍花名册" in pages[0] and "填报单位（盖章）：北京街道" in pages[0]
    assert "负责人签字" in pages[-1] and "填报人：李四" in pages[-1]


@needs_wqy
def test_pdf_text_is_never_markup(docs_app, D):
    """Reportlab paragraphs understand tags such as <img src=…> (which reads local files): user text
    is escaped, so it prints literally."""
    evil = "<img src=\"/etc/passwd\"/> & <b>粗体</b>"
    with docs_app.app_context():
        data = D.table_pdf("标题", columns(D), [[1, evil, "x"]])
        form = D.form_pdf("表", [[D.Cell("姓名", label=True), D.Cell(evil)]], columns=2)
    assert evil in pdf_pages(data)[0]
    assert evil in pdf_pages(form)[0]


@needs_wqy
def test_form_pdf_spans_and_blank_room(docs_app, D):
    grid = [[D.Cell("姓名", label=True), D.Cell("张三"), D.Cell("性别", label=True), D.Cell("男")],
            [D.Cell("联系方式", label=True, rowspan=2), D.Cell("电话", label=True), D.Cell("138****5678")],
            [D.Cell("邮编", label=True), D.Cell("510000")],
            [D.Cell("承诺", label=True), D.Cell([D.Para("我承诺……"), D.Para("签字：＿＿＿", "RIGHT")],
                                               min_height=60)]]
    with docs_app.app_context():
        data = D.form_pdf("党员志愿者注册登记表", grid, columns=4, fields=[("编号", "GZ1")])
        text = pdf_pages(data)[0]
        for s in ("党员志愿者注册登记表", "联系方式", "138****5678", "510000", "签字：", "编号：GZ1"):
            assert s in text
        with pytest.raises(ValueError):
            D.form_pdf("x", [[D.Cell("a"), D.Cell("b"), D.Cell("c")]], columns=2)


# ------------------------------------------------------------------ workbooks
def test_xlsx_escapes_every_cell_iv8(docs_app, D):
    """IV8: every text cell that starts with = + - @ tab or CR gets a leading ', titles and footers
    included; numbers stay numbers; nothing is stored as a formula."""
    bad = ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=x", "\r=x"]
    with docs_app.app_context():
        data = D.table_xlsx("=标题", columns(D), [[i, b, b] for i, b in enumerate(bad, 1)] + [[-5, "正常", None]],
                            fields=[("填报单位", "=cmd|' /C calc'!A0")], signatures=[("填报人", "@me")])
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for c in cells:
        if isinstance(c.value, str):
            assert not c.value.startswith(("=", "+", "-", "@", "\t", "\r")), c.coordinate
    values = [row for row in ws.iter_rows(values_only=True)]
    assert values[0][0] == "'=标题"
    assert values[1][0].startswith("填报单位：") and "'" not in values[1][0][:6]
    head = values.index(("序号", "志愿队伍名称", "服务方向"))
    body = values[head + 1:head + 1 + len(bad) + 1]
    # (XML stores a CR as a line feed: compare after the same normalisation)
    assert [r[1] for r in body[:-1]] == ["'" + b.replace("\r", "\n") for b in bad]
    assert body[-1][0] == -5 and isinstance(body[-1][0], int)
    assert any(v == "填报人：@me" for row in values for v in row)
    # laid out for printing: title merged, heading frozen and repeated, A4
    assert "A1:C1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.freeze_panes == f"A{head + 2}"
    assert ws.print_title_rows.replace("$", "") == f"{head + 1}:{head + 1}"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)


# ------------------------------------------------------------------ responses
def test_send_sets_type_chinese_filename_and_no_store(docs_app, D):
    with docs_app.test_request_context():
        r = D.send(b"PK..", "党员志愿者花名册_20240501.xlsx", fallback="volunteer-roster.xlsx")
        assert r.headers["Content-Type"] == \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        cd = r.headers["Content-Disposition"]
        assert cd.startswith('attachment; filename="volunteer-roster.xlsx"; ')
        assert ("filename*=UTF-8''%E5%85%9A%E5%91%98%E5%BF%97%E6%84%BF%E8%80%85%E8%8A%B1%E5%90%8D%E5%86%8C"
                "_20240501.xlsx") in cd
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        r = D.send(b"%PDF", "登记表.pdf", inline=True)
        assert r.headers["Content-Type"] == "application/pdf"
        assert r.headers["Content-Disposition"].startswith('inline; filename="document.pdf"')
        # a hostile name cannot break out of the header
        cd = D.content_disposition('a"; b=c\r\nX: y.pdf')
        assert "\r" not in cd and "\n" not in cd and cd.count('"') == 2
