"""Money (``core.money``): integer fen in the database, a Decimal of yuan on screen, in forms and in XLSX,
never a float (DESIGN.md "Money"; SECURITY.md NS2, IV5, IV8), on SQLite and PostgreSQL.
issue 13 shapes: "Money" — used by resources (issue 14), giving (issue 15) and incentives (issue 16).
"""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from core.inputs import InputError


@pytest.mark.once
@pytest.mark.parametrize("typed,fen", [("12.30", 1230), ("１２.３", 1230), ("¥12.3", 1230), ("￥12.30", 1230),
                                       ("12.30 元", 1230), (" 0.05 ", 5), ("12", 1200), (".5", 50),
                                       ("RMB 1", 100), ("1000000", 100000000)])
def test_ns2_money_parse_takes_what_people_type(typed, fen):
    """issue 13 shapes point 3: full-width digits, ¥/￥ and 元 are an amount; the result is int fen."""
    from core import money
    got = money.parse(typed)
    assert got == fen and type(got) is int


@pytest.mark.once
@pytest.mark.parametrize("typed", ["12.345", "-1", "1e3", "inf", "nan", "12,30", "¥", "abc", "１２.３４５",
                                   "12.3.4", "²"])
def test_iv5_money_parse_refuses_bad_amounts_with_a_field_error(app, typed):
    """issue 13 shapes point 3: more than two decimals, a negative, an exponent, text: an InputError
    naming the field, in the user's language (zh_CN)."""
    from core import money
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(InputError) as e:
            money.parse(typed, field="amount")
        assert e.value.field == "amount"
        msg = str(e.value.message)
        assert msg and not msg.isascii(), msg     # translated, not the English msgid


@pytest.mark.once
def test_iv5_money_bounds_negatives_and_floats(app):
    """issue 13 shapes point 3: bounds are fen and shown as money; negatives only when allowed; a float
    is a programming error wherever it appears."""
    from core import money
    with app.test_request_context():
        assert money.parse("", default=None) is None
        assert money.parse("-3.5", negative=True) == -350
        with pytest.raises(InputError, match="30.00"):
            money.parse("30.01", max=3000)
        with pytest.raises(InputError, match="1.00"):
            money.parse("0.99", min=100)
        for bad in (12.3, 0.1):
            with pytest.raises(TypeError):
                money.parse(bad)
            with pytest.raises(TypeError):
                money.to_fen(bad)
            with pytest.raises(TypeError):
                money.to_decimal(bad)
        with pytest.raises(ValueError):
            money.to_fen(Decimal("0.001"))
        assert money.to_fen(Decimal("12.30")) == 1230 and money.to_fen("0.1") == 10
        assert money.to_decimal(1230) == Decimal("12.30") and str(money.to_decimal(5)) == "0.05"
        assert (money.fmt(1230), money.fmt(-5), money.fmt(123456789, grouping=True)) == \
            ("¥12.30", "-¥0.05", "¥1,234,567.89")
        assert money.fmt(1230, style="plain") == "12.30"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert money.fmt(1230, style="yuan") == "12.30 元"


def _model():
    import peewee as pw
    from core import money
    from core.db import BaseModel

    class Gift(BaseModel):
        title = pw.CharField(default="")
        amount = money.MoneyField()
        balance = money.MoneyField(negative=True, default=0)

        class Meta:
            table_name = "test_money_gift"
    return Gift


def test_iv5_money_field_stores_fen_exactly_and_refuses_floats(app):
    """issue 13 shapes point 3: BIGINT fen in the database, int fen in Python, exact sums on both
    databases; a float, a Decimal or text is refused before SQL, a negative by the CHECK constraint."""
    import peewee as pw
    from core import money
    from core.db import db, transaction
    Gift = _model()
    with app.app_context():
        db.create_tables([Gift])
        try:
            with transaction():
                for fen in (10, 20, 1, 999999999999):
                    Gift.create(amount=fen)
            total = Gift.select(money.total(Gift.amount)).scalar()
            assert total == 1000000000030 and type(total) is int
            assert Gift.select(money.total(Gift.amount)).where(Gift.id < 0).scalar() == 0
            assert type(Gift.get(Gift.amount == 10).amount) is int
            for bad in (0.1, Decimal("0.10"), "10"):
                with pytest.raises(TypeError):
                    Gift.create(amount=bad)
            with pytest.raises(pw.IntegrityError):
                with transaction():
                    Gift.create(amount=-1)
            with transaction():
                Gift.create(amount=0, balance=-500)     # negative=True: allowed
            assert Gift.select().count() == 5
        finally:
            db.drop_tables([Gift])


def test_iv5_money_in_an_admin_form_shows_yuan_and_keeps_fen(app):
    """issue 13 shapes point 3: the admin form built from the model (core.admin's converter) shows
    ``12.30``, takes ``１２.３``/``¥12.3`` as 1230 fen and refuses ``12.345`` with its own message."""
    from flask_admin.contrib.peewee.form import get_form
    from werkzeug.datastructures import MultiDict

    from core import money
    from core.admin import AdminForm, ModelConverter
    Gift = _model()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        Form = get_form(Gift, ModelConverter(None), base_class=AdminForm, only=["title", "amount"])
        assert isinstance(Form(meta={"csrf": False}).amount, money.MoneyInput)
        for typed in ("１２.３", "¥12.3", "12.30 元"):
            f = Form(MultiDict({"title": "x", "amount": typed}), meta={"csrf": False})
            assert f.validate(), f.errors
            assert f.amount.data == 1230
        f = Form(MultiDict({"title": "x", "amount": "12.345"}), meta={"csrf": False})
        assert not f.validate()
        assert "两位小数" in f.amount.errors[0] or "分" in f.amount.errors[0], f.amount.errors
        f = Form(MultiDict({"title": "x", "amount": "-1"}), meta={"csrf": False})
        assert not f.validate()
        shown = Form(obj=Gift(title="x", amount=1230), meta={"csrf": False})
        assert 'value="12.30"' in shown.amount()


@pytest.mark.once
def test_iv8_money_exports_as_a_decimal_number_with_two_decimals(app):
    """issue 13 shapes point 3: an amount in XLSX is a number (Decimal of yuan, format 0.00), never text
    and never a float's 12.299999; the admin export formatter gives the same Decimal."""
    from openpyxl import Workbook, load_workbook

    from core import money
    wb = Workbook()
    ws = wb.active
    money.xlsx_put(ws, 1, 1, 1230)
    money.xlsx_put(ws, 2, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    with __import__("zipfile").ZipFile(buf) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>12.3</v>" in sheet and "<v>0.01</v>" in sheet     # the Decimal's exact digits
    buf.seek(0)
    c = load_workbook(buf).active.cell(1, 1)
    assert c.data_type == "n" and c.number_format == "0.00"
    show, export = money.column_formatters("amount")
    Gift = _model()
    with app.test_request_context():
        g = Gift(amount=1230)
        assert show["amount"](None, None, g, "amount") == "¥12.30"
        assert export["amount"](None, None, g, "amount") == Decimal("12.30")


@pytest.mark.once
def test_iv5_templates_show_fen_as_yuan_with_the_money_filter(app):
    """issue 13 shapes point 3: ``{{ amount|money }}`` in a page shows fen as yuan."""
    from flask import render_template_string
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert render_template_string("{{ 1230|money }} {{ 5|money(style='yuan') }}") == "¥12.30 0.05 元"
