"""The activity forms pages under /admin/activity_forms/: the list of one activity's forms and the
downloads. Scoped like the activity (AC6), full phone numbers only when asked for with the page's form
(POST + CSRF) by a role allowed to see them (PR5); every download is audited (services)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from core import audit, security
from plugins.documents.services import DocumentError, send

from . import services


class ActivityFormsView(BaseView):
    def is_visible(self):
        return False   # reached from an activity's admin page, not from the menu

    def is_accessible(self):
        return current_user.is_authenticated and security.can("activities.activity.view")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": "activities.activity.view", "path": request.path})
        abort(403)

    @staticmethod
    def _user():
        return current_user._get_current_object()

    def _activity(self, activity_id):
        try:
            return services.find_activity(self._user(), activity_id)
        except services.FormError as e:
            abort(e.code)

    @expose("/")
    def index(self):
        return redirect(url_for("activities_activity.index_view"))

    @expose("/<int:activity_id>/")
    def forms(self, activity_id):
        user = self._user()
        a = self._activity(activity_id)
        docs = services.available(user, a)
        if not docs:
            audit.log("access.denied", a, {"document": "activity_forms", "path": request.path}, user=user)
            abort(403)
        return self.render("activity_forms/index.html", a=a, docs=docs,
                           full=services.may_see_full(user, a), max_photos=services.MAX_PHOTOS)

    @expose("/<int:activity_id>/<doc>/<fmt>", methods=["GET", "POST"])
    def download(self, activity_id, doc, fmt):
        if request.method == "GET" and request.args.get("full"):
            abort(400)   # a link cannot make someone's browser fetch an unmasked file
        full = request.method == "POST" and request.form.get("full") == "1"
        user = self._user()
        a = self._activity(activity_id)
        try:
            d = services.build(user, a, doc, fmt, full=full)
        except services.FormError as e:
            if e.code in (403, 404):
                abort(e.code)
            flash(str(e.message), "error")
            return redirect(url_for(".forms", activity_id=a.id))
        except DocumentError as e:
            flash(str(e), "error")
            return redirect(url_for(".forms", activity_id=a.id))
        return send(d.data, d.filename, fallback=d.fallback, inline=d.filename.endswith(".pdf"))
