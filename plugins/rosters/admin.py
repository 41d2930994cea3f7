"""The Rosters admin page: 附录二/附录三 for the user's team tree, filtered by team, and the 附录一 form
of any volunteer the user may see. Every download is scoped (AC6), masked unless asked (PR5), audited."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, security
from plugins.documents.services import DocumentError, send

from . import services


class RostersView(BaseView):
    def is_accessible(self):
        return current_user.is_authenticated and security.can("rosters.roster.view")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": "rosters.roster.view", "path": request.path})
        abort(403)

    @staticmethod
    def _user():
        return current_user._get_current_object()

    @staticmethod
    def _full() -> bool:
        """Full values only when asked for with the page's form (a POST, so CSRF-protected); a link
        cannot make someone's browser fetch an unmasked export."""
        if request.method == "GET" and request.args.get("full"):
            abort(400)
        return request.method == "POST" and request.form.get("full") == "1"

    def _send(self, make):
        try:
            doc = make()
        except services.RosterError as e:
            if e.code in (403, 404):
                abort(e.code)
            flash(str(e.message), "error")
            return redirect(url_for(".index"))
        except DocumentError as e:
            flash(str(e), "error")
            return redirect(url_for(".index"))
        return send(doc.data, doc.filename, fallback=doc.fallback, inline=doc.filename.endswith(".pdf"))

    @expose("/")
    def index(self):
        user = self._user()
        q = request.args.get("q", "")
        can_form = security.can("rosters.registration_form.export")
        return self.render(
            "rosters/index.html", teams=[(t, t.path.count("/") - 2) for t in services.visible_teams(user)],
            q=q, volunteers=services.search_volunteers(user, q) if can_form else [],
            can_export=security.can("rosters.roster.export"), can_form=can_form,
            full_volunteers=services.may_see_full(user, "volunteers"),
            full_teams=services.may_see_full(user, "teams"),
            team_title=services.TEAM_ROSTER_TITLE, volunteer_title=services.VOLUNTEER_ROSTER_TITLE)

    @expose("/download/<doc>/<fmt>", methods=["GET", "POST"])
    def download(self, doc, fmt):
        security.require("rosters.roster.export")
        if doc not in ("teams", "volunteers") or fmt not in services.FORMATS:
            abort(404)
        user, full = self._user(), self._full()
        make = services.team_roster if doc == "teams" else services.volunteer_roster

        def build():
            team = services.resolve_team(user, request.values.get("team"))
            return make(user, team, fmt, full=full)
        return self._send(build)

    @expose("/registration/<volunteer_id>", methods=["GET", "POST"])
    def registration(self, volunteer_id):
        security.require("rosters.registration_form.export")
        user, full = self._user(), self._full()

        def build():
            return services.registration_form(user, services.find_volunteer(user, volunteer_id), full=full)
        return self._send(build)
