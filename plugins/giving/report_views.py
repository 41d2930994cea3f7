"""Staff pages of issue 15 points 5 and 6 on the ``giving`` blueprint: basic information with its clock,
fundraising and projects, statement import, XLSX exports and the annual report. Every page needs its
permission and a team in the user's tree (AC6: another team's id is a 404, never data)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import audit, security
from core.errors import FieldErrors

from . import orginfo, services
from .views import bp

NO_STORE = {"Cache-Control": "no-store"}


def _team(team_id, perm):
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_allowed
    team = Team.get_or_none(Team.id == team_id)
    if team is None or not security.can(perm) or not team_allowed(current_user, team.id):
        abort(404)
    return team


def _teams(perm):
    from plugins.teams.models import Team
    from plugins.teams.scoping import team_ids
    if not security.can(perm):
        abort(403)
    ids = team_ids(current_user)
    q = Team.select().where(Team.status == "approved").order_by(Team.name)
    if ids is not None:
        q = q.where(Team.id.in_(ids or [0]))
    teams = list(q)
    if not teams:
        abort(403)
    return teams


def _year():
    from core.db import today
    from core.inputs import arg_int
    return arg_int("year", today().year, min=2000, max=today().year)


@bp.route("/orginfo/<int:team_id>", methods=["GET", "POST"])
@login_required
def orginfo_page(team_id):
    """Basic information (versions, clock, publish) and fundraising/projects of one team (R-DON-4)."""
    team = _team(team_id, "giving.orginfo.manage")
    errors, form = {}, {}
    if request.method == "POST":
        action = request.form.get("action", "")
        form = request.form
        try:
            if action == "save":
                orginfo.save_basic_info(team, request.form.to_dict(), current_user)
            elif action == "publish":
                orginfo.publish_basic_info(team, current_user)
            elif action == "project":
                orginfo.save_project(team, request.form.to_dict(), current_user)
            else:
                abort(400)
        except FieldErrors as e:
            errors = {k: str(v) for k, v in e.errors.items()}
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".orginfo_page", team_id=team.id))
    latest = orginfo.latest(team.id)
    versions = list(orginfo.BasicInfo.select().where(orginfo.BasicInfo.team == team.id)
                    .order_by(orginfo.BasicInfo.version.desc()))
    return render_template("giving/orginfo.html", team=team, errors=errors, form=form, latest=latest,
                           versions=versions, clock=orginfo.basic_info_clock(team.id),
                           fields=orginfo.BASIC_FIELDS, kinds=orginfo.PROJECT_KINDS, days=services.SETTINGS.get("basic_info_publish_days"),
                           projects=orginfo.projects(team.id)), (422 if errors else 200), NO_STORE


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_statement():
    """Upload a bank or platform statement CSV; the per-row report follows (issue 15 point 6)."""
    from core.inputs import parse_id
    from .imports import COLUMNS, import_statement as run
    from .models import CHANNELS
    teams = _teams("giving.donation.import")
    errors, report = {}, None
    if request.method == "POST":
        tid = parse_id(request.form.get("team_id"))
        team = next((t for t in teams if t.id == tid), None)
        f = request.files.get("file")
        channel = request.form.get("channel") or "bank"
        if team is None:
            errors["team_id"] = _("Choose the receiving team.")
        if channel not in CHANNELS:
            errors["channel"] = _("Choose how the money was given.")
        if f is None or not f.filename:
            errors["file"] = _("Choose a CSV file.")
        if not errors:
            try:
                report = run(team, f.read(), current_user, filename=f.filename, default_channel=channel,
                             purpose=request.form.get("purpose", ""))
            except FieldErrors as e:
                errors = {k: str(v) for k, v in e.errors.items()}
    return render_template("giving/import.html", teams=teams, errors=errors, report=report, columns=COLUMNS,
                           channels=CHANNELS, form=request.form), (422 if errors else 200), NO_STORE


@bp.route("/export/<name>.xlsx")
@login_required
def export(name):
    """Donations / receipts (and, after the stock module registers it, stock) of the user's team tree."""
    from plugins.documents.services import send
    from plugins.teams.scoping import team_ids
    from .exports import EXPORTS, xlsx
    if name not in EXPORTS:
        abort(404)
    if not security.can("giving.report.view"):
        abort(403)
    year = request.args.get("year") and _year()
    data = xlsx(name, team_ids(current_user), year or None)
    audit.log("giving.exported", None, {"export": name, "year": year or None})
    return send(data, f"{EXPORTS[name][0]}-{year or 'all'}.xlsx", fallback=f"giving-{name}.xlsx")


@bp.route("/report/<int:team_id>.<fmt>")
@login_required
def report(team_id, fmt):
    """The annual work and financial report of a team for ``?year=`` (R-DON-4), PDF or XLSX."""
    from plugins.documents.services import send
    from .report import report_pdf, report_xlsx
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    team = _team(team_id, "giving.report.view")
    year = _year()
    data = (report_pdf if fmt == "pdf" else report_xlsx)(team, year)
    audit.log("giving.report.printed", None, {"team_id": team.id, "year": year, "format": fmt})
    return send(data, f"年度工作报告和财务会计报告-{team.name}-{year}.{fmt}", fallback=f"annual-report-{year}.{fmt}")


@bp.route("/overview")
@login_required
def overview():
    """Links to the exports and each team's annual report, basic information and import."""
    teams = _teams("giving.report.view")
    from .exports import EXPORTS
    return render_template("giving/overview.html", teams=teams, exports=EXPORTS, year=_year(),
                           can_orginfo=security.can("giving.orginfo.manage"),
                           can_import=security.can("giving.donation.import")), 200, NO_STORE
