"""资源链接 in the admin: the funding programmes and resource accounts (R-RES-1). Platform admins create,
edit and delete; team admins read and export. Every change is audited by SecureModelView."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import money
from core.admin import SecureModelView
from core.errors import FieldErrors

LABELS = {"number": _l("No."), "name": _l("Name"), "organiser": _l("Organiser"),
          "window_text": _l("Application window"), "months": _l("Window months"),
          "funding_text": _l("Funding"), "funding_min": _l("Funding from"), "funding_max": _l("Funding up to"),
          "email": _l("Email"), "channel": _l("How to apply"), "url": _l("Web address"),
          "district": _l("District"), "resource_types": _l("Resource types"), "notes": _l("Notes"),
          "active": _l("Listed"), "updated_at": _l("Updated"), "wechat_id": _l("WeChat id")}

_show, _export = money.column_formatters("funding_min", "funding_max")


def _check_months(text: str) -> str:
    """"3,4" / "3，4" / "" → "3,4"; anything else is a FieldErrors beside the field."""
    parts = [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if any(not p.isdigit() or not 1 <= int(p) <= 12 for p in parts):
        raise FieldErrors({"months": _l("Enter the months of the window as numbers 1–12 separated by commas "
                                         "(empty for 不定期).")})
    return ",".join(str(int(p)) for p in dict.fromkeys(parts))


class ProgrammeView(SecureModelView):
    permission = "resources.programme"
    column_list = ["number", "name", "window_text", "funding_text", "district", "resource_types", "active"]
    column_searchable_list = ["name", "resource_types", "email"]
    column_filters = ["district", "active", "resource_types"]
    column_default_sort = ("number", False)
    column_labels = LABELS
    column_formatters = _show
    column_formatters_export = _export
    form_columns = ["number", "name", "organiser", "window_text", "months", "funding_text", "funding_min",
                    "funding_max", "email", "channel", "url", "district", "resource_types", "notes", "active"]
    column_descriptions = {"months": _l("Numbers 1–12 separated by commas; empty for 不定期."),
                           "window_text": _l("As printed, e.g. 8月-10月 or 不定期.")}

    def on_model_change(self, form, model, is_created):
        model.months = _check_months(model.months)
        if model.funding_min is not None and model.funding_max is not None \
                and model.funding_min > model.funding_max:
            raise FieldErrors({"funding_max": _l("The upper amount must not be below the lower one.")})
        super().on_model_change(form, model, is_created)


class AccountView(SecureModelView):
    permission = "resources.account"
    column_list = ["number", "name", "wechat_id", "resource_types", "district", "active"]
    column_searchable_list = ["name", "wechat_id", "resource_types"]
    column_filters = ["district", "active", "resource_types"]
    column_default_sort = ("number", False)
    column_labels = LABELS
    form_columns = ["number", "name", "wechat_id", "resource_types", "district", "notes", "active"]


# ---------------------------------------------------------------- funding applications (R-RES-2/3)
from flask import abort, flash, redirect, request, url_for  # noqa: E402
from flask_admin import expose  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from flask_login import current_user  # noqa: E402

from core import audit, inputs, security  # noqa: E402
from .models import BudgetLine  # noqa: E402
from core.admin import ReadOnlyModelView  # noqa: E402

APP_LABELS = {"team": _l("Team"), "activity_name": _l("Activity name"), "status": _l("Status"),
              "due_at": _l("Due"), "period_start": _l("From"), "period_end": _l("To"),
              "requested": _l("Requested amount"), "total_budget": _l("Total budget"), "field": _l("Field"),
              "target_group": _l("Target group"), "place": _l("Place"), "summary": _l("Summary"),
              "background": _l("Background"), "needs": _l("Needs analysis"), "goals": _l("Goals"),
              "content": _l("Content"), "created_at": _l("Created"), "updated_at": _l("Updated"),
              "leader": _l("Leader"), "programme": _l("Programme")}


SCHEDULE_LABELS = {"when": _l("Time"), "place": _l("Place"), "theme": _l("Theme"), "content": _l("Content"),
                   "materials": _l("Materials needed"), "person": _l("Person in charge")}


def _status(view, context, model, name):
    from .applications import FLOW
    return FLOW.label(model.status)


_app_show, _app_export = money.column_formatters("requested", "total_budget")


class ApplicationView(ReadOnlyModelView):
    """申报书 of the user's team tree (platform admins: all), with the steps the user may take (AC6: rows
    and steps both scoped; a step on another team's id is 404 and audited)."""
    permission = "resources.application"
    details_template = "resources/admin_application.html"
    list_template = "resources/admin_application_list.html"

    def may_draft(self):
        return security.can(self.perm("create"))
    column_list = ["team", "activity_name", "status", "due_at", "period_start", "period_end", "requested"]
    column_details_list = ["team", "activity_name", "status", "due_at", "field", "target_group", "period_start",
                           "period_end", "place", "total_budget", "requested", "summary", "background", "needs",
                           "goals", "content", "created_at", "updated_at"]
    column_export_list = ["team", "activity_name", "status", "period_start", "period_end", "place",
                          "total_budget", "requested"]
    column_searchable_list = ["activity_name"]
    column_filters = ["status"]
    column_default_sort = ("created_at", True)
    column_labels = APP_LABELS
    column_formatters = {**_app_show, "status": _status, "team": lambda v, c, m, n: m.team.name}
    column_formatters_export = {**_app_export, "status": _status, "team": lambda v, c, m, n: m.team.name}

    def _row(self):
        r = self.get_one(request.values.get("id", ""))
        if r is None:
            audit.log("access.denied", ("resources_application", str(request.values.get("id", ""))[:64]),
                      {"path": request.path})
            abort(404)
        return r

    @expose("/details/")
    def details_view(self):
        from .applications import CATEGORY_LABELS, FLOW, totals
        r = self.get_one(request.args.get("id", ""))
        if r is not None:
            from core.pii import mask_phone
            from .applications import CRITERIA_LABELS, METHOD_LABELS
            from .models import CRITERIA, Review
            from . import steps as S
            from . import points as P
            user = current_user._get_current_object()
            reviews = list(r.reviews.order_by(Review.id))
            self._template_args.update(
                steps=FLOW.steps_for(r, user), lines=list(r.lines.order_by(BudgetLine.position)),
                members=list(r.members), totals=totals(r), categories=CATEGORY_LABELS, fmt=money.fmt,
                leader_phone=mask_phone(r.leader_phone), schedule=list(r.schedule), outputs=list(r.outputs),
                methods=[METHOD_LABELS[m] for m in r.evaluation_methods.split(",") if m in METHOD_LABELS],
                criteria=CRITERIA, criteria_labels=CRITERIA_LABELS, reviews=reviews,
                my_review=next((x for x in reviews if x.reviewer == user.id), None),
                score_max=S.SETTINGS.get("score_max"),
                may_manage=security.can("resources.application.manage", r),
                may_edit=security.can("resources.application.edit", r),
                may_export=security.can("resources.application.export", r),
                points_on=P.donations_on(), campaigns=P.campaigns_for(r) if P.donations_on() else [],
                points_uses=P.uses(r), points_key=__import__("uuid").uuid4().hex,
                objections=list(r.objections), attendance={x.volunteer_id: x.present for x in r.attendance},
                attendees=[m.volunteer for m in r.members] + ([r.leader] if r.leader_id and r.leader_id not in
                                                              {m.volunteer_id for m in r.members} else []),
                links=[x.activity_id for x in r.activity_links], live=S.live_activities(r),
                activities_on=S.activities_on(), evaluation=S.evaluation(r),
                activity_categories=self._activity_categories())
        return super().details_view()

    @expose("/step/", methods=["POST"])
    def step_view(self):
        from .steps import move
        r = self._row()
        try:
            move(r, request.form.get("step", ""), actor=current_user._get_current_object(),
                 reason=request.form.get("reason", ""))
        except FieldErrors as e:
            if getattr(e, "code", None) == 403:
                abort(403)
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Done."), "success")
        return redirect(url_for(".details_view", id=r.id))

    # ------------------------------------------------------------ the 申报书 form (create and edit a draft)
    LINE_ROWS = 12
    SCHEDULE_ROWS = 8
    OUTPUT_ROWS = 5
    MEMBER_ROWS = 8   # more rows than the cap, so that a 6th member is refused by the rule, not the page

    def _teams(self):
        from plugins.teams.models import Team
        from plugins.teams.services import admin_team_ids
        reach = admin_team_ids(current_user)
        q = Team.select(Team.id, Team.name).where(Team.status == "approved").order_by(Team.name)
        if reach is not None:
            q = q.where(Team.id.in_(reach or [-1]))
        return list(q.limit(500))

    def _members(self, team_id, errors):
        """Member rows (volunteer number, duty, responsibility) → {"volunteer": id…}; a number that is not
        an approved member of the team is refused beside its row."""
        from plugins.teams.models import Membership
        from plugins.volunteers.models import Volunteer
        out = []
        for i in range(self.MEMBER_ROWS):
            number = (request.form.get(f"members-{i}-number") or "").strip()[:32]
            if not number:
                continue
            v = (Volunteer.select(Volunteer.id).join(Membership, on=(Membership.volunteer == Volunteer.id))
                 .where((Volunteer.number == number) & (Membership.team == team_id)
                        & (Membership.status == "approved")).first())
            if v is None:
                errors[f"members-{i}-number"] = _l("No approved member of this team has this volunteer number.")
                continue
            out.append({"volunteer": v.id, "duty": (request.form.get(f"members-{i}-duty") or "")[:100],
                        "responsibility": (request.form.get(f"members-{i}-responsibility") or "")[:2000]})
        return out

    @expose("/draft/", methods=["GET", "POST"])
    def draft_view(self):
        from core import inputs
        from core.pii import mask_phone
        from .applications import CATEGORY_LABELS, FIELDS, METHOD_LABELS, SCHEDULE_FIELDS, save
        from .models import Output, ScheduleRow
        from .models import CATEGORIES
        from core.errors import FieldErrors
        from plugins.teams.models import Team
        application = None
        if request.values.get("id"):
            application = self._row()
            if not security.can(self.perm("edit"), application):
                abort(403)
        elif not security.can(self.perm("create")):
            abort(403)
        teams = self._teams()
        errors, form = {}, dict(request.form)
        if request.method == "POST":
            team_ids = {t.id for t in teams}
            team_id = application.team_id if application else inputs.parse_id(request.form.get("team"))
            if team_id not in team_ids:
                errors["team"] = _l("Choose one of your teams.")
            data = {f: (request.form.get(f) or "").strip() for f in FIELDS}
            for f in ("period_start", "period_end"):
                try:
                    data[f] = inputs.parse_date(data[f], field=f)
                except FieldErrors as e:
                    errors.update(e.errors)
                    data[f] = None
            for f in ("total_budget", "requested"):
                try:
                    data[f] = money.parse(data[f], max=10**11, field=f)
                except FieldErrors as e:
                    errors.update(e.errors)
                    data[f] = 0
            members = self._members(team_id, errors)
            data["leader"] = None
            number = (request.form.get("leader_number") or "").strip()[:32]
            if number:
                from plugins.volunteers.models import Volunteer
                v = Volunteer.get_or_none(Volunteer.number == number)
                data["leader"] = v.id if v else -1      # -1: refused beside the field by the rule
            phone = (request.form.get("leader_phone") or "").strip()[:20]
            if application is not None and phone == mask_phone(application.leader_phone):
                phone = application.leader_phone            # the masked value shown: unchanged
            data["leader_phone"] = phone
            data["evaluation_methods"] = request.form.getlist("evaluation_methods")[:10]
            data["evaluation_other"] = (request.form.get("evaluation_other") or "").strip()[:200]
            schedule = [{f: request.form.get(f"schedule-{i}-{f}", "") for f in SCHEDULE_FIELDS}
                        for i in range(self.SCHEDULE_ROWS)]
            schedule = [r for r in schedule if any((v or "").strip() for v in r.values())]
            outputs = [{f: request.form.get(f"outputs-{i}-{f}", "") for f in ("indicator", "planned")}
                       for i in range(self.OUTPUT_ROWS)]
            outputs = [r for r in outputs if any((v or "").strip() for v in r.values())]
            lines = [{k: request.form.get(f"lines-{i}-{k}", "") for k in ("category", "detail", "unit_price",
                                                                         "quantity", "note")}
                     for i in range(self.LINE_ROWS)]
            lines = [r for r in lines if any((r[k] or "").strip() for k in ("detail", "unit_price", "quantity"))]
            if not errors:
                try:
                    r = save(Team.get_by_id(team_id), data, members, lines, application=application,
                             actor=current_user._get_current_object(), schedule=schedule, outputs=outputs)
                except FieldErrors as e:
                    errors = e.errors
                else:
                    flash(_("The application was saved as a draft."), "success")
                    return redirect(url_for(".details_view", id=r.id))
            form["evaluation_methods"] = request.form.getlist("evaluation_methods")
        elif application is not None:
            form = {f: getattr(application, f) for f in FIELDS}
            form.update(leader_number=application.leader.number if application.leader else "",
                        leader_phone=mask_phone(application.leader_phone),
                        evaluation_methods=application.evaluation_methods.split(","),
                        evaluation_other=application.evaluation_other)
            for i, x in enumerate(application.schedule.order_by(ScheduleRow.position)):
                form.update({f"schedule-{i}-{f}": getattr(x, f) for f in SCHEDULE_FIELDS})
            for i, x in enumerate(application.outputs.order_by(Output.position)):
                form.update({f"outputs-{i}-indicator": x.indicator, f"outputs-{i}-planned": x.planned})
            for f in ("total_budget", "requested"):
                form[f] = money.fmt(form[f], style="plain")
            for i, m in enumerate(application.members):
                form.update({f"members-{i}-number": m.volunteer.number, f"members-{i}-duty": m.duty,
                             f"members-{i}-responsibility": m.responsibility})
            for i, ln in enumerate(application.lines.order_by(BudgetLine.position)):
                form.update({f"lines-{i}-category": ln.category, f"lines-{i}-detail": ln.detail,
                             f"lines-{i}-unit_price": money.fmt(ln.unit_price, style="plain"),
                             f"lines-{i}-quantity": ln.quantity, f"lines-{i}-note": ln.note})
        return self.render("resources/admin_draft.html", teams=teams, application=application, form=form,
                           errors={k: str(v) for k, v in errors.items()}, categories=CATEGORY_LABELS,
                           category_keys=CATEGORIES, line_rows=self.LINE_ROWS, member_rows=self.MEMBER_ROWS,
                           labels=APP_LABELS, schedule_rows=self.SCHEDULE_ROWS, output_rows=self.OUTPUT_ROWS,
                           schedule_fields=SCHEDULE_FIELDS, schedule_labels=SCHEDULE_LABELS,
                           method_labels=METHOD_LABELS), (400 if errors else 200)

    # ------------------------------------------------------------ the steps' content (issue 14 point 3)
    def _activity_categories(self):
        from .steps import activities_on
        if not activities_on():
            return {}
        from plugins.activities import services as acts
        return {"category": acts.categories("category"), "field": acts.categories("field")}

    def _act(self, perm, fn):
        """Run ``fn(row)`` for the row of ``id`` when the user holds ``perm`` on it; errors are flashed."""
        r = self._row()
        if not security.can(perm, r):
            abort(403)
        try:
            fn(r)
        except FieldErrors as e:
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Done."), "success")
        return redirect(url_for(".details_view", id=r.id))

    @expose("/assign/", methods=["POST"])
    def assign_view(self):
        from core.models import User
        from .steps import assign_reviewer

        def go(r):
            u = User.get_or_none(User.username == (request.form.get("username") or "").strip()[:64])
            if u is None:
                raise FieldErrors({"reviewer": _l("No account has this user name.")})
            assign_reviewer(r, u, actor=current_user._get_current_object())
        return self._act("resources.application.manage", go)

    @expose("/score/", methods=["POST"])
    def score_view(self):
        from .models import CRITERIA, Review
        from .steps import score

        def go(r):
            me = current_user._get_current_object()
            rv = Review.get_or_none((Review.application == r) & (Review.reviewer == me.id))
            if rv is None:
                abort(403)
            score(rv, {c: request.form.get(c) for c in CRITERIA}, comment=request.form.get("comment", ""),
                  decision=request.form.get("decision", ""), actor=me)
        return self._act("resources.application.review", go)

    @expose("/objection/", methods=["POST"])
    def objection_view(self):
        from .steps import object_to
        return self._act("resources.application.manage", lambda r: object_to(
            r, request.form.get("text", ""), name=request.form.get("name", ""),
            actor=current_user._get_current_object()))

    @expose("/attendance/", methods=["POST"])
    def attendance_view(self):
        from .steps import record_attendance
        return self._act("resources.application.manage", lambda r: record_attendance(
            r, inputs.parse_ids(request.form.getlist("present")), actor=current_user._get_current_object()))

    @expose("/activity/", methods=["POST"])
    def activity_view(self):
        from .steps import publish_activity
        keys = ("title", "address", "description", "contact_name", "contact_phone", "district", "category",
                "field")
        return self._act("resources.application.manage", lambda r: publish_activity(
            r, {k: (request.form.get(k) or "")[:2000] for k in keys},
            [{"starts_at": request.form.get("starts_at", ""), "ends_at": request.form.get("ends_at", ""),
              "capacity": request.form.get("capacity", "")}], actor=current_user._get_current_object()))

    @expose("/evaluate/", methods=["POST"])
    def evaluate_view(self):
        from .steps import evaluate
        f = request.form
        return self._act("resources.application.edit", lambda r: evaluate(
            r, achieved={k[9:]: v for k, v in f.items() if k.startswith("achieved-")},
            spent={k[6:]: v for k, v in f.items() if k.startswith("spent-")},
            method_results=f.get("method_results", ""), conclusion=f.get("conclusion", ""),
            actor=current_user._get_current_object()))

    # ------------------------------------------------------------ documents (issue 14 point 4)
    def _document(self, build, filename, perm="view"):
        """A document of the row of ``id`` the user reaches (AC6: another team's id is 404 and audited)."""
        from plugins.documents.services import send
        r = self._row()
        if not security.can(self.perm(perm), r):
            abort(403)
        audit.log("resources.application.document", r, {"document": filename.split("_")[0],
                                                         "format": filename.rsplit(".", 1)[-1]})
        return send(build(r), filename.format(name=r.activity_name[:40], id=r.id),
                    fallback=filename.format(name="application", id=r.id))

    @expose("/document.pdf")
    def application_pdf(self):
        from .documents import application_pdf
        return self._document(application_pdf, "申报书_{name}_{id}.pdf")

    @expose("/export.xlsx")
    def export_xlsx(self):
        from .documents import application_xlsx
        return self._document(application_xlsx, "申报书_{name}_{id}.xlsx", perm="export")

    @expose("/evaluation.pdf")
    def evaluation_pdf(self):
        from .documents import evaluation_pdf
        return self._document(evaluation_pdf, "末期评估报告_{name}_{id}.pdf")

    # ------------------------------------------------------------ points for resources (R-TB-4)
    @expose("/points/", methods=["POST"])
    def points_view(self):
        from .points import apply_campaign_points
        return self._act("resources.application.edit", lambda r: apply_campaign_points(
            r, request.form.get("campaign"), request.form.get("points"),
            actor=current_user._get_current_object(), key=(request.form.get("key") or "")[:64] or None))
