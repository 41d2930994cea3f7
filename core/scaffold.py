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

[project.entry-points."timebank.plugins"]
{name} = "{pkg}"

[tool.setuptools.packages.find]
include = ["{pkg}*"]

[tool.setuptools.package-data]
# migrations/ has no __init__.py: ship its files as data, like the catalogs and templates
"{pkg}" = ["migrations/*.py", "locale/*/LC_MESSAGES/*.po", "templates/**/*.html"]
''',
    "README.md": '''# {title} ({name})

A plugin for the timebank system (see its docs/plugins.md). Install and enable:

    pip install -e .
    timebank plugins enable {name}

Test: `pytest tests`.

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
    "{pkg}/locale/zh_Hans_CN/LC_MESSAGES/messages.po": '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: zh_Hans_CN\\n"

msgid "Notes"
msgstr "社区笔记"

msgid "Keeps notes for the community"
msgstr "为社区记录笔记"

msgid "Community"
msgstr "社区"

msgid "View notes"
msgstr "查看笔记"

msgid "Create notes"
msgstr "新建笔记"

msgid "Edit notes"
msgstr "编辑笔记"

msgid "Delete notes"
msgstr "删除笔记"

msgid "Export notes"
msgstr "导出笔记"

msgid "Title"
msgstr "标题"

msgid "Content"
msgstr "内容"

msgid "Created"
msgstr "创建时间"
''',
    "tests/test_{name}.py": '''"""Runs against a throw-away site with only this plugin enabled."""
import pytest

from core import create_app


@pytest.fixture
def app(tmp_path):
    return create_app({{"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{{tmp_path}}/test.db",
                       "PLUGINS": ["{name}"], "TESTING": True, "WTF_CSRF_ENABLED": False}})


def test_note_admin_in_chinese(app):
    from core.models import User
    from core.security import grant_role, hash_password
    from {pkg}.models import Note
    with app.app_context():
        u = User.create(username="boss", password_hash=hash_password("a long pass phrase"))
        grant_role(u, "platform_admin")
        Note.create(title="第一条")
    c = app.test_client()
    c.post("/login", data={{"username": "boss", "password": "a long pass phrase"}})
    page = c.get("/admin/{name}_note/").get_data(as_text=True)
    assert "社区笔记" in page and "第一条" in page
''',
}


def scaffold(name: str, dest: Path, title: str | None = None) -> Path:
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise ValueError(f"plugin name {name!r} must match [a-z][a-z0-9_]*")
    from .plugins import BUILTIN_DIR
    if (BUILTIN_DIR / name).exists():
        raise ValueError(f"plugin name {name!r} is taken by a built-in plugin")
    if title is not None and (not title.strip() or any(c in title for c in '"\\{}\n')):
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
    return dest
