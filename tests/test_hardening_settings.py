"""Settings an admin can change (issue 11 point 16; RULES.md: every number in a rule is a setting).

A platform admin changes a plugin's settings on /admin/settings/<plugin> or with ``timebank settings``;
both validate with the plugin's own bounds and rules, refuse bad input with a Chinese field error and
save nothing, and audit every change with its old and new value. The pages that state a rule (the
registration page's text and script, the dashboard, the photo limit, the points per hour) follow the
setting, and so does the server's rule.
"""
from __future__ import annotations

import json
import re
import textwrap

import pytest
from click.testing import CliRunner

from conftest import PASSWORD, csrf_from, database_url, login
from plugins.volunteers import fakes

PLUGINS = ["volunteers", "teams", "documents", "activities", "ledger", "exchange"]


@pytest.fixture
def sapp(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def admin(sapp, make_user):
    make_user("admin", "platform_admin")
    c = sapp.test_client()
    assert login(c, "admin").status_code == 302
    return c


def settings_form(client, plugin) -> tuple[dict, str]:
    """The settings page's current values (field name → value) and its CSRF token."""
    r = client.get(f"/admin/settings/{plugin}")
    assert r.status_code == 200, r.get_data(True)[-1500:]
    html = r.get_data(True)
    values = {}
    for m in re.finditer(r'<input class="form-control[^"]*" id="s-([a-z_]+)" name="\1" value="([^"]*)"', html):
        values[m.group(1)] = m.group(2)
    for m in re.finditer(r'<select [^>]*name="([a-z_]+)">(.*?)</select>', html, re.S):
        sel = re.search(r'<option value="([^"]*)" selected', m.group(2))
        values[m.group(1)] = sel.group(1) if sel else ""
    return values, csrf_from(html)


def post_settings(client, plugin, **changes):
    values, token = settings_form(client, plugin)
    return client.post(f"/admin/settings/{plugin}", data={**values, **changes, "csrf_token": token})


def stored(app) -> dict:
    from core.models import Setting
    with app.app_context():
        return {s.key: s.value for s in Setting.select()}


def audit_rows(app, action="setting.changed") -> list[dict]:
    from core.models import AuditLog
    with app.app_context():
        return [{"user": a.username, "object": a.object_id, **json.loads(a.details)}
                for a in AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id)]


def field_error(html: str, key: str) -> str:
    m = re.search(rf'id="s-{key}".*?<div class="invalid-feedback[^"]*"[^>]*>([^<]*)</div>', html, re.S)
    return m.group(1).strip() if m else ""


def register(client, age, **over):
    page = client.get("/register")
    data = {"name": "李小明", "gender": "M", "id_type": "cn_id",
            "id_number": fakes.id_number(fakes.birth_for_age(age), gender="M", seq=913),
            "phone": "13800005678", "password": PASSWORD, "agreement": "1",
            "csrf_token": csrf_from(page.get_data(True)), **over}
    return client.post("/register", data=data)


# ------------------------------------------------------------------ the end-to-end promise
def test_r_reg_4_admin_changes_min_age_and_register_text_script_and_server_follow(sapp, admin):
    """issue 11 point 16, "done means": a platform admin changes min_age on the settings page and the
    registration page's text, its script and the server rule all follow. Before the fix there was no
    settings page (404) and /register said "未满 16 周岁" and ``a < 16`` whatever the setting."""
    visitor = sapp.test_client()
    page = visitor.get("/register").get_data(True)
    assert "未满 16 周岁？" in page and "var minAge = 16;" in page

    values, _token = settings_form(admin, "volunteers")
    assert values["min_age"] == "16" and values["guardian_consent_age"] == "14"
    html = admin.get("/admin/settings/volunteers").get_data(True)
    assert "可独立参加服务的年龄" in html and "手册默认值：16" in html   # Chinese label, handbook default

    r = post_settings(admin, "volunteers", min_age="18", guardian_consent_age="15")
    assert r.status_code == 302, r.get_data(True)[-1500:]
    assert stored(sapp)["volunteers.min_age"] == "18"
    changes = {a["key"]: a for a in audit_rows(sapp)}
    assert changes["min_age"]["old"] == 16 and changes["min_age"]["new"] == 18
    assert changes["min_age"]["user"] == "admin" and changes["min_age"]["object"] == "volunteers.min_age"
    assert changes["guardian_consent_age"]["old"] == 14 and changes["guardian_consent_age"]["new"] == 15
    assert set(changes) == {"min_age", "guardian_consent_age"}      # unchanged values are not "changes"

    page = visitor.get("/register").get_data(True)
    assert "未满 18 周岁？" in page and "未满 15 周岁的须经监护人同意" in page
    assert "var minAge = 18;" in page and "a < minAge" in page
    assert "16" not in re.search(r'<details class="section" id="minor".*?</details>', page, re.S).group(0)

    # the admin's registration form states the consent age too
    assert "监护人已同意（未满 15 周岁）" in admin.get("/admin/volunteers_volunteer/new/").get_data(True)

    # the server's rule: a 17-year-old now needs a basis, an 18-year-old does not
    r = register(visitor, 17)
    assert r.status_code == 400 and 'id="err-minor_basis"' in r.get_data(True)
    r = register(sapp.test_client(), 18, phone="13800005679",
                 id_number=fakes.id_number(fakes.birth_for_age(18), gender="M", seq=914))
    assert r.status_code == 201, r.get_data(True)[-1500:]


def test_iv_settings_page_bad_input_gives_chinese_field_errors_and_saves_nothing(sapp, admin):
    """issue 11 point 16: typed fields validated with the plugin's own rules (bounds, the consent age not
    above the age to serve alone, capital-letter prefixes); a bad value is a Chinese error next to its
    field and nothing at all is saved, not even the valid fields of the same form."""
    before = stored(sapp)
    cases = [({"min_age": "abc"}, "min_age", "请输入整数。"),
             ({"min_age": "1e308"}, "min_age", "请输入整数。"),
             ({"min_age": "99"}, "min_age", "请输入 1 至 30 之间的数字。"),
             ({"min_age": "10", "retention_years": "3"}, "guardian_consent_age",
              "须经监护人同意的年龄不能高于可独立参加服务的年龄（10）。"),
             ({"number_prefix": "=cmd", "retention_years": "3"}, "number_prefix", "只能使用大写字母 A–Z。"),
             ({"agreement_version": "x" * 21}, "agreement_version", "请输入不超过 20 个字符的单行文字。"),
             ({"agreement_version": ""}, "agreement_version", "此项设置不能为空。")]
    for changes, key, message in cases:
        r = post_settings(admin, "volunteers", **changes)
        html = r.get_data(True)
        assert r.status_code == 400, (changes, html[-1500:])
        assert field_error(html, key) == message, (changes, field_error(html, key))
        assert "未保存任何修改" in html
        assert stored(sapp) == before and audit_rows(sapp) == []
    # choices and booleans are checked on the server too (a forged form)
    for plugin, changes in (("activities", {"rounding": "sideways"}), ("ledger", {"convert_training": "maybe"}),
                            ("activities", {"outcome_hard_limit_workdays": "3"})):
        r = post_settings(admin, plugin, **changes)
        assert r.status_code == 400 and stored(sapp) == before, changes
    # full-width digits are what a Chinese keyboard types: accepted as the number they are (NS2)
    assert post_settings(admin, "volunteers", min_age="１８").status_code == 302
    assert stored(sapp)["volunteers.min_age"] == "18"


def test_ac7_settings_page_is_for_platform_admins_only_with_csrf(sapp, admin, make_user):
    """issue 11 point 16: the page and its menu entry need core.settings.manage (a platform admin); a
    team admin gets 403 (audited), a visitor the login page, a POST without the CSRF token is refused."""
    assert 'href="/admin/settings/"' in admin.get("/admin/").get_data(True)
    index = admin.get("/admin/settings/").get_data(True)
    assert "/admin/settings/volunteers" in index and "/admin/settings/ledger" in index
    assert admin.get("/admin/settings/no_such_plugin").status_code == 404
    assert admin.get("/admin/settings/documents").status_code == 404  # a plugin without settings

    make_user("ta", "team_admin", scope="team:1")
    ta = sapp.test_client()
    assert login(ta, "ta").status_code == 302
    assert 'href="/admin/settings/"' not in ta.get("/admin/").get_data(True)
    assert ta.get("/admin/settings/volunteers").status_code == 403
    assert ta.post("/admin/settings/volunteers", data={"min_age": "3"}).status_code in (400, 403)
    assert any(a["permission"] == "core.settings.manage" for a in audit_rows(sapp, "access.denied"))

    anon = sapp.test_client().get("/admin/settings/volunteers")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]

    values, _token = settings_form(admin, "volunteers")
    r = admin.post("/admin/settings/volunteers", data={**values, "min_age": "18"})  # no token
    assert r.status_code == 400 and "volunteers.min_age" not in stored(sapp)


# ------------------------------------------------------------------ texts that state a rule follow it
def test_texts_stating_a_rule_follow_their_settings(sapp, admin):
    """issue 11 point 16: the dashboard's review deadline ("2 working days"), the photo size limit
    ("8 MB"), the points per hour ("1 hour = 1 point") and the team list's "Squad (10+ members)" were
    written into code and templates."""
    from core import settings as S
    with sapp.test_request_context():
        S.change("activities", {"review_workdays": "3", "photo_max_mb": "4"})
        S.change("ledger", {"points_per_hour": "2"})
    dash = admin.get("/admin/").get_data(True)
    assert "已超过 3 个工作日" in dash  # the reviews waiting widget

    from plugins.activities import photos
    from plugins.activities.services import setting
    with sapp.app_context():
        assert setting("photo_max_mb") == 4 and photos.max_bytes() == 4 * 1024 * 1024
    with sapp.test_request_context():
        from flask import render_template_string
        text = render_template_string('{{ _("Photos (JPEG, PNG or WebP, at most %(mb)s MB each)", '
                                      'mb=activities_setting("photo_max_mb")) }}')
        assert "4 MB" in text
        exchange = render_template_string(
            '{{ _("Partners offer services and goods for time points (1 hour of confirmed service = '
            '%(n)s points).", n=ledger_setting("points_per_hour")) }}')
        assert "= 2 积分" in exchange
    page = sapp.test_client().get("/exchange/").get_data(True)
    assert "= 2 积分" in page
    assert "队伍（10 人以上）" in admin.get("/admin/teams_team/").get_data(True)
    with sapp.test_request_context():
        S.change("teams", {"squad_min_members": "12"})
    assert "队伍（12 人以上）" in admin.get("/admin/teams_team/").get_data(True)


def test_photo_over_the_configured_size_is_refused(sapp):
    """issue 11 point 16: the photo limit is the activities setting photo_max_mb, not a constant."""
    import io
    from core import settings as S
    from plugins.activities import photos
    with sapp.test_request_context():
        S.change("activities", {"photo_max_mb": "1"})
        with pytest.raises(photos.PhotoError) as e:
            photos.store(None, io.BytesIO(b"\0" * (1024 * 1024 + 1)))
        assert "1 MB" in str(e.value)


# ------------------------------------------------------------------ manifests declare their settings
def test_every_setting_of_the_built_in_plugins_is_labelled_and_bounded():
    """issue 11 point 16: each built-in setting has a label (translated) and numbers have bounds that
    hold their handbook default."""
    from core.plugins import discover
    from core.settings import specs_from_manifest
    available, problems = discover()
    assert problems == {}
    for info in available.values():
        for s in specs_from_manifest(info.manifest):
            assert s.label != s.key, f"{s.full_key} has no label"
            if s.kind in ("int", "float"):
                assert s.minimum is not None and s.maximum is not None, s.full_key
                assert s.minimum <= s.default <= s.maximum, s.full_key


@pytest.mark.parametrize("meta, problem", [
    ('{"nope": {"label": "x"}}', "does not declare"),
    ('{"size": {"lable": "x"}}', "unknown keys"),
    ('{"size": {"choices": [["a", "A"]]}}', "not one of its choices"),
])
def test_a_manifest_with_wrong_setting_declarations_is_refused(tmp_path, meta, problem):
    from core.plugins import PluginError, read_manifest
    folder = tmp_path / "fx_bad"
    folder.mkdir()
    (folder / "__manifest__.py").write_text(textwrap.dedent(f"""\
        {{"name": "fx_bad", "version": "1", "title": "t", "summary": "s", "category": "c", "depends": [],
          "author": "a", "license": "MIT", "settings": {{"size": 3}}, "settings_meta": {meta}}}"""))
    with pytest.raises(PluginError, match=problem):
        read_manifest(folder, "fx_bad")


# ------------------------------------------------------------------ the command
@pytest.fixture
def cli(tmp_path, monkeypatch):
    from core.cli import main
    from core.db import db
    env = {"TIMEBANK_INSTANCE_PATH": str(tmp_path / "instance"), "TIMEBANK_DATABASE_URL": database_url(tmp_path)}
    monkeypatch.delenv("TIMEBANK_PLUGINS", raising=False)
    runner = CliRunner()

    def invoke(*args):
        r = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        return r.exit_code, r.output + (r.stderr if r.stderr_bytes is not None else "")
    invoke.config = {"INSTANCE_PATH": env["TIMEBANK_INSTANCE_PATH"], "DATABASE_URL": env["TIMEBANK_DATABASE_URL"]}
    assert invoke("init")[0] == 0
    yield invoke
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


def test_timebank_settings_list_get_set_validate_and_audit(cli, tmp_path):
    """issue 11 point 16: `timebank settings list|get|set` with the admin page's validation and audit."""
    code, out = cli("settings", "list", "volunteers")
    assert code == 0 and "volunteers.min_age" in out and "16" in out
    assert cli("settings", "get", "volunteers.min_age") == (0, "16\n")

    code, out = cli("settings", "set", "volunteers.min_age", "99")
    assert code == 1 and "1 至 30" in out and "Traceback" not in out
    code, out = cli("settings", "set", "volunteers.guardian_consent_age", "17")
    assert code == 1 and "不能高于" in out
    code, out = cli("settings", "set", "volunteers.no_such", "1")
    assert code == 1 and "no_such" in out
    code, out = cli("settings", "set", "nosuchplugin.x", "1")
    assert code == 1
    code, out = cli("settings", "set", "min_age", "1")
    assert code == 1 and "PLUGIN.KEY" in out
    assert cli("settings", "get", "volunteers.min_age") == (0, "16\n")

    code, out = cli("settings", "set", "volunteers.min_age", "18")
    assert code == 0 and "16 -> 18" in out
    assert cli("settings", "get", "volunteers.min_age") == (0, "18\n")
    code, out = cli("settings", "list", "--json")
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["volunteers.min_age"]["value"] == 18 and rows["volunteers.min_age"]["default"] == 16
    assert rows["activities.rounding"]["choices"] == ["down", "nearest", "up"]

    from core import create_app
    from core.models import AuditLog
    app = create_app({"TESTING": True, **cli.config})
    with app.app_context():
        rows = [json.loads(a.details) for a in AuditLog.select().where(AuditLog.action == "setting.changed")]
    assert rows == [{"plugin": "volunteers", "key": "min_age", "old": 16, "new": 18, "via": "cli"}]


def test_a_disabled_plugins_settings_are_checked_by_its_own_rules(make_app):
    """issue 11 point 16: `timebank settings set` may prepare a plugin before it is enabled; its own rules
    (validate_settings) still apply although its hooks are not registered."""
    from core import settings as S
    app = make_app(plugins=["volunteers"])
    with app.test_request_context():
        with pytest.raises(S.SettingError) as e:
            S.change("activities", {"outcome_hard_limit_workdays": "3"})
        assert set(e.value.errors) == {"outcome_hard_limit_workdays"}
        assert S.change("activities", {"outcome_hard_limit_workdays": "12"}) == [
            ("outcome_hard_limit_workdays", 10, 12)]


@pytest.mark.parametrize("default, raw, expected", [
    (1.5, "2.5", 2.5), (1.5, "２.５", 2.5), (1.5, "inf", None), (1.5, "nan", None), (1.5, "1e308", None),
    (1.5, "99", None), (True, "false", False), (True, "是", None), (3, "3.0", None), (3, "-0", 0),
    ("GZ", "  AB  ", "AB"), ("GZ", "A\tB", None)])
def test_iv_setting_values_are_typed_from_the_default_and_bounded(default, raw, expected):
    """issue 11 point 16: every type of setting (float, bool, int, text) parsed in one place; non-finite
    numbers, exponents and out-of-range values are refused, never stored."""
    from core import settings as S
    spec = S.SettingSpec("p", "k", default, minimum=0 if not isinstance(default, (bool, str)) else None,
                         maximum=10 if not isinstance(default, (bool, str)) else None)
    if expected is None:
        with pytest.raises(S.SettingError):
            S.parse(spec, raw)
    else:
        value = S.parse(spec, raw)
        assert value == expected and type(value) is type(default)
