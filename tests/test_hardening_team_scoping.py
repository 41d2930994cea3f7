"""CRUD permissions and team scoping in one declaration (issue 12 point 3).

- ``core.security.crud_permissions`` gives a model's view/create/edit/delete/export permissions with titles
  made from one noun, in the reader's language;
- ``plugins.teams.scoping.team_scoped`` gives the ``scope_query`` and ``permission_allowed`` hooks of every
  built-in team-owned model; an object with no team is denied to a team admin in every plugin alike (on main
  activities abstained — so allowed — while certificates denied), a platform admin reaches it.
The full isolation matrices stay in tests/test_*_isolation.py."""
from __future__ import annotations

import pytest

from conftest import login
from fixtures.activities_plugins.actsupport import quick_hashing
from test_teams_workflow import new_team

PLUGINS = ["notices", "volunteers", "teams", "documents", "activities", "activity_forms", "ledger",
           "certificates", "donations", "exchange", "targets", "team_standards"]


@pytest.fixture
def site(make_app, make_user, monkeypatch):
    quick_hashing(monkeypatch)
    app = make_app(plugins=PLUGINS)
    ids = {"A": new_team(app, "ALPHA7Q总队", admin="ta"), "B": new_team(app, "BRAVO9Z总队", admin="tb")}
    make_user("admin", "platform_admin")
    return app, ids


def _user(app, name):
    from core.models import User
    return User.get(User.username == name)


def _scopes(app):
    """Every TeamScope a loaded plugin declared through team_scoped, by plugin module."""
    pm = app.extensions["timebank"].pm
    out = {}
    for impl in pm.hook.permission_allowed.get_hookimpls():
        scope = getattr(impl.function, "team_scope", None)
        if scope is not None:
            out[impl.plugin_name] = scope
    return out


def test_ac6_object_without_a_team_is_denied_to_a_team_admin_in_every_plugin(site):
    """issue 12 point 3: for every model of every built-in plugin scoped with ``team_scoped``, an object that
    points to no team is refused to team A's admin and left to the roles for the platform admin (the hook
    abstains). The declarations cover the five plugins that had hand-written access.py copies, and more."""
    app, _ids = site
    with app.test_request_context():
        scopes = _scopes(app)
        names = {n.rsplit(".", 1)[-1] for n in scopes}
        assert {"activities", "certificates", "donations", "exchange", "ledger", "team_standards",
                "teams"} <= names, names
        ta, admin = _user(app, "ta"), _user(app, "admin")
        checked = []
        for plugin, scope in scopes.items():
            perm = f"{scope.prefix or plugin.rsplit('.', 1)[-1]}.any.view"
            for model in scope.models:
                obj = model()
                assert scope.permission_allowed(ta, perm, obj) is False, (plugin, model.__name__)
                assert scope.permission_allowed(admin, perm, obj) is None, (plugin, model.__name__)
                checked.append(model.__name__)
        assert {"Activity", "Shift", "SignUp", "Certificate", "CertificateLine", "Partner", "Item", "Refund",
                "Assessment", "Result", "Team", "Volunteer", "Account", "HoursCredit"} <= set(checked)


def test_ac6_activities_no_longer_abstain_on_an_object_without_a_team(site):
    """issue 12 point 3: through the kernel's ``can``: a time slot that belongs to no activity is refused to
    a team admin who holds ``activities.shift.create`` (on main the activities plugin abstained, so it was
    allowed), as a certificate without a team already was; a slot of team A's activity is allowed, one of
    team B's refused; the platform admin may."""
    from core import security
    from plugins.activities.models import Activity, Shift
    from plugins.certificates.models import Certificate
    from fixtures.activities_plugins.actsupport import new_activity, slot, soon
    app, ids = site
    act_a = new_activity(app, ids["A"], shifts=[slot(soon(5))])
    act_b = new_activity(app, ids["B"], shifts=[slot(soon(5))])
    with app.test_request_context():
        ta, admin = _user(app, "ta"), _user(app, "admin")
        assert security.can("activities.shift.create", Shift(), user=ta) is False
        assert security.can("certificates.certificate.view", Certificate(), user=ta) is False
        assert security.can("activities.shift.create", Shift(activity=act_a), user=ta) is True
        assert security.can("activities.shift.create", Shift(activity=act_b), user=ta) is False
        assert security.can("activities.shift.create", Shift(), user=admin) is True
        assert security.can("activities.activity.edit", Activity.get_by_id(act_b), user=ta) is False


def test_ac6_a_partner_with_no_team_is_out_of_a_team_admins_reach(site):
    """issue 12 point 3: a stored row with no team (an exchange partner of the platform) is not in team A's
    admin list, its page is a 404 and the object check refuses it; the platform admin sees it."""
    from core import security
    from plugins.exchange.models import Partner
    app, ids = site
    with app.app_context():
        p = Partner.create(name="PLATFORM5X partner", contact="", description="", team=None)
        mine = Partner.create(name="ALPHA7Q partner", contact="", description="", team=ids["A"])
    c = app.test_client()
    assert login(c, "ta").status_code == 302
    html = c.get("/admin/exchange_partner/").get_data(as_text=True)
    assert "ALPHA7Q partner" in html and "PLATFORM5X" not in html
    assert c.get(f"/admin/exchange_partner/details/?id={p.id}").status_code == 404
    with app.test_request_context():
        assert security.can("exchange.partner.edit", Partner.get_by_id(p.id), user=_user(app, "ta")) is False
        assert security.can("exchange.partner.edit", Partner.get_by_id(mine.id), user=_user(app, "ta")) is True
        assert security.can("exchange.partner.edit", Partner.get_by_id(p.id), user=_user(app, "admin")) is True
    c2 = app.test_client()
    assert login(c2, "admin").status_code == 302
    assert "PLATFORM5X partner" in c2.get("/admin/exchange_partner/").get_data(as_text=True)


def test_ac7_crud_permissions_titles_come_from_one_noun_in_the_readers_language(site):
    """issue 12 point 3: ``crud_permissions`` names the five standard permissions of a model and titles
    them 查看/新建/编辑/删除/导出 + the noun (English for an English reader); the built-in plugins declare
    theirs with it, so the admin's page permissions exist for every action."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l
    from core.security import CRUD_ACTIONS, crud_permissions, registry
    app, _ids = site
    perms = crud_permissions("funding.application", _l("Activities"))
    assert [p.name for p in perms] == [f"funding.application.{a}" for a in CRUD_ACTIONS]
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            noun = str(_l("Activities"))
            assert [str(p.title) for p in perms] == [f"{v}{noun}" for v in ("查看", "新建", "编辑", "删除", "导出")]
        with force_locale("en"):
            assert str(perms[0].title) == "View Activities"
        assert [p.name for p in crud_permissions("x.y", "things", ("view", "export"))] == ["x.y.view", "x.y.export"]
        with pytest.raises(ValueError):
            crud_permissions("x.y", "things", ("view", "approve"))
        reg = registry().permissions
        with force_locale("zh_Hans_CN"):
            assert str(reg["activities.shift.delete"].title).startswith("删除")
            assert str(reg["exchange.item.export"].title).startswith("导出")
            assert str(reg["teams.position.create"].title).startswith("新建")
