"""One timezone for the whole site (issue 11 point 13).

``TIMEZONE`` was a configuration key while storage (core.db), ``today()`` and everything computing
business dates hard-coded Asia/Shanghai: a site setting ``TIMEZONE = "UTC"`` got Babel formatting and
task schedules in UTC over times stored as Beijing wall time. Decision: not a setting. The timezone is
``core.config.TIMEZONE`` (Asia/Shanghai: stored times are its wall time, the rules are Beijing time),
``core.db.TZ`` is built from it and everything else (now/today, stored times, task schedules, Babel's
formatting) uses ``core.db.TZ``; a configured TIMEZONE other than that stops start-up with a message."""
from __future__ import annotations

import ast
import datetime as _dt
from pathlib import Path

import pytest

from core import ConfigError
from core import config as C

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.once
def test_tz_a_configured_timezone_other_than_the_sites_one_stops_start_up(tmp_path, monkeypatch):
    """issue 11 point 13: every layer (config.toml, environment, create_app) refuses another zone with
    a message naming the key; the same zone is accepted (existing config files keep working). Failed
    before: any text was accepted and only Babel and the task schedules followed it."""
    inst = tmp_path / "instance"
    inst.mkdir()
    monkeypatch.delenv("TIMEBANK_TIMEZONE", raising=False)
    with pytest.raises(ConfigError, match=r"TIMEZONE = 'UTC' \(from create_app\(\)\).*Asia/Shanghai"):
        C.load_config({"INSTANCE_PATH": str(inst), "TIMEZONE": "UTC"})
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Europe/Paris")
    with pytest.raises(ConfigError, match=r"TIMEZONE = 'Europe/Paris' \(from \$TIMEBANK_TIMEZONE\)"):
        C.load_config({"INSTANCE_PATH": str(inst)})
    monkeypatch.delenv("TIMEBANK_TIMEZONE")
    (inst / "config.toml").write_text('timezone = "America/New_York"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"TIMEZONE = 'America/New_York' \(from .*config.toml\)"):
        C.load_config({"INSTANCE_PATH": str(inst)})
    (inst / "config.toml").write_text('timezone = "Asia/Shanghai"\n', encoding="utf-8")
    assert C.load_config({"INSTANCE_PATH": str(inst)})["TIMEZONE"] == "Asia/Shanghai"
    (inst / "config.toml").unlink()
    assert C.load_config({"INSTANCE_PATH": str(inst)})["TIMEZONE"] == C.TIMEZONE == "Asia/Shanghai"


def test_tz_storage_today_tasks_and_babel_use_the_one_timezone(app):
    """issue 11 point 13: core.db.TZ, today(), stored times, the task schedules and Babel's
    formatting in templates all use core.config.TIMEZONE."""
    from flask_babel import format_datetime

    from core.db import TZ, now, today
    kernel = app.extensions["timebank"]
    assert TZ.key == C.TIMEZONE == app.config["TIMEZONE"] == app.config["BABEL_DEFAULT_TIMEZONE"]
    assert kernel.tasks.timezone is TZ
    assert now().utcoffset() == _dt.timedelta(hours=8)
    assert today() == _dt.datetime.now(_dt.timezone.utc).astimezone(TZ).date()
    # 16:30 UTC on New Year's Eve is 00:30 on New Year's Day in Guangzhou, in templates too
    late = _dt.datetime(2025, 12, 31, 16, 30, tzinfo=_dt.timezone.utc)
    with app.test_request_context():
        assert "00:30" in format_datetime(late, "yyyy-MM-dd HH:mm") and "2026-01-01" in format_datetime(
            late, "yyyy-MM-dd HH:mm")
    # a stored time comes back as Beijing wall time whatever zone it was written in
    from core.db import DateTimeTZField
    f = DateTimeTZField()
    stored = f.db_value(late)
    assert str(stored).startswith("2026-01-01 00:30")
    assert f.python_value(stored) == late and f.python_value(stored).tzinfo is TZ


def _code_strings_and_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield "string", node.value, node.lineno
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("ZoneInfo", "timezone") and node.args:
                yield "call", name, node.lineno


@pytest.mark.once
def test_tz_no_module_names_a_timezone_of_its_own():
    """issue 11 point 13, the defect class: outside core/config.py (the value) and core/db.py (TZ),
    no kernel or plugin code spells a zone name or builds a zone — they use core.db.TZ / today().
    Failed before: core/db.py spelt "Asia/Shanghai" itself; rosters and tasks built their own."""
    offenders = []
    for path in sorted([*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("plugins").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        for what, value, line in _code_strings_and_calls(path):
            if what == "string" and "Asia/" in value and rel != "core/config.py":
                offenders.append(f"{rel}:{line}: {value!r}")
            if what == "call" and value == "ZoneInfo" and rel != "core/db.py":
                offenders.append(f"{rel}:{line}: ZoneInfo(...)")
    assert offenders == []
