#!/usr/bin/env python3
"""Benchmark: filing activity archives (issue 17, performance) and the catalogue search plan.

One run, on one database:
  1. filing    ``--files`` 活动档案, each with ``--docs`` documents of ``--size`` bytes (distinct random
               bytes), through the real ``plugins.archives.services.create_file`` + ``add_document`` in
               one transaction per archive (as ``filing.file_activity``; PDFs are not built here):
               number taken (core.numbering), bytes hashed (SHA-256), stored (folder storage,
               written once with O_EXCL + fsync), the row and its audit written — files per second;
  2. baseline  in the same run, the same bytes copied to a plain folder (open/write/fsync) and hashed with
               hashlib: the floor the filing is set beside (``ratio`` = filing time / baseline time);
  3. search    ``--catalogue`` extra catalogue rows (raw insert), then the plan (EXPLAIN QUERY PLAN /
               EXPLAIN) of the catalogue's prefix search by number and by title: an index lookup
               (``SEARCH … USING INDEX`` / ``Index Scan``), never a full scan.

Writes ``bench/results/archives-<db>-<files>-<date>.json``.

Usage:
  python bench/archives.py                                  # SQLite, 10,000 files
  python bench/archives.py --files 1000 --catalogue 100000
  python bench/archives.py --database-url postgresql://postgres@127.0.0.1:5432/tb_bench --reset
Not part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Timer, database_kind, log  # noqa: E402

PLUGINS = ["teams", "archives"]


def plan(db, sql: str, params, sqlite: bool) -> list[str]:
    if sqlite:
        return [r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    return [r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--docs", type=int, default=4)
    ap.add_argument("--size", type=int, default=64 * 1024)
    ap.add_argument("--catalogue", type=int, default=100000, help="extra catalogue rows for the plan")
    ap.add_argument("--database-url")
    ap.add_argument("--reset", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tb-bench-archives-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    kind = database_kind(url, args.reset)
    os.environ["TIMEBANK_INSTANCE_PATH"] = str(tmp / "instance")
    from core import create_app
    from core.db import db, transaction
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": url, "PLUGINS": PLUGINS,
                      "TESTING": True})
    result = {"benchmark": "archives", "database": kind, "date": dt.date.today().isoformat(),
              "files": args.files, "docs_per_file": args.docs, "doc_bytes": args.size,
              "python": platform.python_version(), "cpus": os.cpu_count(), "load_average_start": os.getloadavg()}
    blobs = [[os.urandom(args.size) for _ in range(args.docs)] for _ in range(min(args.files, 50))]
    with app.test_request_context():
        from plugins.archives import services as A
        from plugins.archives.models import ArchiveFile
        from plugins.teams.services import register_team
        team = register_team({"name": "基准测试党员志愿服务队", "leader_name": "王示例", "leader_phone": "13800138000"})
        kind_ = A.kind("activity")
        log(f"filing {args.files} files × {args.docs} documents of {args.size} bytes ({kind})")
        with Timer() as t_file:
            for i in range(args.files):
                with transaction():       # one commit per archive, as filing.file_activity does
                    f = A.create_file(team.id, kind_, f"活动档案{i:06d}", date_from=dt.date(2026, 1, 1))
                    for j, data in enumerate(blobs[i % len(blobs)]):
                        # distinct bytes per document: the same random block with the file's number in front
                        A.add_document(f, f"文件{j}", f"doc{j}.bin", f.number.encode() + data)
        result["filing"] = {"seconds": round(t_file.wall, 3), "cpu": round(t_file.cpu, 3),
                            "files_per_second": round(args.files / t_file.wall, 1),
                            "documents_per_second": round(args.files * args.docs / t_file.wall, 1)}
        log(f"filing: {result['filing']}")
        base = tmp / "baseline"
        base.mkdir()
        with Timer() as t_copy:
            for i in range(args.files):
                for j, data in enumerate(blobs[i % len(blobs)]):
                    payload = f"{i}".encode() + data
                    digest = hashlib.sha256(payload).hexdigest()
                    with open(base / f"{i}-{j}-{digest[:16]}", "xb") as fh:
                        fh.write(payload)
                        fh.flush()
                        os.fsync(fh.fileno())
        result["baseline_copy_and_hash"] = {"seconds": round(t_copy.wall, 3),
                                            "files_per_second": round(args.files / t_copy.wall, 1)}
        result["ratio_filing_to_baseline"] = round(t_file.wall / t_copy.wall, 2)
        log(f"baseline: {result['baseline_copy_and_hash']} ratio {result['ratio_filing_to_baseline']}")

        log(f"catalogue: {args.catalogue} extra rows")
        rows = [{"team": team.id, "kind": kind_.id, "fonds_no": "9999", "catalogue_no": "03", "seq": k,
                 "number": f"9999-03-{k:07d}", "title": f"历史档案{k:07d}", "retention": "long", "status": "closed"}
                for k in range(1, args.catalogue + 1)]
        with db.atomic():
            for k in range(0, len(rows), 5000):
                ArchiveFile.insert_many(rows[k:k + 5000]).execute()
        db.execute_sql("ANALYZE")
        sqlite = kind == "sqlite"
        plans = {}
        for name, term in (("number", "9999-03-00123"), ("title", "历史档案00123")):
            sql, params = A.search(term).sql()
            plans[name] = plan(db, sql, params, sqlite)
            with Timer() as t:
                n = A.search(term).count()
            plans[name + "_ms"] = round(t.wall * 1000, 2)
            plans[name + "_rows"] = n
        flat = " ".join(" ".join(p) for k, p in plans.items() if isinstance(p, list))
        plans["index_lookup"] = ("USING INDEX" in flat or "Index" in flat) and "SCAN archives_file" not in flat \
            and "Seq Scan" not in flat
        result["search"] = plans
        log(f"search plans: {json.dumps(plans, ensure_ascii=False)}")
    out = HERE / "results" / f"archives-{kind}-{args.files}-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    log(f"wrote {out}")
    db.close()


if __name__ == "__main__":
    main()
