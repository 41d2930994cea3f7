"""Admin screens of 激励与维系: evaluations (R-INC-6), greeting templates and the contact list (R-INC-4), an
activity's insurance checklist and insured list (R-INC-5). Every row goes through the team scoping (AC6)."""
import datetime as _dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from core import inputs, security
from core.admin import PermissionView, SecureModelView
from core.errors import FieldErrors
from plugins.activities.models import Activity
from plugins.documents.services import send
from plugins.volunteers.models import Volunteer

from . import evaluation, greetings, insurance


class EvaluationView(SecureModelView):
    permission = "incentives.evaluation"
    can_create = False
    can_delete = False
    column_list = ["volunteer", "period_start", "period_end", "minutes", "signups", "no_shows", "feedback_score",
                   "grade", "comment", "status"]
    column_labels = {"volunteer": _l("Volunteer"), "period_start": _l("Period from"), "period_end": _l("Period to"),
                     "minutes": _l("Service hours"), "signups": _l("Sign-ups"), "no_shows": _l("No-shows"),
                     "feedback_score": _l("Feedback score"), "grade": _l("Grade"), "comment": _l("Staff comment"),
                     "status": _l("Status")}
    column_filters = ["status", "period_start"]
    form_columns = ["grade", "comment"]
    form_overrides = {"grade": SelectField}
    form_args = {"grade": {"choices": list(evaluation.GRADES.items())}}
    column_formatters = {
        "minutes": lambda v, c, m, n: f"{m.minutes / 60:g}",
        "grade": lambda v, c, m, n: evaluation.GRADES.get(m.grade, m.grade),
        "status": lambda v, c, m, n: _("Published") if m.status == "published" else _("Draft"),
        "no_shows": lambda v, c, m, n: f"{m.no_shows} ({evaluation.no_show_percent(m)})"}
    column_formatters_export = {"minutes": lambda v, c, m, n: m.minutes / 60,
                                "grade": lambda v, c, m, n: str(evaluation.GRADES.get(m.grade, m.grade))}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.status == "published":
            raise FieldErrors({"grade": _l("A published evaluation is not changed.")})

    @action("publish", _l("Publish to the volunteer"))
    def action_publish(self, ids):
        for e in self.get_query().where(self.model.id.in_(ids)):
            try:
                evaluation.publish(e, actor=current_user._get_current_object())
            except FieldErrors as err:
                flash("; ".join(err.messages()), "error")
        flash(_("Published."), "success")


class GreetingTemplateView(SecureModelView):
    permission = "incentives.greeting_template"
    can_create = False
    can_delete = False
    column_list = ["occasion", "subject", "active"]
    form_columns = ["subject", "body", "active"]
    column_labels = {"occasion": _l("Occasion"), "subject": _l("Subject"), "body": _l("Text"),
                     "active": _l("Send")}
    column_formatters = {"occasion": lambda v, c, m, n: greetings.occasion_label(m.occasion)}
    column_descriptions = {"body": _l("{name} is replaced by the volunteer's name.")}
    audit_changes = True


class ContactsView(PermissionView):
    """Volunteers not contacted for N months (setting), with a button to record a call or a visit."""
    permission = "incentives.contact.view"

    @expose("/", methods=["GET", "POST"])
    def index(self):
        user = current_user._get_current_object()
        q = security.scoped(Volunteer, Volunteer.select(), "volunteers.volunteer.view", user=user)
        errors = {}
        if request.method == "POST":
            security.require("incentives.contact.create")
            vid = inputs.parse_id(request.form.get("volunteer"))
            v = q.where(Volunteer.id == vid).first() if vid else None
            if v is None:
                abort(404)
            try:
                greetings.record_contact(v, note=request.form.get("note", ""), actor=user)
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Contact recorded."), "success")
                return redirect(url_for(".index"))
        months = greetings.SETTINGS.get("not_contacted_months")
        people = list(greetings.not_contacted(q).limit(500))
        last = greetings.last_contacts(v.id for v in people)
        return self.render("incentives/contacts.html", people=people, last=last, months=months, errors=errors,
                           can_record=security.can("incentives.contact.create"))


class InsuranceView(PermissionView):
    """One activity's insurance: what it needs, the checklist, the insured list (XLSX)."""
    permission = "incentives.insurance.view"

    def _activity(self):
        aid = inputs.parse_id(request.values.get("activity"))
        user = current_user._get_current_object()
        a = security.scoped(Activity, Activity.select(), "activities.activity.view", user=user).where(
            Activity.id == (aid or -1)).first()
        from .models import InsuranceCheck
        if a is None or not security.can("incentives.insurance.view", InsuranceCheck(activity=a.id), user=user):
            abort(404)
        return a, user

    @expose("/", methods=["GET", "POST"])
    def index(self):
        a, user = self._activity()
        errors, form = {}, {}
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                insurance.record_check(a, form, actor=user)
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Insurance checklist saved."), "success")
                return redirect(url_for(".index", activity=a.id))
        return self.render("incentives/insurance.html", a=a, kind=insurance.required_label(a),
                           check=insurance.check_of(a), errors=errors, form=form,
                           people=len(insurance.insured_people(a)),
                           may_full=insurance.may_see_full(user, a),
                           can_edit=security.can("incentives.insurance.edit"))

    @expose("/insured.xlsx", methods=["GET", "POST"])
    def insured_xlsx(self):
        """The insured list; full ID numbers only by the page's POST form (CSRF) for who may see them."""
        a, user = self._activity()
        if request.method == "GET" and request.args.get("full"):
            abort(400)
        full = request.method == "POST" and request.form.get("full") == "1"
        try:
            data = insurance.insured_list(a, user=user, full=full)
        except FieldErrors:
            abort(403)
        return send(data, f"投保名单_{a.id}.xlsx", fallback=f"insured-list-{a.id}.xlsx")


# ------------------------------------------------------------------ commendations (R-INC-2)
class SchemeView(SecureModelView):
    """Award schemes as data: target, period, theme (雷锋月, 暑期, 长者服务…)."""
    permission = "incentives.scheme"
    can_delete = False
    column_list = ["name", "target", "period", "theme", "party_only", "granting_body", "active"]
    form_columns = ["code", "name", "target", "period", "theme", "party_only", "granting_body", "active"]
    column_labels = {"code": _l("Code"), "name": _l("Award"), "target": _l("For"), "period": _l("Period"),
                     "theme": _l("Theme"), "party_only": _l("Party members only"),
                     "granting_body": _l("Granting body"), "active": _l("Active")}
    audit_changes = True

    def __init__(self, *a, **kw):
        from . import commendations
        self.form_overrides = {"target": SelectField, "period": SelectField}
        self.form_args = {"target": {"choices": list(commendations.TARGETS.items())},
                          "period": {"choices": list(commendations.PERIODS.items())}}
        self.column_formatters = {
            "target": lambda v, c, m, n: commendations.TARGETS.get(m.target, m.target),
            "period": lambda v, c, m, n: commendations.PERIODS.get(m.period, m.period)}
        super().__init__(*a, **kw)


class NominationsView(PermissionView):
    """Nominations: nominate (a person, a team, a partner; or by a rule), review, award or reject with a
    reason, publish; the letter and the certificate of an award. A team admin sees its tree's only (AC6)."""
    permission = "incentives.commendation.view"

    def _scoped(self, user):
        from .models import Nomination
        return security.scoped(Nomination, Nomination.select(), "incentives.commendation.view", user=user)

    def _one(self, user, nid):
        n = self._scoped(user).where(self._model().id == (inputs.parse_id(nid) or -1)).first()
        if n is None:
            abort(404)
        return n

    @staticmethod
    def _model():
        from .models import Nomination
        return Nomination

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from core.db import today
        from . import commendations as c
        from .models import Scheme
        user = current_user._get_current_object()
        errors, form = {}, {}
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                self._post(user, form)
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                return redirect(url_for(".index"))
        rows = list(self._scoped(user).order_by(self._model().id.desc()).limit(500))
        schemes = {s.id: s for s in Scheme.select()}
        return self.render("incentives/nominations.html", rows=rows, schemes=schemes, wf=c.WORKFLOW,
                           name=c.nominee_name, user=user, errors=errors, form=form, year=today().year,
                           targets=c.TARGETS, can_create=security.can("incentives.commendation.create"),
                           can_rules=security.can("incentives.commendation.review"))

    def _post(self, user, form):
        from . import commendations as c
        from .models import Scheme
        op = form.get("op", "")
        if op in ("review", "award", "reject", "publish"):
            n = self._one(user, form.get("nomination"))
            if op == "reject":
                c.reject(n, reason=form.get("reason", ""), actor=user)
            else:
                getattr(c, op)(n, actor=user)
            flash(_("Saved."), "success")
            return
        scheme = Scheme.get_or_none(Scheme.id == (inputs.parse_id(form.get("scheme")) or -1))
        if scheme is None:
            raise FieldErrors({"scheme": _l("Choose an award scheme.")})
        year = inputs.parse_int(form.get("year"), min=2000, max=2100, field="year")
        quarter = inputs.parse_int(form.get("quarter") or None, min=1, max=4, field="quarter") \
            if form.get("quarter") else None
        start, end = c.period_of(scheme, year, quarter)
        if op == "rule_top_hours":
            security.require("incentives.commendation.review")
            made = c.nominate_top_hours(scheme, start, end, actor=user)
        elif op == "rule_targets_met":
            security.require("incentives.commendation.review")
            made = c.nominate_targets_met(scheme, year, actor=user)
        elif op == "rule_party_annual":
            security.require("incentives.commendation.review")
            made = c.nominate_party_annual(year, actor=user)
        else:
            vid = tid = None
            if scheme.target in c.PERSON_TARGETS:
                number = (form.get("volunteer") or "").strip()
                v = security.scoped(Volunteer, Volunteer.select(), "volunteers.volunteer.view", user=user).where(
                    Volunteer.number == number).first() if number else None
                if v is None:
                    raise FieldErrors({"volunteer": _l("No volunteer with this number in your teams.")})
                vid = v.id
            elif scheme.target == "team":
                tid = inputs.parse_id(form.get("team"))
                from plugins.teams.scoping import team_allowed
                if not tid or not team_allowed(user, tid):
                    raise FieldErrors({"team": _l("Choose a team.")})
            made = [c.nominate(scheme, period_start=start, period_end=end, volunteer_id=vid, team_id=tid,
                               partner=form.get("partner", ""), reason=form.get("reason", ""), actor=user)]
        flash(_("%(n)s nominations made.", n=len(made)), "success")

    @expose("/<int:nid>/<kind>.pdf")
    def pdf(self, nid, kind):
        from . import commendations as c
        n = self._one(current_user._get_current_object(), nid)
        if kind not in ("letter", "certificate") or n.status not in c.AWARDED:
            abort(404)
        data = c.thank_you_letter_pdf(n) if kind == "letter" else c.certificate_pdf(n)
        name = "感谢信" if kind == "letter" else "荣誉证书"
        return send(data, f"{name}_{n.id}.pdf", fallback=f"{kind}-{n.id}.pdf")


# ------------------------------------------------------------------ evaluation indicators (R-INC-3)
class IndicatorsView(PermissionView):
    """评估指标: per team tree, district and period, every plugin's indicators with target and met / not
    met — charts (Apache ECharts, vendored), the same numbers as a table, an XLSX export; a form for the
    values entered by hand. A team admin's scope is its own tree (AC6)."""
    permission = "incentives.indicator.view"

    def _params(self, user):
        from core.db import today
        from plugins.teams.models import Team
        from plugins.teams.scoping import team_allowed
        from . import indicators as I
        t = today()
        start = inputs.arg_date("from") or _dt.date(t.year, 1, 1)
        end = inputs.arg_date("to") or t
        team = inputs.parse_id(request.args.get("team")) if request.args.get("team") else None
        if team and not team_allowed(user, team):
            abort(404)
        district = (request.args.get("district") or "").strip()[:10]
        ids = I.scope_team_ids(user, team, district)
        team_obj = Team.get_or_none(Team.id == team) if team else None
        return start, end, team, district, ids, team_obj

    def _visible_teams(self, user):
        from plugins.teams.models import Team
        from plugins.teams.services import admin_team_ids
        own = admin_team_ids(user)
        q = Team.select(Team.id, Team.name, Team.district).order_by(Team.name)
        return list(q if own is None else q.where(Team.id.in_(own)))

    @expose("/", methods=["GET", "POST"])
    def index(self):
        import json
        from markupsafe import Markup
        from plugins.teams.services import admin_team_ids
        from . import indicators as I
        user = current_user._get_current_object()
        errors, form = {}, {}
        if request.method == "POST":
            security.require("incentives.indicator.edit")
            form = request.form.to_dict()
            try:
                I.enter(form, actor=user, team_ids_allowed=admin_team_ids(user))
            except FieldErrors as e:
                errors = {k: str(m) for k, m in e.errors.items()}
            else:
                flash(_("Saved."), "success")
                return redirect(url_for(".index", **request.args))
        start, end, team, district, ids, team_obj = self._params(user)
        try:
            rows = I.collect(ids, start, end)
        except FieldErrors as e:
            errors.update({k: str(m) for k, m in e.errors.items()})
            rows = []
        data = json.dumps(I.chart_data(rows), ensure_ascii=False, separators=(",", ":"))
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        teams = self._visible_teams(user)
        return self.render("incentives/indicators.html", rows=rows, chart=Markup(data), start=start, end=end,
                           team=team, district=district, teams=teams,
                           districts=sorted({t.district for t in teams if t.district}), errors=errors, form=form,
                           entered=I.ENTERED, met_label=I.met_label,
                           can_edit=security.can("incentives.indicator.edit"),
                           can_export=security.can("incentives.indicator.export"),
                           echarts=url_for("incentives.static", filename="vendor/echarts/echarts.min.js"),
                           charts_js=url_for("incentives.static", filename="indicators.js"))

    @expose("/export.xlsx")
    def export(self):
        from . import indicators as I
        user = current_user._get_current_object()
        security.require("incentives.indicator.export")
        start, end, team, district, ids, team_obj = self._params(user)
        try:
            rows = I.collect(ids, start, end)
        except FieldErrors:
            abort(400)
        from core import audit
        audit.log("export", None, {"what": "incentives.indicators", "from": start.isoformat(),
                                   "to": end.isoformat(), "team": team, "district": district}, user=user)
        return send(I.xlsx(rows, "评估指标"), f"评估指标_{start}_{end}.xlsx", fallback="indicators.xlsx")
