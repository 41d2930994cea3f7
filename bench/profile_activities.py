#!/usr/bin/env python3
"""Where do the activity listing and the sign-up spend their time? In-process companion of
activities.py (as profile_page.py is of kernel_page.py).

Builds the same kind of site as activities.py on a small data set (``--activities``, default
20,000), logs volunteers in through the kernel's session API, and times requests in this process
through the Werkzeug test client (no server, no wrk), for the real pages and for the bare app's
SELECT / INSERT: CPU ms per request, best of five rounds. ``--profile`` prints the cProfile top of
the real page's requests.

Usage: python bench/profile_activities.py [--scenario listing|signup] [-n 500] [--profile]
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import activities as A  # noqa: E402
from common import print_profile  # noqa: E402


def best_of(fn, n, rounds=5):
    """CPU ms per call of ``fn(i)``, best of ``rounds`` rounds of n/rounds calls (i runs on)."""
    per, i, best = max(1, n // rounds), 0, float("inf")
    for _ in range(rounds):
        c0 = time.process_time()
        for _ in range(per):
            fn(i)
            i += 1
        best = min(best, (time.process_time() - c0) / per * 1000)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", choices=["listing", "signup"], default="signup")
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--activities", type=int, default=20_000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--callers", help="with --profile: print who calls the functions matching this, "
                    "e.g. local.py:310")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb-prof-"))
    url = f"sqlite:///{tmp / 'instance' / 'bench.db'}"
    n_rounds_total = args.n * (3 if args.profile else 2) + 10
    sizes = {"activities": args.activities, "signups": args.activities * 2, "volunteers": 5000, "teams": 50,
             "sessions": 200, "burst": 10, "burst_capacity": 5,
             "bench_shifts": n_rounds_total // 200 + 2}
    try:
        site = A.build_site(tmp / "instance", url, sizes)
        from werkzeug.test import Client
        from werkzeug.wrappers import Response
        from core import SiteApp
        kernel = Client(SiteApp(None), Response, use_cookies=False)  # each request sends its own session
        bare = A.bare_app(url).test_client()
        if args.scenario == "listing":
            q = urllib.parse.urlencode({"district": A.DISTRICT, "field": site["field_id"], "q": A.KEYWORD})
            page, bare_page = f"/activities/?{q}", f"/list?district={A.DISTRICT}&field={site['field_id']}"
            assert kernel.get(page).status_code == 200 and bare.get(bare_page).status_code == 200

            def k(_i):
                kernel.get(page)

            def b(_i):
                bare.get(bare_page)
        else:
            lines = A.make_sessions(site["session_volunteers"], tmp / "sessions.tsv")
            sess = [ln.split("\t") for ln in lines]
            kslots, bslots = site["shifts"]["kernel"], site["shifts"]["bare"]

            def k(i):
                cookie, token, _vid = sess[i % len(sess)]
                shift_id, _aid = kslots[i // len(sess)]
                r = kernel.post(f"/activities/shifts/{shift_id}/signup", headers={"Cookie": cookie},
                                data={"csrf_token": urllib.parse.unquote(token)})
                assert r.status_code == 302 and "/activities/mine" in r.headers["Location"], \
                    (r.status_code, r.get_data(True)[-600:])

            def b(i):
                _c, _t, vid = sess[i % len(sess)]
                shift_id, aid = bslots[i // len(sess)]
                assert bare.post(f"/signup/{aid}/{shift_id}/{vid}").status_code == 201
        cpu_b = best_of(b, args.n)
        offset = args.n + 5
        cpu_k = best_of(lambda i: k(i + offset), args.n)
        print(f"{args.scenario}: bare {cpu_b:.2f} ms cpu/request, kernel {cpu_k:.2f} ms cpu/request; "
              f"cpu ratio bare/kernel {cpu_b / cpu_k:.2f}")
        if args.profile:
            start = 2 * args.n + 10
            print_profile(lambda i: k(start + i), args.n, args.top, args.callers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
