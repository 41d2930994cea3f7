"""Evaluation indicators (R-INC-3, issue 16 point 2): the incentives plugin's hook incentive_indicators,
answered by activities (feedback forms 套表2, sign-ups, coverage, no-shows), giving (donations), resources
(government funding) and incentives itself (awards, values entered by hand); per team tree, district and
period with target and met / not met; the dashboard's table, its XLSX export; AC6. SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as _dt
import io
import json

import openpyxl
from decimal import Decimal

from core.testing import csrf_from
from test_incentives import _admin, _admin_client, activity, serve, world  # noqa: F401

PLUGINS_EXTRA = ["giving", "resources"]


def _feedback(app, aid, vid, overall):
    from plugins.activities.models import Feedback
    with app.app_context():
        Feedback.create(activity=aid, volunteer=vid, overall=overall)


def _rows(html):
    """The dashboard's table: code -> (value, met) as the page shows them."""
    import re
    out = {}
    for code, value, met in re.findall(r'<tr data-code="([^"]+)">.*?<td class="tb-value">([^<]*)</td>.*?'
                                       r'<td class="tb-met">([^<]*)</td>', html, re.S):
        out[code] = (value.strip(), met.strip())
    return out


def _period():
    from core.db import today
    t = today()
    return (t - _dt.timedelta(days=60)).isoformat(), (t + _dt.timedelta(days=30)).isoformat()


def test_r_inc_3_1_satisfaction_from_real_feedback_forms_with_target_and_met(world):
    app, (v1, v2, v3) = world["app"], world["v"]
    aid, _ = serve(world, [v1, v2, v3], hours=3)
    _feedback(app, aid, v1, 10)
    _feedback(app, aid, v2, 9)
    _feedback(app, aid, v3, 8)                      # average 9 → 90.0 % ≥ 90: met
    from plugins.incentives import indicators as I
    lo, hi = _period()
    with app.test_request_context():
        got = {i.code: i for i in I.collect(None, _dt.date.fromisoformat(lo), _dt.date.fromisoformat(hi))}
    s = got["activities.satisfaction"]
    assert (str(s.value), s.target, s.met) == ("90.0", 90, True)
    assert got["activities.signups"].value == 3 and got["activities.feedback_forms"].value == 3
    assert got["activities.no_show_rate"].value == 0 and got["activities.no_show_rate"].met is True
    assert str(got["activities.fill_rate"].value) == "30.0"       # 3 of 10 places
    c = _admin_client(app)
    page = c.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True)
    table = _rows(page)
    assert table["activities.satisfaction"] == ("90.0", "达到")
    assert table["activities.signups"][0] == "3"
    assert table["activities.fill_rate"] == ("30.0", "未达到")
    chart = json.loads(page.split('id="tb-indicator-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    i = chart["pct"]["labels"].index("满意度（活动反馈表）")
    assert chart["pct"]["values"][i] == 90.0 and chart["pct"]["targets"][i] == 90.0
    # the target is a setting: raised to 95, the same data is not met
    from core.settings import change
    with app.test_request_context():
        change("incentives", {"indicator_satisfaction_percent": "95"}, user=_admin(app))
    page = c.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True)
    assert _rows(page)["activities.satisfaction"] == ("90.0", "未达到")


def test_r_inc_3_2_entered_values_bad_input_is_refused_beside_the_field(world):
    app = world["app"]
    from plugins.incentives.models import IndicatorValue
    c = _admin_client(app)
    lo, hi = _period()
    page = c.get("/admin/incentives_indicators/").get_data(as_text=True)
    r = c.post("/admin/incentives_indicators/", data={"csrf_token": csrf_from(page), "code": "incentives.media_reports",
                                                      "team": str(world["a"]), "period_start": lo, "period_end": hi,
                                                      "value": "1e9"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-field="value"' in html
    with app.app_context():
        assert IndicatorValue.select().count() == 0
    r = c.post("/admin/incentives_indicators/", data={"csrf_token": csrf_from(page), "code": "incentives.media_reports",
                                                      "team": str(world["a"]), "period_start": lo, "period_end": hi,
                                                      "value": "3"})
    assert r.status_code == 302
    page = c.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True)
    assert _rows(page)["incentives.media_reports"][0] == "3"


def test_r_inc_3_3_ac6_a_team_admin_sees_only_its_tree(world):
    app, (v1, v2, _v3) = world["app"], world["v"]
    serve(world, [v1], hours=2)                      # team A's activity
    from plugins.activities import services as S
    from plugins.activities.models import Activity, Shift
    from plugins.volunteers.models import Volunteer
    with app.test_request_context():                 # team B's activity with two sign-ups
        act = activity(world, hours=2, team="b")
        shift = Shift.get(Shift.activity == act)
        sus = [S.sign_up(Volunteer.get_by_id(v), shift) for v in (v1, v2)]
        S.finish_due(at=act.ends_at + _dt.timedelta(minutes=1))
        S.confirm_hours(Activity.get_by_id(act.id), {s.id: 120 for s in sus}, actor=_admin(app))
    lo, hi = _period()
    ta = _admin_client(app, "ta")
    page = ta.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True)
    assert _rows(page)["activities.signups"][0] == "1"
    assert ta.get(f"/admin/incentives_indicators/?team={world['b']}").status_code == 404
    assert ta.get(f"/admin/incentives_indicators/export.xlsx?team={world['b']}").status_code == 404
    wb = openpyxl.load_workbook(io.BytesIO(ta.get(f"/admin/incentives_indicators/export.xlsx?from={lo}&to={hi}").data))
    rows = {r[1]: r for r in wb.active.iter_rows(min_row=2, values_only=True)}
    assert rows["activities.signups"][2] == 1
    admin = _admin_client(app)
    page = admin.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True)
    assert _rows(page)["activities.signups"][0] == "3"


def test_r_inc_3_4_the_xlsx_export_has_the_same_numbers_as_the_table(world):
    app, (v1, v2, _v3) = world["app"], world["v"]
    aid, _ = serve(world, [v1, v2], hours=2)
    _feedback(app, aid, v1, 7)
    lo, hi = _period()
    c = _admin_client(app)
    table = _rows(c.get(f"/admin/incentives_indicators/?from={lo}&to={hi}").get_data(as_text=True))
    r = c.get(f"/admin/incentives_indicators/export.xlsx?from={lo}&to={hi}")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in ws[1]][:6] == ["指标", "编码", "内容", "单位", "目标", "达到"]
    rows = {row[1]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(table)
    for code, (value, met) in table.items():
        cell = rows[code][2]
        if value == "—":
            assert cell in ("", None), code
        else:
            assert Decimal(str(cell)) == Decimal(value), code
        assert (rows[code][5] or "") == met, code


def test_r_inc_3_6_donations_from_the_giving_plugin_per_team_tree_in_yuan(make_app, monkeypatch):
    """giving answers the hook: accepted money donations as a Decimal of yuan (from fen), per team tree."""
    from argon2 import PasswordHasher
    from core import security
    monkeypatch.setattr(security, "_ph", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    from test_giving import donor, money_gift
    from test_teams_workflow import new_team
    app = make_app(plugins=["volunteers", "teams", "documents", "activities", "giving", "resources", "incentives"],
                   PUBLIC_URL="http://127.0.0.1:5000")
    ta, tb = new_team(app, "阳光志愿服务队", admin="ta"), new_team(app, "星火志愿服务队", admin="tb")
    money_gift(app, ta, donor(app, ta), amount="1000.50")
    money_gift(app, ta, donor(app, ta, name="李四"), amount="0.25")
    money_gift(app, tb, donor(app, tb), amount="99")
    from plugins.incentives import indicators as I
    with app.test_request_context():
        whole = {i.code: i.value for i in I.collect(None, _dt.date(2026, 1, 1), _dt.date(2026, 12, 31))}
        team_a = {i.code: i.value for i in I.collect([ta], _dt.date(2026, 1, 1), _dt.date(2026, 12, 31))}
    assert whole["giving.donations"] == Decimal("1099.75") and team_a["giving.donations"] == Decimal("1000.75")
    assert isinstance(team_a["giving.donations"], Decimal)
    assert team_a["resources.funding"] == Decimal("0.00") and team_a["resources.funded_projects"] == 0
    from test_incentives import login
    c = app.test_client()
    login(c, "ta")
    page = c.get("/admin/incentives_indicators/?from=2026-01-01&to=2026-12-31").get_data(as_text=True)
    assert _rows(page)["giving.donations"][0] == "1000.75"
