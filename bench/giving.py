#!/usr/bin/env python3
"""Benchmark: donation receipts and the annual report (issue 15, "Performance").

One run, on one database, builds a site with the giving plugin and one team, then measures:

  1. receipts  ``giving.services.issue_receipt`` + ``receipt_pdf`` for ``--receipts`` (10,000) accepted
               money donations, one after the other as staff issue them: the number from the gap-free
               counter (core.numbering, row lock), the receipt row, the donation's state, the audit row,
               and the PDF (documents.form_pdf, embedded CJK font) — receipts per second;
  2. bare      the baseline in the same run: the same receipt text drawn on a bare reportlab canvas with
               the same embedded font (no numbering, no database) — PDFs per second;
               **ratio = receipts/s ÷ bare/s**;
  3. report    ``--donations`` (1,000,000) donations of one year, written with insert_many; then
               ``giving.report.annual_report`` (every section: basic information, donations by type and
               purpose, receipts, projects) against a hand-written ``GROUP BY`` in SQL text run with
               ``execute_sql`` (the donations' counts and sums by status, type and purpose with the
               waived receipts: the figures the report takes from the donations, nothing else); median of ``--rounds`` (5) each,
               **report_ratio = report ÷ group by** (target ≤ 1.5).

The receipt numbers are checked gap-free afterwards (numbering.gaps) and the first and last PDF read back
with pypdf. Writes ``bench/results/giving-<db>-<date>[-<tag>].json``.

Usage:
  python bench/giving.py                                               # SQLite in a temporary folder
  python bench/giving.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
  --receipts 1000 --donations 100000 for a quick run; --donations 0 skips the report part.
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402

PURPOSES = ["助老", "助学", "助残", "社区服务", "扶贫", "应急救灾", "", "环保"]


def seed(app) -> dict:
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.teams import services as T
    with app.test_request_context():
        admin = User.create(username="admin", password_hash=hash_password("bench-password-1234"))
        grant_role(admin, PLATFORM_ADMIN)
        t = T.register_team({"name": "越秀区北京街党员志愿服务队", "leader_name": "陈队长",
                             "leader_phone": "13900001111", "service_direction": "敬老助残", "district": "越秀区",
                             "address": "广州市越秀区北京路1号", "intro": "党员志愿服务", "organisation": "北京街道",
                             "declared_size": "12"}, actor=admin)
        T.submit_for_review(t, actor=admin)
        t = T.review_team(t, approve=True, actor=admin)
        ta = User.create(username="ta", password_hash=hash_password("bench-password-1234"), display_name="陈经办")
        grant_role(ta, TEAM_ADMIN, f"team:{t.id}")
        return {"team": t.id, "ta": ta.id}


def bulk_donations(team_id: int, n: int, year: int, *, chunk: int = 5000, goods: bool = True) -> list[int]:
    """``n`` accepted money donations (with ``goods``: every eighth one goods, every 100th refused goods,
    every 50th money gift with its receipt waived) of ``year`` with insert_many."""
    from core.db import now, transaction
    from plugins.giving.models import Donation, Donor
    donors = [Donor.create(team=team_id, kind="person", name=f"压测捐赠人{i}", disclose_name=i % 2 == 0).id
              for i in range(50)]
    start, ts = dt.date(year, 1, 1), now()
    done = 0
    while done < n:
        rows = []
        for i in range(done, min(n, done + chunk)):
            day = start + dt.timedelta(days=i % 365)
            base = {"team": team_id, "donor": donors[i % 50], "donated_on": day, "status": "accepted",
                    "purpose": PURPOSES[i % len(PURPOSES)], "created_at": ts}
            if goods and i % 8 == 7:
                rows.append(dict(base, kind="goods", quantity=1 + i % 20, unit="箱", property_type="食品",
                                 description="大米", condition="全新", amount=None, channel="",
                                 status="refused" if i % 100 == 7 else "accepted", receipt_state="none"))
            else:
                rows.append(dict(base, kind="money", amount=100 + (i % 100000), channel="bank",
                                 property_type="资金", receipt_state="waived" if goods and i % 50 == 0 else "none"))
        with transaction():
            Donation.insert_many(rows).execute()
        done += len(rows)
    return donors


def bare_receipt(font: str, number: str) -> bytes:
    """The baseline: the receipt's text on one A4 canvas page with the same embedded font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, initialFontName=font)
    c.setFont(font, 18)
    c.drawCentredString(A4[0] / 2, A4[1] - 60, "捐赠票据")
    c.setFont(font, 10.5)
    for k, line in enumerate((f"票据编号：{number}", "捐赠人：压测捐赠人1", "财产类型：资金  数量或金额：¥1,000.00",
                              "受赠组织：越秀区北京街党员志愿服务队", "经办人：陈经办  日期：2026-12-03",
                              "受赠组织（盖章）")):
        c.drawString(60, A4[1] - 100 - k * 22, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def raw_group_by(team_id: int, year: int):
    from core.db import db
    return db.execute_sql(
        "SELECT status, kind, purpose, property_type, unit, COUNT(id), SUM(amount), SUM(quantity), "
        "SUM(CASE WHEN receipt_state = 'waived' THEN 1 ELSE 0 END) FROM \"giving_donation\" "
        "WHERE team_id = %s AND donated_on >= %s AND donated_on <= %s "
        "GROUP BY status, kind, purpose, property_type, unit".replace("%s", db.obj.param),
        (team_id, dt.date(year, 1, 1), dt.date(year, 12, 31))).fetchall()


def median_time(fn, rounds: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(rounds):
        with Timer() as t:
            fn()
        times.append(t.wall)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default="")
    ap.add_argument("--reset", action="store_true")
    ap.add_argument("--receipts", type=int, default=10000)
    ap.add_argument("--donations", type=int, default=1_000_000, help="0 skips the report part")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb_bench_giving_"))
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    db_kind = database_kind(url, args.reset)
    from argon2 import PasswordHasher
    from core import create_app, security
    security._ph = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "TASKS_IMMEDIATE": True,
                      "PLUGINS": ["volunteers", "teams", "documents", "privacy", "giving"],
                      "PUBLIC_URL": "https://timebank.example.org"})
    result = {"benchmark": "giving", "database": db_kind, "date": dt.date.today().isoformat(),
              "receipts": args.receipts, "donations": args.donations, "rounds": args.rounds,
              "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_average_start": os.getloadavg(), "command": " ".join(sys.argv)}
    result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                      text=True, check=False).stdout.strip()
    ids = seed(app)
    from pypdf import PdfReader
    from core import numbering
    from core.db import today
    from core.models import User
    from plugins.documents.services import font_name
    from plugins.giving import report as R
    from plugins.giving import services as G
    from plugins.giving.models import Donation, Receipt
    from plugins.teams.models import Team
    year = today().year
    with app.test_request_context():
        ta = User.get_by_id(ids["ta"])
        if args.receipts:
            log(f"writing {args.receipts} donations to issue receipts for")
            with Timer() as t:
                bulk_donations(ids["team"], args.receipts + 1, year, goods=False)
            log(f"seeded in {t.wall:.1f} s")
            dons = list(Donation.select().where((Donation.team == ids["team"]) & (Donation.kind == "money")
                                                & (Donation.status == "accepted")).order_by(Donation.id)
                        .limit(args.receipts))
            font_name()
            G.receipt_pdf(G.issue_receipt(dons.pop(), ta))          # warm-up: numbering row, reportlab modules
            sizes, first = [], None
            with Timer() as t:
                for d in dons:
                    r = G.issue_receipt(d, ta)
                    data = G.receipt_pdf(r)
                    sizes.append(len(data))
                    first = first or (r.number, data)
            last = (r.number, data)
            for number, pdf in (first, last):
                text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
                assert number in text.replace(" ", ""), number
            assert numbering.gaps(G.RECEIPT_KIND, scope=f"team:{ids['team']}", year=year) == []
            n = len(dons)
            result["receipts_run"] = {"receipts": n, "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                                      "per_second": round(n / t.wall, 1), "ms_each": round(1000 * t.wall / n, 2),
                                      "bytes_avg": int(sum(sizes) / n)}
            log(f"receipts: {result['receipts_run']}")
            font = font_name()
            bare_receipt(font, "JZ0")
            with Timer() as t:
                bsizes = [len(bare_receipt(font, f"JZ{year}{i:06d}")) for i in range(n)]
            result["bare"] = {"pdfs": n, "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                              "per_second": round(n / t.wall, 1), "bytes_avg": int(sum(bsizes) / n)}
            log(f"bare: {result['bare']}")
            result["receipts_ratio"] = round(result["receipts_run"]["per_second"] / result["bare"]["per_second"], 3)
            result["receipts_cpu_ratio"] = round(result["bare"]["cpu_s"] / result["receipts_run"]["cpu_s"], 3)
        if args.donations:
            team2 = Team.create(**{k: v for k, v in Team.get_by_id(ids["team"]).__data__.items()
                                   if k not in ("id", "path", "name")}, name="报告压测服务队", path="")
            Team.update(path=f"/{team2.id}/").where(Team.id == team2.id).execute()
            log(f"writing {args.donations} donations for the report")
            with Timer() as t:
                bulk_donations(team2.id, args.donations, year, chunk=10000)
            result["report_seed_s"] = round(t.wall, 1)
            log(f"seeded in {t.wall:.1f} s")
            from core.db import db
            if db_kind == "postgresql":
                db.execute_sql('ANALYZE "giving_donation"')
            team2 = Team.get_by_id(team2.id)
            rep = R.annual_report(team2, year)
            raw = raw_group_by(team2.id, year)
            assert rep["totals"]["money_fen"] == sum(int(r[6] or 0) for r in raw if r[1] == "money")
            assert rep["totals"]["money_count"] + rep["totals"]["goods_count"] == sum(
                r[5] for r in raw if r[0] == "accepted")
            raw_t, raw_all = median_time(lambda: raw_group_by(team2.id, year), args.rounds)
            grp_t, grp_all = median_time(lambda: R.donations_by_purpose(team2.id, year), args.rounds)
            rep_t, rep_all = median_time(lambda: R.annual_report(team2, year), args.rounds)
            result["report"] = {"group_by_s": round(raw_t, 4), "donations_by_purpose_s": round(grp_t, 4),
                                "annual_report_s": round(rep_t, 4),
                                "rounds": {"group_by": [round(x, 4) for x in raw_all],
                                           "donations_by_purpose": [round(x, 4) for x in grp_all],
                                           "annual_report": [round(x, 4) for x in rep_all]}}
            result["report_ratio"] = round(rep_t / raw_t, 3)
            result["report_target"] = 1.5
            result["meets_target"] = result["report_ratio"] <= 1.5
            log(f"report: {result['report']} ratio {result['report_ratio']}")
            with Timer() as t:
                R.report_pdf(team2, year)
            result["report"]["pdf_s"] = round(t.wall, 3)
    result["load_average_end"] = os.getloadavg()
    tag = f"-{args.tag}" if args.tag else ""
    out = HERE / "results" / f"giving-{db_kind}-{result['date']}{tag}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"→ {out}")
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


if __name__ == "__main__":
    main()
