from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from core import audit, security
from core.admin import ReadOnlyModelView, pk_value
from core.errors import FieldErrors
from plugins.teams.models import Team
from plugins.teams.services import admin_team_ids

from . import services
from plugins.teams.scoping import team_allowed
from .models import RATINGS, Assessment

RATING_LABELS = {"met": _l("Met"), "partly": _l("Partly met"), "not": _l("Not met")}
KIND_LABELS = {"self": _l("Self-assessment"), "platform": _l("Platform assessment")}


def _score_link(view, context, model, name):
    s = services.score(model)
    return Markup('<a href="{}">{} / {} ({}%)</a>').format(
        url_for(".report", id=model.id), f"{s.points:g}", s.total, s.percent)


class AssessmentView(ReadOnlyModelView):
    """Assessments of teams against the 34-item checklist (R-TEAM-6), scoped to the user's team tree."""
    permission = "team_standards.assessment"
    list_template = "team_standards/admin_list.html"
    column_list = ["team", "assessed_on", "kind", "score", "created_at"]
    column_details_list = ["team", "assessed_on", "kind", "assessor_id", "note", "score", "created_at"]
    column_export_list = ["team", "assessed_on", "kind", "assessor_id", "note", "created_at"]
    column_default_sort = ("created_at", True)
    column_filters = ["assessed_on", "kind"]
    column_labels = {"team": _l("Team"), "assessed_on": _l("Assessed on"), "kind": _l("Kind"),
                     "score": _l("Score"), "created_at": _l("Recorded at"), "assessor_id": _l("Assessor"),
                     "note": _l("Note")}
    column_formatters = {"score": _score_link,
                         "kind": lambda v, c, m, n: KIND_LABELS.get(m.kind, m.kind),
                         "team": lambda v, c, m, n: m.team.name}

    def may_assess(self):
        return security.can(self.perm("create"))

    def _teams(self):
        reach = admin_team_ids(current_user)
        q = Team.select().order_by(Team.name)
        if reach is not None:
            q = q.where(Team.id.in_(reach or [-1]))
        return list(q.limit(500))

    def _deny(self, status, view):
        audit.log("access.denied", ("teams_team", str(request.args.get("team", ""))[:64]),
                  {"view": view, "path": request.path})
        abort(status)

    @expose("/assess/", methods=["GET", "POST"])
    def assess(self):
        if not self.may_assess():
            self._deny(403, "assess")
        raw = request.values.get("team")
        if raw in (None, ""):
            if request.method == "POST":
                abort(400)
            return self.render("team_standards/admin_pick_team.html", teams=self._teams())
        tid = pk_value(Team, raw)
        if tid is None or not team_allowed(current_user, tid):
            self._deny(404, "assess")
        team = Team.get_or_none(Team.id == tid)
        if team is None:
            abort(404)
        kind = "platform" if admin_team_ids(current_user) is None else "self"
        ratings, errors, note = {}, {}, ""
        if request.method == "POST":
            note = request.form.get("note", "")[:4000]
            ratings = {it.number: request.form.get(f"item_{it.number}") for it in services.items()}
            ratings = {n: r for n, r in ratings.items() if r}
            try:
                a = services.assess(team, ratings, kind=kind, note=note, actor=current_user)
            except FieldErrors as e:
                errors = e.errors
                flash("; ".join(e.messages()), "error")
            else:
                flash(_("Assessment saved."), "success")
                return redirect(url_for(".report", id=a.id))
        resp = self.render("team_standards/admin_assess.html", team=team, kind=kind,
                           kind_label=KIND_LABELS[kind], sections=services.sections(), ratings=ratings,
                           errors=errors, note=note, rating_choices=[(r, RATING_LABELS[r]) for r in RATINGS])
        return (resp, 400) if errors else resp

    @expose("/report/")
    def report(self):
        a = self.get_one(request.args.get("id", ""))
        if a is None:
            audit.log("access.denied", ("team_standards_assessment", str(request.args.get("id", ""))[:64]),
                      {"view": "report", "path": request.path})
            abort(404)
        return self.render("team_standards/admin_report.html", a=a, score=services.score(a),
                           kind_label=KIND_LABELS.get(a.kind, a.kind), rating_labels=RATING_LABELS)
