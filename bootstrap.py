#!/usr/bin/env python3
"""Set up and run timebank on a fresh machine with nothing but the system Python.

    python3 bootstrap.py demo [ARGS…]   install into ./.venv, then `timebank demo ARGS…`
    python3 bootstrap.py test [ARGS…]   install with the test extras, then `pytest ARGS…`
    python3 bootstrap.py run  ARGS…     install, then `timebank ARGS…`

Why a script and not `pip install …`: Debian and Ubuntu mark their Python "externally managed" (PEP 668),
so a bare `pip install` is refused, and their stock python3 has no `ensurepip` (that is the separate
python3-venv package), so `python3 -m venv .venv` fails as well. This script needs neither: it creates
`.venv` with the standard library's venv module, and when ensurepip is missing it creates the environment
without pip and installs pip from the package index (the same wheel `get-pip` would use). The environment
is reused on the next run and re-installed only when pyproject.toml changed.

Standard library only; Python 3.11 or newer (what the project needs).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TIMEBANK_VENV", ROOT / ".venv"))
MIN_PYTHON = (3, 11)
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
USAGE = __doc__.split("\n\n")[1]


def say(msg: str) -> None:
    print(f"[bootstrap] {msg}", flush=True)


def fail(msg: str) -> None:
    print(f"[bootstrap] 失败 / failed: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_ensurepip() -> bool:
    if os.environ.get("TIMEBANK_BOOTSTRAP_NO_ENSUREPIP"):  # CI walks the stock-Debian path with this
        return False
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


def _version_key(filename: str) -> tuple:
    version = filename.split("-")[1]
    parts = version.split(".")
    if not all(p.isdigit() for p in parts):
        return ()  # a pre-release or odd version: never chosen
    return tuple(int(p) for p in parts)


def _pip_wheel_url() -> tuple[str, str]:
    """The newest final pip wheel for any Python 3, from the index's JSON simple API (PEP 691)."""
    req = urllib.request.Request(f"{INDEX}/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        data = json.load(resp)
    wheels = [f for f in data["files"] if f["filename"].endswith("-py3-none-any.whl") and not f.get("yanked")
              and _version_key(f["filename"])]
    if not wheels:
        raise RuntimeError(f"no pip wheel at {INDEX}/pip/")
    best = max(wheels, key=lambda f: _version_key(f["filename"]))
    return best["filename"], best["url"]


def install_pip_without_ensurepip(python: Path) -> None:
    name, url = _pip_wheel_url()
    say(f"this Python has no ensurepip (Debian's python3-venv is not installed): fetching {name}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / name
        with urllib.request.urlopen(url, timeout=120) as resp:
            wheel.write_bytes(resp.read())
        # A wheel is a zip that Python can run from: pip installs itself from its own wheel.
        subprocess.run([str(python), str(wheel / "pip"), "install", "-q", "--no-index", str(wheel)], check=True)


def make_venv() -> Path:
    python = venv_python()
    if python.exists() and subprocess.run([str(python), "-m", "pip", "--version"],
                                          capture_output=True).returncode == 0:
        return python
    import venv
    say(f"creating {VENV}")
    with_pip = has_ensurepip()
    venv.EnvBuilder(with_pip=with_pip, clear=VENV.exists(), upgrade_deps=False).create(VENV)
    if not with_pip:
        install_pip_without_ensurepip(python)
    return python


def install(python: Path, extras: str) -> None:
    """`pip install -e .[extras]`, skipped when this pyproject.toml was installed with these extras before
    (the test extras include the base install, so a `demo` after a `test` installs nothing)."""
    stamp = VENV / ".timebank-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    done = set(stamp.read_text().split()) if stamp.exists() else set()
    if f"{digest}:{extras}" in done or (not extras and any(d.startswith(digest) for d in done)):
        return
    target = f".[{extras}]" if extras else "."
    say(f"pip install -e '{target}' into {VENV}")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT, check=True, env=env)
    stamp.write_text("\n".join(sorted({d for d in done if d.startswith(digest)} | {f"{digest}:{extras}"})))


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        fail(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is {sys.version.split()[0]}. "
             f"On Debian 12 / Ubuntu 24.04 the system python3 is new enough.")
    if not argv or argv[0] not in ("demo", "test", "run"):
        print(USAGE)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        python = make_venv()
        install(python, "test" if command == "test" else "")
    except (OSError, subprocess.CalledProcessError, RuntimeError, ValueError) as exc:
        fail(str(exc))
    bindir = python.parent
    if command == "test":
        args = [str(python), "-m", "pytest", *rest]
    elif command == "demo":
        args = [str(bindir / "timebank"), "demo", *rest]
    else:
        args = [str(bindir / "timebank"), *rest]
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.run(args, env=env).returncode
    os.execve(args[0], args, env)  # the server or pytest takes over this process (signals, exit code)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
