"""The plugin system (issue 2, point 4 and "Bad input"): discovery without importing code, manifests,
dependency order, enable/disable, reference data, migrations, the CLI, the admin page (插件管理), and
clear one-line errors for unknown names, broken manifests, broken plugins and bad configuration.

The fixture plugins live in tests/fixtures/plugins/ and are found through PLUGIN_PATHS.
Runs on SQLite, and on PostgreSQL when TIMEBANK_TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import csrf_from, database_url, login

from core import ConfigError, DatabaseError, PluginError, create_app
from core import plugins as P
from core.cli import main
from core.db import db

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plugins"
BROKEN = {
    "fx_bad_notdict": "must contain one dict literal",
    "fx_bad_missing": "manifest lacks version, license",
    "fx_bad_name": "manifest name 'Bad-Name' must match",
    "fx_bad_code": "is not a dict literal",
}


@pytest.fixture(autouse=True)
def fresh_plugin_modules():
    """Each test imports the fixture plugins anew (as a new process would) and leaves sys.path as it was."""
    saved = list(sys.path)

    def purge():
        for mod in list(sys.modules):
            if mod.split(".")[0].startswith("fx_"):
                del sys.modules[mod]
    purge()
    yield
    purge()
    sys.path[:] = saved


@pytest.fixture
def app(make_app):
    return make_app(plugins=["notices"], PLUGIN_PATHS=[str(FIXTURES)])


def states() -> dict:
    """core_plugin_state as {name: (enabled, installed_version, data_loaded, installed)}."""
    from core.models import PluginState
    return {s.name: (s.enabled, s.installed_version, s.data_loaded, s.installed_at is not None)
            for s in PluginState.select()}


def enabled() -> set:
    return {n for n, st in states().items() if st[0]}


def fixture_modules_loaded() -> list:
    return sorted(m for m in sys.modules if m.startswith("fx_"))


def colours() -> list:
    from fx_base.models import Colour
    return sorted(c.name for c in Colour.select())


@pytest.fixture
def cli(tmp_path):
    """``cli("plugins", "list")`` runs the real ``timebank`` command against this test's site."""
    url = database_url(tmp_path)
    env = {"TIMEBANK_INSTANCE_PATH": str(tmp_path / "instance"), "TIMEBANK_DATABASE_URL": url,
           "TIMEBANK_PLUGIN_PATHS": str(FIXTURES)}
    runner = CliRunner()

    def invoke(*args, color=False, **more_env):
        return runner.invoke(main, list(args), env={**env, **more_env}, color=color,
                             catch_exceptions=False)
    invoke.env = env
    yield invoke
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


def one_error_line(result) -> str:
    """The command failed with exit code 1 and printed exactly one line, no traceback."""
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    line = re.sub(r"\x1b\[[0-9;]*m", "", lines[0])
    assert line.startswith("错误 / Error: "), line
    return line


# ---------------------------------------------------------------- discovery and manifests
def test_list_reads_manifests_without_importing_plugin_code(cli):
    r = cli("plugins", "list")
    assert r.exit_code == 0, r.output
    listed = {m.group(2): m.group(1) == "x"
              for m in re.finditer(r"^\[([ x])\] (\w+)\s", r.output, re.M)}
    # fx_raises blows up when imported, yet it is listed with its state
    for name in ("notices", "fx_base", "fx_child", "fx_grandchild", "fx_raises", "fx_migrating"):
        assert listed.get(name) is False, (name, r.output)
    for name, why in BROKEN.items():
        assert re.search(rf"^\[!\] {name}: plugin {name}: .*{re.escape(why)}", r.output, re.M), r.output
    assert fixture_modules_loaded() == []  # nothing was imported to list them

    data = json.loads(cli("plugins", "list", "--json").output)
    rows = {p["name"]: p for p in data["plugins"]}
    assert rows["fx_child"]["depends"] == ["fx_base"]
    assert rows["fx_raises"]["source"].startswith("path ")
    assert rows["notices"]["source"] == "builtin"
    assert set(data["problems"]) == set(BROKEN)
    assert fixture_modules_loaded() == []


@pytest.mark.parametrize("name,why", sorted(BROKEN.items()))
def test_broken_manifest_is_one_clear_message_naming_the_plugin(cli, name, why):
    for command in (["plugins", "info", name], ["plugins", "enable", name]):
        line = one_error_line(cli(*command))
        assert f"plugin {name}: " in line and why in line, line
    assert fixture_modules_loaded() == []  # a manifest is read, never executed


def test_manifest_fields_are_checked(tmp_path):
    bad = tmp_path / "fx_typed"
    bad.mkdir()
    (bad / "__manifest__.py").write_text(
        '{"name": "fx_typed", "version": "1", "title": 42, "summary": "", "category": "",'
        ' "depends": "fx_base", "author": "", "license": ""}')
    with pytest.raises(PluginError, match=r"plugin fx_typed: manifest 'depends' must be a list"):
        P.read_manifest(bad, "fx_typed")
    (bad / "__manifest__.py").write_text(
        '{"name": "fx_typed", "version": "1", "title": 42, "summary": "", "category": "",'
        ' "depends": [], "author": "", "license": "", "default_enabled": "yes"}')
    with pytest.raises(PluginError, match=r"plugin fx_typed: manifest title, default_enabled must be"):
        P.read_manifest(bad, "fx_typed")
    (bad / "__manifest__.py").write_text(
        '{"name": "fx_other", "version": "1", "title": "t", "summary": "", "category": "",'
        ' "depends": [], "author": "", "license": ""}')
    with pytest.raises(PluginError, match=r"plugin fx_typed: manifest says its name is 'fx_other'"):
        P.read_manifest(bad, "fx_typed")


# ---------------------------------------------------------------- dependency order
def test_enabling_pulls_in_dependencies_and_they_answer_first(make_app):
    app = make_app(plugins=["fx_grandchild"], PLUGIN_PATHS=[str(FIXTURES)])
    kernel = app.extensions["timebank"]
    assert kernel.loaded == ["fx_base", "fx_child", "fx_grandchild"]
    assert enabled() == {"fx_base", "fx_child", "fx_grandchild"}
    # fx_base sorts first by name too, so neither registration order by name nor by dependency
    # without pluggy's last-registered-first reversal would pass this
    with app.app_context():
        answers = [name for group in kernel.pm.hook.site_checks() for name, _ok, _msg in group]
    assert [a for a in answers if a.startswith("fx_")] == ["fx_base", "fx_child", "fx_grandchild"]
    # a hook that fx_base declares itself (HOOKSPECS) is implemented by fx_child
    assert kernel.pm.hook.fx_base_colour_names(colours=["red", "blue"]) == [["child sees 2 colours"]]


@pytest.mark.parametrize("name,message", [
    ("fx_needs_missing", "plugin fx_needs_missing depends on fx_not_installed, which is not installed"),
    ("fx_cycle_a", "plugin dependency cycle: fx_cycle_a → fx_cycle_b → fx_cycle_a"),
    ("fx_nope", "unknown plugin 'fx_nope'"),
])
def test_missing_dependency_cycle_or_unknown_name_changes_nothing(app, make_app, name, message):
    before = states()
    with app.app_context():
        with pytest.raises(PluginError) as e:
            P.enable([name])
    assert str(e.value) == message
    assert states() == before
    with pytest.raises(PluginError) as e:  # the same at start-up with an explicit plugin list
        make_app(plugins=["notices", name], PLUGIN_PATHS=[str(FIXTURES)])
    assert str(e.value) == message
    assert states() == before


def test_disabling_is_refused_while_a_dependent_is_enabled_and_keeps_data(app):
    with app.app_context():
        assert P.enable(["fx_grandchild"]) == ["fx_base", "fx_child", "fx_grandchild"]
        from fx_base.models import Colour
        Colour.create(name="purple")
        before = states()
        with pytest.raises(PluginError) as e:
            P.disable("fx_base")
        assert str(e.value) == "cannot disable fx_base: enabled plugin(s) fx_child, fx_grandchild depend on it"
        with pytest.raises(PluginError, match="cannot disable fx_child: enabled plugin.s. fx_grandchild"):
            P.disable("fx_child")
        assert states() == before
        for name in ("fx_grandchild", "fx_child", "fx_base"):
            P.disable(name)
        assert enabled() == {"notices"}
        assert db.table_exists("fx_base_colour")  # tables and rows stay while disabled
        assert colours() == ["blue", "green", "purple", "red"]
        with pytest.raises(PluginError, match="plugin fx_base is not enabled"):
            P.disable("fx_base")
        with pytest.raises(PluginError, match="unknown plugin 'fx_nope'"):
            P.disable("fx_nope")
        assert P.enable(["fx_base"]) == ["fx_base"]
        assert colours() == ["blue", "green", "purple", "red"]


def test_reference_data_loads_once_across_enable_disable_and_restarts(make_app):
    app = make_app(plugins=["fx_base"], PLUGIN_PATHS=[str(FIXTURES)])
    assert colours() == ["blue", "green", "red"]
    with app.app_context():
        P.disable("fx_base")
        assert P.enable(["fx_base"]) == ["fx_base"]
    assert colours() == ["blue", "green", "red"]
    make_app(plugins=["fx_base"], PLUGIN_PATHS=[str(FIXTURES)])          # restart, explicit list
    app = make_app(PLUGINS=None, PLUGIN_PATHS=[str(FIXTURES)])          # restart, stored state
    assert app.extensions["timebank"].loaded == ["fx_base"]
    assert colours() == ["blue", "green", "red"]
    assert states()["fx_base"] == (True, "1.0.0", True, True)


# ---------------------------------------------------------------- plugins that fail
def test_plugin_raising_on_import_is_named_and_changes_nothing(app, make_app):
    before = states()
    with app.app_context():
        with pytest.raises(PluginError) as e:
            P.enable(["fx_raises"])
    assert str(e.value) == "plugin fx_raises failed to load: RuntimeError: fx_raises is broken on purpose"
    assert states() == before
    with pytest.raises(PluginError, match="plugin fx_raises failed to load"):
        make_app(plugins=["notices", "fx_raises"], PLUGIN_PATHS=[str(FIXTURES)])
    assert states() == before


def test_plugin_failing_while_installing_rolls_everything_back(app):
    before = states()
    with app.app_context():
        with pytest.raises(PluginError) as e:
            P.enable(["fx_base", "fx_load_fails"])
    assert str(e.value) == ("plugin fx_load_fails failed while being installed: "
                            "ValueError: reference data file is corrupt")
    assert states() == before
    # fx_base was installed in the same transaction: its table and rows are gone too
    assert not db.table_exists("fx_base_colour")
    assert not db.table_exists("fx_load_fails_thing")
    assert not db.table_exists("migrations_fx_base")


def test_misspelled_hook_and_uninstallable_plugin_are_refused(app):
    before = states()
    with app.app_context():
        with pytest.raises(PluginError, match=r"^plugin fx_bad_hook: unknown hook 'register_modles'"):
            P.enable(["fx_bad_hook"])
        with pytest.raises(PluginError, match="plugin fx_not_installable cannot be enabled: its manifest "
                                              "says installable: False"):
            P.enable(["fx_not_installable"])
    assert states() == before


def test_enabled_plugin_that_breaks_later_stops_start_up_but_not_the_plugin_commands(make_app, cli,
                                                                                  tmp_path):
    local = tmp_path / "plugins"
    shutil.copytree(FIXTURES / "fx_base", local / "fx_base")
    make_app(plugins=["fx_base"], PLUGIN_PATHS=[str(local)])
    before = states()
    # the plugin is upgraded to a broken version
    (local / "fx_base" / "__init__.py").write_text("raise ImportError('cannot import name Colour')\n")
    sys.modules.pop("fx_base", None)
    with pytest.raises(PluginError) as e:
        make_app(PLUGINS=None, PLUGIN_PATHS=[str(local)])
    assert str(e.value) == "plugin fx_base failed to load: ImportError: cannot import name Colour"
    assert states() == before
    # the site's owner can still see and fix the plugin state
    r = cli("migrate", TIMEBANK_PLUGIN_PATHS=str(local))  # migrations run without the plugin's code
    assert r.exit_code == 0 and r.output.strip() == "fx_base: up to date", r.output
    r = cli("plugins", "list", TIMEBANK_PLUGIN_PATHS=str(local))
    assert r.exit_code == 0 and re.search(r"^\[x\] fx_base\s", r.output, re.M), r.output
    r = cli("plugins", "disable", "fx_base", TIMEBANK_PLUGIN_PATHS=str(local))
    assert r.exit_code == 0, r.output
    app = make_app(PLUGINS=None, PLUGIN_PATHS=[str(local)])
    assert app.extensions["timebank"].loaded == []


# ---------------------------------------------------------------- migrations
V2_MODELS = '''import peewee as pw

from core.db import BaseModel


class Task(BaseModel):
    title = pw.CharField(max_length=100)
    priority = pw.IntegerField(default=0)

    class Meta:
        table_name = "fx_migrating_task"
'''
V2_MIGRATION = '''"""Version 2: tasks get a priority."""
import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("fx_migrating_task", "priority", pw.IntegerField(default=0)))
'''


def upgrade_to_v2(folder: Path):
    """Swap the plugin's files for version 2, as `pip install -U` would."""
    (folder / "models.py").write_text(V2_MODELS)
    (folder / "migrations" / "0002_add_priority.py").write_text(V2_MIGRATION)
    m = folder / "__manifest__.py"
    m.write_text(m.read_text().replace('"version": "1.0.0"', '"version": "2.0.0"'))
    for mod in [k for k in sys.modules if k.startswith("fx_migrating")]:
        del sys.modules[mod]


def history() -> list:
    return [r[0] for r in db.execute_sql("SELECT name FROM migrations_fx_migrating ORDER BY name")]


@pytest.mark.parametrize("via", ["timebank migrate", "start-up"])
def test_upgraded_plugin_migration_adds_a_column(make_app, cli, tmp_path, via):
    local = tmp_path / "plugins"
    shutil.copytree(FIXTURES / "fx_migrating", local / "fx_migrating")
    make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])
    from fx_migrating.models import Task
    Task.create(title="written by version 1")
    assert history() == ["0001_initial"]
    assert "priority" not in [c.name for c in db.get_columns("fx_migrating_task")]

    upgrade_to_v2(local / "fx_migrating")
    if via == "timebank migrate":
        r = cli("migrate", TIMEBANK_PLUGIN_PATHS=str(local))
        assert r.exit_code == 0, r.output
        assert "fx_migrating: applied 0002_add_priority" in r.output
        r = cli("migrate", TIMEBANK_PLUGIN_PATHS=str(local))
        assert "fx_migrating: up to date" in r.output
    else:
        make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])

    assert history() == ["0001_initial", "0002_add_priority"]
    assert "priority" in [c.name for c in db.get_columns("fx_migrating_task")]
    assert states()["fx_migrating"][:2] == (True, "2.0.0")
    from fx_migrating.models import Task  # version 2 of the model
    Task.create(title="written by version 2", priority=5)
    assert sorted((t.title, t.priority) for t in Task.select()) == [
        ("written by version 1", 0), ("written by version 2", 5)]


def test_fresh_install_creates_tables_from_models_and_marks_migrations_applied(make_app, tmp_path):
    local = tmp_path / "plugins"
    shutil.copytree(FIXTURES / "fx_migrating", local / "fx_migrating")
    upgrade_to_v2(local / "fx_migrating")
    make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])
    assert history() == ["0001_initial", "0002_add_priority"]  # recorded, not run (the column exists)
    assert "priority" in [c.name for c in db.get_columns("fx_migrating_task")]
    make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])  # a restart runs nothing again
    assert history() == ["0001_initial", "0002_add_priority"]


def test_failing_migration_names_plugin_and_migration(make_app, tmp_path):
    local = tmp_path / "plugins"
    shutil.copytree(FIXTURES / "fx_migrating", local / "fx_migrating")
    make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])
    (local / "fx_migrating" / "migrations" / "0002_broken.py").write_text(
        "def up(migrator, db):\n    db.execute_sql('ALTER TABLE fx_no_such_table ADD COLUMN x INTEGER')\n")
    with pytest.raises(PluginError, match=r"^plugin fx_migrating: migration 0002_broken failed: "):
        make_app(plugins=["fx_migrating"], PLUGIN_PATHS=[str(local)])
    assert history() == ["0001_initial"]


# ---------------------------------------------------------------- the timebank plugins commands
def test_plugins_commands(cli):
    r = cli("plugins", "info", "fx_child")
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["depends"] == ["fx_base"] and info["title"] == "Fixture fx_child"
    assert info["path"] == str(FIXTURES / "fx_child")

    r = cli("plugins", "enable", "fx_grandchild")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "enabled: fx_base, fx_child, fx_grandchild"
    assert enabled() == {"fx_base", "fx_child", "fx_grandchild"}
    assert cli("plugins", "enable", "fx_child").output.strip() == "enabled: nothing new"

    line = one_error_line(cli("plugins", "disable", "fx_base"))
    assert "cannot disable fx_base: enabled plugin(s) fx_child, fx_grandchild depend on it" in line
    assert cli("plugins", "disable", "fx_grandchild").output.strip() == "disabled: fx_grandchild"
    listed = cli("plugins", "list").output
    assert re.search(r"^\[x\] fx_child\s", listed, re.M) and re.search(r"^\[ \] fx_grandchild\s",
                                                                       listed, re.M)
    before = states()
    for command in (("info", "fx_nope"), ("enable", "fx_nope"), ("disable", "fx_nope")):
        assert one_error_line(cli("plugins", *command)) == "错误 / Error: unknown plugin 'fx_nope'"
    for name, message in [("fx_needs_missing", "depends on fx_not_installed, which is not installed"),
                          ("fx_cycle_b", "plugin dependency cycle: fx_cycle_b → fx_cycle_a → fx_cycle_b"),
                          ("fx_raises", "plugin fx_raises failed to load: RuntimeError"),
                          ("fx_bad_hook", "plugin fx_bad_hook: unknown hook 'register_modles'")]:
        assert message in one_error_line(cli("plugins", "enable", name))
    assert states() == before

    from core.models import AuditLog
    actions = [(a.action, a.object_id) for a in AuditLog.select().where(AuditLog.object_type == "plugin")]
    assert ("plugin.enabled", "fx_grandchild") in actions and ("plugin.disabled", "fx_grandchild") in actions


def test_plugin_commands_join_the_timebank_command(cli):
    assert cli("plugins", "enable", "fx_base").exit_code == 0
    r = cli("fx-base-colours")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "blue, green, red"


# ---------------------------------------------------------------- the admin page (插件管理)
def test_admin_page_lists_plugins_and_enables_and_disables_with_csrf(admin_client):
    page = admin_client.get("/admin/plugins/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("notices", "fx_base", "fx_child", "fx_raises"):
        assert f"<code>{name}</code>" in html
    for name in BROKEN:  # broken manifests are shown with their message
        assert f"{name}: plugin {name}: " in html
    before = states()
    assert admin_client.post("/admin/plugins/fx_child/enable").status_code == 400  # no CSRF token
    assert states() == before

    token = csrf_from(html)
    r = admin_client.post("/admin/plugins/fx_child/enable", data={"csrf_token": token})
    assert r.status_code == 302
    assert enabled() == {"notices", "fx_base", "fx_child"}
    html = admin_client.get("/admin/plugins/").get_data(as_text=True)
    assert "已启用：fx_base, fx_child" in html  # flashed, in Chinese

    r = admin_client.post("/admin/plugins/fx_base/disable", data={"csrf_token": token},
                          follow_redirects=True)
    assert "未作任何更改：cannot disable fx_base: enabled plugin(s) fx_child depend on it" in \
        r.get_data(as_text=True)
    assert enabled() == {"notices", "fx_base", "fx_child"}

    r = admin_client.post("/admin/plugins/fx_raises/enable", data={"csrf_token": token},
                          follow_redirects=True)
    assert "未作任何更改：plugin fx_raises failed to load" in r.get_data(as_text=True)

    for name in ("fx_child", "fx_base"):
        r = admin_client.post(f"/admin/plugins/{name}/disable", data={"csrf_token": token},
                              follow_redirects=True)
        assert f"已停用：{name}" in r.get_data(as_text=True)
    assert enabled() == {"notices"}
    assert admin_client.post("/admin/plugins/fx_base/explode", data={"csrf_token": token}).status_code == 404


def test_admin_page_is_refused_to_a_volunteer_and_to_anonymous(client, make_user):
    r = client.get("/admin/plugins/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    make_user("vol", "volunteer")
    assert login(client, "vol").status_code == 302
    assert client.get("/admin/plugins/").status_code == 403
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    before = states()
    assert client.post("/admin/plugins/fx_base/enable", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/plugins/notices/disable", data={"csrf_token": token}).status_code == 403
    assert states() == before


# ---------------------------------------------------------------- bad configuration
BAD_CONFIG = {
    "idle minutes": ({"TIMEBANK_SESSION_IDLE_MINUTES": "abc"}, None, ConfigError,
                     "configuration SESSION_IDLE_MINUTES = 'abc' (from $TIMEBANK_SESSION_IDLE_MINUTES) "
                     "is not valid"),
    "toml": ({}, "session_idle_minutes = \n", ConfigError, "config.toml: not valid TOML"),
    "toml value": ({}, 'login_max_failures = "many"\n', ConfigError,
                   "configuration LOGIN_MAX_FAILURES = 'many' (from "),
    "unknown key": ({}, 'sesion_idle_minutes = 30\n', ConfigError,
                    "unknown configuration key 'sesion_idle_minutes' (did you mean 'session_idle_minutes'?)"),
    "unknown table": ({}, '[mail]\nserver = "smtp.example.org"\n', ConfigError,
                      "unknown configuration key 'mail'"),
    "closed port": ({"TIMEBANK_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/x"}, None,
                    DatabaseError, "cannot connect to database postgresql://postgres:***@127.0.0.1:1/x"),
    "url scheme": ({"TIMEBANK_DATABASE_URL": "mysql://root@127.0.0.1/x"}, None, ConfigError,
                   "configuration DATABASE_URL = 'mysql://root@127.0.0.1/x'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIG))
def test_bad_configuration_is_one_message_naming_the_culprit(make_app, cli, tmp_path, monkeypatch, case):
    env, toml, error, message = BAD_CONFIG[case]
    make_app(plugins=["notices"])  # an existing site
    before = states()
    if toml is not None:
        (tmp_path / "instance" / "config.toml").write_text(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(error) as e:
        create_app({"TESTING": True})
    assert message in str(e.value)
    assert "s3cret" not in str(e.value)
    for command in (["plugins", "list"], ["migrate"], ["plugins", "enable", "fx_base"]):
        r = cli(*command, color=True, **env)
        line = one_error_line(r)
        assert message in line and "s3cret" not in line
        assert "\x1b[31m" in r.output  # red
    for k in env:
        monkeypatch.delenv(k)
    if toml is not None:
        (tmp_path / "instance" / "config.toml").unlink()
    # the site kept its previous state and starts again once the setting is fixed
    app = make_app(PLUGINS=None)
    assert app.extensions["timebank"].loaded == ["notices"]
    assert states() == before
