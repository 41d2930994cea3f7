#!/usr/bin/env python3
"""Benchmark: generating 1,000 service certificates (issue 5 point 7, "PDFs per second").

One run, on one database, builds a site with the certificates plugin and 1,000 volunteers who each have
two confirmed service records with one team (the seal image set), then measures:

  1. issue    ``certificates.services.issue_for_activity`` for one activity: 1,000 approved
              certificates, each numbered under the counter-row lock, with its lines, audit row and event
              (certificates per second);
  2. pdf      ``certificates.services.pdf_for`` for each of them as a team admin would print them: the
              row reads, the 附录六 layout with the embedded CJK font subset, the seal image, the QR code
              and the audit row (PDFs per second) — the figure asked for;
  3. layout   the same PDFs from rows already in memory (``certificates.pdf.build`` only): what the
              layout itself costs, without the database;
  4. bare     the baseline in the same run: a minimal reportlab page (one canvas, the same embedded
              font, the title, a name, a number and 20 short lines) — the cheapest PDF with the same
              font; **ratio = pdf ÷ bare** is the comparable figure.

Each PDF of step 2 is checked (it starts with %PDF, and the first and last read back with pypdf carry
their number). Writes ``bench/results/certificates-<db>-<date>.json``.

Usage:
  python bench/certificates.py                                        # SQLite in a temporary folder
  python bench/certificates.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
    (--reset drops and recreates the public schema of that database: never point it at real data)
  --count 200 for a quick run.
Not part of the test suite (pytest only collects tests/).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402


def seed(app, count: int) -> dict:
    """A team with its admin and seal, two finished activities, ``count`` volunteers registered through
    the real service, and their sign-ups and confirmed records written with the bulk path."""
    from PIL import Image
    from core.db import TZ, now, transaction
    from core.models import User
    from core.security import PLATFORM_ADMIN, TEAM_ADMIN, grant_role, hash_password
    from plugins.activities import services as S
    from plugins.activities.models import Activity, Category, ServiceRecord, Shift, SignUp
    from plugins.certificates import services as C
    from plugins.teams import services as T
    from plugins.volunteers import services as V
    from plugins.volunteers.demo import fake_id_number, fake_phone
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
        seal = io.BytesIO()
        Image.new("RGBA", (300, 300), (220, 0, 0, 150)).save(seal, format="PNG")
        C.set_issuer(t, handler_name="陈经办", contact_phone="020-83001234", seal=seal.getvalue(), actor=ta)
        cats = {c.code: c.id for c in Category.select()}
        acts = []
        for k, title in enumerate(("关爱独居老人上门探访", "北京街清洁家园")):
            start = (now() + dt.timedelta(days=2 + k)).replace(minute=0, second=0, microsecond=0)
            a = S.create_activity(t, {"title": title, "address": "广州市越秀区中山五路1号", "district": "越秀区",
                                      "description": "探访独居老人，帮助打扫卫生、陪伴聊天。", "contact_name": "李老师",
                                      "contact_phone": "13800138000", "category": cats["category.poverty"],
                                      "field": cats["field.care"]},
                                  [{"starts_at": start, "ends_at": start + dt.timedelta(hours=3),
                                    "capacity": count, "volunteer_type": "一般志愿者"}], actor=admin)
            acts.append(S.publish(S.review(S.submit(a, actor=admin), approve=True, actor=admin), actor=admin))
        log(f"registering {count} volunteers")
        vids = []
        for i in range(1, count + 1):
            idn, district = fake_id_number(500_000 + i)
            vids.append(V.register({"name": f"压测志愿者{i}", "id_type": "cn_id", "id_number": idn,
                                    "phone": fake_phone(500_000 + i), "district": district, "agreement": True},
                                   create_account=False).id)
        for a in acts:
            shift = Shift.get(Shift.activity == a)
            day = shift.starts_at.astimezone(TZ).date()
            with transaction():
                SignUp.insert_many([{"shift": shift.id, "activity": a.id, "volunteer": v, "status": "confirmed",
                                     "created_at": now()} for v in vids]).execute()
                sids = dict(SignUp.select(SignUp.volunteer, SignUp.id).where(SignUp.activity == a).tuples())
                ServiceRecord.insert_many([{"signup": sids[v], "volunteer": v, "activity": a.id, "team": t.id,
                                            "kind": "service", "service_date": day, "minutes": 180,
                                            "confirmed_at": now()} for v in vids]).execute()
                Activity.update(status="closed", confirmed=count).where(Activity.id == a.id).execute()
        return {"team": t.id, "activities": [a.id for a in acts], "ta": ta.id}


def bare_pdf(font: str, number: str) -> bytes:
    """The baseline: one A4 page on a reportlab canvas with the same embedded font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, initialFontName=font)
    c.setFont(font, 18)
    c.drawCentredString(A4[0] / 2, A4[1] - 60, "党员志愿者个人服务时数记录证明")
    c.setFont(font, 10.5)
    c.drawString(50, A4[1] - 90, f"编号：{number}  姓名：压测志愿者  志愿编号：GZ20260000001")
    for k in range(20):
        c.drawString(50, A4[1] - 120 - k * 16, f"2026-11-{k + 1:02d}  关爱独居老人上门探访  关爱服务  3 小时")
    c.showPage()
    c.save()
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", default="")
    ap.add_argument("--reset", action="store_true")
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb_bench_certs_"))
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    db_kind = database_kind(url, args.reset)
    from argon2 import PasswordHasher
    from core import create_app, security
    security._ph = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "TASKS_IMMEDIATE": True,
                      "PLUGINS": ["volunteers", "teams", "documents", "activities", "certificates"],
                      "PUBLIC_URL": "https://timebank.example.org"})
    result = {"benchmark": "certificates", "database": db_kind, "date": dt.date.today().isoformat(),
              "count": args.count, "python": platform.python_version(), "machine": platform.machine(),
              "cpus": os.cpu_count(), "load_average_start": os.getloadavg()}
    try:
        result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                          text=True, check=False).stdout.strip()
    except OSError:
        pass
    with Timer() as t:
        ids = seed(app, args.count)
    log(f"seeded in {t.wall:.1f} s")
    from pypdf import PdfReader
    from core.models import User
    from plugins.activities.models import Activity
    from plugins.certificates import pdf as P
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    from plugins.documents.services import font_name
    with app.test_request_context():
        ta = User.get_by_id(ids["ta"])
        with Timer() as t:
            res = C.issue_for_activity(Activity.get_by_id(ids["activities"][0]), actor=ta)
        assert len(res.issued) == args.count, len(res.issued)
        result["issue"] = {"certificates": len(res.issued), "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                           "per_second": round(len(res.issued) / t.wall, 1)}
        log(f"issue: {result['issue']}")
        certs = list(Certificate.select().where(Certificate.status == "approved").order_by(Certificate.id))
        font_name()   # font discovery once, outside the timings (every path pays it once per process)
        P.build(certs[0], C.lines_of(certs[0]), full_id=False, seal=C.seal_bytes(ids["team"]),
                url=C.verify_url(certs[0]))   # warm-up: reportlab's first page loads its modules
        sizes = []
        with Timer() as t:
            for c in certs:
                doc = C.pdf_for(Certificate.get_by_id(c.id), ta)
                assert doc.data.startswith(b"%PDF")
                sizes.append(len(doc.data))
                if c is certs[0] or c is certs[-1]:
                    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(doc.data)).pages)
                    assert c.number in text.replace(" ", ""), c.number
        result["pdf"] = {"pdfs": len(certs), "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                         "per_second": round(len(certs) / t.wall, 1), "ms_each": round(1000 * t.wall / len(certs), 2),
                         "bytes_avg": int(sum(sizes) / len(sizes))}
        log(f"pdf: {result['pdf']}")
        loaded = [(c, C.lines_of(c)) for c in certs]
        for c, _ in loaded:
            _ = c.volunteer.id_number, c.team.name
        seal = C.seal_bytes(ids["team"])
        with Timer() as t:
            for c, lines in loaded:
                P.build(c, lines, full_id=False, seal=seal, url=C.verify_url(c))
        result["layout"] = {"pdfs": len(loaded), "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                            "per_second": round(len(loaded) / t.wall, 1)}
        log(f"layout: {result['layout']}")
        font = font_name()
        bare_pdf(font, "ZM0")
        with Timer() as t:
            bsizes = [len(bare_pdf(font, c.number)) for c in certs]
        result["bare"] = {"pdfs": len(certs), "wall_s": round(t.wall, 3), "cpu_s": round(t.cpu, 3),
                          "per_second": round(len(certs) / t.wall, 1), "bytes_avg": int(sum(bsizes) / len(bsizes))}
        log(f"bare: {result['bare']}")
    result["ratio"] = round(result["pdf"]["per_second"] / result["bare"]["per_second"], 3)
    # CPU time per PDF hardly moves when other processes compete for the cores, while wall time does
    result["cpu_ratio"] = round(result["bare"]["cpu_s"] / result["pdf"]["cpu_s"], 3)
    result["layout_ratio"] = round(result["layout"]["per_second"] / result["bare"]["per_second"], 3)
    result["load_average_end"] = os.getloadavg()
    out = HERE / "results" / f"certificates-{db_kind}-{result['date']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"ratio pdf/bare = {result['ratio']}, CPU ratio {result['cpu_ratio']} "
        f"(layout/bare = {result['layout_ratio']}) → {out}")
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


if __name__ == "__main__":
    main()
