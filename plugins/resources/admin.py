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

from core import audit  # noqa: E402
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
