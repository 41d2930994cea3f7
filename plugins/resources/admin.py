"""资源链接 in the admin: the funding programmes and resource accounts (R-RES-1). Platform admins create,
edit and delete; team admins read and export. Every change is audited by SecureModelView."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import money
from core.admin import SecureModelView
from core.errors import FieldErrors

LABELS = {"number": _l("No."), "name": _l("Name"), "organiser": _l("Organiser"),
          "window_text": _l("Application window"), "months": _l("Window months"),
          "funding_text": _l("Funding"), "funding_min": _l("Funding from"), "funding_max": _l("Funding up to"),
          "email": _l("Email"), "channel": _l("How to apply"), "url": _l("Web address"),
          "district": _l("District"), "resource_types": _l("Resource types"), "notes": _l("Notes"),
          "active": _l("Listed"), "updated_at": _l("Updated"), "wechat_id": _l("WeChat id")}

_show, _export = money.column_formatters("funding_min", "funding_max")


def _check_months(text: str) -> str:
    """"3,4" / "3，4" / "" → "3,4"; anything else is a FieldErrors beside the field."""
    parts = [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if any(not p.isdigit() or not 1 <= int(p) <= 12 for p in parts):
        raise FieldErrors({"months": _l("Enter the months of the window as numbers 1–12 separated by commas "
                                         "(empty for 不定期).")})
    return ",".join(str(int(p)) for p in dict.fromkeys(parts))


class ProgrammeView(SecureModelView):
    permission = "resources.programme"
    column_list = ["number", "name", "window_text", "funding_text", "district", "resource_types", "active"]
    column_searchable_list = ["name", "resource_types", "email"]
    column_filters = ["district", "active", "resource_types"]
    column_default_sort = ("number", False)
    column_labels = LABELS
    column_formatters = _show
    column_formatters_export = _export
    form_columns = ["number", "name", "organiser", "window_text", "months", "funding_text", "funding_min",
                    "funding_max", "email", "channel", "url", "district", "resource_types", "notes", "active"]
    column_descriptions = {"months": _l("Numbers 1–12 separated by commas; empty for 不定期."),
                           "window_text": _l("As printed, e.g. 8月-10月 or 不定期.")}

    def on_model_change(self, form, model, is_created):
        model.months = _check_months(model.months)
        if model.funding_min is not None and model.funding_max is not None \
                and model.funding_min > model.funding_max:
            raise FieldErrors({"funding_max": _l("The upper amount must not be below the lower one.")})
        super().on_model_change(form, model, is_created)


class AccountView(SecureModelView):
    permission = "resources.account"
    column_list = ["number", "name", "wechat_id", "resource_types", "district", "active"]
    column_searchable_list = ["name", "wechat_id", "resource_types"]
    column_filters = ["district", "active", "resource_types"]
    column_default_sort = ("number", False)
    column_labels = LABELS
    form_columns = ["number", "name", "wechat_id", "resource_types", "district", "notes", "active"]
