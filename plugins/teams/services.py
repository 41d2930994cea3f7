"""Public API of the teams plugin (R-REG-5, R-TEAM-1…5). Other plugins use these functions; for their
own team scoping they use ``admin_team_ids(user)`` (the teams, sub-teams included, a user administers;
None = every team) and ``tree_ids(team)``. Each function that changes data is one transaction, writes
the audit log, and raises ``TeamError`` (field → message) having written nothing."""
from __future__ import annotations

from dataclasses import dataclass

import peewee as pw
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.settings import PluginSettings
from core import audit, events, inputs
from core.errors import FieldErrors
from core.db import for_update, now, today, transaction
from core.pii import PIIError, validate_mobile
from core.security import (TEAM_ADMIN, USERNAME_TAKEN, UsernameError, clean_username, create_user, grant_role,
                           password_problem, registry, user_roles)

from plugins.volunteers.models import DISTRICTS, Volunteer

from .models import POSITION_KINDS, Membership, Position, SubTeamRequest, Team, rating_for


class TeamError(FieldErrors):
    """Field (or "__all__") → translated message. Nothing was written."""


@dataclass
class TeamReviewed(events.Event):
    name = "teams.reviewed"
    team_id: int = 0
    approved: bool = False


@dataclass
class MembershipDecided(events.Event):
    name = "teams.membership_decided"
    membership_id: int = 0
    team_id: int = 0
    volunteer_id: int = 0
    approved: bool = False


@dataclass
class SubTeamDecided(events.Event):
    name = "teams.subteam_decided"
    request_id: int = 0
    child_id: int = 0
    parent_id: int = 0
    approved: bool = False


SETTINGS = PluginSettings(__file__)


def squad_min_members() -> int:
    """Members a team needs to count as a 队伍 (setting ``teams.squad_min_members``, default 10)."""
    return int(SETTINGS.get("squad_min_members"))


REQUIRED_PROFILE = ("name", "leader_name", "leader_phone", "service_direction", "district", "address",
                    "intro")


def clean_team(data: dict, *, existing: Team | None = None) -> dict:
    errors, out = {}, {}
    for key, n in (("name", 100), ("leader_name", 50), ("service_direction", 200), ("address", 255),
                   ("organisation", 200), ("intro", 5000)):
        if key in data or existing is None:
            v = str(data.get(key) or "").strip()
            if len(v) > n:
                errors[key] = _l("At most %(n)s characters.", n=n)
            out[key] = v
    if existing is None:
        for key in ("name", "leader_name"):
            if not out.get(key):
                errors[key] = _l("This field is required.")
    if "leader_phone" in data or existing is None:
        try:
            out["leader_phone"] = validate_mobile(data.get("leader_phone", ""))
        except PIIError as e:
            errors["leader_phone"] = e.args[0]
    if "district" in data or existing is None:
        d = str(data.get("district") or "")
        if d and d not in DISTRICTS:
            errors["district"] = _l("Choose a district from the list.")
        out["district"] = d
    if "declared_size" in data:
        try:
            out["declared_size"] = inputs.parse_int(data.get("declared_size"), min=0, max=100000, default=0)
        except inputs.InputError:
            errors["declared_size"] = _l("Enter a whole number.")
    if out.get("name"):
        q = Team.select().where(Team.name == out["name"])
        if existing is not None:
            q = q.where(Team.id != existing.id)
        if q.exists():
            errors["name"] = _l("A team with this name is already registered.")
    if errors:
        raise TeamError(errors)
    return out


def register_team(data: dict, *, actor=None, username: str | None = None, password: str | None = None
                  ) -> Team:
    """团队注册 (R-REG-5): the team starts as a draft; an account for its admin is created when a
    username and password are given (the public team registration page). All problems are reported
    at once, field by field; nothing is written then."""
    from core.models import User
    errors = {}
    try:
        clean = clean_team(data)
    except TeamError as e:
        errors.update(e.errors)
    if username is not None:
        # the kernel's rules for a chosen name: normalised, and never the shape of a volunteer number
        # or a mobile number, which the system hands out or resolves at login (NS1, issue 11 point 1)
        try:
            username = clean_username(username)
        except UsernameError as e:
            errors.update(e.errors)
        else:
            if User.select().where(User.username == username).exists():
                errors["username"] = USERNAME_TAKEN
        problem = password_problem(password or "", username or "")
        if problem:
            errors["password"] = problem
    if errors:
        raise TeamError(errors)
    with transaction():
        try:
            team = Team.create(registered_on=today(), created_by=getattr(actor, "id", None), **clean)
        except pw.IntegrityError:
            raise TeamError({"name": _l("A team with this name is already registered.")}) from None
        team.path = f"/{team.id}/"
        team.save(only=[Team.path])
        if username is not None:
            try:
                u = create_user(username, password=password, display_name=clean["name"])
            except UsernameError as e:   # taken by a concurrent registration: nothing is kept
                raise TeamError(e.errors) from None
            grant_role(u, TEAM_ADMIN, f"team:{team.id}")
            _forget_admin_cache()
        audit.log("team.registered", team, {"account": username is not None}, user=actor)
    return team


def update_team(team: Team, data: dict, *, actor=None) -> Team:
    clean = clean_team(data, existing=team)
    with transaction():
        for k, v in clean.items():
            setattr(team, k, v)
        if team.status == "rejected":
            team.status = "draft"
        team.save()
        audit.log("team.updated", team, {"fields": sorted(clean)}, user=actor)
    return team


def missing_profile(team: Team) -> list[str]:
    return [f for f in REQUIRED_PROFILE if not getattr(team, f)]


def submit_for_review(team: Team, *, actor=None) -> Team:
    """R-TEAM-1: a complete profile goes to the platform for review."""
    missing = missing_profile(team)
    if missing:
        raise TeamError({f: _l("Complete this field before submitting for review.") for f in missing})
    if team.status not in ("draft", "rejected"):
        raise TeamError(_l("Only a draft or rejected team can be submitted for review."))
    with transaction():
        Team.update(status="pending").where(Team.id == team.id).execute()
        audit.log("team.submitted", team, user=actor)
    team.status = "pending"
    return team


def review_team(team: Team, *, approve: bool, reason: str = "", actor=None) -> Team:
    """Platform review: approve, or reject with a reason (R-TEAM-1). The team's admins get the
    outcome, with the reason, in their inbox."""
    return review_teams([team], approve=approve, reason=reason, actor=actor)[0]


def review_teams(teams, *, approve: bool, reason: str = "", actor=None) -> list[Team]:
    """Review several teams in one transaction: all are decided, or (any not pending) none is."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise TeamError({"reason": _l("A rejection needs a reason.")})
    done = []
    with transaction():
        for team in teams:
            t = for_update(Team.select().where(Team.id == team.id)).get()
            if t.status != "pending":
                raise TeamError(_l("%(team)s is not waiting for review.", team=t.name))
            t.status = "approved" if approve else "rejected"
            t.review_reason = reason
            t.reviewed_at = now()
            t.reviewed_by = getattr(actor, "id", None)
            t.save()
            audit.log("team.approved" if approve else "team.rejected", t, {"reason": reason}, user=actor)
            events.emit(TeamReviewed(team_id=t.id, approved=approve))
            done.append(t)
    for t in done:
        key = f"team:{t.id}:{t.status}:{t.reviewed_at:%Y%m%d%H%M%S%f}"
        for user in team_admin_users(t):
            _send(user, key, lambda: (
                _("%(team)s passed the platform review", team=t.name) if approve else
                _("%(team)s did not pass the platform review", team=t.name),
                "" if approve else _("Reason: %(reason)s", reason=reason)))
    return done


def can_publish(team: Team) -> bool:
    """Only an approved team with a complete profile may publish activities (R-TEAM-1)."""
    return team.status == "approved" and not missing_profile(team)


def can_take_members(team: Team) -> bool:
    """Only a team that passed the platform review takes members and sub-teams (R-TEAM-1)."""
    return team.status == "approved"


# ----------------------------------------------------------------- messages
def _send(user, dedupe_key, make):
    """Inbox message to ``user`` in the user's own language; ``make()`` returns (subject, body)."""
    from core import messages
    messages.send_translated(user, make, category="teams", dedupe_key=dedupe_key)


def team_admin_users(team: Team | int) -> list:
    """The active accounts holding the team-admin role for exactly this team."""
    from core.models import User, UserRole
    tid = team if isinstance(team, int) else team.id
    return list(User.select().join(UserRole).where(
        (UserRole.role == TEAM_ADMIN) & (UserRole.scope == f"team:{tid}") & User.is_active))


# ----------------------------------------------------------------- membership (R-TEAM-2)
def membership_states(volunteer) -> dict[int, str]:
    """{team id: pending | approved | rejected | left} of one volunteer's applications and memberships."""
    return dict(Membership.select(Membership.team, Membership.status)
                .where(Membership.volunteer == volunteer.id).tuples())


def apply_to_join(volunteer: Volunteer, team: Team) -> Membership:
    """A volunteer applies to join a team; the team decides (R-TEAM-2). Only approved teams take
    members (R-TEAM-1)."""
    with transaction():
        team = for_update(Team.select().where(Team.id == team.id)).get()
        if not can_take_members(team):
            raise TeamError(_l("This team cannot take members yet."))
        if volunteer.status != "active":
            raise TeamError(_l("This volunteer record is not active."))
        m = Membership.get_or_none((Membership.team == team) & (Membership.volunteer == volunteer))
        if m is not None and m.status in ("pending", "approved"):
            raise TeamError(_l("You have already applied to this team."))
        if m is None:
            m = Membership.create(team=team, volunteer=volunteer)
        else:
            m.status, m.reason, m.applied_at, m.decided_at, m.decided_by = "pending", "", now(), None, None
            m.save()
        audit.log("membership.applied", m)
    _notify_application(m, team, volunteer)
    return m


def _notify_application(m: Membership, team: Team, volunteer: Volunteer):
    """The team's admins hear of a new application at once, with where to decide it (issue 18 point 5)."""
    name = volunteer.name
    for user in team_admin_users(team):
        _send(user, f"membership:{m.id}:applied:{m.applied_at:%Y%m%d%H%M%S%f}", lambda: (
            _("【Application】%(name)s applied to join %(team)s", name=name, team=team.name),
            _("Approve or reject it in the admin under Teams → Join applications.")))


def decide_memberships(memberships, *, approve: bool, reason: str = "", actor=None) -> list[Membership]:
    """Approve or reject (with a reason) one or many pending applications in one transaction
    (R-TEAM-2, bulk approval). Rows no longer pending are skipped; each volunteer gets the outcome
    and the reason in their inbox."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise TeamError({"reason": _l("A rejection needs a reason.")})
    done = []
    with transaction():
        for m in memberships:
            m = for_update(Membership.select().where(Membership.id == m.id)).get()
            if m.status != "pending":
                continue
            m.status = "approved" if approve else "rejected"
            m.reason = reason
            m.decided_at = now()
            m.decided_by = getattr(actor, "id", None)
            m.save()
            audit.log("membership.approved" if approve else "membership.rejected", m,
                      {"reason": reason}, user=actor)
            events.emit(MembershipDecided(membership_id=m.id, team_id=m.team_id,
                                          volunteer_id=m.volunteer_id, approved=approve))
            done.append(m)
    _notify_decisions(done, approve, reason)
    return done


def _notify_decisions(memberships, approve, reason):
    for m in memberships:
        user = m.volunteer.user
        if user is None:
            continue
        team = m.team.name
        _send(user, f"membership:{m.id}:{m.status}:{m.decided_at:%Y%m%d%H%M%S%f}", lambda: (
            _("Your application to join %(team)s was approved", team=team) if approve else
            _("Your application to join %(team)s was not approved", team=team),
            "" if approve else _("Reason: %(reason)s", reason=reason)))


def leave(membership: Membership, *, reason: str = "", actor=None) -> Membership | None:
    """A member leaves the team, or the team removes them (成员管理). Returns None when the membership
    was not current (nothing changed)."""
    with transaction():
        m = for_update(Membership.select().where(Membership.id == membership.id)).first()
        if m is None or m.status not in ("approved", "pending"):
            return None
        m.status, m.reason, m.decided_at = "left", (reason or "").strip(), now()
        m.decided_by = getattr(actor, "id", None)
        m.save()
        audit.log("membership.left", m, {"reason": m.reason}, user=actor)
    return m


def release_volunteer(volunteer_id: int) -> int:
    """The volunteer's record was erased: their current and pending memberships end (status ``left``)
    and the posts they held are vacant. Returns the memberships ended. Audited; safe to repeat."""
    with transaction():
        ended = (Membership.update(status="left", reason=_("The volunteer's record was erased."), decided_at=now())
                 .where((Membership.volunteer == volunteer_id) & Membership.status.in_(["approved", "pending"]))
                 .execute())
        posts = Position.update(holder=None).where(Position.holder == volunteer_id).execute()
        if ended or posts:
            audit.log("membership.released", ("volunteers_volunteer", volunteer_id),
                      {"memberships": ended, "positions": posts})
    return ended


def remove_members(memberships, *, reason: str, actor=None) -> list[Membership]:
    """The team removes members, with a reason the volunteers see in their inbox."""
    reason = (reason or "").strip()
    if not reason:
        raise TeamError({"reason": _l("Give the reason for the removal.")})
    with transaction():
        done = [m for m in (leave(m, reason=reason, actor=actor) for m in memberships) if m is not None]
    for m in done:
        if m.volunteer.user is not None:
            team = m.team.name
            _send(m.volunteer.user, f"membership:{m.id}:left:{m.decided_at:%Y%m%d%H%M%S%f}", lambda: (
                _("You are no longer a member of %(team)s", team=team),
                _("Reason: %(reason)s", reason=reason)))
    return done


# ----------------------------------------------------------------- hierarchy (R-TEAM-3, R-TEAM-4)
def tree_ids(team: Team | int) -> list[int]:
    """The team and all its sub-teams, any depth."""
    t = team if isinstance(team, Team) else Team.get_by_id(team)
    return [r.id for r in Team.select(Team.id).where(Team.path.startswith(t.path))]


team_tree_ids = tree_ids


def ancestors(team: Team) -> list[Team]:
    """The teams ``team`` belongs to (归属队伍), nearest first."""
    ids = [int(x) for x in team.path.strip("/").split("/") if x][:-1]
    by_id = {t.id: t for t in Team.select().where(Team.id.in_(ids))} if ids else {}
    return [by_id[i] for i in reversed(ids) if i in by_id]


def subteams(team: Team):
    """Every team below ``team``, any depth (队伍管理)."""
    return Team.select().where(Team.path.startswith(team.path) & (Team.id != team.id)).order_by(Team.path)


def apply_subteam(child: Team, parent: Team, *, actor=None) -> SubTeamRequest:
    """A team applies to join a parent team; the parent decides (R-TEAM-3)."""
    if child.id == parent.id or parent.path.startswith(child.path):
        raise TeamError({"parent": _l("A team cannot join itself or one of its own sub-teams.")})
    if not can_take_members(child) or not can_take_members(parent):
        raise TeamError(_l("Both teams must be approved by the platform first."))
    if child.parent_id == parent.id:
        raise TeamError({"parent": _l("This team already belongs to that team.")})
    with transaction():
        if SubTeamRequest.select().where((SubTeamRequest.child == child) & (SubTeamRequest.parent == parent)
                                         & (SubTeamRequest.status == "pending")).exists():
            raise TeamError(_l("This application is already waiting for a decision."))
        r = SubTeamRequest.create(child=child, parent=parent)
        audit.log("subteam.applied", r, user=actor)
    return r


MAX_PATH = 255


def may_decide_subteam(user, request: SubTeamRequest) -> bool:
    """Only the parent team (an admin of it or of a team above it) or the platform decides; the
    applying team's own admin does not (R-TEAM-3)."""
    ids = admin_team_ids(user)
    return ids is None or request.parent_id in ids


def decide_subteam(request: SubTeamRequest, *, approve: bool, reason: str = "", actor=None):
    """Approve (the child and its whole subtree move under the parent) or reject with a reason."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise TeamError({"reason": _l("A rejection needs a reason.")})
    with transaction():
        r = for_update(SubTeamRequest.select().where(SubTeamRequest.id == request.id)).get()
        if r.status != "pending":
            raise TeamError(_l("This application was already decided."))
        r.status = "approved" if approve else "rejected"
        r.reason, r.decided_at, r.decided_by = reason, now(), getattr(actor, "id", None)
        r.save()
        if approve:
            # lock both teams (in id order, so two crossing approvals cannot deadlock or make a cycle)
            locked = {t.id: t for t in for_update(Team.select().where(
                Team.id.in_([r.child_id, r.parent_id])).order_by(Team.id))}
            child, parent = locked[r.child_id], locked[r.parent_id]
            if parent.path.startswith(child.path):
                raise TeamError(_l("A team cannot join itself or one of its own sub-teams."))
            if not can_take_members(parent) or not can_take_members(child):
                raise TeamError(_l("Both teams must be approved by the platform first."))
            old, new = child.path, f"{parent.path}{child.id}/"
            moving = list(Team.select(Team.id, Team.path).where(Team.path.startswith(old)))
            if any(len(new + t.path[len(old):]) > MAX_PATH for t in moving):
                raise TeamError(_l("The team hierarchy would become too deep."))
            # move the whole subtree: every path that starts with the old one gets the new prefix
            for t in moving:
                Team.update(path=new + t.path[len(old):]).where(Team.id == t.id).execute()
            Team.update(parent=parent.id).where(Team.id == child.id).execute()
            # an older pending application of the same team elsewhere is now moot
            SubTeamRequest.update(status="rejected", reason=str(_l("The team joined another team.")),
                                  decided_at=now(), decided_by=getattr(actor, "id", None)).where(
                (SubTeamRequest.child == child.id) & (SubTeamRequest.status == "pending")).execute()
            _forget_admin_cache()
        audit.log("subteam.approved" if approve else "subteam.rejected", r, {"reason": reason}, user=actor)
        events.emit(SubTeamDecided(request_id=r.id, child_id=r.child_id, parent_id=r.parent_id,
                                   approved=approve))
    parent_name = r.parent.name
    for user in team_admin_users(r.child_id):
        _send(user, f"subteam:{r.id}:{r.status}", lambda: (
            _("%(child)s joined %(parent)s", child=r.child.name, parent=parent_name) if approve else
            _("%(parent)s did not accept %(child)s", child=r.child.name, parent=parent_name),
            "" if approve else _("Reason: %(reason)s", reason=reason)))
    return r


def decide_subteams(requests, *, approve: bool, reason: str = "", actor=None, user=None):
    """Decide several applications in one transaction, refusing all when the user may not decide
    one of them (only the parent decides)."""
    if user is not None:
        for r in requests:
            if not may_decide_subteam(user, r):
                raise TeamError(_l("Only the parent team decides on the application of %(team)s.",
                                   team=r.child.name))
    with transaction():
        return [decide_subteam(r, approve=approve, reason=reason, actor=actor) for r in requests]


# ----------------------------------------------------------------- views of a team (R-TEAM-4)
def members(team: Team, status: str = "approved"):
    return (Volunteer.select().join(Membership)
            .where((Membership.team == team) & (Membership.status == status)).order_by(Volunteer.number))


def member_ids(team_ids):
    """A subquery of the ids of volunteers who are approved members of any of ``team_ids`` (ids or
    a subquery), for other plugins' aggregate queries over a team tree (e.g. ``tree_ids(team)``)."""
    return (Membership.select(Membership.volunteer)
            .where(Membership.team.in_(team_ids) & (Membership.status == "approved")))


def member_count(team: Team) -> int:
    return Membership.select().where((Membership.team == team) & (Membership.status == "approved")).count()


def member_counts(team_ids) -> dict[int, int]:
    """Approved members per team, for many teams in one query."""
    ids = list(team_ids)
    if not ids:
        return {}
    q = (Membership.select(Membership.team, pw.fn.COUNT(Membership.id).alias("n"))
         .where(Membership.team.in_(ids) & (Membership.status == "approved")).group_by(Membership.team))
    out = {i: 0 for i in ids}
    out.update({row.team_id: row.n for row in q})
    return out


def is_squad(team: Team, count: int | None = None) -> bool:
    """A team with at least 10 members (setting) counts as a 队伍 (篇1 二(一)2)."""
    return (member_count(team) if count is None else count) >= squad_min_members()


def teams_of(volunteer: Volunteer, status: str = "approved"):
    return (Team.select().join(Membership)
            .where((Membership.volunteer == volunteer) & (Membership.status == status)))


# ----------------------------------------------------------------- positions (R-TEAM-5)
def check_holder(team: Team | int, holder: Volunteer | int | None):
    """A position's holder must be an approved member of the position's team."""
    if holder is None:
        return
    tid = team if isinstance(team, int) else team.id
    hid = holder if isinstance(holder, int) else holder.id
    if not Membership.select().where((Membership.team == tid) & (Membership.volunteer == hid)
                                     & (Membership.status == "approved")).exists():
        raise TeamError({"holder": _l("The holder must be a member of the team.")})


def set_position(team: Team, kind: str, *, title: str = "", important: bool = True, heavy: bool = True,
                 holder: Volunteer | None = None, duties: str = "", actor=None) -> Position:
    """A post of the team (行政管理, 宣传推广, 后勤保障, 活动策划) rated A/B/C/D by importance × workload
    (R-TEAM-5)."""
    if kind not in POSITION_KINDS:
        raise TeamError({"kind": _l("Unknown position.")})
    check_holder(team, holder)
    with transaction():
        p = Position.create(team=team, kind=kind, title=title, important=important, heavy=heavy,
                            rating=rating_for(important, heavy), holder=holder, duties=duties)
        audit.log("position.set", p, {"kind": kind, "rating": p.rating}, user=actor)
    return p


# ----------------------------------------------------------------- who administers what
def admin_team_ids(user) -> list[int] | None:
    """Teams (with their sub-teams) a user administers; None means every team (a site-wide role
    such as platform admin). Team admins hold the scoped role ``team_admin`` with scope ``team:<id>``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    from flask import g
    cache = g.setdefault(_CACHE, {})
    if user.id not in cache:
        cache[user.id] = _admin_team_ids(user)
    return cache[user.id]


_CACHE = "_teams_admin_ids"


def _forget_admin_cache():
    """Team trees changed (a sub-team moved): recompute who administers what."""
    from flask import g, has_app_context
    if has_app_context():
        g.pop(_CACHE, None)


def managed_team_ids(user) -> list[int] | None:
    """The teams a user was made admin of (their roots, without sub-teams); None for site-wide roles."""
    if _site_wide_admin(user):
        return None
    roles = registry().roles
    return sorted({int(scope[5:]) for role, scope in user_roles(user)
                   if role in roles and roles[role].scoped and scope.startswith("team:")
                   and scope[5:].isdigit()})


def _admin_team_ids(user):
    ids = managed_team_ids(user)
    if ids is None:
        return None
    if not ids:
        return []
    expr = None
    for p in [t.path for t in Team.select(Team.path).where(Team.id.in_(sorted(ids)))]:
        e = Team.path.startswith(p)
        expr = e if expr is None else (expr | e)
    return [t.id for t in Team.select(Team.id).where(expr)] if expr is not None else []


def _site_wide_admin(user) -> bool:
    """A role held without a scope that opens the admin (platform admin and the like)."""
    reg = registry()
    return any(r in reg.roles and not reg.roles[r].scoped and reg.role_grants(r, "core.admin.access")
               for r, _ in user_roles(user))


def is_team_admin(user, team: Team | int) -> bool:
    ids = admin_team_ids(user)
    tid = team if isinstance(team, int) else team.id
    return ids is None or tid in ids
