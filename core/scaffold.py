"""``timebank plugins new NAME``: an installable third-party plugin, ready for ``pip install -e``."""
from __future__ import annotations

import re
from pathlib import Path

FILES = {
    "pyproject.toml": '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "timebank-{dash}"
version = "0.1.0"
description = "{title} — a plugin for the timebank community volunteer system"
requires-python = ">=3.11"
dependencies = ["timebank"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."timebank.plugins"]
{name} = "{pkg}"

[tool.setuptools.packages.find]
include = ["{pkg}*"]

[tool.setuptools.package-data]
# migrations/ has no __init__.py: ship its files as data, like the catalogs and templates
"{pkg}" = ["migrations/*.py", "locale/*/LC_MESSAGES/*.po", "templates/**/*.html"]

[tool.pytest.ini_options]
testpaths = ["tests"]
# the fixtures (app, client, make_app, make_user, admin_client, server, …) come from timebank's pytest
# plugin; app / make_app() build a site with these plugins enabled
timebank_plugins = ["{name}"]
''',
    "README.md": '''# {title} ({name})

A plugin for the timebank system (see its docs/plugins.md). Install and enable:

    pip install -e .
    timebank plugins enable {name}

Test: `pip install -e '.[test]'` and `pytest`. The fixtures (`app`, `client`, `make_app`, `make_user`,
`admin_client`, `login`, `csrf_from`, a served site for browser tests, a PostgreSQL database per worker
with `TIMEBANK_TEST_DATABASE_URL`) come from timebank's own pytest plugin (`core.testing`), found
through its entry point: there is no conftest.py to copy.

Translations: source strings are English, wrapped in `_()` / `_l()`; the Chinese catalog is
`{pkg}/locale/zh_Hans_CN/LC_MESSAGES/messages.po`. After adding strings:

    pybabel extract -F babel.cfg -k _l -o messages.pot .
    pybabel update -i messages.pot -d {pkg}/locale -l zh_Hans_CN

Schema changes: add `{pkg}/migrations/0002_<what>.py` with `up(migrator, db)`, change the model, and
run `timebank migrate`.
''',
    "babel.cfg": '''[timebank_manifest: {pkg}/__manifest__.py]
[python: {pkg}/**.py]
[jinja2: {pkg}/templates/**.html]
''',
    ".gitignore": '''__pycache__/
*.egg-info/
build/
dist/
*.mo
messages.pot
''',
    "{pkg}/__manifest__.py": '''{{
    "name": "{name}",
    "version": "0.1.0",
    "title": "{title}",
    "summary": "Keeps notes for the community",
    "category": "Community",
    "depends": [],
    "author": "Your name",
    "license": "AGPL-3.0-or-later",
    "default_enabled": False,
}}
''',
    "{pkg}/__init__.py": '''"""{title}: hook implementations only (see docs/plugins.md of timebank)."""
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core import hookimpl
from core.security import Permission, Role


@hookimpl
def register_models():
    from .models import Note
    return [Note]


@hookimpl
def register_admin_views(admin):
    from .admin import NoteView
    from .models import Note
    return [NoteView(Note, name=_l("Notes"), endpoint="{name}_note", category=_l("Community"))]


@hookimpl
def register_permissions():
    return [Permission("{name}.note.view", _l("View notes")),
            Permission("{name}.note.create", _l("Create notes")),
            Permission("{name}.note.edit", _l("Edit notes")),
            Permission("{name}.note.delete", _l("Delete notes")),
            Permission("{name}.note.export", _l("Export notes"))]


@hookimpl
def register_roles():
    return [Role("team_admin", permissions=["{name}.note.view", "{name}.note.create"])]


@hookimpl
def register_translations():
    return [str(Path(__file__).parent / "locale")]
''',
    "{pkg}/models.py": '''import peewee as pw

from core.db import BaseModel, DateTimeTZField, now


class Note(BaseModel):
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    created_at = DateTimeTZField(default=now)

    class Meta:
        table_name = "{name}_note"

    def __str__(self):
        return self.title
''',
    "{pkg}/admin.py": '''from flask_babel import lazy_gettext as _l

from core.admin import SecureModelView


class NoteView(SecureModelView):
    permission = "{name}.note"
    column_list = ["title", "created_at"]
    form_columns = ["title", "body"]
    column_searchable_list = ["title", "body"]
    column_labels = {{"title": _l("Title"), "body": _l("Content"), "created_at": _l("Created")}}
''',
    "{pkg}/migrations/0001_initial.py": '''"""Initial schema: created from the models when the plugin is first enabled; kept as the baseline.
Add 0002_….py files with up(migrator, db) for later schema changes (peewee playhouse.migrations)."""


def up(migrator, db):
    pass
''',
    "tests/test_{name}.py": '''"""A throw-away site with this plugin enabled (pyproject.toml: timebank_plugins), built by the
fixtures of timebank's pytest plugin. CSRF stays on, as on a real site: POSTs carry the form's token."""
from core.testing import csrf_from, login

from {pkg}.models import Note

URL = "/admin/{name}_note/"


def test_the_note_list_is_in_chinese(app, admin_client):
    with app.app_context():
        Note.create(title="第一条")
    page = admin_client.get(URL).get_data(as_text=True)
    assert "社区笔记" in page and "第一条" in page and "标题" in page


def test_a_note_is_created_through_the_admin_form(app, admin_client):
    form = admin_client.get(URL + "new/").get_data(as_text=True)
    r = admin_client.post(URL + "new/", data={{"title": "楼道清扫安排", "body": "每周六",
                                              "csrf_token": csrf_from(form)}})
    assert r.status_code == 302
    with app.app_context():
        assert Note.get(Note.title == "楼道清扫安排").body == "每周六"


def test_a_post_without_the_csrf_token_is_refused(app, admin_client):
    r = admin_client.post(URL + "new/", data={{"title": "无令牌"}})
    assert r.status_code == 400
    with app.app_context():
        assert not Note.select().exists()


def test_a_volunteer_cannot_open_the_notes(client, make_user):
    make_user("volunteer1", "volunteer")
    assert login(client, "volunteer1").status_code == 302
    assert client.get(URL).status_code == 403
''',
}


# the Chinese catalog: msgid → msgstr; the manifest's title is added (English msgid, --title-zh)
CATALOG = {
    "Notes": "社区笔记",
    "Keeps notes for the community": "为社区记录笔记",
    "Community": "社区",
    "View notes": "查看笔记",
    "Create notes": "新建笔记",
    "Edit notes": "编辑笔记",
    "Delete notes": "删除笔记",
    "Export notes": "导出笔记",
    "Title": "标题",
    "Content": "内容",
    "Created": "创建时间",
}
PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: zh_Hans_CN\\n"\n'
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def catalog(title: str, title_zh: str | None) -> str:
    """The plugin's zh_Hans_CN messages.po: the scaffold's strings and the manifest title."""
    entries = dict(CATALOG)
    if title_zh or title not in entries:
        entries[title] = title_zh or ""
    body = "".join(f"\nmsgid {_po_string(k)}\nmsgstr {_po_string(v)}\n" for k, v in entries.items())
    return PO_HEADER + body


def scaffold(name: str, dest: Path, title: str | None = None, title_zh: str | None = None) -> Path:
    """Write the plugin NAME into DEST. ``title`` is the manifest title: an English msgid (the
    project's convention, like every source string), shown through the plugin's catalog, where
    ``title_zh`` is written as its translation."""
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise ValueError(f"plugin name {name!r} must match [a-z][a-z0-9_]*")
    from .plugins import BUILTIN_DIR
    if (BUILTIN_DIR / name).exists():
        raise ValueError(f"plugin name {name!r} is taken by a built-in plugin")
    if title is not None and (not title.strip() or any(c in title for c in '"\\{}\n')):
        raise ValueError("the title must be one line of text without quotes, backslashes or braces")
    if title is not None and CJK.search(title):
        raise ValueError("the title is an English msgid, translated through the plugin's catalog: "
                         "give the Chinese title with --title-zh")
    if title_zh is not None and (not title_zh.strip() or any(c in title_zh for c in '"\\{}\n')):
        raise ValueError("the title must be one line of text without quotes, backslashes or braces")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} exists and is not empty")
    ctx = {"name": name, "pkg": f"timebank_{name}", "dash": name.replace("_", "-"),
           "title": title or name.replace("_", " ").title()}
    for rel, body in FILES.items():
        path = dest / rel.format(**ctx)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body.format(**ctx), encoding="utf-8")
    po = dest / ctx["pkg"] / "locale" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(catalog(ctx["title"], title_zh), encoding="utf-8")
    return dest
