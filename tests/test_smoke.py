"""The kernel starts, serves the admin in Chinese and keeps plugin state (first checks, R-none)."""
from conftest import login


def test_login_and_dashboard(admin_client):
    r = admin_client.get("/admin/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "/admin/plugins/" in html


def test_wrong_password_is_refused(client, make_user):
    make_user("alice", "volunteer")
    r = login(client, "alice", "not the password at all")
    assert r.status_code == 401
    assert client.get("/admin/").status_code == 302
