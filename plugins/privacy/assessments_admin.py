"""Admin 人员 → 个人信息保护影响评估 (PIPL 55–56; issue 13 point 8): the assessments generated as drafts
from the declarations, completed by staff, and the dated copies kept of each and of the processing record.
Bad input is refused in the user's language and writes nothing; every step is audited."""
from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from core import audit
from core.admin import PermissionView
from core.errors import FieldErrors

from . import assessments as A


class AssessmentView(PermissionView):
    permission = A.PERMISSION

    @expose("/")
    def index(self):
        rows = list(A.ImpactAssessment.select().order_by(A.ImpactAssessment.case, A.ImpactAssessment.plugin,
                                                         A.ImpactAssessment.table))
        copies = list(A.snapshots().limit(200))
        return self.render("privacy/assessments.html", rows=rows, cases=A.CASES, copies=copies,
                           pending=len(A.cases()) - len(rows))

    @expose("/generate", methods=["POST"])
    def generate(self):
        n = A.generate_drafts(current_user._get_current_object())
        flash(_("%(n)s draft assessments opened.", n=n), "success")
        return redirect(url_for(".index"))

    def _get(self, aid):
        a = A.ImpactAssessment.get_or_none(A.ImpactAssessment.id == aid)
        if a is None:
            abort(404)
        return a

    @expose("/<int:aid>", methods=["GET", "POST"])
    def edit(self, aid):
        a, errors = self._get(aid), {}
        if request.method == "POST":
            try:
                A.save(a, request.form, current_user._get_current_object(),
                       complete=request.form.get("complete") == "1")
                flash(_("Saved; a dated copy is kept."), "success")
                return redirect(url_for(".edit", aid=aid))
            except FieldErrors as e:
                errors = {k: str(v) for k, v in e.errors.items()}
        return self.render("privacy/assessment.html", a=a, cases=A.CASES, errors=errors, form=request.form,
                           copies=list(A.snapshots("assessment", a.id).limit(100))), (400 if errors else 200)

    @expose("/copy/<int:sid>.json")
    def copy(self, sid):
        s = A.RecordSnapshot.get_or_none(A.RecordSnapshot.id == sid)
        if s is None:
            abort(404)
        audit.log("privacy.record_copy_viewed", s, {"kind": s.kind})
        return Response(s.content, mimetype="application/json",
                        headers={"Content-Disposition": f"attachment; filename={s.kind}-{s.taken_at:%Y%m%d-%H%M%S}.json",
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
