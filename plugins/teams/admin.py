"""Admin screens for teams (R-TEAM-1…5): platform review with reasons, join applications with bulk
decisions, 成员管理 (members), 队伍管理 (sub-teams), 归属队伍 (the teams a team belongs to), team
applications between teams, and positions. Every view is a ``SecureModelView`` (or checks access the
same way), so a team admin reaches only their own team and its sub-teams (AC6)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_babel import gettext as _
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.validators import ValidationError

from core import audit, security
from core.admin import ReadOnlyModelView, SecureModelView, pk_value
from core.pii import mask_phone

from plugins.volunteers.models import DISTRICTS, Volunteer

from . import services
from .models import Membership, SubTeamRequest, Team

STATUS = {"draft": _l("Draft"), "pending": _l("Waiting for review"), "approved": _l("Approved"),
          "rejected": _l("Rejected"), "left": _l("Left")}
KINDS = [("admin", _l("Administration")), ("publicity", _l("Publicity")),
         ("logistics", _l("Logistics")), ("planning", _l("Activity planning"))]
def _squad_min():
    """The members a 队伍 needs (setting teams.squad_min_members), for the column label; the manifest's
    default when no database is at hand (the label is also read while the admin is built)."""
    try:
        return services.squad_min_members()
    except Exception:  # noqa: BLE001 - a label must never fail a page
        return services.SETTINGS.defaults["squad_min_members"]


TEAM_LABELS = {"name": _l("Team name"), "leader_name": _l("Leader"), "leader_phone": _l("Phone"),
               "declared_size": _l("Team size"), "service_direction": _l("Service direction"),
               "registered_on": _l("Registered on"), "district": _l("District"), "address": _l("Address"),
               "organisation": _l("Unit (community)"), "intro": _l("Introduction"), "status": _l("Status"),
               "review_reason": _l("Review note"), "parent": _l("Parent team"), "team": _l("Team"),
               "volunteer": _l("Volunteer"), "reason": _l("Reason"), "applied_at": _l("Applied at"),
               "decided_at": _l("Decided at"), "child": _l("Team"), "kind": _l("Position"),
               "title": _l("Title"), "important": _l("Important"), "heavy": _l("Heavy workload"),
               "rating": _l("Rating"), "holder": _l("Holder"), "duties": _l("Duties"),
               "members": _l("Members"), "squad": LazyString(lambda: _("Squad (%(n)s+ members)", n=_squad_min())),
               "child_profile": _l("Applying team"), "decided_by": _l("Decided by")}
MAX_DECIDE = 1000  # rows on one decision page


def _status(view, context, model, name):
    return STATUS.get(getattr(model, name), getattr(model, name))


# ----------------------------------------------------------------- shared pieces
class TeamFilter(BasePeeweeFilter):
    """"Team equals" on a foreign key to Team, offering only the teams the user may reach. Flask-Admin
    computes filter options once at start-up, so the options are filled per request instead (see
    ``ScopedTeamFilters._get_filter_groups``): a start-up list would show every team to everyone."""

    def __init__(self, column, name):
        super().__init__(column, name, options=None)

    def apply(self, query, value):
        return query.where(self.column == value)

    def validate(self, value):
        return pk_value(Team, value) is not None

    def clean(self, value):
        return pk_value(Team, value)

    def operation(self):
        return _l("equals")

    def options_for(self, view):
        q = security.scoped(Team, Team.select(Team.id, Team.name), view.perm("view")).order_by(Team.name)
        return [(str(t.id), t.name) for t in q.limit(500)]


class ScopedTeamFilters:
    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        for items in (groups or {}).values():
            for item in items:
                flt = self._filters[item["index"]]
                if isinstance(flt, TeamFilter):
                    item["options"] = flt.options_for(self)
        return groups


class MemberCounts:
    """Member counts (and the 队伍 mark, ≥10 members) for the rows of a page, in one query; the
    columns ``members`` and ``squad`` of a Team list."""

    def __init__(self, *args, **kwargs):
        self.column_formatters = {"status": _status, "members": self._members_fmt, "squad": self._squad_fmt}
        self.column_formatters_export = {"status": _status, "members": self._members_fmt,
                                         "squad": self._squad_export}
        super().__init__(*args, **kwargs)

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if isinstance(rows, list):
            counts = services.member_counts([r.id for r in rows])
            for r in rows:
                r._member_count = counts.get(r.id, 0)
        return count, rows

    @staticmethod
    def _count(model):
        n = getattr(model, "_member_count", None)
        if n is None:
            n = model._member_count = services.member_count(model)
        return n

    def _members_fmt(self, view, context, model, name):
        return self._count(model)

    def _squad_fmt(self, view, context, model, name):
        if services.is_squad(model, self._count(model)):
            return Markup('<span class="badge badge-success tb-squad">{}</span>').format(_("Squad"))
        return ""

    def _squad_export(self, view, context, model, name):
        return _("Squad") if services.is_squad(model, self._count(model)) else ""


class DecisionPage:
    """A decision page for selected rows: approve, or reject with a reason (a rejection without a
    reason is refused and nothing changes). Rows outside the user's scope never reach it (AC6)."""

    decide_permission = "edit"

    def may_decide(self) -> bool:
        return security.can(self.perm(self.decide_permission))

    def is_action_allowed(self, name):
        if name in ("approve", "reject", "remove") and not self.may_decide():
            return False
        return super().is_action_allowed(name)

    def _decide_page(self, ids, approve):
        return redirect(url_for(".decide", ids=",".join(map(str, ids)), approve=int(approve)))

    @expose("/decide/", methods=["GET", "POST"])
    def decide(self):
        if not self.may_decide():
            audit.log("access.denied", None, {"permission": self.perm(self.decide_permission),
                                              "path": request.path})
            abort(403)
        raw = [i for i in request.values.get("ids", "").split(",") if i.strip()][:MAX_DECIDE]
        ids = [v for v in (pk_value(self.model, i) for i in raw) if v is not None]
        rows = list(self.get_query().where(self.model.id.in_(ids))) if ids else []
        if len(rows) != len(set(raw)):
            audit.log("access.denied", (self.model._meta.table_name, ""),
                      {"view": "decide", "path": request.path})
        if raw and not rows:
            abort(404)
        approve = request.values.get("approve") == "1"
        ids = [r.id for r in rows]
        if request.method == "POST":
            try:
                done = self.apply_decision(rows, approve, request.form.get("reason", ""))
            except services.TeamError as e:
                flash("; ".join(str(m) for m in e.errors.values()), "error")
                return self.render("teams/admin_decide.html", rows=rows, approve=approve, ids=ids,
                                   verb=self.decision_verb(approve)), 400
            flash(_("Decided: %(n)s.", n=len(done if done is not None else rows)), "success")
            return redirect(url_for(".index_view"))
        return self.render("teams/admin_decide.html", rows=rows, approve=approve, ids=ids,
                           verb=self.decision_verb(approve))

    def decision_verb(self, approve):
        return _("Approve") if approve else _("Reject with a reason")


# ----------------------------------------------------------------- teams and their review
class TeamView(MemberCounts, DecisionPage, SecureModelView):
    """团队: the profile (R-REG-5), submission for review and the platform review (R-TEAM-1)."""
    permission = "teams.team"
    decide_permission = "review"
    column_list = ["name", "leader_name", "district", "service_direction", "status", "parent", "members",
                   "squad", "registered_on"]
    column_details_list = ["name", "leader_name", "leader_phone", "declared_size", "service_direction",
                           "organisation", "district", "address", "intro", "status", "review_reason",
                           "parent", "members", "squad", "registered_on"]
    column_export_list = ["name", "leader_name", "declared_size", "service_direction", "organisation",
                          "district", "address", "status", "parent", "members", "squad", "registered_on"]
    column_sensitive = ["leader_phone"]
    column_searchable_list = ["name", "leader_name", "service_direction"]
    column_filters = ["status", "district", "registered_on"]
    column_labels = TEAM_LABELS
    form_columns = ["name", "leader_name", "leader_phone", "declared_size", "service_direction",
                    "organisation", "district", "address", "intro"]
    form_choices = {"district": [("", "—")] + [(d, d) for d in DISTRICTS]}
    column_masks = {"leader_phone": mask_phone}  # full number: one audited click away (PR5)
    allow_delete = False


    def is_action_allowed(self, name):
        if name == "submit" and not self.can_edit:
            return False
        return super().is_action_allowed(name)

    def create_model(self, form):
        team = services.register_team({k: v for k, v in form.data.items() if k != "csrf_token"},
                                      actor=current_user)
        self.after_model_change(form, team, True)
        return team

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and not form.is_submitted():
            form.leader_phone.data = mask_phone(obj.leader_phone)
        return form

    def update_model(self, form, model):
        # the form is an allow-list of profile fields (AC8); status, parent and path never come from it
        data = {k: v for k, v in form.data.items() if k in self.form_columns}
        if data.get("leader_phone") == mask_phone(model.leader_phone):
            data.pop("leader_phone")
        services.update_team(model, data, actor=current_user)
        return True

    @action("submit", _l("Submit for review"))
    def action_submit(self, ids):
        for t in self.get_query().where(Team.id.in_(ids)):
            try:
                services.submit_for_review(t, actor=current_user)
            except services.TeamError as e:
                flash(_("%(team)s was not submitted: %(problems)s", team=t.name, problems="; ".join(
                    f"{TEAM_LABELS.get(f, '')}: {m}" if f in TEAM_LABELS else str(m)
                    for f, m in e.errors.items())), "error")
            else:
                flash(_("%(team)s was submitted for review.", team=t.name), "success")

    @action("approve", _l("Approve (platform review)"))
    def action_approve(self, ids):
        return self._decide_page(ids, True)

    @action("reject", _l("Reject with a reason (platform review)"))
    def action_reject(self, ids):
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        security.require("teams.team.review")
        return services.review_teams(rows, approve=approve, reason=reason, actor=current_user)

class SubTeamView(MemberCounts, ReadOnlyModelView):
    """队伍管理 (R-TEAM-4): the teams below my team, any depth, with their member counts."""
    permission = "teams.team"
    column_list = ["name", "parent", "leader_name", "district", "service_direction", "status", "members",
                   "squad"]
    column_details_list = ["name", "parent", "leader_name", "district", "service_direction",
                           "organisation", "address", "intro", "status", "members", "squad",
                           "registered_on"]
    column_export_list = ["name", "parent", "leader_name", "district", "service_direction", "status",
                          "members", "squad"]
    column_searchable_list = ["name", "leader_name"]
    column_filters = ["status", "district"]
    column_labels = TEAM_LABELS
    column_default_sort = "path"


    def get_query(self):
        q = super().get_query().where(Team.parent.is_null(False))
        reach = services.admin_team_ids(current_user)
        if reach is not None:  # a team admin: the teams whose parent is in reach (not their own roots)
            q = q.where(Team.parent.in_(reach or [-1]))
        return q


class ParentTeamsView(BaseView):
    """归属队伍 (R-TEAM-4): the teams my team belongs to, nearest first. Those teams are outside the
    team admin's scope, so only what the public team list shows is listed (name, district, service
    direction), with the date the team joined."""
    permission = "teams.team"

    def is_accessible(self):
        return current_user.is_authenticated and security.can("teams.team.view")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": "teams.team.view", "path": request.path})
        abort(403)

    @expose("/")
    def index(self):
        reach = services.admin_team_ids(current_user)
        wanted = request.args.get("team")
        if wanted is not None:
            tid = pk_value(Team, wanted)
            if tid is None or (reach is not None and tid not in reach):
                audit.log("access.denied", ("teams_team", str(wanted)[:64]),
                          {"view": "parents", "path": request.path})
                abort(404)
            teams = list(Team.select().where(Team.id == tid))
            if not teams:
                abort(404)
        else:
            roots = services.managed_team_ids(current_user)
            q = Team.select().order_by(Team.name)
            q = q.where(Team.id.in_(roots or [-1])) if roots is not None else \
                q.where(Team.parent.is_null(False)).limit(200)
            teams = list(q)
        rows = []
        for t in teams:
            chain = services.ancestors(t)
            joined = {r.parent_id: r.decided_at for r in SubTeamRequest.select().where(
                (SubTeamRequest.child == t.id) & (SubTeamRequest.status == "approved"))}
            rows.append({"team": t, "parents": [{"name": p.name, "district": p.district,
                                                 "service_direction": p.service_direction,
                                                 "joined": joined.get(p.id) if i == 0 else None,
                                                 "direct": i == 0}
                                                for i, p in enumerate(chain)]})
        return self.render("teams/admin_parents.html", rows=rows)


# ----------------------------------------------------------------- members and join applications
class VolunteerColumns:
    """Search memberships by the volunteer's name or number; filter by team."""
    column_searchable_list = [Volunteer.name, Volunteer.number]
    column_labels = TEAM_LABELS

    def _team_filter(self):
        return TeamFilter(Membership.team, _l("Team"))


class MembershipView(ScopedTeamFilters, VolunteerColumns, DecisionPage, SecureModelView):
    """加入审核 (R-TEAM-2): volunteers' applications; approve many at once, reject with a reason."""
    permission = "teams.membership"
    column_list = ["volunteer", "team", "status", "applied_at", "decided_at", "reason"]
    column_formatters = {"status": _status}
    column_default_sort = ("applied_at", True)
    allow_create = False
    allow_edit = False
    allow_delete = False

    def __init__(self, *args, **kwargs):
        self.column_filters = ["status", "applied_at", self._team_filter()]
        super().__init__(*args, **kwargs)

    @action("approve", _l("Approve selected"))
    def action_approve(self, ids):
        try:
            done = services.decide_memberships(list(self.get_query().where(Membership.id.in_(ids))),
                                               approve=True, actor=current_user)
        except services.TeamError as e:
            flash("; ".join(str(m) for m in e.errors.values()), "error")
            return None
        flash(_("Approved: %(n)s.", n=len(done)), "success")

    @action("reject", _l("Reject selected with a reason"))
    def action_reject(self, ids):
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        return services.decide_memberships(rows, approve=approve, reason=reason, actor=current_user)


class MemberView(ScopedTeamFilters, VolunteerColumns, DecisionPage, ReadOnlyModelView):
    """成员管理 (R-TEAM-4): the approved members of my team and its sub-teams."""
    permission = "teams.membership"
    column_list = ["volunteer", "team", "decided_at"]
    column_details_list = ["volunteer", "team", "applied_at", "decided_at"]
    column_labels = {**TEAM_LABELS, "decided_at": _l("Member since")}
    column_default_sort = ("decided_at", True)

    def __init__(self, *args, **kwargs):
        self.column_filters = ["decided_at", self._team_filter()]
        super().__init__(*args, **kwargs)

    def get_query(self):
        return super().get_query().where(Membership.status == "approved")

    @action("remove", _l("Remove from the team (with a reason)"))
    def action_remove(self, ids):
        return self._decide_page(ids, False)

    def decision_verb(self, approve):
        return _("Remove from the team (with a reason)")

    def apply_decision(self, rows, approve, reason):
        return services.remove_members(rows, reason=reason, actor=current_user)


# ----------------------------------------------------------------- teams joining teams
class SubTeamRequestView(DecisionPage, SecureModelView):
    """团队加入审核 (R-TEAM-3): a team applies to join a parent team; only the parent decides."""
    permission = "teams.subteam_request"
    column_list = ["child", "parent", "status", "applied_at", "decided_at", "reason"]
    column_details_list = ["child", "child_profile", "parent", "status", "applied_at", "decided_at",
                           "reason"]
    column_filters = ["status"]
    column_labels = TEAM_LABELS
    form_columns = ["child", "parent"]
    allow_edit = False
    allow_delete = False

    def __init__(self, *args, **kwargs):
        self.column_formatters = {"status": _status, "child_profile": self._child_profile}
        super().__init__(*args, **kwargs)

    @staticmethod
    def _child_profile(view, context, model, name):
        """What the parent sees of the applying team before deciding (no contact data)."""
        t = model.child
        return Markup("{} · {} · {} · {}: {}<br>{}").format(
            t.leader_name, t.district, t.service_direction, _("Members"), services.member_count(t),
            t.intro)

    def create_model(self, form):
        r = services.apply_subteam(form.child.data, form.parent.data, actor=current_user)  # TeamError: on the form
        self.after_model_change(form, r, True)
        return r

    def _scope_pickers(self, form):
        form = super()._scope_pickers(form)
        if hasattr(form, "parent"):  # any approved team (they are listed publicly) may be applied to
            form.parent.query = Team.select().where(Team.status == "approved").order_by(Team.name)
        if hasattr(form, "child"):  # the applying team: one of mine, approved
            form.child.query = form.child.query.where(Team.status == "approved")
        return form

    @action("approve", _l("Approve selected"))
    def action_approve(self, ids):
        return self._decide_page(ids, True)

    @action("reject", _l("Reject selected with a reason"))
    def action_reject(self, ids):
        return self._decide_page(ids, False)

    def apply_decision(self, rows, approve, reason):
        return services.decide_subteams(rows, approve=approve, reason=reason, actor=current_user,
                                        user=current_user)


# ----------------------------------------------------------------- positions (R-TEAM-5)
class PositionView(ScopedTeamFilters, SecureModelView):
    """岗位设置: 行政管理 宣传推广 后勤保障 活动策划, rated A/B/C/D by importance × workload."""
    permission = "teams.position"
    column_list = ["team", "kind", "title", "important", "heavy", "rating", "holder"]
    column_labels = TEAM_LABELS
    form_columns = ["team", "kind", "title", "important", "heavy", "holder", "duties"]
    form_choices = {"kind": KINDS}
    column_choices = form_choices

    def __init__(self, *args, **kwargs):
        from .models import Position
        self.column_filters = ["kind", "rating", TeamFilter(Position.team, _l("Team"))]
        super().__init__(*args, **kwargs)

    def _scope_pickers(self, form):
        form = super()._scope_pickers(form)
        if hasattr(form, "holder"):  # holders: approved members of my teams
            reach = services.admin_team_ids(current_user)
            members = Membership.select(Membership.volunteer).where(Membership.status == "approved")
            if reach is not None:
                members = members.where(Membership.team.in_(reach or [-1]))
            form.holder.query = form.holder.query.where(Volunteer.id.in_(members))
        return form

    def on_model_change(self, form, model, is_created):
        from .models import POSITION_KINDS, rating_for
        super().on_model_change(form, model, is_created)
        if model.kind not in POSITION_KINDS:
            raise ValidationError(_("Unknown position."))
        services.check_holder(model.team_id, model.holder_id)  # a TeamError reaches the holder field
        model.rating = rating_for(model.important, model.heavy)
