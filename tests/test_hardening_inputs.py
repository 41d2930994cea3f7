"""Bad input from outside is a clear error in the user's language and writes nothing, never a 500
(SECURITY.md NS2, IV5, IV6; issue 11 point 9).

The outside probe found 500s for page numbers past 2⁶³, ``lat=inf``, superscript digits (``²``) in
``year``, ``ids`` and form numbers, ``inf``/``1e308`` as minutes, and a 20000×20000 image whose outcome
text was saved before the failure. Every number now goes through ``core.inputs``; this module sends the
probe's values to every public, volunteer and admin endpoint that takes a number (and, generically, to
every number field of every admin edit form and every number filter of every admin list).
"""
from __future__ import annotations

import datetime as _dt
import html as _html
import io
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import PASSWORD, csrf_from, database_url, login
from core import create_app
from fixtures.activities_plugins.actsupport import quick_hashing, set_setting, volunteers
from fixtures.ledger_support import serve
from fixtures.security_plugins.secsupport import create_user, logged_in, snapshot, token
from test_teams_workflow import new_team

PROBE = ["9223372036854775808", "99999999999999999999", "inf", "-inf", "nan", "1e308", "²", "１２", "-1",
         "0x10", ""]
# values no number field may accept: each must be refused with nothing written
INVALID = ["9223372036854775808", "99999999999999999999", "inf", "-inf", "nan", "1e308", "0x10", "²"]
FIELD_ERROR = re.compile(r'<div class="invalid-feedback">(.*?)</div>', re.S)   # Flask-Admin's field errors
OUR_ERRORS = re.compile(r"请输入|数字超出允许范围")                               # core.inputs' messages


def builtin_plugins() -> list[str]:
    from core import plugins as P
    available, _problems = P.discover()
    return sorted(n for n, i in available.items()
                  if i.source == "builtin" and i.manifest.get("installable", True))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    mp = pytest.MonkeyPatch()
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    quick_hashing(mp)
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp),
                      "TESTING": True, "TASKS_IMMEDIATE": True, "PLUGINS": builtin_plugins(),
                      "PUBLIC_URL": "https://timebank.example.org"})  # the demo issues certificates (NS3)
    from core.cli import load_demo
    with app.app_context():
        load_demo(app)
    set_setting(app, "ledger.redemption_threshold_hours", 1)
    team = new_team(app, "输入探针志愿服务队", admin="probe_ta")
    (vid,) = volunteers(app, 7101, 1)
    aid, _recs = serve(app, team, {vid: 480})       # a finished activity, 8 confirmed hours = 8 points
    from core.db import today
    from plugins.activities.models import SignUp
    from plugins.donations import services as D
    from plugins.exchange import services as X
    from plugins.teams.models import Team
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        partner = X.save_partner({"name": "探针爱心超市", "contact": "李店长", "team_id": team})
        item = X.save_item({"partner_id": partner.id, "name": "大米 5 公斤", "kind": "goods", "price": 1,
                            "stock": 50})
        t = Team.get_by_id(team)
        campaign = D.open_campaign(D.create_campaign(t, title="长者饭堂爱心餐", purpose="爱心餐", goal=100,
                                                     deadline=today() + _dt.timedelta(days=10)))
        person = D.create_beneficiary(t, name="西湖社区张阿姨", category="elderly", description="上门送餐")
        signup = SignUp.select().where(SignUp.activity == aid).first()
        username = Volunteer.get_by_id(vid).user.username
    create_user(app, "admin", "platform_admin")
    yield {"app": app, "team": team, "partner": partner.id, "vid": vid, "username": username, "activity": aid, "item": item.id,
           "campaign": campaign.id, "person": person.id, "signup": signup.id, "tmp": tmp}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


@pytest.fixture(scope="module")
def admin(site):
    return logged_in(site["app"], "admin")


@pytest.fixture(scope="module")
def vol(site):
    return logged_in(site["app"], site["username"])


# ------------------------------------------------------------------------------------------ the parsers
@pytest.mark.parametrize("raw,expected", [("12", 12), ("１２", 12), (" -3 ", -3), ("+7", 7),
                                          ("٣", 3), ("9223372036854775807", 2 ** 63 - 1)])
def test_ns2_parse_int_reads_what_people_type(raw, expected):
    """NS2 (issue 11 point 9): full-width and other decimal digits are digits (NFKC, then ASCII digits),
    then one strict whole-number syntax."""
    from core.inputs import parse_int
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", INVALID + ["1.5", "1e3", "12abc", "--1", "1_000", "١" * 50, "²x", "2²", "½",
                                 "①", None])
def test_ns2_parse_int_refuses_everything_else_with_a_field_error(raw):
    """NS2 (issue 11 point 9): ``²`` (NFKC would read ``2²`` as 22), ``inf``, exponents, hex, numbers past 2⁶³
    are a field error (a ValueError
    too, so old ``except ValueError`` callers stay right), never an OverflowError or a database error."""
    from core.inputs import InputError, parse_int
    with pytest.raises(InputError) as e:
        parse_int(raw, field="n")
    assert isinstance(e.value, ValueError) and list(e.value.errors) == ["n"]


def test_ns2_bounds_defaults_and_other_parsers():
    """NS2 (issue 11 point 9): bounds are part of every parse; empty gives the default or a required
    error; floats and decimals are finite; dates are dates; id lists skip what is not an id."""
    from decimal import Decimal
    from core import inputs as I
    with pytest.raises(I.InputError):
        I.parse_int("11", min=0, max=10)
    assert I.parse_int("", default=None) is None
    with pytest.raises(I.InputError):
        I.parse_int("")
    for bad in ("inf", "-inf", "nan", "1e308", "1e-5", "0x10", "9" * 41):
        with pytest.raises(I.InputError):
            I.parse_float(bad)
        with pytest.raises(I.InputError):
            I.parse_decimal(bad)
    with pytest.raises(I.InputError):
        I.parse_float(float("inf"))
    with pytest.raises(I.InputError):
        I.parse_float("91", min=-90, max=90)
    assert I.parse_float("２２.５") == 22.5 and I.parse_decimal("1.25") == Decimal("1.25")
    with pytest.raises(I.InputError):
        I.parse_decimal("1.255", places=2)
    assert I.parse_date("２０２６-０３-０１") == _dt.date(2026, 3, 1)
    for bad in ("2026-02-30", "99999-01-01", "2026-1-1x", "²"):
        with pytest.raises(I.InputError):
            I.parse_date(bad)
    assert I.parse_ids("3,x,²,9223372036854775808,3,-1,0, 5") == [3, 5]
    with pytest.raises(I.InputError):
        I.parse_ids("1,2,3", max_count=2)


# -------------------------------------------------------------------------------- the probe matrix
def _requests(site):
    """(who, method, url, data[, the Chinese error a refused POST shows]) per number-taking endpoint,
    with ``{v}`` where the probe value goes."""
    s = site
    return [
        # public
        ("anon", "GET", "/activities/?page={v}", None),
        ("anon", "GET", "/activities/?sort=nearest&lat={v}&lng={v}", None),
        ("anon", "GET", "/activities/?lat=23.1&lng={v}&sort=nearest", None),
        ("anon", "GET", "/activities/?from={v}&to={v}", None),
        ("anon", "GET", "/activities/?field={v}&category={v}&kind=training", None),
        ("anon", "GET", "/activities/?field={v}&category={v}", None),
        ("anon", "GET", "/activities/{v}", None),
        ("anon", "GET", "/notices/{v}", None),
        ("anon", "GET", "/donations/campaigns/{v}", None),
        ("anon", "POST", "/teams/register", {"declared_size": "{v}", "name": "探针志愿服务队"}, "请输入整数"),
        # volunteer
        ("vol", "GET", "/targets/me?year={v}", None),
        ("vol", "GET", "/points/me?from={v}&to={v}", None),
        ("vol", "GET", "/points/me/statement.csv?from={v}&to=2026-01-01", None),
        ("vol", "GET", "/inbox/{v}", None),
        ("vol", "GET", f"/exchange/items/{s['item']}/redeem?quantity={{v}}", None),
        ("vol", "GET", f"/donations/campaigns/{s['campaign']}/donate?points={{v}}", None),
        ("vol", "POST", f"/exchange/items/{s['item']}/redeem", {"quantity": "{v}", "token": "T"},
         "数量必须是大于零的整数"),
        ("vol", "POST", f"/donations/campaigns/{s['campaign']}/donate", {"points": "{v}", "token": "T"},
         "积分须为整数"),
        ("vol", "POST", f"/donations/beneficiaries/{s['person']}/donate", {"points": "{v}", "token": "T"},
         "积分须为整数"),
        ("vol", "POST", f"/activities/{s['activity']}/feedback", {"overall": "{v}", "venue": "5"},
         "请给出 0 至 10 分"),
        ("vol", "POST", "/certificates/apply", {"records": "{v}", "purpose": "study"}, "请至少选择一条"),
        # admin
        ("admin", "GET", "/admin/ledger_totals/?year={v}&period=year", None),
        ("admin", "GET", "/admin/ledger_totals/export.csv?year={v}", None),
        ("admin", "GET", "/admin/targets_report/?year={v}&team={v}", None),
        ("admin", "GET", "/admin/targets_report/export.xlsx?year={v}", None),
        ("admin", "GET", "/admin/rosters_roster/?team={v}", None),
        ("admin", "GET", "/admin/rosters_roster/registration/{v}", None),
        ("admin", "GET", "/admin/certificates_certificate/decide/?kind=reject&ids={v}", None),
        ("admin", "GET", "/admin/activities_signup/decline/?ids={v},{v}", None),
        ("admin", "GET", "/admin/teams_team/decide/?ids={v}&approve=1", None),
        ("admin", "GET", "/admin/team_standards_assessment/assess/?team={v}", None),
        ("admin", "GET", "/admin/activities_activity/edit/?id={v}", None),
        ("admin", "GET", "/admin/activities_activity/?page={v}&sort={v}&desc={v}&page_size={v}", None),
        ("admin", "GET", "/admin/core_audit_log/?page={v}", None),
        ("admin", "POST", f"/admin/activities_activity/hours/?id={s['activity']}",
         {f"m{s['signup']}": "{v}", f"r{s['signup']}": "探针"}, "请以数字填写时数"),
        ("admin", "POST", f"/admin/activities_activity/outcome/?id={s['activity']}",
         {"served_count": "{v}", "summary": "探针成效", "beneficiary_types": "居民"}, "请输入"),
        ("admin", "POST", "/admin/exchange_item/new/", {"partner": str(s["partner"]), "name": "探针项目",
         "kind": "goods", "price": "{v}", "stock": "5", "active": "y"}, "请输入整数|数值过大"),
        ("admin", "POST", "/admin/exchange_item/new/", {"partner": str(s["partner"]), "name": "探针项目",
         "kind": "goods", "price": "1", "stock": "{v}", "per_volunteer_limit": "{v}"}, "请输入整数|数值过大"),
        ("admin", "POST", "/admin/donations_campaign/new/", {"team": str(s["team"]), "title": "探针募集",
         "purpose": "探针", "goal": "{v}", "deadline": "2099-01-01"}, "积分须为整数"),
        ("admin", "POST", "/admin/donations_campaign/use/",
         {"id": str(s["campaign"]), "points": "{v}", "token": "T", "note": "探针"}, "积分须为整数"),
        ("admin", "POST", "/admin/donations_beneficiary/use/",
         {"id": str(s["person"]), "points": "{v}", "token": "T", "note": "探针"}, "积分须为整数"),
    ]


def _fill(data, v, token):
    out = {}
    for k, val in (data or {}).items():
        val = val.replace("{v}", v)
        out[k] = (token + "0123456789abcdef0123456789abcdef"[:32 - len(token)]) if val == "T" else val
    return out


_counter = iter(range(10 ** 6))


def _send(site, clients, who, method, url, data, v):
    from urllib.parse import quote
    c = clients[who]
    u = url.replace("{v}", quote(v, safe=""))
    if method == "GET":
        return c.get(u)
    token = f"{next(_counter):08x}"
    return c.post(u, data={**_fill(data, v, token), "csrf_token": c.csrf})


def test_ns2_the_probe_matrix_never_gets_a_500_and_invalid_numbers_write_nothing(site, admin, vol):
    """NS2/IV5 (issue 11 point 9): every value of the outside probe against every endpoint that takes a
    number - public, volunteer and admin - answers 200/302/400/404, never 500; the values no number
    field accepts (past 2⁶³, inf, nan, 1e308, hex) change nothing in the database, and a refused form
    says what is wrong in Chinese."""
    app = site["app"]
    anon = app.test_client()
    anon.csrf = token(anon)
    clients = {"anon": anon, "vol": vol, "admin": admin}
    bad, unsaid, written = [], [], []
    for who, method, url, data, *expect in _requests(site):
        for v in PROBE:
            before = snapshot(app) if method == "POST" and v in INVALID else None
            r = _send(site, clients, who, method, url, data, v)
            if r.status_code not in (200, 302, 400, 404):
                bad.append((who, method, url, repr(v), r.status_code))
                continue
            if before is not None:
                if snapshot(app) != before:
                    written.append((url, repr(v)))
                text = r.get_data(as_text=True)
                if r.status_code == 302:
                    text = clients[who].get(r.headers["Location"]).get_data(as_text=True)
                if not re.search(expect[0], _html.unescape(text)):
                    unsaid.append((url, repr(v), r.status_code))
    assert bad == []
    assert written == []
    assert unsaid == [], unsaid


def test_ns2_route_ids_past_2_63_are_a_404(site, admin, vol):
    """NS2 (issue 11 point 9): ``<int:…>`` in every route stops at 2⁶³ − 1 (the probe's 99999999999999999999
    in a path reached the database as an overflow)."""
    app = site["app"]
    huge = "99999999999999999999"
    rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) > 10
    bad = []
    for rule in rules:
        path = re.sub(r"<int:[^>]+>", huge, rule.rule)
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "pdf", path)
        for c in (admin, vol):
            r = c.get(path) if "GET" in rule.methods else c.post(path, data={"csrf_token": c.csrf})
            if r.status_code >= 500:
                bad.append((path, r.status_code))
    assert bad == []
    assert vol.get(f"/activities/{huge}").status_code == 404


# ------------------------------------------------------------- admin forms and filters, generically
class _FormValues(HTMLParser):
    """The values a browser would submit from the model form of an admin page (of its POST forms, the one
    with the most fields: not the language switch in the header)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    @property
    def values(self) -> dict:
        return max(self.forms, key=len) if self.forms else {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._form[name] = a.get("value", "y")
            elif a.get("type") not in ("submit", "button", "file"):
                self._form[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._form.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self._form[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form[self._textarea] += data


def _number_fields(form_class) -> list[str]:
    import wtforms
    from wtforms.fields.core import UnboundField
    out = []
    for name in dir(form_class):
        f = getattr(form_class, name, None)
        if isinstance(f, UnboundField) and issubclass(
                f.field_class, (wtforms.IntegerField, wtforms.FloatField, wtforms.DecimalField)):
            out.append(name)
    return out


INT32_PAST = "2147483648"   # fits SQLite's INTEGER, overflows PostgreSQL's "integer" (peewee IntegerField)


def _int32_overflow(app, endpoint, field) -> list[str]:
    """[INT32_PAST] when ``field`` of the view's model is a 32-bit integer column (or a form-only field)."""
    import peewee as pw
    for v in app.extensions["timebank"].admin._views:
        if v.endpoint == endpoint:
            col = v.model._meta.fields.get(field)
            return [] if isinstance(col, (pw.BigIntegerField, pw.FloatField, pw.DecimalField)) else [INT32_PAST]
    return []


def _edit_targets(app):
    """(endpoint, table, pk, number fields) of every admin view with an edit form and a row to edit."""
    out = []
    with app.test_request_context():
        for v in app.extensions["timebank"].admin._views:
            model = getattr(v, "model", None)
            if model is None or not getattr(v, "allow_edit", False) or getattr(v, "_edit_form_class", None) is None:
                continue
            fields = _number_fields(v._edit_form_class)
            row = model.select().order_by(model._meta.primary_key).first()
            if fields and row is not None:
                out.append((v.endpoint, model._meta.table_name, row._pk, fields))
    return out


def test_ns2_every_number_field_of_every_admin_edit_form_refuses_the_probe(site, admin):
    """NS2/IV5 (issue 11 point 9): for every admin view, every IntegerField/FloatField/DecimalField of its
    edit form gets each probe value on an otherwise unchanged form: never a 500; the invalid values are a
    field error in Chinese and the row is unchanged (the probe's ``²`` and numbers past 2⁶³ overflowed
    the database)."""
    app = site["app"]
    targets = _edit_targets(app)
    assert {"activities_shift", "teams_team", "activities_activity"} <= {t[0] for t in targets}, targets
    bad, written, unsaid = [], [], []
    for endpoint, table, pk, fields in targets:
        page = admin.get(f"/admin/{endpoint}/edit/?id={pk}")
        assert page.status_code == 200, endpoint
        p = _FormValues()
        p.feed(page.get_data(as_text=True))
        assert "csrf_token" in p.values and len(p.values) > 3, (endpoint, p.values)
        for field in [f for f in fields if f in p.values]:  # a view may drop fields from its edit form
            for v in PROBE + _int32_overflow(app, endpoint, field):
                before = snapshot(app, [table]) if v in INVALID or v == INT32_PAST else None
                r = admin.post(f"/admin/{endpoint}/edit/?id={pk}",
                               data={**p.values, field: v, "csrf_token": admin.csrf})
                if r.status_code >= 500:
                    bad.append((endpoint, field, repr(v), r.status_code))
                elif before is not None:
                    if snapshot(app, [table]) != before:
                        written.append((endpoint, field, repr(v)))
                    shown = " ".join(FIELD_ERROR.findall(_html.unescape(r.get_data(as_text=True))))
                    if r.status_code != 200 or not OUR_ERRORS.search(shown):
                        unsaid.append((endpoint, field, repr(v), r.status_code))
    assert bad == []
    assert written == []
    assert unsaid == [], unsaid


def test_ns2_every_number_field_of_every_admin_create_form_refuses_the_probe(site, admin):
    """NS2/IV5 (issue 11 point 9): the same for the create forms: each invalid value in each number field
    is a field error in Chinese, never a 500, and no row is created."""
    app = site["app"]
    targets = []
    with app.test_request_context():
        for v in app.extensions["timebank"].admin._views:
            model = getattr(v, "model", None)
            if model is not None and getattr(v, "allow_create", False) and \
                    getattr(v, "_create_form_class", None) is not None:
                fields = _number_fields(v._create_form_class)
                if fields:
                    targets.append((v.endpoint, model._meta.table_name, fields))
    assert "activities_activity" in {t[0] for t in targets}
    bad, written, unsaid = [], [], []
    for endpoint, table, fields in targets:
        page = admin.get(f"/admin/{endpoint}/new/")
        if page.status_code != 200:
            continue
        p = _FormValues()
        p.feed(page.get_data(as_text=True))
        for field in [f for f in fields if f in p.values]:
            for v in INVALID + _int32_overflow(app, endpoint, field):
                before = snapshot(app, [table])
                r = admin.post(f"/admin/{endpoint}/new/", data={**p.values, field: v, "csrf_token": admin.csrf})
                if r.status_code >= 500:
                    bad.append((endpoint, field, repr(v), r.status_code))
                    continue
                if snapshot(app, [table]) != before:
                    written.append((endpoint, field, repr(v)))
                shown = " ".join(FIELD_ERROR.findall(_html.unescape(r.get_data(as_text=True))))
                if r.status_code != 200 or not OUR_ERRORS.search(shown):
                    unsaid.append((endpoint, field, repr(v), r.status_code))
    assert bad == []
    assert written == []
    assert unsaid == [], unsaid


def test_ns2_number_filters_of_every_admin_list_ignore_the_probe(site, admin):
    """NS2 (issue 11 point 9): ``?flt0_N=inf`` (or ``²``, or past 2⁶³) on every number filter of every admin
    list is an ignored filter, not an overflow in the database."""
    from flask_admin.model import filters as F
    app = site["app"]
    probes = []
    for v in app.extensions["timebank"].admin._views:
        for arg, (_i, flt) in (getattr(v, "_filter_args", None) or {}).items():
            if isinstance(flt, (F.BaseIntFilter, F.BaseFloatFilter, F.BaseIntListFilter, F.BaseFloatListFilter)):
                probes.append(f"/admin/{v.endpoint}/?flt0_{arg}=")
    bad = []
    for url in probes:
        for v in PROBE:
            r = admin.get(url + v)
            if r.status_code >= 500:
                bad.append((url, repr(v), r.status_code))
    assert bad == []


# --------------------------------------------------------------------------------------------- images
def png_header(width: int, height: int) -> bytes:
    """A PNG that DECLARES width × height (8-bit grey) and carries one row of pixel data: a few dozen bytes
    on disk. Its header is all a check before decoding may read; decoding it would fail (truncated)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + chunk(b"IEND", b""))


def real_png(width=64, height=48) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 60, 60)).save(buf, format="PNG")
    return buf.getvalue()


def _outcome_state(app, aid):
    from plugins.activities.models import Activity, Photo
    with app.app_context():
        a = Activity.get_by_id(aid)
        return (a.summary, a.served_count, a.outcome_submitted_at,
                [p.stored_name for p in Photo.select().where(Photo.activity == aid)])


def _uploads(site) -> set[str]:
    folder = Path(site["tmp"]) / "instance" / "uploads" / "activities"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.parametrize("width,height", [(20000, 20000), (12000, 12000), (8000, 7000)])
def test_iv6_a_huge_image_is_refused_from_its_header_and_the_outcome_text_is_not_saved(site, admin, width,
                                                                                         height):
    """IV6 (issue 11 point 9): the 20000×20000 PNG of the probe (and a 144 MP one below Pillow's own bomb
    limit, and a 56 MP one above the 50 MP setting) is refused from its header - before anything decodes
    it (the crafted files carry one row of data: decoding them would fail differently) - with a Chinese
    message; the outcome text sent with it is NOT saved and no file is left behind (the probe's partial
    write)."""
    app, aid = site["app"], site["activity"]
    before, files = _outcome_state(app, aid), _uploads(site)
    r = admin.post(f"/admin/activities_activity/outcome/?id={aid}", content_type="multipart/form-data",
                   data={"csrf_token": admin.csrf, "served_count": "30", "summary": f"探针文字{width}",
                         "beneficiary_types": "居民", "photos": (io.BytesIO(png_header(width, height)), "big.png")})
    assert r.status_code == 200
    assert "图片尺寸过大" in r.get_data(as_text=True)
    assert _outcome_state(app, aid) == before
    assert _uploads(site) == files


def test_iv6_the_pixel_cap_is_a_setting_and_photos_and_text_are_saved_together(site, admin):
    """IV6 (issue 11 point 9): ``activities.photo_max_megapixels`` caps the pixels (an admin can lower or
    raise it); a valid photo with an invalid outcome field is not written either (no file, no row), and a
    valid outcome with valid photos saves text and photos together."""
    app, aid = site["app"], site["activity"]
    before, files = _outcome_state(app, aid), _uploads(site)
    set_setting(app, "activities.photo_max_megapixels", 1)
    try:
        r = admin.post(f"/admin/activities_activity/outcome/?id={aid}", content_type="multipart/form-data",
                       data={"csrf_token": admin.csrf, "served_count": "30", "summary": "探针文字",
                             "photos": (io.BytesIO(real_png(1200, 1000)), "a.png")})
        assert r.status_code == 200 and "图片尺寸过大" in r.get_data(as_text=True)
        assert _outcome_state(app, aid) == before and _uploads(site) == files
    finally:
        set_setting(app, "activities.photo_max_megapixels", 50)
    # a good photo, a bad number: nothing written, no file left
    r = admin.post(f"/admin/activities_activity/outcome/?id={aid}", content_type="multipart/form-data",
                   data={"csrf_token": admin.csrf, "served_count": "inf", "summary": "探针文字",
                         "photos": (io.BytesIO(real_png()), "a.png")})
    assert r.status_code == 200 and "请输入整数" in r.get_data(as_text=True)
    assert _outcome_state(app, aid) == before and _uploads(site) == files
    # both good: saved together
    r = admin.post(f"/admin/activities_activity/outcome/?id={aid}", content_type="multipart/form-data",
                   data={"csrf_token": admin.csrf, "served_count": "３０", "summary": "探针成效已保存",
                         "photos": [(io.BytesIO(real_png()), "a.png"), (io.BytesIO(real_png(32, 32)), "b.png")]})
    assert r.status_code == 302
    summary, served, _at, names = _outcome_state(app, aid)
    assert (summary, served, len(names)) == ("探针成效已保存", 30, len(before[3]) + 2)
    assert _uploads(site) == files | set(names)
