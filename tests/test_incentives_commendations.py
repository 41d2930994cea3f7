"""Commendations (R-INC-2, issue 16 point 1): schemes as data, nominations by a team or by a rule, review,
decision and publication through core.workflow, the public honour roll, the thank-you letter and honour
certificate PDFs, 年度优秀党员志愿者 from hours and feedback of Party members, awards in the volunteer's
record (R-NAT-1). SQLite and PostgreSQL (TIMEBANK_TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as _dt

import pytest

from conftest import login
from core.testing import csrf_from
from test_incentives import _admin, _admin_client, _number, serve, world  # noqa: F401


def _party(app, vid):
    from plugins.volunteers.models import Volunteer
    with app.app_context():
        Volunteer.update(political_status="中共党员").where(Volunteer.id == vid).execute()


def _scheme(code):
    from plugins.incentives.models import Scheme
    return Scheme.get(Scheme.code == code)


def _year():
    from core.db import today
    return today().year


def _period(scheme):
    from plugins.incentives import commendations as C
    from core.db import today
    return C.period_of(scheme, _year(), (today().month - 1) // 3 + 1)


def test_r_inc_2_1_schemes_are_data_by_target_period_and_theme(world):
    from plugins.incentives.models import Scheme
    with world["app"].app_context():
        got = {s.code: (s.target, s.period, s.theme, s.party_only) for s in Scheme.select()}
    assert got["party_annual"] == ("individual", "annual", "", True)
    assert got["leifeng_month"][2] == "雷锋月" and got["summer_service"][2] == "暑期"
    assert got["elderly_service"][2] == "长者服务" and got["quarter_star"][1] == "quarterly"
    assert {t for t, *_ in got.values()} >= {"individual", "leader", "mentor", "team", "partner"}
    page = _admin_client(world["app"]).get("/admin/incentives_scheme/").get_data(as_text=True)
    assert "年度优秀党员志愿者" in page and "合作伙伴" in page or "企业" in page


def test_r_inc_2_2_a_nomination_is_reviewed_awarded_published_audited_with_workday_due_dates(world):
    app, vid, uid = world["app"], world["v"][0], world["users"][0]
    serve(world, [vid], hours=12)
    from core.models import AuditLog
    from core.models import Message
    from core.workdays import deadline
    from plugins.incentives import commendations as C
    with app.test_request_context():
        admin = _admin(app)
        s = _scheme("quarter_star")
        start, end = _period(s)
        n = C.nominate(s, period_start=start, period_end=end, volunteer_id=vid, reason="服务认真", actor=admin)
        assert n.status == "nominated" and n.due_at == deadline(n.created_at, 5)
        with pytest.raises(C.CommendationError) as e:        # the same nominee twice
            C.nominate(s, period_start=start, period_end=end, volunteer_id=vid, actor=admin)
        assert "__all__" in e.value.errors
        n = C.review(n, actor=admin)
        assert n.status == "reviewed" and n.due_at is not None
        n = C.award(n, actor=admin)
        n = C.publish(n, actor=admin)
        assert n.status == "published" and n.decided_on is not None and n.due_at is None
        actions = [a for (a,) in AuditLog.select(AuditLog.action).where(
            AuditLog.action.startswith("incentives.nomination.")).order_by(AuditLog.id).tuples()]
        assert actions == ["incentives.nomination.nominate", "incentives.nomination.review",
                           "incentives.nomination.award", "incentives.nomination.publish"]
        assert Message.select().where((Message.recipient == uid)
                                      & (Message.category == "incentives.commendation")).count() == 1
        assert C.awards_of(vid)[0]["award"] == "季度服务之星"
    # the volunteer's page (R-NAT-1: the award in the record, with its letter and certificate)
    c = app.test_client()
    login(c, _number(app, vid))
    page = c.get("/me").get_data(as_text=True)
    assert "季度服务之星" in page and f"/incentives/me/awards/{n.id}/certificate.pdf" in page


def test_r_inc_2_3_rejection_needs_a_reason_and_writes_nothing_without_one(world):
    app, vid = world["app"], world["v"][1]
    from core.workflow import WorkflowError
    from plugins.incentives import commendations as C
    from plugins.incentives.models import Nomination
    with app.test_request_context():
        admin = _admin(app)
        s = _scheme("leifeng_month")
        n = C.nominate(s, period_start=_dt.date(_year(), 3, 1), period_end=_dt.date(_year(), 3, 31),
                       volunteer_id=vid, actor=admin)
        with pytest.raises(WorkflowError) as e:
            C.reject(n, reason="  ", actor=admin)
        assert "reason" in e.value.errors
        assert Nomination.get_by_id(n.id).status == "nominated"
        n = C.reject(n, reason="服务时数不足", actor=admin)
        assert n.status == "rejected" and n.rejection == "服务时数不足"
    # the same through the admin page: the error beside the form, in Chinese, nothing written
    c = _admin_client(app)
    page = c.get("/admin/incentives_nominations/").get_data(as_text=True)
    r = c.post("/admin/incentives_nominations/", data={"csrf_token": csrf_from(page), "op": "nominate",
                                                        "scheme": str(_scheme_id(app, "partner")), "year": "20x6"})
    assert r.status_code == 200 and 'data-field="year"' in r.get_data(as_text=True)


def _scheme_id(app, code):
    with app.app_context():
        return _scheme(code).id


def test_r_inc_2_4_party_annual_takes_party_members_by_hours_and_feedback_only(world):
    app, (v1, v2, v3) = world["app"], world["v"]
    _party(app, v1)
    _party(app, v3)
    aid, _ = serve(world, [v1, v2, v3], hours=13)
    serve(world, [v1, v2, v3], hours=13)
    from plugins.activities.models import Feedback
    from plugins.incentives import commendations as C
    with app.test_request_context():
        Feedback.create(activity=aid, volunteer=v1, overall=10)
        Feedback.create(activity=aid, volunteer=v2, overall=10)
        assert [r[0] for r in C.party_annual_candidates(_year())] == [v1, v3]   # v2 is not a Party member
        made = C.nominate_party_annual(_year(), actor=_admin(app))
        assert sorted(n.volunteer_id for n in made) == sorted([v1, v3])
        assert C.nominate_party_annual(_year(), actor=_admin(app)) == []       # not twice
        with pytest.raises(C.CommendationError) as e:
            C.nominate(_scheme("party_annual"), period_start=_dt.date(_year(), 1, 1),
                       period_end=_dt.date(_year(), 12, 31), volunteer_id=v2, actor=_admin(app))
        assert "党员" in str(e.value.errors["volunteer"])
        # the thresholds are settings: a feedback score (of the activities served) below the minimum drops
        # the candidates; lowering the setting brings them back; more hours required drops them again
        Feedback.update(overall=5).where(Feedback.activity == aid).execute()
        assert C.party_annual_candidates(_year()) == []
        from core.settings import change
        change("incentives", {"party_annual_min_score": "5"}, user=_admin(app))
        assert [r[0] for r in C.party_annual_candidates(_year())] == [v1, v3]
        change("incentives", {"party_annual_min_hours": "30"}, user=_admin(app))
        assert C.party_annual_candidates(_year()) == []


def test_r_inc_2_5_top_hours_rule_nominates_the_most_hours_first(world):
    app, (v1, v2, v3) = world["app"], world["v"]
    serve(world, [v1, v2], hours=5)
    serve(world, [v2], hours=5)
    from core.settings import change
    from plugins.incentives import commendations as C
    with app.test_request_context():
        change("incentives", {"commendation_top_count": "1"}, user=_admin(app))
        s = _scheme("quarter_star")
        start, end = _period(s)
        made = C.nominate_top_hours(s, start, end, actor=_admin(app))
        assert [(n.volunteer_id, n.minutes, n.source) for n in made] == [(v2, 600, "top_hours")]


def test_r_inc_2_6_letter_and_certificate_are_pdfs_with_embedded_cjk_font(world):
    app, vid = world["app"], world["v"][0]
    from pypdf import PdfReader
    import io
    from core.testing import pdf_text
    from plugins.incentives import commendations as C
    with app.test_request_context():
        admin = _admin(app)
        s = _scheme("elderly_service")
        n = C.nominate(s, period_start=_dt.date(_year(), 1, 1), period_end=_dt.date(_year(), 12, 31),
                       volunteer_id=vid, actor=admin)
        with pytest.raises(C.CommendationError):
            C.certificate_pdf(n)                     # not awarded yet
        n = C.award(C.review(n, actor=admin), actor=admin)
        letter, cert = C.thank_you_letter_pdf(n), C.certificate_pdf(n)
    for data, words in ((letter, ["感", "谢", "张三丰", "长者服务优秀志愿者", "时间银行志愿服务中心"]),
                        (cert, ["荣", "誉", "证", "张三丰", "长者服务优秀志愿者", "特发此证"])):
        text = pdf_text(data).replace(" ", "")
        for w in words:
            assert w in text, w
        fonts = [f.get_object() for p in PdfReader(io.BytesIO(data)).pages
                 for f in p["/Resources"]["/Font"].values()]
        assert fonts and all(f["/BaseFont"].startswith("/") and "Helvetica" not in f["/BaseFont"] for f in fonts)
        assert b"/FontFile2" in data          # the TrueType subset is embedded
    # the volunteer downloads their own; another volunteer gets a 404 (AC6)
    c = app.test_client()
    login(c, _number(app, vid))
    r = c.get(f"/incentives/me/awards/{n.id}/letter.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    other = app.test_client()
    login(other, _number(app, world["v"][1]))
    assert other.get(f"/incentives/me/awards/{n.id}/letter.pdf").status_code == 404


def test_r_inc_2_7_the_honour_roll_is_public_and_lists_only_published_awards(world):
    app, (v1, v2, _v3) = world["app"], world["v"]
    from plugins.incentives import commendations as C
    with app.test_request_context():
        admin = _admin(app)
        s = _scheme("summer_service")
        a = C.nominate(s, period_start=_dt.date(_year(), 7, 1), period_end=_dt.date(_year(), 8, 31),
                       volunteer_id=v1, actor=admin)
        C.publish(C.award(C.review(a, actor=admin), actor=admin), actor=admin)
        C.award(C.review(C.nominate(s, period_start=_dt.date(_year(), 7, 1), period_end=_dt.date(_year(), 8, 31),
                                    volunteer_id=v2, actor=admin), actor=admin), actor=admin)
        p = C.nominate(_scheme("partner"), period_start=_dt.date(_year(), 1, 1),
                       period_end=_dt.date(_year(), 12, 31), partner="羊城晚报", actor=admin)
        C.publish(C.award(C.review(p, actor=admin), actor=admin), actor=admin)
    page = app.test_client().get("/incentives/honours").get_data(as_text=True)
    assert "张三丰" in page and "暑期服务优秀志愿者" in page and "羊城晚报" in page
    assert "李四" not in page                       # awarded, not yet published


def test_r_inc_2_8_ac6_a_team_admin_sees_and_nominates_only_its_tree(world):
    app, (v1, v2, _v3) = world["app"], world["v"]
    from plugins.incentives import commendations as C
    from plugins.teams.models import Membership
    from core.models import User
    with app.test_request_context():
        Membership.insert(team=world["a"], volunteer=v1, status="approved").execute()
        Membership.insert(team=world["b"], volunteer=v2, status="approved").execute()
        s = _scheme("leifeng_month")
        n = C.nominate(s, period_start=_dt.date(_year(), 3, 1), period_end=_dt.date(_year(), 3, 31),
                       volunteer_id=v1, actor=User.get(User.username == "ta"))
        with pytest.raises(C.CommendationError):
            C.nominate(s, period_start=_dt.date(_year(), 3, 1), period_end=_dt.date(_year(), 3, 31),
                       volunteer_id=v2, actor=User.get(User.username == "ta"))
        C.award(C.review(n, actor=_admin(app)), actor=_admin(app))
    ta, tb = _admin_client(app, "ta"), _admin_client(app, "tb")
    assert "张三丰" in ta.get("/admin/incentives_nominations/").get_data(as_text=True)
    page = tb.get("/admin/incentives_nominations/").get_data(as_text=True)
    assert "张三丰" not in page
    assert tb.get(f"/admin/incentives_nominations/{n.id}/letter.pdf").status_code == 404
    r = tb.post("/admin/incentives_nominations/", data={"csrf_token": csrf_from(page), "op": "review",
                                                         "nomination": str(n.id)})
    assert r.status_code == 404
    # a team admin may not review or decide
    page = ta.get("/admin/incentives_nominations/").get_data(as_text=True)
    assert 'value="publish"' not in page and 'value="review"' not in page
