"""The public API a plugin author uses is the one docs/plugins.md writes down, and it is importable from
where the guide says (issue 12 point 4); the event catalogue is listed by ``timebank events``; the guide's
other promises hold: ``plugins list`` shows each plugin's source, ``core.admin.list_url`` links to a
filtered admin list by column name (issue 12 point 5).

The guide is parsed, not copied: every ``from X import Y`` / ``import X`` of its code blocks, every
``alias.name`` of a module it imported under that alias, and every ``core.…`` / ``plugins.…`` dotted name in
code or in inline code must resolve. A rename in the kernel that the guide does not follow fails here.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
EXAMPLE_PACKAGES = ("timebank_notes", "tb_grants")   # the guide's example plugins, not part of timebank


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def _inline_code(text: str) -> list[str]:
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.findall(r"`([^`\n]+)`", prose)


def _imports(code: str):
    """(module, name or None, alias) for each absolute import of a code block."""
    code = re.sub(r"\(\s*([^)]*?)\s*\)", lambda m: " ".join(m.group(1).split()), code)  # (a,\n b)
    for line in code.splitlines():
        line = line.split("#")[0].strip()
        m = re.match(r"from\s+([\w.]+)\s+import\s+(.+)$", line)
        if m:
            for part in m.group(2).split(","):
                bits = part.split()
                if bits:
                    yield m.group(1), bits[0], bits[-1]
            continue
        m = re.match(r"import\s+([\w.]+)(?:\s+as\s+(\w+))?$", line)
        if m:
            yield m.group(1), None, m.group(2) or m.group(1).split(".")[0]


def _not_ours(module: str) -> bool:
    return module.split(".")[0] in EXAMPLE_PACKAGES


def _resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and walk the rest as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)   # AttributeError: the guide names something that is not there
        return obj
    raise ImportError(dotted)


def _names_used() -> list[tuple[str, str]]:
    """(what the guide writes, the dotted path it means), without duplicates."""
    from core.events import CORE_EVENTS
    from core.security import CORE_PERMISSIONS
    # dotted words of the guide that are names of permissions and events, not Python paths
    not_python = {p.name for p in CORE_PERMISSIONS} | {e.name for e in CORE_EVENTS}
    text = GUIDE.read_text(encoding="utf-8")
    blocks = _code_blocks(text)
    out: dict[str, str] = {}
    aliases: dict[str, str] = {}       # alias → module, for modules of timebank the guide imports
    for code in blocks:
        for module, name, alias in _imports(code):
            if module.startswith(".") or _not_ours(module):   # the example plugin's own modules
                continue
            if name is None:
                out.setdefault(f"import {module}", module)
                continue
            out.setdefault(f"from {module} import {name}", f"{module}.{name}")
            if module.split(".")[0] in ("core", "plugins"):
                aliases.setdefault(alias, f"{module}.{name}")
    spans = blocks + _inline_code(text)
    for code in spans:
        code = re.sub(r"#.*", "", code) if "\n" in code else code
        for m in re.finditer(r"(?<![\w.\"'/])((?:core|plugins)(?:\.[A-Za-z_]\w*)+)", code):
            if m.group(1) not in not_python:
                out.setdefault(m.group(1), m.group(1))
        for alias, target in aliases.items():
            for m in re.finditer(rf"(?<![\w.\"'/])({re.escape(alias)})\.([A-Za-z_]\w*)(?!\.py)", code):
                out.setdefault(f"{alias}.{m.group(2)}", f"{target}.{m.group(2)}")
    return sorted(out.items())


@pytest.mark.once  # reads the guide and imports: no database behaviour
def test_i12_4_the_guide_names_enough_of_the_api_to_check():
    """issue 12 point 4: the parser finds the kernel's public names (a broken parser would pass all)."""
    used = dict(_names_used())
    for written in ("from core import hookimpl", "from core.admin import SecureModelView", "core.models.User",
                    "from core.errors import FieldErrors", "from plugins.teams.services import admin_team_ids",
                    "from plugins.teams.services import register_team", "core.admin.list_url",
                    "from plugins.activities.services import HoursConfirmed", "ledger.post", "events.emit"):
        assert written in used, f"the guide no longer shows {written!r}"
    assert len(used) > 60


@pytest.mark.once  # reads the guide and imports: no database behaviour
@pytest.mark.parametrize("written,path", _names_used())
def test_i12_4_every_name_the_guide_uses_is_importable_where_it_says(written, path):
    """issue 12 point 4: a name docs/plugins.md uses in code is importable from where the guide says."""
    try:
        _resolve(path)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"docs/plugins.md uses {written!r}, but {path} does not resolve: {e!r}")


def test_i12_4_timebank_events_lists_the_catalogue_with_modules_and_fields(make_app, tmp_path):
    """issue 12 point 4: ``timebank events`` lists every registered event class: its name, the module to
    import it from and its fields with their types; each class is importable from the module shown."""
    from core.cli import main
    from core.events import Event
    app = make_app(plugins=["activities"])
    registered = list(app.extensions["timebank"].events)
    env = {"TIMEBANK_INSTANCE_PATH": app.config["INSTANCE_PATH"], "TIMEBANK_DATABASE_URL": app.config["DATABASE_URL"],
           "TIMEBANK_PLUGINS": "activities"}
    r = CliRunner().invoke(main, ["events", "--json"], env=env)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["events"]
    assert sorted(e["name"] for e in rows) == sorted(cls.name for cls in registered)
    by_name = {e["name"]: e for e in rows}
    confirmed = by_name["activities.hours_confirmed"]
    assert (confirmed["module"], confirmed["class"], confirmed["plugin"]) == \
        ("plugins.activities.services", "HoursConfirmed", "activities")
    for e in rows:
        cls = getattr(importlib.import_module(e["module"]), e["class"])
        assert issubclass(cls, Event) and cls.name == e["name"]
        own = [f.name for f in dataclasses.fields(cls) if f.name not in ("occurred_at", "actor_id")]
        assert [f for f, _ in e["fields"]] == own
    assert by_name["core.user_logged_in"]["fields"] == [["user_id", "int"]]

    text = CliRunner().invoke(main, ["events"], env=env)
    assert text.exit_code == 0, text.output
    assert "activities.hours_confirmed  (activities)  from plugins.activities.services import HoursConfirmed" \
        in text.output
    assert "    user_id: int" in text.output


def test_i12_5_plugins_list_shows_the_source_the_guide_promises(make_app, tmp_path):
    """issue 12 point 5: the guide says ``timebank plugins list`` shows each plugin's source; the text
    listing did not (only --json had it)."""
    from core.cli import main
    app = make_app(plugins=["notices"])
    fixtures = str(Path(__file__).parent / "fixtures" / "plugins")
    env = {"TIMEBANK_INSTANCE_PATH": app.config["INSTANCE_PATH"], "TIMEBANK_DATABASE_URL": app.config["DATABASE_URL"],
           "TIMEBANK_PLUGIN_PATHS": fixtures}
    r = CliRunner().invoke(main, ["plugins", "list"], env=env)
    assert r.exit_code == 0, r.output
    lines = {m.group(1): line for line in r.output.splitlines() if (m := re.match(r"\[[x ]\] (\S+)", line))}
    assert lines["notices"].startswith("[x]") and lines["notices"].rstrip().endswith("builtin")
    local = [n for n, line in lines.items() if line.rstrip().endswith(f"path {fixtures}")]
    assert local, r.output    # the fixture plugins, found through PLUGIN_PATHS, say where they come from


def test_i12_5_list_url_links_to_a_filtered_list_by_column_name(make_app):
    """issue 12 point 5: ``core.admin.list_url`` finds the filter by column name (a bare column: its
    "equals" filter), so a widget's link survives a change of ``column_filters``; the teams widget
    uses it and its link lists the pending teams only. An unknown column is a clear error."""
    from core.admin import list_url
    from conftest import login
    from plugins.teams import services as teams
    app = make_app(plugins=["activities"])
    profile = {"leader_name": "王示例", "leader_phone": "13800138000", "service_direction": "助老",
               "district": "越秀区", "address": "示例路1号", "intro": "示例团队"}
    with app.test_request_context():
        teams.submit_for_review(teams.register_team({"name": "待审核的示例团队", **profile}))
        teams.register_team({"name": "未提交的示例团队", **profile})
    from core.models import User
    from core.security import grant_role, hash_password
    from core.testing import PASSWORD
    with app.app_context():
        grant_role(User.create(username="boss", password_hash=hash_password(PASSWORD)), "platform_admin")
    c = app.test_client()
    assert login(c, "boss").status_code == 302
    with app.test_request_context():
        url = list_url("teams_team", status="pending")
        signups = list_url("activities_signup", activity=7)
        with pytest.raises(ValueError, match="no filter 'colour'.*status"):
            list_url("teams_team", colour="red")
        with pytest.raises(ValueError, match="no admin view"):
            list_url("nowhere", status="x")
    page = c.get(url).get_data(as_text=True)
    assert "待审核的示例团队" in page and "未提交的示例团队" not in page
    dashboard = c.get("/admin/").get_data(as_text=True)
    assert url.replace("&", "&amp;") in dashboard      # the widget "Teams waiting for review" links there
    assert c.get(signups).status_code == 200
    for bad in ("abc", str(2 ** 40), str(2 ** 70), "-1"):   # an ignored filter, never a database error (NS2)
        assert c.get(signups.replace("=7", "=" + bad)).status_code == 200, bad
    # the activity page's 报名 link filters the sign-ups by activity (it passed the activity id to the
    # view's first filter, "status contains", before)
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "activities_signup")
    index = int(re.search(r"flt0_(\d+)=7$", signups).group(1))
    assert view._filters[index].column.name == "activity"
    html = Path(__file__).parent.parent / "plugins/activities/templates/activities/admin_details.html"
    assert "list_url('activities_signup', activity=model.id)" in html.read_text(encoding="utf-8")


def _public_api_table() -> list[tuple[str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Public API"):]
    section = section[:section.index("\n## ", 1)]
    out = []
    for line in section.splitlines():
        m = re.match(r"\| `([\w.]+)` \| (.*) \|$", line)
        if m:
            out += [(m.group(1), name) for name in re.findall(r"`(\w+)`", m.group(2))]
    return out


@pytest.mark.once  # reads the guide and imports: no database behaviour
def test_i12_4_the_public_api_table_is_there():
    """issue 12 point 4: the guide has its Public API table, naming at least the kernel's basics."""
    table = _public_api_table()
    assert ("core.errors", "FieldErrors") in table and ("core.models", "User") in table
    assert ("plugins.teams.services", "admin_team_ids") in table and ("core.admin", "list_url") in table


@pytest.mark.once  # reads the guide and imports: no database behaviour
@pytest.mark.parametrize("module,name", _public_api_table())
def test_i12_4_every_name_of_the_public_api_table_is_importable(module, name):
    """issue 12 point 4: each name the guide's Public API table lists exists in its module."""
    assert hasattr(importlib.import_module(module), name), f"docs/plugins.md lists {module}.{name}"


@pytest.mark.once  # runs its own pytest on SQLite
def test_i12_1_the_fixtures_come_from_the_installed_entry_point(pytestconfig, tmp_path):
    """issue 12 point 1: the fixtures are timebank's pytest plugin, registered once by the ``pytest11``
    entry point (not by tests/conftest.py), so a project outside this repository, with no conftest.py,
    gets ``app``, ``admin_client``, ``make_user``, ``login`` and ``csrf_from``, with CSRF on."""
    import os
    import subprocess
    import sys
    from importlib.metadata import entry_points
    import core.testing
    assert [e.value for e in entry_points(group="pytest11") if e.name == "timebank"] == ["core.testing"]
    assert pytestconfig.pluginmanager.get_plugin("timebank") is core.testing
    assert [p for p in pytestconfig.pluginmanager.get_plugins() if p is core.testing] == [core.testing]

    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntimebank_plugins = ["notices"]\n')
    (tmp_path / "test_outside.py").write_text('''
from core.testing import csrf_from, login


def test_admin_and_csrf(app, admin_client, make_user, client, timebank_plugins):
    assert timebank_plugins == ["notices"] and "notices" in app.extensions["timebank"].loaded
    assert admin_client.get("/admin/").status_code == 200
    page = admin_client.get("/admin/core_user/new/").get_data(as_text=True)
    assert csrf_from(page)
    assert admin_client.post("/admin/core_user/new/", data={"username": "x"}).status_code == 400


def test_volunteer(app, make_user):
    make_user("vol", "volunteer")
    c = app.test_client()
    assert login(c, "vol").status_code == 302
    assert c.get("/admin/core_user/").status_code == 403
''')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout


GUIDE_PLUGIN_MANIFEST = '''{
    "name": "guide_notes", "version": "0.1.0", "title": "Guide notes", "summary": "The guide's notes",
    "category": "Testing", "depends": ["teams"], "author": "tests", "license": "AGPL-3.0-or-later",
}
'''
GUIDE_PLUGIN_MODELS = '''import peewee as pw
from core.db import BaseModel
from plugins.teams.models import Team


class Note(BaseModel):
    title = pw.CharField(max_length=200)
    team = pw.ForeignKeyField(Team, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "guide_notes_note"

    def __str__(self):
        return self.title
'''
GUIDE_PLUGIN_INIT = '''from core import hookimpl
from core.admin import SecureModelView
from core.security import Permission, Role


class NoteView(SecureModelView):
    permission = "notes.note"
    column_list = ["title", "team"]
    form_columns = ["title"]


@hookimpl
def register_models():
    from .models import Note
    return [Note]


@hookimpl
def register_permissions():
    return [Permission(f"notes.note.{a}", a) for a in ("view", "create", "edit", "delete", "export")]


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=["notes.note.view", "notes.note.edit"])]


@hookimpl
def register_admin_views(admin):
    from .models import Note
    return [NoteView(Note, name="Notes", endpoint="notes_note")]


'''


def _guide_hook_code(hook: str) -> str:
    """The guide's example implementation of ``hook`` (the code block of its section that has a body)."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(f"### {hook}\n"):]
    section = section[:section.index("\n### ", 1)]
    blocks = [b for b in _code_blocks(section) if "admin_team_ids" in b or "from .models" in b]
    assert blocks, f"the guide's '### {hook}' section has no example"
    return blocks[0]


def test_ac6_i12_5_the_guides_team_scoping_examples_work_for_every_role(make_app, tmp_path):
    """issue 12 point 5 (AC6): the guide's own ``permission_allowed`` and ``scope_query`` examples, run as a
    plugin: a platform admin sees and opens every note (the old example raised TypeError, since
    ``admin_team_ids`` is None for them), a team admin only their team's, a note with no team is denied,
    and the example uses no undeclared permission."""
    folder = tmp_path / "plugins" / "guide_notes"
    folder.mkdir(parents=True)
    (folder / "__manifest__.py").write_text(GUIDE_PLUGIN_MANIFEST)
    (folder / "models.py").write_text(GUIDE_PLUGIN_MODELS)
    code = GUIDE_PLUGIN_INIT + _guide_hook_code("permission_allowed") + "\n\n" + _guide_hook_code("scope_query")
    assert "notes.note.all" not in code
    (folder / "__init__.py").write_text(code, encoding="utf-8")
    app = make_app(plugins=["guide_notes"], PLUGIN_PATHS=[str(folder.parent)])

    from core.security import grant_role, hash_password
    from core.models import User
    from core.testing import PASSWORD, login
    from plugins.teams import services as teams
    import guide_notes.models as m
    profile = {"leader_name": "王示例", "leader_phone": "13800138000"}
    with app.test_request_context():
        a = teams.register_team({"name": "甲队", **profile})
        b = teams.register_team({"name": "乙队", **profile})
        notes = {"a": m.Note.create(title="甲队笔记", team=a).id, "b": m.Note.create(title="乙队笔记", team=b).id,
                 "none": m.Note.create(title="无队笔记", team=None).id}
        grant_role(User.create(username="boss", password_hash=hash_password(PASSWORD)), "platform_admin")
        grant_role(User.create(username="ta", password_hash=hash_password(PASSWORD)), "team_admin", f"team:{a.id}")

    boss, ta = app.test_client(), app.test_client()
    assert login(boss, "boss").status_code == 302 and login(ta, "ta").status_code == 302
    page = boss.get("/admin/notes_note/").get_data(as_text=True)
    assert all(t in page for t in ("甲队笔记", "乙队笔记", "无队笔记"))
    for key, nid in notes.items():
        assert boss.get(f"/admin/notes_note/edit/?id={nid}").status_code == 200, key
    from core.testing import csrf_from
    form = boss.get(f"/admin/notes_note/edit/?id={notes['b']}").get_data(as_text=True)
    r = boss.post(f"/admin/notes_note/edit/?id={notes['b']}", data={"title": "乙队笔记（改）",
                                                                   "csrf_token": csrf_from(form)})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        assert m.Note.get_by_id(notes["b"]).title == "乙队笔记（改）"
    page = ta.get("/admin/notes_note/").get_data(as_text=True)
    assert "甲队笔记" in page and "乙队笔记" not in page and "无队笔记" not in page
    assert ta.get(f"/admin/notes_note/edit/?id={notes['a']}").status_code == 200
    for key in ("b", "none"):
        r = ta.get(f"/admin/notes_note/edit/?id={notes[key]}")
        assert r.status_code in (302, 403, 404) and "笔记" not in r.get_data(as_text=True), key
    with app.test_request_context():
        from core.security import can
        with app.app_context():
            boss_user = User.get(User.username == "boss")
            ta_user = User.get(User.username == "ta")
            for key in notes:   # the old example: `obj.team_id in None` raised TypeError here
                assert can("notes.note.edit", m.Note.get_by_id(notes[key]), user=boss_user), key
            assert not can("notes.note.edit", m.Note.get_by_id(notes["none"]), user=ta_user)
            assert not can("notes.note.edit", m.Note.get_by_id(notes["b"]), user=ta_user)
