"""The processing record (个人信息处理活动记录, PIPL 55–56; issue 13 point 8) as an admin page and an
XLSX, generated from every plugin's declarations. Views and exports are audited (AU1)."""
from urllib.parse import quote

from flask import Response
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, security
from core.admin import PermissionView

from . import services

VIEW, EXPORT = "privacy.record.view", "privacy.record.export"


class ProcessingRecordView(PermissionView):
    permission = VIEW

    @expose("/")
    def index(self):
        rows = services.processing_record()
        audit.log("privacy.record_viewed", ("privacy_record", ""), {"rows": len(rows)})
        from .assessments import keep_record
        keep_record(current_user._get_current_object())   # a dated copy when it changed (PIPL 56)
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
