"""R-ACT-2: the "7+1" service categories and the 11 service fields are loaded on every site and
required on every activity (issue 11 point 19). Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from fixtures.activities_plugins.actsupport import activity_data, category_ids, make_site, slot, soon
from test_teams_workflow import new_team

SEVEN_PLUS_ONE = ["扶贫助困", "洁净家园", "守护平安", "文明出行", "和睦邻里", "微笑窗口", "组织活动", "承诺"]
FIELDS = ["爱心帮扶", "支教助学", "卫生保健", "心理疏导", "法律援助", "科技推广", "应急救援", "公共文明行为引导",
          "群众文体", "环境保护", "大型社会公益活动"]


@pytest.fixture
def site(make_app):
    app = make_site(make_app, listener=False)
    team = new_team(app, "阳光志愿服务队", admin="ta")
    return app, team


def test_r_act_2_the_7_plus_1_categories_and_the_11_service_fields_are_loaded(site):
    """issue 11 point 19: a new site has exactly the handbook's catalogue, in its order."""
    app, _team = site
    from plugins.activities import services as s
    with app.app_context():
        cats = [c.name for c in s.categories("category")]
        fields = [c.name for c in s.categories("field")]
        assert len(cats) == 8 and len(fields) == 11
        for name, want in zip(cats[:7], SEVEN_PLUS_ONE[:7]):
            assert name.startswith(want), (name, want)          # 扶贫助困服务 …
        assert "承诺" in cats[7] and cats[7].startswith("1")    # + 1 承诺 (1个承诺)
        assert fields == FIELDS
        assert len(s.categories("training")) == 5
        # loading again (every start-up of a site) adds nothing
        s.load_categories()
        assert len(s.categories("category")) == 8 and len(s.categories("field")) == 11


@pytest.mark.parametrize("change,error", [
    ({"category": ""}, "category"),
    ({"field": ""}, "field"),
    ({"category": None, "field": None}, "category"),
    ("field_as_category", "category"),
    ("category_as_field", "field"),
    ("training_category", "category"),
    ({"category": "999999"}, "category"),
])
def test_r_act_2_an_activity_needs_a_category_of_the_7_plus_1_and_a_service_field(site, change, error):
    """issue 11 point 19: creating or editing a volunteer activity without one of the 7+1 categories
    and one of the 11 fields (or with one of the wrong kind) is refused on that field and writes
    nothing."""
    app, team = site
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    from plugins.teams.models import Team
    ids = category_ids(app)
    if change == "field_as_category":
        change = {"category": ids["field.care"]}
    elif change == "category_as_field":
        change = {"field": ids["category.poverty"]}
    elif change == "training_category":
        change = {"category": ids["training.general"]}
    with app.app_context():
        with pytest.raises(s.ActivityError) as e:
            s.create_activity(Team.get_by_id(team), activity_data(app, **change), [slot(soon())])
        assert error in e.value.errors
        assert Activity.select().count() == 0
        a = s.create_activity(Team.get_by_id(team), activity_data(app), [slot(soon())])
        with pytest.raises(s.ActivityError) as e:
            s.update_activity(a, activity_data(app, **change))
        assert error in e.value.errors
        a = Activity.get_by_id(a.id)
        assert (a.category_id, a.field_id) == (ids["category.poverty"], ids["field.care"])


def test_r_act_2_a_training_needs_a_training_category_not_a_service_field(site):
    """issue 11 point 19: trainings take one of the 5 training categories; no service field."""
    app, team = site
    from plugins.activities import services as s
    from plugins.teams.models import Team
    ids = category_ids(app)
    with app.app_context():
        with pytest.raises(s.ActivityError) as e:
            s.create_activity(Team.get_by_id(team), activity_data(app), [slot(soon())], kind="training")
        assert "category" in e.value.errors
        t = s.create_activity(Team.get_by_id(team), activity_data(app, category=ids["training.general"], field=""),
                              [slot(soon())], kind="training")
        assert t.category_id == ids["training.general"] and t.field_id is None


def test_r_act_2_an_activity_that_lost_its_category_cannot_be_submitted(site):
    """issue 11 point 19: an activity without a category or field (a row from before the rule was
    enforced, or whose category was removed: the foreign key is ON DELETE SET NULL) is refused at
    submission for review, naming what is missing. Failed before: submit() did not look."""
    app, team = site
    from plugins.activities import services as s
    from plugins.activities.models import Activity
    from plugins.teams.models import Team
    with app.app_context():
        a = s.create_activity(Team.get_by_id(team), activity_data(app), [slot(soon())])
        Activity.update(field=None).where(Activity.id == a.id).execute()
        with pytest.raises(s.ActivityError) as e:
            s.submit(Activity.get_by_id(a.id))
        assert "field" in e.value.errors
        Activity.update(category=None).where(Activity.id == a.id).execute()
        with pytest.raises(s.ActivityError) as e:
            s.submit(Activity.get_by_id(a.id))
        assert "category" in e.value.errors
        assert Activity.get_by_id(a.id).status == "draft"
        s.update_activity(Activity.get_by_id(a.id), activity_data(app))
        assert s.submit(Activity.get_by_id(a.id)).status == "submitted"
