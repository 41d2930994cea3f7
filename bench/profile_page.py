#!/usr/bin/env python3
"""Where does a kernel page spend its time? In-process companion of kernel_page.py.

Builds the same site (every built-in plugin, seeded data), logs in through the test client and
times N requests of a page in this process (no server, no load generator, so it is far less
sensitive to other work on the machine than wrk), for the kernel and the bare app; with --profile
it prints the cProfile top of the kernel requests. CPU time per request is what the ratio in
kernel_page.py comes down to on a machine whose cores are all busy.

Usage: python bench/profile_page.py [--scenario notice|inbox] [-n 500] [--profile] [--database-url …]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import kernel_page as K  # noqa: E402
from common import print_profile  # noqa: E402


def timed(client, path, n, headers=None, expect=200, rounds=5):
    """Best of ``rounds`` rounds of n/rounds requests: (wall ms, cpu ms) per request. The best round
    is the one least disturbed by other work on the machine."""
    r = client.get(path, headers=headers or {})
    assert r.status_code == expect, (path, r.status_code, r.get_data(as_text=True)[:300])
    per = max(1, n // rounds)
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(per):
            client.get(path, headers=headers or {})
        best = min(best, ((time.perf_counter() - t0) / per * 1000, (time.process_time() - c0) / per * 1000),
                   key=lambda x: x[1])
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=sorted(K.SCENARIOS), default="notice")
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--profile", action="store_true", help="cProfile top of the kernel requests")
    ap.add_argument("--sample", action="store_true",
                    help="pyinstrument call tree instead (pip install pyinstrument; less distortion)")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--reset", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tb-prof-"))
    url = args.database_url or f"sqlite:///{tmp / 'instance' / 'bench.db'}"
    if url.startswith("postgres"):
        if not args.reset:
            raise SystemExit("pass --reset to confirm --database-url is a scratch database")
        K.reset_postgres(url)
    try:
        site = K.build_site(tmp / "instance", url)
        path = K.SCENARIOS[args.scenario]["path"].format(**site)

        bare = K.bare_app(url, args.scenario).test_client()
        bare_path = path if args.scenario == "notice" else f"/inbox/{site['user_id']}"
        wall_b, cpu_b = timed(bare, bare_path, args.n)

        from core import SiteApp
        from werkzeug.test import Client
        from werkzeug.wrappers import Response
        site_app = SiteApp(None)
        client = Client(site_app, Response, use_cookies=True)
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        r = client.post("/login", data={"username": K.BENCH_USER, "password": K.BENCH_PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, r.status_code
        wall_k, cpu_k = timed(client, path, args.n)
        body = client.get(path).get_data(as_text=True)
        assert K.BENCH_USER in body, "not logged in"

        print(f"{args.scenario}: bare {wall_b:.2f} ms/request (cpu {cpu_b:.2f}), "
              f"kernel {wall_k:.2f} ms/request (cpu {cpu_k:.2f}); "
              f"cpu ratio bare/kernel {cpu_b / cpu_k:.2f}")
        if args.sample:
            from pyinstrument import Profiler
            prof = Profiler(interval=0.0002)
            prof.start()
            for _ in range(args.n):
                client.get(path)
            prof.stop()
            print(prof.output_text(unicode=True, color=False, show_all=os.environ.get("PI_ALL") == "1"))
        if args.profile:
            print_profile(lambda _i: client.get(path), args.n, args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
