"""Admin 人员 → 保存期限审查 (issue 13 point 7, R-PRIV-5): the schedule, the items past their date, and the
reviewer's two steps (confirm destruction; keep longer with a reason and a date). Each step is one
core.workflow move (audited ``privacy.retention.<step>``); bad input is refused in the user's language and
writes nothing."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from core.admin import PermissionView
from core.errors import FieldErrors

from . import retention as R


class RetentionView(PermissionView):
    permission = R.REVIEW_PERMISSION

    @expose("/")
    def index(self):
        status = request.args.get("status", "due")
        if status not in R.REVIEW.states:
            status = "due"
        items = list(R.RetentionItem.select().where(R.RetentionItem.status == status)
                     .order_by(R.RetentionItem.due_at, R.RetentionItem.id).limit(500))
        kinds = {k: str(v.label) for k, v in R.KINDS.items()}
        return self.render("privacy/retention.html", items=items, status=status, states=R.REVIEW.choices(),
                           kinds=kinds, schedule=R.schedule(), overdue={i.id for i in items
                                                                         if R.REVIEW.is_overdue(i)})

    def _item(self, item_id):
        item = R.RetentionItem.get_or_none(R.RetentionItem.id == item_id)
        if item is None:
            abort(404)
        return item

    @expose("/<int:item_id>/destroy", methods=["POST"])
    def destroy(self, item_id):
        try:
            R.destroy(self._item(item_id), current_user._get_current_object())
            flash(_("Destroyed; the destruction is recorded."), "success")
        except FieldErrors as e:
            if getattr(e, "code", 400) == 403:
                abort(403)
            flash(" ".join(e.messages()), "error")
        return redirect(url_for(".index"))

    @expose("/<int:item_id>/extend", methods=["POST"])
    def extend(self, item_id):
        try:
            R.extend(self._item(item_id), current_user._get_current_object(), request.form.get("reason", ""),
                     request.form.get("kept_until", ""))
            flash(_("Kept longer; the reason is recorded."), "success")
        except FieldErrors as e:
            if getattr(e, "code", 400) == 403:
                abort(403)
            flash(" ".join(e.messages()), "error")
        return redirect(url_for(".index"))
