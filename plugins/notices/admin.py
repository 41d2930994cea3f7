from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.admin import SecureModelView


class NoticeView(SecureModelView):
    permission = "notices.notice"
    column_list = ["title", "published", "published_at"]
    column_searchable_list = ["title", "body"]
    column_filters = ["published", "published_at"]
    column_default_sort = ("published_at", True)
    form_columns = ["title", "body", "published", "published_at"]
    column_labels = {"title": _l("Title"), "body": _l("Content"), "published": _l("Published"),
                     "published_at": _l("Published at"), "author_id": _l("Author")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            model.author_id = current_user.id
