#!/usr/bin/env python3
"""Instructions per request of the kernel page and the bare app, counted by valgrind's callgrind.

wrk's requests/s move with whatever else the machine runs; instruction counts do not. This runs
the same site and pages as kernel_page.py in-process (Werkzeug test client, no server) under
``valgrind --tool=callgrind`` twice, with a few and with many requests, and divides the difference,
so start-up, imports and the login cancel out. Use it to compare a change before and after.

Usage: python bench/instructions.py [--scenario notice|inbox] [--few 20 --many 120]
Needs valgrind (Debian package valgrind). SQLite only. Takes a few minutes.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def run(instance: Path, app: str, scenario: str, n: int):
    """Serve ``n`` requests of the scenario's page in this process (called under valgrind)."""
    import os
    import re as _re
    import kernel_page as K
    site = json.loads((instance / "bench-site.json").read_text())
    url = site["url"]
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(instance)
    os.environ["TIMEBANK_DATABASE_URL"] = url
    path = K.SCENARIOS[scenario]["path"].format(**site)
    if app == "bare":
        client = K.bare_app(url, scenario).test_client()
        path = path if scenario == "notice" else f"/inbox/{site['user_id']}"
    else:
        from werkzeug.test import Client
        from werkzeug.wrappers import Response
        from core import SiteApp
        client = Client(SiteApp(None), Response, use_cookies=True)
        html = client.get("/login").get_data(as_text=True)
        token = _re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        r = client.post("/login", data={"username": K.BENCH_USER, "password": K.BENCH_PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, r.status_code
    r = client.get(path)
    assert r.status_code == 200, r.status_code
    if app == "kernel":
        assert K.BENCH_USER in r.get_data(as_text=True), "not logged in"
    for _ in range(n):
        client.get(path)


def count(instance: Path, app: str, scenario: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, "_run", str(instance), app, scenario, str(n)],
        capture_output=True, text=True, env={**__import__("os").environ, "PYTHONHASHSEED": "0"})
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or not m:
        raise SystemExit(f"valgrind run failed:\n{out.stderr[-3000:]}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="notice")
    ap.add_argument("--few", type=int, default=20)
    ap.add_argument("--many", type=int, default=120)
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    import kernel_page as K
    tmp = Path(tempfile.mkdtemp(prefix="tb-instr-"))
    try:
        url = f"sqlite:///{tmp / 'instance' / 'bench.db'}"
        site = K.build_site(tmp / "instance", url)
        site["url"] = url
        (tmp / "instance" / "bench-site.json").write_text(json.dumps(site))
        per = {}
        for app in ("bare", "kernel"):
            few = count(tmp / "instance", app, args.scenario, args.few)
            many = count(tmp / "instance", app, args.scenario, args.many)
            per[app] = (many - few) / (args.many - args.few)
            print(f"{args.scenario} {app:<6} {per[app] / 1e6:7.2f} M instructions/request", flush=True)
        print(f"{args.scenario}: instruction ratio bare/kernel {per['bare'] / per['kernel']:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        run(Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
