"""The yearly-targets admin page (R-PARTY-2…4): year, team and category filters, counts per category,
one row per volunteer, XLSX export. Team admins see their own team tree only (AC6); names and volunteer
numbers only, never ID or phone numbers (PR5). Views and exports are audited (AU1)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from core import audit, security
from plugins.documents.services import DocumentError, send

from . import services

VIEW, EXPORT = "targets.report.view", "targets.report.export"


class TargetsView(BaseView):
    def is_accessible(self):
        return current_user.is_authenticated and security.can(VIEW)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": VIEW, "path": request.path})
        abort(403)

    def _params(self):
        user = current_user._get_current_object()
        try:
            team = services.resolve_team(user, request.args.get("team"))
        except services.NotFound:
            abort(404)
        year = services.check_year(request.args.get("year"))
        category = request.args.get("category") or None
        return user, year, team, category

    @expose("/")
    def index(self):
        errors = {}
        user = current_user._get_current_object()
        try:
            user, year, team, category = self._params()
            rep = services.report(user, year, team, category=category)
        except services.TargetError as e:
            errors = {k: str(m) for k, m in e.errors.items()}
            year, team, category, rep = services.today().year, None, None, None
        if rep is not None:
            audit.log("targets.report_viewed", ("targets_report", str(year)),
                      {"team": getattr(team, "id", None), "rows": len(rep.rows)}, user=user)
        years = list(range(services.today().year, max(services.FIRST_YEAR, services.today().year - 10) - 1, -1))
        resp = self.render("targets/report.html", rep=rep, errors=errors, year=year, team=team, category=category,
                           years=years, teams=services.visible_teams(user), can_export=security.can(EXPORT),
                           categories=services.CATEGORIES, category_labels=services.CATEGORY_LABELS,
                           status_labels=services.STATUS_LABELS)
        return (resp, 400) if errors else resp

    @expose("/export.xlsx")
    def export(self):
        security.require(EXPORT)
        try:
            user, year, team, category = self._params()
            rep = services.report(user, year, team, category=category)
            data, filename = services.export_xlsx(user, rep)
        except services.TargetError as e:
            flash(" ".join(str(m) for m in e.errors.values()), "error")
            return redirect(url_for(".index"))
        except DocumentError as e:
            flash(str(e), "error")
            return redirect(url_for(".index"))
        return send(data, filename, fallback=f"targets-{year}.xlsx")
