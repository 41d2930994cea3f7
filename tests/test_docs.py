"""The plugin author guide keeps up with the contract (as Datasette's test_docs.py does): every hook in
core/hookspecs.py has a docstring and a `### <hook>` section in docs/plugins.md showing its arguments,
no section documents a hook that does not exist, and every manifest field is described."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs
from core.plugins import FLAG_KEYS, REQUIRED

pytestmark = pytest.mark.once  # no database behaviour: the SQLite pass is enough

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def hooks() -> dict:
    return {name: fn for name, fn in vars(hookspecs).items()
            if inspect.isfunction(fn) and hasattr(fn, "timebank_spec")}


def sections() -> dict:
    """`### name` heading → the text up to the next heading of level 2 or 3."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.M)
    out = {}
    for heading, body in zip(parts[1::2], parts[2::2]):
        m = re.fullmatch(r"### (\w+)", heading.strip())
        if m:
            out[m.group(1)] = body
    return out


def test_the_contract_has_hooks():
    assert len(hooks()) >= 20


@pytest.mark.parametrize("hook", sorted(hooks()))
def test_hook_has_a_docstring(hook):
    doc = inspect.getdoc(hooks()[hook]) or ""
    assert len(doc) > 40, f"{hook} in core/hookspecs.py needs a docstring: when it is called, what it returns"


@pytest.mark.parametrize("hook", sorted(hooks()))
def test_hook_is_documented_with_its_arguments(hook):
    found = sections()
    assert hook in found, f"docs/plugins.md has no '### {hook}' section"
    args = list(inspect.signature(hooks()[hook]).parameters)
    m = re.search(rf"def {hook}\(([^)]*)\)", found[hook])
    assert m, f"the '### {hook}' section shows no 'def {hook}(…)'"
    shown = [a.strip() for a in m.group(1).split(",") if a.strip()]
    assert shown == args, f"docs show {hook}({', '.join(shown)}), the spec is {hook}({', '.join(args)})"
    assert len(found[hook].split()) > 25, f"the '### {hook}' section says too little"


def test_no_section_documents_a_hook_that_does_not_exist():
    stale = sorted(set(sections()) - set(hooks()))
    assert stale == [], f"docs/plugins.md documents hooks that core/hookspecs.py lacks: {stale}"


@pytest.mark.parametrize("field", REQUIRED + FLAG_KEYS)
def test_manifest_field_is_documented(field):
    text = GUIDE.read_text(encoding="utf-8")
    assert re.search(rf"^\| `{field}` \|", text, re.M), f"manifest field {field!r} is not in the guide's table"
