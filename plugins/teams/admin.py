"""Admin screens for teams: review with reasons, bulk decisions on applications, hierarchy, positions."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import security
from core.admin import SecureModelView
from core.pii import mask_phone

from . import services
from .models import Membership, SubTeamRequest, Team

STATUS = {"draft": _l("Draft"), "pending": _l("Waiting for review"), "approved": _l("Approved"),
          "rejected": _l("Rejected"), "left": _l("Left")}
TEAM_LABELS = {"name": _l("Team name"), "leader_name": _l("Leader"), "leader_phone": _l("Phone"),
               "declared_size": _l("Team size"), "service_direction": _l("Service direction"),
               "registered_on": _l("Registered on"), "district": _l("District"), "address": _l("Address"),
               "organisation": _l("Unit (community)"), "intro": _l("Introduction"), "status": _l("Status"),
               "review_reason": _l("Review note"), "parent": _l("Parent team"), "team": _l("Team"),
               "volunteer": _l("Volunteer"), "reason": _l("Reason"), "applied_at": _l("Applied at"),
               "decided_at": _l("Decided at"), "child": _l("Team"), "kind": _l("Position"),
               "title": _l("Title"), "important": _l("Important"), "heavy": _l("Heavy workload"),
               "rating": _l("Rating"), "holder": _l("Holder"), "duties": _l("Duties")}


def _status(view, context, model, name):
    return STATUS.get(getattr(model, name), getattr(model, name))


class ReasonMixin:
    """A bulk decision page: the selected rows and a reason box (rejections need one)."""

    def _decide_page(self, ids, approve):
        return redirect(url_for(".decide", ids=",".join(map(str, ids)), approve=int(approve)))

    @expose("/decide/", methods=["GET", "POST"])
    def decide(self):
        ids = [i for i in request.values.get("ids", "").split(",") if i.isdigit()]
        approve = request.values.get("approve") == "1"
        rows = list(self.get_query().where(self.model.id.in_([int(i) for i in ids]))) if ids else []
        if request.method == "POST":
            security.require(self.perm("edit"))
            try:
                self.apply_decision(rows, approve, request.form.get("reason", ""))
            except services.TeamError as e:
                flash("; ".join(str(m) for m in e.errors.values()), "error")
                return self.render("teams/admin_decide.html", rows=rows, approve=approve, ids=ids)
            flash(_("Decided: %(n)s.", n=len(rows)), "success")
            return redirect(url_for(".index_view"))
        return self.render("teams/admin_decide.html", rows=rows, approve=approve, ids=ids)


class TeamView(ReasonMixin, SecureModelView):
    permission = "teams.team"
    column_list = ["name", "leader_name", "district", "service_direction", "status", "parent",
                   "registered_on"]
    column_details_list = ["name", "leader_name", "leader_phone", "declared_size", "service_direction",
                           "organisation", "district", "address", "intro", "status", "review_reason",
                           "parent", "registered_on"]
    column_sensitive = ["leader_phone"]
    column_searchable_list = ["name", "leader_name", "service_direction"]
    column_filters = ["status", "district", "registered_on"]
    column_formatters = {"status": _status}
    column_labels = TEAM_LABELS
    form_columns = ["name", "leader_name", "leader_phone", "declared_size", "service_direction",
                    "organisation", "district", "address", "intro"]
    allow_delete = False

    def create_model(self, form):
        try:
            return services.register_team({k: v for k, v in form.data.items() if k != "csrf_token"},
                                          actor=current_user)
        except services.TeamError as e:
            for f, m in e.errors.items():
                getattr(form, f).errors.append(str(m)) if hasattr(form, f) else flash(str(m), "error")
            return False

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and not form.is_submitted():
            form.leader_phone.data = mask_phone(obj.leader_phone)
        return form

    def update_model(self, form, model):
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        if data.get("leader_phone") == mask_phone(model.leader_phone):
            data.pop("leader_phone")
        try:
            services.update_team(model, data, actor=current_user)
        except services.TeamError as e:
            for f, m in e.errors.items():
                getattr(form, f).errors.append(str(m)) if hasattr(form, f) else flash(str(m), "error")
            return False
        return True

    @action("submit", _l("Submit for review"))
    def action_submit(self, ids):
        for t in self.get_query().where(Team.id.in_(ids)):
            try:
                services.submit_for_review(t, actor=current_user)
            except services.TeamError as e:
                flash(f"{t.name}: " + "; ".join(str(m) for m in e.errors.values()), "error")

    @action("approve", _l("Approve (platform review)"))
    def action_approve(self, ids):
        security.require("teams.team.review")
        return self._decide_page(ids, True)

    @action("reject", _l("Reject with a reason (platform review)"))
    def action_reject(self, ids):
        security.require("teams.team.review")
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        security.require("teams.team.review")
        for t in rows:
            services.review_team(t, approve=approve, reason=reason, actor=current_user)


class MembershipView(ReasonMixin, SecureModelView):
    permission = "teams.membership"
    column_list = ["volunteer", "team", "status", "applied_at", "decided_at", "reason"]
    column_filters = ["status", "applied_at"]
    column_searchable_list = ["reason"]
    column_formatters = {"status": _status}
    column_labels = TEAM_LABELS
    column_default_sort = ("applied_at", True)
    allow_create = False
    allow_edit = False
    allow_delete = False

    @action("approve", _l("Approve selected"))
    def action_approve(self, ids):
        services.decide_memberships(list(self.get_query().where(Membership.id.in_(ids))), approve=True,
                                    actor=current_user)
        flash(_("Approved: %(n)s.", n=len(ids)), "success")

    @action("reject", _l("Reject selected with a reason"))
    def action_reject(self, ids):
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        services.decide_memberships(rows, approve=approve, reason=reason, actor=current_user)


class SubTeamRequestView(ReasonMixin, SecureModelView):
    permission = "teams.subteam_request"
    column_list = ["child", "parent", "status", "applied_at", "decided_at", "reason"]
    column_filters = ["status"]
    column_formatters = {"status": _status}
    column_labels = TEAM_LABELS
    form_columns = ["child", "parent"]
    allow_edit = False
    allow_delete = False

    def create_model(self, form):
        try:
            return services.apply_subteam(form.child.data, form.parent.data, actor=current_user)
        except services.TeamError as e:
            flash("; ".join(str(m) for m in e.errors.values()), "error")
            return False

    def _scope_pickers(self, form):
        form = super()._scope_pickers(form)
        if hasattr(form, "parent"):  # any approved team may be applied to as a parent
            form.parent.query = Team.select().where(Team.status == "approved")
        return form

    @action("approve", _l("Approve selected"))
    def action_approve(self, ids):
        return self._decide_page(ids, True)

    @action("reject", _l("Reject selected with a reason"))
    def action_reject(self, ids):
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        ours = services.admin_team_ids(current_user)
        for r in rows:
            if ours is not None and r.parent_id not in ours:  # only the parent team decides
                raise services.TeamError(_l("Only the parent team decides on this application."))
            services.decide_subteam(r, approve=approve, reason=reason, actor=current_user)


class PositionView(SecureModelView):
    permission = "teams.position"
    column_list = ["team", "kind", "title", "rating", "holder"]
    column_filters = ["kind", "rating"]
    column_labels = TEAM_LABELS
    form_columns = ["team", "kind", "title", "important", "heavy", "holder", "duties"]
    form_choices = {"kind": [("admin", _l("Administration")), ("publicity", _l("Publicity")),
                             ("logistics", _l("Logistics")), ("planning", _l("Activity planning"))]}
    column_choices = form_choices

    def on_model_change(self, form, model, is_created):
        from .models import rating_for
        super().on_model_change(form, model, is_created)
        model.rating = rating_for(model.important, model.heavy)
