"""Hooks the archives plugin declares (docs/plugins.md "Hooks a plugin declares")."""
from core.hookspecs import hookspec


@hookspec
def archive_documents(activity):
    """Documents another plugin holds for ``activity`` (an ``plugins.activities.models.Activity`` that ended),
    filed into its 活动档案 (R-ARC-2). Return a list of dicts ``{"title", "filename", "data" (bytes),
    "content_type"}`` (or None). Implement it with ``@hookimpl(optionalhook=True)``."""
