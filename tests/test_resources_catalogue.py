"""Resource links, the catalogue (RULES R-RES-1; handbook 篇4 二(一)1–2; issue 14 point 1): the handbook's
17 programmes and its public accounts are reference data loaded once, text as printed; windows are
structured so the site answers "what opens within N days" (a bounded setting); the public page searches by
resource type and district; platform admins manage the catalogue in the admin with errors beside the field,
team admins only read it."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import csrf_from, login

PLUGINS = ["volunteers", "teams", "resources"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS, DEFAULT_LOCALE="zh_Hans_CN")


def test_r_res_1_catalogue_loads_the_handbooks_rows_once(app, make_app):
    """issue 14 point 1: all 17 programmes and every printed account (the handbook prints 32 of its 34
    numbered rows: 8 and 12 are missing from the printed table), text as printed, loaded once."""
    from plugins.resources.models import Account, Programme
    with app.app_context():
        ps = list(Programme.select().order_by(Programme.number))
        assert [p.number for p in ps] == list(range(1, 18))
        assert ps[0].name == "“益苗计划”——广东志愿服务组织成长扶持行动暨志愿服务项目大赛"
        assert ps[0].window_text == "8月-10月" and ps[0].month_list() == [8, 9, 10]
        assert ps[0].funding_min == 500000 and ps[0].funding_max == 3000000   # fen
        assert ps[0].email == "Gd_zyz@126.com"
        assert ps[2].funding_max == 50000000 and ps[2].funding_text == "每个创投项目资助上限为50万元"
        assert ps[9].window_text == "不定期" and ps[9].month_list() == []
        assert ps[4].district == "越秀区"
        accounts = list(Account.select().order_by(Account.number))
        assert len(accounts) == 32
        assert {a.number for a in accounts} == set(range(1, 35)) - {8, 12}
        a = {x.number: x for x in accounts}
        assert (a[1].name, a[1].wechat_id, a[1].resource_types) == ("广州市民政局", "gzminzheng",
                                                                     "招投服务项目、资金链接、政策查询")
        assert a[22].district == "天河区" and a[34].district == "海珠区"
        Programme.update(name="改过的名称").where(Programme.number == 1).execute()
    app2 = make_app(plugins=PLUGINS)   # restart on the same database: nothing reloaded, edits survive
    with app2.app_context():
        assert Programme.select().count() == 17 and Account.select().count() == 32
        assert Programme.get(Programme.number == 1).name == "改过的名称"


def test_r_res_1_windows_answer_what_opens_within_the_setting(app):
    """issue 14 point 1: open now, opening within upcoming_days (60 by default), 不定期 never listed; the
    reminder list is the windows opening exactly reminder_days_ahead days later."""
    from core.settings import change
    from plugins.resources import services
    with app.app_context():
        on = dt.date(2026, 6, 15)
        got = {p.number: (state, d) for p, state, d in services.upcoming(on=on)}
        assert got[5] == ("open", None)                          # 越秀 6月
        assert got[2] == ("opens", dt.date(2026, 7, 1))          # 青苗计划 7月
        assert got[1] == ("opens", dt.date(2026, 8, 1))          # 益苗计划 8月-10月
        assert 6 in got                                          # 海珠 8月-9月
        assert 8 not in got and 10 not in got                    # 10月 is beyond 60 days; 不定期
        assert services.next_opening(services.programmes()[2], on) == ("opens", dt.date(2027, 3, 1))
        change("resources", {"upcoming_days": "20"})
        assert {p.number for p, _s, _d in services.upcoming(on=on)} == {5, 2, 11}   # 11: 3-6月 open
        assert [p.number for p in services.reminders_due(dt.date(2026, 7, 18))] == [1, 6]   # 14 days ahead
        with pytest.raises(Exception):
            change("resources", {"upcoming_days": "0"})          # bounded: below min refused
        assert services.SETTINGS.get("upcoming_days") == 20


def test_r_res_1_public_page_searches_by_type_and_district(app):
    """issue 14 point 1: anyone reads the catalogue; the type and district filters narrow both tables;
    an unknown filter value is ignored, not an error."""
    c = app.test_client()
    html = c.get("/resources/").get_data(as_text=True)
    assert "青苗计划" in html and "gzminzheng" in html and "资源链接" in html
    html = c.get("/resources/?type=培训&district=海珠区").get_data(as_text=True)
    acc = html.split('id="accounts"')[1]
    assert "hzvolunteer" in acc and "gh_375491e9587b" in acc      # 海珠青协 培训; 海珠区妇联 培训课程
    assert "gzminzheng" not in acc and "Gzhzcsh-org" not in acc  # 海珠区慈善会 has no 培训
    r = c.get("/resources/?type=<script>&district=x" + "y" * 500)
    assert r.status_code == 200 and "<script>" not in r.get_data(as_text=True).split('id="programmes"')[0]


def test_r_res_1_admin_manages_the_catalogue_with_errors_beside_the_field(app, make_user):
    """issue 14 point 1: a platform admin edits a programme (audited); bad window months or an upper amount
    below the lower one are refused beside the field and nothing is written; a team admin reads but may not
    create."""
    from core.models import AuditLog
    from plugins.resources.models import Programme
    make_user("admin", "platform_admin")
    c = app.test_client()
    assert login(c, "admin").status_code == 302
    with app.app_context():
        pid = Programme.get(Programme.number == 2).id
    url = f"/admin/resources_programme/edit/?id={pid}"
    page = c.get(url).get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "number": "2", "name": "青苗计划", "organiser": "",
            "window_text": "7月", "months": "7,13", "funding_text": "0.4万-1万", "funding_min": "4000",
            "funding_max": "10000", "email": "gvu-qm@126.com", "channel": "官网", "url": "",
            "district": "全市", "resource_types": "资金", "notes": "", "active": "y"}
    r = c.post(url, data=form)
    assert r.status_code == 200 and "1–12" in r.get_data(as_text=True)
    r = c.post(url, data={**form, "months": "7", "funding_min": "20000"})
    assert r.status_code == 200
    with app.app_context():
        p = Programme.get_by_id(pid)
        assert p.months == "7" and p.funding_min == 400000
    r = c.post(url, data={**form, "months": "7，8"})
    assert r.status_code == 302
    with app.app_context():
        assert Programme.get_by_id(pid).months == "7,8"
        assert AuditLog.select().where(AuditLog.action == "record.updated").count() >= 1
    make_user("ta", "team_admin", scope="")
    c2 = app.test_client()
    assert login(c2, "ta").status_code == 302
    assert c2.get("/admin/resources_programme/").status_code == 200
    assert c2.get("/admin/resources_programme/new/").status_code in (302, 403)
