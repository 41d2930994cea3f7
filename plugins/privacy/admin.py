"""The processing record (个人信息处理活动记录, PIPL 55–56; issue 13 point 8) as an admin page and an
XLSX, generated from every plugin's declarations. Views and exports are audited (AU1)."""
from urllib.parse import quote

from flask import Response, abort, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, security

from . import services

VIEW, EXPORT = "privacy.record.view", "privacy.record.export"


class ProcessingRecordView(BaseView):
    def is_accessible(self):
        return current_user.is_authenticated and security.can(VIEW)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("site.login", next=request.full_path))
        audit.log("access.denied", None, {"permission": VIEW, "path": request.path})
        abort(403)

    @expose("/")
    def index(self):
        rows = services.processing_record()
        audit.log("privacy.record_viewed", ("privacy_record", ""), {"rows": len(rows)})
        return self.render("privacy/record.html", rows=rows, headers=services.RECORD_HEADERS,
                           can_export=security.can(EXPORT))

    @expose("/export.xlsx")
    def export(self):
        security.require(EXPORT)
        data = services.processing_record_xlsx(current_user._get_current_object())
        name = _("Processing record") + ".xlsx"
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=processing-record.xlsx; "
                                                        f"filename*=UTF-8''{quote(name)}",
                                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
