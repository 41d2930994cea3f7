"""The archives' S3 storage (issue 17 point 2) against a real S3-compatible server started locally:
moto's server mode (``moto_server``), spoken to with boto3 over HTTP. Skipped only when the server cannot
start (moto[server] not installed, no free port)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PLUGINS = ["teams", "archives"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_server():
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not Path(exe).exists():
        pytest.skip("moto[server] is not installed: the S3 storage test needs a local S3-compatible server")
    port = _free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):           # up to 60 s: two cores shared by several test runs
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.skip("moto_server did not start")
                time.sleep(0.1)
        else:
            pytest.skip("moto_server did not answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_r_arc_3_8_documents_go_to_an_s3_bucket_once_and_check_names_a_changed_one(make_app, s3_server):
    import boto3
    keys = {"ARCHIVES_S3_ENDPOINT": s3_server, "ARCHIVES_S3_BUCKET": "archives-test",
            "ARCHIVES_S3_ACCESS_KEY": "testing", "ARCHIVES_S3_SECRET_KEY": "testing"}
    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket="archives-test")
    app = make_app(plugins=PLUGINS, **keys)
    from core.backup import run_checks
    from plugins.archives import services as A
    from plugins.archives.storage import StorageError, backend, folder_root
    from plugins.teams.services import register_team
    with app.test_request_context():
        team = register_team({"name": "示例党员志愿服务队", "leader_name": "王示例", "leader_phone": "13800138001"})
        f = A.create_file(team.id, A.kind("work"), "会议记录")
        d = A.add_document(f, "第一次会议", "m1.txt", "会议内容".encode())
        assert d.storage == "s3" and A.read(d) == "会议内容".encode()
        body = client.get_object(Bucket="archives-test", Key=d.key)["Body"].read()
        assert body == "会议内容".encode()                       # really in the bucket, over HTTP
        assert not folder_root().exists() or not any(folder_root().rglob("*"))   # nothing on disk
        with pytest.raises(StorageError):
            backend().put(d.key, b"overwrite")                    # never overwritten
        result = {n: (ok, m) for n, ok, m in run_checks(app)}["archives.documents"]
        assert result == (True, "1 documents match their SHA-256")
        client.put_object(Bucket="archives-test", Key=d.key, Body=b"tampered")   # someone with bucket access
        ok, message = {n: (ok, m) for n, ok, m in run_checks(app)}["archives.documents"]
        assert not ok and "changed: 0001-02-0001 页1 m1.txt" in message
        client.delete_object(Bucket="archives-test", Key=d.key)
        ok, message = {n: (ok, m) for n, ok, m in run_checks(app)}["archives.documents"]
        assert not ok and "missing: 0001-02-0001 页1 m1.txt" in message


def test_r_arc_5_5_a_destroyed_files_objects_are_deleted_from_the_bucket(make_app, make_user, s3_server):
    """R-ARC-5: after the five steps the documents' objects are gone from the bucket (the signed sheet of the
    witnesses is kept there as the register's evidence)."""
    import datetime as _dt
    import boto3
    keys = {"ARCHIVES_S3_ENDPOINT": s3_server, "ARCHIVES_S3_BUCKET": "archives-gone",
            "ARCHIVES_S3_ACCESS_KEY": "testing", "ARCHIVES_S3_SECRET_KEY": "testing"}
    client = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket="archives-gone")
    app = make_app(plugins=PLUGINS, **keys)
    from core.models import User
    from plugins.archives import destruction as D
    from plugins.archives import services as A
    from plugins.teams.services import register_team
    with app.test_request_context():
        team = register_team({"name": "示例党员志愿服务队", "leader_name": "王示例", "leader_phone": "13800138001"})
    for name, role in (("ta", "team_admin"), ("a1", "archives_archivist"), ("a2", "archives_archivist"),
                       ("a3", "archives_archivist"), ("s", "archives_supervisor")):
        make_user(name, role, scope=f"team:{team.id}")
    with app.test_request_context():
        u = {n: User.get(User.username == n) for n in ("ta", "a1", "a2", "a3", "s")}
        f = A.create_file(team.id, A.kind("work"), "2010年会议记录", retention="short",
                          date_from=_dt.date(2010, 1, 1), date_to=_dt.date(2010, 12, 31))
        d = A.add_document(f, "会议", "m.txt", "会议内容".encode())
        x = D.apply(f, actor=u["a1"])
        x = D.step(x, "review", actor=u["a2"])
        x = D.step(x, "appraise", actor=u["s"])
        x = D.step(x, "approve", actor=u["ta"])
        x = D.destroy(x, witnesses="甲\n乙", signature=b"%PDF signed", actor=u["a3"])
    listed = [o["Key"] for o in client.list_objects_v2(Bucket="archives-gone").get("Contents", [])]
    assert d.key not in listed and listed == [x.signature_key]
