"""The content of the 申报书's steps after submission (issue 14 point 3; RULES R-RES-2, R-RES-4, R-RES-5):
评审 (reviewers assigned, scores on the six criteria of 篇4 二(一)3(2) on a scale from the settings, comment,
decision), 公示 (the public list and objections), 见面会及培训 (attendance per member), 实施 (funded activities
published through the activities plugin's public API and the rule 入选项目必须在时间银行上线) and 末期评估
(outputs achieved vs planned, method results, money spent per budget line vs budget, conclusion). Every
change is audited; refusals are FieldErrors beside the field, nothing written. Public API: see README."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, inputs, money
from core.db import now, transaction
from core.errors import FieldErrors

from .applications import FLOW
from .models import CRITERIA, ActivityLink, Application, Attendance, BudgetLine, Objection, Output, Review
from .services import SETTINGS


# ------------------------------------------------------------------------------------------------ 评审
def assign_reviewer(application, user, *, actor=None) -> Review:
    """Assign ``user`` (who must hold resources.application.review) to review ``application``."""
    from core.security import can
    if application.status not in ("submitted", "reviewing"):
        raise FieldErrors(_l("Reviewers are assigned while the application is submitted or under review."))
    if not can("resources.application.review", user=user):
        raise FieldErrors({"reviewer": _l("This account may not review funding applications.")})
    r = Review.get_or_none((Review.application == application) & (Review.reviewer == user.id))
    if r is None:
        with transaction():
            r = Review.create(application=application, reviewer=user.id)
            audit.log("resources.application.reviewer_assigned", application, {"reviewer": user.id}, user=actor)
    return r


def score(review: Review, scores: dict, *, comment: str = "", decision: str = "", actor) -> Review:
    """The assigned reviewer scores the six criteria (0…``score_max``), comments and decides
    (fund / changes / reject; a reason in the comment for the last two). Audited with the scores."""
    if actor is None or review.reviewer != actor.id:
        raise FieldErrors(_l("Only the assigned reviewer scores this application."), )
    app = Application.get_by_id(review.application_id)
    if app.status != "reviewing":
        raise FieldErrors(_l("Scores are given while the application is under review."))
    top, errors, values = SETTINGS.get("score_max"), {}, {}
    for c in CRITERIA:
        try:
            values[c] = inputs.parse_int(scores.get(c), min=0, max=top)
        except (TypeError, ValueError):
            errors[c] = _l("Enter a whole number from 0 to %(n)s.", n=top)
    comment = " ".join(str(comment or "").split())[:2000]
    if decision not in ("fund", "changes", "reject"):
        errors["decision"] = _l("Choose a decision.")
    elif decision != "fund" and not comment:
        errors["comment"] = _l("Give the reason in the comment.")
    if errors:
        raise FieldErrors(errors)
    with transaction():
        Review.update(comment=comment, decision=decision, scored_at=now(), **values) \
            .where(Review.id == review.id).execute()
        audit.log("resources.application.scored", app, {**values, "decision": decision, "reviewer": actor.id},
                  user=actor)
    return Review.get_by_id(review.id)


def reviewer_ids(application) -> set[int]:
    return {r.reviewer for r in Review.select(Review.reviewer).where(Review.application == application)}


# ------------------------------------------------------------------------------------------------ 公示
def in_publicity():
    """Applications in 公示 now (the public list), oldest first; what the public page may show is only
    the activity, the team's name, the place, the period and the requested amount."""
    return (Application.select().where(Application.status == "publicity")
            .order_by(Application.due_at, Application.id))


def object_to(application, text: str, *, name: str = "", contact: str = "", actor=None) -> Objection:
    """Record an objection during 公示: from the public (name and a mobile or landline to call back,
    stored encrypted) or from staff (``actor``)."""
    from core.pii import PIIError, validate_contact_phone
    errors = {}
    if application.status != "publicity":
        raise FieldErrors(_l("Objections are recorded during the public announcement only."))
    text = str(text or "").strip()
    if not text:
        errors["text"] = _l("Describe the objection.")
    elif len(text) > 2000:
        errors["text"] = _l("At most %(n)s characters.", n=2000)
    name = str(name or "").strip()[:50]
    if actor is None:
        if not name:
            errors["name"] = _l("Enter your name.")
        try:
            contact = validate_contact_phone(contact)
        except PIIError as e:
            errors["contact"] = e.args[0]
    if errors:
        raise FieldErrors(errors)
    with transaction():
        o = Objection.create(application=application, name=name, contact=contact or "", text=text,
                             by_user=getattr(actor, "id", None))
        audit.log("resources.application.objection", application, {"objection": o.id,
                                                                    "by_staff": actor is not None}, user=actor)
    return o


# ------------------------------------------------------------------------------------ 见面会及培训
def record_attendance(application, present_ids, *, actor=None) -> int:
    """Attendance at the meeting and training, one row per member of the application (present or not)."""
    if application.status != "meeting":
        raise FieldErrors(_l("Attendance is recorded during the meeting and training step."))
    present = {int(i) for i in present_ids}
    members = [m.volunteer_id for m in application.members] + \
        ([application.leader_id] if application.leader_id else [])
    members = list(dict.fromkeys(members))
    with transaction():
        Attendance.delete().where(Attendance.application == application).execute()
        for v in members:
            Attendance.create(application=application, volunteer=v, present=v in present,
                              recorded_by=getattr(actor, "id", None))
        audit.log("resources.application.attendance", application,
                  {"present": sorted(present & set(members)), "members": len(members)}, user=actor)
    return len(members)


# ---------------------------------------------------------------------------------------------- 实施
def activities_on() -> bool:
    return "activities" in current_app.blueprints


def publish_activity(application, data: dict, shifts: list[dict], *, actor=None):
    """A funded activity of the application, created for its team, reviewed and published through the
    activities plugin's public API (R-ACT-1 checks apply), then linked. Allowed in 见面会及培训 and 实施."""
    if not activities_on():
        raise FieldErrors(_l("The activities plugin is not enabled."))
    if application.status not in ("meeting", "implementing"):
        raise FieldErrors(_l("Funded activities are published after the announcement, during the meeting "
                             "and training or the implementation."))
    from plugins.activities import services as acts
    with transaction():
        a = acts.create_activity(application.team, data, shifts, actor=actor)
        a = acts.submit(a, actor=actor)
        a = acts.review(a, approve=True, actor=actor)
        a = acts.publish(a, actor=actor)
        ActivityLink.create(application=application, activity_id=a.id)
        audit.log("resources.application.activity_published", application, {"activity": a.id}, user=actor)
    return a


def live_activities(application) -> list:
    """The linked activities that are live in the time bank (published or already finished)."""
    if not activities_on():
        return []
    from plugins.activities.models import Activity
    ids = [x.activity_id for x in ActivityLink.select().where(ActivityLink.application == application)]
    return list(Activity.select().where(Activity.id.in_(ids or [-1])
                                        & Activity.status.in_(("published", "finished", "closed"))))


def check_online(application):
    """入选项目必须在时间银行上线: with the activities plugin on, 实施 and 末期评估 need one live activity."""
    if activities_on() and not live_activities(application):
        raise FieldErrors(_l("入选项目必须在时间银行上线: publish at least one funded activity in the time "
                             "bank before this step."))


GUARDED = {"trained": check_online, "implemented": check_online}


def move(application, step: str, *, actor=None, reason: str = ""):
    """FLOW.move with the steps' own rules first (the time-bank rule before 实施 and 末期评估; the final
    evaluation filled in before closing)."""
    if step in GUARDED and application.status in FLOW.steps[step].sources:
        GUARDED[step](application)
    if step == "close" and application.status == "evaluating" and not application.conclusion.strip():
        raise FieldErrors({"conclusion": _l("Fill in the final evaluation before closing.")})
    if step == "submit":
        from .applications import submit
        return submit(application, actor=actor)
    return FLOW.move(application, step, actor=actor, reason=reason)


# ------------------------------------------------------------------------------------------ 末期评估
def evaluate(application, *, achieved: dict, spent: dict, method_results: str, conclusion: str, actor=None):
    """Outputs achieved per indicator (output id → whole number), money spent per budget line (line id →
    yuan text or fen), the evaluation methods' results and the conclusion. In 末期评估 only."""
    if application.status != "evaluating":
        raise FieldErrors(_l("The final evaluation is filled in during the final evaluation step."))
    errors, got, paid = {}, {}, {}
    for o in application.outputs:
        try:
            got[o.id] = inputs.parse_int(achieved.get(o.id, achieved.get(str(o.id))), min=0, max=10**7)
        except (TypeError, ValueError):
            errors[f"achieved-{o.id}"] = _l("Enter the achieved number as a whole number from 0.")
    for ln in application.lines:
        raw = spent.get(ln.id, spent.get(str(ln.id)))
        try:
            paid[ln.id] = raw if isinstance(raw, int) else money.parse(raw, max=10**11, field=f"spent-{ln.id}")
        except FieldErrors as e:
            errors.update(e.errors)
    method_results, conclusion = str(method_results or "").strip(), str(conclusion or "").strip()
    if application.evaluation_methods and not method_results:
        errors["method_results"] = _l("Give the results of the evaluation methods.")
    if not conclusion:
        errors["conclusion"] = _l("Write the conclusion.")
    if errors:
        raise FieldErrors(errors)
    with transaction():
        for oid, n in got.items():
            Output.update(achieved=n).where(Output.id == oid).execute()
        for lid, fen in paid.items():
            BudgetLine.update(spent=fen).where(BudgetLine.id == lid).execute()
        Application.update(method_results=method_results[:5000], conclusion=conclusion[:5000],
                           updated_at=now()).where(Application.id == application.id).execute()
        audit.log("resources.application.evaluated", application,
                  {"achieved": got, "spent": sum(paid.values())}, user=actor)
    return Application.get_by_id(application.id)


def evaluation(application) -> dict:
    """Planned vs achieved per indicator and budget vs spent per line, with the totals (fen)."""
    outs = [(o.indicator, o.planned, o.achieved) for o in application.outputs.order_by(Output.position)]
    lines = [(ln, ln.amount, ln.spent) for ln in application.lines.order_by(BudgetLine.position)]
    return {"outputs": outs, "lines": lines, "budget": sum(x[1] for x in lines),
            "spent": sum(x[2] or 0 for x in lines)}
