"""Finding activities (RULES.md R-ACT-3, R-ACT-6): the public listing filters by district, service
field, category and date range, searches Chinese keywords ("党员志愿服务", "独居"), sorts soonest /
nearest / most needed / newest, lists only published activities that have not ended, and lists
trainings apart. Mostly through ``services.search``; the page itself once per parameter kind.
"""
from __future__ import annotations

import datetime as _dt
import re

import pytest

from fixtures.activities_plugins.actsupport import (category_ids, make_site, new_activity, quick_hashing, shift_ids,
                                                    slot, soon, volunteers)
from test_teams_workflow import new_team


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One site for the read-only searches."""
    from conftest import database_url
    from core import create_app
    from fixtures.activities_plugins.actsupport import site_config
    mp = pytest.MonkeyPatch()
    quick_hashing(mp)
    tmp = tmp_path_factory.mktemp("activities_search")
    mp.setenv("TIMEBANK_INSTANCE_PATH", str(tmp / "instance"))
    app = create_app({"INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": database_url(tmp), "TESTING": True,
                      "TASKS_IMMEDIATE": True, **site_config(listener=False)})
    cats = category_ids(app)
    tid = new_team(app, "阳光志愿服务队", admin="ta")
    ids = {}
    ids["elder"] = new_activity(app, tid, title="关爱独居老人上门探访", district="越秀区",
                                description="社区党员志愿服务：陪伴独居老人，打扫卫生。", latitude="23.129",
                                longitude="113.264", field=cats["field.care"], category=cats["category.poverty"],
                                shifts=[slot(soon(2), capacity=10)])
    ids["waste"] = new_activity(app, tid, title="垃圾分类宣传", district="天河区",
                                description="在小区宣传垃圾分类，倡导垃圾不落地。", latitude="23.125",
                                longitude="113.361", field=cats["field.environment"],
                                category=cats["category.clean_home"], is_party_service="1",
                                shifts=[slot(soon(5), capacity=5)])
    ids["teach"] = new_activity(app, tid, title="周末课业辅导", district="海珠区", description="为外来务工子女辅导功课，另有 English Corner。",
                                field=cats["field.education"], category=cats["category.neighbourhood"],
                                shifts=[slot(soon(10), capacity=20)])
    ids["past"] = new_activity(app, tid, title="已结束的独居老人探访", district="越秀区",
                               shifts=[slot(soon(-3), capacity=3)])
    ids["draft"] = new_activity(app, tid, title="草稿独居老人探访", status="approved", shifts=[slot(soon(3))])
    ids["training"] = new_activity(app, tid, kind="training", title="新志愿者通用培训：独居老人沟通技巧",
                                   description="培训", shifts=[slot(soon(4))])
    # most needed: waste has 5 places, 4 taken (1 free); elder 10 places, 2 taken (8 free); teach 20 free
    from plugins.activities import services as s
    from plugins.activities.models import Shift
    from plugins.volunteers.models import Volunteer
    vids = volunteers(app, 3000, 6, account=False)
    with app.app_context():
        for i, v in enumerate(vids):
            s.sign_up(Volunteer.get_by_id(v), Shift.get_by_id(shift_ids(app, ids["waste" if i < 4 else "elder"])[0]))
    yield {"app": app, "ids": ids, "cats": cats}
    mp.undo()
    from core.db import db
    if not db.obj.is_closed():
        db.obj.close()


def found(w, **kw) -> list[str]:
    from plugins.activities import services as s
    names = {v: k for k, v in w["ids"].items()}
    with w["app"].app_context():
        return [names[a.id] for a in s.listing(**kw)]


def test_r_act_3_only_published_activities_that_have_not_ended(world):
    assert found(world) == ["elder", "waste", "teach"]


@pytest.mark.parametrize("kw,expected", [
    ({"district": "越秀区"}, ["elder"]),
    ({"district": "天河区"}, ["waste"]),
    ({"district": "白云区"}, []),
    ({"field": "field.environment"}, ["waste"]),
    ({"category": "category.neighbourhood"}, ["teach"]),
    ({"category": "category.poverty", "district": "天河区"}, []),
    ({"keyword": "独居"}, ["elder"]),
    ({"keyword": "党员志愿服务"}, ["elder", "waste"]),   # in the text, or marked as 党员志愿服务
    ({"keyword": "垃圾 宣传"}, ["waste"]),              # several words: all must match
    ({"keyword": "阳光志愿服务队"}, ["elder", "waste", "teach"]),  # the team's name
    ({"keyword": "不存在的词"}, []),
    ({"keyword": "%"}, []),                              # LIKE wildcards are literal
    ({"keyword": "english"}, ["teach"]),                 # Latin letters: case-insensitive
    ({"keyword": "CORNER 辅导"}, ["teach"]),
    ({"keyword": "Corner 独居"}, []),
])
@pytest.mark.parametrize("rare_term", [2000, 0], ids=["keyword-index", "reading"])
def test_r_act_3_filters_and_chinese_keywords(world, kw, expected, rare_term, monkeypatch):
    """Both ways a keyword is matched give the same activities: looked up in the keyword index (every
    piece is rare in this small site) and, with RARE_TERM 0, read in the listing's order."""
    from plugins.activities import services as s
    monkeypatch.setattr(s, "RARE_TERM", rare_term)
    kw = {k: world["cats"][v] if k in ("field", "category") else v for k, v in kw.items()}
    assert found(world, **kw) == expected


def test_r_act_3_date_range(world):
    from core.db import now
    t = now()
    assert found(world, date_from=t + _dt.timedelta(days=4)) == ["waste", "teach"]
    assert found(world, date_to=t + _dt.timedelta(days=4)) == ["elder"]
    assert found(world, date_from=t + _dt.timedelta(days=4), date_to=t + _dt.timedelta(days=6)) == ["waste"]


def test_r_act_3_sorts(world):
    assert found(world, sort="soonest") == ["elder", "waste", "teach"]
    assert found(world, sort="newest") == ["teach", "waste", "elder"]
    assert found(world, sort="most_needed") == ["teach", "elder", "waste"]
    # near 天河 (23.13, 113.36): waste first; teach has no coordinates and is left out of "nearest"
    assert found(world, sort="nearest", lat=23.13, lng=113.36) == ["waste", "elder"]
    assert found(world, sort="nearest", lat=23.13, lng=113.26) == ["elder", "waste"]


def test_r_act_6_trainings_are_listed_apart(world):
    assert found(world, kind="training") == ["training"]
    assert "training" not in found(world, keyword="独居")


def _titles(html: str) -> list[str]:
    return re.findall(r'<a href="/activities/\d+"><strong>([^<]+)</strong></a>', html)


def test_r_act_3_the_public_page_passes_every_parameter(world):
    c, cats = world["app"].test_client(), world["cats"]
    from core.db import now
    day = lambda n: (now() + _dt.timedelta(days=n)).date().isoformat()  # noqa: E731
    for query, expected in (
            ({}, ["关爱独居老人上门探访", "垃圾分类宣传", "周末课业辅导"]),
            ({"q": "党员志愿服务"}, ["关爱独居老人上门探访", "垃圾分类宣传"]),
            ({"district": "海珠区"}, ["周末课业辅导"]),
            ({"field": cats["field.care"]}, ["关爱独居老人上门探访"]),
            ({"category": cats["category.clean_home"]}, ["垃圾分类宣传"]),
            ({"from": day(4), "to": day(6)}, ["垃圾分类宣传"]),
            ({"sort": "nearest", "lat": "23.13", "lng": "113.36"}, ["垃圾分类宣传", "关爱独居老人上门探访"]),
            ({"sort": "most_needed"}, ["周末课业辅导", "关爱独居老人上门探访", "垃圾分类宣传"]),
            ({"sort": "bogus", "lat": "x", "from": "not-a-date"}, ["关爱独居老人上门探访", "垃圾分类宣传", "周末课业辅导"]),
            ({"kind": "training"}, ["新志愿者通用培训：独居老人沟通技巧"])):
        r = c.get("/activities/", query_string=query)
        assert r.status_code == 200 and _titles(r.get_data(True)) == expected, query
    assert c.get(f"/activities/{world['ids']['draft']}").status_code == 404


def test_r_act_3_the_page_shows_team_district_time_and_places_left(world):
    """The listing reads plain rows (services.listing), not models: every shown value is still there."""
    html = world["app"].test_client().get("/activities/", query_string={"district": "越秀区"}).get_data(True)
    item = html.split('<li class="activity">')[1].split("</li>")[0]
    assert "关爱独居老人上门探访" in item and "阳光志愿服务队 · 越秀区 · " in item
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", item)
    from plugins.activities.models import Activity
    with world["app"].app_context():
        a = Activity.get_by_id(world["ids"]["elder"])
    assert a.capacity == 10 and f"{a.capacity - a.confirmed} of 10 places left" in item.split("·")[-1]


def test_listing_index_migration_upgrades_an_existing_site(make_app):
    """A site whose activities tables predate migrations/ gets the listing index (0003) at the next
    start-up; a fresh site has it from the model and both migrations recorded."""
    from core.db import db
    from fixtures.activities_plugins.actsupport import PLUGINS
    name = "activities_activity_status_district_field_id_starts_at"
    make_app(plugins=PLUGINS)
    assert name in [i.name for i in db.get_indexes("activities_activity")]
    hist = lambda: [r[0] for r in db.execute_sql("SELECT name FROM migrations_activities ORDER BY name")]  # noqa: E731
    done = ["0001_initial", "0002_service_totals_index", "0003_listing_index", "0004_search_terms",
            "0005_photo_recipients"]
    assert hist() == done
    # the state of a site installed before the index: no index, no history of the plugin's migrations
    db.execute_sql(f'DROP INDEX "{name}"')
    db.execute_sql("DELETE FROM migrations_activities")
    make_app(plugins=PLUGINS)
    assert name in [i.name for i in db.get_indexes("activities_activity")]
    assert hist() == done


def test_r_act_3_keyword_index_migration_indexes_what_was_published_before(make_app):
    """A site upgraded to 0004 gets the keyword index of the activities it published before, so a rare
    Chinese keyword still finds them; drafts are not indexed until they are published."""
    from core.db import db
    from fixtures.activities_plugins.actsupport import PLUGINS
    from plugins.activities import services as s
    from plugins.activities.models import SearchTerm
    app = make_app(plugins=PLUGINS)
    tid = new_team(app, "海珠志愿服务队", admin="ta")
    old = new_activity(app, tid, title="江南西独居长者探访", shifts=[slot(soon(2))])
    draft = new_activity(app, tid, title="江南西独居长者草稿", status="draft", shifts=[slot(soon(2))])
    with app.app_context():
        db.execute_sql('DROP TABLE "activities_search_term"')
        db.execute_sql("DELETE FROM migrations_activities WHERE name = '0004_search_terms'")
    app = make_app(plugins=PLUGINS)
    with app.app_context():
        assert {r.activity_id for r in SearchTerm.select().where(SearchTerm.term == "独居")} == {old}
        assert s._rarest_term(["独居"]) == ("独居", "独居")  # the index is what finds it
        assert [a.id for a in s.listing(keyword="独居")] == [old]
        assert draft not in {r.activity_id for r in SearchTerm.select()}


def test_r_act_3_search_terms_are_the_pieces_a_chinese_keyword_is_made_of():
    from plugins.activities.services import search_terms
    assert search_terms("关爱独居老人") == {"关爱", "爱独", "独居", "居老", "老人"}
    # no piece with white space or with a letter that has a case; digits and punctuation stay
    assert search_terms("English 角 A1", "第3期，") == {"第3", "3期", "期，"}
    assert search_terms("独") == set() and search_terms("") == set()


def test_r_act_3_chinese_keywords_skip_case_folding_on_postgresql(world):
    """A keyword without cased letters is matched with LIKE on PostgreSQL (same rows as ILIKE, without
    folding every character of the text); one with Latin letters keeps ILIKE. The answers are the same
    (test above); this checks the SQL."""
    from core.db import is_postgres
    from plugins.activities import services as s
    with world["app"].app_context():
        zh, _p = s.listing_sql(keyword="独居")
        en, _p = s.listing_sql(keyword="english")
        if is_postgres():
            # four columns, and the team names of the keyword index's look-up
            assert "ILIKE" not in zh and zh.count(" LIKE ") == 5
            assert en.count(" ILIKE ") == 4
        else:  # SQLite's LIKE ignores ASCII case itself
            assert zh.count(" LIKE ") == 5 and en.count(" LIKE ") == 4
        assert "activities_search_term" in zh and "activities_search_term" not in en


def _form(html: str) -> str:
    return html.split('<form method="get" class="filters" id="filters">')[1].split("</form>")[0]


def test_r_act_3_the_kept_filter_form_shows_each_visitors_own_choices(world):
    """The filter form is rendered once per language and selection and kept (views.filters_form): what
    a visitor typed is still theirs, escaped (SECURITY.md IV), and no choice leaks to the next page."""
    c, cats = world["app"].test_client(), world["cats"]
    with c.session_transaction() as s:
        s["lang"] = "zh_Hans_CN"  # the test site's default is English
    first = _form(c.get("/activities/", query_string={"district": "越秀区", "q": "独居",
                                                        "from": "2026-12-01"}).get_data(True))
    assert '<option selected>越秀区</option>' in first and 'value="独居"' in first and "全部区域" in first
    assert 'name="from" value="2026-12-01"' in first
    # the same selection again with other typed values, one of them markup: the kept form, new values
    evil = '"><script>alert(1)</script>'
    again = _form(c.get("/activities/", query_string={"district": "越秀区", "q": evil}).get_data(True))
    assert "<script>alert(1)" not in again and 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in again
    assert 'name="from" value=""' in again and "\x00" not in again
    # another selection, a field and a sort: nothing of the first visitor's choice
    other = _form(c.get("/activities/", query_string={"field": cats["field.care"], "sort": "newest"})
                  .get_data(True))
    assert "<option selected>" not in other and 'value="独居"' not in other
    assert f'<option value="{cats["field.care"]}" selected>' in other
    assert '<option value="newest" selected>' in other
    # an unknown district is not kept as a choice of its own: it shows as "all districts"
    bogus = _form(c.get("/activities/", query_string={"district": "不存在区"}).get_data(True))
    assert "<option selected>" not in bogus
    # the language is part of what is kept
    with c.session_transaction() as s:
        s["lang"] = "en"
    en = _form(c.get("/activities/", query_string={"district": "越秀区"}).get_data(True))
    assert "All districts" in en and "全部区域" not in en and "<option selected>越秀区</option>" in en
