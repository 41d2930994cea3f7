"""NS3 (issue 11 point 8): absolute addresses (the certificate's verification QR code, the check-in
screen's code) come from the configured PUBLIC_URL only, never from the request's Host header. Without a
configured address, issuing, batch issuance and printing refuse with a clear Chinese message and write
nothing; the demo configures one.

Before the fix, ``certificates.services.base_url`` fell back to ``request.host_url``: a forged Host on the
approving (or downloading) request printed another site's address into an official certificate, and the
check-in screen used ``url_for(..., _external=True)``.
"""
from __future__ import annotations

import pytest

from conftest import PASSWORD, csrf_from, login, pdf_text
from test_certificates import PUBLIC, apply, audit_rows, counts, decide, user, world  # noqa: F401

EVIL = "http://evil.example"
CHINESE_REFUSAL = "公网地址"


@pytest.fixture
def no_public_url(world):  # noqa: F811 - the fixture imported above
    """The certificates world of this module with PUBLIC_URL unset for one test."""
    app = world["app"]
    app.config["PUBLIC_URL"] = ""
    try:
        yield world
    finally:
        app.config["PUBLIC_URL"] = PUBLIC


def _client_on(app, host_base, username):
    """A client whose every request carries ``host_base``'s Host header (forged)."""
    c = app.test_client()
    page = c.get("/login", base_url=host_base).get_data(as_text=True)
    r = c.post("/login", base_url=host_base,
               data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    return c


def test_ns3_a_certificate_is_not_approved_without_a_configured_public_url(no_public_url):
    """issue 11 point 8: the approver (with a forged Host) gets the Chinese reason; nothing written."""
    world = no_public_url
    app = world["app"]
    cid = apply(world, ["r1a2"])
    before, approved = counts(app), len(audit_rows(app, "certificate.approved"))
    # through the service, in a request with a forged Host
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    with app.test_request_context("/", base_url=EVIL, headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(C.CertificateError) as e:
            C.approve(Certificate.get_by_id(cid), actor=user(app, "ta"))
    assert e.value.code == 503
    # through the admin, in Chinese
    ta = _client_on(app, EVIL, "ta")
    lst = ta.get("/admin/certificates_certificate/", base_url=EVIL).get_data(as_text=True)
    r = ta.post("/admin/certificates_certificate/action/", base_url=EVIL, follow_redirects=True,
                data={"csrf_token": csrf_from(lst), "action": "approve", "rowid": cid})
    assert r.status_code == 200 and CHINESE_REFUSAL in r.get_data(as_text=True)
    with app.app_context():
        c = Certificate.get_by_id(cid)
        assert c.status == "pending" and c.number is None and c.token is None
    assert counts(app) == before and len(audit_rows(app, "certificate.approved")) == approved


def test_ns3_batch_issuance_and_printing_refuse_without_a_configured_public_url(world):  # noqa: F811
    """issue 11 point 8: batch issuance writes nothing, and an issued certificate is not printed
    (neither by the volunteer nor in the admin) while no public address is configured."""
    app, ids = world["app"], world["ids"]
    c = decide(world, apply(world, ["r1a2"]), "approve")  # issued while PUBLIC_URL was configured
    vol = _client_on(app, EVIL, ids["u1"])
    admin = _client_on(app, EVIL, "admin")
    app.config["PUBLIC_URL"] = ""
    try:
        from plugins.activities.models import Activity
        from plugins.certificates import services as C
        before, downloads = counts(app), len(audit_rows(app, "certificate.downloaded"))
        with app.test_request_context("/", base_url=EVIL):
            with pytest.raises(C.CertificateError):
                C.issue_for_activity(Activity.get_by_id(ids["a1"]), actor=user(app, "admin"))
        page = admin.get("/admin/certificates_certificate/batch/", base_url=EVIL).get_data(as_text=True)
        r = admin.post("/admin/certificates_certificate/batch/", base_url=EVIL, follow_redirects=True,
                       data={"csrf_token": csrf_from(page), "activity": ids["a1"], "purpose": "practice"})
        assert r.status_code == 200 and CHINESE_REFUSAL in r.get_data(as_text=True)
        assert counts(app) == before
        r = vol.get(f"/certificates/{c.id}.pdf", base_url=EVIL)
        assert r.status_code == 503 and CHINESE_REFUSAL in r.get_data(as_text=True)
        assert "evil" not in r.get_data(as_text=True)
        r = admin.get(f"/admin/certificates_certificate/pdf/{c.id}", base_url=EVIL, follow_redirects=True)
        assert r.status_code == 200 and CHINESE_REFUSAL in r.get_data(as_text=True)
        assert len(audit_rows(app, "certificate.downloaded")) == downloads
    finally:
        app.config["PUBLIC_URL"] = PUBLIC


def test_ns3_the_certificate_prints_the_configured_address_whatever_the_host(world):  # noqa: F811
    """issue 11 point 8: with PUBLIC_URL set, a forged Host on approval and download changes nothing."""
    app, ids = world["app"], world["ids"]
    from plugins.certificates import services as C
    from plugins.certificates.models import Certificate
    cid = apply(world, ["r1a2"])
    with app.test_request_context("/", base_url=EVIL):
        c = C.approve(Certificate.get_by_id(cid), actor=user(app, "ta"))
        assert C.verify_url(c) == f"{PUBLIC}/certificates/verify/{c.token}"
    text = pdf_text(_client_on(app, EVIL, ids["u1"]).get(f"/certificates/{cid}.pdf", base_url=EVIL).data)
    assert PUBLIC.removeprefix("https://") in text.replace("\n", "") and "evil" not in text


def test_ns3_public_url_for_ignores_the_host_header(make_app):
    """issue 11 point 8: the kernel's one way to print an absolute URL, with and without PUBLIC_URL,
    under a script root."""
    from core.web import PublicURLMissing, public_url, public_url_for
    app = make_app(plugins=[], PUBLIC_URL="https://tb.example.org/site")
    with app.test_request_context("/login", base_url=EVIL + "/site"):
        assert public_url_for("site.login", next="/x") == "https://tb.example.org/site/login?next=/x"
        assert public_url("/certificates/verify/t") == "https://tb.example.org/site/certificates/verify/t"
    app.config["PUBLIC_URL"] = ""
    with app.test_request_context("/login", base_url=EVIL):
        with pytest.raises(PublicURLMissing):
            public_url_for("site.login")


def _decode_svg_qr(html: str) -> list[str]:
    """The text of the QR code drawn as an SVG path of squares (qrcode's SvgPathImage) in ``html``."""
    import re

    from PIL import Image, ImageDraw
    zxingcpp = pytest.importorskip("zxingcpp")
    path = re.search(r'<path d="([^"]+)"', html).group(1)
    squares = [(float(x), float(y)) for x, y in re.findall(r"M([\d.]+),([\d.]+)H", path)]
    side = min(b[0] - a[0] for a, b in zip(squares, squares[1:]) if b[1] == a[1] and b[0] > a[0])
    cells = {(round(x / side), round(y / side)) for x, y in squares}
    n = max(max(c) for c in cells) + 4
    img = Image.new("L", (n * 8, n * 8), 255)
    draw = ImageDraw.Draw(img)
    for cx, cy in cells:
        draw.rectangle([cx * 8, cy * 8, cx * 8 + 7, cy * 8 + 7], fill=0)
    return [b.text for b in zxingcpp.read_barcodes(img)]


def test_ns3_checkin_screen_code_uses_the_configured_address(make_app):
    """issue 11 point 8: the check-in screen's QR code is not built from the Host header; without
    PUBLIC_URL the organiser gets a page saying what to configure (503), in Chinese."""
    from fixtures.activities_plugins.actsupport import make_site, new_activity, slot, soon
    from test_teams_workflow import new_team
    app = make_site(make_app, PUBLIC_URL="https://tb.example.org", DEFAULT_LOCALE="zh_Hans_CN")
    ta = new_team(app, "阳光志愿服务队", admin="ta")
    aid = new_activity(app, ta, shifts=[slot(soon(3).replace(hour=9), hours=3, capacity=5)])
    c = _client_on(app, EVIL, "ta")
    r = c.get(f"/activities/{aid}/code/in", base_url=EVIL)
    assert r.status_code == 200
    (found,) = _decode_svg_qr(r.get_data(as_text=True))
    assert found.startswith("https://tb.example.org/activities/checkin?t="), found
    app.config["PUBLIC_URL"] = ""
    r = c.get(f"/activities/{aid}/code/in", base_url=EVIL)
    assert r.status_code == 503 and CHINESE_REFUSAL in r.get_data(as_text=True)


def test_ns3_the_demo_configures_its_public_address(tmp_path, monkeypatch):
    """issue 11 point 8: ``timebank demo`` / ``init --demo`` write the served address as public_url
    into config.toml when none is configured, and keep a configured one."""
    from core.cli import ensure_public_url, served_address
    from core.config import load_config
    inst = tmp_path / "instance"
    inst.mkdir()
    monkeypatch.delenv("TIMEBANK_PUBLIC_URL", raising=False)
    assert served_address("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    assert served_address("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert served_address("::1", 8080) == "http://[::1]:8080"
    assert ensure_public_url(inst, "http://127.0.0.1:5001") == "http://127.0.0.1:5001"
    assert load_config({"INSTANCE_PATH": str(inst)})["PUBLIC_URL"] == "http://127.0.0.1:5001"
    assert ensure_public_url(inst, "http://127.0.0.1:5002") == "http://127.0.0.1:5001"  # kept
    monkeypatch.setenv("TIMEBANK_PUBLIC_URL", "https://tb.example.org")
    assert ensure_public_url(inst, "http://127.0.0.1:5002") == "https://tb.example.org"
