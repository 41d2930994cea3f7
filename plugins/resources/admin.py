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

from core import audit, security  # noqa: E402
from .models import BudgetLine  # noqa: E402
from core.admin import ReadOnlyModelView  # noqa: E402

APP_LABELS = {"team": _l("Team"), "activity_name": _l("Activity name"), "status": _l("Status"),
              "due_at": _l("Due"), "period_start": _l("From"), "period_end": _l("To"),
              "requested": _l("Requested amount"), "total_budget": _l("Total budget"), "field": _l("Field"),
              "target_group": _l("Target group"), "place": _l("Place"), "summary": _l("Summary"),
              "background": _l("Background"), "needs": _l("Needs analysis"), "goals": _l("Goals"),
              "content": _l("Content"), "created_at": _l("Created"), "updated_at": _l("Updated"),
              "leader": _l("Leader"), "programme": _l("Programme")}


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
            self._template_args.update(
                steps=FLOW.steps_for(r, current_user._get_current_object()), lines=list(r.lines),
                members=list(r.members), totals=totals(r), categories=CATEGORY_LABELS, fmt=money.fmt)
        return super().details_view()

    @expose("/step/", methods=["POST"])
    def step_view(self):
        from core.workflow import WorkflowError
        from .applications import FLOW
        r = self._row()
        try:
            FLOW.move(r, request.form.get("step", ""), actor=current_user._get_current_object(),
                      reason=request.form.get("reason", ""))
        except WorkflowError as e:
            if getattr(e, "code", None) == 403:
                abort(403)
            flash("；".join(e.messages()), "error")
        else:
            flash(_("Done."), "success")
        return redirect(url_for(".details_view", id=r.id))

    # ------------------------------------------------------------ the 申报书 form (create and edit a draft)
    LINE_ROWS = 12
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
        from .applications import CATEGORY_LABELS, FIELDS, save
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
            lines = [{k: request.form.get(f"lines-{i}-{k}", "") for k in ("category", "detail", "unit_price",
                                                                         "quantity", "note")}
                     for i in range(self.LINE_ROWS)]
            lines = [r for r in lines if any((r[k] or "").strip() for k in ("detail", "unit_price", "quantity"))]
            if not errors:
                try:
                    r = save(Team.get_by_id(team_id), data, members, lines, application=application,
                             actor=current_user._get_current_object())
                except FieldErrors as e:
                    errors = e.errors
                else:
                    flash(_("The application was saved as a draft."), "success")
                    return redirect(url_for(".details_view", id=r.id))
        elif application is not None:
            form = {f: getattr(application, f) for f in FIELDS}
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
                           labels=APP_LABELS), (400 if errors else 200)
